/*
 * disasm.c - capstone (Intel syntax, detail on) re-shaped into WinDbg's
 * disassembly lines.
 *
 * Operands are rebuilt from capstone's operand details rather than edited
 * from its text, because WinDbg differs in ways text edits get wrong:
 * immediates are shown unsigned at the operand's width (add eax,0FFFFFFF0h,
 * not -10h), memory operands have no blanks ([rsp+20h]) and RIP-relative or
 * absolute ones name the symbol they reach.  The only thing taken from the
 * text is the "qword ptr" size word (capstone omits it exactly where
 * WinDbg does, e.g. for lea).
 */
#include "disasm.h"

#include <capstone/capstone.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct kd_disasm {
	csh cs;
	cs_insn *insn;            /* reused buffer (cs_malloc) */
	unsigned bits;
	kd_disasm_symbolize_fn symbolize;
	void *sym_ctx;
};

int kd_disasm_open(unsigned bits, kd_disasm **out, char *err, size_t errlen)
{
	cs_mode mode;
	switch (bits) {
	case 16: mode = CS_MODE_16; break;
	case 32: mode = CS_MODE_32; break;
	case 64: mode = CS_MODE_64; break;
	default:
		snprintf(err, errlen, "unsupported mode: %u-bit", bits);
		return -1;
	}
	kd_disasm *d = calloc(1, sizeof *d);
	if (!d) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	cs_err e = cs_open(CS_ARCH_X86, mode, &d->cs);
	if (e != CS_ERR_OK) {
		snprintf(err, errlen, "capstone: %s", cs_strerror(e));
		free(d);
		return -1;
	}
	cs_option(d->cs, CS_OPT_DETAIL, CS_OPT_ON);
	d->insn = cs_malloc(d->cs);
	if (!d->insn) {
		snprintf(err, errlen, "capstone: out of memory");
		cs_close(&d->cs);
		free(d);
		return -1;
	}
	d->bits = bits;
	*out = d;
	return 0;
}

void kd_disasm_close(kd_disasm *d)
{
	if (!d)
		return;
	cs_free(d->insn, 1);
	cs_close(&d->cs);
	free(d);
}

unsigned kd_disasm_bits(const kd_disasm *d)
{
	return d->bits;
}

void kd_disasm_set_symbolizer(kd_disasm *d, kd_disasm_symbolize_fn fn, void *ctx)
{
	d->symbolize = fn;
	d->sym_ctx = ctx;
}

/* ---- small string builder ---- */
typedef struct sb {
	char *p;
	size_t cap, len;
} sb;

static void sb_putc(sb *b, char c)
{
	if (b->len + 1 < b->cap) {
		b->p[b->len] = c;
		b->p[b->len + 1] = 0;
	}
	b->len++;
}

static void sb_puts(sb *b, const char *s)
{
	while (*s)
		sb_putc(b, *s++);
}

static void sb_printf(sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sb *b, const char *fmt, ...)
{
	char tmp[320];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	sb_puts(b, tmp);
}

static void sb_init(sb *b, char *p, size_t cap)
{
	b->p = p;
	b->cap = cap;
	b->len = 0;
	if (cap)
		p[0] = 0;
}

static size_t sb_done(const sb *b)
{
	return b->len < b->cap ? b->len : (b->cap ? b->cap - 1 : 0);
}

size_t kd_disasm_masm_hex(char *buf, size_t len, uint64_t v)
{
	char tmp[24];
	if (v < 10)
		snprintf(tmp, sizeof tmp, "%u", (unsigned)v);
	else {
		snprintf(tmp, sizeof tmp, "%llXh", (unsigned long long)v);
		if (tmp[0] > '9')
			snprintf(tmp, sizeof tmp, "0%llXh", (unsigned long long)v);
	}
	snprintf(buf, len, "%s", tmp);
	return strlen(tmp) < len ? strlen(tmp) : (len ? len - 1 : 0);
}

static void sb_masm(sb *b, uint64_t v)
{
	char tmp[24];
	kd_disasm_masm_hex(tmp, sizeof tmp, v);
	sb_puts(b, tmp);
}

/* An address as WinDbg prints it in disassembly: fffff800`00101252 on
 * 64-bit code, 8 digits otherwise. */
static void sb_addr(sb *b, unsigned bits, uint64_t v)
{
	if (bits == 64)
		sb_printf(b, "%08x`%08x", (unsigned)(v >> 32), (unsigned)v);
	else
		sb_printf(b, "%08x", (unsigned)v);
}

/* "nt!Foo+0x20 (fffff800`00101252)" or the bare address. */
static void sb_target(sb *b, const kd_disasm *d, uint64_t v)
{
	char name[256];
	if (d->symbolize && d->symbolize(d->sym_ctx, v, name, sizeof name) == 1 && name[0]) {
		sb_puts(b, name);
		sb_puts(b, " (");
		sb_addr(b, d->bits, v);
		sb_putc(b, ')');
	} else {
		sb_addr(b, d->bits, v);
	}
}

