/*
 * disasm.h - x86-16/32/64 disassembly in WinDbg's shape, on top of capstone.
 *
 * One line per instruction, as `u` prints it:
 *   fffff800`00101234 4883ec28        sub     rsp,28h
 *   fffff800`0010123d e810000000      call    nt!KeWaitForSingleObject (fffff800`00101252)
 *   fffff800`00101242 488b0510200000  mov     rax,qword ptr [nt!KiFoo (fffff800`00103259)]
 * MASM-style numbers (0-9 plain, larger ones hex with an h suffix and a
 * leading 0 before a letter: 0FFFFFFF0h), no blanks inside operands, branch
 * targets and RIP-relative / absolute memory operands symbolized through a
 * callback.  Bytes come from the caller (who reads target memory), so this
 * library never touches a target.
 */
#ifndef KD_DISASM_H
#define KD_DISASM_H

#include <stddef.h>
#include <stdint.h>

typedef struct kd_disasm kd_disasm;

/* Name an address ("nt!Foo+0x1a"); return 1 when a symbol was found (buf
 * filled), 0 otherwise. */
typedef int (*kd_disasm_symbolize_fn)(void *ctx, uint64_t addr, char *buf, size_t len);

/* bits: 16, 32 or 64.  Returns 0, or negative with a message in err. */
int kd_disasm_open(unsigned bits, kd_disasm **out, char *err, size_t errlen);
void kd_disasm_close(kd_disasm *d);
unsigned kd_disasm_bits(const kd_disasm *d);
void kd_disasm_set_symbolizer(kd_disasm *d, kd_disasm_symbolize_fn fn, void *ctx);

#define KD_INSN_MAX 16     /* longest x86 instruction */

typedef struct kd_insn {
	uint64_t address;
	unsigned length;
	uint8_t bytes[KD_INSN_MAX];
	char mnemonic[32];        /* "sub", "rep movsb", "int" */
	char operands[256];       /* "rsp,28h", symbolized */
	int is_call;              /* call (near or far) */
	int is_ret;               /* ret, retf, iret*, sysret*, sysexit */
	int is_jump;              /* jmp or conditional jump / loop */
	int is_cond;              /* conditional jump / loop / jrcxz */
	int has_target;           /* direct branch target in `target` */
	uint64_t target;
	int has_mem_ref;          /* RIP-relative / absolute memory operand */
	uint64_t mem_ref;
} kd_insn;

/*
 * Decode one instruction from code[0..len) at address addr.  Returns 0, or
 * negative when the bytes are not a valid instruction (out->length is then
 * 1 and the line prints as "???", as WinDbg does).
 */
int kd_disasm_one(kd_disasm *d, const uint8_t *code, size_t len, uint64_t addr, kd_insn *out);

/* The WinDbg line for a decoded instruction (no trailing newline).
 * Returns the length written. */
size_t kd_disasm_format(const kd_disasm *d, const kd_insn *in, char *buf, size_t len);
/* The line for an address whose bytes could not be read:
 *   fffff800`00101234 ??              ??? */
size_t kd_disasm_format_unreadable(const kd_disasm *d, uint64_t addr, char *buf, size_t len);

/*
 * Helpers for the run-control engine (`p` steps over calls, `gu` looks for
 * returns).  Each decodes one instruction at addr; they return -1 when the
 * bytes do not decode.
 */
int kd_disasm_insn_length(kd_disasm *d, const uint8_t *code, size_t len, uint64_t addr);
int kd_disasm_is_call(kd_disasm *d, const uint8_t *code, size_t len, uint64_t addr);
int kd_disasm_is_ret(kd_disasm *d, const uint8_t *code, size_t len, uint64_t addr);

/*
 * Walk backwards for `ub`: find the start of the instruction that ends
 * exactly at `end` by decoding forward from candidate starts in
 * code[0..len) (code[len-1] is the byte before `end`, code[0] is at
 * end-len).  Returns the number of bytes the instructions `count` back
 * from `end` take (the start is end - result), or 0 if no consistent
 * decoding exists.
 */
size_t kd_disasm_back(kd_disasm *d, const uint8_t *code, size_t len, uint64_t end, unsigned count);

/* MASM number as WinDbg prints it: 0..9 plain, else uppercase hex with h
 * and a leading 0 before a letter ("28h", "0FFFFFFF0h"). */
size_t kd_disasm_masm_hex(char *buf, size_t len, uint64_t v);

#endif
