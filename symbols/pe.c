/*
 * pe.c - PE32/PE32+ headers, section table and RVA reads, for image files
 * (file layout) and for images loaded in target memory (image layout,
 * pulled through a read callback).
 */
#include <stdlib.h>
#include <sys/mman.h>

#include "pe_internal.h"
#include "sym_file.h"

/* A loaded kernel has at most a few dozen sections; the loader itself
 * refuses more than 96.  Anything far past that is a hostile header. */
#define PE_MAX_SECTIONS 1024
/* Directories larger than this are refused rather than allocated.  From a
 * live target every byte crosses the KD link (a serial line moves ~11 KB/s),
 * so a corrupt header there gets a tighter cap: ntoskrnl's .pdata and
 * export data are well under 1 MB each. */
#define PE_MAX_DIR_BYTES (64u << 20)
#define PE_MAX_DIR_BYTES_TARGET (4u << 20)

int pe_fail(pe_image *pe, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(pe->errmsg, sizeof pe->errmsg, fmt, ap);
	va_end(ap);
	return code;
}

const char *pe_errmsg(const pe_image *pe)
{
	return pe ? pe->errmsg : "no image";
}

/* Raw read at a header offset: file offset == RVA inside the headers. */
static int pe_raw(pe_image *pe, uint64_t off, void *buf, size_t len)
{
	if (pe->read) {
		size_t got = 0;
		int rc = pe->read(pe->read_ctx, pe->load_base + off, buf, len, &got);
		if (rc < 0 || got < len)
			return pe_fail(pe, SYM_E_READ,
			               "cannot read image header at %#llx+%#llx",
			               (unsigned long long)pe->load_base,
			               (unsigned long long)off);
		return 0;
	}
	if (!sym_in_bounds(pe->file_len, off, len))
		return pe_fail(pe, SYM_E_FORMAT,
		               "truncated image: header bytes %#llx..%#llx past end of file (%zu bytes)",
		               (unsigned long long)off,
		               (unsigned long long)(off + len), pe->file_len);
	memcpy(buf, pe->file + off, len);
	return 0;
}

static int pe_parse_headers(pe_image *pe)
{
	uint8_t dos[64];
	int rc = pe_raw(pe, 0, dos, sizeof dos);
	if (rc < 0)
		return rc;
	if (dos[0] != 'M' || dos[1] != 'Z')
		return pe_fail(pe, SYM_E_FORMAT, "not a PE image: no MZ signature");
	uint32_t lfanew = sym_le32(dos + 0x3c);
	if (lfanew < 64 || lfanew > (1u << 20))
		return pe_fail(pe, SYM_E_FORMAT, "bad e_lfanew %#x", lfanew);

	/* signature + file header + the largest optional header we read */
	uint8_t nt[4 + 20 + 240];
	memset(nt, 0, sizeof nt);
	rc = pe_raw(pe, lfanew, nt, 24);
	if (rc < 0)
		return rc;
	if (memcmp(nt, "PE\0\0", 4) != 0)
		return pe_fail(pe, SYM_E_FORMAT, "not a PE image: no PE signature at %#x", lfanew);
	const uint8_t *fh = nt + 4;
	pe->machine = sym_le16(fh);
	uint16_t nsect = sym_le16(fh + 2);
	pe->timestamp = sym_le32(fh + 4);
	uint16_t optsize = sym_le16(fh + 16);
	if (optsize < 2)
		return pe_fail(pe, SYM_E_FORMAT, "no optional header");
	size_t optread = optsize < 240 ? optsize : 240;
	rc = pe_raw(pe, lfanew + 24, nt + 24, optread);
	if (rc < 0)
		return rc;
	const uint8_t *oh = nt + 24;
	uint16_t magic = sym_le16(oh);
	size_t dir_off, ndir_off;
	if (magic == 0x10b) {
		pe->plus = 0;
		if (optread < 96)
			return pe_fail(pe, SYM_E_FORMAT, "PE32 optional header too small (%u)", optsize);
		pe->image_base = sym_le32(oh + 28);
		ndir_off = 92;
		dir_off = 96;
	} else if (magic == 0x20b) {
		pe->plus = 1;
		if (optread < 112)
			return pe_fail(pe, SYM_E_FORMAT, "PE32+ optional header too small (%u)", optsize);
		pe->image_base = sym_le64(oh + 24);
		ndir_off = 108;
		dir_off = 112;
	} else {
		return pe_fail(pe, SYM_E_FORMAT, "unknown optional header magic %#x", magic);
	}
	pe->entry = sym_le32(oh + 16);
	pe->size_of_image = sym_le32(oh + 56);
	pe->size_of_headers = sym_le32(oh + 60);
	pe->checksum = sym_le32(oh + 64);
	uint32_t ndirs = sym_le32(oh + ndir_off);
	if (ndirs > PE_NUM_DIRS)
		ndirs = PE_NUM_DIRS;
	for (uint32_t i = 0; i < ndirs; i++) {
		size_t o = dir_off + 8 * i;
		if (o + 8 > optread)
			break;
		pe->dir_rva[i] = sym_le32(oh + o);
		pe->dir_size[i] = sym_le32(oh + o + 4);
	}
	if (pe->read)
		pe->image_base = pe->load_base;

	if (nsect > PE_MAX_SECTIONS)
		return pe_fail(pe, SYM_E_FORMAT, "implausible section count %u", nsect);
	pe->nsections = nsect;
	if (nsect) {
		uint8_t *raw = malloc((size_t)nsect * 40);
		pe->sections = calloc(nsect, sizeof *pe->sections);
		if (!raw || !pe->sections) {
			free(raw);
			return pe_fail(pe, SYM_E_NOMEM, "out of memory");
		}
		rc = pe_raw(pe, (uint64_t)lfanew + 24 + optsize, raw, (size_t)nsect * 40);
		if (rc < 0) {
			free(raw);
			return rc;
		}
		for (size_t i = 0; i < nsect; i++) {
			const uint8_t *s = raw + 40 * i;
			pe_section *d = &pe->sections[i];
			memcpy(d->name, s, 8);
			d->name[8] = 0;
			d->virtual_size = sym_le32(s + 8);
			d->virtual_address = sym_le32(s + 12);
			d->raw_size = sym_le32(s + 16);
			d->raw_offset = sym_le32(s + 20);
			d->characteristics = sym_le32(s + 36);
		}
		free(raw);
	}
	return 0;
}

