/*
 * sym_file.h - internal: the read-only file mapping behind pe_open_file and
 * pdb_open, and the "path: reason" message both give when parsing fails.
 */
#ifndef SYMBOLS_SYM_FILE_H
#define SYMBOLS_SYM_FILE_H

#include <stddef.h>

/*
 * Map a regular, non-empty file read-only.  Files no larger than
 * populate_max are mapped with MAP_POPULATE (0: never).  Returns 0 with
 * map and len set (release with munmap), or SYM_E_INVAL / SYM_E_IO with
 * "path: reason" in err.
 */
int sym_map_file(const char *path, size_t populate_max, void **map, size_t *len,
                 char *err, size_t errlen);

/* Prefix the message already in err with "path: ". */
void sym_err_prefix_path(char *err, size_t errlen, const char *path);

#endif
