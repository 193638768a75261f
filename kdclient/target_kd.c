/*
 * target_kd.c - the live KD target (kd_target_ops over kd64), with the
 * per-stop memory cache.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "target_kd.h"

#define CACHE_LINE 256u
#define CACHE_LINES 512u
/* The most whole lines one ReadVirtualMemory can carry: a request holds
 * up to 3944 bytes (KD64_MAX_CHUNK), so 15 lines.  A miss fetches every
 * line the read still needs in one request instead of one per line, so a
 * 1 KiB EPROCESS costs one round trip, not four or five. */
#define CACHE_SPAN ((KD64_MAX_CHUNK / CACHE_LINE) * CACHE_LINE)

typedef struct cache_line {
	uint64_t base;        /* aligned address; valid only if used */
	int used;
	unsigned cpu;
	uint16_t valid;       /* readable bytes from base */
	uint8_t data[CACHE_LINE];
} cache_line;

typedef struct kd_live {
	kd_stream *stream;
	kdcom *link;
	kd64 *api;
	cache_line *cache;
	uint8_t special_raw[0xE0];   /* last KSPECIAL_REGISTERS read (x64) */
	size_t special_len;
	unsigned special_cpu;
	int owns_stream;
} kd_live;

static kd_live *live_of(kd_target *t) { return t->impl; }

void kd_target_kd_flush_cache(kd_target *t)
{
	kd_live *L = live_of(t);
	for (unsigned i = 0; i < CACHE_LINES; i++)
		L->cache[i].used = 0;
	L->special_len = 0;
}

static int pass(kd_target *t, int rc)
{
	if (rc < 0)
		kd_target_fail(t, rc, "%s", kd64_errmsg(live_of(t)->api));
	return rc;
}

static int need_stop(kd_target *t)
{
	if (!t->stopped)
		return kd_target_fail(t, KD_E_RUNNING, "the target is running (break in first)");
	return 0;
}

static cache_line *line_for(kd_live *L, uint64_t base)
{
	return &L->cache[(base / CACHE_LINE) % CACHE_LINES];
}

/* Put what one read returned into the cache: every line the read covered
 * from its start.  A read that stopped early (got < asked) stopped at the
 * first unreadable byte, so the line holding that byte is cached with
 * only its readable head (and a line starting right there with none);
 * a line the request merely did not reach is left alone. */
static void fill_lines(kd_live *L, unsigned cpu, uint64_t start, const uint8_t *data,
		       size_t asked, size_t got)
{
	uint64_t b = (start + CACHE_LINE - 1) & ~(uint64_t)(CACHE_LINE - 1);
	if (b < start)
		return;                       /* wraps past the top of memory */
	for (; b - start <= got; b += CACHE_LINE) {
		size_t off = (size_t)(b - start);
		size_t avail = got - off;
		if (avail < CACHE_LINE && got == asked)
			break;
		cache_line *c = line_for(L, b);
		c->used = 1;
		c->base = b;
		c->cpu = cpu;
		c->valid = (uint16_t)(avail < CACHE_LINE ? avail : CACHE_LINE);
		memcpy(c->data, data + off, c->valid);
		if (avail < CACHE_LINE || b + CACHE_LINE < b)
			break;
	}
}

