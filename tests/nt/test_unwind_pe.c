/* x64 unwinder against a real clang-built PE (tests/nt/corpus/unwind.c):
 * every non-chained function's prologue is executed instruction by
 * instruction by a tiny emulator over capstone's decoding (independent of
 * the unwind codes), and at every instruction boundary of the prologue the
 * unwinder must give back the caller's RIP, RSP and every non-volatile
 * register (rbx rbp rsi rdi r12-r15, xmm6-15).  Unwind data is read from the
 * image mapped into fake target memory, as the debugger reads it.
 * usage: test_unwind_pe IMAGE.exe */
#include <capstone/capstone.h>

#include "testutil.h"
#include "stack_x64.h"
#include "symbols.h"

#define STK 0x10000000ull
#define STK_SIZE 0x200000ull
#define ENTRY (STK + STK_SIZE - 0x1000)
#define RET_MARK 0x7ff7aaaa0000ull

typedef struct img { fake_mem mem; pe_image *pe; uint64_t base; } img;

static int rd(void *ctx, uint64_t a, void *b, size_t n) { return fake_read(&((img *)ctx)->mem, a, b, n); }
static int lookup(void *ctx, uint64_t pc, stack_x64_func *fn)
{
	img *m = ctx;
	uint32_t b, e, u;
	if (pc < m->base || pe_find_runtime_function(m->pe, (uint32_t)(pc - m->base), &b, &e, &u) < 0)
		return 0;
	*fn = (stack_x64_func){ m->base, b, e, u };
	return 1;
}

/* capstone register -> unwind numbering, -1 if not a GPR */
static int gpr(x86_reg r)
{
	static const x86_reg map[16] = { X86_REG_RAX, X86_REG_RCX, X86_REG_RDX, X86_REG_RBX, X86_REG_RSP,
		X86_REG_RBP, X86_REG_RSI, X86_REG_RDI, X86_REG_R8, X86_REG_R9, X86_REG_R10, X86_REG_R11,
		X86_REG_R12, X86_REG_R13, X86_REG_R14, X86_REG_R15 };
	static const x86_reg map32[16] = { X86_REG_EAX, X86_REG_ECX, X86_REG_EDX, X86_REG_EBX, X86_REG_ESP,
		X86_REG_EBP, X86_REG_ESI, X86_REG_EDI, X86_REG_R8D, X86_REG_R9D, X86_REG_R10D, X86_REG_R11D,
		X86_REG_R12D, X86_REG_R13D, X86_REG_R14D, X86_REG_R15D };
	for (int i = 0; i < 16; i++)
		if (map[i] == r || map32[i] == r)
			return i;
	return -1;
}

static uint64_t initial(int reg) { return 0x1111000000000000ull + 0x0101010101ull * (uint64_t)(reg + 1); }

static const int nonvol[] = { X64_RBX, X64_RBP, X64_RSI, X64_RDI, X64_R12, X64_R13, X64_R14, X64_R15 };

/* Emulate one prologue instruction; 0 ok, -1 unknown. */
static int step(img *m, cs_insn *in, stack_x64_regs *r)
{
	cs_x86 *x = &in->detail->x86;
	cs_x86_op *o = x->operands;
	uint64_t *rsp = &r->gpr[X64_RSP];
	switch (in->id) {
	case X86_INS_PUSH:
		if (x->op_count == 1 && o[0].type == X86_OP_REG && gpr(o[0].reg) >= 0) {
			*rsp -= 8;
			fake_put64(&m->mem, *rsp, r->gpr[gpr(o[0].reg)]);
			return 0;
		}
		return -1;
	case X86_INS_SUB:
		if (o[0].type == X86_OP_REG && o[0].reg == X86_REG_RSP) {
			if (o[1].type == X86_OP_IMM) { *rsp -= (uint64_t)o[1].imm; return 0; }
			if (o[1].type == X86_OP_REG && gpr(o[1].reg) >= 0) { *rsp -= r->gpr[gpr(o[1].reg)]; return 0; }
		}
		return -1;
	case X86_INS_MOV:
		if (o[0].type == X86_OP_REG && gpr(o[0].reg) >= 0 && o[1].type == X86_OP_IMM) {
			r->gpr[gpr(o[0].reg)] = (uint64_t)o[1].imm;   /* mov eax, size (before __chkstk) */
			return 0;
		}
		if (o[0].type == X86_OP_REG && gpr(o[0].reg) >= 0 && o[1].type == X86_OP_REG && gpr(o[1].reg) >= 0) {
			r->gpr[gpr(o[0].reg)] = r->gpr[gpr(o[1].reg)];
			return 0;
		}
		if (o[0].type == X86_OP_MEM && gpr(o[0].mem.base) >= 0 && o[0].mem.index == X86_REG_INVALID &&
		    o[1].type == X86_OP_REG && gpr(o[1].reg) >= 0 && o[0].size == 8) {
			fake_put64(&m->mem, r->gpr[gpr(o[0].mem.base)] + (uint64_t)o[0].mem.disp, r->gpr[gpr(o[1].reg)]);
			return 0;
		}
		return -1;
	case X86_INS_LEA:
		if (o[0].type == X86_OP_REG && gpr(o[0].reg) >= 0 && o[1].type == X86_OP_MEM &&
		    gpr(o[1].mem.base) >= 0 && o[1].mem.index == X86_REG_INVALID) {
			r->gpr[gpr(o[0].reg)] = r->gpr[gpr(o[1].mem.base)] + (uint64_t)o[1].mem.disp;
			return 0;
		}
		return -1;
	case X86_INS_MOVAPS: case X86_INS_MOVUPS: case X86_INS_MOVDQA: case X86_INS_MOVDQU: case X86_INS_MOVAPD:
		if (o[0].type == X86_OP_MEM && gpr(o[0].mem.base) >= 0 && o[1].type == X86_OP_REG &&
		    o[1].reg >= X86_REG_XMM0 && o[1].reg <= X86_REG_XMM15) {
			fake_put(&m->mem, r->gpr[gpr(o[0].mem.base)] + (uint64_t)o[0].mem.disp, r->xmm[o[1].reg - X86_REG_XMM0], 16);
			return 0;
		}
		return -1;
	case X86_INS_CALL:      /* __chkstk: probes only */
	case X86_INS_NOP:
		return 0;
	default:
		return -1;
	}
}

