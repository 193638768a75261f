/*
 * kd64.c - kd64 API client over the KDCOM link (fact sheet §6-11).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kd64.h"

#define KD64_QUEUE 16

struct kd64 {
	kdcom *link;
	uint16_t machine;
	int machine_known;      /* set from GetVersion */
	int timeout_ms;
	kd64_print_fn print_fn;
	void *print_ctx;
	/* Events that arrived while a request waited for its reply. */
	kd_event queue[KD64_QUEUE];
	size_t qhead, qlen;
	/* The last DbgPrompt (GetString) packet: its header is echoed in the
	 * answer (§11). */
	uint8_t prompt_pkt[KDCOM_MAX_PAYLOAD];
	size_t prompt_len;
	int prompt_pending;
	char errmsg[256];
	uint64_t resent_stops;  /* state changes dropped as re-sends */
	kdcom_packet pkt;      /* scratch: too big for the stack of every call */
	uint8_t req[KDCOM_MAX_PAYLOAD];
};

static int fail(kd64 *k, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(kd64 *k, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(k->errmsg, sizeof(k->errmsg), fmt, ap);
	va_end(ap);
	return code;
}

/* Transport codes FAIL/TIMEOUT/CLOSED/INVAL share target.h's numbers. */
static int map_err(int rc)
{
	if (rc == KDT_E_TIMEOUT || rc == KDT_E_CLOSED || rc == KDT_E_INVAL)
		return rc;
	return KD_E_FAIL;
}

int kd64_create(kdcom *link, kd64 **out)
{
	kd64 *k = calloc(1, sizeof(*k));
	if (!k)
		return KD_E_FAIL;
	k->link = link;
	k->timeout_ms = 10000;
	k->machine = KD_MACHINE_AMD64;
	*out = k;
	return 0;
}

void kd64_destroy(kd64 *k) { free(k); }
void kd64_set_print(kd64 *k, kd64_print_fn fn, void *ctx) { k->print_fn = fn; k->print_ctx = ctx; }
void kd64_emit_print(kd64 *k, const char *text, size_t len)
{
	if (k->print_fn)
		k->print_fn(k->print_ctx, text, len);
}

void kd64_set_timeout(kd64 *k, int ms) { k->timeout_ms = ms; }
void kd64_set_machine(kd64 *k, uint16_t m) { k->machine = m; k->machine_known = 1; }
uint16_t kd64_machine(const kd64 *k) { return k->machine; }
const char *kd64_errmsg(const kd64 *k) { return k->errmsg; }
kdcom *kd64_link(kd64 *k) { return k->link; }

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static kd_event *queue_push(kd64 *k)
{
	if (k->qlen == KD64_QUEUE) {
		/* Drop the oldest print rather than a stop. */
		k->qhead = (k->qhead + 1) % KD64_QUEUE;
		k->qlen--;
	}
	kd_event *ev = &k->queue[(k->qhead + k->qlen) % KD64_QUEUE];
	k->qlen++;
	memset(ev, 0, sizeof(*ev));
	return ev;
}

static void decline_file_io(kd64 *k, const kdcom_packet *p)
{
	uint8_t buf[KD_FILE_IO_HEADER_SIZE];
	int n = kdpkt_encode_file_io_decline(buf, sizeof(buf), p->payload, p->len);
	if (n > 0)
		(void)kdcom_send_packet(k->link, KD_PACKET_TYPE_FILE_IO, buf, (size_t)n, k->timeout_ms);
}

/* A DEBUG_IO packet: fill ev (print or prompt).  Returns 0, or <0 when
 * malformed. */
static int debug_io_event(kd64 *k, const kdcom_packet *p, kd_event *ev)
{
	kdpkt_debug_io io;
	if (kdpkt_decode_debug_io(p->payload, p->len, &io) < 0)
		return -1;
	memset(ev, 0, sizeof(*ev));
	ev->processor = io.processor;
	size_t n = io.text_len < KD_MAX_TEXT - 1 ? io.text_len : KD_MAX_TEXT - 1;
	memcpy(ev->text, io.text, n);
	ev->text[n] = 0;
	ev->text_len = n;
	if (io.api == KD_DEBUG_IO_GET_STRING) {
		ev->kind = KD_EV_PROMPT;
		memcpy(k->prompt_pkt, p->payload, p->len);
		k->prompt_len = p->len;
		k->prompt_pending = 1;
	} else {
		ev->kind = KD_EV_PRINT;
	}
	return 0;
}

int kd64_decode_event(const uint8_t *p, size_t len, uint16_t machine, kd_event *ev)
{
	kdpkt_state_change sc;
	if (kdpkt_decode_state_change(p, len, machine, &sc) < 0)
		return KD_E_FAIL;
	memset(ev, 0, sizeof(*ev));
	uint32_t state = sc.new_state & 0xFFFFu;
	ev->processor = sc.processor;
	ev->number_processors = sc.number_processors;
	ev->thread = sc.thread;
	ev->pc = sc.program_counter;
	ev->dr6 = sc.report.dr6;
	ev->dr7 = sc.report.dr7;
	ev->eflags = sc.report.eflags;
	ev->instr_count = sc.report.instruction_count > 16 ? 16 : sc.report.instruction_count;
	memcpy(ev->instr, sc.report.instruction_stream, sizeof(ev->instr));
	if (state == KD_STATE_EXCEPTION) {
		ev->kind = KD_EV_EXCEPTION;
		ev->code = sc.u.exception.code;
		ev->flags = sc.u.exception.flags;
		ev->address = sc.u.exception.address;
		ev->nparams = sc.u.exception.number_parameters > 15 ? 15 : sc.u.exception.number_parameters;
		memcpy(ev->params, sc.u.exception.information, sizeof(ev->params));
		ev->first_chance = sc.u.exception.first_chance != 0;
	} else if (state == KD_STATE_LOAD_SYMBOLS) {
		ev->kind = KD_EV_LOAD_SYMBOLS;
		ev->base = sc.u.load_symbols.base_of_dll;
		ev->process_id = sc.u.load_symbols.process_id;
		ev->checksum = sc.u.load_symbols.checksum;
		ev->image_size = sc.u.load_symbols.size_of_image;
		ev->unload = sc.u.load_symbols.unload;
		snprintf(ev->text, sizeof(ev->text), "%s", sc.path);
		ev->text_len = strlen(ev->text);
	} else if (state == KD_STATE_COMMAND_STRING) {
		ev->kind = KD_EV_COMMAND_STRING;
		snprintf(ev->text, sizeof(ev->text), "%s", sc.command);
		ev->text_len = strlen(ev->text);
	} else {
		return KD_E_FAIL;
	}
	return 0;
}

/* Handle a packet that is not the reply we wait for.  Returns 1 if it was
 * a state change (queued), 0 otherwise. */
static int side_packet(kd64 *k, const kdcom_packet *p)
{
	switch (p->type) {
	case KD_PACKET_TYPE_DEBUG_IO: {
		kd_event tmp;
		if (debug_io_event(k, p, &tmp) < 0)
			return 0;
		if (tmp.kind == KD_EV_PRINT && k->print_fn) {
			k->print_fn(k->print_ctx, tmp.text, tmp.text_len);
			return 0;
		}
		*queue_push(k) = tmp;
		return 0;
	}
	case KD_PACKET_TYPE_FILE_IO:
		/* Decline: we serve no files; without an answer the target
		 * hangs (§11). */
		decline_file_io(k, p);
		return 0;
	case KD_PACKET_TYPE_STATE_CHANGE64:
		/* Requests are only sent while the target is stopped, so a
		 * state change now is that same stop sent again: a target that
		 * saw a breakin byte while stopped resends its state change on
		 * every receive timeout (KDCOM does; so does the test kernel).
		 * Queuing it would make a phantom stop after the next resume. */
		k->resent_stops++;
		return 1;
	default:
		return 0;  /* TRACE_IO, CONTROL_REQUEST: ACKed by the link */
	}
}

/* Take in what the target sent while nobody listened (the user sat at
 * the prompt): prints, FILE_IO, and re-sent state changes of the current
 * stop, so that none of it is mistaken for an answer or a new stop. */
static void drain(kd64 *k)
{
	for (int i = 0; i < 64; i++) {
		if (kdcom_recv_packet(k->link, &k->pkt, 0) < 0)
			return;
		side_packet(k, &k->pkt);
	}
}

/* Send one request and wait for the reply with the same ApiNumber (§7:
 * match by ApiNumber; stale replies with another one are dropped). */
static int transact(kd64 *k, const char *what, size_t len, kdpkt_manip *reply)
{
	uint32_t api = kdpkt_get32(k->req);
	drain(k);
	long long deadline = now_ms() + k->timeout_ms;
	int rc = kdcom_send_packet(k->link, KD_PACKET_TYPE_STATE_MANIPULATE, k->req, len,
				   k->timeout_ms);
	if (rc < 0)
		return fail(k, map_err(rc), "%s: sending the request failed: %s", what,
			    kdcom_errmsg(k->link));
	for (;;) {
		long long left = deadline - now_ms();
		if (left <= 0)
			return fail(k, KD_E_TIMEOUT, "%s: no reply from the target within %d ms",
				    what, k->timeout_ms);
		rc = kdcom_recv_packet(k->link, &k->pkt, (int)left);
		if (rc == KDT_E_TIMEOUT)
			continue;
		if (rc < 0)
			return fail(k, map_err(rc), "%s: %s", what, kdcom_errmsg(k->link));
		if (k->pkt.type != KD_PACKET_TYPE_STATE_MANIPULATE) {
			side_packet(k, &k->pkt);
			continue;
		}
		if (kdpkt_decode_manip(k->pkt.payload, k->pkt.len, reply) < 0)
			continue;
		if (reply->api != api)
			continue;
		return 0;
	}
}

static int check_status(kd64 *k, const char *what, const kdpkt_manip *r)
{
	if (!KD_NT_SUCCESS(r->return_status))
		return fail(k, KD_E_STATUS, "%s failed with status %08x", what, r->return_status);
	return 0;
}

int kd64_get_version(kd64 *k, kdpkt_version *out)
{
	kdpkt_manip r;
	int n = kdpkt_encode_get_version(k->req, sizeof(k->req), 0);
	int rc = n < 0 ? fail(k, KD_E_FAIL, "GetVersion: encode") : transact(k, "GetVersion", (size_t)n, &r);
	if (rc < 0)
		return rc;
	if ((rc = check_status(k, "GetVersion", &r)) < 0)
		return rc;
	*out = r.u.version;
	return 0;
}

typedef enum { MEM_VIRT, MEM_PHYS, MEM_CONTROL } mem_space;

static int read_space(kd64 *k, mem_space sp, unsigned cpu, uint64_t addr, void *buf,
		      size_t len, size_t *got)
{
	static const char *const names[] = { "ReadVirtualMemory", "ReadPhysicalMemory",
					     "ReadControlSpace" };
	size_t done = 0;
	uint8_t *dst = buf;
	if (got)
		*got = 0;
	while (done < len) {
		uint32_t chunk = (uint32_t)(len - done > KD64_MAX_CHUNK ? KD64_MAX_CHUNK : len - done);
		int n;
		if (sp == MEM_VIRT)
			n = kdpkt_encode_read_virtual(k->req, sizeof(k->req), (uint16_t)cpu, addr + done, chunk);
		else if (sp == MEM_PHYS)
			n = kdpkt_encode_read_physical(k->req, sizeof(k->req), (uint16_t)cpu, addr + done, chunk, 0);
		else
			n = kdpkt_encode_read_control(k->req, sizeof(k->req), (uint16_t)cpu, addr + done, chunk);
		if (n < 0)
			return fail(k, KD_E_FAIL, "%s: cannot encode", names[sp]);
		kdpkt_manip r;
		int rc = transact(k, names[sp], (size_t)n, &r);
		if (rc < 0)
			return rc;
		/* Trust only bytes that are both counted and present. */
		size_t actual = r.u.memory.actual_bytes;
		if (actual > r.data_len)
			actual = r.data_len;
		if (actual > chunk)
			actual = chunk;
		memcpy(dst + done, r.data, actual);
		done += actual;
		if (got)
			*got = done;
		if (actual < chunk)
			return fail(k, KD_E_PARTIAL, "Memory access error at %016llx",
				    (unsigned long long)(addr + done));
	}
	return 0;
}

static int write_space(kd64 *k, mem_space sp, unsigned cpu, uint64_t addr, const void *buf,
		       size_t len, size_t *doneout)
{
	static const char *const names[] = { "WriteVirtualMemory", "WritePhysicalMemory",
					     "WriteControlSpace" };
	size_t done = 0;
	const uint8_t *src = buf;
	if (doneout)
		*doneout = 0;
	while (done < len) {
		uint32_t chunk = (uint32_t)(len - done > KD64_MAX_CHUNK ? KD64_MAX_CHUNK : len - done);
		int n;
		if (sp == MEM_VIRT)
			n = kdpkt_encode_write_virtual(k->req, sizeof(k->req), (uint16_t)cpu, addr + done, src + done, chunk);
		else if (sp == MEM_PHYS)
			n = kdpkt_encode_write_physical(k->req, sizeof(k->req), (uint16_t)cpu, addr + done, src + done, chunk, 0);
		else
			n = kdpkt_encode_write_control(k->req, sizeof(k->req), (uint16_t)cpu, addr + done, src + done, chunk);
		if (n < 0)
			return fail(k, KD_E_FAIL, "%s: cannot encode", names[sp]);
		kdpkt_manip r;
		int rc = transact(k, names[sp], (size_t)n, &r);
		if (rc < 0)
			return rc;
		size_t actual = r.u.memory.actual_bytes > chunk ? chunk : r.u.memory.actual_bytes;
		if (!KD_NT_SUCCESS(r.return_status) && actual == chunk)
			actual = 0;
		done += actual;
		if (doneout)
			*doneout = done;
		if (actual < chunk)
			return fail(k, KD_E_PARTIAL, "Memory access error at %016llx",
				    (unsigned long long)(addr + done));
	}
	return 0;
}

int kd64_read_virtual(kd64 *k, unsigned cpu, uint64_t addr, void *buf, size_t len, size_t *got)
{ return read_space(k, MEM_VIRT, cpu, addr, buf, len, got); }
int kd64_write_virtual(kd64 *k, unsigned cpu, uint64_t addr, const void *buf, size_t len, size_t *done)
{ return write_space(k, MEM_VIRT, cpu, addr, buf, len, done); }
int kd64_read_physical(kd64 *k, unsigned cpu, uint64_t addr, void *buf, size_t len, size_t *got)
{ return read_space(k, MEM_PHYS, cpu, addr, buf, len, got); }
int kd64_write_physical(kd64 *k, unsigned cpu, uint64_t addr, const void *buf, size_t len, size_t *done)
{ return write_space(k, MEM_PHYS, cpu, addr, buf, len, done); }
int kd64_read_control(kd64 *k, unsigned cpu, uint64_t addr, void *buf, size_t len, size_t *got)
{ return read_space(k, MEM_CONTROL, cpu, addr, buf, len, got); }
int kd64_write_control(kd64 *k, unsigned cpu, uint64_t addr, const void *buf, size_t len)
{ return write_space(k, MEM_CONTROL, cpu, addr, buf, len, NULL); }

int kd64_get_context(kd64 *k, unsigned cpu, void *ctx, size_t size)
{
	kdpkt_manip r;
	/* WinDbg puts 0 at union+0 and the CONTEXT size at union+4
	 * (open-points #9). */
	int n = kdpkt_encode_get_context(k->req, sizeof(k->req), (uint16_t)cpu, (uint32_t)size);
	if (n < 0)
		return fail(k, KD_E_FAIL, "GetContext: cannot encode");
	int rc = transact(k, "GetContext", (size_t)n, &r);
	if (rc < 0)
		return rc;
	if ((rc = check_status(k, "GetContext", &r)) < 0)
		return rc;
	if (r.data_len < size)
		return fail(k, KD_E_FAIL, "GetContext: reply has %zu bytes, expected %zu",
			    r.data_len, size);
	memcpy(ctx, r.data, size);
	return 0;
}

int kd64_set_context(kd64 *k, unsigned cpu, const void *ctx, size_t size, uint32_t flags)
{
	kdpkt_manip r;
	int n = kdpkt_encode_set_context(k->req, sizeof(k->req), (uint16_t)cpu, flags, ctx,
					 (uint32_t)size);
	if (n < 0)
		return fail(k, KD_E_FAIL, "SetContext: cannot encode");
	int rc = transact(k, "SetContext", (size_t)n, &r);
	if (rc < 0)
		return rc;
	return check_status(k, "SetContext", &r);
}

int kd64_read_msr(kd64 *k, unsigned cpu, uint32_t msr, uint64_t *value)
{
	kdpkt_manip r;
	int n = kdpkt_encode_read_msr(k->req, sizeof(k->req), (uint16_t)cpu, msr);
	int rc = n < 0 ? fail(k, KD_E_FAIL, "ReadMsr: encode") : transact(k, "ReadMsr", (size_t)n, &r);
	if (rc < 0)
		return rc;
	if (!KD_NT_SUCCESS(r.return_status))
		return fail(k, KD_E_STATUS, "no such MSR %x (status %08x)", msr, r.return_status);
	*value = r.u.msr.value;
	return 0;
}

int kd64_write_msr(kd64 *k, unsigned cpu, uint32_t msr, uint64_t value)
{
	kdpkt_manip r;
	int n = kdpkt_encode_write_msr(k->req, sizeof(k->req), (uint16_t)cpu, msr, value);
	int rc = n < 0 ? fail(k, KD_E_FAIL, "WriteMsr: encode") : transact(k, "WriteMsr", (size_t)n, &r);
	if (rc < 0)
		return rc;
	if (!KD_NT_SUCCESS(r.return_status))
		return fail(k, KD_E_STATUS, "cannot write MSR %x (status %08x)", msr, r.return_status);
	return 0;
}

int kd64_write_breakpoint(kd64 *k, unsigned cpu, uint64_t addr, uint32_t *handle)
{
	kdpkt_manip r;
	int n = kdpkt_encode_write_breakpoint(k->req, sizeof(k->req), (uint16_t)cpu, addr);
	int rc = n < 0 ? fail(k, KD_E_FAIL, "WriteBreakPoint: encode")
		       : transact(k, "WriteBreakPoint", (size_t)n, &r);
	if (rc < 0)
		return rc;
	if (!KD_NT_SUCCESS(r.return_status) || r.u.write_bp.handle == 0)
		return fail(k, KD_E_STATUS, "the target refused a breakpoint at %016llx (status %08x)",
			    (unsigned long long)addr, r.return_status);
	*handle = r.u.write_bp.handle;
	return 0;
}

int kd64_restore_breakpoint(kd64 *k, unsigned cpu, uint32_t handle)
{
	kdpkt_manip r;
	int n = kdpkt_encode_restore_breakpoint(k->req, sizeof(k->req), (uint16_t)cpu, handle);
	int rc = n < 0 ? fail(k, KD_E_FAIL, "RestoreBreakPoint: encode")
		       : transact(k, "RestoreBreakPoint", (size_t)n, &r);
	if (rc < 0)
		return rc;
	return check_status(k, "RestoreBreakPoint", &r);
}

static int send_noreply(kd64 *k, const char *what, int n)
{
	if (n < 0)
		return fail(k, KD_E_FAIL, "%s: cannot encode", what);
	drain(k);
	int rc = kdcom_send_packet(k->link, KD_PACKET_TYPE_STATE_MANIPULATE, k->req, (size_t)n,
				   k->timeout_ms);
	if (rc < 0)
		return fail(k, map_err(rc), "%s: %s", what, kdcom_errmsg(k->link));
	return 0;
}

int kd64_continue2(kd64 *k, unsigned cpu, uint32_t status, int trace, uint64_t dr7)
{
	/* No symbol range: SymStart 1, SymEnd 0, as WinDbg sends
	 * (open-points #2). */
	kdpkt_continue2 c = { .continue_status = status, .trace_flag = trace ? 1u : 0u,
			      .dr7 = dr7, .sym_start = 1, .sym_end = 0 };
	int n = kdpkt_encode_continue2(k->req, sizeof(k->req), (uint16_t)cpu, k->machine, &c);
	return send_noreply(k, "Continue2", n);
}

int kd64_switch_processor(kd64 *k, unsigned cpu)
{
	return send_noreply(k, "SwitchProcessor",
			    kdpkt_encode_switch_processor(k->req, sizeof(k->req), (uint16_t)cpu));
}

int kd64_reboot(kd64 *k)
{
	return send_noreply(k, "Reboot", kdpkt_encode_reboot(k->req, sizeof(k->req)));
}

int kd64_cause_bugcheck(kd64 *k)
{
	return send_noreply(k, "CauseBugCheck", kdpkt_encode_cause_bugcheck(k->req, sizeof(k->req)));
}

int kd64_answer_prompt(kd64 *k, const char *text, size_t len)
{
	if (!k->prompt_pending)
		return fail(k, KD_E_INVAL, "no DbgPrompt is waiting for an answer");
	kdpkt_debug_io io;
	if (kdpkt_decode_debug_io(k->prompt_pkt, k->prompt_len, &io) < 0)
		return fail(k, KD_E_FAIL, "bad DbgPrompt packet");
	int n = kdpkt_encode_get_string_reply(k->req, sizeof(k->req), &io, text, len);
	if (n < 0)
		return fail(k, KD_E_FAIL, "DbgPrompt answer: cannot encode");
	k->prompt_pending = 0;
	int rc = kdcom_send_packet(k->link, KD_PACKET_TYPE_DEBUG_IO, k->req, (size_t)n, k->timeout_ms);
	if (rc < 0)
		return fail(k, map_err(rc), "DbgPrompt answer: %s", kdcom_errmsg(k->link));
	return 0;
}

int kd64_wait_event(kd64 *k, kd_event *ev, int timeout_ms)
{
	if (k->qlen) {
		*ev = k->queue[k->qhead];
		k->qhead = (k->qhead + 1) % KD64_QUEUE;
		k->qlen--;
		return 0;
	}
	long long deadline = now_ms() + (timeout_ms < 0 ? 0 : timeout_ms);
	for (;;) {
		long long left = deadline - now_ms();
		int rc = kdcom_recv_packet(k->link, &k->pkt, left < 0 ? 0 : (int)left);
		if (rc == KDT_E_TIMEOUT)
			return KD_E_TIMEOUT;
		if (rc < 0)
			return fail(k, map_err(rc), "%s", kdcom_errmsg(k->link));
		switch (k->pkt.type) {
		case KD_PACKET_TYPE_STATE_CHANGE64:
			/* Before GetVersion the machine is a guess from the report's
			 * shape (x86 reports differ from x64 ones, §6). */
			if (kd64_decode_event(k->pkt.payload, k->pkt.len,
					      k->machine_known ? k->machine :
					      kdpkt_guess_state_change_machine(k->pkt.payload, k->pkt.len),
					      ev) == 0)
				return 0;
			break;
		case KD_PACKET_TYPE_DEBUG_IO:
			if (debug_io_event(k, &k->pkt, ev) == 0)
				return 0;
			break;
		case KD_PACKET_TYPE_FILE_IO:
			decline_file_io(k, &k->pkt);
			break;
		default:
			break;   /* a stale manipulate reply, TRACE_IO, ... */
		}
		if (now_ms() >= deadline)
			return KD_E_TIMEOUT;
	}
}
