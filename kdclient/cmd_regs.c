/*
 * cmd_regs.c - r (display / set registers, special registers, $t0-$t19),
 * rdmsr, wrmsr.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "commands.h"
#include "cmdline.h"
#include "expr.h"
#include "run.h"

/* Special registers: read through KSPECIAL_REGISTERS (§9). */
typedef struct special_def {
	const char *name;
	size_t off;      /* offsetof in kd_special_regs */
	int is16;
} special_def;

static const special_def specials[] = {
	{ "cr0", offsetof(kd_special_regs, cr0), 0 }, { "cr2", offsetof(kd_special_regs, cr2), 0 },
	{ "cr3", offsetof(kd_special_regs, cr3), 0 }, { "cr4", offsetof(kd_special_regs, cr4), 0 },
	{ "cr8", offsetof(kd_special_regs, cr8), 0 },
	{ "gdtr", offsetof(kd_special_regs, gdtr_base), 0 }, { "gdtl", offsetof(kd_special_regs, gdtr_limit), 1 },
	{ "idtr", offsetof(kd_special_regs, idtr_base), 0 }, { "idtl", offsetof(kd_special_regs, idtr_limit), 1 },
	{ "tr", offsetof(kd_special_regs, tr), 1 }, { "ldtr", offsetof(kd_special_regs, ldtr), 1 },
	{ NULL, 0, 0 }
};

static const special_def *find_special(const char *name)
{
	for (const special_def *d = specials; d->name; d++)
		if (strcasecmp(d->name, name) == 0)
			return d;
	return NULL;
}

static uint64_t special_get(const kd_special_regs *r, const special_def *d)
{
	const char *base = (const char *)r;
	if (d->is16) {
		uint16_t v;
		memcpy(&v, base + d->off, 2);
		return v;
	}
	uint64_t v;
	memcpy(&v, base + d->off, 8);
	return v;
}

static void special_set(kd_special_regs *r, const special_def *d, uint64_t v)
{
	char *base = (char *)r;
	if (d->is16) {
		uint16_t x = (uint16_t)v;
		memcpy(base + d->off, &x, 2);
	} else {
		memcpy(base + d->off, &v, 8);
	}
}

static void print_value(kd_session *s, const char *name, uint64_t v, unsigned size)
{
	switch (size) {
	case 1: kd_out(s, "%s=%02x\n", name, (unsigned)v); break;
	case 2: kd_out(s, "%s=%04x\n", name, (unsigned)v); break;
	case 4: kd_out(s, "%s=%08x\n", name, (unsigned)v); break;
	default: kd_out(s, "%s=%016llx\n", name, (unsigned long long)v); break;
	}
}

/* One "name" or "name=expr" item.  *p is advanced past it. */
static int reg_item(kd_session *s, const char **pp, int *have_special, kd_special_regs *sp,
		    int *special_dirty)
{
	const char *p = kd_skip_blanks(*pp);
	if (*p == '@')
		p++;
	char name[32];
	size_t n = 0;
	while ((isalnum((unsigned char)p[n]) || p[n] == '$' || p[n] == '_') && n < sizeof(name) - 1) {
		name[n] = (char)tolower((unsigned char)p[n]);
		n++;
	}
	name[n] = 0;
	if (!n) {
		kd_err(s, "Syntax error at '%s'\n", p);
		return -1;
	}
	p = kd_skip_blanks(p + n);
	int assign = *p == '=';
	uint64_t value = 0;
	if (assign) {
		const char *e;
		if (kd_eval(s, p + 1, &value, &e) < 0) {
			kd_err(s, "%s\n", kd_session_errmsg(s));
			return -1;
		}
		p = e;
	}
	p = kd_skip_blanks(p);
	if (*p == ',')
		p++;
	*pp = p;

	int ti = kd_expr_treg_index(name);
	if (ti >= 0) {
		uint64_t *t = kd_session_tregs(s);
		if (assign)
			t[ti] = value;
		else
			print_value(s, name, t[ti], 8);
		return 0;
	}
	const special_def *d = find_special(name);
	if (d) {
		kd_target *t = kd_session_target(s);
		if (!*have_special) {
			if (t->ops->get_special(t, t->cpu, sp) < 0) {
				kd_err(s, "%s\n", kd_target_errmsg(t));
				return -1;
			}
			*have_special = 1;
		}
		if (assign) {
			special_set(sp, d, value);
			*special_dirty = 1;
		} else {
			unsigned w = d->is16 ? 2 : (t->version.arch == KD_ARCH_X86 ? 4 : 8);
			print_value(s, name, special_get(sp, d), w);
		}
		return 0;
	}
	kd_context c;
	if (kd_session_get_context(s, &c) < 0) {
		kd_err(s, "%s\n", kd_session_errmsg(s));
		return -1;
	}
	unsigned size = kd_context_reg_size(&c, name);
	if (!size) {
		kd_err(s, "Bad register error at '%s'\n", name);
		return -1;
	}
	if (assign) {
		kd_context_set(&c, name, value);
		if (kd_session_put_context(s, &c) < 0) {
			kd_err(s, "%s\n", kd_session_errmsg(s));
			return -1;
		}
		return 0;
	}
	uint64_t v = 0;
	kd_context_get(&c, name, &v);
	print_value(s, name, v, size);
	return 0;
}

