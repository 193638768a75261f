/*
 * target_kd.h - the live KD target: kd_target_ops over kd64 + KDCOM.
 */
#ifndef KDCLIENT_TARGET_KD_H
#define KDCLIENT_TARGET_KD_H

#include "target.h"
#include "kd64.h"

/* Open the byte stream for a -k connection string and the link on it (no
 * packets yet).  err gets one line on failure. */
int kd_target_kd_open(const char *spec, kd_target **out, char *err, size_t errlen);
/* Attach (RESET + breakin until a state change, open-points #10), then
 * GetVersion and the KDDEBUGGER_DATA64 block.  The first stop is returned
 * in *first; the target is stopped afterwards. */
int kd_target_kd_attach(kd_target *t, int timeout_ms, kd_event *first);
/* After a state change arrived outside attach (reboot): GetVersion and
 * KDBG again. */
int kd_target_kd_refresh_version(kd_target *t);
void kd_target_kd_set_print(kd_target *t, kd64_print_fn fn, void *ctx);
kdcom *kd_target_kd_link(kd_target *t);
kd_stream *kd_target_kd_stream(kd_target *t);
int kd_target_kd_reconnect_wanted(kd_target *t);   /* ",reconnect" in the spec */
/* Drop the per-stop memory cache (the run loop calls it on every stop). */
void kd_target_kd_flush_cache(kd_target *t);
/* The raw kd64 client (tests). */
kd64 *kd_target_kd_api(kd_target *t);
/* Build a target over an existing link (unit tests with a fake link). */
int kd_target_kd_from_link(kdcom *link, kd_target **out);

#endif
