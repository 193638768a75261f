/*
 * cmd_symbols.c - the symbol commands in WinDbg's shapes: .reload,
 * .sympath[+], .symfix[+], !sym, ld, lm, x, ln.  dt lives in
 * cmd_symbols_dt.c.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "cmd_symbols.h"
#include "format.h"
#include "modules.h"
#include "nt_state.h"
#include "symbols/symbols.h"

int kd_sym_split(const char *args, char tok[][256], int max)
{
	int n = 0;
	const char *p = args ? args : "";
	while (*p && n < max) {
		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		size_t l = 0;
		while (p[l] && !isspace((unsigned char)p[l]))
			l++;
		snprintf(tok[n], 256, "%.*s", (int)(l < 255 ? l : 255), p);
		n++;
		p += l;
	}
	return n;
}

unsigned kd_sym_ptr_size(kd_session *s)
{
	kd_target *t = kd_session_target(s);
	return t ? kd_ptr_size(t) : 8;
}

const char *kd_sym_addr(kd_session *s, uint64_t v, char buf[32])
{
	kd_fmt_addr(buf, 32, kd_sym_ptr_size(s), v);
	return buf;
}

/* Print a symbol-ish name: names come from PDBs and the target.  Unlike
 * kd_out_untrusted, newlines and tabs are escaped too: a name must stay on
 * its line so it cannot forge the next line of output. */
void kd_sym_out_name(kd_session *s, const char *text)
{
	char buf[512];
	size_t n = 0;
	for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
		if (n + 5 > sizeof buf) {
			kd_out(s, "%.*s", (int)n, buf);
			n = 0;
		}
		if (*c >= 0x20 && *c < 0x7f) {
			buf[n++] = (char)*c;
		} else {
			snprintf(buf + n, 5, "\\x%02x", *c);
			n += 4;
		}
	}
	kd_out(s, "%.*s", (int)n, buf);
}

static const char *trim_args(const char *a)
{
	while (a && isspace((unsigned char)*a))
		a++;
	return a ? a : "";
}

/* ---- .sympath, .symfix, !sym ---- */

static void print_sympath(kd_session *s)
{
	sym_path *p = kd_modules_sympath(s);
	const char *t = p ? sym_path_text(p) : "";
	kd_out(s, "Symbol search path is: %s\n", t[0] ? t : "<empty>");
	kd_out(s, "Expanded Symbol search path is: %s\n", t[0] ? t : "<empty>");
	if (!t[0])
		kd_out(s, "WARNING: no symbol path; try .symfix to use the public symbol server\n");
}

/* After a change, WinDbg checks each element: local directories now,
 * stores and servers when first used ("Deferred"). */
static void print_validation(kd_session *s)
{
	sym_path *p = kd_modules_sympath(s);
	if (!p || !sym_path_element_count(p))
		return;
	kd_out(s, "\n************* Path validation summary **************\n");
	kd_out(s, "%-33s%-14s%s\n", "Response", "Time (ms)", "Location");
	for (size_t i = 0; i < sym_path_element_count(p); i++) {
		const char *resp = "Deferred";
		char loc[4200];
		if (sym_path_element_kind(p, i) == SYM_ELEM_DIR) {
			struct stat st;
			resp = stat(sym_path_element_store(p, i, 0), &st) == 0 && S_ISDIR(st.st_mode) ? "OK"
			                                                                             : "Error";
			snprintf(loc, sizeof loc, "%s", sym_path_element_store(p, i, 0));
		} else if (sym_path_element_kind(p, i) == SYM_ELEM_CACHE) {
			snprintf(loc, sizeof loc, "cache*%s", sym_path_element_store(p, i, 0));
		} else {
			size_t n = (size_t)snprintf(loc, sizeof loc, "srv");
			for (size_t j = 0; j < sym_path_element_store_count(p, i) && n < sizeof loc; j++)
				n += (size_t)snprintf(loc + n, sizeof loc - n, "*%s",
				                      sym_path_element_store(p, i, j));
		}
		kd_out(s, "%-47s", resp);
		kd_sym_out_name(s, loc);
		kd_out(s, "\n");
	}
}

