/*
 * cmd_disasm.c - u, ub, uf: disassembly of target memory in WinDbg's
 * shape (the line format is disasm/'s; this file reads the bytes, adds the
 * symbol header lines and finds function extents).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"
#include "commands.h"
#include "disasm/disasm.h"
#include "expr.h"
#include "format.h"
#include "script.h"
#include "session.h"
#include "symbols/symbols.h"

#define U_DEFAULT 8              /* instructions shown by u / ub */
#define UF_MAX_BYTES 0x100000    /* sanity bound on a function extent */

/* kd_symbolize with names made terminal-safe (export names come from the
 * target). */
static int symbolize_safe(kd_session *s, uint64_t addr, char *buf, size_t len)
{
	return kd_lang_symbolize(s, addr, buf, len);
}

static int dis_symbolize(void *ctx, uint64_t addr, char *buf, size_t len)
{
	return symbolize_safe((kd_session *)ctx, addr, buf, len) == 1 ? 1 : 0;
}

static int open_disasm(kd_session *s, kd_target *t, kd_disasm **d)
{
	char err[128];
	unsigned bits = kd_ptr_size(t) == 4 ? 32 : 64;
	if (kd_disasm_open(bits, d, err, sizeof err) < 0) {
		kd_err(s, "%s\n", err);
		return -1;
	}
	kd_disasm_set_symbolizer(*d, dis_symbolize, s);
	return 0;
}

/* Read up to len code bytes at addr; returns how many leading bytes are
 * readable (a read that stops at an unmapped page gives the part before). */
static size_t read_code(kd_target *t, uint64_t addr, uint8_t *buf, size_t len)
{
	size_t total = 0;
	while (total < len) {
		uint64_t a = addr + total;
		size_t chunk = 0x1000 - (size_t)(a & 0xfff);
		if (chunk > len - total)
			chunk = len - total;
		size_t got = 0;
		t->ops->read_virtual(t, a, buf + total, chunk, &got);
		if (got > chunk)
			got = chunk;
		total += got;
		if (got < chunk)
			break;
	}
	return total;
}

/* "nt!Foo:" when addr starts a symbol (or always, for the first line, with
 * the offset: "nt!Foo+0x10:"). */
static void header_line(kd_session *s, uint64_t addr, int first)
{
	char sym[512];
	if (symbolize_safe(s, addr, sym, sizeof sym) != 1)
		return;
	if (!first && strstr(sym, "+0x"))
		return;
	kd_out(s, "%s:\n", sym);
}

/* Disassemble from addr until `count` instructions or the address `stop`
 * (exclusive; 0 = none) is reached. */
static int disasm_run(kd_session *s, kd_disasm *d, kd_target *t, uint64_t addr,
		      uint64_t count, uint64_t stop, int header, uint64_t *next)
{
	uint8_t buf[256];
	size_t have = 0;          /* valid bytes in buf, starting at base */
	uint64_t base = addr;
	char line[512];
	uint64_t n = 0;
	int first = 1;
	while ((count == 0 || n < count) && (stop == 0 || addr < stop)) {
		if (kd_session_interrupted(s))
			break;
		/* Keep at least one whole instruction's bytes buffered. */
		if (addr < base || addr - base + KD_INSN_MAX > have) {
			base = addr;
			have = read_code(t, addr, buf, sizeof buf);
		}
		size_t off = (size_t)(addr - base);
		if (header)
			header_line(s, addr, first);
		first = 0;
		if (off >= have) {
			kd_disasm_format_unreadable(d, addr, line, sizeof line);
			kd_out(s, "%s\n", line);
			addr++;
			n++;
			base = addr;
			have = 0;
			continue;
		}
		kd_insn in;
		size_t avail = have - off;
		kd_disasm_one(d, buf + off, avail, addr, &in);
		kd_disasm_format(d, &in, line, sizeof line);
		kd_out(s, "%s\n", line);
		addr += in.length;
		n++;
	}
	if (next)
		*next = addr;
	return 0;
}

int kd_disasm_show(kd_session *s, uint64_t addr, unsigned count, int header, uint64_t *next)
{
	kd_target *t = kd_session_target(s);
	if (!t)
		return KD_E_INVAL;
	kd_disasm *d;
	if (open_disasm(s, t, &d) < 0)
		return KD_E_FAIL;
	int rc = disasm_run(s, d, t, addr, count, 0, header, next);
	kd_disasm_close(d);
	return rc;
}

static int current_ip(kd_session *s, uint64_t *ip)
{
	if (kd_eval(s, "@$ip", ip, NULL) < 0) {
		kd_err(s, "%s\n", kd_session_errmsg(s));
		return -1;
	}
	return 0;
}

static int parse_range(kd_session *s, const char *args, kd_range *r)
{
	char err[256];
	const char *end;
	if (kd_expr_range(kd_lang_eval_fn, s, args, 1, r, &end, err, sizeof err) < 0) {
		kd_err(s, "%s\n", err);
		return -1;
	}
	if (*end) {
		kd_err(s, "Syntax error at '%s'\n", end);
		return -1;
	}
	return 0;
}

