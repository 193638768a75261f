/*
 * modules.c - the engine's module list: PsLoadedModuleList, load-symbol
 * events and PEB loader lists feed the session's sym_modset; image headers
 * are read from target memory on demand, symbols are deferred until first
 * use (WinDbg's .reload semantics).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "modules.h"
#include "format.h"
#include "symbols/symbols.h"

/* Loop guard for module lists: a corrupt or hostile list must not hang. */
#define MAX_LIST_ENTRIES 4096

struct kd_modules_state {
	sym_path *path;
	int noisy;
	int progress_open;      /* a "\r" progress line is on stderr */
};

static void state_destroy(struct kd_modules_state *st)
{
	if (!st)
		return;
	sym_path_free(st->path);
	free(st);
}

static void on_log(void *ctx, const char *msg)
{
	kd_session *s = ctx;
	struct kd_modules_state *st = kd_session_modules(s);
	if (!st || !st->noisy)
		return;
	/* Messages can quote names from the target or a server. */
	kd_out_untrusted(s, msg, strlen(msg));
	kd_out(s, "\n");
}

/* Download progress goes to the terminal only: it is a live indicator,
 * not output a log or a test should compare. */
static int on_progress(void *ctx, const char *url, uint64_t done, uint64_t total)
{
	kd_session *s = ctx;
	struct kd_modules_state *st = kd_session_modules(s);
	/* Ctrl-C cancels a download, as Ctrl+Break does in WinDbg. */
	int cancel = kd_session_interrupted(s);
	if (!st || !done || !isatty(STDERR_FILENO))
		return cancel;
	const char *name = strrchr(url, '/');
	name = name ? name + 1 : url;
	char safe[128];
	kd_fmt_escape(safe, sizeof safe, name, strlen(name));
	if (total)
		fprintf(stderr, "\rSYMSRV:  %s %" PRIu64 " / %" PRIu64 " KiB", safe, done / 1024,
		        total / 1024);
	else
		fprintf(stderr, "\rSYMSRV:  %s %" PRIu64 " KiB", safe, done / 1024);
	st->progress_open = 1;
	if ((total && done >= total) || cancel) {
		fputc('\n', stderr);
		st->progress_open = 0;
	}
	fflush(stderr);
	return cancel;
}

static struct kd_modules_state *state(kd_session *s)
{
	struct kd_modules_state *st = kd_session_modules(s);
	if (st) {
		/* Someone set the session's path directly (-y after start-up,
		 * a script): follow it. */
		const char *text = kd_session_sympath(s);
		if (text && strcmp(text, sym_path_text(st->path)) != 0 &&
		    sym_path_set(st->path, text) == 0)
			kd_session_set_sympath(s, sym_path_text(st->path));
		return st;
	}
	st = calloc(1, sizeof *st);
	if (!st)
		return NULL;
	const char *text = kd_session_sympath(s);
	if (!text)
		text = getenv("_NT_SYMBOL_PATH");
	char err[256];
	if (sym_path_parse(text ? text : "", &st->path, err, sizeof err) < 0) {
		kd_err(s, "Symbol path ignored: %s\n", err);
		if (sym_path_parse("", &st->path, err, sizeof err) < 0) {
			free(st);
			return NULL;
		}
	}
	sym_path_set_callbacks(st->path, on_progress, on_log, s);
	kd_session_set_modules(s, st, state_destroy);
	return st;
}

/* Target memory for pe_open_read: through the current view, so user-mode
 * images of the process selected with .process are readable too. */
int kd_modules_read_cb(void *ctx, uint64_t addr, void *buf, size_t len, size_t *got)
{
	kd_session *s = ctx;
	kd_target *t = kd_session_target(s);
	*got = 0;
	if (!t || !t->ops || !t->ops->read_virtual)
		return -1;
	int rc = t->ops->read_virtual(t, addr, buf, len, got);
	if (rc < 0 && *got == 0)
		return -1;
	return 0;
}

