/* Unit tests for nt_types.c / nt_process.c: offsets from a type table and
 * from KDDEBUGGER_DATA64, process/thread/loader walks on fake kernel memory,
 * and the "one read per structure" rule (reads are round trips). */
#include "testutil.h"
#include "nt_types.h"
#include "nt_process.h"

/* A made-up layout standing in for nt's PDB. */
static const struct { const char *type, *path; uint32_t off; } layout[] = {
	{ "_EPROCESS", "Pcb.DirectoryTableBase", 0x28 },
	{ "_EPROCESS", "UniqueProcessId", 0x440 },
	{ "_EPROCESS", "ActiveProcessLinks", 0x448 },
	{ "_EPROCESS", "ImageFileName", 0x5a8 },
	{ "_EPROCESS", "Peb", 0x550 },
	{ "_EPROCESS", "InheritedFromUniqueProcessId", 0x540 },
	{ "_EPROCESS", "ObjectTable", 0x570 },
	{ "_EPROCESS", "SessionId", 0x7d8 },
	{ "_EPROCESS", "ThreadListHead", 0x5e0 },
	{ "_ETHREAD", "Tcb.KernelStack", 0x58 },
	{ "_ETHREAD", "Tcb.Teb", 0xf0 },
	{ "_ETHREAD", "Tcb.State", 0x184 },
	{ "_ETHREAD", "Tcb.WaitReason", 0x283 },
	{ "_ETHREAD", "Tcb.Process", 0x220 },     /* ApcState.Process absent: the alternative is used */
	{ "_ETHREAD", "Cid", 0x478 },
	{ "_ETHREAD", "ThreadListEntry", 0x4e8 },
	{ "_PEB", "Ldr", 0x18 },
	{ "_PEB", "ProcessParameters", 0x20 },
	{ "_PEB_LDR_DATA", "InLoadOrderModuleList", 0x10 },
	{ "_LDR_DATA_TABLE_ENTRY", "InLoadOrderLinks", 0 },
	{ "_LDR_DATA_TABLE_ENTRY", "DllBase", 0x30 },
	{ "_LDR_DATA_TABLE_ENTRY", "SizeOfImage", 0x40 },
	{ "_LDR_DATA_TABLE_ENTRY", "FullDllName", 0x48 },
	{ "_LDR_DATA_TABLE_ENTRY", "BaseDllName", 0x58 },
};
static int field(void *ctx, const char *type, const char *path, uint32_t *off)
{
	(void)ctx;
	for (size_t i = 0; i < sizeof(layout) / sizeof(layout[0]); i++)
		if (!strcmp(layout[i].type, type) && !strcmp(layout[i].path, path)) { *off = layout[i].off; return 0; }
	return -1;
}
static int size(void *ctx, const char *type, uint32_t *sz)
{
	(void)ctx;
	if (!strcmp(type, "_EPROCESS")) { *sz = 0x850; return 0; }
	if (!strcmp(type, "_ETHREAD")) { *sz = 0x500; return 0; }
	if (!strcmp(type, "_LDR_DATA_TABLE_ENTRY")) { *sz = 0x120; return 0; }
	return -1;
}

#define K 0xffffe00000000000ull
typedef struct proc_list { nt_process p[8]; int n; } proc_list;
static int on_proc(void *ctx, const nt_process *p) { proc_list *l = ctx; l->p[l->n++] = *p; return 0; }
static int stop_at_second(void *ctx, const nt_process *p) { proc_list *l = ctx; l->p[l->n++] = *p; return l->n == 2 ? 42 : 0; }
typedef struct thr_list { nt_thread t[8]; int n; } thr_list;
static int on_thr(void *ctx, const nt_thread *t) { thr_list *l = ctx; l->t[l->n++] = *t; return 0; }
typedef struct mod_list { nt_module m[8]; int n; } mod_list;
static int on_mod(void *ctx, const nt_module *m) { mod_list *l = ctx; l->m[l->n++] = *m; return 0; }

static void put_unicode(fake_mem *m, uint64_t at, uint64_t buf, const char *s)
{
	size_t n = strlen(s);
	uint8_t hdr[4] = { (uint8_t)(2 * n), 0, (uint8_t)(2 * n + 2), 0 };
	fake_put(m, at, hdr, 4);
	fake_put64(m, at + 8, buf);
	for (size_t i = 0; i < n; i++) { uint8_t c[2] = { (uint8_t)s[i], 0 }; fake_put(m, buf + 2 * i, c, 2); }
}

