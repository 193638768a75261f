/*
 * cmd_bp.c - bp bu ba bl bc bd be, with WinDbg's syntax:
 *   bp[ID] [/1] addr [passes] ["command string"]
 *   bu[ID] [/1] expr [passes] ["command string"]   (resolved again on loads)
 *   ba[ID] [/1] e|r|w|i 1|2|4|8 addr [passes] ["command string"]
 *   bl | bc/bd/be  ids ("*", "1 3", "2-4")
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "breakpoints.h"
#include "cmdline.h"
#include "commands.h"
#include "session_int.h"
#include "run.h"

static int bad(kd_session *s, const char *fmt, const char *arg)
{
	kd_err(s, fmt, arg);
	kd_err(s, "\n");
	return -1;
}

/* The address expression of bu/bp: up to the next blank outside
 * parentheses (so "nt!Foo+0x10" and "poi(@rsp + 8)" stay whole). */
static size_t expr_extent(const char *p)
{
	size_t i = 0;
	int depth = 0;
	while (p[i]) {
		if (p[i] == '(')
			depth++;
		else if (p[i] == ')')
			depth--;
		else if ((p[i] == ' ' || p[i] == '\t' || p[i] == '"') && depth <= 0)
			break;
		i++;
	}
	return i;
}

static int cmd_bp(kd_session *s, const char *name, const char *args)
{
	kd_bplist *l = kd_session_breakpoints(s);
	const char *p = args;
	int id = -1;
	if (s->cmd_glued && isdigit((unsigned char)*p)) {
		char *end;
		id = (int)strtoul(p, &end, 10);
		p = kd_skip_blanks(end);
	}
	int one_shot = 0;
	while (*p == '/') {
		if (p[1] == '1') {
			one_shot = 1;
			p = kd_skip_blanks(p + 2);
		} else {
			return bad(s, "unsupported breakpoint option %.2s", p);
		}
	}
	kd_bp_kind kind = name[1] == 'a' ? KD_BP_HW : KD_BP_SOFT;
	char access = 'e';
	unsigned size = 1;
	if (kind == KD_BP_HW) {
		access = (char)tolower((unsigned char)*p);
		/* "e 1" and "e1" are both WinDbg syntax */
		if (!access || !strchr("erwi", access))
			return bad(s, "ba: access must be e, r, w or i (got '%s')", p);
		p = kd_skip_blanks(p + 1);
		char *end;
		size = (unsigned)strtoul(p, &end, 10);
		if (end == p || (size != 1 && size != 2 && size != 4 && size != 8))
			return bad(s, "ba: size must be 1, 2, 4 or 8 (got '%s')", p);
		p = kd_skip_blanks(end);
		if (access == 'e' && size != 1)
			return bad(s, "ba e: the size of an execute breakpoint must be 1%s", "");
	}
	if (!*p || *p == '"') {
		/* WinDbg: bp without an address uses $ip. */
		p = "@$ip";
	}
	size_t el = expr_extent(p);
	char expr[512];
	if (el >= sizeof(expr))
		return bad(s, "address expression too long%s", "");
	memcpy(expr, p, el);
	expr[el] = 0;
	const char *rest = kd_skip_blanks(p + el);
	uint64_t addr = 0;
	int deferred = 0;
	if (kd_eval(s, expr, &addr, NULL) < 0) {
		if (name[1] == 'u') {
			deferred = 1;
		} else if (kind == KD_BP_SOFT && strchr(expr, '!')) {
			/* WinDbg turns a bp on a module that is not loaded yet
			 * into a deferred one and says so */
			kd_out(s, "Bp expression '%s' could not be resolved, adding deferred bp\n", expr);
			deferred = 1;
		} else {
			kd_err(s, "%s\n", kd_session_errmsg(s));
			return -1;
		}
	}
	if (kind == KD_BP_HW && size > 1 && (addr & (size - 1)))
		return bad(s, "ba: the address must be aligned to the size%s", "");
	unsigned passes = 1;
	if (*rest && *rest != '"') {
		uint64_t v;
		const char *e;
		if (kd_eval(s, rest, &v, &e) < 0) {
			kd_err(s, "%s\n", kd_session_errmsg(s));
			return -1;
		}
		passes = v ? (unsigned)v : 1;
		rest = kd_skip_blanks(e);
	}
	char command[KD_CMDLINE_MAX];
	command[0] = 0;
	if (*rest == '"') {
		if (kd_cmdline_unquote(&rest, command, sizeof(command)) < 0)
			return bad(s, "unterminated command string%s", "");
		rest = kd_skip_blanks(rest);
	}
	if (*rest)
		return bad(s, "unexpected text '%s'", rest);

	/* Re-setting a breakpoint at the same address updates it (WinDbg:
	 * "breakpoint N redefined"). */
	kd_bp *bp = NULL;
	if (id < 0 && !deferred) {
		for (size_t i = 0; i < kd_bplist_count(l); i++) {
			kd_bp *o = kd_bplist_get(l, i);
			if (!o->internal && o->kind == kind && o->addr == addr && !o->deferred)
				bp = o;
		}
		if (bp)
			kd_out(s, "breakpoint %u redefined\n", bp->id);
	} else if (id >= 0) {
		bp = kd_bplist_find(l, (unsigned)id);
		if (bp && bp->kind != kind) {
			kd_bplist_remove(l, (unsigned)id);
			bp = NULL;
		}
	}
	if (!bp) {
		const char *why = NULL;
		bp = kd_bplist_add(l, id, kind, addr, &why);
		if (!bp)
			return bad(s, "%s", why ? why : "cannot add the breakpoint");
	}
	bp->addr = addr;
	bp->deferred = deferred;
	bp->one_shot = one_shot;
	bp->pass_count = bp->pass_left = passes;
	bp->access = access;
	bp->size = size;
	bp->enabled = 1;
	kd_bp_set_expr(bp, expr);
	kd_bp_set_command(bp, command);
	return 0;
}

