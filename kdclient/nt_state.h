/*
 * nt_state.h - the nt awareness layer's per-session state (the session's
 * "nt" slot): structure offsets (loaded once nt's PDB has types), the
 * implicit process/thread of .process/.thread, the installed translating
 * view, the current .frame, and page walks for !pte/!vtop.
 */
#ifndef KDCLIENT_NT_STATE_H
#define KDCLIENT_NT_STATE_H

#include <stddef.h>
#include <stdint.h>
#include "command.h"
#include "nt_types.h"
#include "nt_process.h"
#include "nt_paging.h"

struct kd_nt_state;
struct kd_nt_state *nt_state(kd_session *s);   /* created on first use */

/* Offsets of nt's structures; NULL with a message in err if neither nt's
 * PDB nor KDDEBUGGER_DATA64 gives any. */
const nt_offsets *nt_get_offsets(kd_session *s, char *err, size_t errlen);
/* nt!PsActiveProcessHead (symbol, else KDDEBUGGER_DATA64), 0 if unknown. */
uint64_t nt_active_process_head(kd_session *s);

/* Read callback bound to the session's current view target (nt_read_fn). */
int nt_session_read(void *session, uint64_t addr, void *buf, size_t len);
/* Read callback through the live target only (kernel structures). */
int nt_live_read(void *session, uint64_t addr, void *buf, size_t len);

/* The current thread (KTHREAD of the stopped processor) and its process. */
uint64_t nt_current_thread(kd_session *s);
uint64_t nt_current_process(kd_session *s);
/* .process / .thread choices (0 = the current one). */
uint64_t nt_implicit_process(kd_session *s);
void nt_set_implicit_process(kd_session *s, uint64_t eprocess);
uint64_t nt_implicit_thread(kd_session *s);
void nt_set_implicit_thread(kd_session *s, uint64_t ethread);
/* The process commands default to: implicit, else current. */
uint64_t nt_default_process(kd_session *s);

/* Install a translating view for dirbase (0: remove; back to live). */
int nt_install_view(kd_session *s, uint64_t dirbase, char *err, size_t errlen);
int nt_view_installed(kd_session *s, uint64_t *dirbase);

/* For the length of one command, see user addresses through the process
 * whose page directory is dirbase (thread stacks of another process, its
 * PEB/TEB): nothing is installed when the current view already is that
 * address space.  nt_temp_view_end restores what was there. */
typedef struct nt_temp_view { kd_target *temp; int active; } nt_temp_view;
void nt_temp_view_begin(kd_session *s, uint64_t dirbase, nt_temp_view *tv);
void nt_temp_view_end(kd_session *s, nt_temp_view *tv);

/* .frame index. */
size_t nt_frame_index(kd_session *s);
void nt_set_frame_index(kd_session *s, size_t i);

/* Page walks through the live target's physical memory (cached until the
 * next stop). */
nt_paging *nt_get_paging(kd_session *s);
nt_paging_mode nt_paging_mode_of(kd_session *s);
/* The current CR3 (special registers), 0 if unavailable. */
uint64_t nt_current_cr3(kd_session *s);

/* Memory reads issued since the session started (for the round-trip
 * benchmark): counted at nt_session_read/nt_live_read. */
unsigned long nt_read_count(kd_session *s);

#endif
