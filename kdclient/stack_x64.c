/*
 * stack_x64.c - x64 unwinding with UNWIND_INFO (the "x64 exception
 * handling" format of the PE .pdata/.xdata sections).
 *
 * UNWIND_INFO: byte 0 = Version (bits 0-2) | Flags (bits 3-7), byte 1 =
 * SizeOfProlog, byte 2 = CountOfCodes, byte 3 = FrameRegister (bits 0-3) |
 * FrameOffset (bits 4-7, scaled by 16); then CountOfCodes 16-bit slots
 * (CodeOffset byte, UnwindOp bits 0-3 | OpInfo bits 4-7), padded to an even
 * count; then, with UNW_FLAG_CHAININFO, a RUNTIME_FUNCTION of the parent.
 * Codes are listed in reverse prologue order, so applying them in order
 * undoes the prologue.
 */
#include "stack_x64.h"
#include "nt_fail.h"

#include <stdio.h>
#include <string.h>

enum {
	UWOP_PUSH_NONVOL = 0,
	UWOP_ALLOC_LARGE = 1,
	UWOP_ALLOC_SMALL = 2,
	UWOP_SET_FPREG = 3,
	UWOP_SAVE_NONVOL = 4,
	UWOP_SAVE_NONVOL_FAR = 5,
	UWOP_EPILOG = 6,          /* version 2: epilogue descriptor; v1: SAVE_XMM */
	UWOP_SPARE_CODE = 7,      /* version 2: unused; v1: SAVE_XMM_FAR */
	UWOP_SAVE_XMM128 = 8,
	UWOP_SAVE_XMM128_FAR = 9,
	UWOP_PUSH_MACHFRAME = 10,
};

#define UNW_FLAG_CHAININFO 0x4
#define MAX_CHAIN 32
#define SCAN_QWORDS 512        /* 4 KiB of stack searched for a return address */

static const char *const how_names[] = {
	[STACK_HOW_NONE] = "none",
	[STACK_HOW_UNWIND] = "unwind",
	[STACK_HOW_LEAF] = "leaf",
	[STACK_HOW_SCAN] = "scan",
	[STACK_HOW_MACHFRAME] = "machframe",
	[STACK_HOW_EPILOG] = "epilog",
	[STACK_HOW_FPO] = "fpo",
	[STACK_HOW_FRAMEDATA] = "framedata",
	[STACK_HOW_EBP] = "ebp",
};

const char *stack_how_name(stack_how how)
{
	if ((unsigned)how < sizeof(how_names) / sizeof(how_names[0]) && how_names[how])
		return how_names[how];
	return "?";
}

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t le64(const uint8_t *p) { return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32; }

static int read_u64(const stack_x64_io *io, uint64_t addr, uint64_t *v)
{
	uint8_t b[8];
	if (io->read(io->ctx, addr, b, 8) < 0)
		return -1;
	*v = le64(b);
	return 0;
}

int stack_x64_canonical(uint64_t v)
{
	uint64_t top = v >> 47;
	return top == 0 || top == 0x1ffff;
}

/* Number of 16-bit slots an unwind code occupies (its own plus operands). */
static int code_slots(unsigned op, unsigned info)
{
	switch (op) {
	case UWOP_ALLOC_LARGE: return info == 0 ? 2 : 3;
	case UWOP_SAVE_NONVOL: case UWOP_SAVE_XMM128: case UWOP_EPILOG: return 2;
	case UWOP_SAVE_NONVOL_FAR: case UWOP_SAVE_XMM128_FAR: case UWOP_SPARE_CODE: return 3;
	default: return 1;
	}
}

typedef struct unwind_info {
	unsigned version, flags, prolog, count, frame_reg, frame_off;
	uint8_t codes[256 * 2];
	uint32_t chain_begin, chain_end, chain_unwind;
} unwind_info;

