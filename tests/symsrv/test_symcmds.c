/*
 * test_symcmds.c - the symbol commands (lm, x, ln, dt, .sympath, !sym)
 * through the real session and dispatcher, over a fake in-memory target
 * and the symtest DLL/PDB built by this folder's meson.build.  Output is
 * compared with WinDbg's text shapes; member offsets come from the PDB
 * (their correctness is tests/symbols' business), values are planted in
 * fake memory, so every dt value form is checked: pointers, unsigned and
 * signed integers, bitfields, enums, char arrays, LIST_ENTRY,
 * UNICODE_STRING, nested expansion (-r) and field selection.
 *
 * Usage: test_symcmds DLL PDB
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules.h"
#include "session.h"
#include "symbols/symbols.h"

static int failures, checks;

static uint64_t MEM_BASE = 0xfffff80000100000ull;   /* moved for the x86 part */
#define MOD_BASE ((uint64_t)0xfffff80012340000ull)
#define MEM_SIZE 0x2000u

static uint8_t mem[MEM_SIZE];

/* The module's image reads as zeros (globals of the test DLL). */
#define MOD_SPAN 0x10000u

static int f_read(kd_target *t, uint64_t addr, void *buf, size_t len, size_t *got)
{
	size_t n = 0;
	if (addr >= MOD_BASE && addr + len <= MOD_BASE + MOD_SPAN) {
		memset(buf, 0, len);
		*got = len;
		return 0;
	}
	while (n < len && addr + n >= MEM_BASE && addr + n < MEM_BASE + MEM_SIZE)
		n++;
	if (n)
		memcpy(buf, mem + (addr - MEM_BASE), n);
	*got = n;
	return n == len ? 0 : kd_target_fail(t, KD_E_PARTIAL, "partial read");
}

static void f_close(kd_target *t) { free(t); }

static const kd_target_ops fake_ops = {
	.name = "fake",
	.read_virtual = f_read,
	.close = f_close,
};

static char outbuf[65536];
static size_t outlen;

static void capture(void *ctx, const char *text, size_t len)
{
	(void)ctx;
	if (outlen + len >= sizeof outbuf)
		len = sizeof outbuf - outlen - 1;
	memcpy(outbuf + outlen, text, len);
	outlen += len;
	outbuf[outlen] = 0;
}

static kd_session *S;

static const char *run(const char *cmd)
{
	outlen = 0;
	outbuf[0] = 0;
	kd_execute(S, cmd);
	return outbuf;
}

static void expect_eq(const char *cmd, const char *want, int line)
{
	run(cmd);
	checks++;
	if (strcmp(outbuf, want) != 0) {
		failures++;
		printf("line %d: %s\n--- got ---\n%s--- want ---\n%s-----------\n", line, cmd, outbuf, want);
	}
}

static void expect_has(const char *cmd, const char *want, int line)
{
	run(cmd);
	checks++;
	if (!strstr(outbuf, want)) {
		failures++;
		printf("line %d: %s\n  output:\n%s  lacks: [%s]\n", line, cmd, outbuf, want);
	}
}
#define EQ(cmd, want) expect_eq(cmd, want, __LINE__)
#define HAS(cmd, want) expect_has(cmd, want, __LINE__)

static void put(uint64_t off, uint64_t v, unsigned size)
{
	for (unsigned i = 0; i < size; i++)
		mem[off + i] = (uint8_t)(v >> (8 * i));
}

static pdb_file *PDB;
static uint32_t OBJ_TI;

static uint64_t off_of(const char *field)
{
	uint64_t o = 0;
	if (pdb_type_field(PDB, OBJ_TI, field, &o, NULL) < 0) {
		printf("no field %s in the test PDB\n", field);
		exit(1);
	}
	return o;
}

