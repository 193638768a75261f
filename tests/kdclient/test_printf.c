/* Unit tests for .printf formatting (kd_printf_format) over a fake target
 * memory: numbers, pointers, symbols, and the strings read from the target
 * (%ma %mu %msa %msu), which must come out with control characters escaped. */
#include "check.h"
#include "printf.h"

static uint8_t mem[0x3000];           /* fake memory at 0x10000 */
#define BASE 0x10000u

static int fake_read(void *ctx, uint64_t addr, void *buf, size_t len, size_t *got)
{
	(void)ctx;
	*got = 0;
	if (addr < BASE || addr >= BASE + sizeof mem)
		return 0;
	size_t avail = (size_t)(BASE + sizeof mem - addr);
	size_t n = len < avail ? len : avail;
	memcpy(buf, mem + (addr - BASE), n);
	*got = n;
	return 0;
}

static int fake_sym(void *ctx, uint64_t addr, char *buf, size_t len)
{
	(void)ctx;
	if (addr >= 0xfffff80000101000ull && addr < 0xfffff80000102000ull) {
		if (addr == 0xfffff80000101000ull)
			snprintf(buf, len, "nt!NtCreateFile");
		else
			snprintf(buf, len, "nt!NtCreateFile+0x%llx", (unsigned long long)(addr - 0xfffff80000101000ull));
		return 1;
	}
	return 0;
}

static kd_printf_env env = { NULL, 8, fake_read, fake_sym };

static void fmt_ok(const char *fmt, const uint64_t *args, size_t n, const char *want, int line)
{
	char out[4096], err[128];
	check_count++;
	if (kd_printf_format(&env, fmt, args, n, out, sizeof out, err, sizeof err) < 0) {
		check_failures++;
		fprintf(stderr, "line %d: '%s' failed: %s\n", line, fmt, err);
		return;
	}
	if (strcmp(out, want) != 0) {
		check_failures++;
		fprintf(stderr, "line %d: '%s'\n  got  [%s]\n  want [%s]\n", line, fmt, out, want);
	}
}
#define FMT(f, want, ...) do { uint64_t a_[] = { 0, __VA_ARGS__ }; \
	fmt_ok(f, a_ + 1, sizeof a_ / sizeof a_[0] - 1, want, __LINE__); } while (0)

static void put_u16(size_t off, uint16_t v) { mem[off] = (uint8_t)v; mem[off + 1] = (uint8_t)(v >> 8); }
static void put_u64(size_t off, uint64_t v) { for (int i = 0; i < 8; i++) mem[off + i] = (uint8_t)(v >> (8 * i)); }

int main(void)
{
	/* ASCII string at 0x10000, UTF-16 at 0x10100, UNICODE_STRING at
	 * 0x10200 -> buffer 0x10300 ("\\??\\C:\\x.txt", Length without NUL),
	 * hostile string at 0x10400, string running to the end of memory. */
	strcpy((char *)mem, "hello");
	const char *w = "W\xe9rld";
	for (size_t i = 0; i <= strlen(w); i++)
		put_u16(0x100 + 2 * i, (uint8_t)w[i]);
	const char *path = "\\??\\C:\\x.txt";
	for (size_t i = 0; i < strlen(path); i++)
		put_u16(0x300 + 2 * i, (uint8_t)path[i]);
	put_u16(0x300 + 2 * strlen(path), 'Z');     /* not part of the string */
	put_u16(0x200, (uint16_t)(2 * strlen(path)));
	put_u16(0x202, (uint16_t)(2 * strlen(path) + 2));
	put_u64(0x208, BASE + 0x300);
	strcpy((char *)mem + 0x400, "a\x1b]0;pwn\x07\nb");
	/* ANSI_STRING at 0x10500 -> "abcdef" with Length 3 */
	strcpy((char *)mem + 0x600, "abcdef");
	put_u16(0x500, 3);
	put_u16(0x502, 7);
	put_u64(0x508, BASE + 0x600);
	memset(mem + sizeof mem - 4, 'q', 4);
	/* UTF-16 surrogate pair and a bidi override */
	put_u16(0x700, 0xd83d); put_u16(0x702, 0xde00); put_u16(0x704, 0x202e); put_u16(0x706, 0);

	FMT("plain text\n", "plain text\n", 0);
	FMT("%p", "fffff80000101234", 0xfffff80000101234ull);
	FMT("%N", "fffff80000101234", 0xfffff80000101234ull);
	FMT("%x %X", "beef BEEF", 0xbeef, 0xbeef);
	FMT("%x", "89abcdef", 0x1234567889abcdefull);        /* ULONG without a size prefix */
	FMT("%I64x", "1234567889abcdef", 0x1234567889abcdefull);
	FMT("%llx", "1234567889abcdef", 0x1234567889abcdefull);
	FMT("%08x|%-6d|%u", "0000002a|-1    |4294967295", 0x2a, UINT64_MAX, UINT64_MAX);
	FMT("%d %i", "42 -5", 42, (uint64_t)-5);
	FMT("%I64d", "-8796091973632", 0xfffff80000100000ull);
	FMT("%o", "17", 15);
	FMT("%c%c", "A\\x01", 'A', 1);
	FMT("100%%", "100%", 0);
	FMT("%y", "nt!NtCreateFile+0x10 (fffff800`00101010)", 0xfffff80000101010ull);
	FMT("%y", "00000000`00001234", 0x1234);
	FMT("[%ma]", "[hello]", BASE);
	FMT("[%s]", "[hello]", BASE);
	FMT("[%10ma]", "[     hello]", BASE);
	FMT("[%mu]", "[W\xc3\xa9rld]", BASE + 0x100);
	FMT("%msu\n", "\\??\\C:\\x.txt\n", BASE + 0x200);
	FMT("[%msa]", "[abc]", BASE + 0x500);
	FMT("[%ma]", "[a\\x1b]0;pwn\\x07\\nb]", BASE + 0x400);
	FMT("[%mu]", "[\xf0\x9f\x98\x80\\u202e]", BASE + 0x700);
	FMT("[%ma]", "[<Memory access error>]", 0x5);
	FMT("[%msu]", "[<Memory access error>]", 0x5);
	FMT("[%ma]", "[qqqq]", BASE + sizeof mem - 4);   /* ends with memory, no NUL */
	FMT("%p %ma %x", "0000000000010000 hello 5", BASE, BASE, 5);

	/* x86: 8-digit pointers, 4-byte UNICODE_STRING buffer pointer */
	env.ptr_size = 4;
	FMT("%p", "80101234", 0x80101234u);
	put_u16(0x800, 4); put_u16(0x802, 6);
	mem[0x804] = 0x00; mem[0x805] = 0x01; mem[0x806] = 0x01; mem[0x807] = 0x00;   /* 0x00010100 */
	FMT("[%msu]", "[W\xc3\xa9]", BASE + 0x800);
	env.ptr_size = 8;

	/* Errors. */
	{
		char out[64], err[128];
		uint64_t a[1] = { 1 };
		CHECK(kd_printf_format(&env, "%x %x", a, 1, out, sizeof out, err, sizeof err) < 0);
		CHECK_STR(err, "Too few arguments for format '%x'");
		CHECK(kd_printf_format(&env, "%q", a, 1, out, sizeof out, err, sizeof err) < 0);
		CHECK(kd_printf_format(&env, "%mz", a, 1, out, sizeof out, err, sizeof err) < 0);
		/* truncation keeps a NUL */
		CHECK(kd_printf_format(&env, "0123456789", a, 0, out, 5, err, sizeof err) == 4);
		CHECK_STR(out, "0123");
	}
	return check_report("test_printf");
}