static int kd_read_virtual_op(kd_target *t, uint64_t addr, void *buf, size_t len, size_t *got)
{
	kd_live *L = live_of(t);
	size_t done = 0;
	if (got)
		*got = 0;
	int rc = need_stop(t);
	if (rc < 0)
		return rc;
	uint64_t first = addr & ~(uint64_t)(CACHE_LINE - 1);
	uint64_t span_end = (addr + len + CACHE_LINE - 1) & ~(uint64_t)(CACHE_LINE - 1);
	if (len && (addr + len < addr || span_end <= first || span_end - first > CACHE_SPAN)) {
		/* Too big for one request of whole lines (or at the top of
		 * memory): read exactly what was asked, kd64 splits it at the
		 * 3944-byte limit, and keep the lines it covered. */
		size_t g = 0;
		rc = kd64_read_virtual(L->api, t->cpu, addr, buf, len, &g);
		if (got)
			*got = g;
		if (rc >= 0 || rc == KD_E_PARTIAL)
			fill_lines(L, t->cpu, addr, buf, len, g);
		return pass(t, rc);
	}
	uint8_t *dst = buf;
	while (done < len) {
		uint64_t a = addr + done;
		uint64_t base = a & ~(uint64_t)(CACHE_LINE - 1);
		cache_line *c = line_for(L, base);
		if (!c->used || c->base != base || c->cpu != t->cpu) {
			/* One request for this line and all the lines after it
			 * that the read needs (at most CACHE_SPAN bytes). */
			uint8_t tmp[CACHE_SPAN];
			size_t want = (size_t)(span_end - base), g = 0;
			rc = kd64_read_virtual(L->api, t->cpu, base, tmp, want, &g);
			if (rc < 0 && rc != KD_E_PARTIAL)
				return pass(t, rc);
			fill_lines(L, t->cpu, base, tmp, want, g);
			if (!c->used || c->base != base || c->cpu != t->cpu) {
				if (got)
					*got = done;
				return kd_target_fail(t, KD_E_PARTIAL, "Memory access error at %016llx",
						      (unsigned long long)a);
			}
		}
		size_t off = (size_t)(a - base);
		if (off >= c->valid) {
			if (got)
				*got = done;
			return kd_target_fail(t, KD_E_PARTIAL, "Memory access error at %016llx",
					      (unsigned long long)a);
		}
		size_t n = c->valid - off;
		if (n > len - done)
			n = len - done;
		memcpy(dst + done, c->data + off, n);
		done += n;
		if (got)
			*got = done;
	}
	return 0;
}

static int kd_write_virtual_op(kd_target *t, uint64_t addr, const void *buf, size_t len, size_t *done)
{
	kd_live *L = live_of(t);
	int rc = need_stop(t);
	if (rc < 0)
		return rc;
	kd_target_kd_flush_cache(t);
	return pass(t, kd64_write_virtual(L->api, t->cpu, addr, buf, len, done));
}

static int kd_read_physical_op(kd_target *t, uint64_t addr, void *buf, size_t len, size_t *got)
{
	int rc = need_stop(t);
	if (rc < 0)
		return rc;
	return pass(t, kd64_read_physical(live_of(t)->api, t->cpu, addr, buf, len, got));
}

static int kd_write_physical_op(kd_target *t, uint64_t addr, const void *buf, size_t len, size_t *done)
{
	int rc = need_stop(t);
	if (rc < 0)
		return rc;
	kd_target_kd_flush_cache(t);
	return pass(t, kd64_write_physical(live_of(t)->api, t->cpu, addr, buf, len, done));
}

static size_t context_size(const kd_target *t)
{
	return t->version.arch == KD_ARCH_X86 ? 0x2CC : 0x4D0;
}

static int kd_get_context_op(kd_target *t, unsigned cpu, kd_context *out)
{
	int rc = need_stop(t);
	if (rc < 0)
		return rc;
	memset(out, 0, sizeof(*out));
	out->arch = t->version.arch == KD_ARCH_X86 ? KD_ARCH_X86 : KD_ARCH_X64;
	out->size = context_size(t);
	return pass(t, kd64_get_context(live_of(t)->api, cpu, out->raw, out->size));
}

static int kd_set_context_op(kd_target *t, unsigned cpu, const kd_context *ctx)
{
	int rc = need_stop(t);
	if (rc < 0)
		return rc;
	/* ContextFlags as the record carries them (x64 @0x30, x86 @0). */
	size_t fo = ctx->arch == KD_ARCH_X86 ? 0 : 0x30;
	uint32_t flags = (uint32_t)ctx->raw[fo] | (uint32_t)ctx->raw[fo + 1] << 8 |
			 (uint32_t)ctx->raw[fo + 2] << 16 | (uint32_t)ctx->raw[fo + 3] << 24;
	return pass(t, kd64_set_context(live_of(t)->api, cpu, ctx->raw, ctx->size, flags));
}

static uint64_t le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void put(uint8_t *p, unsigned n, uint64_t v)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* KSPECIAL_REGISTERS: x64 control space selector 2, 0xE0 bytes as WinDbg
 * reads them (capture); x86 at control offset 0x2CC, 84 bytes (§9). */
