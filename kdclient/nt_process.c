/*
 * nt_process.c - process, thread and loader-list walks.
 *
 * Lists are LIST_ENTRY rings (Flink first, then Blink, pointer-sized); an
 * entry's containing structure is at Flink - offset of the link field.
 */
#include "nt_process.h"
#include "nt_fail.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_STRUCT 0x2000        /* cap on one structure read */

static size_t struct_size(uint32_t size, uint32_t fallback)
{
	if (size == NT_OFF_NONE || size == 0)
		size = fallback;
	return size > MAX_STRUCT ? MAX_STRUCT : size;
}

/* Enough bytes to cover every known field when the PDB gave no size. */
static uint32_t max_off(const uint32_t *offs, size_t n, uint32_t extra)
{
	uint32_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (offs[i] != NT_OFF_NONE && offs[i] + extra > m)
			m = offs[i] + extra;
	return m;
}

static size_t eprocess_bytes(const nt_offsets *o)
{
	uint32_t f[] = { o->ep_dirbase, o->ep_pid, o->ep_links, o->ep_image, o->ep_peb, o->ep_parent,
	                 o->ep_object_table, o->ep_session_id, o->ep_thread_head, o->kp_thread_head };
	return struct_size(o->ep_size, max_off(f, sizeof(f) / sizeof(f[0]), 16));
}

static size_t ethread_bytes(const nt_offsets *o)
{
	uint32_t f[] = { o->kt_kernel_stack, o->kt_initial_stack, o->kt_stack_limit, o->kt_stack_base,
	                 o->kt_teb, o->kt_state, o->kt_wait_reason, o->kt_wait_mode, o->kt_process,
	                 o->kt_trap_frame, o->et_cid, o->et_links, o->et_start, o->et_win32_start,
	                 o->kt_thread_links, o->kt_context_switches };
	return struct_size(o->et_size, max_off(f, sizeof(f) / sizeof(f[0]), 16));
}

/*
 * Walk a LIST_ENTRY ring from head, reading each containing structure
 * (n bytes at Flink - link_off) in one request, since its next link is
 * inside it; fn gets each structure's address and bytes.  A NULL Flink or
 * more than NT_MAX_LIST entries means a corrupt (or hostile) list.
 */
typedef int (*entry_fn)(void *arg, uint64_t addr, const uint8_t *b, size_t n);

static int walk_list(const nt_offsets *o, nt_read_fn read, void *ctx, uint64_t head,
                     uint64_t link, uint32_t link_off, size_t n, const char *list_name,
                     const char *entry_name, entry_fn fn, void *arg, char *err, size_t errlen)
{
	uint8_t *b = malloc(n);
	if (!b)
		return nt_fail(err, errlen, "out of memory");
	int rc = 0;
	for (unsigned count = 0; link != head; count++) {
		if (count == NT_MAX_LIST || !link) {
			rc = nt_fail(err, errlen, "%s is corrupt near %016llx", list_name, (unsigned long long)link);
			break;
		}
		uint64_t e = link - link_off;
		if (read(ctx, e, b, n) < 0) {
			rc = nt_fail(err, errlen, "cannot read %s at %016llx", entry_name, (unsigned long long)e);
			break;
		}
		link = nt_buf_ptr(o, b, n, link_off);
		rc = fn(arg, e, b, n);
		if (rc)
			break;
	}
	free(b);
	return rc;
}

void nt_decode_process(const nt_offsets *o, uint64_t eprocess, const uint8_t *b, size_t len,
                       nt_process *p)
{
	memset(p, 0, sizeof(*p));
	p->eprocess = eprocess;
	p->pid = nt_buf_ptr(o, b, len, o->ep_pid);
	p->parent_pid = nt_buf_ptr(o, b, len, o->ep_parent);
	p->dirbase = nt_buf_ptr(o, b, len, o->ep_dirbase);
	p->peb = nt_buf_ptr(o, b, len, o->ep_peb);
	p->object_table = nt_buf_ptr(o, b, len, o->ep_object_table);
	p->session_id = o->ep_session_id == NT_OFF_NONE ? NT_OFF_NONE : nt_buf_u32(b, len, o->ep_session_id);
	if (o->ep_image != NT_OFF_NONE && (size_t)o->ep_image + 15 <= len) {
		memcpy(p->image, b + o->ep_image, 15);
		p->image[15] = 0;
	}
	if (o->ep_thread_head != NT_OFF_NONE && o->et_links != NT_OFF_NONE) {
		p->thread_head = eprocess + o->ep_thread_head;
		p->thread_link_off = o->et_links;
	} else if (o->kp_thread_head != NT_OFF_NONE && o->kt_thread_links != NT_OFF_NONE) {
		p->thread_head = eprocess + o->kp_thread_head;
		p->thread_link_off = o->kt_thread_links;
	}
}

