/* Unit tests for the MASM evaluator (kd_expr_eval) and the range parser,
 * over a fake environment: a few registers, 256 bytes of memory at 0x1000,
 * two symbols and $t0..$t19. */
#include "check.h"
#include "expr.h"

#include <strings.h>

typedef struct fake {
	uint8_t mem[256];
	uint64_t t[20];
} fake;

static int fake_reg(void *ctx, const char *name, uint64_t *v)
{
	(void)ctx;
	static const struct { const char *n; uint64_t v; } regs[] = {
		{ "rax", 0x10 }, { "rsp", 0xfffff80000100000ull }, { "r8", 0x1000 },
		{ "eax", 0x10 }, { "ah", 0x77 }, { "rip", 0xfffff80000101234ull },
	};
	for (size_t i = 0; i < sizeof regs / sizeof regs[0]; i++)
		if (strcasecmp(regs[i].n, name) == 0) {
			*v = regs[i].v;
			return 0;
		}
	return -1;
}

static int fake_mem(void *ctx, uint64_t addr, void *buf, size_t len)
{
	fake *f = ctx;
	if (addr < 0x1000 || addr + len > 0x1000 + sizeof f->mem)
		return -1;
	memcpy(buf, f->mem + (addr - 0x1000), len);
	return 0;
}

static int fake_sym(void *ctx, const char *name, uint64_t *v)
{
	(void)ctx;
	if (strcmp(name, "nt!NtCreateFile") == 0) { *v = 0xfffff80000101230ull; return 0; }
	if (strcmp(name, "KiSystemStartup") == 0) { *v = 0xfffff80000101000ull; return 0; }
	if (strcmp(name, "dead") == 0) { *v = 0x5; return 0; }
	if (strcmp(name, "drv!Foo::Bar") == 0) { *v = 0x2000; return 0; }
	return -1;
}

static int fake_pseudo(void *ctx, const char *name, uint64_t *v)
{
	fake *f = ctx;
	int i = kd_expr_treg_index(name);
	if (i >= 0) { *v = f->t[i]; return 0; }
	if (strcasecmp(name, "$ip") == 0) { *v = 0xfffff80000101234ull; return 0; }
	if (strcasecmp(name, "$ra") == 0) { *v = 0xfffff80000105555ull; return 0; }
	return -1;
}

static fake F;
static kd_expr_env ENV = { .ctx = &F, .ptr_size = 8, .radix = 16,
	.read_register = fake_reg, .read_memory = fake_mem,
	.resolve_symbol = fake_sym, .get_pseudo = fake_pseudo };

static void ok(const char *text, uint64_t want, int line)
{
	uint64_t v = 0;
	char err[128];
	check_count++;
	if (kd_expr_eval_all(&ENV, text, &v, err, sizeof err) < 0) {
		check_failures++;
		fprintf(stderr, "line %d: '%s' failed: %s\n", line, text, err);
	} else if (v != want) {
		check_failures++;
		fprintf(stderr, "line %d: '%s' = 0x%" PRIx64 ", want 0x%" PRIx64 "\n", line, text, v, want);
	}
}

static void bad(const char *text, const char *want_err, const char *want_at, int line)
{
	uint64_t v = 0;
	char err[128];
	const char *end = NULL;
	check_count++;
	int rc = kd_expr_eval(&ENV, text, &v, &end, err, sizeof err);
	if (rc == 0 && end && *end == 0) {
		check_failures++;
		fprintf(stderr, "line %d: '%s' succeeded (0x%" PRIx64 ")\n", line, text, v);
		return;
	}
	if (rc == 0) {  /* stopped early: the whole-text form must fail */
		rc = kd_expr_eval_all(&ENV, text, &v, err, sizeof err);
		end = NULL;
	}
	if (rc == 0 || strcmp(err, want_err) != 0) {
		check_failures++;
		fprintf(stderr, "line %d: '%s' error [%s], want [%s]\n", line, text, err, want_err);
	}
	if (want_at && end && strcmp(end, want_at) != 0) {
		check_failures++;
		fprintf(stderr, "line %d: '%s' error points at [%s], want [%s]\n", line, text, end, want_at);
	}
}
#define OK(t, v) ok(t, v, __LINE__)
#define BAD(t, e, at) bad(t, e, at, __LINE__)

