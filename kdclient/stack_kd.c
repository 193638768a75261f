/*
 * stack_kd.c - stack walks of a live session: callbacks for the walkers
 * and WinDbg's k output.
 */
#include "stack_kd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"
#include "modules.h"
#include "stack_x86.h"
#include "nt_state.h"
#include "symbols/symbols.h"

/* One walk reads the same stack and unwind-data blocks over and over
 * (args, return slots, UNWIND_INFO headers then codes): cache aligned
 * blocks for the duration of the walk so each costs one round trip. */
#define BLK 512
#define NBLK 32

typedef struct walk_ctx {
	kd_session *s;
	kd_target *t;
	struct sym_modset *set;
	struct { uint64_t addr; int valid; uint8_t b[BLK]; } blk[NBLK];
	unsigned next;
} walk_ctx;

static const uint8_t *block(walk_ctx *w, uint64_t a)
{
	for (int i = 0; i < NBLK; i++)
		if (w->blk[i].valid && w->blk[i].addr == a)
			return w->blk[i].b;
	unsigned k = w->next;
	w->next = (w->next + 1) % NBLK;
	w->blk[k].valid = 0;
	if (nt_session_read(w->s, a, w->blk[k].b, BLK) < 0)
		return NULL;
	w->blk[k].addr = a;
	w->blk[k].valid = 1;
	return w->blk[k].b;
}

static int wread(void *ctx, uint64_t addr, void *buf, size_t len)
{
	walk_ctx *w = ctx;
	uint8_t *out = buf;
	size_t done = 0;
	while (done < len) {
		uint64_t a = addr + done, base = a & ~(uint64_t)(BLK - 1);
		const uint8_t *b = block(w, base);
		if (!b)   /* a block may straddle an unreadable page: ask exactly */
			return nt_session_read(w->s, addr, buf, len);
		size_t n = BLK - (size_t)(a - base);
		if (n > len - done)
			n = len - done;
		memcpy(out + done, b + (a - base), n);
		done += n;
	}
	return 0;
}

static int lookup(void *ctx, uint64_t pc, stack_x64_func *fn)
{
	walk_ctx *w = ctx;
	sym_module *m = w->set ? sym_modset_module_at(w->set, pc) : NULL;
	pe_image *pe = m ? sym_module_pe(m) : NULL;
	if (!pe)
		return 0;
	uint32_t b, e, u;
	uint64_t base = sym_module_base(m);
	if (pe_find_runtime_function(pe, (uint32_t)(pc - base), &b, &e, &u) < 0)
		return 0;
	fn->image_base = base;
	fn->begin = b;
	fn->end = e;
	fn->unwind = u;
	return 1;
}

static int is_code(void *ctx, uint64_t addr)
{
	walk_ctx *w = ctx;
	sym_module *m = w->set ? sym_modset_module_at(w->set, addr) : NULL;
	if (!m)
		return 0;
	pe_image *pe = sym_module_pe(m);
	if (!pe)
		return 1;
	uint32_t rva = (uint32_t)(addr - sym_module_base(m));
	size_t n = pe_section_count(pe);
	for (size_t i = 0; i < n; i++) {
		pe_section sec;
		if (pe_section_at(pe, i, &sec) == 0 && rva >= sec.virtual_address &&
		    rva < sec.virtual_address + (sec.virtual_size ? sec.virtual_size : sec.raw_size))
			return (sec.characteristics & 0x20000000u) ? 1 : 0;   /* IMAGE_SCN_MEM_EXECUTE */
	}
	return 0;
}

/* The PDB of the module holding an x86 pc (NULL if none is loaded), and
 * the module's base for turning pc into an RVA. */
static pdb_file *x86_pdb_at(walk_ctx *w, uint32_t pc, uint32_t *base)
{
	sym_module *m = w->set ? sym_modset_module_at(w->set, pc) : NULL;
	pdb_file *pdb = m ? sym_module_pdb(m) : NULL;
	if (pdb)
		*base = (uint32_t)sym_module_base(m);
	return pdb;
}