static int cmd_r(kd_session *s, const char *name, const char *args)
{
	(void)name;
	if (!*args) {
		kd_print_regs(s);
		return 0;
	}
	kd_special_regs sp;
	int have_special = 0, special_dirty = 0;
	const char *p = args;
	while (*kd_skip_blanks(p)) {
		if (reg_item(s, &p, &have_special, &sp, &special_dirty) < 0)
			return -1;
	}
	if (special_dirty) {
		kd_target *t = kd_session_target(s);
		if (t->ops->set_special(t, t->cpu, &sp) < 0) {
			kd_err(s, "%s\n", kd_target_errmsg(t));
			return -1;
		}
	}
	return 0;
}

static int cmd_rdmsr(kd_session *s, const char *name, const char *args)
{
	(void)name;
	uint64_t msr, v;
	if (!*args || kd_eval(s, args, &msr, NULL) < 0) {
		kd_err(s, "usage: rdmsr <msr>%s%s\n", *args ? ": " : "", *args ? kd_session_errmsg(s) : "");
		return -1;
	}
	kd_target *t = kd_session_live(s);
	if (t->ops->read_msr(t, t->cpu, (uint32_t)msr, &v) < 0) {
		kd_err(s, "%s\n", kd_target_errmsg(t));
		return -1;
	}
	kd_out(s, "msr[%x] = %08x`%08x\n", (unsigned)msr, (unsigned)(v >> 32), (unsigned)v);
	return 0;
}

static int cmd_wrmsr(kd_session *s, const char *name, const char *args)
{
	(void)name;
	uint64_t msr, v;
	const char *e;
	if (kd_eval(s, args, &msr, &e) < 0 || kd_eval(s, e, &v, NULL) < 0) {
		kd_err(s, "usage: wrmsr <msr> <value>: %s\n", kd_session_errmsg(s));
		return -1;
	}
	kd_target *t = kd_session_live(s);
	if (t->ops->write_msr(t, t->cpu, (uint32_t)msr, v) < 0) {
		kd_err(s, "%s\n", kd_target_errmsg(t));
		return -1;
	}
	return 0;
}

const kd_command kd_commands_regs[] = {
	{ "r", cmd_r, KD_CMD_PREFIX | KD_CMD_NEEDS_STOP, "r [reg[=expr]] ...",
	  "show or set registers (also cr0 cr2 cr3 cr4 gdtr idtr, $t0-$t19)" },
	{ "rdmsr", cmd_rdmsr, KD_CMD_NEEDS_STOP, "rdmsr <msr>", "read a model-specific register" },
	{ "wrmsr", cmd_wrmsr, KD_CMD_NEEDS_STOP, "wrmsr <msr> <value>", "write a model-specific register" },
	{ 0 }
};