static sym_modset *modset(kd_session *s)
{
	sym_modset *set = kd_session_symbols(s);
	if (set)
		return set;
	struct kd_modules_state *st = state(s);
	if (!st || sym_modset_create(&set) < 0)
		return NULL;
	sym_modset_set_path(set, st->path);
	sym_modset_set_reader(set, kd_modules_read_cb, s);
	sym_modset_set_log(set, on_log, s);
	kd_session_set_symbols(s, set, sym_modset_destroy);
	return set;
}

struct sym_path *kd_modules_sympath(kd_session *s)
{
	struct kd_modules_state *st = state(s);
	return st ? st->path : NULL;
}

int kd_modules_set_sympath(kd_session *s, const char *text, int append)
{
	struct kd_modules_state *st = state(s);
	if (!st)
		return kd_session_fail(s, KD_E_FAIL, "out of memory");
	int rc = append ? sym_path_append(st->path, text) : sym_path_set(st->path, text);
	if (rc < 0)
		return kd_session_fail(s, KD_E_INVAL, "%s", sym_path_errmsg(st->path));
	kd_session_set_sympath(s, sym_path_text(st->path));
	return 0;
}

void kd_modules_set_noisy(kd_session *s, int noisy)
{
	struct kd_modules_state *st = state(s);
	if (st)
		st->noisy = noisy;
}

int kd_modules_noisy(kd_session *s)
{
	struct kd_modules_state *st = state(s);
	return st ? st->noisy : 0;
}

struct sym_modset *kd_modules_set(kd_session *s) { return modset(s); }

struct pdb *kd_modules_pdb(kd_session *s, const char *module)
{
	sym_modset *set = modset(s);
	sym_module *m = set ? sym_modset_find_module(set, module) : NULL;
	return m ? (struct pdb *)sym_module_pdb(m) : NULL;
}

uint64_t kd_modules_base(kd_session *s, const char *module)
{
	sym_modset *set = modset(s);
	sym_module *m = set ? sym_modset_find_module(set, module) : NULL;
	return m ? sym_module_base(m) : 0;
}

int kd_symbolize(kd_session *s, uint64_t addr, char *buf, size_t len)
{
	sym_modset *set = kd_session_symbols(s);
	if (set && sym_modset_symbolize(set, addr, buf, len) > 0)
		return 1;
	kd_target *t = kd_session_target(s);
	kd_fmt_addr(buf, len, t ? kd_ptr_size(t) : 8, addr);
	return 0;
}

/* ---- reading loader structures ---- */

/* Offsets inside a loader entry (_KLDR_DATA_TABLE_ENTRY or
 * _LDR_DATA_TABLE_ENTRY, same layout for these fields). */
typedef struct ldr_offsets {
	uint32_t dll_base, size_of_image, base_name;
	uint32_t timestamp;     /* 0: unknown (the field moved between builds) */
	uint32_t full_name;     /* FullDllName, for lmv's "Image path" */
} ldr_offsets;

/* Before nt's PDB is loaded: the layout every x64/x86 NT kernel since
 * Windows XP shares (DllBase, SizeOfImage, BaseDllName). */
static const ldr_offsets ldr_x64 = { 0x30, 0x40, 0x58, 0, 0x48 };
static const ldr_offsets ldr_x86 = { 0x18, 0x20, 0x2c, 0, 0x24 };

static int pdb_offset(pdb_file *pdb, const char *type, const char *field, uint32_t *off)
{
	uint32_t ti;
	uint64_t o;
	if (!pdb || pdb_find_type(pdb, type, &ti) < 0 || pdb_type_field(pdb, ti, field, &o, NULL) < 0)
		return -1;
	*off = (uint32_t)o;
	return 0;
}

static pdb_file *loaded_nt_pdb(kd_session *s)
{
	sym_modset *set = modset(s);
	sym_module *nt = set ? sym_modset_find_module(set, "nt") : NULL;
	if (!nt || sym_module_get_state(nt) != SYM_MOD_PDB)
		return NULL;
	return sym_module_pdb(nt);
}

