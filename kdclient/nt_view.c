/*
 * nt_view.c - the translating view installed by `.process /p`.
 *
 * Why translate in the debugger: KD's ReadVirtualMemory uses whatever
 * address space the stopped processor is in, so a process's user memory
 * is only reachable through its own DirectoryTableBase (fact: the target
 * does not switch CR3 for us; WinDbg's /p does the same page walk).
 */
#include "nt_view.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct view_impl {
	kd_target *base;
	nt_paging *paging;
	uint64_t dirbase;
	uint64_t user_limit;
	uint64_t (*stop_id)(void *ctx);
	void *stop_ctx;
	uint64_t last_stop;
} view_impl;

static const kd_target_ops view_ops;

static view_impl *impl_of(kd_target *t) { return t->impl; }

static int view_fail(kd_target *t, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int view_fail(kd_target *t, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(t->errmsg, sizeof(t->errmsg), fmt, ap);
	va_end(ap);
	return code;
}

/* Keep the view's public fields in step with the live target. */
static kd_target *sync(kd_target *t)
{
	kd_target *b = impl_of(t)->base;
	t->version = b->version;
	t->stopped = b->stopped;
	t->cpu = b->cpu;
	return b;
}

static int pass_error(kd_target *t, kd_target *b, int rc)
{
	if (rc < 0)
		snprintf(t->errmsg, sizeof(t->errmsg), "%s", b->errmsg);
	return rc;
}

static int phys_read(void *ctx, uint64_t pa, void *buf, size_t len)
{
	kd_target *b = ctx;
	size_t got = 0;
	if (!b->ops->read_physical)
		return -1;
	int rc = b->ops->read_physical(b, pa, buf, len, &got);
	return rc < 0 || got != len ? -1 : 0;
}

/* Translate [addr, addr+len) page by page, merging physically contiguous
 * pages into one request; op 0 = read, 1 = write. */
static int translated_io(kd_target *t, uint64_t addr, void *rbuf, const void *wbuf, size_t len,
                         size_t *done)
{
	view_impl *v = impl_of(t);
	kd_target *b = sync(t);
	*done = 0;
	if (v->stop_id) {
		uint64_t id = v->stop_id(v->stop_ctx);
		if (id != v->last_stop) {
			nt_paging_flush(v->paging);
			v->last_stop = id;
		}
	}
	while (*done < len) {
		uint64_t va = addr + *done;
		nt_pte_walk w;
		int rc = nt_paging_translate(v->paging, v->dirbase, va, &w);
		if (rc < 0)
			break;
		size_t run = (size_t)(w.page_size - (w.pa & (w.page_size - 1)));
		if (run > len - *done)
			run = len - *done;
		uint64_t pa = w.pa;
		/* extend while the next page follows physically */
		while (*done + run < len) {
			nt_pte_walk w2;
			if (nt_paging_translate(v->paging, v->dirbase, va + run, &w2) < 0 || w2.pa != pa + run)
				break;
			size_t more = (size_t)(w2.page_size - (w2.pa & (w2.page_size - 1)));
			if (more > len - *done - run)
				more = len - *done - run;
			run += more;
		}
		size_t got = 0;
		if (rbuf) {
			if (!b->ops->read_physical)
				return view_fail(t, KD_E_NOTSUP, "target cannot read physical memory");
			rc = b->ops->read_physical(b, pa, (uint8_t *)rbuf + *done, run, &got);
		} else {
			if (!b->ops->write_physical)
				return view_fail(t, KD_E_NOTSUP, "target cannot write physical memory");
			rc = b->ops->write_physical(b, pa, (const uint8_t *)wbuf + *done, run, &got);
		}
		*done += got;
		if (rc < 0 || got < run)
			break;
	}
	if (*done == len)
		return 0;
	return view_fail(t, *done ? KD_E_PARTIAL : KD_E_FAIL,
	                 "Memory access error at %016llx (not present in process %llx)",
	                 (unsigned long long)(addr + *done), (unsigned long long)v->dirbase);
}

static int v_read_virtual(kd_target *t, uint64_t addr, void *buf, size_t len, size_t *got)
{
	view_impl *v = impl_of(t);
	kd_target *b = sync(t);
	if (addr >= v->user_limit)
		return pass_error(t, b, b->ops->read_virtual(b, addr, buf, len, got));
	if (addr + len > v->user_limit) {   /* straddles: split */
		size_t first = (size_t)(v->user_limit - addr), g1 = 0, g2 = 0;
		int rc = translated_io(t, addr, buf, NULL, first, &g1);
		*got = g1;
		if (rc < 0)
			return rc;
		rc = pass_error(t, b, b->ops->read_virtual(b, v->user_limit, (uint8_t *)buf + first, len - first, &g2));
		*got += g2;
		return rc;
	}
	return translated_io(t, addr, buf, NULL, len, got);
}

static int v_write_virtual(kd_target *t, uint64_t addr, const void *buf, size_t len, size_t *done)
{
	view_impl *v = impl_of(t);
	kd_target *b = sync(t);
	if (addr >= v->user_limit)
		return pass_error(t, b, b->ops->write_virtual(b, addr, buf, len, done));
	if (addr + len > v->user_limit)
		return view_fail(t, KD_E_INVAL, "write straddles the user/kernel boundary");
	return translated_io(t, addr, NULL, buf, len, done);
}

/* Pass-through operations. */

static int v_read_physical(kd_target *t, uint64_t a, void *buf, size_t len, size_t *got)
{ kd_target *b = sync(t); if (!b->ops->read_physical) return view_fail(t, KD_E_NOTSUP, "not supported"); return pass_error(t, b, b->ops->read_physical(b, a, buf, len, got)); }
static int v_write_physical(kd_target *t, uint64_t a, const void *buf, size_t len, size_t *done)
{ kd_target *b = sync(t); if (!b->ops->write_physical) return view_fail(t, KD_E_NOTSUP, "not supported"); return pass_error(t, b, b->ops->write_physical(b, a, buf, len, done)); }
static int v_get_context(kd_target *t, unsigned cpu, kd_context *out)
{ kd_target *b = sync(t); if (!b->ops->get_context) return view_fail(t, KD_E_NOTSUP, "not supported"); return pass_error(t, b, b->ops->get_context(b, cpu, out)); }
static int v_set_context(kd_target *t, unsigned cpu, const kd_context *c)
{ kd_target *b = sync(t); if (!b->ops->set_context) return view_fail(t, KD_E_NOTSUP, "not supported"); return pass_error(t, b, b->ops->set_context(b, cpu, c)); }
static int v_get_special(kd_target *t, unsigned cpu, kd_special_regs *out)
{ kd_target *b = sync(t); if (!b->ops->get_special) return view_fail(t, KD_E_NOTSUP, "not supported"); return pass_error(t, b, b->ops->get_special(b, cpu, out)); }
static int v_set_special(kd_target *t, unsigned cpu, const kd_special_regs *in)
{ kd_target *b = sync(t); if (!b->ops->set_special) return view_fail(t, KD_E_NOTSUP, "not supported"); return pass_error(t, b, b->ops->set_special(b, cpu, in)); }
static int v_read_control_pointer(kd_target *t, unsigned cpu, unsigned sel, uint64_t *out)
{ kd_target *b = sync(t); if (!b->ops->read_control_pointer) return view_fail(t, KD_E_NOTSUP, "not supported"); return pass_error(t, b, b->ops->read_control_pointer(b, cpu, sel, out)); }
static int v_read_msr(kd_target *t, unsigned cpu, uint32_t msr, uint64_t *v)
{ kd_target *b = sync(t); if (!b->ops->read_msr) return view_fail(t, KD_E_NOTSUP, "not supported"); return pass_error(t, b, b->ops->read_msr(b, cpu, msr, v)); }
static int v_write_msr(kd_target *t, unsigned cpu, uint32_t msr, uint64_t v)
{ kd_target *b = sync(t); if (!b->ops->write_msr) return view_fail(t, KD_E_NOTSUP, "not supported"); return pass_error(t, b, b->ops->write_msr(b, cpu, msr, v)); }
static int v_write_breakpoint(kd_target *t, uint64_t a, uint32_t *h)
{ kd_target *b = sync(t); if (!b->ops->write_breakpoint) return view_fail(t, KD_E_NOTSUP, "not supported"); return pass_error(t, b, b->ops->write_breakpoint(b, a, h)); }
static int v_restore_breakpoint(kd_target *t, uint32_t h)
{ kd_target *b = sync(t); if (!b->ops->restore_breakpoint) return view_fail(t, KD_E_NOTSUP, "not supported"); return pass_error(t, b, b->ops->restore_breakpoint(b, h)); }
static int v_resume(kd_target *t, const kd_resume *how)
{ kd_target *b = sync(t); if (!b->ops->resume) return view_fail(t, KD_E_NOTSUP, "not supported"); return pass_error(t, b, b->ops->resume(b, how)); }
static int v_wait_event(kd_target *t, kd_event *ev, int ms)
{ kd_target *b = sync(t); if (!b->ops->wait_event) return view_fail(t, KD_E_NOTSUP, "not supported"); int rc = pass_error(t, b, b->ops->wait_event(b, ev, ms)); nt_paging_flush(impl_of(t)->paging); return rc; }
static int v_break_in(kd_target *t)
{ kd_target *b = sync(t); if (!b->ops->break_in) return view_fail(t, KD_E_NOTSUP, "not supported"); return pass_error(t, b, b->ops->break_in(b)); }
static int v_answer_prompt(kd_target *t, const char *text, size_t len)
{ kd_target *b = sync(t); if (!b->ops->answer_prompt) return view_fail(t, KD_E_NOTSUP, "not supported"); return pass_error(t, b, b->ops->answer_prompt(b, text, len)); }
static int v_switch_processor(kd_target *t, unsigned cpu)
{ kd_target *b = sync(t); if (!b->ops->switch_processor) return view_fail(t, KD_E_NOTSUP, "not supported"); return pass_error(t, b, b->ops->switch_processor(b, cpu)); }
static int v_cause_bugcheck(kd_target *t)
{ kd_target *b = sync(t); if (!b->ops->cause_bugcheck) return view_fail(t, KD_E_NOTSUP, "not supported"); return pass_error(t, b, b->ops->cause_bugcheck(b)); }
static int v_reboot(kd_target *t)
{ kd_target *b = sync(t); if (!b->ops->reboot) return view_fail(t, KD_E_NOTSUP, "not supported"); return pass_error(t, b, b->ops->reboot(b)); }
static int v_reconnect(kd_target *t, int ms)
{ kd_target *b = sync(t); if (!b->ops->reconnect) return view_fail(t, KD_E_NOTSUP, "not supported"); return pass_error(t, b, b->ops->reconnect(b, ms)); }
/* The view never owns the live target: closing it closes only the view. */
static void v_close(kd_target *t) { nt_view_destroy(t); }

static const kd_target_ops view_ops = {
	.name = "process-view",
	.read_virtual = v_read_virtual,
	.write_virtual = v_write_virtual,
	.read_physical = v_read_physical,
	.write_physical = v_write_physical,
	.get_context = v_get_context,
	.set_context = v_set_context,
	.get_special = v_get_special,
	.set_special = v_set_special,
	.read_control_pointer = v_read_control_pointer,
	.read_msr = v_read_msr,
	.write_msr = v_write_msr,
	.write_breakpoint = v_write_breakpoint,
	.restore_breakpoint = v_restore_breakpoint,
	.resume = v_resume,
	.wait_event = v_wait_event,
	.break_in = v_break_in,
	.answer_prompt = v_answer_prompt,
	.switch_processor = v_switch_processor,
	.cause_bugcheck = v_cause_bugcheck,
	.reboot = v_reboot,
	.reconnect = v_reconnect,
	.close = v_close,
};

int nt_view_create(kd_target *base, nt_paging_mode mode, uint64_t dirbase,
                   uint64_t user_limit, kd_target **out)
{
	kd_target *t = calloc(1, sizeof(*t));
	view_impl *v = calloc(1, sizeof(*v));
	if (!t || !v || nt_paging_create(mode, phys_read, base, &v->paging) < 0) {
		free(t);
		free(v);
		return KD_E_FAIL;
	}
	v->base = base;
	v->dirbase = dirbase;
	v->user_limit = user_limit;
	t->ops = &view_ops;
	t->impl = v;
	sync(t);
	*out = t;
	return 0;
}

void nt_view_destroy(kd_target *t)
{
	if (!t || t->ops != &view_ops)
		return;
	view_impl *v = t->impl;
	nt_paging_destroy(v->paging);
	free(v);
	free(t);
}

int nt_view_is_view(const kd_target *t) { return t && t->ops == &view_ops; }
uint64_t nt_view_dirbase(const kd_target *t) { return ((const view_impl *)t->impl)->dirbase; }
kd_target *nt_view_base(const kd_target *t) { return ((const view_impl *)t->impl)->base; }
void nt_view_set_stop_probe(kd_target *t, uint64_t (*stop_id)(void *ctx), void *ctx)
{
	view_impl *v = impl_of(t);
	v->stop_id = stop_id;
	v->stop_ctx = ctx;
	v->last_stop = stop_id ? stop_id(ctx) : 0;
}
void nt_view_flush(kd_target *t) { nt_paging_flush(impl_of(t)->paging); }
nt_paging *nt_view_paging(kd_target *t) { return impl_of(t)->paging; }
