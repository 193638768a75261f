/*
 * modset.c - the set of loaded modules and name <-> address across them.
 *
 * Symbols are loaded lazily (WinDbg's deferred loading): adding a module
 * costs nothing; the first symbolize/lookup/x that needs it reads the image
 * headers, finds the PDB on the symbol path and opens it, or falls back to
 * the export table.  Per-module symbol tables for x/ln are built only when
 * those commands ask.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "symbols.h"
#include "symsrv_internal.h"

typedef struct modsym {
	const char *name;
	uint32_t rva;
	uint32_t size;
	uint32_t ti;
	uint8_t is_code;
} modsym;

struct sym_module {
	sym_modset *set;
	char name[128];
	char image_name[256];
	char *image_path;       /* as the target reported it (display only) */
	uint64_t base;
	uint32_t size;
	uint32_t timestamp, checksum;
	int user;
	sym_module_state state;
	pe_image *pe;
	int pe_tried;
	char *pe_file;          /* image file to use instead of target memory */
	char *pdb_file;         /* PDB to use instead of searching */
	pdb_file *pdb;
	char pdb_path[4096];
	pe_codeview_info cv;
	int have_cv;
	modsym *syms;           /* sorted by rva; built on demand */
	size_t nsyms;
	uint32_t *byname;       /* indexes into syms, case-insensitive order */
	int syms_built;
	char err[512];
};

struct sym_modset {
	sym_module **mods;      /* sorted by base */
	size_t n;
	sym_path *path;
	pe_read_fn read;
	void *read_ctx;
	sym_log_fn log;
	void *log_ctx;
	char err[512];
};

