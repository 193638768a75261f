/*
 * events.c - what a stop looks like: the WinDbg exception texts, the
 * location line with its disassembly, the `r` display, the attach banner,
 * and the sx* exception/event filters.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "run.h"
#include "disasm/disasm.h"

/* ---- exception names (WinDbg's texts) ---- */

typedef struct filter_def {
	const char *abbrev;
	uint32_t code;            /* 0 for events */
	const char *name;
	kd_filter_action def;
} filter_def;

static const filter_def filters[] = {
	{ "ld", 0, "Load module", KD_SX_OUTPUT },
	{ "ud", 0, "Unload module", KD_SX_OUTPUT },
	{ "av", 0xC0000005u, "Access violation", KD_SX_BREAK },
	{ "asrt", 0xC0000420u, "Assertion failure", KD_SX_BREAK },
	{ "bpe", 0x80000003u, "Break instruction exception", KD_SX_BREAK },
	{ "sse", 0x80000004u, "Single step exception", KD_SX_BREAK },
	{ "dm", 0x80000002u, "Data misaligned", KD_SX_BREAK },
	{ "dz", 0xC0000094u, "Integer divide-by-zero", KD_SX_BREAK },
	{ "iov", 0xC0000095u, "Integer overflow", KD_SX_BREAK },
	{ "ii", 0xC000001Du, "Illegal instruction", KD_SX_BREAK },
	{ "gp", 0xC0000096u, "Privileged instruction", KD_SX_BREAK },
	{ "ip", 0xC0000006u, "In-page I/O error", KD_SX_BREAK },
	{ "sov", 0xC00000FDu, "Stack overflow", KD_SX_BREAK },
	{ "wkd", 0x80000007u, "Wake debugger", KD_SX_BREAK },
};
#define NFILTERS (sizeof(filters) / sizeof(filters[0]))

static void filters_init(kd_session *s)
{
	if (s->filters_init)
		return;
	for (size_t i = 0; i < NFILTERS; i++)
		s->filter_break[i] = (unsigned char)filters[i].def;
	s->filters_init = 1;
}

void kd_exception_text(uint32_t code, int first_chance, char *buf, size_t len)
{
	const char *name = "Unknown exception";
	for (size_t i = 0; i < NFILTERS; i++)
		if (filters[i].code == code && code)
			name = filters[i].name;
	snprintf(buf, len, "%s - code %08x (%s)", name, code,
		 first_chance ? "first chance" : "!!! second chance !!!");
}

kd_filter_action kd_filter_for_code(kd_session *s, uint32_t code)
{
	filters_init(s);
	for (size_t i = 0; i < NFILTERS; i++)
		if (filters[i].code == code && code)
			return (kd_filter_action)s->filter_break[i];
	return KD_SX_BREAK;   /* unknown exceptions stop, as in WinDbg */
}

kd_filter_action kd_filter_for_event(kd_session *s, const char *abbrev)
{
	filters_init(s);
	for (size_t i = 0; i < NFILTERS; i++)
		if (strcasecmp(filters[i].abbrev, abbrev) == 0)
			return (kd_filter_action)s->filter_break[i];
	return KD_SX_OUTPUT;
}

int kd_filter_set(kd_session *s, const char *what, kd_filter_action a)
{
	filters_init(s);
	char *end;
	unsigned long code = strtoul(what, &end, 16);
	int is_code = *what && *end == 0;
	for (size_t i = 0; i < NFILTERS; i++) {
		if (strcasecmp(filters[i].abbrev, what) == 0 ||
		    (is_code && filters[i].code == code && code)) {
			s->filter_break[i] = (unsigned char)a;
			return 0;
		}
	}
	return kd_session_fail(s, KD_E_INVAL, "unknown event or exception '%s' (sx lists them)", what);
}

void kd_filter_list(kd_session *s)
{
	static const char *const names[] = { "ignore", "output", "break", "second-chance break" };
	filters_init(s);
	for (size_t i = 0; i < NFILTERS; i++)
		kd_out(s, "%4s - %s - %s\n", filters[i].abbrev, filters[i].name,
		       names[s->filter_break[i]]);
}