static int x86_frame_data(void *ctx, uint32_t pc, stack_x86_framedata *out)
{
	uint32_t base;
	pdb_file *pdb = x86_pdb_at(ctx, pc, &base);
	pdb_frame_data fd;
	if (!pdb)
		return 0;
	if (pdb_find_frame_data(pdb, pc - base, &fd) < 0)
		return 0;
	out->start = base + fd.start;
	out->code_size = fd.code_size;
	out->locals_size = fd.locals_size;
	out->params_size = fd.params_size;
	out->saved_regs_size = fd.saved_regs_size;
	out->prolog_size = fd.prolog_size;
	out->function_start = (fd.flags & 4) != 0;   /* IsFunctionStart */
	out->program = fd.program;
	return 1;
}

static int x86_fpo(void *ctx, uint32_t pc, stack_x86_fpo *out)
{
	uint32_t base;
	pdb_file *pdb = x86_pdb_at(ctx, pc, &base);
	pdb_fpo f;
	if (!pdb)
		return 0;
	if (pdb_find_fpo(pdb, pc - base, &f) < 0)
		return 0;
	out->start = base + f.start;
	out->size = f.size;
	out->locals = f.locals;
	out->params = f.params;
	out->prolog = f.prolog;
	out->saved_regs = f.saved_regs;
	out->uses_bp = f.uses_bp;
	out->frame_type = f.frame_type;
	return 1;
}

int stack_kd_walk(kd_session *s, const kd_context *ctx, stack_frame *frames, kd_context *ctx_out,
                  size_t max, size_t *count, char *err, size_t errlen)
{
	kd_context cur;
	if (!ctx) {
		if (kd_session_get_context(s, &cur) < 0) {
			snprintf(err, errlen, "cannot get the register context: %s", kd_session_errmsg(s));
			return -1;
		}
		ctx = &cur;
	}
	walk_ctx *w = calloc(1, sizeof(*w));
	if (!w) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	w->s = s;
	w->t = kd_session_target(s);
	w->set = kd_session_symbols(s);
	int rc = 0;
	if (ctx->arch == KD_ARCH_X86) {
		stack_x86_io io = { w, wread, x86_frame_data, x86_fpo, is_code };
		stack_x86_regs r;
		stack_x86_regs_from_context(&r, ctx->raw, ctx->size);
		stack_x86_regs *rr = ctx_out ? calloc(max, sizeof(*rr)) : NULL;
		rc = stack_x86_walk(&io, &r, frames, rr, max, count, err, errlen);
		for (size_t i = 0; rr && i < *count; i++) {
			ctx_out[i] = *ctx;
			stack_x86_regs_to_context(&rr[i], ctx_out[i].raw, ctx_out[i].size);
		}
		free(rr);
	} else {
		stack_x64_io io = { w, wread, lookup, is_code };
		stack_x64_regs r;
		stack_x64_regs_from_context(&r, ctx->raw, ctx->size);
		stack_x64_regs *rr = ctx_out ? calloc(max, sizeof(*rr)) : NULL;
		rc = stack_x64_walk(&io, &r, frames, rr, max, count, err, errlen);
		for (size_t i = 0; rr && i < *count; i++) {
			ctx_out[i] = *ctx;
			stack_x64_regs_to_context(&rr[i], ctx_out[i].raw, ctx_out[i].size);
		}
		free(rr);
	}
	free(w);
	return rc;
}

static int is_x86(kd_session *s)
{
	kd_target *t = kd_session_target(s);
	return t && t->version.arch == KD_ARCH_X86;
}

void stack_kd_print_header(kd_session *s, const stack_print_opts *o)
{
	const char *in = o->indent ? o->indent : "";
	const char *num = o->no_numbers ? "" : " # ";
	if (o->call_only) {
		kd_out(s, "%s%sCall Site\n", in, num);
	} else if (is_x86(s)) {
		kd_out(s, o->args ? "%s%sChildEBP RetAddr  Args to Child              \n" : "%s%sChildEBP RetAddr  \n", in, num);
	} else if (o->args) {
		kd_out(s, "%s%sChild-SP          RetAddr               : %-71s : Call Site\n", in, num, "Args to Child");
	} else {
		kd_out(s, "%s%sChild-SP          RetAddr               Call Site\n", in, num);
	}
}

