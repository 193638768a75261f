/* x86 walker against real images and PDBs: the clang-built i686 corpus
 * (frame data from LLVM) and, in the 'shared' suite, MSVC's crash.exe +
 * crash.pdb (MSVC frame-data programs with CodeView register numbers and
 * .raSearch).  For every function start in the PDB's frame data, the
 * function's prologue is executed by a small emulator over capstone's
 * decoding; at each instruction boundary the stack built so far is unwound
 * with the PDB's program for that address and must give back the caller's
 * EIP, ESP and the saved registers.  Functions whose prologue uses an
 * instruction the emulator does not know stop there (counted, not failed);
 * a minimum number of fully checked functions is required.
 * usage: test_unwind_x86 IMAGE PDB MIN_FUNCTIONS  (exit 77 if IMAGE is absent) */
#include <capstone/capstone.h>
#include <unistd.h>

#include "testutil.h"
#include "stack_x86.h"
#include "symbols.h"

#define STK 0x00100000ull
#define STK_SIZE 0x100000ull
#define ENTRY (STK + STK_SIZE - 0x1000)

typedef struct img { fake_mem mem; pe_image *pe; pdb_file *pdb; uint64_t base; uint32_t size; } img;

static int rd(void *ctx, uint64_t a, void *b, size_t n) { return fake_read(&((img *)ctx)->mem, a, b, n); }
static int is_code(void *ctx, uint64_t a) { img *m = ctx; return a >= m->base + 0x1000 && a < m->base + m->size; }
static int find_fd(void *ctx, uint32_t pc, stack_x86_framedata *out)
{
	img *m = ctx;
	pdb_frame_data fd;
	if (pdb_find_frame_data(m->pdb, pc - (uint32_t)m->base, &fd) < 0)
		return 0;
	*out = (stack_x86_framedata){ (uint32_t)m->base + fd.start, fd.code_size, fd.locals_size, fd.params_size,
	                              fd.saved_regs_size, fd.prolog_size, (fd.flags & 4) != 0, fd.program };
	return 1;
}

static int gpr(x86_reg r)
{
	static const x86_reg map[8] = { X86_REG_EAX, X86_REG_ECX, X86_REG_EDX, X86_REG_EBX, X86_REG_ESP,
		X86_REG_EBP, X86_REG_ESI, X86_REG_EDI };
	for (int i = 0; i < 8; i++)
		if (map[i] == r)
			return i;
	return -1;
}

static uint32_t initial(int reg) { return 0x11110000u + 0x101u * (uint32_t)(reg + 1); }

/* Registers at a function's first instruction: recognizable initial values,
 * esp at ENTRY where the call left ret as the return address. */
static void enter_at_entry(stack_x86_regs *st, fake_mem *mem, uint32_t ret)
{
	memset(st, 0, sizeof(*st));
	for (int k = 0; k < 8; k++)
		st->gpr[k] = initial(k);
	st->gpr[X86_ESP] = (uint32_t)ENTRY;
	fake_put32(mem, ENTRY, ret);
}

