/*
 * symsrv_file.c - the only code that writes into symbol stores.  Every write
 * goes to a temporary file inside the store and is renamed into place, so a
 * crash or a refused download never leaves a half file under the final
 * name, and relative paths are checked to stay inside the store root.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "symsrv_internal.h"

int symsrv_is_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* rel is built from sanitized names and hex keys; still refuse anything
 * that could climb out of root, as a last line of defence. */
static int rel_is_safe(const char *rel)
{
	if (!rel[0] || rel[0] == '/')
		return 0;
	const char *c = rel;
	while (*c) {
		const char *slash = strchr(c, '/');
		size_t n = slash ? (size_t)(slash - c) : strlen(c);
		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return 0;
		for (size_t i = 0; i < n; i++)
			if (c[i] == '\\' || (unsigned char)c[i] < 0x20)
				return 0;
		c += n;
		if (*c == '/')
			c++;
	}
	return 1;
}

static int mkdir_p(const char *path)
{
	char tmp[4096];
	size_t n = strlen(path);
	if (n >= sizeof tmp)
		return -1;
	memcpy(tmp, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (tmp[i] == '/' || tmp[i] == 0) {
			char c = tmp[i];
			tmp[i] = 0;
			if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
				return -1;
			tmp[i] = c;
		}
	}
	return 0;
}

/* Create root/rel (rel = directories only). */
int symsrv_mkdirs_under(const char *root, const char *rel, char *err, size_t errlen)
{
	char full[4096];
	if (!rel_is_safe(rel)) {
		snprintf(err, errlen, "refusing to write outside the store: %s", rel);
		return SYM_E_INVAL;
	}
	if (snprintf(full, sizeof full, "%s/%s", root, rel) >= (int)sizeof full) {
		snprintf(err, errlen, "path too long");
		return SYM_E_INVAL;
	}
	if (mkdir_p(full) < 0) {
		snprintf(err, errlen, "cannot create %s: %s", full, strerror(errno));
		return SYM_E_IO;
	}
	return 0;
}

int symsrv_tempfile(const char *dir, char *path, size_t len, int *fd)
{
	if (mkdir_p(dir) < 0)
		return SYM_E_IO;
	if (snprintf(path, len, "%s/.kdclient-tmp-XXXXXX", dir) >= (int)len)
		return SYM_E_INVAL;
	*fd = mkstemp(path);
	return *fd < 0 ? SYM_E_IO : 0;
}

static int copy_fd(int in, int out)
{
	char buf[65536];
	for (;;) {
		ssize_t r = read(in, buf, sizeof buf);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			return 0;
		for (ssize_t off = 0; off < r;) {
			ssize_t w = write(out, buf + off, (size_t)(r - off));
			if (w < 0) {
				if (errno == EINTR)
					continue;
				return -1;
			}
			off += w;
		}
	}
}

/*
 * Place a copy of src at root/rel (rel = "dirs/file"); out gets the final
 * path.
 */
int symsrv_copy_into(const char *src, const char *root, const char *rel, char *out, size_t outlen,
                     char *err, size_t errlen)
{
	char dirrel[4096], tmp[4096];
	if (!rel_is_safe(rel)) {
		snprintf(err, errlen, "refusing to write outside the store: %s", rel);
		return SYM_E_INVAL;
	}
	snprintf(dirrel, sizeof dirrel, "%s", rel);
	char *slash = strrchr(dirrel, '/');
	if (!slash) {
		snprintf(err, errlen, "bad store path %s", rel);
		return SYM_E_INVAL;
	}
	*slash = 0;
	int rc = symsrv_mkdirs_under(root, dirrel, err, errlen);
	if (rc < 0)
		return rc;
	if (snprintf(out, outlen, "%s/%s", root, rel) >= (int)outlen) {
		snprintf(err, errlen, "path too long");
		return SYM_E_INVAL;
	}
	char dir[4096];
	if (snprintf(dir, sizeof dir, "%s/%s", root, dirrel) >= (int)sizeof dir) {
		snprintf(err, errlen, "path too long");
		return SYM_E_INVAL;
	}
	int fd;
	if (symsrv_tempfile(dir, tmp, sizeof tmp, &fd) < 0) {
		snprintf(err, errlen, "cannot create a file in %s: %s", dir, strerror(errno));
		return SYM_E_IO;
	}
	int in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0 || copy_fd(in, fd) < 0 || fsync(fd) < 0) {
		snprintf(err, errlen, "cannot copy %s: %s", src, strerror(errno));
		if (in >= 0)
			close(in);
		close(fd);
		unlink(tmp);
		return SYM_E_IO;
	}
	close(in);
	if (close(fd) < 0 || chmod(tmp, 0644) < 0 || rename(tmp, out) < 0) {
		snprintf(err, errlen, "cannot store %s: %s", out, strerror(errno));
		unlink(tmp);
		return SYM_E_IO;
	}
	return 0;
}
