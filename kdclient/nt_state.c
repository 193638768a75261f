/*
 * nt_state.c - per-session nt state and the glue to the engine: offsets
 * from nt's PDB (through kd_modules_pdb) or KDDEBUGGER_DATA64, the
 * current thread/process, the .process view.
 */
#include "nt_state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"
#include "modules.h"
#include "nt_view.h"
#include "symbols/symbols.h"

struct kd_nt_state {
	int have_offsets;            /* offsets from the PDB: final */
	nt_offsets off;
	uint64_t implicit_process, implicit_thread;
	kd_target *view;             /* owned; installed with kd_session_set_view */
	size_t frame;
	nt_paging *paging;
	nt_paging_mode paging_mode;
	kd_event last_event;         /* to notice a new stop (cache flush) */
	int have_event;
	uint64_t stop_gen;           /* +1 at every new stop seen */
	unsigned long reads;
};

static void nt_state_destroy(struct kd_nt_state *st)
{
	if (!st)
		return;
	nt_view_destroy(st->view);
	nt_paging_destroy(st->paging);
	free(st);
}

/* Page tables and the view's cache are valid for one stop only. */
static void flush_on_new_stop(kd_session *s, struct kd_nt_state *st)
{
	const kd_event *ev = kd_session_last_event(s);
	if (!ev)
		return;
	if (st->have_event && !memcmp(&st->last_event, ev, sizeof(*ev)))
		return;
	st->last_event = *ev;
	st->have_event = 1;
	st->stop_gen++;
	if (st->paging)
		nt_paging_flush(st->paging);
	if (st->view)
		nt_view_flush(st->view);
	/* The engine drops the .thread/.cxr register context when the target
	 * runs; the implicit thread and the .frame scope go with it.  The
	 * .process view stays (its page tables are re-read). */
	st->frame = 0;
	st->implicit_thread = 0;
}

struct kd_nt_state *nt_state(kd_session *s)
{
	struct kd_nt_state *st = kd_session_nt(s);
	if (!st) {
		st = calloc(1, sizeof(*st));
		if (!st)
			return NULL;
		nt_offsets_clear(&st->off, 8);
		kd_session_set_nt(s, st, nt_state_destroy);
	}
	flush_on_new_stop(s, st);
	return st;
}

/* Structures are read whole through the session's target; its per-stop
 * cache turns a read spanning several lines into one request
 * (target_kd.c), so nothing here needs to shape reads for round trips. */
static int struct_read(kd_target *t, uint64_t addr, void *buf, size_t len)
{
	return kd_read(t, addr, buf, len) < 0 ? -1 : 0;
}

int nt_session_read(void *session, uint64_t addr, void *buf, size_t len)
{
	kd_session *s = session;
	struct kd_nt_state *st = kd_session_nt(s);
	if (st)
		st->reads++;
	return struct_read(kd_session_target(s), addr, buf, len);
}

int nt_live_read(void *session, uint64_t addr, void *buf, size_t len)
{
	kd_session *s = session;
	struct kd_nt_state *st = kd_session_nt(s);
	if (st)
		st->reads++;
	return struct_read(kd_session_live(s), addr, buf, len);
}

unsigned long nt_read_count(kd_session *s)
{
	struct kd_nt_state *st = nt_state(s);
	return st ? st->reads : 0;
}

/* PDB adapter for nt_offsets_from_types. */
static int pdb_field(void *ctx, const char *type, const char *path, uint32_t *off)
{
	pdb_file *pdb = ctx;
	uint32_t ti;
	uint64_t o;
	if (pdb_find_type(pdb, type, &ti) < 0 || pdb_type_field(pdb, ti, path, &o, NULL) < 0)
		return -1;
	*off = (uint32_t)o;
	return 0;
}

static int pdb_size(void *ctx, const char *type, uint32_t *size)
{
	pdb_file *pdb = ctx;
	uint32_t ti;
	if (pdb_find_type(pdb, type, &ti) < 0)
		return -1;
	*size = (uint32_t)pdb_type_size(pdb, ti);
	return *size ? 0 : -1;
}

static int read_kdbg(kd_session *s, uint8_t *buf, size_t len)
{
	kd_target *t = kd_session_live(s);
	if (!t || !t->version.kdbg)
		return -1;
	return nt_live_read(s, t->version.kdbg, buf, len);
}