static int cmd_sympath(kd_session *s, const char *name, const char *args)
{
	const char *a = trim_args(args);
	int append = strcmp(name, ".sympath+") == 0;
	if (a[0] || append) {
		char text[4096];
		snprintf(text, sizeof text, "%s", a);
		size_t l = strlen(text);
		while (l && isspace((unsigned char)text[l - 1]))
			text[--l] = 0;
		if (kd_modules_set_sympath(s, text, append) < 0) {
			kd_err(s, "%s\n", kd_session_errmsg(s));
			return -1;
		}
		print_sympath(s);
		print_validation(s);
		return 0;
	}
	print_sympath(s);
	return 0;
}

static int cmd_symfix(kd_session *s, const char *name, const char *args)
{
	char tok[2][256], text[4096];
	int n = kd_sym_split(args, tok, 2);
	if (sym_path_symfix_text(n ? tok[0] : NULL, text, sizeof text) < 0) {
		kd_err(s, "cannot build the default symbol path\n");
		return -1;
	}
	if (kd_modules_set_sympath(s, text, strcmp(name, ".symfix+") == 0) < 0) {
		kd_err(s, "%s\n", kd_session_errmsg(s));
		return -1;
	}
	print_sympath(s);
	print_validation(s);
	return 0;
}

static int cmd_sym(kd_session *s, const char *name, const char *args)
{
	char tok[2][256];
	(void)name;
	int n = kd_sym_split(args, tok, 2);
	if (n == 1 && strcasecmp(tok[0], "noisy") == 0)
		kd_modules_set_noisy(s, 1);
	else if (n == 1 && strcasecmp(tok[0], "quiet") == 0)
		kd_modules_set_noisy(s, 0);
	else if (n != 0) {
		kd_err(s, "usage: !sym noisy | quiet\n");
		return -1;
	}
	kd_out(s, "%s mode - symbol prompts on\n", kd_modules_noisy(s) ? "noisy" : "quiet");
	return 0;
}

/* ---- .reload, ld ---- */

static const char *state_text(sym_module_state st)
{
	static const char *const names[] = {
		[SYM_MOD_DEFERRED] = "deferred",
		[SYM_MOD_PDB] = "pdb symbols",
		[SYM_MOD_EXPORT] = "export symbols",
		[SYM_MOD_NONE] = "no symbols",
	};
	return (unsigned)st < sizeof names / sizeof names[0] ? names[st] : "?";
}

/* Load one module's symbols now and report a failure the way WinDbg does. */
static int load_now(kd_session *s, sym_module *m)
{
	sym_module_load(m, 1);
	sym_module_state st = sym_module_get_state(m);
	if (st == SYM_MOD_PDB)
		return 0;
	kd_out(s, "*** WARNING: Unable to verify checksum for ");
	kd_sym_out_name(s, sym_module_image_name(m));
	kd_out(s, "\n*** ERROR: Symbol file could not be found.  Defaulted to %s for ",
	       st == SYM_MOD_EXPORT ? "export symbols" : "no symbols");
	kd_sym_out_name(s, sym_module_image_name(m));
	kd_out(s, " - \n");
	if (sym_module_errmsg(m)[0]) {
		kd_out(s, "    (");
		kd_sym_out_name(s, sym_module_errmsg(m));
		kd_out(s, ")\n");
	}
	return 0;
}

/* Current process for .reload /user: KTHREAD.ApcState.Process of the
 * thread running on the current processor (offsets from nt's PDB). */