static int read_unwind_info(const stack_x64_io *io, uint64_t addr, unwind_info *ui,
                            char *err, size_t errlen)
{
	uint8_t h[4];
	if (io->read(io->ctx, addr, h, 4) < 0)
		return nt_fail(err, errlen, "cannot read UNWIND_INFO at %016llx", (unsigned long long)addr);
	ui->version = h[0] & 7;
	ui->flags = h[0] >> 3;
	ui->prolog = h[1];
	ui->count = h[2];
	ui->frame_reg = h[3] & 15;
	ui->frame_off = h[3] >> 4;
	if (ui->version != 1 && ui->version != 2)
		return nt_fail(err, errlen, "UNWIND_INFO at %016llx has unknown version %u",
		               (unsigned long long)addr, ui->version);
	size_t slots = (ui->count + 1) & ~1u;   /* padded to an even count */
	size_t n = slots * 2 + ((ui->flags & UNW_FLAG_CHAININFO) ? 12 : 0);
	uint8_t buf[sizeof(ui->codes) + 12];
	if (n && io->read(io->ctx, addr + 4, buf, n) < 0)
		return nt_fail(err, errlen, "cannot read unwind codes at %016llx", (unsigned long long)addr + 4);
	memcpy(ui->codes, buf, ui->count * 2);
	if (ui->flags & UNW_FLAG_CHAININFO) {
		ui->chain_begin = le32(buf + slots * 2);
		ui->chain_end = le32(buf + slots * 2 + 4);
		ui->chain_unwind = le32(buf + slots * 2 + 8);
	}
	return 0;
}

/*
 * Epilogue check (x64 ABI: an epilogue is an optional "add rsp, imm" or
 * "lea rsp, [frame_reg + disp]", then pops of non-volatile registers, then
 * ret or a jmp out of the function).  Unwind codes describe the prologue
 * only, so a pc inside an epilogue is unwound by emulating the rest of it.
 * Returns 1 if emulated, 0 if pc is not in an epilogue, < 0 on read errors.
 */
static int try_epilog(const stack_x64_io *io, stack_x64_regs *r, const stack_x64_func *fn,
                      unsigned frame_reg)
{
	uint8_t c[32];
	size_t n = sizeof(c);
	while (n >= 8 && io->read(io->ctx, r->rip, c, n) < 0)
		n /= 2;
	if (n < 8)
		return 0;
	size_t i = 0;
	uint64_t rsp = r->gpr[X64_RSP];
	if (n >= 4 && c[0] == 0x48 && c[1] == 0x83 && c[2] == 0xc4) {          /* add rsp, imm8 */
		rsp += (uint64_t)(int64_t)(int8_t)c[3];
		i = 4;
	} else if (n >= 7 && c[0] == 0x48 && c[1] == 0x81 && c[2] == 0xc4) {   /* add rsp, imm32 */
		rsp += (uint64_t)(int64_t)(int32_t)le32(c + 3);
		i = 7;
	} else if (frame_reg && (frame_reg & 7) != 4 && (c[0] & 0xfe) == 0x48 && c[1] == 0x8d &&
	           (c[0] & 1) == (frame_reg >> 3) && (c[2] & 0x3f) == (0x20 | (frame_reg & 7))) {
		unsigned mod = c[2] >> 6;                                         /* lea rsp, [fp+disp] */
		if (mod == 1) {
			rsp = r->gpr[frame_reg] + (uint64_t)(int64_t)(int8_t)c[3];
			i = 4;
		} else if (mod == 2 && n >= 7) {
			rsp = r->gpr[frame_reg] + (uint64_t)(int64_t)(int32_t)le32(c + 3);
			i = 7;
		} else {
			return 0;
		}
	}
	/* Check the whole shape before touching any register. */
	size_t j = i;
	unsigned pops = 0;
	for (;;) {
		if (j < n && c[j] >= 0x58 && c[j] <= 0x5f) { j++; pops++; continue; }
		if (j + 1 < n && c[j] == 0x41 && c[j + 1] >= 0x58 && c[j + 1] <= 0x5f) { j += 2; pops++; continue; }
		break;
	}
	if (j >= n)
		return 0;
	int is_ret = c[j] == 0xc3 || c[j] == 0xc2 || (c[j] == 0xf3 && j + 1 < n && c[j + 1] == 0xc3);
	if (!is_ret && c[j] == 0xe9 && j + 5 <= n) {
		uint64_t target = r->rip + j + 5 + (uint64_t)(int64_t)(int32_t)le32(c + j + 1);
		uint64_t b = fn->image_base + fn->begin, e = fn->image_base + fn->end;
		is_ret = target < b || target >= e;   /* a tail call leaves the function */
	}
	if (!is_ret)
		return 0;
	if (i == 0 && pops == 0 && c[j] == 0xe9)
		return 0;   /* a bare jmp is a jump, not an epilogue */
	stack_x64_regs t = *r;
	for (size_t k = i; k < j;) {
		unsigned reg;
		if (c[k] == 0x41) { reg = 8 + (c[k + 1] - 0x58); k += 2; }
		else { reg = c[k] - 0x58; k++; }
		if (read_u64(io, rsp, &t.gpr[reg]) < 0)
			return -1;
		rsp += 8;
	}
	if (read_u64(io, rsp, &t.rip) < 0)
		return -1;
	t.gpr[X64_RSP] = rsp + 8;
	*r = t;
	return 1;
}