static uint64_t width_mask(unsigned size)
{
	return size >= 8 || size == 0 ? UINT64_MAX : ((uint64_t)1 << (size * 8)) - 1;
}

static uint64_t addr_mask(unsigned bits)
{
	return bits == 64 ? UINT64_MAX : bits == 32 ? 0xffffffffu : 0xffffu;
}

/* Split capstone's operand text at top-level ", " into at most 8 pieces. */
static int split_ops(const char *text, const char *piece[8], size_t plen[8])
{
	int n = 0;
	const char *s = text;
	if (!*s)
		return 0;
	while (n < 8) {
		int depth = 0;
		const char *e = s;
		while (*e && !(depth == 0 && *e == ',')) {
			if (*e == '[') depth++;
			else if (*e == ']') depth--;
			e++;
		}
		piece[n] = s;
		plen[n] = (size_t)(e - s);
		n++;
		if (!*e)
			break;
		s = e + 1;
		while (*s == ' ')
			s++;
	}
	return n;
}

static void format_mem(sb *b, kd_disasm *d, const cs_insn *in, const cs_x86_op *op,
		       const char *text, size_t tlen, kd_insn *out)
{
	const x86_op_mem *m = &op->mem;
	/* Size word ("qword ptr ") exactly as capstone placed it. */
	const char *ptr = NULL;
	for (size_t i = 0; i + 3 <= tlen; i++)
		if (memcmp(text + i, "ptr", 3) == 0) {
			ptr = text + i;
			break;
		}
	if (ptr) {
		for (const char *c = text; c < ptr + 3; c++)
			sb_putc(b, *c);
		sb_putc(b, ' ');
	}
	int rip = m->base == X86_REG_RIP || m->base == X86_REG_EIP;
	int absolute = m->base == X86_REG_INVALID && m->index == X86_REG_INVALID;
	if (rip || absolute) {
		uint64_t ea = rip ? in->address + in->size + (uint64_t)m->disp
				  : (uint64_t)m->disp & addr_mask(d->bits);
		char name[256];
		if (m->segment == X86_REG_INVALID && d->symbolize &&
		    d->symbolize(d->sym_ctx, ea, name, sizeof name) == 1 && name[0]) {
			out->has_mem_ref = 1;
			out->mem_ref = ea;
			sb_putc(b, '[');
			sb_puts(b, name);
			sb_puts(b, " (");
			sb_addr(b, d->bits, ea);
			sb_puts(b, ")]");
			return;
		}
		if (rip) {
			out->has_mem_ref = 1;
			out->mem_ref = ea;
			sb_putc(b, '[');
			sb_addr(b, d->bits, ea);
			sb_putc(b, ']');
			return;
		}
		out->has_mem_ref = 1;
		out->mem_ref = ea;
		/* WinDbg: gs:[188h] on x64; fs:[00000124h] / ds:[0FFDF0000h]
		 * on x86, where absolute operands always carry a segment. */
		if (m->segment != X86_REG_INVALID)
			sb_printf(b, "%s:", cs_reg_name(d->cs, m->segment));
		else if (d->bits != 64)
			sb_puts(b, "ds:");
		sb_putc(b, '[');
		if (d->bits == 64) {
			sb_masm(b, ea);
		} else {
			char tmp[24];
			snprintf(tmp, sizeof tmp, "%08llX", (unsigned long long)ea);
			if (tmp[0] > '9')
				sb_putc(b, '0');
			sb_puts(b, tmp);
			sb_putc(b, 'h');
		}
		sb_putc(b, ']');
		return;
	}
	if (m->segment != X86_REG_INVALID)
		sb_printf(b, "%s:", cs_reg_name(d->cs, m->segment));
	sb_putc(b, '[');
	int any = 0;
	if (m->base != X86_REG_INVALID) {
		sb_puts(b, cs_reg_name(d->cs, m->base));
		any = 1;
	}
	if (m->index != X86_REG_INVALID) {
		if (any)
			sb_putc(b, '+');
		sb_puts(b, cs_reg_name(d->cs, m->index));
		if (m->scale > 1)
			sb_printf(b, "*%d", m->scale);
		any = 1;
	}
	if (m->disp) {
		int64_t disp = m->disp;
		if (d->bits != 64)
			disp = (int32_t)disp;
		if (disp < 0) {
			sb_putc(b, '-');
			sb_masm(b, (uint64_t)0 - (uint64_t)disp);
		} else {
			sb_putc(b, '+');
			sb_masm(b, (uint64_t)disp);
		}
	}
	sb_putc(b, ']');
}