static int current_process(kd_session *s, uint64_t *eprocess)
{
	kd_target *t = kd_session_live(s);
	struct pdb *nt = kd_modules_pdb(s, "nt");
	uint64_t thread, off;
	uint32_t ti;
	if (!t || !t->ops->read_control_pointer)
		return -1;
	if (!nt || pdb_find_type(nt, "_KTHREAD", &ti) < 0 ||
	    (pdb_type_field(nt, ti, "ApcState.Process", &off, NULL) < 0 &&
	     pdb_type_field(nt, ti, "Process", &off, NULL) < 0))
		return kd_session_fail(s, KD_E_FAIL, "nt symbols are needed to find the current process");
	if (t->ops->read_control_pointer(t, kd_session_cpu(s), 3, &thread) < 0 ||
	    kd_read_ptr(kd_session_target(s), thread + off, eprocess) < 0)
		return kd_session_fail(s, KD_E_FAIL, "cannot read the current thread's process");
	return 0;
}

static int cmd_reload(kd_session *s, const char *name, const char *args)
{
	char tok[8][256];
	int n = kd_sym_split(args, tok, 8);
	int force = 0, user = 0, unload = 0;
	const char *target = NULL;
	(void)name;
	for (int i = 0; i < n; i++) {
		if (tok[i][0] == '/' || tok[i][0] == '-') {
			const char *o = tok[i] + 1;
			if (strcasecmp(o, "f") == 0)
				force = 1;
			else if (strcasecmp(o, "user") == 0)
				user = 1;
			else if (strcasecmp(o, "u") == 0)
				unload = 1;
			else if (strcasecmp(o, "v") == 0 || strcasecmp(o, "n") == 0 ||
			         strcasecmp(o, "i") == 0)
				; /* accepted: verbose / no user / ignore mismatches */
			else {
				kd_err(s, "usage: .reload [/f] [/user] [/u] [module]\n");
				return -1;
			}
		} else {
			target = tok[i];
		}
	}
	sym_modset *set = kd_modules_set(s);
	if (!set) {
		kd_err(s, "out of memory\n");
		return -1;
	}
	if (target && strchr(target, '=')) {
		/* ".reload foo.sys=fffff800`12340000,5000": a module the lists do
		 * not show (WinDbg's way to add one by hand). */
		char img[256];
		const char *eq = strchr(target, '=');
		const char *comma = strchr(eq, ',');
		uint64_t base = 0, size = 0;
		snprintf(img, sizeof img, "%.*s", (int)(eq - target), target);
		char basetext[128];
		snprintf(basetext, sizeof basetext, "%.*s", comma ? (int)(comma - eq - 1) : 127, eq + 1);
		if (kd_eval(s, basetext, &base, NULL) < 0 ||
		    (comma && kd_eval(s, comma + 1, &size, NULL) < 0)) {
			kd_err(s, "%s\n", kd_session_errmsg(s));
			return -1;
		}
		sym_module *m;
		if (!size) {
			/* no size given: the image headers know it */
			pe_image *pe;
			char e[128];
			kd_target *t = kd_session_target(s);
			if (t && pe_open_read(kd_modules_read_cb, s, base, &pe, e, sizeof e) == 0) {
				size = pe_size_of_image(pe);
				pe_close(pe);
			}
		}
		if (!size || size > 0xffffffffu || sym_modset_add(set, NULL, img, base, (uint32_t)size, &m) < 0) {
			kd_err(s, "cannot add %s: need a size (name=base,size)\n", img);
			return -1;
		}
		return force ? load_now(s, m) : 0;
	}
	if (target) {
		/* ".reload /f nt" or ".reload /f ntoskrnl.exe" */
		sym_module *m = sym_modset_find_module(set, target);
		if (!m) {
			kd_err(s, "Module %s not found in the loaded module list\n", target);
			return -1;
		}
		if (unload) {
			sym_module_unload(m);
			kd_out(s, "Unloaded %s symbols\n", sym_module_name(m));
			return 0;
		}
		if (force)
			return load_now(s, m);
		sym_module_unload(m);
		return 0;
	}
	if (user) {
		/* The process .process chose (K's implicit process), else the
		 * current thread's, as WinDbg does. */
		uint64_t ep = nt_default_process(s);
		kd_out(s, "Loading User Symbols\n");
		if ((!ep && current_process(s, &ep) < 0) || kd_modules_load_user(s, ep) < 0) {
			kd_err(s, "%s\n", kd_session_errmsg(s));
			return -1;
		}
	} else {
		kd_out(s, "Loading Kernel Symbols\n");
		if (kd_modules_reload(s) < 0) {
			kd_err(s, "%s\n", kd_session_errmsg(s));
			return -1;
		}
	}
	if (force) {
		for (size_t i = 0; i < sym_modset_count(set); i++) {
			sym_module *m = sym_modset_at(set, i);
			if (user != sym_module_is_user(m))
				continue;
			if (kd_session_interrupted(s))
				break;
			load_now(s, m);
		}
	}
	return 0;
}