static int step(img *m, cs_insn *in, stack_x86_regs *r)
{
	cs_x86 *x = &in->detail->x86;
	cs_x86_op *o = x->operands;
	uint32_t *esp = &r->gpr[X86_ESP];
	switch (in->id) {
	case X86_INS_PUSH:
		if (o[0].type == X86_OP_REG && gpr(o[0].reg) >= 0) {
			*esp -= 4;
			fake_put32(&m->mem, *esp, r->gpr[gpr(o[0].reg)]);
			return 0;
		}
		return -1;
	case X86_INS_SUB:
		if (o[0].type == X86_OP_REG && o[0].reg == X86_REG_ESP && o[1].type == X86_OP_IMM) {
			*esp -= (uint32_t)o[1].imm;
			return 0;
		}
		return -1;
	case X86_INS_MOV:
		if (o[0].type == X86_OP_REG && gpr(o[0].reg) >= 0 && o[1].type == X86_OP_REG && gpr(o[1].reg) >= 0) {
			r->gpr[gpr(o[0].reg)] = r->gpr[gpr(o[1].reg)];
			return 0;
		}
		return -1;
	case X86_INS_NOP:
		return 0;
	default:
		return -1;
	}
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: %s IMAGE PDB MIN\n", argv[0]);
		return 2;
	}
	if (access(argv[1], R_OK) != 0 || access(argv[2], R_OK) != 0) {
		printf("skipped: %s not present\n", argv[1]);
		return 77;
	}
	img m = { 0 };
	char err[256];
	if (pe_open_file(argv[1], &m.pe, err, sizeof(err)) < 0 || pdb_open(argv[2], &m.pdb, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	m.base = pe_image_base(m.pe);
	m.size = pe_size_of_image(m.pe);
	uint8_t *image = fake_map(&m.mem, m.base, m.size);
	for (uint32_t a = 0; a < m.size; a += 0x200)
		pe_read_rva(m.pe, a, image + a, m.size - a < 0x200 ? m.size - a : 0x200);
	fake_map(&m.mem, STK, STK_SIZE);
	csh cs;
	CHECK(cs_open(CS_ARCH_X86, CS_MODE_32, &cs) == CS_ERR_OK);
	cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
	stack_x86_io io = { &m, rd, find_fd, NULL, is_code };
	uint32_t ret_mark = (uint32_t)m.base + 0x1001;   /* any code address: the caller */
	int n = pdb_frame_data_count(m.pdb), full = 0, partial = 0, boundaries = 0, bad = 0;
	pdb_frame_data done[64];
	int ndone = 0;
	for (int i = 0; i < n; i++) {
		pdb_frame_data fd;
		CHECK(pdb_frame_data_at(m.pdb, (size_t)i, &fd) == 0);
		if (!(fd.flags & 4) || !fd.program || fd.start + 16 > m.size)
			continue;   /* only function starts */
		if (!fd.prolog_size && (!strncmp(fd.program, "$T0 $ebp ", 9) || !strncmp(fd.program, "$T1 $ebp ", 9)))
			continue;   /* code that runs inside its parent's EBP frame (funclets): not entered by a call */
		stack_x86_regs st;
		enter_at_entry(&st, &m.mem, ret_mark);
		const uint8_t *code = image + fd.start;
		size_t left = fd.code_size;
		uint64_t pc = m.base + fd.start;
		cs_insn *in = cs_malloc(cs);
		unsigned off = 0;
		int complete = 0;
		for (;;) {
			st.eip = (uint32_t)m.base + fd.start + off;
			stack_x86_regs r = st;
			stack_how how;
			uint32_t params;
			char e2[160] = "";
			int ok = stack_x86_unwind(&io, &r, 1, 0, &how, &params, e2, sizeof(e2)) == 0 &&
			         how == STACK_HOW_FRAMEDATA && r.eip == ret_mark && r.gpr[X86_ESP] == ENTRY + 4;
			/* callee-saved registers come back (the program restores the
			 * ones pushed so far; the others were never changed) */
			ok = ok && r.gpr[X86_EBX] == initial(X86_EBX) && r.gpr[X86_ESI] == initial(X86_ESI) &&
			     r.gpr[X86_EDI] == initial(X86_EDI) && r.gpr[X86_EBP] == initial(X86_EBP);
			if (!ok) {
				fprintf(stderr, "rva %x +%u: unwind wrong: eip %x esp %x ebx %x ebp %x (%s)\n", fd.start, off,
				        r.eip, r.gpr[X86_ESP], r.gpr[X86_EBX], r.gpr[X86_EBP], e2);
				bad++;
				break;
			}
			boundaries++;
			if (off >= fd.prolog_size) {
				complete = 1;
				break;
			}
			if (!cs_disasm_iter(cs, &code, &left, &pc, in) || step(&m, in, &st) < 0)
				break;   /* an instruction the emulator does not model */
			off += in->size;
		}
		cs_free(in, 1);
		if (complete) {
			full++;
			if (ndone < 64)
				done[ndone++] = fd;
		}
		else
			partial++;
	}
	printf("%d functions fully checked, %d partially, %d boundaries\n", full, partial, boundaries);

	/* A recorded three-frame stack: f2 calls f1 calls f0, each frame built
	 * by running the real prologue after a call that pushed the callee's
	 * parameters and a return address inside the caller's body; the walk
	 * from f0's body must find f1, f2 and the outer return address. */
	if (ndone >= 3) {
		stack_x86_regs st;
		enter_at_entry(&st, &m.mem, ret_mark);
		uint32_t rets[3] = { 0 };
		int built = 1;
		for (int j = 2; j >= 0 && built; j--) {
			pdb_frame_data *f = &done[j];
			if (j < 2) {
				for (uint32_t p = 0; p < f->params_size; p += 4) {
					st.gpr[X86_ESP] -= 4;
					fake_put32(&m.mem, st.gpr[X86_ESP], 0x5a5a0000u + p);
				}
				rets[j + 1] = (uint32_t)m.base + done[j + 1].start + done[j + 1].prolog_size + 1;
				st.gpr[X86_ESP] -= 4;
				fake_put32(&m.mem, st.gpr[X86_ESP], rets[j + 1]);
			}
			const uint8_t *code = image + f->start;
			size_t left = f->code_size;
			uint64_t pc = m.base + f->start;
			cs_insn *in = cs_malloc(cs);
			for (unsigned off = 0; off < f->prolog_size;) {
				if (!cs_disasm_iter(cs, &code, &left, &pc, in) || step(&m, in, &st) < 0) {
					built = 0;
					break;
				}
				off += in->size;
			}
			cs_free(in, 1);
		}
		CHECK(built);
		st.eip = (uint32_t)m.base + done[0].start + done[0].prolog_size;
		stack_frame fr[8];
		size_t cnt = 0;
		char e3[160];
		CHECK(stack_x86_walk(&io, &st, fr, NULL, 8, &cnt, e3, sizeof(e3)) == 0);
		CHECK(cnt >= 3);
		if (cnt >= 3) {
			CHECK_EQ(fr[0].ret, rets[1]);
			CHECK_EQ(fr[1].pc, rets[1]);
			CHECK_EQ(fr[1].ret, rets[2]);
			CHECK_EQ(fr[2].pc, rets[2]);
			CHECK_EQ(fr[2].ret, ret_mark);
			CHECK(fr[1].sp > fr[0].sp && fr[2].sp > fr[1].sp);
		}
		printf("three-frame walk: %zu frames, %08x <- %08x <- %08x\n", cnt, (unsigned)fr[0].pc,
		       (unsigned)fr[1].pc, (unsigned)fr[2].pc);
	}
	CHECK(bad == 0);
	CHECK(full >= atoi(argv[3]));
	cs_close(&cs);
	pdb_close(m.pdb);
	pe_close(m.pe);
	TEST_END();
}
