/*
 * sym_file.c - see sym_file.h.
 */
#include "sym_file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sym_bytes.h"
#include "symbols.h"

int sym_map_file(const char *path, size_t populate_max, void **map, size_t *len,
                 char *err, size_t errlen)
{
	if (!path || !map || !len) {
		sym_set_err(err, errlen, "invalid argument");
		return SYM_E_INVAL;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		sym_set_err(err, errlen, "%s: %s", path, strerror(errno));
		return SYM_E_IO;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
		sym_set_err(err, errlen, "%s: not a regular non-empty file", path);
		close(fd);
		return SYM_E_IO;
	}
	int populate = (size_t)st.st_size <= populate_max ? MAP_POPULATE : 0;
	void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | populate, fd, 0);
	close(fd);
	if (m == MAP_FAILED) {
		sym_set_err(err, errlen, "%s: mmap: %s", path, strerror(errno));
		return SYM_E_IO;
	}
	*map = m;
	*len = (size_t)st.st_size;
	return 0;
}

void sym_err_prefix_path(char *err, size_t errlen, const char *path)
{
	if (!err || !errlen)
		return;
	char tmp[256];
	snprintf(tmp, sizeof tmp, "%s", err);
	sym_set_err(err, errlen, "%s: %s", path, tmp);
}
