/*
 * stack_x86.c - x86 stack walking.
 *
 * Order of preference for finding a frame's caller, as debuggers do: the
 * PDB's frame data program (exact, knows FPO functions and saved
 * registers), then old FPO_DATA, then the EBP chain ([ebp] = caller's ebp,
 * [ebp+4] = return address).
 */
#include "stack_x86.h"
#include "nt_fail.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RA_SCAN_DWORDS 256
#define MAX_VARS 40
#define MAX_STACK 32

static uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

static int read_u32(const stack_x86_io *io, uint64_t addr, uint32_t *v)
{
	uint8_t b[4];
	if (io->read(io->ctx, addr, b, 4) < 0)
		return -1;
	*v = le32(b);
	return 0;
}

static const char *const reg_names[8] = { "$eax", "$ecx", "$edx", "$ebx", "$esp", "$ebp", "$esi", "$edi" };

/* "$22" (CodeView register number, as newer MSVC writes) -> "$ebp". */
static const char *canon_name(const char *tok, size_t len, char *buf, size_t blen)
{
	if (len >= 2 && tok[0] == '$' && tok[1] >= '0' && tok[1] <= '9') {
		long n = strtol(tok + 1, NULL, 10);
		if (n >= 17 && n <= 24)
			return reg_names[n - 17];
	}
	if (len >= blen)
		len = blen - 1;
	memcpy(buf, tok, len);
	buf[len] = 0;
	return buf;
}

typedef struct var { char name[24]; uint32_t value; } var;
typedef struct vars { var v[MAX_VARS]; int n; } vars;

static var *var_find(vars *vs, const char *name)
{
	for (int i = 0; i < vs->n; i++)
		if (!strcmp(vs->v[i].name, name))
			return &vs->v[i];
	return NULL;
}

static int var_set(vars *vs, const char *name, uint32_t value)
{
	var *v = var_find(vs, name);
	if (!v) {
		if (vs->n == MAX_VARS || strlen(name) >= sizeof(v->name))
			return -1;
		v = &vs->v[vs->n++];
		strcpy(v->name, name);
	}
	v->value = value;
	return 0;
}

typedef struct item { int is_name; char name[24]; uint32_t value; } item;

/* The return address search: the first slot from start that holds a code
 * address (or start itself when code cannot be recognized). */
static int ra_search(const stack_x86_io *io, uint32_t start, uint32_t *found)
{
	if (!io->is_code) {
		*found = start;
		return 0;
	}
	for (uint32_t i = 0; i < RA_SCAN_DWORDS; i++) {
		uint32_t v;
		if (read_u32(io, (uint64_t)start + 4 * i, &v) < 0)
			return -1;
		if (v && io->is_code(io->ctx, v) == 1) {
			*found = start + 4 * i;
			return 0;
		}
	}
	return -1;
}