static int kd_get_special_op(kd_target *t, unsigned cpu, kd_special_regs *o)
{
	kd_live *L = live_of(t);
	int rc = need_stop(t);
	if (rc < 0)
		return rc;
	memset(o, 0, sizeof(*o));
	uint8_t *b = L->special_raw;
	size_t got = 0;
	if (t->version.arch == KD_ARCH_X86) {
		rc = kd64_read_control(L->api, cpu, 0x2CC, b, 84, &got);
		if (rc < 0)
			return pass(t, rc);
		o->cr0 = le(b, 4); o->cr2 = le(b + 4, 4); o->cr3 = le(b + 8, 4); o->cr4 = le(b + 12, 4);
		o->kdr0 = le(b + 0x10, 4); o->kdr1 = le(b + 0x14, 4); o->kdr2 = le(b + 0x18, 4);
		o->kdr3 = le(b + 0x1C, 4); o->kdr6 = le(b + 0x20, 4); o->kdr7 = le(b + 0x24, 4);
		o->gdtr_limit = (uint16_t)le(b + 0x2A, 2); o->gdtr_base = le(b + 0x2C, 4);
		o->idtr_limit = (uint16_t)le(b + 0x32, 2); o->idtr_base = le(b + 0x34, 4);
		o->tr = (uint16_t)le(b + 0x38, 2); o->ldtr = (uint16_t)le(b + 0x3A, 2);
		L->special_len = 84;
	} else {
		rc = kd64_read_control(L->api, cpu, 2, b, 0xE0, &got);
		if (rc < 0 && !(rc == KD_E_PARTIAL && got >= 0xA8))
			return pass(t, rc);
		o->cr0 = le(b, 8); o->cr2 = le(b + 8, 8); o->cr3 = le(b + 0x10, 8); o->cr4 = le(b + 0x18, 8);
		o->kdr0 = le(b + 0x20, 8); o->kdr1 = le(b + 0x28, 8); o->kdr2 = le(b + 0x30, 8);
		o->kdr3 = le(b + 0x38, 8); o->kdr6 = le(b + 0x40, 8); o->kdr7 = le(b + 0x48, 8);
		o->gdtr_limit = (uint16_t)le(b + 0x56, 2); o->gdtr_base = le(b + 0x58, 8);
		o->idtr_limit = (uint16_t)le(b + 0x66, 2); o->idtr_base = le(b + 0x68, 8);
		o->tr = (uint16_t)le(b + 0x70, 2); o->ldtr = (uint16_t)le(b + 0x72, 2);
		o->cr8 = le(b + 0xA0, 8);
		L->special_len = got;
	}
	L->special_cpu = cpu;
	return 0;
}

static int kd_set_special_op(kd_target *t, unsigned cpu, const kd_special_regs *in)
{
	kd_live *L = live_of(t);
	kd_special_regs cur;
	int rc;
	/* Write back the whole block as read, with the known fields changed,
	 * so the fields this client does not model survive. */
	if (!L->special_len || L->special_cpu != cpu) {
		if ((rc = kd_get_special_op(t, cpu, &cur)) < 0)
			return rc;
	}
	uint8_t *b = L->special_raw;
	if (t->version.arch == KD_ARCH_X86) {
		put(b, 4, in->cr0); put(b + 4, 4, in->cr2); put(b + 8, 4, in->cr3); put(b + 12, 4, in->cr4);
		put(b + 0x10, 4, in->kdr0); put(b + 0x14, 4, in->kdr1); put(b + 0x18, 4, in->kdr2);
		put(b + 0x1C, 4, in->kdr3); put(b + 0x20, 4, in->kdr6); put(b + 0x24, 4, in->kdr7);
		return pass(t, kd64_write_control(L->api, cpu, 0x2CC, b, 84));
	}
	put(b, 8, in->cr0); put(b + 8, 8, in->cr2); put(b + 0x10, 8, in->cr3); put(b + 0x18, 8, in->cr4);
	put(b + 0x20, 8, in->kdr0); put(b + 0x28, 8, in->kdr1); put(b + 0x30, 8, in->kdr2);
	put(b + 0x38, 8, in->kdr3); put(b + 0x40, 8, in->kdr6); put(b + 0x48, 8, in->kdr7);
	return pass(t, kd64_write_control(L->api, cpu, 2, b, L->special_len));
}

