/*
 * expr.h - WinDbg MASM expressions, evaluated through callbacks so that the
 * evaluator itself knows nothing about sessions or targets (unit tests use
 * a fake environment).
 *
 * Syntax accepted (WinDbg's MASM evaluator):
 *   numbers      default radix (16 unless env->radix says otherwise), with
 *                backtick separators (fffff800`00100000); prefixes 0x (hex),
 *                0n (decimal), 0t (octal), 0y (binary); suffix h (hex)
 *   registers    @rax, @r8d, @$t0, and bare names (rax, eip) when they are
 *                not also a hex number
 *   pseudo-regs  $ip $ra $t0..$t19 $exentry $peb $teb $thread $proc ... via
 *                env->get_pseudo; $ptrsize and $pagesize built in
 *   symbols      module!symbol, symbol (through env->resolve_symbol)
 *   unary        - + ~ ! not hi low by wo dwo qwo poi   (memory reads for
 *                by/wo/dwo/qwo/poi through env->read_memory)
 *   binary, from tightest to loosest:
 *                * / % mod | + - | << >> >>> | = == != < <= > >= |
 *                & and | ^ xor | | or
 *   functions    $scmp("a","b") $sicmp("a","b") (-1/0/1), $spat("text",
 *                "pat*?") (1/0, case-insensitive wildcards), $vvalid(addr,
 *                len) (1 when readable) -- what tracing scripts test
 *                aliases with
 *   ( ) groups.  Comparisons give 1 or 0; relational compares and / % are
 *   unsigned 64-bit; >>> is an arithmetic shift.
 */
#ifndef KDCLIENT_EXPR_H
#define KDCLIENT_EXPR_H

#include <stddef.h>
#include <stdint.h>

typedef struct kd_expr_env {
	void *ctx;
	unsigned ptr_size;   /* 8 or 4: width of poi(); 0 means 8 */
	unsigned radix;      /* 16, 10, 8; 0 means 16 */
	/* Register by name without '@' ("rax", "eip"); 0 or negative if this
	 * target has no such register. */
	int (*read_register)(void *ctx, const char *name, uint64_t *value);
	/* Exactly len bytes or a negative return (no partial data). */
	int (*read_memory)(void *ctx, uint64_t addr, void *buf, size_t len);
	/* "nt!NtCreateFile" or "NtCreateFile"; 0 or negative if unknown. */
	int (*resolve_symbol)(void *ctx, const char *name, uint64_t *value);
	/* Pseudo-register by name with its '$' ("$ip", "$t3"); 0 or negative. */
	int (*get_pseudo)(void *ctx, const char *name, uint64_t *value);
} kd_expr_env;

/*
 * Evaluate the longest expression at the start of text.  Returns 0 with
 * *value set and *end (optional) at the first non-blank character not
 * consumed (so "rsp L4" stops at "L4").  On failure returns negative with
 * a WinDbg-style message in err ("Syntax error at '+ )'", "Couldn't
 * resolve error at 'nt!Foo'", "Memory access error at 'poi(0)'", "Divide
 * by zero error at '/0'") and *end at the offending token.
 */
int kd_expr_eval(const kd_expr_env *env, const char *text, uint64_t *value,
		 const char **end, char *err, size_t errlen);

/* Like kd_expr_eval but the whole text must be one expression (trailing
 * blanks allowed); "1 2" is a syntax error. */
int kd_expr_eval_all(const kd_expr_env *env, const char *text, uint64_t *value,
		     char *err, size_t errlen);

/* $t0..$t19: index 0..19 for "$t0".."$t19" (also "@$t5"), else -1. */
int kd_expr_treg_index(const char *name);

/*
 * Address ranges as WinDbg's memory commands take them:
 *   [addr] [L count | L? count | addr2]
 * The values are expressions evaluated by `eval` (kd_expr_eval over some
 * environment, or the session's kd_eval).  count is in elements of
 * elem_size bytes; addr2 is inclusive.  Without `L?` a range over 256 MB is
 * refused ("Range error"), as WinDbg does.  *have_addr / *have_count say
 * what the text gave; the caller applies its defaults.  *end gets the first
 * character after the range (other arguments, e.g. the pattern of `s`).
 */
typedef int (*kd_expr_eval_fn)(void *ctx, const char *text, uint64_t *value,
			       const char **end, char *err, size_t errlen);
typedef struct kd_range {
	uint64_t addr;
	uint64_t count;
	int have_addr, have_count;
	int by_end;          /* count came from a second address, not L */
} kd_range;
int kd_expr_range(kd_expr_eval_fn eval, void *ctx, const char *text,
		  size_t elem_size, kd_range *out, const char **end,
		  char *err, size_t errlen);
/* Adapter: kd_expr_eval with ctx = const kd_expr_env *. */
int kd_expr_eval_env(void *env, const char *text, uint64_t *value,
		     const char **end, char *err, size_t errlen);

#define KD_RANGE_MAX_BYTES (256u * 1024 * 1024)

#endif