static void p64(char *buf, uint64_t v)
{
	snprintf(buf, 24, "%08x`%08x", (unsigned)(v >> 32), (unsigned)v);
}

void stack_kd_print(kd_session *s, const stack_frame *f, size_t count, const stack_print_opts *o)
{
	struct sym_modset *set = kd_session_symbols(s);
	if (count && !o->quiet && (!set || !sym_modset_module_at(set, f[0].pc)))
		kd_out(s, "WARNING: Frame IP not in any known module. Following frames may be wrong.\n");
	for (size_t i = 0; i < count; i++) {
		char site[512], a[24], b[24];
		if (i > 0 && f[i - 1].how == STACK_HOW_SCAN)
			kd_out(s, "WARNING: Stack unwind information not available. Following frames may be wrong.\n");
		/* no symbol: WinDbg shows the call site as 0x + address */
		if (!kd_symbolize(s, f[i].pc, site, sizeof(site))) {
			char a64[24];
			if (is_x86(s))
				snprintf(site, sizeof(site), "0x%llx", (unsigned long long)f[i].pc);
			else
				snprintf(site, sizeof(site), "0x%s", kd_fmt_ptr(s, f[i].pc, a64));
		}
		size_t n = o->first_number + i;
		char nb[40];
		if (o->no_numbers)
			snprintf(nb, sizeof(nb), "%s", o->indent ? o->indent : "");
		else
			snprintf(nb, sizeof(nb), "%s%02zx ", o->indent ? o->indent : "", n);
		if (o->call_only) {
			kd_out(s, "%s%s\n", nb, site);
			continue;
		}
		char extra[160] = "";
		if (o->verbose) {
			if (f[i].how == STACK_HOW_FPO || f[i].how == STACK_HOW_FRAMEDATA)
				snprintf(extra, sizeof(extra), " (FPO: %s)", f[i].how == STACK_HOW_FPO ? "FPO_DATA" : "frame data");
			else if (f[i].how == STACK_HOW_MACHFRAME)
				snprintf(extra, sizeof(extra), " (machine frame)");
			else if (f[i].how == STACK_HOW_SCAN)
				snprintf(extra, sizeof(extra), " (caller found by stack scan)");
			else if (f[i].how == STACK_HOW_EPILOG)
				snprintf(extra, sizeof(extra), " (in epilogue)");
		}
		if (is_x86(s)) {
			if (o->args)
				kd_out(s, "%s%08x %08x %08x %08x %08x %s%s\n", nb, (unsigned)f[i].fp, (unsigned)f[i].ret,
				       (unsigned)f[i].args[0], (unsigned)f[i].args[1], (unsigned)f[i].args[2], site, extra);
			else
				kd_out(s, "%s%08x %08x %s%s\n", nb, (unsigned)f[i].fp, (unsigned)f[i].ret, site, extra);
			continue;
		}
		p64(a, f[i].sp);
		p64(b, f[i].ret);
		if (o->args) {
			char g[4][24];
			for (int k = 0; k < 4; k++)
				p64(g[k], f[i].args[k]);
			kd_out(s, "%s%s %s     : %s %s %s %s : %s%s\n", nb, a, b, g[0], g[1], g[2], g[3], site, extra);
		} else if (o->params) {
			kd_out(s, "%s%s %s     %s(0x%llx, 0x%llx, 0x%llx, 0x%llx)%s\n", nb, a, b, site,
			       (unsigned long long)f[i].args[0], (unsigned long long)f[i].args[1],
			       (unsigned long long)f[i].args[2], (unsigned long long)f[i].args[3], extra);
		} else {
			kd_out(s, "%s%s %s     %s%s\n", nb, a, b, site, extra);
		}
	}
}