int nt_read_process(const nt_offsets *o, nt_read_fn read, void *ctx, uint64_t eprocess,
                    nt_process *p)
{
	size_t n = eprocess_bytes(o);
	uint8_t *b = malloc(n);
	if (!b)
		return -1;
	int rc = read(ctx, eprocess, b, n);
	if (rc == 0)
		nt_decode_process(o, eprocess, b, n, p);
	free(b);
	return rc < 0 ? -1 : 0;
}

struct process_walk {
	const nt_offsets *o;
	nt_process_cb cb;
	void *cbctx;
};

static int process_entry(void *arg, uint64_t addr, const uint8_t *b, size_t n)
{
	const struct process_walk *w = arg;
	nt_process p;
	nt_decode_process(w->o, addr, b, n, &p);
	return w->cb(w->cbctx, &p);
}

int nt_walk_processes(const nt_offsets *o, nt_read_fn read, void *ctx, uint64_t head,
                      nt_process_cb cb, void *cbctx, char *err, size_t errlen)
{
	if (!nt_offsets_can_walk_processes(o))
		return nt_fail(err, errlen, "nt symbols with _EPROCESS type information are needed");
	uint8_t hb[8];
	if (read(ctx, head, hb, o->ptr) < 0)
		return nt_fail(err, errlen, "cannot read PsActiveProcessHead at %016llx", (unsigned long long)head);
	uint64_t link = nt_buf_ptr(o, hb, sizeof(hb), 0);
	struct process_walk w = { o, cb, cbctx };
	return walk_list(o, read, ctx, head, link, o->ep_links, eprocess_bytes(o), "process list",
	                 "EPROCESS", process_entry, &w, err, errlen);
}

void nt_decode_thread(const nt_offsets *o, uint64_t ethread, const uint8_t *b, size_t len,
                      nt_thread *t)
{
	memset(t, 0, sizeof(*t));
	t->ethread = ethread;
	if (o->et_cid != NT_OFF_NONE) {
		t->pid = nt_buf_ptr(o, b, len, o->et_cid);
		t->tid = nt_buf_ptr(o, b, len, o->et_cid + o->ptr);
	}
	t->teb = nt_buf_ptr(o, b, len, o->kt_teb);
	t->process = nt_buf_ptr(o, b, len, o->kt_process);
	t->kernel_stack = nt_buf_ptr(o, b, len, o->kt_kernel_stack);
	t->initial_stack = nt_buf_ptr(o, b, len, o->kt_initial_stack);
	t->stack_limit = nt_buf_ptr(o, b, len, o->kt_stack_limit);
	t->stack_base = nt_buf_ptr(o, b, len, o->kt_stack_base);
	t->trap_frame = nt_buf_ptr(o, b, len, o->kt_trap_frame);
	t->start = nt_buf_ptr(o, b, len, o->et_start);
	t->win32_start = nt_buf_ptr(o, b, len, o->et_win32_start);
	t->win32_thread = nt_buf_ptr(o, b, len, o->kt_win32_thread);
	t->state = nt_buf_u8(b, len, o->kt_state);
	t->wait_reason = nt_buf_u8(b, len, o->kt_wait_reason);
	t->wait_mode = nt_buf_u8(b, len, o->kt_wait_mode);
	t->priority = (int8_t)nt_buf_u8(b, len, o->kt_priority);
	t->base_priority = (int8_t)nt_buf_u8(b, len, o->kt_base_priority);
	t->context_switches = nt_buf_u32(b, len, o->kt_context_switches);
	t->kernel_time = nt_buf_u32(b, len, o->kt_kernel_time);
	t->user_time = nt_buf_u32(b, len, o->kt_user_time);
}

int nt_read_thread(const nt_offsets *o, nt_read_fn read, void *ctx, uint64_t ethread, nt_thread *t)
{
	size_t n = ethread_bytes(o);
	uint8_t *b = malloc(n);
	if (!b)
		return -1;
	int rc = read(ctx, ethread, b, n);
	if (rc == 0)
		nt_decode_thread(o, ethread, b, n, t);
	free(b);
	return rc < 0 ? -1 : 0;
}

