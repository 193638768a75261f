/*
 * kd64.h - the kd64 API client: DBGKD_MANIPULATE_STATE64 requests over a
 * KDCOM link, one in flight, each with a deadline, replies matched by
 * ApiNumber (fact sheet §7).  DEBUG_IO and FILE_IO packets are handled
 * whenever they arrive, also while a request waits for its reply.
 */
#ifndef KDCLIENT_KD64_H
#define KDCLIENT_KD64_H

#include <stddef.h>
#include <stdint.h>
#include "transport/transport.h"
#include "target.h"

typedef struct kd64 kd64;

/* DbgPrint text as it arrives (raw target bytes; escape before printing). */
typedef void (*kd64_print_fn)(void *ctx, const char *text, size_t len);

int kd64_create(kdcom *link, kd64 **out);
void kd64_destroy(kd64 *k);
void kd64_set_print(kd64 *k, kd64_print_fn fn, void *ctx);
/* Hand text to the print callback (prints seen outside a request). */
void kd64_emit_print(kd64 *k, const char *text, size_t len);
/* Deadline of one request (default 10 s: a 4000-byte reply is ~0.35 s at
 * 115200 baud, retransmissions included). */
void kd64_set_timeout(kd64 *k, int ms);
/* Machine from GetVersion (selects the Continue2 and control-report
 * layouts). */
void kd64_set_machine(kd64 *k, uint16_t machine);
uint16_t kd64_machine(const kd64 *k);
const char *kd64_errmsg(const kd64 *k);
kdcom *kd64_link(kd64 *k);

/* Largest data part of one request/reply (4000 - 0x38). */
#define KD64_MAX_CHUNK 3944u

int kd64_get_version(kd64 *k, kdpkt_version *out);
/* Memory: split in chunks of up to 3944 bytes.  *got counts the bytes that
 * came back (a partial read stops at the first unreadable byte and returns
 * KD_E_PARTIAL; the missing bytes are left untouched, never filled). */
int kd64_read_virtual(kd64 *k, unsigned cpu, uint64_t addr, void *buf, size_t len, size_t *got);
int kd64_write_virtual(kd64 *k, unsigned cpu, uint64_t addr, const void *buf, size_t len, size_t *done);
int kd64_read_physical(kd64 *k, unsigned cpu, uint64_t addr, void *buf, size_t len, size_t *got);
int kd64_write_physical(kd64 *k, unsigned cpu, uint64_t addr, const void *buf, size_t len, size_t *done);
int kd64_read_control(kd64 *k, unsigned cpu, uint64_t addr, void *buf, size_t len, size_t *got);
int kd64_write_control(kd64 *k, unsigned cpu, uint64_t addr, const void *buf, size_t len);
/* CONTEXT as raw bytes (size 0x4D0 or 0x2CC). */
int kd64_get_context(kd64 *k, unsigned cpu, void *ctx, size_t size);
int kd64_set_context(kd64 *k, unsigned cpu, const void *ctx, size_t size, uint32_t flags);
int kd64_read_msr(kd64 *k, unsigned cpu, uint32_t msr, uint64_t *value);
int kd64_write_msr(kd64 *k, unsigned cpu, uint32_t msr, uint64_t value);
int kd64_write_breakpoint(kd64 *k, unsigned cpu, uint64_t addr, uint32_t *handle);
int kd64_restore_breakpoint(kd64 *k, unsigned cpu, uint32_t handle);
/* No-reply requests. */
int kd64_continue2(kd64 *k, unsigned cpu, uint32_t status, int trace, uint64_t dr7);
int kd64_switch_processor(kd64 *k, unsigned cpu);
int kd64_reboot(kd64 *k);
int kd64_cause_bugcheck(kd64 *k);
int kd64_answer_prompt(kd64 *k, const char *text, size_t len);

/* Wait for the next event: a state change (the target stopped), a
 * DbgPrint (delivered to the print callback and also returned as
 * KD_EV_PRINT) or a DbgPrompt (KD_EV_PROMPT; answer with
 * kd64_answer_prompt).  FILE_IO is declined inside.  State changes that
 * arrived during a request are returned first.  0, KD_E_TIMEOUT,
 * KD_E_CLOSED, KD_E_FAIL. */
int kd64_wait_event(kd64 *k, kd_event *ev, int timeout_ms);

/* Decode a STATE_CHANGE64 payload into an event (exported for tests). */
int kd64_decode_event(const uint8_t *p, size_t len, uint16_t machine, kd_event *ev);

#endif