int stack_kd_thread_context(kd_session *s, uint64_t ks, kd_context *out)
{
	kd_target *t = kd_session_target(s);
	memset(out, 0, sizeof(*out));
	if (t && t->version.arch == KD_ARCH_X86) {
		/* x86 KSWITCHFRAME: ExceptionList (+0), ApcBypassDisable (+4),
		 * return address into KiSwapContext (+8); KiSwapContext keeps the
		 * caller's EBP at the bottom of its own frame, just above. */
		uint8_t b[16];
		if (nt_session_read(s, ks, b, sizeof(b)) < 0)
			return -1;
		stack_x86_regs r = { 0 };
		r.eip = (uint32_t)(b[8] | b[9] << 8 | b[10] << 16 | (uint32_t)b[11] << 24);
		r.gpr[X86_EBP] = (uint32_t)(b[12] | b[13] << 8 | b[14] << 16 | (uint32_t)b[15] << 24);
		r.gpr[X86_ESP] = (uint32_t)ks + 12;
		out->arch = KD_ARCH_X86;
		out->size = 0x2cc;
		stack_x86_regs_to_context(&r, out->raw, out->size);
		return 0;
	}
	/* KSWITCH_FRAME: P1Home..P5Home, ApcBypass, Rbp (+0x30), Return (+0x38). */
	uint8_t b[0x40];
	if (nt_session_read(s, ks, b, sizeof(b)) < 0)
		return -1;
	stack_x64_regs r;
	memset(&r, 0, sizeof(r));
	for (int i = 7; i >= 0; i--) {
		r.gpr[X64_RBP] = r.gpr[X64_RBP] << 8 | b[0x30 + i];
		r.rip = r.rip << 8 | b[0x38 + i];
	}
	r.gpr[X64_RSP] = ks + 0x40;
	r.cs = 0x10;
	r.ss = 0x18;
	out->arch = KD_ARCH_X64;
	out->size = 0x4d0;
	stack_x64_regs_to_context(&r, out->raw, out->size);
	return 0;
}

/* KTRAP_FRAME fields and their Windows 8+ x64 offsets (used when nt's PDB
 * has no _KTRAP_FRAME). */
static const struct { const char *name; int reg; uint32_t off; unsigned size; } trap_fields[] = {
	{ "Rax", X64_RAX, 0x30, 8 }, { "Rcx", X64_RCX, 0x38, 8 }, { "Rdx", X64_RDX, 0x40, 8 },
	{ "R8", X64_R8, 0x48, 8 }, { "R9", X64_R9, 0x50, 8 }, { "R10", X64_R10, 0x58, 8 },
	{ "R11", X64_R11, 0x60, 8 }, { "Rbx", X64_RBX, 0x140, 8 }, { "Rdi", X64_RDI, 0x148, 8 },
	{ "Rsi", X64_RSI, 0x150, 8 }, { "Rbp", X64_RBP, 0x158, 8 }, { "Rip", -1, 0x168, 8 },
	{ "SegCs", -2, 0x170, 2 }, { "EFlags", -3, 0x178, 4 }, { "Rsp", X64_RSP, 0x180, 8 },
	{ "SegSs", -4, 0x188, 2 },
};

/* x86 KTRAP_FRAME (NT's classic layout; offsets from the PDB when it has
 * the type).  reg: X86_* index, or -1 eip, -2 efl, -3 cs, -4 HardwareEsp. */
static const struct { const char *name; int reg; uint32_t off; } trap_fields_x86[] = {
	{ "Edx", X86_EDX, 0x3c }, { "Ecx", X86_ECX, 0x40 }, { "Eax", X86_EAX, 0x44 },
	{ "Edi", X86_EDI, 0x54 }, { "Esi", X86_ESI, 0x58 }, { "Ebx", X86_EBX, 0x5c },
	{ "Ebp", X86_EBP, 0x60 }, { "Eip", -1, 0x68 }, { "SegCs", -3, 0x6c },
	{ "EFlags", -2, 0x70 }, { "HardwareEsp", -4, 0x74 },
};