/* Apply one UNWIND_INFO's codes.  prolog_off is the pc's offset from the
 * function start when the pc may be inside this info's prologue, or -1. */
static int apply_codes(const stack_x64_io *io, stack_x64_regs *r, const unwind_info *ui,
                       long prolog_off, int *machframe, char *err, size_t errlen)
{
	int in_prolog = prolog_off >= 0 && (unsigned long)prolog_off < ui->prolog;
	uint64_t frame = r->gpr[X64_RSP];

	/* The establisher frame: the frame register minus its offset once the
	 * prologue has set it, else RSP.  SAVE_* offsets are relative to it. */
	if (ui->frame_reg) {
		int fp_set = !in_prolog;
		for (unsigned i = 0; in_prolog && i < ui->count;) {
			unsigned op = ui->codes[i * 2 + 1] & 15, info = ui->codes[i * 2 + 1] >> 4;
			if (op == UWOP_SET_FPREG && ui->codes[i * 2] <= prolog_off)
				fp_set = 1;
			i += code_slots(op, info);
		}
		if (fp_set)
			frame = r->gpr[ui->frame_reg] - 16ull * ui->frame_off;
	}

	for (unsigned i = 0; i < ui->count;) {
		unsigned off = ui->codes[i * 2];
		unsigned op = ui->codes[i * 2 + 1] & 15, info = ui->codes[i * 2 + 1] >> 4;
		unsigned slots = code_slots(op, info);
		if (i + slots > ui->count)
			return nt_fail(err, errlen, "unwind code %u runs past CountOfCodes", i);
		const uint8_t *opnd = ui->codes + (i + 1) * 2;
		i += slots;
		/* Inside the prologue only the codes of instructions that already
		 * executed apply (CodeOffset = end of the instruction). */
		if (in_prolog && off > (unsigned long)prolog_off)
			continue;
		uint64_t *rsp = &r->gpr[X64_RSP];
		switch (op) {
		case UWOP_PUSH_NONVOL:
			if (read_u64(io, *rsp, &r->gpr[info]) < 0)
				return nt_fail(err, errlen, "cannot read pushed register at %016llx", (unsigned long long)*rsp);
			*rsp += 8;
			break;
		case UWOP_ALLOC_LARGE:
			*rsp += info == 0 ? 8ull * le16(opnd) : le32(opnd);
			break;
		case UWOP_ALLOC_SMALL:
			*rsp += 8ull * info + 8;
			break;
		case UWOP_SET_FPREG:
			if (!ui->frame_reg)
				return nt_fail(err, errlen, "UWOP_SET_FPREG without a frame register");
			*rsp = r->gpr[ui->frame_reg] - 16ull * ui->frame_off;
			break;
		case UWOP_SAVE_NONVOL:
		case UWOP_SAVE_NONVOL_FAR: {
			uint64_t a = frame + (op == UWOP_SAVE_NONVOL ? 8ull * le16(opnd) : le32(opnd));
			if (read_u64(io, a, &r->gpr[info]) < 0)
				return nt_fail(err, errlen, "cannot read saved register at %016llx", (unsigned long long)a);
			break;
		}
		case UWOP_SAVE_XMM128:
		case UWOP_SAVE_XMM128_FAR: {
			uint64_t a = frame + (op == UWOP_SAVE_XMM128 ? 16ull * le16(opnd) : le32(opnd));
			if (io->read(io->ctx, a, r->xmm[info], 16) < 0)
				return nt_fail(err, errlen, "cannot read saved xmm%u at %016llx", info, (unsigned long long)a);
			break;
		}
		case UWOP_EPILOG:
		case UWOP_SPARE_CODE:
			/* Version 2 epilogue descriptors (and version 1's obsolete
			 * SAVE_XMM forms) do not describe the prologue: skip. */
			if (ui->version == 1)
				return nt_fail(err, errlen, "obsolete unwind code %u in version 1 info", op);
			break;
		case UWOP_PUSH_MACHFRAME: {
			/* The CPU pushed SS, RSP, EFLAGS, CS, RIP (and an error code
			 * when info == 1) on an interrupt or exception. */
			uint64_t base = *rsp + (info ? 8 : 0), v[5];
			for (int k = 0; k < 5; k++)
				if (read_u64(io, base + 8ull * k, &v[k]) < 0)
					return nt_fail(err, errlen, "cannot read machine frame at %016llx", (unsigned long long)base);
			r->rip = v[0];
			r->cs = (uint16_t)v[1];
			r->eflags = v[2];
			*rsp = v[3];
			r->ss = (uint16_t)v[4];
			*machframe = 1;
			return 0;
		}
		default:
			return nt_fail(err, errlen, "unknown unwind code %u", op);
		}
	}
	return 0;
}

