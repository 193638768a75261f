/* Unit tests for the WinDbg output shapes in format.c, compared with the
 * exact strings WinDbg prints. */
#include "check.h"
#include "format.h"

static const uint8_t mz[16] = { 0x4d, 0x5a, 0x90, 0x00, 0x03, 0x00, 0x00, 0x00,
				0x04, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00, 0x00 };

int main(void)
{
	char b[KD_FMT_LINE];

	/* Pointers. */
	kd_fmt_addr(b, sizeof b, 8, 0xfffff80000100000ull);
	CHECK_STR(b, "fffff800`00100000");
	kd_fmt_addr(b, sizeof b, 4, 0x80100000u);
	CHECK_STR(b, "80100000");
	kd_fmt_addr(b, sizeof b, 4, 0xfffff80000100000ull);
	CHECK_STR(b, "00100000");
	kd_fmt_u64(b, sizeof b, 0x1000);
	CHECK_STR(b, "00000000`00001000");
	/* Truncation keeps the NUL and reports the written length. */
	CHECK(kd_fmt_addr(b, 6, 8, 0xfffff80000100000ull) == 5);
	CHECK_STR(b, "fffff");

	/* db */
	kd_fmt_db_line(b, sizeof b, 8, 0xfffff80000100000ull, mz, NULL, 16, 0);
	CHECK_STR(b, "fffff800`00100000  4d 5a 90 00 03 00 00 00-04 00 00 00 ff ff 00 00  MZ..............");
	kd_fmt_db_line(b, sizeof b, 4, 0x80100000u, (const uint8_t *)"Hello, world!~\x7f ", NULL, 16, 0);
	CHECK_STR(b, "80100000  48 65 6c 6c 6f 2c 20 77-6f 72 6c 64 21 7e 7f 20  Hello, world!~. ");
	/* Short last line: the ASCII column stays in place. */
	kd_fmt_db_line(b, sizeof b, 8, 0x1000, (const uint8_t *)"ABCD", NULL, 4, 0);
	CHECK_STR(b, "00000000`00001000  41 42 43 44                                      ABCD");
	/* Nine bytes: the dash appears between byte 7 and 8. */
	kd_fmt_db_line(b, sizeof b, 4, 0x1000, mz, NULL, 9, 0);
	CHECK_STR(b, "00001000  4d 5a 90 00 03 00 00 00-04" "                     " "  MZ.......");
	/* Unaligned start: leading blank slots. */
	kd_fmt_db_line(b, sizeof b, 4, 0x1003, mz, NULL, 13, 3);
	CHECK_STR(b, "00001003           4d 5a 90 00 03-00 00 00 04 00 00 00 ff  " "   MZ...........");
	/* Unreadable bytes. */
	{
		uint8_t valid[16];
		memset(valid, 1, 8);
		memset(valid + 8, 0, 8);
		kd_fmt_db_line(b, sizeof b, 8, 0xfffff80000100ff8ull, mz, valid, 16, 0);
		CHECK_STR(b, "fffff800`00100ff8  4d 5a 90 00 03 00 00 00-?? ?? ?? ?? ?? ?? ?? ??  MZ......????????");
	}

	/* dw / dd / dq */
	kd_fmt_units_line(b, sizeof b, 8, 0xfffff80000100000ull, 2, mz, NULL, 8);
	CHECK_STR(b, "fffff800`00100000  5a4d 0090 0003 0000 0004 0000 ffff 0000");
	kd_fmt_units_line(b, sizeof b, 8, 0xfffff80000100000ull, 4, mz, NULL, 4);
	CHECK_STR(b, "fffff800`00100000  00905a4d 00000003 00000004 0000ffff");
	kd_fmt_units_line(b, sizeof b, 4, 0x80100000u, 4, mz, NULL, 4);
	CHECK_STR(b, "80100000  00905a4d 00000003 00000004 0000ffff");
	kd_fmt_units_line(b, sizeof b, 8, 0xfffff80000100000ull, 8, mz, NULL, 2);
	CHECK_STR(b, "fffff800`00100000  00000003`00905a4d 0000ffff`00000004");
	kd_fmt_units_line(b, sizeof b, 8, 0x1000, 4, mz, NULL, 1);
	CHECK_STR(b, "00000000`00001000  00905a4d");
	{
		uint8_t valid[16] = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0 };
		kd_fmt_units_line(b, sizeof b, 8, 0x1000, 4, mz, valid, 4);
		CHECK_STR(b, "00000000`00001000  00905a4d 00000003 ???????? ????????");
		kd_fmt_units_line(b, sizeof b, 8, 0x1000, 8, mz, valid, 2);
		CHECK_STR(b, "00000000`00001000  00000003`00905a4d ????????`????????");
		kd_fmt_units_line(b, sizeof b, 4, 0x1000, 2, mz, valid, 8);
		CHECK_STR(b, "00001000  5a4d 0090 0003 0000 0004 ???? ???? ????");
	}
	CHECK(kd_fmt_per_line(1) == 16 && kd_fmt_per_line(2) == 8);
	CHECK(kd_fmt_per_line(4) == 4 && kd_fmt_per_line(8) == 2);

	/* da / du: control characters never reach the terminal. */
	kd_fmt_chars_line(b, sizeof b, 8, 0xfffff80000100000ull, mz, 3, 0);
	CHECK_STR(b, "fffff800`00100000  \"MZ.\"");
	kd_fmt_chars_line(b, sizeof b, 4, 0x1000, (const uint8_t *)"a\x1b[2Jb", 6, 0);
	CHECK_STR(b, "00001000  \"a.[2Jb\"");
	kd_fmt_chars_line(b, sizeof b, 8, 0x2000, (const uint8_t *)"\\\0?\0?\0\x1b\0x\0\xe9\0", 6, 1);
	CHECK_STR(b, "00000000`00002000  \"\\??.x.\"");

	/* dps / dds / dqs */
	kd_fmt_ptrsym_line(b, sizeof b, 8, 0xfffff80000100000ull, 8, 0xfffff80000101234ull, 1,
			   "nt!KiSystemStartup+0x34");
	CHECK_STR(b, "fffff800`00100000  fffff800`00101234 nt!KiSystemStartup+0x34");
	kd_fmt_ptrsym_line(b, sizeof b, 8, 0xfffff80000100008ull, 8, 0, 1, NULL);
	CHECK_STR(b, "fffff800`00100008  00000000`00000000");
	kd_fmt_ptrsym_line(b, sizeof b, 4, 0x80100000u, 4, 0x80101234u, 1, "nt!Foo");
	CHECK_STR(b, "80100000  80101234 nt!Foo");
	kd_fmt_ptrsym_line(b, sizeof b, 8, 0xfffff80000100000ull, 4, 0x80101234u, 1, "");
	CHECK_STR(b, "fffff800`00100000  80101234");
	kd_fmt_ptrsym_line(b, sizeof b, 8, 0x1000, 8, 0, 0, "ignored");
	CHECK_STR(b, "00000000`00001000  ????????`????????");

	/* ? */
	kd_fmt_evaluate(b, sizeof b, 8, 0x1000);
	CHECK_STR(b, "Evaluate expression: 4096 = 00000000`00001000");
	kd_fmt_evaluate(b, sizeof b, 8, UINT64_MAX);
	CHECK_STR(b, "Evaluate expression: -1 = ffffffff`ffffffff");
	kd_fmt_evaluate(b, sizeof b, 4, 0x1000);
	CHECK_STR(b, "Evaluate expression: 4096 = 00001000");
	kd_fmt_evaluate(b, sizeof b, 4, UINT64_MAX);
	CHECK_STR(b, "Evaluate expression: -1 = ffffffff");
	kd_fmt_evaluate(b, sizeof b, 4, 0x100000000ull);
	CHECK_STR(b, "Evaluate expression: 4294967296 = 00000001`00000000");
	kd_fmt_evaluate(b, sizeof b, 8, 0xfffff80000100000ull);
	CHECK_STR(b, "Evaluate expression: -8796091973632 = fffff800`00100000");

	/* .formats */
	{
		char big[1024];
		kd_fmt_formats(big, sizeof big, 4, 0x1c407e62);
		CHECK_STR(big, "Evaluate expression:\n"
			       "  Hex:     1c407e62\n"
			       "  Decimal: 473988706\n"
			       "  Octal:   03420077142\n"
			       "  Binary:  00011100 01000000 01111110 01100010\n"
			       "  Chars:   .@~b\n"
			       "  Time:    Mon Jan  7 23:31:46 1985\n"   /* UTC */
			       "  Float:   low 6.36908e-22 high 0\n"
			       "  Double:  2.34182e-315\n");
		kd_fmt_formats(big, sizeof big, 8, 0x12);
		CHECK_STR(big, "Evaluate expression:\n"
			       "  Hex:     00000000`00000012\n"
			       "  Decimal: 18\n"
			       "  Octal:   0000000000000000000022\n"
			       "  Binary:  00000000 00000000 00000000 00000000\n"
			       "           00000000 00000000 00000000 00010010\n"
			       "  Chars:   ........\n"
			       "  Time:    Thu Jan  1 00:00:18 1970\n"
			       "  Float:   low 2.52234e-44 high 0\n"
			       "  Double:  8.89318e-323\n");
		kd_fmt_formats(big, sizeof big, 8, 0x01d0000000000000ull);
		CHECK(strstr(big, "  Time:    ") && strstr(big, " (UTC)\n"));
	}

	/* Names from the target are made terminal-safe. */
	{
		char name[] = "drv!Evil\x1b[2J\xe9 x";
		CHECK_STR(kd_fmt_sanitize(name), "drv!Evil?[2J? x");
		char ok[] = "nt!KiSystemStartup+0x10";
		CHECK_STR(kd_fmt_sanitize(ok), "nt!KiSystemStartup+0x10");
	}

	/* Escaping. */
	kd_fmt_escape(b, sizeof b, "a\nb\x1b[0m\\\t\xff", 10);
	CHECK_STR(b, "a\\nb\\x1b[0m\\\\\\t\\xff");
	CHECK(kd_fmt_le((const uint8_t *)"\x01\x02\x03\x04\x05\x06\x07\x08", 8) == 0x0807060504030201ull);
	return check_report("test_format");
}