static void entry_offsets(kd_session *s, const char *type, ldr_offsets *o)
{
	kd_target *t = kd_session_target(s);
	*o = kd_ptr_size(t) == 4 ? ldr_x86 : ldr_x64;
	pdb_file *pdb = loaded_nt_pdb(s);
	ldr_offsets p;
	if (pdb && pdb_offset(pdb, type, "DllBase", &p.dll_base) == 0 &&
	    pdb_offset(pdb, type, "SizeOfImage", &p.size_of_image) == 0 &&
	    pdb_offset(pdb, type, "BaseDllName", &p.base_name) == 0) {
		if (pdb_offset(pdb, type, "TimeDateStamp", &p.timestamp) < 0)
			p.timestamp = 0;
		if (pdb_offset(pdb, type, "FullDllName", &p.full_name) < 0)
			p.full_name = o->full_name;
		*o = p;
	}
}

static uint64_t le_get(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* A pointer from a buffer of target bytes; x86 kernel pointers are
 * sign-extended as kd_read_ptr does. */
static uint64_t ptr_get(const uint8_t *p, unsigned ps)
{
	return ps == 8 ? le_get(p, 8) : (uint64_t)(int64_t)(int32_t)(uint32_t)le_get(p, 4);
}

/* The characters of a UNICODE_STRING (length, buffer) -> ASCII (others
 * become '?'; the name is sanitized again before it names anything). */
static int read_unicode_chars(kd_target *t, uint64_t buf, size_t bytes, char *out, size_t outlen)
{
	uint8_t w[1024];
	out[0] = 0;
	if (bytes / 2 >= outlen)
		bytes = (outlen - 1) * 2;
	if (bytes > sizeof w)
		bytes = sizeof w;
	bytes &= ~(size_t)1;
	if (bytes && kd_read(t, buf, w, bytes) < 0)
		return -1;
	size_t n = 0;
	for (size_t i = 0; i + 1 < bytes && n + 1 < outlen; i += 2) {
		unsigned c = (unsigned)(w[i] | w[i + 1] << 8);
		if (c == 0)
			break;
		out[n++] = c < 0x80 ? (char)c : '?';
	}
	out[n] = 0;
	return 0;
}

typedef int (*entry_fn)(kd_session *s, uint64_t base, uint32_t size, uint32_t timestamp,
                        const char *name, void *ctx);

/* Walk a LIST_ENTRY list of loader entries whose links are at offset
 * link_off in each entry. */
static int walk_ldr_list(kd_session *s, uint64_t head, uint32_t link_off, const ldr_offsets *o,
                         entry_fn fn, void *ctx)
{
	kd_target *t = kd_session_target(s);
	uint64_t link;
	int count = 0;
	if (kd_read_ptr(t, head, &link) < 0)
		return kd_session_fail(s, KD_E_FAIL, "cannot read the module list head at %016" PRIx64
		                       ": %s", head, kd_target_errmsg(t));
	while (link && link != head) {
		if (count >= MAX_LIST_ENTRIES)
			return kd_session_fail(s, KD_E_FAIL, "module list longer than %d entries: corrupt?",
			                       MAX_LIST_ENTRIES);
		if (kd_session_interrupted(s))
			return kd_session_fail(s, KD_E_INTR, "interrupted");
		/* One read for the whole entry and one for the name: module
		 * lists are walked at every attach, over a slow serial link. */
		uint64_t entry = link - link_off;
		uint8_t e[0x400];
		unsigned ps = kd_ptr_size(t);
		size_t span = 0;
		const uint32_t ends[] = { o->dll_base + ps, o->size_of_image + 4, o->base_name + 2 * ps,
		                          o->timestamp + 4, link_off + ps, o->full_name + 2 * ps };
		for (size_t i = 0; i < sizeof ends / sizeof ends[0]; i++)
			if (ends[i] > span)
				span = ends[i];
		if (span > sizeof e)
			return kd_session_fail(s, KD_E_FAIL, "loader entry offsets out of range");
		if (kd_read(t, entry, e, span) < 0)
			return kd_session_fail(s, KD_E_FAIL, "cannot read loader entry at %016" PRIx64 ": %s",
			                       entry, kd_target_errmsg(t));
		uint64_t base = ptr_get(e + o->dll_base, ps);
		uint32_t size = (uint32_t)le_get(e + o->size_of_image, 4);
		/* The full path when there is one ("\\SystemRoot\\system32\\
		 * drivers\\x.sys": the module set keeps its basename as the
		 * image name), else the base name. */
		char name[512];
		size_t full_bytes = (size_t)le_get(e + o->full_name, 2);
		uint64_t full_buf = ptr_get(e + o->full_name + (ps == 8 ? 8 : 4), ps);
		if (!full_bytes || read_unicode_chars(t, full_buf, full_bytes, name, sizeof name) < 0 ||
		    !name[0]) {
			size_t name_bytes = (size_t)le_get(e + o->base_name, 2);
			uint64_t name_buf = ptr_get(e + o->base_name + (ps == 8 ? 8 : 4), ps);
			if (read_unicode_chars(t, name_buf, name_bytes, name, sizeof name) < 0)
				name[0] = 0;   /* nameless, as a paged-out name reads */
		}
		uint32_t ts = o->timestamp ? (uint32_t)le_get(e + o->timestamp, 4) : 0;
		if (base && size) {
			int rc = fn(s, base, size, ts, name, ctx);
			if (rc < 0)
				return rc;
		}
		count++;
		link = ptr_get(e + link_off, ps);
	}
	return count;
}

static int add_kernel_module(kd_session *s, uint64_t base, uint32_t size, uint32_t timestamp,
                             const char *name, void *ctx)
{
	sym_module *m;
	(void)ctx;
	kd_target *t = kd_session_live(s) ? kd_session_live(s) : kd_session_target(s);
	sym_modset *set = modset(s);
	/* The kernel is "nt" whatever its file is called. */
	const char *modname = base == t->version.kern_base ? "nt" : NULL;
	if (sym_modset_add(set, modname, name[0] ? name : NULL, base, size, &m) < 0)
		return -1;
	sym_module_set_image_info(m, timestamp, 0);
	return 0;
}

/* nt at KernBase even when the list cannot be read (early boot). */
static void ensure_nt(kd_session *s)
{
	kd_target *t = kd_session_live(s) ? kd_session_live(s) : kd_session_target(s);
	sym_modset *set = modset(s);
	uint64_t kb = t ? t->version.kern_base : 0;
	if (!kb || !set || sym_modset_module_at(set, kb))
		return;
	pe_image *pe;
	char e[128];
	if (pe_open_read(kd_modules_read_cb, s, kb, &pe, e, sizeof e) < 0)
		return;
	uint32_t size = pe_size_of_image(pe);
	pe_close(pe);
	sym_modset_add(set, "nt", "ntoskrnl.exe", kb, size, NULL);
}

int kd_modules_reload(kd_session *s)
{
	sym_modset *set = modset(s);
	kd_target *t = kd_session_live(s) ? kd_session_live(s) : kd_session_target(s);
	if (!set || !t)
		return kd_session_fail(s, KD_E_FAIL, "no target");
	/* Offsets from nt's PDB if it is loaded, before the set is reset. */
	ldr_offsets o;
	entry_offsets(s, "_KLDR_DATA_TABLE_ENTRY", &o);
	uint64_t head = t->version.ps_loaded_module_list;
	/* Keep user modules: .reload alone is about the kernel list. */
	size_t n = sym_modset_count(set);
	for (size_t i = n; i-- > 0;) {
		sym_module *m = sym_modset_at(set, i);
		if (!sym_module_is_user(m))
			sym_modset_remove(set, sym_module_base(m));
	}
	int rc = head ? walk_ldr_list(s, head, 0, &o, add_kernel_module, NULL) : 0;
	ensure_nt(s);
	if (rc < 0)
		return rc;
	return (int)sym_modset_count(set);
}

static int add_user_module(kd_session *s, uint64_t base, uint32_t size, uint32_t timestamp,
                           const char *name, void *ctx)
{
	(void)ctx;
	sym_module *m;
	if (sym_modset_add(modset(s), NULL, name[0] ? name : NULL, base, size, &m) < 0)
		return -1;
	sym_module_set_image_info(m, timestamp, 0);
	sym_module_set_user(m, 1);
	return 0;
}

int kd_modules_load_user(kd_session *s, uint64_t eprocess)
{
	kd_target *t = kd_session_target(s);
	sym_modset *set = modset(s);
	if (!t || !set)
		return kd_session_fail(s, KD_E_FAIL, "no target");
	unsigned ps = kd_ptr_size(t);
	/* EPROCESS.Peb moves between builds: only the PDB knows it. */
	pdb_file *nt = kd_modules_pdb(s, "nt");
	uint32_t peb_off, ldr_off = ps == 8 ? 0x18 : 0x0c, list_off = ps == 8 ? 0x10 : 0x0c;
	if (pdb_offset(nt, "_EPROCESS", "Peb", &peb_off) < 0)
		return kd_session_fail(s, KD_E_FAIL, "nt symbols with _EPROCESS.Peb are needed for user modules");
	pdb_offset(nt, "_PEB", "Ldr", &ldr_off);
	pdb_offset(nt, "_PEB_LDR_DATA", "InLoadOrderModuleList", &list_off);
	ldr_offsets o;
	entry_offsets(s, "_LDR_DATA_TABLE_ENTRY", &o);
	sym_modset_clear_user(set);
	uint64_t peb, ldr;
	if (kd_read_ptr(t, eprocess + peb_off, &peb) < 0)
		return kd_session_fail(s, KD_E_FAIL, "cannot read EPROCESS.Peb: %s", kd_target_errmsg(t));
	if (!peb)
		return 0;   /* the System process and friends have no PEB */
	if (kd_read_ptr(t, peb + ldr_off, &ldr) < 0)
		return kd_session_fail(s, KD_E_FAIL, "cannot read PEB.Ldr at %016" PRIx64
		                       " (is the process context set with .process /p?)", peb + ldr_off);
	if (!ldr)
		return 0;
	return walk_ldr_list(s, ldr + list_off, 0, &o, add_user_module, NULL);
}

/* ---- engine hooks ---- */

void kd_modules_on_attach(kd_session *s)
{
	if (!modset(s))
		return;
	if (kd_modules_reload(s) < 0 && kd_modules_noisy(s))
		kd_err(s, "%s\n", kd_session_errmsg(s));
}

void kd_modules_on_event(kd_session *s, const kd_event *ev)
{
	sym_modset *set = modset(s);
	if (!set)
		return;
	if (ev->kind == KD_EV_RECONNECTED) {
		kd_modules_on_attach(s);
		return;
	}
	if (ev->kind != KD_EV_LOAD_SYMBOLS)
		return;
	if (ev->unload) {
		sym_modset_remove(set, ev->base);
		return;
	}
	char path[KD_MAX_TEXT + 1];
	size_t n = ev->text_len < KD_MAX_TEXT ? ev->text_len : KD_MAX_TEXT;
	memcpy(path, ev->text, n);
	path[n] = 0;
	sym_module *old = sym_modset_module_at(set, ev->base);
	/* The same image reported again (the boot-time nt report after the
	 * list walk): keep it and whatever symbols it has. */
	if (old && sym_module_base(old) == ev->base && sym_module_size(old) == ev->image_size)
		return;
	kd_target *t = kd_session_live(s) ? kd_session_live(s) : kd_session_target(s);
	const char *modname = t && ev->base == t->version.kern_base ? "nt" : NULL;
	sym_module *m;
	if (sym_modset_add(set, modname, path, ev->base, ev->image_size, &m) == 0) {
		sym_module_set_image_info(m, 0, ev->checksum);
		if (kd_modules_noisy(s))
			kd_out(s, "DBGENG:  %s - loaded at %016" PRIx64 "\n", sym_module_name(m), ev->base);
	}
}