int stack_x86_eval_program(const stack_x86_io *io, const char *program,
                           stack_x86_regs *regs, const stack_x86_framedata *fd,
                           uint32_t ra_search_start, char *err, size_t errlen)
{
	vars vs = { .n = 0 };
	for (int i = 0; i < 8; i++)
		var_set(&vs, reg_names[i], regs->gpr[i]);
	var_set(&vs, "$eip", regs->eip);
	var_set(&vs, ".cbLocals", fd->locals_size);
	var_set(&vs, ".cbSavedRegs", fd->saved_regs_size);
	var_set(&vs, ".cbParams", fd->params_size);
	var_set(&vs, "$L", fd->locals_size);
	var_set(&vs, "$P", fd->params_size);
	var_set(&vs, ".raSearchStart", ra_search_start);
	int have_ra = 0;
	uint32_t ra = 0;

	item st[MAX_STACK];
	int sp = 0;
	const char *p = program;
	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		if (!*p)
			break;
		const char *tok = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
			p++;
		/* an operator glued to the next name ("=$eip" in some MSVC
		 * programs) is a token of its own */
		if (p - tok > 1 && strchr("+-*/%@^=", tok[0]) && (tok[1] == '$' || tok[1] == '.'))
			p = tok + 1;
		size_t len = (size_t)(p - tok);
		char nb[24];
		if (len == 1 && strchr("+-*/%@^=", tok[0])) {
			char op = tok[0];
			int need = op == '^' ? 1 : 2;
			if (sp < need)
				return nt_fail(err, errlen, "frame program: '%c' with too few operands", op);
			/* resolve operand values (the left side of '=' stays a name) */
			uint32_t b = 0, a = 0;
			for (int k = sp - need; k < sp; k++) {
				if (op == '=' && k == sp - 2)
					continue;
				if (st[k].is_name) {
					if (!strcmp(st[k].name, ".raSearch")) {
						if (!have_ra) {
							if (ra_search(io, ra_search_start, &ra) < 0)
								return nt_fail(err, errlen, "frame program: no return address found from %08x",
								               ra_search_start);
							have_ra = 1;
						}
						st[k].value = ra;
					} else {
						var *v = var_find(&vs, st[k].name);
						if (!v)
							return nt_fail(err, errlen, "frame program: %s is not set", st[k].name);
						st[k].value = v->value;
					}
				}
			}
			b = st[sp - 1].value;
			if (need == 2)
				a = st[sp - 2].value;
			uint32_t r = 0;
			switch (op) {
			case '+': r = a + b; break;
			case '-': r = a - b; break;
			case '*': r = a * b; break;
			case '/': if (!b) return nt_fail(err, errlen, "frame program: division by zero"); r = a / b; break;
			case '%': if (!b) return nt_fail(err, errlen, "frame program: division by zero"); r = a % b; break;
			case '@': if (!b) return nt_fail(err, errlen, "frame program: align by zero"); r = a & ~(b - 1); break;
			case '^':
				if (read_u32(io, b, &r) < 0)
					return nt_fail(err, errlen, "frame program: cannot read %08x", b);
				break;
			case '=':
				if (!st[sp - 2].is_name)
					return nt_fail(err, errlen, "frame program: assignment to a value");
				if (var_set(&vs, st[sp - 2].name, b) < 0)
					return nt_fail(err, errlen, "frame program: too many variables");
				sp -= 2;
				continue;
			}
			sp -= need;
			st[sp].is_name = 0;
			st[sp].value = r;
			sp++;
			continue;
		}
		if (sp == MAX_STACK)
			return nt_fail(err, errlen, "frame program: stack overflow");
		item *it = &st[sp++];
		if (tok[0] == '$' || tok[0] == '.') {
			it->is_name = 1;
			const char *n = canon_name(tok, len, nb, sizeof(nb));
			snprintf(it->name, sizeof(it->name), "%s", n);
		} else {
			char *end;
			char num[32];
			if (len >= sizeof(num))
				return nt_fail(err, errlen, "frame program: bad token");
			memcpy(num, tok, len);
			num[len] = 0;
			it->is_name = 0;
			it->value = (uint32_t)strtoul(num, &end, 0);
			if (*end)
				return nt_fail(err, errlen, "frame program: bad token '%s'", num);
		}
	}
	var *eip = var_find(&vs, "$eip"), *esp = var_find(&vs, "$esp");
	for (int i = 0; i < 8; i++)
		regs->gpr[i] = var_find(&vs, reg_names[i])->value;
	regs->eip = eip->value;
	regs->gpr[X86_ESP] = esp->value;
	return 0;
}

/* Length of the instruction after "push ebp" that sets the frame pointer
 * (mov ebp, esp / lea ebp, [esp+disp]); 2 when it is something else. */
static uint32_t ebp_setup_len(const uint8_t *c)
{
	if ((c[0] == 0x8b && c[1] == 0xec) || (c[0] == 0x89 && c[1] == 0xe5))
		return 2;
	if (c[0] == 0x8d && c[1] == 0x6c)
		return 4;   /* lea ebp, [esp+disp8] (SIB byte 0x24, disp8) */
	if (c[0] == 0x8d && c[1] == 0xac)
		return 7;   /* lea ebp, [esp+disp32] */
	return 2;
}