int main(void)
{
	nt_offsets o;
	nt_offsets_clear(&o, 8);
	CHECK(nt_offsets_from_types(&o, field, size, NULL) == (int)(sizeof(layout) / sizeof(layout[0])));
	CHECK(o.from_pdb);
	CHECK_EQ(o.ep_links, 0x448);
	CHECK_EQ(o.kt_process, 0x220);
	CHECK_EQ(o.kt_trap_frame, NT_OFF_NONE);
	CHECK_EQ(o.ep_size, 0x850);
	CHECK(nt_offsets_can_walk_processes(&o));

	/* kernel memory: head at K, three processes, two threads in the second */
	fake_mem m = { 0 };
	fake_map(&m, K, 0x10000);
	uint64_t head = K, ep[3] = { K + 0x1000, K + 0x2000, K + 0x3000 };
	const char *names[3] = { "System", "smss.exe", "a-very-long-image-name.exe" };
	fake_put64(&m, head, ep[0] + 0x448);
	fake_put64(&m, head + 8, ep[2] + 0x448);
	for (int i = 0; i < 3; i++) {
		fake_put64(&m, ep[i] + 0x448, i < 2 ? ep[i + 1] + 0x448 : head);
		fake_put64(&m, ep[i] + 0x440, 4 + 0x100 * i);
		fake_put64(&m, ep[i] + 0x540, i ? 4 : 0);
		fake_put64(&m, ep[i] + 0x28, 0x1aa000 + 0x1000 * i);
		fake_put64(&m, ep[i] + 0x550, i ? 0x7ff6d000 + i : 0);
		fake_put32(&m, ep[i] + 0x7d8, i ? 1 : 0);
		size_t n = strlen(names[i]);
		fake_put(&m, ep[i] + 0x5a8, names[i], n < 15 ? n : 15);
		fake_put64(&m, ep[i] + 0x5e0, ep[i] + 0x5e0);   /* empty thread list */
	}
	proc_list pl = { .n = 0 };
	char err[128];
	m.reads = 0;
	CHECK(nt_walk_processes(&o, fake_read, &m, head, on_proc, &pl, err, sizeof(err)) == 0);
	CHECK_EQ(pl.n, 3);
	CHECK_EQ(m.reads, 1 + 3);    /* the head, then one request per EPROCESS */
	CHECK_EQ(pl.p[0].eprocess, ep[0]);
	CHECK_EQ(pl.p[1].pid, 0x104);
	CHECK_EQ(pl.p[1].parent_pid, 4);
	CHECK_EQ(pl.p[2].dirbase, 0x1ac000);
	CHECK_EQ(pl.p[2].peb, 0x7ff6d002);
	CHECK(!strcmp(pl.p[1].image, "smss.exe"));
	CHECK(!strcmp(pl.p[2].image, "a-very-long-ima"));   /* ImageFileName is 15 bytes */
	CHECK_EQ(pl.p[1].session_id, 1);
	pl.n = 0;
	CHECK(nt_walk_processes(&o, fake_read, &m, head, stop_at_second, &pl, err, sizeof(err)) == 42);
	CHECK_EQ(pl.n, 2);
	/* a ring that never comes back is cut off, not followed forever */
	fake_put64(&m, ep[2] + 0x448, ep[1] + 0x448);
	pl.n = 0;
	proc_list big = { .n = 0 };
	(void)big;
	int rc = nt_walk_processes(&o, fake_read, &m, head, stop_at_second, &pl, err, sizeof(err));
	CHECK_EQ(rc, 42);
	fake_put64(&m, ep[2] + 0x448, K + 0xff00 + 0x448);  /* points at unreadable memory */
	pl.n = 0;
	CHECK(nt_walk_processes(&o, fake_read, &m, head, on_proc, &pl, err, sizeof(err)) < 0);
	CHECK(strstr(err, "cannot read EPROCESS") != NULL);
	fake_put64(&m, ep[2] + 0x448, head);

	/* threads of process 1 */
	uint64_t th[2] = { K + 0x5000, K + 0x6000 };
	fake_put64(&m, ep[1] + 0x5e0, th[0] + 0x4e8);
	fake_put64(&m, th[0] + 0x4e8, th[1] + 0x4e8);
	fake_put64(&m, th[1] + 0x4e8, ep[1] + 0x5e0);
	for (int i = 0; i < 2; i++) {
		fake_put64(&m, th[i] + 0x478, 0x104);
		fake_put64(&m, th[i] + 0x480, 0x108 + 4 * i);
		fake_put64(&m, th[i] + 0x58, K + 0x8000 + 0x100 * i);
		fake_put(&m, th[i] + 0x184, "\x05", 1);
		fake_put(&m, th[i] + 0x283, "\x06", 1);
		fake_put64(&m, th[i] + 0x220, ep[1]);
	}
	nt_process p1;
	m.reads = 0;
	CHECK(nt_read_process(&o, fake_read, &m, ep[1], &p1) == 0);
	CHECK_EQ(m.reads, 1);
	thr_list tl = { .n = 0 };
	m.reads = 0;
	CHECK(nt_walk_threads(&o, fake_read, &m, &p1, on_thr, &tl, err, sizeof(err)) == 0);
	CHECK_EQ(tl.n, 2);
	CHECK_EQ(m.reads, 1 + 2);
	CHECK_EQ(tl.t[1].tid, 0x10c);
	CHECK_EQ(tl.t[0].kernel_stack, K + 0x8000);
	CHECK_EQ(tl.t[0].process, ep[1]);
	CHECK(!strcmp(nt_thread_state_name(tl.t[0].state), "WAIT"));
	CHECK(!strcmp(nt_wait_reason_name(tl.t[0].wait_reason), "UserRequest"));

	/* PEB loader list: peb at U, Ldr at U+0x100, two entries */
	fake_mem u = { 0 };
	uint64_t U = 0x7ff6d000;
	fake_map(&u, U, 0x2000);
	fake_put64(&u, U + 0x18, U + 0x100);
	uint64_t lh = U + 0x110, e1 = U + 0x200, e2 = U + 0x400;
	fake_put64(&u, lh, e1);
	fake_put64(&u, e1, e2);
	fake_put64(&u, e2, lh);
	fake_put64(&u, e1 + 0x30, 0x7ff700000000ull);
	fake_put32(&u, e1 + 0x40, 0x20000);
	put_unicode(&u, e1 + 0x58, U + 0x800, "lsass.exe");
	put_unicode(&u, e1 + 0x48, U + 0x900, "C:\\Windows\\system32\\lsass.exe");
	fake_put64(&u, e2 + 0x30, 0x7ffb00000000ull);
	put_unicode(&u, e2 + 0x58, U + 0xa00, "ntdll\x1b[31m.dll");
	mod_list ml = { .n = 0 };
	CHECK(nt_walk_peb_modules(&o, fake_read, &u, U, on_mod, &ml, err, sizeof(err)) == 0);
	CHECK_EQ(ml.n, 2);
	CHECK_EQ(ml.m[0].base, 0x7ff700000000ull);
	CHECK_EQ(ml.m[0].size, 0x20000);
	char name[128];
	CHECK(nt_read_unicode(fake_read, &u, ml.m[0].full_name_buf, ml.m[0].full_name_len, name, sizeof(name)) == 0);
	CHECK(!strcmp(name, "C:\\Windows\\system32\\lsass.exe"));
	CHECK(nt_read_unicode(fake_read, &u, ml.m[1].base_name_buf, ml.m[1].base_name_len, name, sizeof(name)) == 0);
	CHECK(!strcmp(name, "ntdll\\x1b[31m.dll"));   /* ESC escaped */

	/* KDDEBUGGER_DATA64 fallback fills only what it carries */
	uint8_t kd[0x340] = { 0 };
	memcpy(kd + 0x10, "KDBG", 4);
	kd[0x14] = 0x40; kd[0x15] = 0x03;
	kd[0x2aa] = 0x50; kd[0x2ab] = 0x05;     /* Peb */
	kd[0x2ae] = 0x28;                       /* DirectoryTableBase */
	kd[0x29c] = 0x58;                       /* KernelStack */
	nt_offsets k;
	nt_offsets_clear(&k, 8);
	CHECK(nt_offsets_from_kdbg(&k, kd, sizeof(kd)) == 0);
	CHECK_EQ(k.ep_peb, 0x550);
	CHECK_EQ(k.ep_dirbase, 0x28);
	CHECK_EQ(k.kt_kernel_stack, 0x58);
	CHECK(!nt_offsets_can_walk_processes(&k));   /* no ActiveProcessLinks in KDBG */
	CHECK(nt_walk_processes(&k, fake_read, &m, head, on_proc, &pl, err, sizeof(err)) < 0);
	kd[0x10] = 'X';
	CHECK(nt_offsets_from_kdbg(&k, kd, sizeof(kd)) < 0);
	TEST_END();
}
