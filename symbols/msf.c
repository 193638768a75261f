/*
 * msf.c - the MSF 7.00 ("big MSF") container every modern PDB is stored in:
 * a superblock, fixed-size blocks, and a stream directory listing each
 * stream's size and blocks.  Everything the superblock and directory say is
 * checked against the file before any stream is read, so later parsers only
 * ever see bytes that exist.
 */
#include <stdlib.h>

#include "pdb_internal.h"

static const char msf7_magic[32] = "Microsoft C/C++ MSF 7.00\r\n\x1a" "DS\0\0";
static const char msf2_magic[] = "Microsoft C/C++ program database 2.00";

#define NIL_SIZE 0xffffffffu

void msf_close(msf *m)
{
	if (m->cache) {
		for (uint32_t i = 0; i < m->nstreams; i++)
			free(m->cache[i]);
	}
	free(m->cache);
	free(m->sizes);
	free(m->blocks);
	free(m->dir);
	memset(m, 0, sizeof *m);
}

static int msf_bad(msf *m, char *err, size_t errlen, const char *what)
{
	sym_set_err(err, errlen, "not a valid PDB: %s", what);
	msf_close(m);
	return SYM_E_FORMAT;
}

int msf_open(msf *m, const uint8_t *data, size_t len, char *err, size_t errlen)
{
	char msg[160];
	memset(m, 0, sizeof *m);
	if (len >= sizeof msf2_magic - 1 && memcmp(data, msf2_magic, sizeof msf2_magic - 1) == 0)
		return msf_bad(m, err, errlen, "PDB 2.00 (small MSF) files are not supported, only MSF 7.00");
	if (len >= 4 && memcmp(data, "MSCF", 4) == 0)
		return msf_bad(m, err, errlen, "this is a CAB archive (a compressed .pd_ from a symbol server); expand it first");
	if (len < 56 || memcmp(data, msf7_magic, sizeof msf7_magic) != 0)
		return msf_bad(m, err, errlen, "no MSF 7.00 signature");
	m->data = data;
	m->len = len;
	m->block_size = sym_le32(data + 32);
	m->num_blocks = sym_le32(data + 40);
	uint32_t dir_bytes = sym_le32(data + 44);
	uint32_t map_addr = sym_le32(data + 52);
	uint32_t bs = m->block_size;
	if (bs < 512 || bs > 65536 || (bs & (bs - 1)))
		return msf_bad(m, err, errlen, "block size is not a power of two in 512..65536");
	if ((uint64_t)m->num_blocks * bs > len) {
		snprintf(msg, sizeof msg, "file truncated: %u blocks of %u bytes need %llu bytes, file has %zu",
		         m->num_blocks, bs, (unsigned long long)m->num_blocks * bs, len);
		return msf_bad(m, err, errlen, msg);
	}
	if (dir_bytes < 4 || (uint64_t)dir_bytes > (uint64_t)(bs / 4) * bs)
		return msf_bad(m, err, errlen, "stream directory size out of range");
	if (map_addr == 0 || map_addr >= m->num_blocks)
		return msf_bad(m, err, errlen, "block map address outside the file");

	/* the directory's blocks are listed in the block at map_addr */
	uint32_t ndir = (dir_bytes + bs - 1) / bs;
	const uint8_t *map = data + (size_t)map_addr * bs;
	m->dir = malloc(dir_bytes);
	if (!m->dir)
		return msf_bad(m, err, errlen, "out of memory");
	for (uint32_t i = 0; i < ndir; i++) {
		uint32_t b = sym_le32(map + 4 * i);
		if (b == 0 || b >= m->num_blocks) {
			snprintf(msg, sizeof msg, "stream directory block %u is %u, outside the %u-block file",
			         i, b, m->num_blocks);
			return msf_bad(m, err, errlen, msg);
		}
		uint32_t n = dir_bytes - i * bs < bs ? dir_bytes - i * bs : bs;
		memcpy(m->dir + (size_t)i * bs, data + (size_t)b * bs, n);
	}

	sym_cursor c;
	sym_cur_init(&c, m->dir, dir_bytes);
	m->nstreams = sym_cur_u32(&c);
	if (m->nstreams > (dir_bytes - 4) / 4)
		return msf_bad(m, err, errlen, "stream count larger than the directory");
	m->sizes = calloc(m->nstreams + 1, sizeof *m->sizes);
	m->blocks = calloc(m->nstreams + 1, sizeof *m->blocks);
	m->cache = calloc(m->nstreams + 1, sizeof *m->cache);
	if (!m->sizes || !m->blocks || !m->cache)
		return msf_bad(m, err, errlen, "out of memory");
	for (uint32_t i = 0; i < m->nstreams; i++) {
		uint32_t s = sym_cur_u32(&c);
		m->sizes[i] = s == NIL_SIZE ? 0 : s;
	}
	for (uint32_t i = 0; i < m->nstreams; i++) {
		uint32_t nb = (uint32_t)(((uint64_t)m->sizes[i] + bs - 1) / bs);
		if (nb > (c.len - c.pos) / 4) {
			snprintf(msg, sizeof msg, "stream %u size %u needs more blocks than the directory lists",
			         i, m->sizes[i]);
			return msf_bad(m, err, errlen, msg);
		}
		m->blocks[i] = (uint32_t *)(void *)(m->dir + c.pos);
		for (uint32_t k = 0; k < nb; k++) {
			uint32_t b = sym_le32(m->dir + c.pos + 4 * k);
			if (b >= m->num_blocks) {
				snprintf(msg, sizeof msg, "stream %u block %u is %u, outside the %u-block file",
				         i, k, b, m->num_blocks);
				return msf_bad(m, err, errlen, msg);
			}
		}
		c.pos += 4 * (size_t)nb;
	}
	return 0;
}

int msf_stream(msf *m, uint32_t idx, const uint8_t **data, uint32_t *len,
               char *err, size_t errlen)
{
	if (idx >= m->nstreams) {
		sym_set_err(err, errlen, "stream %u does not exist (%u streams)", idx, m->nstreams);
		return SYM_E_NOTFOUND;
	}
	uint32_t size = m->sizes[idx];
	/* a stream whose blocks are consecutive in the file is used in place:
	 * linkers mostly write them that way, and copying a large PDB's
	 * module streams would dominate load time */
	if (!m->cache[idx] && size) {
		const uint8_t *bl = (const uint8_t *)m->blocks[idx];
		uint32_t nb = (uint32_t)(((uint64_t)size + m->block_size - 1) / m->block_size);
		uint32_t b0 = sym_le32(bl), k = 1;
		while (k < nb && sym_le32(bl + 4 * k) == b0 + k)
			k++;
		if (k == nb) {
			*data = m->data + (size_t)b0 * m->block_size;
			*len = size;
			return 0;
		}
	}
	if (!m->cache[idx]) {
		uint8_t *buf = malloc(size ? size : 1);
		if (!buf) {
			sym_set_err(err, errlen, "out of memory for stream %u (%u bytes)", idx, size);
			return SYM_E_NOMEM;
		}
		/* block numbers were validated by msf_open; the directory is
		 * unaligned byte storage, hence sym_le32 */
		const uint8_t *bl = (const uint8_t *)m->blocks[idx];
		uint32_t bs = m->block_size;
		for (uint32_t off = 0, k = 0; off < size; off += bs, k++) {
			uint32_t b = sym_le32(bl + 4 * k);
			uint32_t n = size - off < bs ? size - off : bs;
			memcpy(buf + off, m->data + (size_t)b * bs, n);
		}
		m->cache[idx] = buf;
	}
	*data = m->cache[idx];
	*len = size;
	return 0;
}