static int cmd_ld(kd_session *s, const char *name, const char *args)
{
	char tok[1][256];
	(void)name;
	if (kd_sym_split(args, tok, 1) != 1) {
		kd_err(s, "usage: ld module\n");
		return -1;
	}
	sym_modset *set = kd_modules_set(s);
	int found = 0;
	for (size_t i = 0; set && i < sym_modset_count(set); i++) {
		sym_module *m = sym_modset_at(set, i);
		if (!sym_wildcard_match(tok[0], sym_module_name(m)))
			continue;
		found = 1;
		load_now(s, m);
		kd_out(s, "Symbols loaded for %s\n", sym_module_name(m));
	}
	if (!found) {
		kd_err(s, "Module %s not found\n", tok[0]);
		return -1;
	}
	return 0;
}

/* ---- lm ---- */

static void lm_header(kd_session *s)
{
	if (kd_sym_ptr_size(s) == 4)
		kd_out(s, "start    end        module name\n");
	else
		kd_out(s, "start             end                 module name\n");
}
/* The RSDS record of a module's image, if it has one: GUID text and age,
 * and the PDB name the image claims (untrusted: sanitized, or a
 * "<refused: why>" note).  1 if found, else 0. */
static int module_rsds(sym_module *m, char g[40], char *pdbname, size_t len, uint32_t *age)
{
	pe_codeview_info cv;
	if (sym_module_codeview(m, &cv) != 0 || !cv.is_rsds)
		return 0;
	char e[64];
	sym_guid_format(cv.guid, g);
	if (sym_name_sanitize(cv.pdb_name, pdbname, len, e, sizeof e) < 0)
		snprintf(pdbname, len, "<refused: %s>", e);
	*age = cv.age;
	return 1;
}


static void lm_line(kd_session *s, sym_module *m, int verbose)
{
	char a[32], b[32], st[40], line[256];
	sym_module_state state = sym_module_get_state(m);
	snprintf(st, sizeof st, "(%s)", state_text(state));
	snprintf(line, sizeof line, "%s %s   %-8s   ", kd_sym_addr(s, sym_module_base(m), a),
	         kd_sym_addr(s, sym_module_base(m) + sym_module_size(m), b), sym_module_name(m));
	kd_out(s, "%s", line);
	if (state == SYM_MOD_PDB) {
		kd_out(s, "%-23s", st);
		kd_sym_out_name(s, sym_module_pdb_path(m));
	} else if (state == SYM_MOD_EXPORT) {
		kd_out(s, "%-23s", st);
		kd_sym_out_name(s, sym_module_image_name(m));
	} else {
		kd_out(s, "%s", st);
	}
	kd_out(s, "\n");
	if (!verbose)
		return;
	uint32_t ts = sym_module_timestamp(m), cs = sym_module_checksum(m);
	kd_out(s, "    Loaded symbol image file: ");
	kd_sym_out_name(s, sym_module_image_name(m));
	kd_out(s, "\n    Image path: ");
	kd_sym_out_name(s, sym_module_image_path(m));
	kd_out(s, "\n    Image name: ");
	kd_sym_out_name(s, sym_module_image_name(m));
	kd_out(s, "\n");
	time_t tt = (time_t)ts;
	struct tm tm;
	char when[64] = "unavailable";
	if (ts && gmtime_r(&tt, &tm))
		strftime(when, sizeof when, "%a %b %d %H:%M:%S %Y", &tm);
	kd_out(s, "    Timestamp:        %s (%08X)\n", when, ts);
	kd_out(s, "    CheckSum:         %08X\n", cs);
	kd_out(s, "    ImageSize:        %08X\n", sym_module_size(m));
	char g[40], pdbname[260];
	uint32_t age;
	if (module_rsds(m, g, pdbname, sizeof pdbname, &age)) {
		kd_out(s, "    PDB:              ");
		kd_sym_out_name(s, pdbname);
		kd_out(s, " %s age %u\n", g, age);
	}
	if (state != SYM_MOD_PDB && sym_module_errmsg(m)[0]) {
		kd_out(s, "    Symbol error:     ");
		kd_sym_out_name(s, sym_module_errmsg(m));
		kd_out(s, "\n");
	}
}