int main(void)
{
	for (int i = 0; i < 256; i++)
		F.mem[i] = (uint8_t)i;
	F.t[0] = 0x1234;
	F.t[19] = 0x99;

	/* Numbers and radixes. */
	OK("10", 0x10);
	OK("fffff800`00100000", 0xfffff80000100000ull);
	OK("0x10", 0x10);
	OK("0n10", 10);
	OK("0t17", 15);
	OK("0y101", 5);
	OK("10h", 0x10);
	OK("0ah", 0xa);
	OK("dead", 0xdead);
	OK("FFFFFFFFFFFFFFFF", UINT64_MAX);
	OK("  42  ", 0x42);
	/* Registers and pseudo-registers. */
	OK("@rax", 0x10);
	OK("rax", 0x10);
	OK("@RAX", 0x10);
	OK("ah", 0x77);        /* register beats the h suffix */
	OK("@rsp+8", 0xfffff80000100008ull);
	OK("$ip", 0xfffff80000101234ull);
	OK("@$ip", 0xfffff80000101234ull);
	OK("$ra - 5", 0xfffff80000105550ull);
	OK("$t0", 0x1234);
	OK("@$t19", 0x99);
	OK("$ptrsize", 8);
	OK("$pagesize", 0x1000);
	/* Symbols. */
	OK("nt!NtCreateFile", 0xfffff80000101230ull);
	OK("nt!NtCreateFile+0x10", 0xfffff80000101240ull);
	OK("KiSystemStartup+10", 0xfffff80000101010ull);
	OK("!dead", 5);
	OK("drv!Foo::Bar+1", 0x2001);
	/* Precedence. */
	OK("1+2*3", 7);
	OK("(1+2)*3", 9);
	OK("10-2-3", 0xb);
	OK("100/10/2", 8);
	OK("1+2<<4", 0x30);
	OK("1<<4+1", 0x20);
	OK("1 | 2 ^ 3 & 6", 1 | (2 ^ (3 & 6)));
	OK("2 == 2", 1);
	OK("2 = 3", 0);
	OK("1 + 1 == 2", 1);
	OK("3 != 4", 1);
	OK("5 < 6", 1);
	OK("6 <= 5", 0);
	OK("7 > 6", 1);
	OK("7 >= 7", 1);
	OK("1 and 3", 1);
	OK("1 or 2", 3);
	OK("3 xor 1", 2);
	OK("0n17 mod 0n5", 2);
	OK("0n17 % 0n5", 2);
	OK("-1", UINT64_MAX);
	OK("--1", 1);
	OK("~0", UINT64_MAX);
	OK("!0", 1);
	OK("!5", 0);
	OK("not 0", 1);
	OK("-1 >> 0n60", 0xf);
	OK("-10 >>> 4", UINT64_MAX);
	OK("8000 >>> 4", 0x800);
	OK("hi 12345678", 0x1234);
	OK("low 12345678", 0x5678);
	OK("1 - -1", 2);
	OK("ffffffff`ffffffff + 1", 0);
	/* Memory operators. */
	OK("poi(1000)", 0x0706050403020100ull);
	OK("poi(@r8+8)", 0x0f0e0d0c0b0a0908ull);
	OK("poi 1000+8", 0x0706050403020108ull);   /* unary binds tighter */
	OK("dwo(1004)", 0x07060504);
	OK("qwo(1000)", 0x0706050403020100ull);
	OK("wo(1002)", 0x0302);
	OK("by(10ff)", 0xff);
	OK("by(1001) + wo(1001)", 1 + 0x0201);
	OK("poi(poi(1000) & 0 | 1010)", 0x1716151413121110ull);

	/* String functions of MASM scripts. */
	OK("$scmp(\"abc\", \"abc\")", 0);
	OK("$scmp(\"abc\", \"abd\")", UINT64_MAX);
	OK("$scmp(\"b\", \"a\")", 1);
	OK("$scmp(\"ABC\", \"abc\") != 0", 1);
	OK("$sicmp(\"ABC\", \"abc\")", 0);
	OK("$spat(\"\\??\\C:\\Windows\\hosts\", \"*HOSTS\")", 1);
	OK("$spat(\"kd-trace.txt\", \"kd-?race.*\")", 1);
	OK("$spat(\"kd-trace.txt\", \"*.ini\")", 0);
	OK("$spat(\"\", \"*\")", 1);
	OK("!$spat(\"a\", \"b\") & 1", 1);
	OK("$vvalid(1000, 10)", 1);
	OK("$vvalid(10f8, 10)", 0);
	OK("$vvalid(0, 1) + 5", 5);
	BAD("$scmp(\"a\")", "Syntax error at ')'", ")");
	BAD("$scmp(abc, \"a\")", "Syntax error at 'abc, \"a\")'", NULL);

	/* Pointer size 4: poi reads 4 bytes. */
	ENV.ptr_size = 4;
	OK("poi(1000)", 0x03020100);
	ENV.ptr_size = 8;
	/* Radix 10. */
	ENV.radix = 10;
	OK("10", 10);
	OK("0x10", 16);
	OK("10h", 16);
	ENV.radix = 16;

	/* The end pointer: expressions stop before the next argument. */
	{
		uint64_t v;
		const char *end;
		char err[64];
		CHECK(kd_expr_eval(&ENV, "rsp L4", &v, &end, err, sizeof err) == 0);
		CHECK_STR(end, "L4");
		CHECK(kd_expr_eval(&ENV, "1000 + 8 \"cmd\"", &v, &end, err, sizeof err) == 0);
		CHECK_U64(v, 0x1008);
		CHECK_STR(end, "\"cmd\"");
		CHECK(kd_expr_eval(&ENV, "@rax orange", &v, &end, err, sizeof err) == 0);
		CHECK_STR(end, "orange");
	}

	/* Failures point at the bad token. */
	BAD("1 +", "Syntax error at ''", "");
	BAD("(1+2", "Syntax error at ''", "");
	BAD("1 + )", "Syntax error at ')'", ")");
	BAD("nt!Nope+4", "Couldn't resolve error at 'nt!Nope+4'", "nt!Nope+4");
	BAD("1 + zzz", "Couldn't resolve error at 'zzz'", "zzz");
	BAD("@zzz", "Bad register error at '@zzz'", "@zzz");
	BAD("$t20", "Bad register error at '$t20'", "$t20");
	BAD("poi(0)", "Memory access error at '(0)'", "(0)");
	BAD("dwo(10fe)", "Memory access error at '(10fe)'", "(10fe)");
	BAD("4/0", "Divide by zero error at '/0'", "/0");
	BAD("4 % (1-1)", "Divide by zero error at '% (1-1)'", "% (1-1)");
	BAD("0n1a", "Syntax error at '0n1a'", "0n1a");
	BAD("0y102", "Syntax error at '0y102'", "0y102");
	BAD("1ffffffffffffffff", "Overflow error at '1ffffffffffffffff'", NULL);
	BAD("", "Syntax error at ''", "");
	BAD("1 2", "Syntax error at '2'", NULL);
	BAD("*3", "Syntax error at '*3'", "*3");

	/* Deep nesting is refused, not a stack overflow. */
	{
		char deep[2100];
		memset(deep, '(', 1000);
		strcpy(deep + 1000, "1");
		memset(deep + 1001, ')', 1000);
		deep[2001] = 0;
		uint64_t v;
		char err[64];
		CHECK(kd_expr_eval(&ENV, deep, &v, NULL, err, sizeof err) < 0);
		memset(deep, '-', 2000);
		strcpy(deep + 2000, "1");
		CHECK(kd_expr_eval(&ENV, deep, &v, NULL, err, sizeof err) < 0);
	}

	/* $tN names. */
	CHECK(kd_expr_treg_index("$t0") == 0);
	CHECK(kd_expr_treg_index("@$t19") == 19);
	CHECK(kd_expr_treg_index("$T7") == 7);
	CHECK(kd_expr_treg_index("$t20") == -1);
	CHECK(kd_expr_treg_index("$t01") == -1);
	CHECK(kd_expr_treg_index("$ip") == -1);

	/* Ranges. */
	{
		kd_range r;
		const char *end;
		char err[128];
		CHECK(kd_expr_range(kd_expr_eval_env, &ENV, "1000 L4", 8, &r, &end, err, sizeof err) == 0);
		CHECK(r.have_addr && r.have_count);
		CHECK_U64(r.addr, 0x1000);
		CHECK_U64(r.count, 4);
		CHECK_STR(end, "");
		CHECK(kd_expr_range(kd_expr_eval_env, &ENV, "1000 100f", 1, &r, &end, err, sizeof err) == 0);
		CHECK_U64(r.count, 0x10);
		CHECK(kd_expr_range(kd_expr_eval_env, &ENV, "1000 101f", 4, &r, &end, err, sizeof err) == 0);
		CHECK_U64(r.count, 8);
		CHECK(kd_expr_range(kd_expr_eval_env, &ENV, "L10", 1, &r, &end, err, sizeof err) == 0);
		CHECK(!r.have_addr && r.have_count);
		CHECK_U64(r.count, 0x10);
		CHECK(kd_expr_range(kd_expr_eval_env, &ENV, "@rsp l0n20", 8, &r, &end, err, sizeof err) == 0);
		CHECK_U64(r.addr, 0xfffff80000100000ull);
		CHECK_U64(r.count, 20);
		CHECK(kd_expr_range(kd_expr_eval_env, &ENV, "", 1, &r, &end, err, sizeof err) == 0);
		CHECK(!r.have_addr && !r.have_count);
		CHECK(kd_expr_range(kd_expr_eval_env, &ENV, "rsp", 1, &r, &end, err, sizeof err) == 0);
		CHECK(r.have_addr && !r.have_count);
		CHECK(kd_expr_range(kd_expr_eval_env, &ENV, "1000 L100 \"abc\"", 1, &r, &end, err, sizeof err) == 0);
		CHECK_STR(end, "\"abc\"");
		CHECK(kd_expr_range(kd_expr_eval_env, &ENV, "1000 L20 41 42", 1, &r, &end, err, sizeof err) == 0);
		CHECK_STR(end, "41 42");
		/* Range limit and L? */
		CHECK(kd_expr_range(kd_expr_eval_env, &ENV, "0 L20000000", 8, &r, &end, err, sizeof err) < 0);
		CHECK_STR(err, "Range error in 'L20000000'");
		CHECK(kd_expr_range(kd_expr_eval_env, &ENV, "0 L?20000000", 8, &r, &end, err, sizeof err) == 0);
		CHECK_U64(r.count, 0x20000000);
		CHECK(kd_expr_range(kd_expr_eval_env, &ENV, "2000 1000", 1, &r, &end, err, sizeof err) < 0);
		CHECK(kd_expr_range(kd_expr_eval_env, &ENV, "1000 Lzz", 1, &r, &end, err, sizeof err) < 0);
		CHECK_STR(err, "Couldn't resolve error at 'zz'");
	}
	return check_report("test_expr");
}
