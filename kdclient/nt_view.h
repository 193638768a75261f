/*
 * nt_view.h - a translating view of a target (`.process /p`): user-mode
 * virtual addresses are translated through one process's page directory by
 * the debugger and read as physical memory; kernel addresses and every
 * other operation pass through to the underlying target.
 */
#ifndef KDCLIENT_NT_VIEW_H
#define KDCLIENT_NT_VIEW_H

#include <stdint.h>
#include "target.h"
#include "nt_paging.h"

/* base stays owned by the caller and must outlive the view.  user_limit is
 * the first kernel address (MmSystemRangeStart): 0x800000000000 on x64,
 * 0x80000000 on x86 without /3GB. */
int nt_view_create(kd_target *base, nt_paging_mode mode, uint64_t dirbase,
                   uint64_t user_limit, kd_target **out);
void nt_view_destroy(kd_target *view);
int nt_view_is_view(const kd_target *t);
uint64_t nt_view_dirbase(const kd_target *view);
kd_target *nt_view_base(const kd_target *view);
/* The view keeps page tables until the target runs again; stop_id (if
 * set) returns a number that changes at every new stop, and the view
 * flushes its cache when it does (the engine stops the target through the
 * live target, not through the view). */
void nt_view_set_stop_probe(kd_target *view, uint64_t (*stop_id)(void *ctx), void *ctx);
/* Forget cached page tables (call once per stop). */
void nt_view_flush(kd_target *view);
nt_paging *nt_view_paging(kd_target *view);

#endif