static void set_log(sym_modset *set, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_log(sym_modset *set, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	if (!set->log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	set->log(set->log_ctx, msg);
}

int sym_modset_create(sym_modset **out)
{
	*out = calloc(1, sizeof **out);
	return *out ? 0 : SYM_E_NOMEM;
}

static void free_syms(sym_module *m)
{
	free(m->syms);
	free(m->byname);
	m->byname = NULL;
	m->syms = NULL;
	m->nsyms = 0;
	m->syms_built = 0;
}

void sym_module_unload(sym_module *m)
{
	free_syms(m);
	if (m->pdb)
		pdb_close(m->pdb);
	m->pdb = NULL;
	m->pdb_path[0] = 0;
	m->state = SYM_MOD_DEFERRED;
}

static void module_free(sym_module *m)
{
	sym_module_unload(m);
	if (m->pe)
		pe_close(m->pe);
	free(m->pe_file);
	free(m->pdb_file);
	free(m->image_path);
	free(m);
}

void sym_modset_clear(sym_modset *set)
{
	for (size_t i = 0; i < set->n; i++)
		module_free(set->mods[i]);
	set->n = 0;
}

void sym_modset_clear_user(sym_modset *set)
{
	size_t k = 0;
	for (size_t i = 0; i < set->n; i++) {
		if (set->mods[i]->user)
			module_free(set->mods[i]);
		else
			set->mods[k++] = set->mods[i];
	}
	set->n = k;
}

void sym_modset_destroy(sym_modset *set)
{
	if (!set)
		return;
	sym_modset_clear(set);
	free(set->mods);
	free(set);
}

void sym_modset_set_path(sym_modset *set, sym_path *path) { set->path = path; }

void sym_modset_set_reader(sym_modset *set, pe_read_fn read, void *ctx)
{
	set->read = read;
	set->read_ctx = ctx;
}

void sym_modset_set_log(sym_modset *set, sym_log_fn log, void *ctx)
{
	set->log = log;
	set->log_ctx = ctx;
}

const char *sym_modset_errmsg(const sym_modset *set) { return set->err; }

/* ---- names ---- */

int sym_wildcard_match(const char *p, const char *t)
{
	/* Iterative glob with one backtrack point: linear enough for symbol
	 * names and no recursion depth for hostile patterns. */
	const char *star = NULL, *mark = NULL;
	while (*t) {
		if (*p == '*') {
			star = p++;
			mark = t;
		} else if (*p == '?' || (*p && tolower((unsigned char)*p) == tolower((unsigned char)*t))) {
			p++;
			t++;
		} else if (star) {
			p = star + 1;
			t = ++mark;
		} else {
			return 0;
		}
	}
	while (*p == '*')
		p++;
	return *p == 0;
}

/* Kernel image names WinDbg calls "nt" (ntoskrnl and its MP/PAE variants;
 * testnt.exe is the project's test kernel). */
static const char *const nt_images[] = {
	"ntoskrnl.exe", "ntkrnlmp.exe", "ntkrnlpa.exe", "ntkrpamp.exe", "testnt.exe",
};

static void derive_name(const char *image, char *out, size_t len)
{
	for (size_t i = 0; i < sizeof nt_images / sizeof nt_images[0]; i++) {
		if (strcasecmp(image, nt_images[i]) == 0) {
			snprintf(out, len, "nt");
			return;
		}
	}
	if (strncasecmp(image, "hal", 3) == 0 && strlen(image) > 4 &&
	    strcasecmp(image + strlen(image) - 4, ".dll") == 0) {
		snprintf(out, len, "hal");
		return;
	}
	/* A module name longer than the slot is cut on purpose (WinDbg
	 * shortens long names too); copy explicitly so the cut is visible. */
	size_t n = strlen(image);
	if (n >= len)
		n = len - 1;
	memcpy(out, image, n);
	out[n] = 0;
	char *dot = strrchr(out, '.');
	if (dot && dot != out)
		*dot = 0;
	/* Module names appear in expressions ("mod!sym", "mod+10"): keep
	 * only characters an expression can carry. */
	for (char *c = out; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '_')
			*c = '_';
}

sym_module *sym_modset_find_module(const sym_modset *set, const char *name)
{
	for (size_t i = 0; i < set->n; i++)
		if (strcasecmp(set->mods[i]->name, name) == 0)
			return set->mods[i];
	for (size_t i = 0; i < set->n; i++)
		if (strcasecmp(set->mods[i]->image_name, name) == 0)
			return set->mods[i];
	return NULL;
}

int sym_modset_remove(sym_modset *set, uint64_t base)
{
	for (size_t i = 0; i < set->n; i++) {
		if (set->mods[i]->base == base) {
			module_free(set->mods[i]);
			memmove(&set->mods[i], &set->mods[i + 1], (set->n - i - 1) * sizeof *set->mods);
			set->n--;
			return 0;
		}
	}
	return SYM_E_NOTFOUND;
}

int sym_modset_add(sym_modset *set, const char *name, const char *image_name, uint64_t base,
                   uint32_t size, sym_module **out)
{
	char e[256];
	if (out)
		*out = NULL;
	sym_module *m = calloc(1, sizeof *m);
	if (!m)
		return SYM_E_NOMEM;
	m->set = set;
	m->base = base;
	m->size = size;
	if (sym_name_sanitize(image_name, m->image_name, sizeof m->image_name, e, sizeof e) < 0) {
		/* A hostile or garbled name still gets a module, the way WinDbg
		 * shows "Unknown_Module_<base>". */
		snprintf(m->image_name, sizeof m->image_name, "Unknown_Module_%016" PRIx64, base);
	}
	m->image_path = strndup(image_name ? image_name : "", 512);
	if (name && name[0])
		snprintf(m->name, sizeof m->name, "%s", name);
	else
		derive_name(m->image_name, m->name, sizeof m->name);
	sym_modset_remove(set, base);
	if (sym_modset_find_module(set, m->name)) {
		size_t l = strlen(m->name);
		snprintf(m->name + l, sizeof m->name - l, "_%" PRIx64, base);
	}
	sym_module **v = realloc(set->mods, (set->n + 1) * sizeof *v);
	if (!v) {
		free(m);
		return SYM_E_NOMEM;
	}
	set->mods = v;
	size_t pos = set->n;
	while (pos > 0 && set->mods[pos - 1]->base > base)
		pos--;
	memmove(&set->mods[pos + 1], &set->mods[pos], (set->n - pos) * sizeof *v);
	set->mods[pos] = m;
	set->n++;
	if (out)
		*out = m;
	return 0;
}

size_t sym_modset_count(const sym_modset *set) { return set->n; }
sym_module *sym_modset_at(const sym_modset *set, size_t i) { return i < set->n ? set->mods[i] : NULL; }

sym_module *sym_modset_module_at(const sym_modset *set, uint64_t addr)
{
	size_t lo = 0, hi = set->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (set->mods[mid]->base <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	sym_module *m = set->mods[lo - 1];
	return addr - m->base < m->size ? m : NULL;
}

/* ---- module accessors ---- */

const char *sym_module_name(const sym_module *m) { return m->name; }
const char *sym_module_image_name(const sym_module *m) { return m->image_name; }
const char *sym_module_image_path(const sym_module *m)
{
	return m->image_path && m->image_path[0] ? m->image_path : m->image_name;
}
uint64_t sym_module_base(const sym_module *m) { return m->base; }
uint32_t sym_module_size(const sym_module *m) { return m->size; }
sym_module_state sym_module_get_state(const sym_module *m) { return m->state; }
const char *sym_module_pdb_path(const sym_module *m) { return m->pdb_path; }
const char *sym_module_errmsg(const sym_module *m) { return m->err; }
int sym_module_is_user(const sym_module *m) { return m->user; }
void sym_module_set_user(sym_module *m, int user) { m->user = user; }

void sym_module_set_image_info(sym_module *m, uint32_t timestamp, uint32_t checksum)
{
	m->timestamp = timestamp;
	m->checksum = checksum;
}

static int replace_str(char **dst, const char *src)
{
	char *d = strdup(src);
	if (!d)
		return SYM_E_NOMEM;
	free(*dst);
	*dst = d;
	return 0;
}

int sym_module_set_pe_file(sym_module *m, const char *path)
{
	if (m->pe)
		pe_close(m->pe);
	m->pe = NULL;
	m->pe_tried = 0;
	m->have_cv = 0;
	sym_module_unload(m);
	return replace_str(&m->pe_file, path);
}

int sym_module_set_pdb_file(sym_module *m, const char *path)
{
	sym_module_unload(m);
	return replace_str(&m->pdb_file, path);
}

pe_image *sym_module_pe(sym_module *m)
{
	if (m->pe || m->pe_tried)
		return m->pe;
	m->pe_tried = 1;
	char e[256] = "";
	int rc;
	if (m->pe_file)
		rc = pe_open_file(m->pe_file, &m->pe, e, sizeof e);
	else if (m->set->read)
		rc = pe_open_read(m->set->read, m->set->read_ctx, m->base, &m->pe, e, sizeof e);
	else {
		rc = SYM_E_NOTFOUND;
		snprintf(e, sizeof e, "no way to read the image");
	}
	if (rc < 0 && !m->pe_file && m->timestamp && m->size && m->set->path) {
		/* Headers paged out (or discarded): the image itself from the
		 * symbol path, indexed by TimeDateStamp and SizeOfImage as the
		 * loader recorded them -- what WinDbg does for such modules. */
		char found[4096];
		if (sym_path_find_image(m->set->path, m->image_name, m->timestamp, m->size, found,
		                        sizeof found) == 0 &&
		    pe_open_file(found, &m->pe, e, sizeof e) == 0) {
			set_log(m->set, "DBGHELP: %s - image from %s", m->name, found);
			rc = 0;
		}
	}
	if (rc < 0) {
		m->pe = NULL;
		snprintf(m->err, sizeof m->err, "image headers of %s at %016" PRIx64 " unreadable: %s",
		         m->name, m->base, e);
		return NULL;
	}
	if (!m->timestamp)
		m->timestamp = pe_timestamp(m->pe);
	if (!m->checksum)
		m->checksum = pe_checksum(m->pe);
	return m->pe;
}

uint32_t sym_module_timestamp(sym_module *m)
{
	sym_module_pe(m);
	return m->timestamp;
}

uint32_t sym_module_checksum(sym_module *m)
{
	sym_module_pe(m);
	return m->checksum;
}

int sym_module_codeview(sym_module *m, pe_codeview_info *out)
{
	if (!m->have_cv) {
		pe_image *pe = sym_module_pe(m);
		if (!pe)
			return SYM_E_NOTFOUND;
		int rc = pe_codeview(pe, &m->cv);
		if (rc < 0)
			return rc;
		m->have_cv = 1;
	}
	*out = m->cv;
	return 0;
}

/* Open a PDB and insist it matches the image's RSDS record (when known). */
static int open_pdb_checked(sym_module *m, const char *path)
{
	char e[256] = "";
	pdb_file *pdb;
	int rc = pdb_open(path, &pdb, e, sizeof e);
	if (rc < 0) {
		snprintf(m->err, sizeof m->err, "%s: %s", path, e);
		return rc;
	}
	if (m->have_cv && m->cv.is_rsds) {
		uint8_t g[16];
		uint32_t age;
		if (pdb_guid_age(pdb, g, &age) < 0 || memcmp(g, m->cv.guid, 16) || age != m->cv.age) {
			snprintf(m->err, sizeof m->err, "%s: does not match the image (GUID/age)", path);
			pdb_close(pdb);
			return SYM_E_FORMAT;
		}
	}
	m->pdb = pdb;
	snprintf(m->pdb_path, sizeof m->pdb_path, "%s", path);
	return 0;
}

/*
 * The PDB where the linker wrote it (the RSDS record's own path), as
 * WinDbg tries after the symbol path: a driver built on this machine is
 * found without any setup.  The path comes from the target, so it is only
 * ever read, only if it is an absolute path to a regular file (no device
 * or FIFO that could block), and only used if its GUID/age match.
 */
static int try_recorded_path(sym_module *m, const pe_codeview_info *cv)
{
	char path[sizeof cv->pdb_name + 1];
	snprintf(path, sizeof path, "%.*s", (int)sizeof cv->pdb_name, cv->pdb_name);
	if (path[0] != '/')
		return -1;
	for (const char *c = path; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return -1;
	if (!symsrv_is_file(path))
		return -1;
	char saved[sizeof m->err];
	memcpy(saved, m->err, sizeof saved);
	if (open_pdb_checked(m, path) == 0)
		return 0;
	memcpy(m->err, saved, sizeof saved);
	return -1;
}

int sym_module_load(sym_module *m, int force)
{
	if (m->state != SYM_MOD_DEFERRED && !force)
		return m->state == SYM_MOD_NONE ? SYM_E_NOTFOUND : 0;
	sym_module_unload(m);
	m->err[0] = 0;
	pe_codeview_info cv;
	int have_cv = sym_module_codeview(m, &cv) == 0;
	if (m->pdb_file) {
		if (open_pdb_checked(m, m->pdb_file) == 0) {
			m->state = SYM_MOD_PDB;
			return 0;
		}
	} else if (have_cv && cv.is_rsds && m->set->path) {
		char found[4096];
		int rc = sym_path_find_pdb(m->set->path, cv.pdb_name, cv.guid, cv.age, found,
		                           sizeof found);
		if (rc == 0 && open_pdb_checked(m, found) == 0) {
			m->state = SYM_MOD_PDB;
			set_log(m->set, "DBGHELP: %s - private symbols & lines\n        %s", m->name, found);
			return 0;
		}
		if (rc < 0)
			snprintf(m->err, sizeof m->err, "%s", sym_path_errmsg(m->set->path));
	} else if (have_cv && !cv.is_rsds) {
		snprintf(m->err, sizeof m->err, "NB10 (PDB 2.0) records are not supported");
	}
	if (m->state != SYM_MOD_PDB && !m->pdb_file && have_cv && cv.is_rsds &&
	    try_recorded_path(m, &cv) == 0) {
		m->state = SYM_MOD_PDB;
		m->err[0] = 0;
		set_log(m->set, "DBGHELP: %s - private symbols & lines\n        %s", m->name, m->pdb_path);
		return 0;
	}
	if (!m->err[0] && !(have_cv && !cv.is_rsds)) {
		snprintf(m->err, sizeof m->err, have_cv ? "no symbol path" : "image has no CodeView record");
	}
	if (m->err[0])
		set_log(m->set, "DBGHELP: %s - %s", m->name, m->err);
	if (m->pe) {
		m->state = SYM_MOD_EXPORT;
		set_log(m->set, "DBGHELP: %s - export symbols", m->name);
		return 0;
	}
	m->state = SYM_MOD_NONE;
	return SYM_E_NOTFOUND;
}

pdb_file *sym_module_pdb(sym_module *m)
{
	sym_module_load(m, 0);
	return m->pdb;
}

/* ---- per-module symbol tables (x, ln, export fallback) ---- */

static int cmp_modsym(const void *a, const void *b)
{
	const modsym *x = a, *y = b;
	if (x->rva != y->rva)
		return x->rva < y->rva ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int cmp_byname(const void *a, const void *b, void *ctx)
{
	const modsym *syms = ctx;
	const modsym *x = &syms[*(const uint32_t *)a], *y = &syms[*(const uint32_t *)b];
	int c = strcasecmp(x->name, y->name);
	if (c)
		return c;
	return x->rva < y->rva ? -1 : x->rva > y->rva;
}

static int push_sym(sym_module *m, size_t *cap, const char *name, uint32_t rva, uint32_t size,
                    uint32_t ti, int is_code)
{
	if (!name || !name[0])
		return 0;
	if (m->nsyms == *cap) {
		size_t nc = *cap ? *cap * 2 : 256;
		modsym *v = realloc(m->syms, nc * sizeof *v);
		if (!v)
			return SYM_E_NOMEM;
		m->syms = v;
		*cap = nc;
	}
	m->syms[m->nsyms++] = (modsym){ name, rva, size, ti, (uint8_t)(is_code != 0) };
	return 0;
}

struct collect {
	sym_module *m;
	size_t cap;
};

static int collect_pdb(void *ctx, const pdb_symbol *s)
{
	struct collect *c = ctx;
	/* Thread-local data has a TLS offset, not an address. */
	if (s->kind == PDB_SYM_THREAD_DATA)
		return 0;
	return push_sym(c->m, &c->cap, s->name, s->rva, s->size, s->type_index, s->is_code) < 0;
}

static int build_syms(sym_module *m)
{
	if (m->syms_built)
		return 0;
	sym_module_load(m, 0);
	struct collect c = { m, 0 };
	if (m->pdb) {
		int rc = pdb_foreach_symbol(m->pdb, collect_pdb, &c);
		if (rc != 0) {
			snprintf(m->err, sizeof m->err, "reading symbols: %s", pdb_errmsg(m->pdb));
			free_syms(m);
			return rc < 0 ? rc : SYM_E_NOMEM;
		}
	} else if (m->pe) {
		int n = pe_export_count(m->pe);
		for (int i = 0; i < n; i++) {
			pe_export ex;
			if (pe_export_at(m->pe, (size_t)i, &ex) < 0 || !ex.rva || !ex.name)
				continue;
			if (push_sym(m, &c.cap, ex.name, ex.rva, 0, 0, 1) < 0) {
				free_syms(m);
				return SYM_E_NOMEM;
			}
		}
	}
	if (m->nsyms)
		qsort(m->syms, m->nsyms, sizeof *m->syms, cmp_modsym);
	/* A function shows up as a public and as a procedure: keep one,
	 * preferring the entry that knows its size and type. */
	size_t k = 0;
	for (size_t i = 0; i < m->nsyms; i++) {
		if (k && m->syms[k - 1].rva == m->syms[i].rva &&
		    strcmp(m->syms[k - 1].name, m->syms[i].name) == 0) {
			if (!m->syms[k - 1].ti && m->syms[i].ti)
				m->syms[k - 1] = m->syms[i];
			continue;
		}
		m->syms[k++] = m->syms[i];
	}
	m->nsyms = k;
	/* Name index for case-insensitive lookups (qsort_r: the comparison
	 * needs the table). */
	m->byname = malloc((m->nsyms ? m->nsyms : 1) * sizeof *m->byname);
	if (!m->byname) {
		free_syms(m);
		return SYM_E_NOMEM;
	}
	for (size_t i = 0; i < m->nsyms; i++)
		m->byname[i] = (uint32_t)i;
	qsort_r(m->byname, m->nsyms, sizeof *m->byname, cmp_byname, m->syms);
	m->syms_built = 1;
	return 0;
}

/* Index into syms of a case-insensitive name match, or -1. */
static long find_byname(const sym_module *m, const char *name)
{
	size_t lo = 0, hi = m->nsyms;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcasecmp(m->syms[m->byname[mid]].name, name);
		if (c == 0)
			return (long)m->byname[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* Index of the last symbol with rva <= target, or -1. */
static long sym_floor(const sym_module *m, uint32_t rva)
{
	size_t lo = 0, hi = m->nsyms;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (m->syms[mid].rva <= rva)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (long)lo - 1;
}

static void fill_match(sym_match *out, sym_module *m, const modsym *s)
{
	out->module = m;
	out->name = s->name;
	out->addr = m->base + s->rva;
	out->size = s->size;
	out->type_index = s->ti;
	out->is_code = s->is_code;
	out->is_export = m->pdb == NULL;
}

/* ---- lookups ---- */

static int module_find_symbol(sym_module *m, const char *name, uint64_t *addr)
{
	uint32_t rva;
	if (sym_module_load(m, 0) < 0)
		return SYM_E_NOTFOUND;
	if (m->pdb && pdb_find_symbol(m->pdb, name, &rva) == 0) {
		*addr = m->base + rva;
		return 0;
	}
	if (!m->pdb && m->pe) {
		pe_export ex;
		if (pe_find_export(m->pe, name, &ex) == 0 && ex.rva) {
			*addr = m->base + ex.rva;
			return 0;
		}
	}
	/* Case-insensitive fallback, as WinDbg matches symbols by default. */
	if (build_syms(m) == 0) {
		long i = find_byname(m, name);
		if (i >= 0) {
			*addr = m->base + m->syms[i].rva;
			return 0;
		}
	}
	return SYM_E_NOTFOUND;
}

int sym_modset_lookup(sym_modset *set, const char *name, uint64_t *addr)
{
	const char *bang = strchr(name, '!');
	if (bang) {
		char mod[128];
		size_t ml = (size_t)(bang - name);
		if (ml >= sizeof mod) {
			snprintf(set->err, sizeof set->err, "module name too long");
			return SYM_E_NOTFOUND;
		}
		memcpy(mod, name, ml);
		mod[ml] = 0;
		sym_module *m = sym_modset_find_module(set, mod);
		if (!m) {
			snprintf(set->err, sizeof set->err, "no module named %s", mod);
			return SYM_E_NOTFOUND;
		}
		if (!bang[1]) {
			*addr = m->base;
			return 0;
		}
		if (module_find_symbol(m, bang + 1, addr) == 0)
			return 0;
		snprintf(set->err, sizeof set->err, "couldn't resolve %s", name);
		return SYM_E_NOTFOUND;
	}
	sym_module *m = sym_modset_find_module(set, name);
	if (m) {
		*addr = m->base;
		return 0;
	}
	/* Unqualified: modules whose symbols are loaded first, then the rest. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < set->n; i++) {
			sym_module *mm = set->mods[i];
			int loaded = mm->state != SYM_MOD_DEFERRED;
			if (loaded != (pass == 0))
				continue;
			if (module_find_symbol(mm, name, addr) == 0)
				return 0;
		}
	}
	snprintf(set->err, sizeof set->err, "couldn't resolve %s", name);
	return SYM_E_NOTFOUND;
}

int sym_modset_symbolize(sym_modset *set, uint64_t addr, char *buf, size_t len)
{
	sym_module *m = sym_modset_module_at(set, addr);
	if (!m) {
		snprintf(buf, len, "%" PRIx64, addr);
		return 0;
	}
	uint32_t rva = (uint32_t)(addr - m->base);
	sym_module_load(m, 0);
	const char *name = NULL;
	uint32_t disp = 0;
	if (m->pdb) {
		if (pdb_symbol_at(m->pdb, rva, &name, &disp) < 0)
			name = NULL;
	} else if (m->pe && build_syms(m) == 0) {
		long i = sym_floor(m, rva);
		if (i >= 0) {
			name = m->syms[i].name;
			disp = rva - m->syms[i].rva;
		}
	}
	if (name && disp)
		snprintf(buf, len, "%s!%s+0x%x", m->name, name, disp);
	else if (name)
		snprintf(buf, len, "%s!%s", m->name, name);
	else if (rva)
		snprintf(buf, len, "%s+0x%x", m->name, rva);
	else
		snprintf(buf, len, "%s", m->name);
	return 1;
}

int sym_modset_foreach_match(sym_modset *set, const char *pattern, sym_match_cb cb, void *ctx)
{
	char modpat[128];
	const char *sympat;
	const char *bang = strchr(pattern, '!');
	if (bang) {
		size_t ml = (size_t)(bang - pattern);
		if (ml >= sizeof modpat)
			return SYM_E_INVAL;
		memcpy(modpat, pattern, ml);
		modpat[ml] = 0;
		sympat = bang + 1;
	} else {
		snprintf(modpat, sizeof modpat, "*");
		sympat = pattern;
	}
	if (!sympat[0])
		sympat = "*";
	for (size_t i = 0; i < set->n; i++) {
		sym_module *m = set->mods[i];
		if (!sym_wildcard_match(modpat, m->name))
			continue;
		if (build_syms(m) < 0)
			continue;
		for (size_t j = 0; j < m->nsyms; j++) {
			if (!sym_wildcard_match(sympat, m->syms[j].name))
				continue;
			sym_match mt;
			fill_match(&mt, m, &m->syms[j]);
			int rc = cb(ctx, &mt);
			if (rc)
				return rc;
		}
	}
	return 0;
}

int sym_modset_nearest(sym_modset *set, uint64_t addr, sym_match *before, sym_match *after)
{
	int found = 0;
	memset(before, 0, sizeof *before);
	memset(after, 0, sizeof *after);
	sym_module *m = sym_modset_module_at(set, addr);
	if (m && build_syms(m) == 0) {
		uint32_t rva = (uint32_t)(addr - m->base);
		long i = sym_floor(m, rva);
		if (i >= 0) {
			fill_match(before, m, &m->syms[i]);
			found |= 1;
		}
		if ((size_t)(i + 1) < m->nsyms) {
			fill_match(after, m, &m->syms[i + 1]);
			found |= 2;
		}
	}
	return found;
}