static int cmd_lm(kd_session *s, const char *name, const char *args)
{
	/* "lm", "lmv", "lm v", "lmvm nt", "lm vm nt*", "lm m pat", "lm o",
	 * "lm a addr": option letters may be glued to the command. */
	char tok[8][256];
	int n = kd_sym_split(args, tok, 8);
	char opts[64] = "";
	const char *pattern = NULL;
	const char *addr_text = NULL;
	int i = 0;
	if (strlen(name) > 2)
		snprintf(opts, sizeof opts, "%s", name + 2);
	/* Command word may arrive as "lm" with "vm nt" in args. */
	for (; i < n; i++) {
		if (pattern == NULL && strspn(tok[i], "vmoflsuea") == strlen(tok[i]) &&
		    !strchr(opts, 'm') && !strchr(opts, 'a')) {
			strncat(opts, tok[i], sizeof opts - strlen(opts) - 1);
			continue;
		}
		if (strchr(opts, 'm') && !pattern) {
			pattern = tok[i];
			continue;
		}
		if (strchr(opts, 'a') && !addr_text) {
			addr_text = tok[i];
			continue;
		}
		kd_err(s, "usage: lm [v] [o] [m pattern] [a address]\n");
		return -1;
	}
	int verbose = strchr(opts, 'v') != NULL;
	int only_loaded = strchr(opts, 'o') != NULL;
	uint64_t addr = 0;
	if (addr_text && kd_eval(s, addr_text, &addr, NULL) < 0) {
		kd_err(s, "%s\n", kd_session_errmsg(s));
		return -1;
	}
	sym_modset *set = kd_modules_set(s);
	lm_header(s);
	for (size_t k = 0; set && k < sym_modset_count(set); k++) {
		sym_module *m = sym_modset_at(set, k);
		if (pattern && !sym_wildcard_match(pattern, sym_module_name(m)))
			continue;
		if (addr_text && !(addr >= sym_module_base(m) &&
		                   addr - sym_module_base(m) < sym_module_size(m)))
			continue;
		if (only_loaded && sym_module_get_state(m) == SYM_MOD_DEFERRED)
			continue;
		lm_line(s, m, verbose);
	}
	return 0;
}