void kd_bp_resolve_deferred(kd_session *s)
{
	kd_bplist *l = kd_session_breakpoints(s);
	for (size_t i = 0; i < kd_bplist_count(l); i++) {
		kd_bp *bp = kd_bplist_get(l, i);
		uint64_t addr;
		/* bu: the module may have arrived since (load events run
		 * before every resume) */
		if (bp->deferred && bp->expr && kd_eval(s, bp->expr, &addr, NULL) == 0) {
			bp->addr = addr;
			bp->deferred = 0;
		}
	}
}

static int cmd_bl(kd_session *s, const char *name, const char *args)
{
	(void)name;
	(void)args;
	kd_bplist *l = kd_session_breakpoints(s);
	kd_target *t = kd_session_target(s);
	int ptr64 = !t || t->version.arch != KD_ARCH_X86;
	for (size_t i = 0; i < kd_bplist_count(l); i++) {
		kd_bp *bp = kd_bplist_get(l, i);
		if (bp->internal)
			continue;
		char sym[512], line[1024 + KD_CMDLINE_MAX];
		int have = !bp->deferred && kd_symbolize(s, bp->addr, sym, sizeof(sym)) > 0;
		kd_bp_format(bp, ptr64, have ? sym : NULL, line, sizeof(line));
		kd_out(s, "%s\n", line);
	}
	return 0;
}

static int cmd_bcde(kd_session *s, const char *name, const char *args)
{
	kd_bplist *l = kd_session_breakpoints(s);
	unsigned char sel[KD_BP_MAX_ID];
	if (kd_bp_parse_ids(args, sel) < 0)
		return bad(s, "%s: expected breakpoint ids (\"*\", \"1 3\", \"2-4\")", name);
	for (unsigned id = 0; id < KD_BP_MAX_ID; id++) {
		if (!sel[id])
			continue;
		kd_bp *bp = kd_bplist_find(l, id);
		if (!bp || bp->internal)
			continue;
		if (name[1] == 'c')
			kd_bplist_remove(l, id);
		else
			bp->enabled = name[1] == 'e';
	}
	return 0;
}

const kd_command kd_commands_bp[] = {
	{ "bp", cmd_bp, KD_CMD_PREFIX, "bp[ID] [/1] addr [passes] [\"cmds\"]", "set a software breakpoint" },
	{ "bu", cmd_bp, KD_CMD_PREFIX, "bu[ID] [/1] expr [passes] [\"cmds\"]", "set a breakpoint resolved later" },
	{ "ba", cmd_bp, KD_CMD_PREFIX, "ba[ID] [/1] e|r|w|i 1|2|4|8 addr [passes] [\"cmds\"]", "set a hardware breakpoint (DR0-DR3)" },
	{ "bl", cmd_bl, 0, "bl", "list breakpoints" },
	{ "bc", cmd_bcde, 0, "bc ids|*", "clear breakpoints" },
	{ "bd", cmd_bcde, 0, "bd ids|*", "disable breakpoints" },
	{ "be", cmd_bcde, 0, "be ids|*", "enable breakpoints" },
	{ 0 }
};