int main(int argc, char **argv)
{
	char want[4096], cmd[256];
	if (argc != 3) {
		printf("usage: test_symcmds DLL PDB\n");
		return 2;
	}
	kd_target *t = calloc(1, sizeof *t);
	t->ops = &fake_ops;
	t->version.arch = KD_ARCH_X64;
	t->stopped = 1;
	S = kd_session_create();
	kd_session_set_live(S, t);
	kd_session_set_output(S, capture, NULL);

	/* .sympath / !sym */
	EQ(".sympath /nonexistent/syms", "Symbol search path is: /nonexistent/syms\n"
	                                  "Expanded Symbol search path is: /nonexistent/syms\n"
	                                  "\n************* Path validation summary **************\n"
	                                  "Response                         Time (ms)     Location\n"
	                                  "Error                                          /nonexistent/syms\n");
	EQ(".sympath+ srv*/tmp/c*https://example.invalid/s",
	   "Symbol search path is: /nonexistent/syms;srv*/tmp/c*https://example.invalid/s\n"
	   "Expanded Symbol search path is: /nonexistent/syms;srv*/tmp/c*https://example.invalid/s\n"
	   "\n************* Path validation summary **************\n"
	   "Response                         Time (ms)     Location\n"
	   "Error                                          /nonexistent/syms\n"
	   "Deferred                                       srv*/tmp/c*https://example.invalid/s\n");
	EQ(".sympath", "Symbol search path is: /nonexistent/syms;srv*/tmp/c*https://example.invalid/s\n"
	               "Expanded Symbol search path is: /nonexistent/syms;srv*/tmp/c*https://example.invalid/s\n");
	HAS(".sympath srv*http://a*b", "URL");
	EQ("!sym noisy", "noisy mode - symbol prompts on\n");
	EQ("!sym quiet", "quiet mode - symbol prompts on\n");

	/* The module: image and PDB from files, as for a dump target. */
	sym_modset *set = kd_modules_set(S);
	sym_module *m;
	pe_image *pe;
	char err[256];
	if (!set || pe_open_file(argv[1], &pe, err, sizeof err) < 0) {
		printf("setup: %s\n", err);
		return 1;
	}
	uint32_t size = pe_size_of_image(pe);
	pe_export add;
	pe_find_export(pe, "SymTestAdd", &add);
	pe_close(pe);
	sym_modset_add(set, "symtest", argv[1], MOD_BASE, size, &m);
	sym_module_set_pe_file(m, argv[1]);
	sym_module_set_pdb_file(m, argv[2]);

	snprintf(want, sizeof want,
	         "start             end                 module name\n"
	         "fffff800`12340000 fffff800`%08" PRIx64 "   symtest    (deferred)\n",
	         (MOD_BASE + size) & 0xffffffff);
	EQ("lm", want);

	PDB = kd_modules_pdb(S, "symtest");
	if (!PDB || pdb_find_type(PDB, "_SYMTEST_OBJECT", &OBJ_TI) < 0) {
		printf("setup: no PDB / type\n");
		return 1;
	}
	snprintf(want, sizeof want,
	         "start             end                 module name\n"
	         "fffff800`12340000 fffff800`%08" PRIx64 "   symtest    (pdb symbols)          %s\n",
	         (MOD_BASE + size) & 0xffffffff, argv[2]);
	EQ("lm", want);
	EQ("lm m sym*", want);
	EQ("lm m other*", "start             end                 module name\n");
	HAS("lmvm symtest", "    Image name: ");

	/* x, ln */
	uint64_t fn = MOD_BASE + add.rva;
	snprintf(want, sizeof want, "fffff800`%08" PRIx64 " symtest!SymTestAdd (<no parameter info>)\n",
	         fn & 0xffffffff);
	EQ("x symtest!SymTestAdd", want);
	EQ("x symtest!symtestadd", want);
	HAS("x symtest!SymTestCount*", "symtest!SymTestCounter = 0n0\n");
	snprintf(cmd, sizeof cmd, "ln %" PRIx64, fn + 2);
	snprintf(want, sizeof want, "(fffff800`%08" PRIx64 ")   symtest!SymTestAdd+0x2   |  (",
	         fn & 0xffffffff);
	HAS(cmd, want);
	snprintf(cmd, sizeof cmd, "ln %" PRIx64, fn);
	HAS(cmd, "Exact matches:\n    symtest!SymTestAdd (<no parameter info>)\n");

	/* dt without an address */
	snprintf(want, sizeof want,
	         "symtest!_SYMTEST_OBJECT\n"
	         "   +0x%03" PRIx64 " Inner            : _SYMTEST_INNER\n"
	         "   +0x%03" PRIx64 " Links            : _LIST_ENTRY\n"
	         "   +0x%03" PRIx64 " UniqueProcessId  : Ptr64 Void\n"
	         "   +0x%03" PRIx64 " Bit0             : Pos 0, 1 Bit\n"
	         "   +0x%03" PRIx64 " Bits1to3         : Pos 1, 3 Bits\n",
	         off_of("Inner"), off_of("Links"), off_of("UniqueProcessId"), off_of("Bit0"),
	         off_of("Bits1to3"));
	HAS("dt symtest!_SYMTEST_OBJECT", want);
	snprintf(want, sizeof want, "   +0x%03" PRIx64 " Signed           : Int4B\n", off_of("Signed"));
	HAS("dt symtest!_SYMTEST_OBJECT", want);
	snprintf(want, sizeof want, "symtest!_SYMTEST_OBJECT\n   +0x%03" PRIx64 " State            : _SYMTEST_STATE\n",
	         off_of("State"));
	EQ("dt symtest!_SYMTEST_OBJECT State", want);
	EQ("dt symtest!_SYMTEST_STATE",
	   "symtest!_SYMTEST_STATE\n   SymTestIdle = 0n0\n   SymTestRunning = 0n1\n   SymTestDone = 0n7\n");
	HAS("dt symtest!_NO_SUCH_TYPE", "Symbol symtest!_NO_SUCH_TYPE not found.\n");

	/* dt over memory */
	uint64_t obj = 0x100, str = 0x800;
	put(obj + off_of("Inner.Flags"), 0x11, 4);
	put(obj + off_of("Inner.Counter"), 0x123456789ull, 8);
	put(obj + off_of("Links.Flink"), 0xfffff80000001000ull, 8);
	put(obj + off_of("Links.Blink"), 0xfffff80000002000ull, 8);
	put(obj + off_of("UniqueProcessId"), 4, 8);
	put(obj + off_of("Bit0"), 0x1 | 0x5 << 1 | 0x3 << 4, 4);
	put(obj + off_of("State"), 7, 4);
	memcpy(mem + obj + off_of("ImageFileName"), "System", 7);
	put(obj + off_of("Signed"), (uint32_t)-5, 4);
	put(obj + off_of("Name.Length"), 8, 2);
	put(obj + off_of("Name.MaximumLength"), 10, 2);
	put(obj + off_of("Name.Buffer"), MEM_BASE + str, 8);
	for (int i = 0; i < 4; i++)
		put(str + 2 * i, (uint64_t)"Te\\t"[i], 2);
	snprintf(cmd, sizeof cmd, "dt symtest!_SYMTEST_OBJECT %" PRIx64, MEM_BASE + obj);
	snprintf(want, sizeof want,
	         "   +0x%03" PRIx64 " Inner            : _SYMTEST_INNER\n"
	         "   +0x%03" PRIx64 " Links            : _LIST_ENTRY [ 0xfffff800`00001000 - 0xfffff800`00002000 ]\n"
	         "   +0x%03" PRIx64 " UniqueProcessId  : 0x00000000`00000004 Void\n"
	         "   +0x%03" PRIx64 " Bit0             : 0y1\n"
	         "   +0x%03" PRIx64 " Bits1to3         : 0y101\n"
	         "   +0x%03" PRIx64 " Rest             : 0y0000000000000000000000000011\n",
	         off_of("Inner"), off_of("Links"), off_of("UniqueProcessId"), off_of("Bit0"),
	         off_of("Bits1to3"), off_of("Rest"));
	HAS(cmd, want);
	snprintf(want, sizeof want,
	         "   +0x%03" PRIx64 " State            : 0n7 ( SymTestDone )\n"
	         "   +0x%03" PRIx64 " ImageFileName    : [15]  \"System\"\n"
	         "   +0x%03" PRIx64 " Signed           : 0n-5\n"
	         "   +0x%03" PRIx64 " Name             : _UNICODE_STRING \"Te\\t\"\n"
	         "   +0x%03" PRIx64 " Next             : 0x00000000`00000000 _SYMTEST_OBJECT\n",
	         off_of("State"), off_of("ImageFileName"), off_of("Signed"), off_of("Name"),
	         off_of("Next"));
	HAS(cmd, want);

	/* -r1 expands embedded structs with offsets relative to them */
	snprintf(cmd, sizeof cmd, "dt -r1 symtest!_SYMTEST_OBJECT %" PRIx64 " Inner", MEM_BASE + obj);
	snprintf(want, sizeof want,
	         "   +0x%03" PRIx64 " Inner            : _SYMTEST_INNER\n"
	         "      +0x000 Flags            : 0x11\n"
	         "      +0x008 Counter          : 0x00000001`23456789\n",
	         off_of("Inner"));
	EQ(cmd, want);
	/* a dotted field path prints the way down */
	snprintf(cmd, sizeof cmd, "dt symtest!_SYMTEST_OBJECT Inner.Counter %" PRIx64, MEM_BASE + obj);
	snprintf(want, sizeof want,
	         "   +0x%03" PRIx64 " Inner            : _SYMTEST_INNER\n"
	         "      +0x008 Counter          : 0x00000001`23456789\n",
	         off_of("Inner"));
	EQ(cmd, want);
	snprintf(cmd, sizeof cmd, "dt symtest!_SYMTEST_OBJECT %" PRIx64 " NoSuchField", MEM_BASE + obj);
	HAS(cmd, "Cannot find specified field members.");

	/* dt -l walks a list through a LIST_ENTRY field, back to the start */
	uint64_t obj2 = 0x400;
	put(obj + off_of("Links.Flink"), MEM_BASE + obj2 + off_of("Links"), 8);
	put(obj2 + off_of("Links.Flink"), MEM_BASE + obj + off_of("Links"), 8);
	put(obj2 + off_of("Signed"), 42, 4);
	snprintf(cmd, sizeof cmd, "dt symtest!_SYMTEST_OBJECT -l Links.Flink %" PRIx64 " Signed",
	         MEM_BASE + obj);
	snprintf(want, sizeof want,
	         "Links.Flink at 0xfffff800`%08" PRIx64 "\n---------------------------------------------\n"
	         "   +0x%03" PRIx64 " Signed           : 0n-5\n\n"
	         "Links.Flink at 0xfffff800`%08" PRIx64 "\n---------------------------------------------\n"
	         "   +0x%03" PRIx64 " Signed           : 0n42\n\n",
	         (MEM_BASE + obj) & 0xffffffff, off_of("Signed"), (MEM_BASE + obj2) & 0xffffffff,
	         off_of("Signed"));
	EQ(cmd, want);

	/* !lmi and adding a module by hand */
	HAS("!lmi symtest", "Pdb: symtest.pdb\n");
	HAS("!lmi symtest", "    Symbol Type: PDB      - Symbols loaded successfully.\n");
	EQ(".reload other.sys=fffff800`20000000,3000", "");
	HAS("lm m other", "fffff800`20000000 fffff800`20003000   other      (deferred)\n");
	HAS(".reload broken.sys=fffff800`30000000", "need a size");
	EQ("ln fffff800`20000010", "(fffff800`20000000)   other+0x10\n");
	EQ("ln 1234", "No symbols found near 00000000`00001234\n");

	/* dt on a global variable: its own type at its address. */
	snprintf(want, sizeof want, "   +0x%03" PRIx64 " Signed           : 0n0\n", off_of("Signed"));
	HAS("dt symtest!SymTestGlobalObject", want);

	/* Load-symbol events add and remove modules; the path is untrusted. */
	kd_event ev;
	memset(&ev, 0, sizeof ev);
	ev.kind = KD_EV_LOAD_SYMBOLS;
	ev.base = 0xfffff80040000000ull;
	ev.image_size = 0x7000;
	ev.text_len = (size_t)snprintf(ev.text, sizeof ev.text, "\\SystemRoot\\system32\\drivers\\evt.sys");
	kd_modules_on_event(S, &ev);
	HAS("lm m evt", "fffff800`40000000 fffff800`40007000   evt        (deferred)\n");
	ev.unload = 1;
	kd_modules_on_event(S, &ev);
	EQ("lm m evt", "start             end                 module name\n");
	ev.unload = 0;
	ev.text_len = (size_t)snprintf(ev.text, sizeof ev.text, "\\??\\C:\\x\x1b]0;owned\x07.sys");
	kd_modules_on_event(S, &ev);
	HAS("lm m Unknown*", "fffff800`40000000 fffff800`40007000   Unknown_Module_fffff80040000000   (deferred)\n");

	/* An unreadable address is an error, not made-up values. */
	HAS("dt symtest!_SYMTEST_OBJECT 1000", "Memory read error");

	kd_session_destroy(S);

	/* An x86 target: the module list with the x86 loader offsets (before
	 * any PDB), 32-bit pointers sign-extended, 8-digit addresses. */
	memset(mem, 0, sizeof mem);
	MEM_BASE = 0xffffffff80100000ull;
	kd_target *t86 = calloc(1, sizeof *t86);
	t86->ops = &fake_ops;
	t86->version.arch = KD_ARCH_X86;
	t86->version.ps_loaded_module_list = MEM_BASE;
	t86->stopped = 1;
	uint64_t head = 0, entry = 0x100, name = 0x200;
	uint32_t lo = (uint32_t)MEM_BASE;
	put(head, lo + entry, 4);            /* Flink */
	put(head + 4, lo + entry, 4);        /* Blink */
	put(entry, lo + head, 4);
	put(entry + 4, lo + head, 4);
	put(entry + 0x18, 0x80400000u, 4);   /* DllBase */
	put(entry + 0x20, 0x5000, 4);        /* SizeOfImage */
	put(entry + 0x2c, 14, 2);            /* BaseDllName.Length */
	put(entry + 0x2e, 16, 2);
	put(entry + 0x30, lo + name, 4);     /* BaseDllName.Buffer */
	for (int i = 0; i < 7; i++)
		put(name + 2 * i, (uint64_t)"drv.sys"[i], 2);
	S = kd_session_create();
	kd_session_set_live(S, t86);
	kd_session_set_output(S, capture, NULL);
	EQ(".reload", "Loading Kernel Symbols\n");
	EQ("lm", "start    end        module name\n80400000 80405000   drv        (deferred)\n");
	kd_session_destroy(S);

	printf("%d checks, %d failures\n", checks, failures);
	return failures ? 1 : 0;
}