static int scan_for_return(const stack_x64_io *io, stack_x64_regs *r, char *err, size_t errlen)
{
	if (!io->is_code)
		return nt_fail(err, errlen, "no unwind data for %016llx", (unsigned long long)r->rip);
	uint8_t buf[SCAN_QWORDS * 8];
	size_t n = SCAN_QWORDS;
	uint64_t sp = r->gpr[X64_RSP];
	/* Read as much of the stack as is readable (it may end at a page). */
	while (n >= 8 && io->read(io->ctx, sp, buf, n * 8) < 0)
		n /= 2;
	if (n < 8)
		return nt_fail(err, errlen, "cannot read stack at %016llx", (unsigned long long)sp);
	for (size_t i = 0; i < n; i++) {
		uint64_t v = le64(buf + i * 8);
		if (v && stack_x64_canonical(v) && io->is_code(io->ctx, v) == 1) {
			r->rip = v;
			r->gpr[X64_RSP] = sp + 8 * i + 8;
			return 0;
		}
	}
	return nt_fail(err, errlen, "no unwind data for %016llx and no return address on the stack",
	               (unsigned long long)r->rip);
}

int stack_x64_unwind(const stack_x64_io *io, stack_x64_regs *regs,
                     int exact_pc, stack_how *how, char *err, size_t errlen)
{
	stack_x64_func fn;
	/* A return address may point just past a call that ends its function
	 * (noreturn callee), so look the caller up at pc - 1. */
	uint64_t pc = regs->rip;
	int found = io->lookup(io->ctx, exact_pc ? pc : pc - 1, &fn);
	if (found < 0)
		return nt_fail(err, errlen, "unwind data lookup failed for %016llx", (unsigned long long)pc);
	stack_x64_regs r = *regs;
	if (found == 0) {
		/* No unwind data: a leaf function has not moved RSP, so its return
		 * address is at [rsp]; otherwise search the stack. */
		uint64_t ret;
		if (exact_pc && read_u64(io, r.gpr[X64_RSP], &ret) == 0 &&
		    (!io->is_code || io->is_code(io->ctx, ret) == 1)) {
			r.rip = ret;
			r.gpr[X64_RSP] += 8;
			*how = STACK_HOW_LEAF;
		} else {
			if (scan_for_return(io, &r, err, errlen) < 0)
				return -1;
			*how = STACK_HOW_SCAN;
		}
		*regs = r;
		return 0;
	}

	unwind_info ui;
	uint64_t ui_addr = fn.image_base + fn.unwind;
	if (read_unwind_info(io, ui_addr, &ui, err, errlen) < 0)
		return -1;
	long prolog_off = (long)(pc - (fn.image_base + fn.begin));
	if (prolog_off < 0 || prolog_off > 0xffffff)
		prolog_off = -1;

	if (exact_pc && !(prolog_off >= 0 && (unsigned long)prolog_off < ui.prolog)) {
		int e = try_epilog(io, &r, &fn, ui.frame_reg);
		if (e < 0)
			return nt_fail(err, errlen, "cannot read stack in epilogue at %016llx", (unsigned long long)pc);
		if (e == 1) {
			*regs = r;
			*how = STACK_HOW_EPILOG;
			return 0;
		}
	}

	int machframe = 0;
	for (int depth = 0;; depth++) {
		if (apply_codes(io, &r, &ui, prolog_off, &machframe, err, errlen) < 0)
			return -1;
		if (machframe || !(ui.flags & UNW_FLAG_CHAININFO))
			break;
		if (depth >= MAX_CHAIN)
			return nt_fail(err, errlen, "unwind info chain longer than %d at %016llx", MAX_CHAIN,
			               (unsigned long long)pc);
		/* Chained info: the parent's codes apply in full (pc is past its
		 * prologue).  The low bit of a chained UnwindData is reserved. */
		if (read_unwind_info(io, fn.image_base + (ui.chain_unwind & ~1u), &ui, err, errlen) < 0)
			return -1;
		prolog_off = -1;
	}
	if (!machframe) {
		uint64_t ret;
		if (read_u64(io, r.gpr[X64_RSP], &ret) < 0)
			return nt_fail(err, errlen, "cannot read return address at %016llx",
			               (unsigned long long)r.gpr[X64_RSP]);
		r.rip = ret;
		r.gpr[X64_RSP] += 8;
	}
	*how = machframe ? STACK_HOW_MACHFRAME : STACK_HOW_UNWIND;
	*regs = r;
	return 0;
}