/* u [addr] [L count | addr2] */
static int cmd_u(kd_session *s, const char *name, const char *args)
{
	(void)name;
	kd_target *t = kd_session_target(s);
	if (!t) {
		kd_err(s, "No target attached\n");
		return -1;
	}
	struct kd_lang_state *L = kd_lang(s);
	kd_range r;
	if (parse_range(s, args, &r) < 0)
		return -1;
	if (!r.have_addr) {
		if (L && L->disasm_valid)
			r.addr = L->disasm_next;
		else if (current_ip(s, &r.addr) < 0)
			return -1;
	}
	uint64_t count = U_DEFAULT, stop = 0;
	if (r.have_count) {
		if (r.by_end) {
			count = 0;
			stop = r.addr + r.count;
		} else {
			count = r.count;
			if (count == 0)
				return 0;   /* u x L0: nothing (0 would mean "no limit") */
		}
	}
	kd_disasm *d;
	if (open_disasm(s, t, &d) < 0)
		return -1;
	uint64_t next;
	disasm_run(s, d, t, r.addr, count, stop, 1, &next);
	kd_disasm_close(d);
	if (L) {
		L->disasm_next = next;
		L->disasm_valid = 1;
	}
	return 0;
}

static int function_extent(kd_session *s, uint64_t addr, uint64_t *start, uint64_t *len);

/* ub [addr] [L count]: the `count` instructions that end at addr. */
static int cmd_ub(kd_session *s, const char *name, const char *args)
{
	(void)name;
	kd_target *t = kd_session_target(s);
	if (!t) {
		kd_err(s, "No target attached\n");
		return -1;
	}
	kd_range r;
	if (parse_range(s, args, &r) < 0)
		return -1;
	if (!r.have_addr && current_ip(s, &r.addr) < 0)
		return -1;
	uint64_t count = r.have_count && !r.by_end ? r.count : U_DEFAULT;
	if (count == 0)
		return 0;
	if (count > 256)
		count = 256;
	/* A lead-in of extra bytes lets the backward decoding resynchronise. */
	size_t window = (size_t)count * KD_INSN_MAX + 32;
	uint8_t *buf = malloc(window);
	if (!buf) {
		kd_err(s, "out of memory\n");
		return -1;
	}
	/* Only a fully readable tail counts: if the lead-in starts in an
	 * unmapped page, shorten it to the next page boundary. */
	uint64_t start = r.addr - window;
	size_t got = 0;
	for (size_t skip = 0; skip < window; skip = (size_t)(((start + skip) | 0xfff) + 1 - start)) {
		size_t want = window - skip;
		if (read_code(t, start + skip, buf, want) == want) {
			got = want;
			break;
		}
	}
	kd_disasm *d;
	if (open_disasm(s, t, &d) < 0) {
		free(buf);
		return -1;
	}
	size_t back = 0;
	uint64_t fstart, flen;
	if (got && function_extent(s, r.addr - 1, &fstart, &flen) == 0 && fstart < r.addr &&
	    r.addr - fstart <= got) {
		/* The function's start is in the window: decoding forward from
		 * it is exact, no guessing. */
		size_t off = got - (size_t)(r.addr - fstart);
		size_t *starts = malloc(sizeof *starts * (got - off + 1));
		size_t n = 0;
		while (starts && off < got) {
			kd_insn in;
			if (kd_disasm_one(d, buf + off, got - off, r.addr - (got - off), &in) < 0)
				break;
			starts[n++] = off;
			off += in.length;
		}
		if (starts && off == got && n >= count)
			back = got - starts[n - count];
		free(starts);
	}
	if (!back && got)
		back = kd_disasm_back(d, buf, got, r.addr, (unsigned)count);
	free(buf);
	if (!back) {
		kd_disasm_close(d);
		char a[24];
		kd_fmt_ptr(s, r.addr, a);
		kd_err(s, "No instructions decode up to %s\n", a);
		return -1;
	}
	disasm_run(s, d, t, r.addr - back, 0, r.addr, 1, NULL);
	kd_disasm_close(d);
	return 0;
}

/* The function around addr: [*start, *start + *len) from the PDB's
 * procedure records, else from x64 .pdata. */
static int function_extent(kd_session *s, uint64_t addr, uint64_t *start, uint64_t *len)
{
	struct sym_modset *set = kd_session_symbols(s);
	sym_module *m = set ? sym_modset_module_at(set, addr) : NULL;
	if (!m)
		return -1;
	uint64_t base = sym_module_base(m);
	uint32_t rva = (uint32_t)(addr - base);
	pdb_file *pdb = sym_module_pdb(m);
	uint32_t fs, fl;
	if (pdb && pdb_function_extent(pdb, rva, &fs, &fl) == 0 && fl) {
		*start = base + fs;
		*len = fl;
		return 0;
	}
	pe_image *pe = sym_module_pe(m);
	uint32_t b, e, unwind;
	if (pe && pe_find_runtime_function(pe, rva, &b, &e, &unwind) == 0 && e > b) {
		*start = base + b;
		*len = e - b;
		return 0;
	}
	return -1;
}

