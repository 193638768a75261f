/*
 * context.c - registers by WinDbg name in the raw CONTEXT records of
 * Get/SetContext (x64 0x4D0 bytes, x86 0x2CC; fact sheet §12).
 */
#include <string.h>
#include <strings.h>

#include "target.h"

typedef struct reg_def {
	const char *name;
	unsigned short off;   /* byte offset in CONTEXT */
	unsigned char size;   /* 1 2 4 8 bytes of the value */
	unsigned char shift;  /* 8 for ah/bh/ch/dh */
} reg_def;

/* x64 CONTEXT offsets (§12): Rax 0x78 ... R15 0xF0, Rip 0xF8. */
static const reg_def x64_regs[] = {
	{ "rax", 0x78, 8, 0 }, { "rcx", 0x80, 8, 0 }, { "rdx", 0x88, 8, 0 }, { "rbx", 0x90, 8, 0 },
	{ "rsp", 0x98, 8, 0 }, { "rbp", 0xA0, 8, 0 }, { "rsi", 0xA8, 8, 0 }, { "rdi", 0xB0, 8, 0 },
	{ "r8", 0xB8, 8, 0 }, { "r9", 0xC0, 8, 0 }, { "r10", 0xC8, 8, 0 }, { "r11", 0xD0, 8, 0 },
	{ "r12", 0xD8, 8, 0 }, { "r13", 0xE0, 8, 0 }, { "r14", 0xE8, 8, 0 }, { "r15", 0xF0, 8, 0 },
	{ "rip", 0xF8, 8, 0 },
	{ "eax", 0x78, 4, 0 }, { "ecx", 0x80, 4, 0 }, { "edx", 0x88, 4, 0 }, { "ebx", 0x90, 4, 0 },
	{ "esp", 0x98, 4, 0 }, { "ebp", 0xA0, 4, 0 }, { "esi", 0xA8, 4, 0 }, { "edi", 0xB0, 4, 0 },
	{ "r8d", 0xB8, 4, 0 }, { "r9d", 0xC0, 4, 0 }, { "r10d", 0xC8, 4, 0 }, { "r11d", 0xD0, 4, 0 },
	{ "r12d", 0xD8, 4, 0 }, { "r13d", 0xE0, 4, 0 }, { "r14d", 0xE8, 4, 0 }, { "r15d", 0xF0, 4, 0 },
	{ "eip", 0xF8, 4, 0 },
	{ "ax", 0x78, 2, 0 }, { "cx", 0x80, 2, 0 }, { "dx", 0x88, 2, 0 }, { "bx", 0x90, 2, 0 },
	{ "sp", 0x98, 2, 0 }, { "bp", 0xA0, 2, 0 }, { "si", 0xA8, 2, 0 }, { "di", 0xB0, 2, 0 },
	{ "r8w", 0xB8, 2, 0 }, { "r9w", 0xC0, 2, 0 }, { "r10w", 0xC8, 2, 0 }, { "r11w", 0xD0, 2, 0 },
	{ "r12w", 0xD8, 2, 0 }, { "r13w", 0xE0, 2, 0 }, { "r14w", 0xE8, 2, 0 }, { "r15w", 0xF0, 2, 0 },
	{ "al", 0x78, 1, 0 }, { "cl", 0x80, 1, 0 }, { "dl", 0x88, 1, 0 }, { "bl", 0x90, 1, 0 },
	{ "spl", 0x98, 1, 0 }, { "bpl", 0xA0, 1, 0 }, { "sil", 0xA8, 1, 0 }, { "dil", 0xB0, 1, 0 },
	{ "r8b", 0xB8, 1, 0 }, { "r9b", 0xC0, 1, 0 }, { "r10b", 0xC8, 1, 0 }, { "r11b", 0xD0, 1, 0 },
	{ "r12b", 0xD8, 1, 0 }, { "r13b", 0xE0, 1, 0 }, { "r14b", 0xE8, 1, 0 }, { "r15b", 0xF0, 1, 0 },
	{ "ah", 0x78, 1, 8 }, { "ch", 0x80, 1, 8 }, { "dh", 0x88, 1, 8 }, { "bh", 0x90, 1, 8 },
	{ "efl", 0x44, 4, 0 }, { "mxcsr", 0x34, 4, 0 },
	{ "cs", 0x38, 2, 0 }, { "ds", 0x3A, 2, 0 }, { "es", 0x3C, 2, 0 }, { "fs", 0x3E, 2, 0 },
	{ "gs", 0x40, 2, 0 }, { "ss", 0x42, 2, 0 },
	{ "dr0", 0x48, 8, 0 }, { "dr1", 0x50, 8, 0 }, { "dr2", 0x58, 8, 0 }, { "dr3", 0x60, 8, 0 },
	{ "dr6", 0x68, 8, 0 }, { "dr7", 0x70, 8, 0 },
	{ NULL, 0, 0, 0 }
};