static void check_unwind(img *m, const stack_x64_regs *st, uint32_t rva, unsigned off, int *bad)
{
	stack_x64_io io = { m, rd, lookup, NULL };
	stack_x64_regs r = *st;
	stack_how how;
	char err[160];
	int ok = stack_x64_unwind(&io, &r, 1, &how, err, sizeof(err)) == 0;
	ok = ok && r.rip == RET_MARK && r.gpr[X64_RSP] == ENTRY + 8;
	for (size_t i = 0; ok && i < sizeof(nonvol) / sizeof(nonvol[0]); i++)
		ok = r.gpr[nonvol[i]] == initial(nonvol[i]);
	for (int x = 6; ok && x < 16; x++)
		for (int b = 0; b < 16; b++)
			ok = ok && r.xmm[x][b] == (uint8_t)(x * 16 + b);
	if (!ok) {
		fprintf(stderr, "function rva %x, prologue offset %u: unwind wrong (rip %llx rsp %llx) %s\n", rva, off,
		        (unsigned long long)r.rip, (unsigned long long)r.gpr[X64_RSP], err);
		(*bad)++;
	}
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s IMAGE\n", argv[0]);
		return 2;
	}
	img m = { 0 };
	char err[256];
	if (pe_open_file(argv[1], &m.pe, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	m.base = pe_image_base(m.pe);
	uint32_t size = pe_size_of_image(m.pe);
	uint8_t *image = fake_map(&m.mem, m.base, size);
	for (uint32_t a = 0; a < size; a += 0x200)
		pe_read_rva(m.pe, a, image + a, size - a < 0x200 ? size - a : 0x200);
	fake_map(&m.mem, STK, STK_SIZE);
	csh cs;
	CHECK(cs_open(CS_ARCH_X86, CS_MODE_64, &cs) == CS_ERR_OK);
	cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
	int n = pe_runtime_function_count(m.pe), tested = 0, boundaries = 0, bad = 0;
	int saw_fp = 0, saw_xmm = 0, saw_large = 0;
	for (int i = 0; i < n; i++) {
		uint32_t b, e, u;
		CHECK(pe_runtime_function_at(m.pe, (size_t)i, &b, &e, &u) == 0);
		uint8_t h[4];
		CHECK(pe_read_rva(m.pe, u, h, 4) == 0);
		if ((h[0] >> 3) & 4)
			continue;    /* chained fragment: does not start at a prologue */
		unsigned prolog = h[1];
		saw_fp |= (h[3] & 15) != 0;
		stack_x64_regs st;
		memset(&st, 0, sizeof(st));
		for (int k = 0; k < 16; k++)
			st.gpr[k] = initial(k);
		for (int x = 0; x < 16; x++)
			for (int y = 0; y < 16; y++)
				st.xmm[x][y] = (uint8_t)(x * 16 + y);
		st.gpr[X64_RSP] = ENTRY;
		fake_put64(&m.mem, ENTRY, RET_MARK);
		const uint8_t *code = image + b;
		size_t left = e - b;
		uint64_t pc = m.base + b;
		cs_insn *in = cs_malloc(cs);
		unsigned off = 0;
		for (;;) {
			st.rip = m.base + b + off;
			check_unwind(&m, &st, b, off, &bad);
			boundaries++;
			if (off >= prolog)
				break;
			if (!cs_disasm_iter(cs, &code, &left, &pc, in)) {
				fprintf(stderr, "rva %x: cannot decode at +%u\n", b, off);
				bad++;
				break;
			}
			if (in->id == X86_INS_MOVAPS || in->id == X86_INS_MOVUPS || in->id == X86_INS_MOVDQA)
				saw_xmm = 1;
			if (in->id == X86_INS_SUB && in->detail->x86.operands[1].type == X86_OP_REG)
				saw_large = 1;
			if (step(&m, in, &st) < 0) {
				fprintf(stderr, "rva %x: prologue instruction not emulated: %s %s\n", b, in->mnemonic, in->op_str);
				bad++;
				break;
			}
			off += in->size;
		}
		cs_free(in, 1);
		tested++;
	}
	printf("%d functions, %d prologue boundaries checked\n", tested, boundaries);
	CHECK(bad == 0);
	CHECK(tested >= 8);
	CHECK(saw_fp);       /* alloca: UWOP_SET_FPREG */
	CHECK(saw_xmm);      /* UWOP_SAVE_XMM128 */
	CHECK(saw_large);    /* __chkstk + sub rsp, rax: UWOP_ALLOC_LARGE */
	cs_close(&cs);
	pe_close(m.pe);
	TEST_END();
}