struct thread_walk {
	const nt_offsets *o;
	nt_thread_cb cb;
	void *cbctx;
};

static int thread_entry(void *arg, uint64_t addr, const uint8_t *b, size_t n)
{
	const struct thread_walk *w = arg;
	nt_thread t;
	nt_decode_thread(w->o, addr, b, n, &t);
	return w->cb(w->cbctx, &t);
}

int nt_walk_threads(const nt_offsets *o, nt_read_fn read, void *ctx, const nt_process *p,
                    nt_thread_cb cb, void *cbctx, char *err, size_t errlen)
{
	if (!p->thread_head)
		return nt_fail(err, errlen, "nt symbols with _ETHREAD type information are needed");
	uint8_t hb[8];
	if (read(ctx, p->thread_head, hb, o->ptr) < 0)
		return nt_fail(err, errlen, "cannot read thread list head at %016llx", (unsigned long long)p->thread_head);
	uint64_t link = nt_buf_ptr(o, hb, sizeof(hb), 0);
	size_t n = ethread_bytes(o);
	if (n < p->thread_link_off + 2 * o->ptr)
		n = p->thread_link_off + 2 * o->ptr;
	struct thread_walk w = { o, cb, cbctx };
	return walk_list(o, read, ctx, p->thread_head, link, p->thread_link_off, n, "thread list",
	                 "ETHREAD", thread_entry, &w, err, errlen);
}

void nt_buf_unicode(const nt_offsets *o, const uint8_t *b, size_t len, uint32_t off,
                    uint16_t *length, uint64_t *buffer)
{
	*length = 0;
	*buffer = 0;
	if (off == NT_OFF_NONE)
		return;
	/* UNICODE_STRING: Length u16, MaximumLength u16, Buffer at 8 (x64) / 4 (x86). */
	*length = nt_buf_u16(b, len, off);
	*buffer = nt_buf_ptr(o, b, len, off + o->ptr);
}

struct module_walk {
	const nt_offsets *o;
	nt_module_cb cb;
	void *cbctx;
};

static int module_entry(void *arg, uint64_t addr, const uint8_t *b, size_t n)
{
	const struct module_walk *w = arg;
	const nt_offsets *o = w->o;
	nt_module m = { .entry = addr };
	m.base = nt_buf_ptr(o, b, n, o->lde_base);
	m.entry_point = nt_buf_ptr(o, b, n, o->lde_entry);
	m.size = nt_buf_u32(b, n, o->lde_image_size);
	m.timestamp = nt_buf_u32(b, n, o->lde_timestamp);
	nt_buf_unicode(o, b, n, o->lde_full_name, &m.full_name_len, &m.full_name_buf);
	nt_buf_unicode(o, b, n, o->lde_base_name, &m.base_name_len, &m.base_name_buf);
	return w->cb(w->cbctx, &m);
}

int nt_walk_peb_modules(const nt_offsets *o, nt_read_fn read, void *ctx, uint64_t peb,
                        nt_module_cb cb, void *cbctx, char *err, size_t errlen)
{
	if (o->peb_ldr == NT_OFF_NONE || o->ldr_in_load == NT_OFF_NONE || o->lde_base == NT_OFF_NONE)
		return nt_fail(err, errlen, "nt symbols with _PEB/_PEB_LDR_DATA types are needed");
	uint8_t pb[16];
	if (read(ctx, peb + o->peb_ldr, pb, o->ptr) < 0)
		return nt_fail(err, errlen, "cannot read PEB.Ldr at %016llx", (unsigned long long)(peb + o->peb_ldr));
	uint64_t ldr = nt_buf_ptr(o, pb, sizeof(pb), 0);
	if (!ldr)
		return nt_fail(err, errlen, "PEB.Ldr is NULL (process not initialized)");
	uint64_t head = ldr + o->ldr_in_load;
	if (read(ctx, head, pb, o->ptr) < 0)
		return nt_fail(err, errlen, "cannot read loader list at %016llx", (unsigned long long)head);
	uint64_t link = nt_buf_ptr(o, pb, sizeof(pb), 0);
	uint32_t lo = o->lde_in_load == NT_OFF_NONE ? 0 : o->lde_in_load;
	uint32_t f[] = { o->lde_base, o->lde_entry, o->lde_image_size, o->lde_full_name, o->lde_base_name,
	                 o->lde_timestamp };
	size_t n = struct_size(o->lde_size, max_off(f, sizeof(f) / sizeof(f[0]), 16));
	struct module_walk w = { o, cb, cbctx };
	return walk_list(o, read, ctx, head, link, lo, n, "loader list", "loader entry", module_entry,
	                 &w, err, errlen);
}