static int pe_new(pe_image **out)
{
	*out = calloc(1, sizeof **out);
	return *out ? 0 : SYM_E_NOMEM;
}

static int pe_finish_open(pe_image *pe, pe_image **out, char *err, size_t errlen)
{
	int rc = pe_parse_headers(pe);
	if (rc < 0) {
		sym_set_err(err, errlen, "%s", pe->errmsg);
		pe_close(pe);
		return rc;
	}
	*out = pe;
	return 0;
}

int pe_open_memory(const void *buf, size_t len, pe_image **out, char *err, size_t errlen)
{
	pe_image *pe;
	if (!buf || !out) {
		sym_set_err(err, errlen, "invalid argument");
		return SYM_E_INVAL;
	}
	if (pe_new(&pe) < 0) {
		sym_set_err(err, errlen, "out of memory");
		return SYM_E_NOMEM;
	}
	pe->file = buf;
	pe->file_len = len;
	return pe_finish_open(pe, out, err, errlen);
}

int pe_open_file(const char *path, pe_image **out, char *err, size_t errlen)
{
	if (!path || !out) {
		sym_set_err(err, errlen, "invalid argument");
		return SYM_E_INVAL;
	}
	void *map;
	size_t len;
	int rc = sym_map_file(path, 0, &map, &len, err, errlen);
	if (rc < 0)
		return rc;
	pe_image *pe;
	if (pe_new(&pe) < 0) {
		munmap(map, len);
		sym_set_err(err, errlen, "out of memory");
		return SYM_E_NOMEM;
	}
	pe->file = map;
	pe->file_len = pe->map_len = len;
	rc = pe_finish_open(pe, out, err, errlen);
	if (rc < 0)
		sym_err_prefix_path(err, errlen, path);
	return rc;
}

int pe_open_read(pe_read_fn read, void *ctx, uint64_t base, pe_image **out,
                 char *err, size_t errlen)
{
	pe_image *pe;
	if (!read || !out) {
		sym_set_err(err, errlen, "invalid argument");
		return SYM_E_INVAL;
	}
	if (pe_new(&pe) < 0) {
		sym_set_err(err, errlen, "out of memory");
		return SYM_E_NOMEM;
	}
	pe->read = read;
	pe->read_ctx = ctx;
	pe->load_base = base;
	return pe_finish_open(pe, out, err, errlen);
}