static int kd_read_control_pointer_op(kd_target *t, unsigned cpu, unsigned sel, uint64_t *out)
{
	int rc = need_stop(t);
	if (rc < 0)
		return rc;
	if (t->version.arch == KD_ARCH_X86)
		return kd_target_fail(t, KD_E_NOTSUP, "control space pointers are x64 only");
	if (sel == 2 || sel > 3)
		return kd_target_fail(t, KD_E_INVAL, "bad control space selector %u", sel);
	uint8_t b[8];
	size_t got = 0;
	rc = kd64_read_control(live_of(t)->api, cpu, sel, b, 8, &got);
	if (rc < 0)
		return pass(t, rc);
	*out = le(b, 8);
	return 0;
}

static int kd_read_msr_op(kd_target *t, unsigned cpu, uint32_t msr, uint64_t *v)
{
	int rc = need_stop(t);
	return rc < 0 ? rc : pass(t, kd64_read_msr(live_of(t)->api, cpu, msr, v));
}

static int kd_write_msr_op(kd_target *t, unsigned cpu, uint32_t msr, uint64_t v)
{
	int rc = need_stop(t);
	return rc < 0 ? rc : pass(t, kd64_write_msr(live_of(t)->api, cpu, msr, v));
}

static int kd_write_breakpoint_op(kd_target *t, uint64_t addr, uint32_t *handle)
{
	int rc = need_stop(t);
	if (rc < 0)
		return rc;
	kd_target_kd_flush_cache(t);
	return pass(t, kd64_write_breakpoint(live_of(t)->api, t->cpu, addr, handle));
}

static int kd_restore_breakpoint_op(kd_target *t, uint32_t handle)
{
	int rc = need_stop(t);
	if (rc < 0)
		return rc;
	kd_target_kd_flush_cache(t);
	return pass(t, kd64_restore_breakpoint(live_of(t)->api, t->cpu, handle));
}

static int kd_resume_op(kd_target *t, const kd_resume *how)
{
	int rc = need_stop(t);
	if (rc < 0)
		return rc;
	kd_target_kd_flush_cache(t);
	rc = kd64_continue2(live_of(t)->api, t->cpu, how->status ? how->status : 0x10002u,
			    how->trace, how->dr7);
	if (rc < 0)
		return pass(t, rc);
	t->stopped = 0;
	return 0;
}

static int kd_wait_event_op(kd_target *t, kd_event *ev, int timeout_ms)
{
	int rc = kd64_wait_event(live_of(t)->api, ev, timeout_ms);
	if (rc == KD_E_TIMEOUT)
		return rc;
	if (rc < 0)
		return pass(t, rc);
	if (ev->kind == KD_EV_EXCEPTION || ev->kind == KD_EV_LOAD_SYMBOLS ||
	    ev->kind == KD_EV_COMMAND_STRING) {
		t->stopped = 1;
		t->cpu = ev->processor;
		kd_target_kd_flush_cache(t);
	}
	return 0;
}

static int kd_break_in_op(kd_target *t)
{
	int rc = kdcom_send_breakin(live_of(t)->link);
	if (rc < 0)
		return kd_target_fail(t, KD_E_FAIL, "breakin: %s", kdcom_errmsg(live_of(t)->link));
	return 0;
}

static int kd_answer_prompt_op(kd_target *t, const char *text, size_t len)
{
	return pass(t, kd64_answer_prompt(live_of(t)->api, text, len));
}

static int kd_switch_processor_op(kd_target *t, unsigned cpu)
{
	int rc = need_stop(t);
	if (rc < 0)
		return rc;
	kd_target_kd_flush_cache(t);
	rc = kd64_switch_processor(live_of(t)->api, cpu);
	if (rc < 0)
		return pass(t, rc);
	/* The chosen CPU reports a fresh state change (§7). */
	t->stopped = 0;
	return 0;
}

static int kd_cause_bugcheck_op(kd_target *t)
{
	int rc = need_stop(t);
	if (rc < 0)
		return rc;
	kd_target_kd_flush_cache(t);
	rc = kd64_cause_bugcheck(live_of(t)->api);
	if (rc < 0)
		return pass(t, rc);
	t->stopped = 0;
	return 0;
}

static int kd_reboot_op(kd_target *t)
{
	int rc = need_stop(t);
	if (rc < 0)
		return rc;
	kd_target_kd_flush_cache(t);
	rc = kd64_reboot(live_of(t)->api);
	if (rc < 0)
		return pass(t, rc);
	t->stopped = 0;
	return 0;
}