const nt_offsets *nt_get_offsets(kd_session *s, char *err, size_t errlen)
{
	struct kd_nt_state *st = nt_state(s);
	if (!st)
		return NULL;
	if (st->have_offsets)
		return &st->off;
	kd_target *t = kd_session_live(s);
	unsigned ptr = t ? kd_ptr_size(t) : 8;
	nt_offsets_clear(&st->off, ptr ? ptr : 8);
	pdb_file *pdb = kd_modules_pdb(s, "nt");
	if (pdb && nt_offsets_from_types(&st->off, pdb_field, pdb_size, pdb) > 0)
		st->have_offsets = 1;   /* PDB types: do not look again */
	/* KDDEBUGGER_DATA64 fills whatever the PDB did not give. */
	uint8_t kdbg[0x340];
	if (read_kdbg(s, kdbg, sizeof(kdbg)) == 0)
		nt_offsets_from_kdbg(&st->off, kdbg, sizeof(kdbg));
	if (!st->have_offsets && !nt_offsets_can_walk_processes(&st->off)) {
		snprintf(err, errlen, "nt symbols are needed (no _EPROCESS type: check .sympath and .reload)");
		return NULL;
	}
	return &st->off;
}

uint64_t nt_active_process_head(kd_session *s)
{
	uint64_t a = 0;
	struct sym_modset *set = kd_session_symbols(s);
	if (set && sym_modset_lookup(set, "nt!PsActiveProcessHead", &a) == 0 && a)
		return a;
	uint8_t kdbg[0x58];
	if (read_kdbg(s, kdbg, sizeof(kdbg)) == 0 && !memcmp(kdbg + 0x10, "KDBG", 4)) {
		/* KDDEBUGGER_DATA64.PsActiveProcessHead at 0x50 (fact sheet §13) */
		for (int i = 7; i >= 0; i--)
			a = a << 8 | kdbg[0x50 + i];
	}
	return a;
}

uint64_t nt_current_thread(kd_session *s)
{
	kd_target *t = kd_session_live(s);
	uint64_t th = 0;
	if (t && t->ops->read_control_pointer &&
	    t->ops->read_control_pointer(t, kd_session_cpu(s), 3, &th) == 0 && th)
		return th;
	const kd_event *ev = kd_session_last_event(s);
	return ev ? ev->thread : 0;
}

uint64_t nt_current_process(kd_session *s)
{
	char err[128];
	const nt_offsets *o = nt_get_offsets(s, err, sizeof(err));
	uint64_t th = nt_current_thread(s), p = 0;
	if (!o || !th || o->kt_process == NT_OFF_NONE)
		return 0;
	uint8_t b[8] = { 0 };
	if (nt_live_read(s, th + o->kt_process, b, o->ptr) < 0)
		return 0;
	for (int i = (int)o->ptr - 1; i >= 0; i--)
		p = p << 8 | b[i];
	return p;
}

uint64_t nt_implicit_process(kd_session *s) { struct kd_nt_state *st = nt_state(s); return st ? st->implicit_process : 0; }
void nt_set_implicit_process(kd_session *s, uint64_t e) { struct kd_nt_state *st = nt_state(s); if (st) st->implicit_process = e; }
uint64_t nt_implicit_thread(kd_session *s) { struct kd_nt_state *st = nt_state(s); return st ? st->implicit_thread : 0; }
void nt_set_implicit_thread(kd_session *s, uint64_t e) { struct kd_nt_state *st = nt_state(s); if (st) st->implicit_thread = e; }
size_t nt_frame_index(kd_session *s) { struct kd_nt_state *st = nt_state(s); return st ? st->frame : 0; }
void nt_set_frame_index(kd_session *s, size_t i) { struct kd_nt_state *st = nt_state(s); if (st) st->frame = i; }

uint64_t nt_default_process(kd_session *s)
{
	uint64_t p = nt_implicit_process(s);
	return p ? p : nt_current_process(s);
}