void pe_close(pe_image *pe)
{
	if (!pe)
		return;
	if (pe->map_len)
		munmap((void *)pe->file, pe->map_len);
	free(pe->sections);
	free(pe->exports);
	free(pe->export_strings);
	free(pe->export_by_name);
	free(pe->pdata);
	free(pe);
}

uint16_t pe_machine(const pe_image *pe) { return pe->machine; }
int pe_is_pe32plus(const pe_image *pe) { return pe->plus; }
uint64_t pe_image_base(const pe_image *pe) { return pe->image_base; }
uint32_t pe_size_of_image(const pe_image *pe) { return pe->size_of_image; }
uint32_t pe_timestamp(const pe_image *pe) { return pe->timestamp; }
uint32_t pe_entry_point(const pe_image *pe) { return pe->entry; }
uint32_t pe_checksum(const pe_image *pe) { return pe->checksum; }
size_t pe_section_count(const pe_image *pe) { return pe->nsections; }

int pe_section_at(const pe_image *pe, size_t i, pe_section *out)
{
	if (i >= pe->nsections)
		return SYM_E_NOTFOUND;
	*out = pe->sections[i];
	return 0;
}

/* File layout: copy the part of [rva, rva+len) that one section (or the
 * headers) covers; returns bytes produced, 0 if rva is in no section. */
static size_t pe_file_chunk(pe_image *pe, uint32_t rva, uint8_t *buf, size_t len)
{
	if (rva < pe->size_of_headers) {
		size_t n = pe->size_of_headers - rva;
		if (n > len)
			n = len;
		if (!sym_in_bounds(pe->file_len, rva, n))
			return 0;
		memcpy(buf, pe->file + rva, n);
		return n;
	}
	for (size_t i = 0; i < pe->nsections; i++) {
		const pe_section *s = &pe->sections[i];
		/* files often carry raw data rounded up past VirtualSize;
		 * those bytes are readable too */
		uint32_t vsize = s->virtual_size > s->raw_size ? s->virtual_size : s->raw_size;
		if (rva < s->virtual_address || rva - s->virtual_address >= vsize)
			continue;
		uint32_t in = rva - s->virtual_address;
		size_t n = vsize - in;
		if (n > len)
			n = len;
		/* raw part from the file, the rest (uninitialized data) zero */
		size_t raw = 0;
		if (in < s->raw_size) {
			raw = s->raw_size - in;
			if (raw > n)
				raw = n;
			if (!sym_in_bounds(pe->file_len, (uint64_t)s->raw_offset + in, raw))
				return 0;
			memcpy(buf, pe->file + s->raw_offset + in, raw);
		}
		memset(buf + raw, 0, n - raw);
		return n;
	}
	return 0;
}

int pe_read_rva(pe_image *pe, uint32_t rva, void *buf, size_t len)
{
	if (!len)
		return 0;
	if ((uint64_t)rva + len > 0x100000000ull)
		return pe_fail(pe, SYM_E_INVAL, "RVA range %#x+%#zx wraps", rva, len);
	if (pe->read) {
		size_t got = 0;
		int rc = pe->read(pe->read_ctx, pe->load_base + rva, buf, len, &got);
		if (rc < 0 || got < len)
			return pe_fail(pe, SYM_E_READ, "cannot read %zu bytes at %#llx (RVA %#x)",
			               len, (unsigned long long)(pe->load_base + rva), rva);
		return 0;
	}
	uint8_t *p = buf;
	while (len) {
		size_t n = pe_file_chunk(pe, rva, p, len);
		if (!n)
			return pe_fail(pe, SYM_E_FORMAT,
			               "RVA %#x is not backed by the file", rva);
		p += n;
		rva += (uint32_t)n;
		len -= n;
	}
	return 0;
}

int pe_read_alloc(pe_image *pe, uint32_t rva, uint32_t len, uint8_t **out)
{
	*out = NULL;
	if (len > (pe->read ? PE_MAX_DIR_BYTES_TARGET : PE_MAX_DIR_BYTES))
		return pe_fail(pe, SYM_E_FORMAT, "directory at RVA %#x too large (%u bytes)", rva, len);
	uint8_t *b = malloc(len ? len : 1);
	if (!b)
		return pe_fail(pe, SYM_E_NOMEM, "out of memory");
	int rc = pe_read_rva(pe, rva, b, len);
	if (rc < 0) {
		free(b);
		return rc;
	}
	*out = b;
	return 0;
}