static int in_group(const cs_insn *in, uint8_t g)
{
	const cs_detail *det = in->detail;
	for (uint8_t i = 0; i < det->groups_count; i++)
		if (det->groups[i] == g)
			return 1;
	return 0;
}

/* WinDbg spells a few mnemonics differently from capstone. */
static const struct {
	const char *cs, *windbg;
} mnemonic_map[] = {
	{ "movabs", "mov" },
	{ "int3", "int" },       /* operand "3" added below */
	{ "ud1", "ud1" },
};

/*
 * String instructions: capstone says "rep stosq qword ptr [rdi], rax",
 * WinDbg "rep stos qword ptr [rdi]" -- the size-less mnemonic and only the
 * memory operands.  Applied after formatting; SSE movsd/cmpsd (xmm
 * operands) are left alone.
 */
static void windbg_string_insn(kd_insn *out)
{
	static const char *const bases[] = { "movs", "stos", "lods", "scas", "cmps" };
	char *m = out->mnemonic;
	char *op = strrchr(m, ' ');
	char *base = op ? op + 1 : m;
	size_t n = strlen(base);
	if (n != 5 || !strchr("bwdq", base[4]) || strstr(out->operands, "xmm"))
		return;
	int match = 0;
	for (size_t i = 0; i < sizeof bases / sizeof bases[0]; i++)
		if (strncmp(base, bases[i], 4) == 0)
			match = 1;
	if (!match)
		return;
	base[4] = 0;
	char kept[sizeof out->operands] = "";
	size_t kl = 0;
	const char *p = out->operands;
	while (*p) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (memmem(p, len, "ptr", 3) && kl + len + 2 < sizeof kept) {
			if (kl)
				kept[kl++] = ',';
			memcpy(kept + kl, p, len);
			kl += len;
			kept[kl] = 0;
		}
		p += len;
		if (*p == ',')
			p++;
	}
	memcpy(out->operands, kept, kl + 1);
}

static int decode_one(kd_disasm *d, const uint8_t *code, size_t len, uint64_t addr, kd_insn *out);

int kd_disasm_one(kd_disasm *d, const uint8_t *code, size_t len, uint64_t addr, kd_insn *out)
{
	int rc = decode_one(d, code, len, addr, out);
	if (rc == 0)
		windbg_string_insn(out);
	return rc;
}

static int decode_one(kd_disasm *d, const uint8_t *code, size_t len, uint64_t addr, kd_insn *out)
{
	memset(out, 0, sizeof *out);
	out->address = addr;
	const uint8_t *p = code;
	size_t n = len;
	uint64_t a = addr;
	if (!cs_disasm_iter(d->cs, &p, &n, &a, d->insn)) {
		out->length = 1;
		if (len)
			out->bytes[0] = code[0];
		snprintf(out->mnemonic, sizeof out->mnemonic, "???");
		return -1;
	}
	const cs_insn *in = d->insn;
	out->length = in->size;
	memcpy(out->bytes, in->bytes, in->size > KD_INSN_MAX ? KD_INSN_MAX : in->size);
	snprintf(out->mnemonic, sizeof out->mnemonic, "%s", in->mnemonic);
	for (size_t i = 0; i < sizeof mnemonic_map / sizeof mnemonic_map[0]; i++)
		if (strcmp(in->mnemonic, mnemonic_map[i].cs) == 0)
			snprintf(out->mnemonic, sizeof out->mnemonic, "%s", mnemonic_map[i].windbg);

	out->is_call = in_group(in, X86_GRP_CALL);
	out->is_ret = in_group(in, X86_GRP_RET) || in_group(in, X86_GRP_IRET) ||
		      in->id == X86_INS_SYSRET || in->id == X86_INS_SYSEXIT;
	out->is_jump = in_group(in, X86_GRP_JUMP);
	out->is_cond = out->is_jump && in->id != X86_INS_JMP && in->id != X86_INS_LJMP;

	sb b;
	sb_init(&b, out->operands, sizeof out->operands);
	if (in->id == X86_INS_INT3) {
		sb_puts(&b, "3");
		return 0;
	}
	const cs_x86 *x = &in->detail->x86;
	const char *piece[8];
	size_t plen[8];
	int np = split_ops(in->op_str, piece, plen);
	int branch = out->is_call || out->is_jump;
	if (np != x->op_count) {
		/* Implicit operands or an unusual printer: fall back to
		 * capstone's text without blanks. */
		for (const char *c = in->op_str; *c; c++) {
			if (*c == ' ' && c > in->op_str &&
			    (strchr(",+-*", c[-1]) || (c[1] && strchr("+-*", c[1]))))
				continue;
			sb_putc(&b, *c);
		}
		return 0;
	}
	for (int i = 0; i < x->op_count; i++) {
		const cs_x86_op *op = &x->operands[i];
		if (i)
			sb_putc(&b, ',');
		switch (op->type) {
		case X86_OP_REG:
			sb_puts(&b, cs_reg_name(d->cs, op->reg));
			break;
		case X86_OP_IMM:
			if (branch && x->op_count == 1) {
				uint64_t t = (uint64_t)op->imm & addr_mask(d->bits);
				out->has_target = 1;
				out->target = t;
				sb_target(&b, d, t);
			} else {
				uint64_t imm = (uint64_t)op->imm & width_mask(op->size);
				char name[256];
				/* An immediate that is an address inside a module
				 * (push of a string, mov of a table's address) reads
				 * as WinDbg shows it: offset nt!Foo (80501000). Only
				 * pointer-wide immediates: small constants are not
				 * addresses. */
				if (op->size == d->bits / 8 && imm >= 0x10000 && d->symbolize &&
				    d->symbolize(d->sym_ctx, imm, name, sizeof name) == 1 && name[0]) {
					sb_puts(&b, "offset ");
					sb_puts(&b, name);
					sb_puts(&b, " (");
					sb_addr(&b, d->bits, imm);
					sb_putc(&b, ')');
				} else {
					sb_masm(&b, imm);
				}
			}
			break;
		case X86_OP_MEM:
			format_mem(&b, d, in, op, piece[i], plen[i], out);
			break;
		default:
			for (size_t k = 0; k < plen[i]; k++)
				sb_putc(&b, piece[i][k]);
			break;
		}
	}
	return 0;
}