nt_paging_mode nt_paging_mode_of(kd_session *s)
{
	kd_target *t = kd_session_live(s);
	if (t && t->version.arch == KD_ARCH_X86) {
		/* KDDEBUGGER_DATA64.PaeEnabled (bit 0 at 0x36, fact sheet §13) */
		uint8_t k[0x38];
		if (read_kdbg(s, k, sizeof(k)) == 0 && !memcmp(k + 0x10, "KDBG", 4) && !(k[0x36] & 1))
			return NT_PAGING_X86;
		return NT_PAGING_PAE;
	}
	return NT_PAGING_X64;
}

static int live_phys_read(void *ctx, uint64_t pa, void *buf, size_t len)
{
	kd_session *s = ctx;
	kd_target *t = kd_session_live(s);
	size_t got = 0;
	struct kd_nt_state *st = kd_session_nt(s);
	if (st)
		st->reads++;
	if (!t || !t->ops->read_physical)
		return -1;
	return t->ops->read_physical(t, pa, buf, len, &got) < 0 || got != len ? -1 : 0;
}

nt_paging *nt_get_paging(kd_session *s)
{
	struct kd_nt_state *st = nt_state(s);
	if (!st)
		return NULL;
	nt_paging_mode m = nt_paging_mode_of(s);
	if (st->paging && st->paging_mode != m) {
		nt_paging_destroy(st->paging);
		st->paging = NULL;
	}
	if (!st->paging && nt_paging_create(m, live_phys_read, s, &st->paging) < 0)
		return NULL;
	st->paging_mode = m;
	return st->paging;
}

uint64_t nt_current_cr3(kd_session *s)
{
	kd_target *t = kd_session_live(s);
	kd_special_regs sr;
	if (!t || !t->ops->get_special || t->ops->get_special(t, kd_session_cpu(s), &sr) < 0)
		return 0;
	return sr.cr3;
}

static uint64_t view_stop_id(void *ctx)
{
	struct kd_nt_state *st = nt_state(ctx);
	return st ? st->stop_gen : 0;
}

int nt_install_view(kd_session *s, uint64_t dirbase, char *err, size_t errlen)
{
	struct kd_nt_state *st = nt_state(s);
	if (!st) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	kd_target *old = st->view;
	kd_target *v = NULL;
	if (dirbase) {
		kd_target *live = kd_session_live(s);
		uint64_t limit = live && live->version.arch == KD_ARCH_X86 ? 0x80000000ull : 0x800000000000ull;
		if (!live || nt_view_create(live, nt_paging_mode_of(s), dirbase, limit, &v) < 0) {
			snprintf(err, errlen, "cannot create the process view");
			return -1;
		}
		nt_view_set_stop_probe(v, view_stop_id, s);
	}
	kd_session_set_view(s, v);
	st->view = v;
	nt_view_destroy(old);
	return 0;
}

int nt_view_installed(kd_session *s, uint64_t *dirbase)
{
	struct kd_nt_state *st = nt_state(s);
	if (!st || !st->view)
		return 0;
	if (dirbase)
		*dirbase = nt_view_dirbase(st->view);
	return 1;
}

void nt_temp_view_begin(kd_session *s, uint64_t dirbase, nt_temp_view *tv)
{
	tv->temp = NULL;
	tv->active = 0;
	struct kd_nt_state *st = nt_state(s);
	kd_target *live = kd_session_live(s);
	if (!st || !live || !dirbase)
		return;
	uint64_t mask = live->version.arch == KD_ARCH_X86 ? 0xffffffe0ull : 0x000ffffffffff000ull;
	uint64_t cur = st->view ? nt_view_dirbase(st->view) : nt_current_cr3(s);
	if ((cur & mask) == (dirbase & mask))
		return;
	uint64_t limit = live->version.arch == KD_ARCH_X86 ? 0x80000000ull : 0x800000000000ull;
	if (nt_view_create(live, nt_paging_mode_of(s), dirbase, limit, &tv->temp) < 0)
		return;
	kd_session_set_view(s, tv->temp);
	tv->active = 1;
}

void nt_temp_view_end(kd_session *s, nt_temp_view *tv)
{
	if (!tv->active)
		return;
	struct kd_nt_state *st = nt_state(s);
	kd_session_set_view(s, st ? st->view : NULL);
	nt_view_destroy(tv->temp);
	tv->active = 0;
}