/*
 * uf's layout: the function in address order, split into basic blocks as
 * WinDbg prints them -- a blank line and a "nt!Foo+0x35:" header before
 * every block that a jump inside the function targets or that follows a
 * jump or return.
 */
static int uf_blocks(kd_session *s, kd_disasm *d, kd_target *t, uint64_t start, uint64_t len)
{
	uint8_t *code = malloc((size_t)len + KD_INSN_MAX);
	uint8_t *leader = calloc((size_t)len + 1, 1);
	if (!code || !leader) {
		free(code);
		free(leader);
		kd_err(s, "out of memory\n");
		return -1;
	}
	size_t have = read_code(t, start, code, (size_t)len);
	/* Pass 1: block starts. */
	leader[0] = 1;
	for (size_t off = 0; off < have;) {
		kd_insn in;
		if (kd_disasm_one(d, code + off, have - off, start + off, &in) < 0) {
			off++;
			continue;
		}
		off += in.length;
		if (in.is_jump || in.is_ret) {
			if (off < len)
				leader[off] = 1;
			if (in.has_target && in.target >= start && in.target < start + len)
				leader[in.target - start] = 1;
		}
	}
	/* Pass 2: print. */
	char line[512], sym[512];
	for (size_t off = 0; off < len && !kd_session_interrupted(s);) {
		uint64_t a = start + off;
		if (leader[off]) {
			if (off)
				kd_out(s, "\n");
			if (symbolize_safe(s, a, sym, sizeof sym) == 1)
				kd_out(s, "%s:\n", sym);
		}
		if (off >= have) {
			kd_disasm_format_unreadable(d, a, line, sizeof line);
			kd_out(s, "%s\n", line);
			off++;
			continue;
		}
		kd_insn in;
		kd_disasm_one(d, code + off, have - off, a, &in);
		kd_disasm_format(d, &in, line, sizeof line);
		kd_out(s, "%s\n", line);
		off += in.length;
	}
	free(code);
	free(leader);
	return 0;
}

/* uf [/c] addr: the whole function (address order, basic blocks). */
static int cmd_uf(kd_session *s, const char *name, const char *args)
{
	(void)name;
	kd_target *t = kd_session_target(s);
	if (!t) {
		kd_err(s, "No target attached\n");
		return -1;
	}
	const char *p = kd_skip_blanks(args);
	int calls_only = 0;
	while (*p == '/') {
		if (p[1] == 'c' || p[1] == 'C')
			calls_only = 1;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		p = kd_skip_blanks(p);
	}
	uint64_t addr;
	if (!*p) {
		if (current_ip(s, &addr) < 0)
			return -1;
	} else if (kd_eval(s, p, &addr, NULL) < 0) {
		kd_err(s, "%s\n", kd_session_errmsg(s));
		return -1;
	}
	uint64_t start, len;
	if (function_extent(s, addr, &start, &len) < 0 || len > UF_MAX_BYTES) {
		char a[24];
		kd_fmt_ptr(s, addr, a);
		kd_err(s, "No code found, aborting (no function extent for %s in the PDB or .pdata)\n", a);
		return -1;
	}
	kd_disasm *d;
	if (open_disasm(s, t, &d) < 0)
		return -1;
	if (!calls_only) {
		int rc = uf_blocks(s, d, t, start, len);
		kd_disasm_close(d);
		return rc;
	}
	/* uf /c: "  nt!Foo+0x1a (addr):\n    call to nt!Bar (addr)" */
	char sym[512], a[24];
	symbolize_safe(s, start, sym, sizeof sym);
	kd_fmt_ptr(s, start, a);
	kd_out(s, "%s (%s)\n", sym, a);
	uint64_t pc = start;
	uint8_t buf[KD_INSN_MAX];
	while (pc < start + len && !kd_session_interrupted(s)) {
		size_t got = read_code(t, pc, buf, sizeof buf);
		kd_insn in;
		if (!got || kd_disasm_one(d, buf, got, pc, &in) < 0) {
			pc++;
			continue;
		}
		if (in.is_call) {
			symbolize_safe(s, pc, sym, sizeof sym);
			kd_fmt_ptr(s, pc, a);
			kd_out(s, "  %s (%s):\n", sym, a);
			kd_out(s, "    call to %s\n", in.operands);
		}
		pc += in.length;
	}
	kd_disasm_close(d);
	return 0;
}

const kd_command kd_commands_disasm[] = {
	{ "u", cmd_u, KD_CMD_NEEDS_STOP, "u [addr] [L count | addr2]",
	  "disassemble (8 instructions, continuing from the last u)" },
	{ "ub", cmd_ub, KD_CMD_NEEDS_STOP, "ub [addr] [L count]",
	  "disassemble the instructions before addr" },
	{ "uf", cmd_uf, KD_CMD_NEEDS_STOP, "uf [/c] addr",
	  "disassemble a whole function (extent from the PDB or .pdata)" },
	{ 0 }
};