/* ---- location and disassembly ---- */

static int sym_cb(void *ctx, uint64_t addr, char *buf, size_t len)
{
	return kd_symbolize(ctx, addr, buf, len);
}

struct kd_disasm *kd_session_disasm(kd_session *s)
{
	unsigned bits = s->live && s->live->version.arch == KD_ARCH_X86 ? 32 : 64;
	if (s->dis && s->dis_bits == bits)
		return s->dis;
	if (s->dis)
		kd_disasm_close(s->dis);
	s->dis = NULL;
	char err[128];
	if (kd_disasm_open(bits, &s->dis, err, sizeof(err)) < 0)
		return NULL;
	s->dis_bits = bits;
	kd_disasm_set_symbolizer(s->dis, sym_cb, s);
	return s->dis;
}

void kd_print_location(kd_session *s, uint64_t pc)
{
	char sym[512];
	if (kd_symbolize(s, pc, sym, sizeof(sym)) > 0)
		kd_out(s, "%s:\n", sym);
	kd_target *t = kd_session_target(s);
	uint8_t code[16];
	size_t got = 0;
	if (t)
		(void)t->ops->read_virtual(t, pc, code, sizeof(code), &got);
	struct kd_disasm *d = kd_session_disasm(s);
	char line[512];
	if (!d) {
		kd_out(s, "%016llx\n", (unsigned long long)pc);
		return;
	}
	if (got == 0) {
		kd_disasm_format_unreadable(d, pc, line, sizeof(line));
	} else {
		kd_insn in;
		(void)kd_disasm_one(d, code, got, pc, &in);
		kd_disasm_format(d, &in, line, sizeof(line));
	}
	kd_out(s, "%s\n", line);
}

/* ---- registers ---- */

static void flags_text(uint32_t f, char *buf, size_t len)
{
	snprintf(buf, len, "iopl=%-9u %s %s %s %s %s %s %s %s", (f >> 12) & 3,
		 f & 0x800 ? "ov" : "nv", f & 0x400 ? "dn" : "up", f & 0x200 ? "ei" : "di",
		 f & 0x80 ? "ng" : "pl", f & 0x40 ? "zr" : "nz", f & 0x10 ? "ac" : "na",
		 f & 0x4 ? "pe" : "po", f & 0x1 ? "cy" : "nc");
}

void kd_print_regs(kd_session *s)
{
	kd_context c;
	if (kd_session_get_context(s, &c) < 0) {
		kd_err(s, "%s\n", kd_session_errmsg(s));
		return;
	}
	uint64_t v[32];
	char fl[96];
	if (c.arch == KD_ARCH_X86) {
		static const char *const n[] = { "eax", "ebx", "ecx", "edx", "esi", "edi", "eip",
						  "esp", "ebp", "efl", "cs", "ss", "ds", "es", "fs", "gs" };
		for (size_t i = 0; i < 16; i++)
			kd_context_get(&c, n[i], &v[i]);
		flags_text((uint32_t)v[9], fl, sizeof(fl));
		kd_out(s, "eax=%08x ebx=%08x ecx=%08x edx=%08x esi=%08x edi=%08x\n",
		       (unsigned)v[0], (unsigned)v[1], (unsigned)v[2], (unsigned)v[3],
		       (unsigned)v[4], (unsigned)v[5]);
		kd_out(s, "eip=%08x esp=%08x ebp=%08x %s\n", (unsigned)v[6], (unsigned)v[7],
		       (unsigned)v[8], fl);
		kd_out(s, "cs=%04x  ss=%04x  ds=%04x  es=%04x  fs=%04x  gs=%04x             efl=%08x\n",
		       (unsigned)v[10], (unsigned)v[11], (unsigned)v[12], (unsigned)v[13],
		       (unsigned)v[14], (unsigned)v[15], (unsigned)v[9]);
	} else {
		static const char *const n[] = { "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rip", "rsp",
						  "rbp", "r8", "r9", "r10", "r11", "r12", "r13", "r14",
						  "r15", "efl", "cs", "ss", "ds", "es", "fs", "gs" };
		for (size_t i = 0; i < 24; i++)
			kd_context_get(&c, n[i], &v[i]);
		flags_text((uint32_t)v[17], fl, sizeof(fl));
		kd_out(s, "rax=%016llx rbx=%016llx rcx=%016llx\n", (unsigned long long)v[0],
		       (unsigned long long)v[1], (unsigned long long)v[2]);
		kd_out(s, "rdx=%016llx rsi=%016llx rdi=%016llx\n", (unsigned long long)v[3],
		       (unsigned long long)v[4], (unsigned long long)v[5]);
		kd_out(s, "rip=%016llx rsp=%016llx rbp=%016llx\n", (unsigned long long)v[6],
		       (unsigned long long)v[7], (unsigned long long)v[8]);
		kd_out(s, " r8=%016llx  r9=%016llx r10=%016llx\n", (unsigned long long)v[9],
		       (unsigned long long)v[10], (unsigned long long)v[11]);
		kd_out(s, "r11=%016llx r12=%016llx r13=%016llx\n", (unsigned long long)v[12],
		       (unsigned long long)v[13], (unsigned long long)v[14]);
		kd_out(s, "r14=%016llx r15=%016llx\n", (unsigned long long)v[15],
		       (unsigned long long)v[16]);
		kd_out(s, "%s\n", fl);
		kd_out(s, "cs=%04x  ss=%04x  ds=%04x  es=%04x  fs=%04x  gs=%04x             efl=%08x\n",
		       (unsigned)v[18], (unsigned)v[19], (unsigned)v[20], (unsigned)v[21],
		       (unsigned)v[22], (unsigned)v[23], (unsigned)v[17]);
	}
	kd_print_location(s, kd_context_pc(&c));
}