static int kd_reconnect_op(kd_target *t, int timeout_ms)
{
	kd_live *L = live_of(t);
	if (!L->stream)
		return kd_target_fail(t, KD_E_NOTSUP, "no stream to reopen");
	int rc = kd_stream_reopen(L->stream, timeout_ms);
	if (rc < 0)
		return kd_target_fail(t, rc == KDT_E_TIMEOUT ? KD_E_TIMEOUT : KD_E_CLOSED,
				      "reconnect failed: %s", kd_stream_errmsg(L->stream));
	t->stopped = 0;
	kd_target_kd_flush_cache(t);
	return 0;
}

static void kd_close_op(kd_target *t)
{
	if (!t)
		return;
	kd_live *L = live_of(t);
	if (L) {
		kd64_destroy(L->api);
		if (L->owns_stream) {
			kdcom_close(L->link);
			kd_stream_close(L->stream);
		}
		free(L->cache);
		free(L);
	}
	free(t);
}

static const kd_target_ops kd_live_ops = {
	.name = "kd",
	.read_virtual = kd_read_virtual_op,
	.write_virtual = kd_write_virtual_op,
	.read_physical = kd_read_physical_op,
	.write_physical = kd_write_physical_op,
	.get_context = kd_get_context_op,
	.set_context = kd_set_context_op,
	.get_special = kd_get_special_op,
	.set_special = kd_set_special_op,
	.read_control_pointer = kd_read_control_pointer_op,
	.read_msr = kd_read_msr_op,
	.write_msr = kd_write_msr_op,
	.write_breakpoint = kd_write_breakpoint_op,
	.restore_breakpoint = kd_restore_breakpoint_op,
	.resume = kd_resume_op,
	.wait_event = kd_wait_event_op,
	.break_in = kd_break_in_op,
	.answer_prompt = kd_answer_prompt_op,
	.switch_processor = kd_switch_processor_op,
	.cause_bugcheck = kd_cause_bugcheck_op,
	.reboot = kd_reboot_op,
	.reconnect = kd_reconnect_op,
	.close = kd_close_op,
};

int kd_target_kd_from_link(kdcom *link, kd_target **out)
{
	kd_target *t = calloc(1, sizeof(*t));
	kd_live *L = calloc(1, sizeof(*L));
	if (L)
		L->cache = calloc(CACHE_LINES, sizeof(cache_line));
	if (!t || !L || !L->cache || kd64_create(link, &L->api) < 0) {
		if (L)
			free(L->cache);
		free(L);
		free(t);
		return KD_E_FAIL;
	}
	L->link = link;
	t->ops = &kd_live_ops;
	t->impl = L;
	t->version.arch = KD_ARCH_X64;
	*out = t;
	return 0;
}

/* KDCLIENT_TRACE=1: one stderr line per packet, for diagnosing a link. */
static void trace_packet(void *ctx, bool sent, const kdcom_packet *p)
{
	(void)ctx;
	uint32_t api = p->len >= 4 ? kdpkt_get32(p->payload) : 0;
	fprintf(stderr, "[kd] %s type=%u(%s) id=%08x len=%u api=%04x(%s)\n", sent ? ">>" : "<<",
		p->type, kdpkt_type_name(p->type), p->id, p->len, api,
		p->type == KD_PACKET_TYPE_STATE_MANIPULATE ? kdpkt_api_name(api) : "");
}

int kd_target_kd_open(const char *spec, kd_target **out, char *err, size_t errlen)
{
	kd_stream *st = NULL;
	int rc = kd_stream_open(spec, &st, err, errlen);
	if (rc < 0)
		return rc == KDT_E_INVAL ? KD_E_INVAL : KD_E_FAIL;
	kdcom *link = NULL;
	if (kdcom_open(st, &link) < 0) {
		snprintf(err, errlen, "cannot create the KDCOM link");
		kd_stream_close(st);
		return KD_E_FAIL;
	}
	/* A target that polls its UART under emulation (QEMU TCG on a busy
	 * host) can take over a second to take in a 1.3 KB SetContext; a
	 * retransmission started before it is done only adds garbage to its
	 * input (seen as RESEND storms), so wait longer for ACKs. */
	kdcom_set_timeouts(link, 4000, 5);
	if (getenv("KDCLIENT_TRACE"))
		kdcom_set_trace(link, trace_packet, NULL);
	const kd_connspec *cs = kd_stream_spec(st);
	if (cs && cs->resets >= 0)
		kdcom_set_attach_resets(link, cs->resets);
	kd_target *t = NULL;
	if (kd_target_kd_from_link(link, &t) < 0) {
		snprintf(err, errlen, "out of memory");
		kdcom_close(link);
		kd_stream_close(st);
		return KD_E_FAIL;
	}
	live_of(t)->stream = st;
	live_of(t)->owns_stream = 1;
	*out = t;
	return 0;
}