/* !lmi module: what is known about one module and its symbols. */
static int cmd_lmi(kd_session *s, const char *name, const char *args)
{
	char tok[1][256], a[32];
	(void)name;
	sym_modset *set = kd_modules_set(s);
	sym_module *m = NULL;
	if (kd_sym_split(args, tok, 1) == 1 && set) {
		m = sym_modset_find_module(set, tok[0]);
		uint64_t addr;
		if (!m && kd_eval(s, tok[0], &addr, NULL) == 0)
			m = sym_modset_module_at(set, addr);
	}
	if (!m) {
		kd_err(s, "usage: !lmi module (name or an address inside it)\n");
		return -1;
	}
	sym_module_load(m, 0);
	pe_image *pe = sym_module_pe(m);
	kd_out(s, "Loaded Module Info: [");
	kd_sym_out_name(s, sym_module_name(m));
	kd_out(s, "]\n         Module: ");
	kd_sym_out_name(s, sym_module_name(m));
	kd_out(s, "\n   Base Address: %s\n     Image Name: ", kd_sym_addr(s, sym_module_base(m), a));
	kd_sym_out_name(s, sym_module_image_name(m));
	kd_out(s, "\n");
	if (pe) {
		uint16_t mt = pe_machine(pe);
		kd_out(s, "   Machine Type: %u (%s)\n", mt,
		       mt == PE_MACHINE_AMD64 ? "X64" : mt == PE_MACHINE_I386 ? "I386" : "?");
	}
	kd_out(s, "     Time Stamp: %08x\n           Size: %x\n       CheckSum: %x\n",
	       sym_module_timestamp(m), sym_module_size(m), sym_module_checksum(m));
	char g[40], pdbname[260];
	uint32_t age;
	if (module_rsds(m, g, pdbname, sizeof pdbname, &age)) {
		kd_out(s, "Debug Data Dirs: CODEVIEW RSDS - GUID: %s\n               Age: %u, Pdb: ", g,
		       age);
		kd_sym_out_name(s, pdbname);
		kd_out(s, "\n");
	}
	kd_out(s, "     Image Type: %s\n", pe ? "MEMORY   - Image read successfully from loaded memory."
	                                       : "DEFERRED - Image headers not read.");
	sym_module_state st = sym_module_get_state(m);
	if (st == SYM_MOD_PDB) {
		kd_out(s, "    Symbol Type: PDB      - Symbols loaded successfully.\n                 ");
		kd_sym_out_name(s, sym_module_pdb_path(m));
		kd_out(s, "\n");
	} else {
		kd_out(s, "    Symbol Type: %s\n", st == SYM_MOD_EXPORT ? "EXPORT   - PDB not found"
		                                                      : "NONE     - no symbols");
		if (sym_module_errmsg(m)[0]) {
			kd_out(s, "    Load Report: ");
			kd_sym_out_name(s, sym_module_errmsg(m));
			kd_out(s, "\n");
		}
	}
	return 0;
}

/* ---- x ---- */

struct x_ctx {
	kd_session *s;
	size_t count;
};

static int x_one(void *ctx, const sym_match *m)
{
	struct x_ctx *c = ctx;
	char a[32];
	if (kd_session_interrupted(c->s))
		return 1;
	kd_out(c->s, "%s ", kd_sym_addr(c->s, m->addr, a));
	kd_sym_out_name(c->s, sym_module_name(m->module));
	kd_out(c->s, "!");
	kd_sym_out_name(c->s, m->name);
	char val[512];
	pdb_file *pdb = m->is_export ? NULL : sym_module_pdb(m->module);
	if (m->is_code)
		kd_out(c->s, " (<no parameter info>)\n");
	else if (pdb && m->type_index &&
	         kd_sym_value_at(c->s, pdb, m->type_index, m->addr, val, sizeof val) == 0) {
		kd_out(c->s, " = ");
		kd_sym_out_name(c->s, val);
		kd_out(c->s, "\n");
	} else
		kd_out(c->s, " = <no type information>\n");
	c->count++;
	return 0;
}

static int cmd_x(kd_session *s, const char *name, const char *args)
{
	char tok[4][256];
	(void)name;
	int n = kd_sym_split(args, tok, 4);
	const char *pat = NULL;
	for (int i = 0; i < n; i++)
		if (tok[i][0] != '/')
			pat = tok[i];   /* /v /t /n options accepted, ignored */
	if (!pat) {
		kd_err(s, "usage: x module!pattern\n");
		return -1;
	}
	sym_modset *set = kd_modules_set(s);
	struct x_ctx c = { s, 0 };
	int rc = set ? sym_modset_foreach_match(set, pat, x_one, &c) : -1;
	if (rc < 0) {
		kd_err(s, "Couldn't resolve '%s'\n", pat);
		return -1;
	}
	return 0;
}

/* ---- ln ---- */