int stack_x86_unwind(const stack_x86_io *io, stack_x86_regs *regs, int exact_pc,
                     uint32_t callee_params, stack_how *how, uint32_t *params_out,
                     char *err, size_t errlen)
{
	uint32_t lpc = exact_pc ? regs->eip : regs->eip - 1;
	stack_x86_regs r = *regs;
	*params_out = 0;

	stack_x86_framedata fd;
	if (io->find_frame_data && io->find_frame_data(io->ctx, lpc, &fd) == 1 && fd.program) {
		uint32_t off = lpc - fd.start;
		int in_prolog = exact_pc && fd.function_start && off < fd.prolog_size;
		/* A program describes the frame once the prologue has run (MSVC
		 * gives one record for the whole function).  Inside the prologue:
		 * at the entry the return address is on top; after "push ebp" of
		 * an EBP frame, just above the saved EBP. */
		int ebp_frame = !strncmp(fd.program, "$T0 $ebp ", 9) || !strncmp(fd.program, "$T1 $ebp ", 9);
		uint8_t code[3];
		uint32_t esp = r.gpr[X86_ESP], loc = 0;
		if (in_prolog && off == 0) {
			loc = esp;
		} else if (in_prolog && ebp_frame && io->read(io->ctx, fd.start, code, 3) == 0 && code[0] == 0x55 &&
		           off < 1 + ebp_setup_len(code + 1)) {
			if (read_u32(io, esp, &r.gpr[X86_EBP]) < 0)
				return nt_fail(err, errlen, "cannot read saved ebp at %08x", esp);
			loc = esp + 4;
		}
		if (loc) {
			if (read_u32(io, loc, &r.eip) < 0)
				return nt_fail(err, errlen, "cannot read return address at %08x", loc);
			r.gpr[X86_ESP] = loc + 4;
			*params_out = fd.params_size;
			*how = STACK_HOW_FRAMEDATA;
			*regs = r;
			return 0;
		}
		/* Locals, then saved registers, then the return address; a call
		 * site still has the callee's arguments below them.  Inside the
		 * prologue the locals are not allocated yet: search from ESP. */
		uint32_t start = in_prolog ? esp : esp + callee_params + fd.locals_size + fd.saved_regs_size;
		if (stack_x86_eval_program(io, fd.program, &r, &fd, start, err, errlen) < 0)
			return -1;
		if (in_prolog) {
			/* Registers the program restores from their save slots are
			 * not saved yet (or, once pushed, not yet changed): inside the
			 * prologue their current values are the caller's. */
			for (int i = 0; i < 8; i++)
				if (i != X86_ESP && i != X86_EBP)
					r.gpr[i] = regs->gpr[i];
			/* EBP is right from the program once a leading "push ebp"
			 * has put it where the program reads it (just below the
			 * return address); before that it is still the caller's. */
			uint8_t first;
			int pushed = io->read(io->ctx, fd.start, &first, 1) == 0 && first == 0x55 && off >= 1;
			if (!pushed)
				r.gpr[X86_EBP] = regs->gpr[X86_EBP];
		}
		*params_out = fd.params_size;
		*how = STACK_HOW_FRAMEDATA;
		*regs = r;
		return 0;
	}

	stack_x86_fpo fpo;
	if (io->find_fpo && io->find_fpo(io->ctx, lpc, &fpo) == 1 && fpo.frame_type == 0 && !fpo.uses_bp) {
		/* FPO function: no frame pointer; the return address sits above
		 * the locals and the saved registers. */
		uint32_t loc = r.gpr[X86_ESP] + callee_params + 4 * fpo.locals + 4 * fpo.saved_regs;
		if (read_u32(io, loc, &r.eip) < 0)
			return nt_fail(err, errlen, "cannot read return address at %08x", loc);
		r.gpr[X86_ESP] = loc + 4;
		*params_out = 4 * fpo.params;
		*how = STACK_HOW_FPO;
		*regs = r;
		return 0;
	}
	if (io->find_fpo && io->find_fpo(io->ctx, lpc, &fpo) == 1)
		*params_out = 4 * fpo.params;

	/* EBP chain. */
	uint32_t ebp = r.gpr[X86_EBP], saved_ebp, ret;
	if (!ebp || read_u32(io, ebp, &saved_ebp) < 0 || read_u32(io, (uint64_t)ebp + 4, &ret) < 0)
		return nt_fail(err, errlen, "cannot follow the frame pointer chain at ebp %08x", ebp);
	r.gpr[X86_EBP] = saved_ebp;
	r.gpr[X86_ESP] = ebp + 8;
	r.eip = ret;
	*how = STACK_HOW_EBP;
	*regs = r;
	return 0;
}