static int trap_context_x86(kd_session *s, uint64_t addr, kd_context *out, char *err, size_t errlen)
{
	pdb_file *pdb = kd_modules_pdb(s, "nt");
	uint32_t ti = 0;
	int have_type = pdb && pdb_find_type(pdb, "_KTRAP_FRAME", &ti) == 0;
	uint8_t b[0x8c];
	if (nt_session_read(s, addr, b, sizeof(b)) < 0) {
		snprintf(err, errlen, "cannot read KTRAP_FRAME at %08llx", (unsigned long long)addr);
		return -1;
	}
	if (kd_session_get_context(s, out) < 0 || out->arch != KD_ARCH_X86) {
		memset(out, 0, sizeof(*out));
		out->arch = KD_ARCH_X86;
		out->size = 0x2cc;
	}
	stack_x86_regs r;
	stack_x86_regs_from_context(&r, out->raw, out->size);
	uint32_t cs = 0, hw_esp = 0, hw_esp_off = 0x74;
	for (size_t i = 0; i < sizeof(trap_fields_x86) / sizeof(trap_fields_x86[0]); i++) {
		uint32_t off = trap_fields_x86[i].off;
		uint64_t o64;
		if (have_type && pdb_type_field(pdb, ti, trap_fields_x86[i].name, &o64, NULL) == 0 && o64 + 4 <= sizeof(b))
			off = (uint32_t)o64;
		uint32_t v = (uint32_t)(b[off] | b[off + 1] << 8 | b[off + 2] << 16 | (uint32_t)b[off + 3] << 24);
		switch (trap_fields_x86[i].reg) {
		case -1: r.eip = v; break;
		case -2: r.eflags = v; break;
		case -3: cs = v & 0xffff; break;
		case -4: hw_esp = v; hw_esp_off = off; break;
		default: r.gpr[trap_fields_x86[i].reg] = v; break;
		}
	}
	/* The CPU pushes ESP only on a privilege change: a trap from kernel
	 * mode left the interrupted ESP just above EFlags. */
	r.gpr[X86_ESP] = (cs & 1) ? hw_esp : (uint32_t)addr + hw_esp_off;
	stack_x86_regs_to_context(&r, out->raw, out->size);
	return 0;
}

int stack_kd_trap_context(kd_session *s, uint64_t addr, kd_context *out, char *err, size_t errlen)
{
	kd_target *t = kd_session_target(s);
	if (t && t->version.arch == KD_ARCH_X86)
		return trap_context_x86(s, addr, out, err, errlen);
	pdb_file *pdb = kd_modules_pdb(s, "nt");
	uint32_t ti = 0;
	int have_type = pdb && pdb_find_type(pdb, "_KTRAP_FRAME", &ti) == 0;
	uint8_t b[0x200];
	if (nt_session_read(s, addr, b, 0x190) < 0) {
		snprintf(err, errlen, "cannot read KTRAP_FRAME at %016llx", (unsigned long long)addr);
		return -1;
	}
	stack_x64_regs r;
	if (kd_session_get_context(s, out) < 0) {
		memset(out, 0, sizeof(*out));
		out->arch = KD_ARCH_X64;
		out->size = 0x4d0;
	}
	stack_x64_regs_from_context(&r, out->raw, out->size);
	for (size_t i = 0; i < sizeof(trap_fields) / sizeof(trap_fields[0]); i++) {
		uint32_t off = trap_fields[i].off;
		uint64_t o64;
		if (have_type && pdb_type_field(pdb, ti, trap_fields[i].name, &o64, NULL) == 0 && o64 + 8 <= 0x190)
			off = (uint32_t)o64;
		uint64_t v = 0;
		for (int k = (int)trap_fields[i].size - 1; k >= 0; k--)
			v = v << 8 | b[off + (unsigned)k];
		switch (trap_fields[i].reg) {
		case -1: r.rip = v; break;
		case -2: r.cs = (uint16_t)v; break;
		case -3: r.eflags = v; break;
		case -4: r.ss = (uint16_t)v; break;
		default: r.gpr[trap_fields[i].reg] = v; break;
		}
	}
	stack_x64_regs_to_context(&r, out->raw, out->size);
	return 0;
}