size_t nt_utf16_to_utf8(const uint8_t *in, size_t in_bytes, char *out, size_t outlen)
{
	size_t o = 0;
	if (!outlen)
		return 0;
	for (size_t i = 0; i + 1 < in_bytes; i += 2) {
		uint32_t c = (uint32_t)(in[i] | in[i + 1] << 8);
		if (c >= 0xd800 && c < 0xdc00 && i + 3 < in_bytes) {
			uint32_t c2 = (uint32_t)(in[i + 2] | in[i + 3] << 8);
			if (c2 >= 0xdc00 && c2 < 0xe000) {
				c = 0x10000 + ((c - 0xd800) << 10) + (c2 - 0xdc00);
				i += 2;
			}
		}
		char tmp[8];
		size_t n;
		if (c < 0x20 || c == 0x7f) {
			/* control characters from the target are shown, not obeyed */
			n = (size_t)snprintf(tmp, sizeof(tmp), "\\x%02x", c);
		} else if (c < 0x80) {
			tmp[0] = (char)c; n = 1;
		} else if (c < 0x800) {
			tmp[0] = (char)(0xc0 | c >> 6); tmp[1] = (char)(0x80 | (c & 0x3f)); n = 2;
		} else if (c < 0x10000) {
			if (c >= 0xd800 && c < 0xe000) c = 0xfffd;
			tmp[0] = (char)(0xe0 | c >> 12); tmp[1] = (char)(0x80 | ((c >> 6) & 0x3f));
			tmp[2] = (char)(0x80 | (c & 0x3f)); n = 3;
		} else {
			tmp[0] = (char)(0xf0 | c >> 18); tmp[1] = (char)(0x80 | ((c >> 12) & 0x3f));
			tmp[2] = (char)(0x80 | ((c >> 6) & 0x3f)); tmp[3] = (char)(0x80 | (c & 0x3f)); n = 4;
		}
		if (o + n >= outlen)
			break;
		memcpy(out + o, tmp, n);
		o += n;
	}
	out[o] = 0;
	return o;
}

int nt_read_unicode(nt_read_fn read, void *ctx, uint64_t buf, uint16_t len_bytes,
                    char *out, size_t outlen)
{
	if (outlen)
		out[0] = 0;
	if (!len_bytes)
		return 0;
	if (!buf)
		return -1;
	uint8_t *b = malloc(len_bytes);
	if (!b)
		return -1;
	int rc = read(ctx, buf, b, len_bytes);
	if (rc == 0)
		nt_utf16_to_utf8(b, len_bytes, out, outlen);
	free(b);
	return rc < 0 ? -1 : 0;
}

static const char *const state_names[] = {
	"INITIALIZED", "READY", "RUNNING", "STANDBY", "TERMINATED", "WAIT", "TRANSITION",
	"DEFERREDREADY", "GATEWAITOBSOLETE", "WAITINGFORPROCESSINSWAP",
};

const char *nt_thread_state_name(unsigned s)
{
	return s < sizeof(state_names) / sizeof(state_names[0]) ? state_names[s] : "UNKNOWN";
}

static const char *const wait_names[] = {
	"Executive", "FreePage", "PageIn", "PoolAllocation", "DelayExecution", "Suspended",
	"UserRequest", "WrExecutive", "WrFreePage", "WrPageIn", "WrPoolAllocation",
	"WrDelayExecution", "WrSuspended", "WrUserRequest", "WrEventPair", "WrQueue",
	"WrLpcReceive", "WrLpcReply", "WrVirtualMemory", "WrPageOut", "WrRendezvous",
	"WrKeyedEvent", "WrTerminated", "WrProcessInSwap", "WrCpuRateControl",
	"WrCalloutStack", "WrKernel", "WrResource", "WrPushLock", "WrMutex",
	"WrQuantumEnd", "WrDispatchInt", "WrPreempted", "WrYieldExecution", "WrFastMutex",
	"WrGuardedMutex", "WrRundown", "WrAlertByThreadId", "WrDeferredPreempt",
};

const char *nt_wait_reason_name(unsigned r)
{
	return r < sizeof(wait_names) / sizeof(wait_names[0]) ? wait_names[r] : "Unknown";
}