int kd_target_kd_refresh_version(kd_target *t)
{
	kd_live *L = live_of(t);
	kdpkt_version v;
	int rc = kd64_get_version(L->api, &v);
	if (rc < 0)
		return pass(t, rc);
	kd_version *o = &t->version;
	memset(o, 0, sizeof(*o));
	o->major = v.major_version;
	o->minor = v.minor_version;
	o->protocol = v.protocol_version;
	o->secondary = v.kd_secondary_version;
	o->flags = v.flags;
	o->machine = v.machine_type;
	/* Pointer width from MachineType, not the PTR64 flag (open-points #1). */
	o->arch = v.machine_type == KD_MACHINE_I386 ? KD_ARCH_X86
		: v.machine_type == KD_MACHINE_AMD64 ? KD_ARCH_X64 : KD_ARCH_UNKNOWN;
	if (o->arch == KD_ARCH_UNKNOWN)
		return kd_target_fail(t, KD_E_NOTSUP, "unsupported machine type %04x", v.machine_type);
	kd64_set_machine(L->api, v.machine_type);
	o->kern_base = v.kern_base;
	o->ps_loaded_module_list = v.ps_loaded_module_list;
	o->debugger_data_list = v.debugger_data_list;
	o->kdbg = 0;
	/* DebuggerDataList is a list head: its Flink is the KDDEBUGGER_DATA64
	 * (§10); trust the block only with OwnerTag 'KDBG' (§13). */
	if (v.debugger_data_list) {
		uint64_t blk = 0;
		uint32_t tag = 0;
		if (kd_read_ptr(t, v.debugger_data_list, &blk) == 0 && blk &&
		    kd_read_u32(t, blk + 0x10, &tag) == 0 && tag == 0x4742444Bu)
			o->kdbg = blk;
	}
	return 0;
}

int kd_target_kd_attach(kd_target *t, int timeout_ms, kd_event *first)
{
	kd_live *L = live_of(t);
	int rc = kdcom_attach(L->link, timeout_ms);
	if (rc < 0)
		return kd_target_fail(t, rc == KDT_E_TIMEOUT ? KD_E_TIMEOUT :
					 rc == KDT_E_CLOSED ? KD_E_CLOSED : KD_E_FAIL,
				      "attach: %s", kdcom_errmsg(L->link));
	/* The state change is queued, possibly after prints. */
	for (;;) {
		rc = kd_wait_event_op(t, first, timeout_ms);
		if (rc < 0)
			return rc;
		if (first->kind == KD_EV_EXCEPTION || first->kind == KD_EV_LOAD_SYMBOLS ||
		    first->kind == KD_EV_COMMAND_STRING)
			break;
		if (first->kind == KD_EV_PRINT)   /* DbgPrint that came before the stop */
			kd64_emit_print(L->api, first->text, first->text_len);
	}
	rc = kd_target_kd_refresh_version(t);
	if (rc < 0)
		return rc;
	return 0;
}

void kd_target_kd_set_print(kd_target *t, kd64_print_fn fn, void *ctx)
{
	kd64_set_print(live_of(t)->api, fn, ctx);
}

kdcom *kd_target_kd_link(kd_target *t) { return live_of(t)->link; }
kd_stream *kd_target_kd_stream(kd_target *t) { return live_of(t)->stream; }
kd64 *kd_target_kd_api(kd_target *t) { return live_of(t)->api; }

int kd_target_kd_reconnect_wanted(kd_target *t)
{
	kd_live *L = live_of(t);
	const kd_connspec *cs = L->stream ? kd_stream_spec(L->stream) : NULL;
	return cs && cs->reconnect;
}