int stack_x86_walk(const stack_x86_io *io, const stack_x86_regs *start,
                   stack_frame *frames, stack_x86_regs *regs_out, size_t max,
                   size_t *count, char *err, size_t errlen)
{
	stack_x86_regs r = *start;
	size_t n = 0;
	uint32_t callee_params = 0;
	if (err && errlen)
		err[0] = 0;
	while (n < max) {
		stack_frame *f = &frames[n];
		memset(f, 0, sizeof(*f));
		f->sp = r.gpr[X86_ESP];
		f->fp = r.gpr[X86_EBP];
		f->pc = r.eip;
		if (regs_out)
			regs_out[n] = r;
		n++;
		stack_x86_regs next = r;
		stack_how how;
		uint32_t params;
		if (stack_x86_unwind(io, &next, n == 1, callee_params, &how, &params, err, errlen) < 0)
			break;
		f->how = how;
		f->ret = next.eip;
		f->ret_loc = (uint32_t)(next.gpr[X86_ESP] - 4);
		uint8_t a[12];
		if (io->read(io->ctx, next.gpr[X86_ESP], a, sizeof(a)) == 0)
			for (int k = 0; k < 3; k++)
				f->args[k] = le32(a + 4 * k);
		/* ChildEBP as WinDbg shows it for FPO frames: where the caller's
		 * frame would be (the return address slot - 4). */
		if (how == STACK_HOW_FPO || how == STACK_HOW_FRAMEDATA)
			f->fp = f->ret_loc - 4;
		if (next.eip == 0 || next.gpr[X86_ESP] <= r.gpr[X86_ESP])
			break;
		callee_params = params;
		r = next;
	}
	*count = n;
	return 0;
}

void stack_x86_regs_from_context(stack_x86_regs *r, const uint8_t *raw, size_t len)
{
	memset(r, 0, sizeof(*r));
	if (len < 0xC8)
		return;
	/* Edi 0x9C, Esi 0xA0, Ebx 0xA4, Edx 0xA8, Ecx 0xAC, Eax 0xB0, Ebp 0xB4,
	 * Eip 0xB8, EFlags 0xC0, Esp 0xC4 (fact sheet §12). */
	r->gpr[X86_EDI] = le32(raw + 0x9c);
	r->gpr[X86_ESI] = le32(raw + 0xa0);
	r->gpr[X86_EBX] = le32(raw + 0xa4);
	r->gpr[X86_EDX] = le32(raw + 0xa8);
	r->gpr[X86_ECX] = le32(raw + 0xac);
	r->gpr[X86_EAX] = le32(raw + 0xb0);
	r->gpr[X86_EBP] = le32(raw + 0xb4);
	r->eip = le32(raw + 0xb8);
	r->eflags = le32(raw + 0xc0);
	r->gpr[X86_ESP] = le32(raw + 0xc4);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void stack_x86_regs_to_context(const stack_x86_regs *r, uint8_t *raw, size_t len)
{
	if (len < 0xC8)
		return;
	put32(raw + 0x9c, r->gpr[X86_EDI]);
	put32(raw + 0xa0, r->gpr[X86_ESI]);
	put32(raw + 0xa4, r->gpr[X86_EBX]);
	put32(raw + 0xa8, r->gpr[X86_EDX]);
	put32(raw + 0xac, r->gpr[X86_ECX]);
	put32(raw + 0xb0, r->gpr[X86_EAX]);
	put32(raw + 0xb4, r->gpr[X86_EBP]);
	put32(raw + 0xb8, r->eip);
	put32(raw + 0xc0, r->eflags);
	put32(raw + 0xc4, r->gpr[X86_ESP]);
}