size_t kd_disasm_format(const kd_disasm *d, const kd_insn *in, char *buf, size_t len)
{
	sb b;
	sb_init(&b, buf, len);
	sb_addr(&b, d->bits, in->address);
	sb_putc(&b, ' ');
	/* The byte column is 15 wide plus a blank; longer encodings push the
	 * mnemonic right by one blank, as WinDbg does. */
	size_t start = b.len;
	for (unsigned i = 0; i < in->length && i < KD_INSN_MAX; i++)
		sb_printf(&b, "%02x", in->bytes[i]);
	while (b.len - start < 15)
		sb_putc(&b, ' ');
	sb_putc(&b, ' ');
	if (in->operands[0]) {
		sb_printf(&b, "%-7s ", in->mnemonic);
		sb_puts(&b, in->operands);
	} else {
		sb_puts(&b, in->mnemonic);
	}
	return sb_done(&b);
}

size_t kd_disasm_format_unreadable(const kd_disasm *d, uint64_t addr, char *buf, size_t len)
{
	sb b;
	sb_init(&b, buf, len);
	sb_addr(&b, d->bits, addr);
	sb_puts(&b, " ??              ???");
	return sb_done(&b);
}

int kd_disasm_insn_length(kd_disasm *d, const uint8_t *code, size_t len, uint64_t addr)
{
	kd_insn in;
	if (kd_disasm_one(d, code, len, addr, &in) < 0)
		return -1;
	return (int)in.length;
}

int kd_disasm_is_call(kd_disasm *d, const uint8_t *code, size_t len, uint64_t addr)
{
	kd_insn in;
	if (kd_disasm_one(d, code, len, addr, &in) < 0)
		return -1;
	return in.is_call;
}

int kd_disasm_is_ret(kd_disasm *d, const uint8_t *code, size_t len, uint64_t addr)
{
	kd_insn in;
	if (kd_disasm_one(d, code, len, addr, &in) < 0)
		return -1;
	return in.is_ret;
}

/*
 * x86 cannot be decoded backwards, so try every start in the window and
 * keep the one whose forward decoding lands exactly on `end` with the most
 * instructions at or before `count` (WinDbg's ub does the same kind of
 * resynchronisation; a longer lead-in makes the guess reliable).
 */
size_t kd_disasm_back(kd_disasm *d, const uint8_t *code, size_t len, uint64_t end, unsigned count)
{
	if (count == 0)
		return 0;
	size_t best = 0;
	unsigned best_n = 0;
	uint64_t base = end - len;
	for (size_t s = 0; s < len; s++) {
		/* Offsets of instruction starts on this path. */
		size_t starts[512];
		unsigned n = 0;
		size_t off = s;
		int ok = 1;
		while (off < len) {
			kd_insn in;
			if (n >= sizeof starts / sizeof starts[0] ||
			    kd_disasm_one(d, code + off, len - off, base + off, &in) < 0) {
				ok = 0;
				break;
			}
			starts[n++] = off;
			off += in.length;
		}
		if (!ok || off != len || n == 0)
			continue;
		/* Prefer paths that give `count` instructions, and among them the
		 * longest lead-in (earliest s), which resynchronises best. */
		unsigned have = n < count ? n : count;
		if (have > best_n) {
			best_n = have;
			best = len - starts[n - have];
		}
		if (best_n == count)
			break;
	}
	return best;
}