/* x86 CONTEXT offsets (§12): Edi 0x9C ... Eax 0xB0, Eip 0xB8. */
static const reg_def x86_regs[] = {
	{ "eax", 0xB0, 4, 0 }, { "ebx", 0xA4, 4, 0 }, { "ecx", 0xAC, 4, 0 }, { "edx", 0xA8, 4, 0 },
	{ "esi", 0xA0, 4, 0 }, { "edi", 0x9C, 4, 0 }, { "ebp", 0xB4, 4, 0 }, { "esp", 0xC4, 4, 0 },
	{ "eip", 0xB8, 4, 0 }, { "efl", 0xC0, 4, 0 },
	{ "ax", 0xB0, 2, 0 }, { "bx", 0xA4, 2, 0 }, { "cx", 0xAC, 2, 0 }, { "dx", 0xA8, 2, 0 },
	{ "si", 0xA0, 2, 0 }, { "di", 0x9C, 2, 0 }, { "bp", 0xB4, 2, 0 }, { "sp", 0xC4, 2, 0 },
	{ "ip", 0xB8, 2, 0 },
	{ "al", 0xB0, 1, 0 }, { "bl", 0xA4, 1, 0 }, { "cl", 0xAC, 1, 0 }, { "dl", 0xA8, 1, 0 },
	{ "ah", 0xB0, 1, 8 }, { "bh", 0xA4, 1, 8 }, { "ch", 0xAC, 1, 8 }, { "dh", 0xA8, 1, 8 },
	{ "cs", 0xBC, 2, 0 }, { "ss", 0xC8, 2, 0 }, { "ds", 0x98, 2, 0 }, { "es", 0x94, 2, 0 },
	{ "fs", 0x90, 2, 0 }, { "gs", 0x8C, 2, 0 },
	{ "dr0", 0x04, 4, 0 }, { "dr1", 0x08, 4, 0 }, { "dr2", 0x0C, 4, 0 }, { "dr3", 0x10, 4, 0 },
	{ "dr6", 0x14, 4, 0 }, { "dr7", 0x18, 4, 0 },
	{ NULL, 0, 0, 0 }
};

static const reg_def *find_reg(const kd_context *ctx, const char *name)
{
	const reg_def *t = ctx->arch == KD_ARCH_X86 ? x86_regs : x64_regs;
	for (; t->name; t++)
		if (strcasecmp(t->name, name) == 0)
			return t;
	return NULL;
}

static uint64_t get_le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void put_le(uint8_t *p, unsigned n, uint64_t v)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

int kd_context_get(const kd_context *ctx, const char *name, uint64_t *value)
{
	const reg_def *r = find_reg(ctx, name);
	if (!r || (size_t)r->off + r->size > ctx->size)
		return KD_E_INVAL;
	if (r->shift)
		*value = ctx->raw[r->off + 1];
	else
		*value = get_le(ctx->raw + r->off, r->size);
	return 0;
}

int kd_context_set(kd_context *ctx, const char *name, uint64_t value)
{
	const reg_def *r = find_reg(ctx, name);
	if (!r || (size_t)r->off + r->size > ctx->size)
		return KD_E_INVAL;
	if (r->shift) {
		ctx->raw[r->off + 1] = (uint8_t)value;
	} else if (r->size == 4 && ctx->arch == KD_ARCH_X64 && name[0] != 'e' &&
		   strcasecmp(name, "mxcsr") != 0) {
		/* r8d = ... zero-extends like the CPU */
		put_le(ctx->raw + r->off, 8, (uint32_t)value);
	} else if (r->size == 4 && ctx->arch == KD_ARCH_X64 && name[0] == 'e' &&
		   strcasecmp(name, "efl") != 0) {
		put_le(ctx->raw + r->off, 8, (uint32_t)value);
	} else {
		put_le(ctx->raw + r->off, r->size, value);
	}
	return 0;
}

unsigned kd_context_reg_size(const kd_context *ctx, const char *name)
{
	const reg_def *r = find_reg(ctx, name);
	return r ? r->size : 0;
}

uint64_t kd_context_pc(const kd_context *ctx)
{
	uint64_t v = 0;
	kd_context_get(ctx, ctx->arch == KD_ARCH_X86 ? "eip" : "rip", &v);
	return v;
}

uint64_t kd_context_sp(const kd_context *ctx)
{
	uint64_t v = 0;
	kd_context_get(ctx, ctx->arch == KD_ARCH_X86 ? "esp" : "rsp", &v);
	return v;
}

uint64_t kd_context_fp(const kd_context *ctx)
{
	uint64_t v = 0;
	kd_context_get(ctx, ctx->arch == KD_ARCH_X86 ? "ebp" : "rbp", &v);
	return v;
}