int stack_x64_walk(const stack_x64_io *io, const stack_x64_regs *start,
                   stack_frame *frames, stack_x64_regs *regs_out, size_t max,
                   size_t *count, char *err, size_t errlen)
{
	stack_x64_regs r = *start;
	int exact = 1;
	size_t n = 0;
	if (err && errlen)
		err[0] = 0;
	while (n < max) {
		stack_frame *f = &frames[n];
		memset(f, 0, sizeof(*f));
		f->sp = r.gpr[X64_RSP];
		f->fp = r.gpr[X64_RBP];
		f->pc = r.rip;
		if (regs_out)
			regs_out[n] = r;
		n++;
		stack_x64_regs next = r;
		stack_how how = STACK_HOW_NONE;
		if (stack_x64_unwind(io, &next, exact, &how, err, errlen) < 0)
			break;
		f->how = how;
		f->ret = next.rip;
		if (how != STACK_HOW_MACHFRAME) {
			uint8_t a[32];
			f->ret_loc = next.gpr[X64_RSP] - 8;
			/* kb: the four home slots just above the return address. */
			if (io->read(io->ctx, next.gpr[X64_RSP], a, sizeof(a)) == 0)
				for (int k = 0; k < 4; k++)
					f->args[k] = le64(a + 8 * k);
		}
		if (next.rip == 0 || !stack_x64_canonical(next.rip))
			break;
		/* A machine frame may switch to another (e.g. the user) stack;
		 * otherwise a caller's frame is always above its callee's. */
		if (how != STACK_HOW_MACHFRAME && next.gpr[X64_RSP] <= r.gpr[X64_RSP])
			break;
		exact = how == STACK_HOW_MACHFRAME;
		r = next;
	}
	*count = n;
	return 0;
}

void stack_x64_regs_from_context(stack_x64_regs *r, const uint8_t *raw, size_t len)
{
	memset(r, 0, sizeof(*r));
	if (len < 0x100)
		return;
	/* CONTEXT: SegCs 0x38, SegSs 0x42, EFlags 0x44, Rax..R15 0x78, Rip 0xF8,
	 * Xmm0..15 0x1A0 (fact sheet §12). */
	r->cs = le16(raw + 0x38);
	r->ss = le16(raw + 0x42);
	r->eflags = le32(raw + 0x44);
	for (int i = 0; i < 16; i++)
		r->gpr[i] = le64(raw + 0x78 + 8 * i);
	r->rip = le64(raw + 0xf8);
	if (len >= 0x1a0 + 256)
		memcpy(r->xmm, raw + 0x1a0, 256);
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void stack_x64_regs_to_context(const stack_x64_regs *r, uint8_t *raw, size_t len)
{
	if (len < 0x100)
		return;
	for (int i = 0; i < 16; i++)
		put64(raw + 0x78 + 8 * i, r->gpr[i]);
	put64(raw + 0xf8, r->rip);
	raw[0x38] = (uint8_t)r->cs; raw[0x39] = (uint8_t)(r->cs >> 8);
	raw[0x42] = (uint8_t)r->ss; raw[0x43] = (uint8_t)(r->ss >> 8);
	for (int i = 0; i < 4; i++)
		raw[0x44 + i] = (uint8_t)(r->eflags >> (8 * i));
	if (len >= 0x1a0 + 256)
		memcpy(raw + 0x1a0, r->xmm, 256);
}