static int cmd_ln(kd_session *s, const char *name, const char *args)
{
	uint64_t addr;
	(void)name;
	const char *a = trim_args(args);
	if (!a[0]) {
		kd_context ctx;
		if (kd_session_get_context(s, &ctx) < 0) {
			kd_err(s, "usage: ln address\n");
			return -1;
		}
		addr = kd_context_pc(&ctx);
	} else if (kd_eval(s, a, &addr, NULL) < 0) {
		kd_err(s, "%s\n", kd_session_errmsg(s));
		return -1;
	}
	sym_modset *set = kd_modules_set(s);
	sym_match before, after;
	int found = set ? sym_modset_nearest(set, addr, &before, &after) : 0;
	if (found <= 0) {
		char b[32];
		sym_module *m = set ? sym_modset_module_at(set, addr) : NULL;
		if (m) {
			/* A module without symbols still names the address. */
			kd_out(s, "(%s)   ", kd_sym_addr(s, sym_module_base(m), b));
			kd_sym_out_name(s, sym_module_name(m));
			kd_out(s, "+0x%" PRIx64 "\n", addr - sym_module_base(m));
			return 0;
		}
		kd_out(s, "No symbols found near %s\n", kd_sym_addr(s, addr, b));
		return 0;
	}
	char b1[32], b2[32];
	if (found & 1) {
		kd_out(s, "(%s)   ", kd_sym_addr(s, before.addr, b1));
		kd_sym_out_name(s, sym_module_name(before.module));
		kd_out(s, "!");
		kd_sym_out_name(s, before.name);
		if (addr != before.addr)
			kd_out(s, "+0x%" PRIx64, addr - before.addr);
	}
	if (found & 2) {
		kd_out(s, "%s|  (%s)   ", (found & 1) ? "   " : "", kd_sym_addr(s, after.addr, b2));
		kd_sym_out_name(s, sym_module_name(after.module));
		kd_out(s, "!");
		kd_sym_out_name(s, after.name);
	}
	kd_out(s, "\n");
	if ((found & 1) && before.addr == addr) {
		kd_out(s, "Exact matches:\n    ");
		kd_sym_out_name(s, sym_module_name(before.module));
		kd_out(s, "!");
		kd_sym_out_name(s, before.name);
		kd_out(s, before.is_code ? " (<no parameter info>)\n" : " = <no type information>\n");
	}
	return 0;
}

const kd_command kd_commands_symbols[] = {
	{ ".reload", cmd_reload, KD_CMD_NEEDS_STOP, ".reload [/f] [/user] [/u] [module[=base[,size]]]",
	  "reload the module list; /f loads symbols now" },
	{ ".sympath", cmd_sympath, 0, ".sympath [path]", "show or set the symbol path" },
	{ ".sympath+", cmd_sympath, 0, ".sympath+ path", "append to the symbol path" },
	{ ".symfix", cmd_symfix, 0, ".symfix [cache]", "use the public symbol server" },
	{ ".symfix+", cmd_symfix, 0, ".symfix+ [cache]", "append the public symbol server" },
	{ "!sym", cmd_sym, 0, "!sym noisy|quiet", "symbol loading messages on/off" },
	{ "ld", cmd_ld, KD_CMD_NEEDS_STOP, "ld module", "load symbols of a module now" },
	{ "!lmi", cmd_lmi, KD_CMD_NEEDS_STOP, "!lmi module", "module details: image, CodeView, symbols" },
	{ "lm", cmd_lm, KD_CMD_PREFIX, "lm [v] [o] [m pattern] [a address]", "list loaded modules" },
	{ "x", cmd_x, KD_CMD_NEEDS_STOP, "x module!pattern", "list symbols matching a pattern" },
	{ "ln", cmd_ln, KD_CMD_NEEDS_STOP, "ln [address]", "nearest symbols" },
	{ "dt", kd_cmd_dt, KD_CMD_NEEDS_STOP, "dt [-r[N]] [-v] [-l list.Flink] module!Type [address] [field]",
	  "display a type (and memory as that type)" },
	{ 0 },
};