/* ---- banner ---- */

static void fmt_ptr(const kd_target *t, uint64_t v, char *buf, size_t len)
{
	if (t->version.arch == KD_ARCH_X86)
		snprintf(buf, len, "0x%08x", (unsigned)v);
	else
		snprintf(buf, len, "0x%08x`%08x", (unsigned)(v >> 32), (unsigned)v);
}

void kd_print_banner(kd_session *s)
{
	kd_target *t = s->live;
	if (!t)
		return;
	const kd_version *v = &t->version;
	const char *arch = v->arch == KD_ARCH_X86 ? "x86" : "x64";
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	char when[64];
	strftime(when, sizeof(when), "%a %b %e %H:%M:%S %Y", &tm);
	unsigned nproc = s->have_event && s->last_event.number_processors ?
		s->last_event.number_processors : 1;
	/* GetVersion carries the build number only; the product name follows
	 * from it the way kd prints it ("Windows 10 19041"). */
	static const struct { unsigned build; const char *name; } products[] = {
		{ 10240, "10" }, { 9600, "8.1" }, { 9200, "8" }, { 7600, "7" },
		{ 6000, "Vista" }, { 3790, "Server 2003" }, { 2600, "XP" }, { 0, NULL },
	};
	const char *product = NULL;
	for (size_t i = 0; products[i].name; i++)
		if (v->minor >= products[i].build) {
			product = products[i].name;
			break;
		}
	kd_out(s, "Connected to Windows %s%s%u %s target at (%s (UTC + 0:00)), ptr64 %s\n",
	       product ? product : "", product ? " " : "", v->minor, arch, when,
	       v->arch == KD_ARCH_X86 ? "FALSE" : "TRUE");
	kd_out(s, "Kernel Version %u %s (%u procs) %s %s\n", v->minor,
	       nproc > 1 ? "MP" : "UP", nproc, (v->major & 0xFF) == 0xC ? "Checked" : "Free", arch);
	char kb[32], pl[32];
	fmt_ptr(t, v->kern_base, kb, sizeof(kb));
	fmt_ptr(t, v->ps_loaded_module_list, pl, sizeof(pl));
	kd_out(s, "Kernel base = %s PsLoadedModuleList = %s\n", kb, pl);
	if (!v->kdbg)
		kd_out(s, "(no KDDEBUGGER_DATA64 block found)\n");
}
