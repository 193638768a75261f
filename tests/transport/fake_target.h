/*
 * fake_target.h - an in-process KDCOM target for link-layer tests.
 *
 * Behaves like the ReactOS kddll target the fact sheet describes (§4):
 * ACKs good data packets, RESENDs bad ones, answers RESET with RESET and
 * restarts its ids, resends its own data packet until it is ACKed, and
 * treats a data packet that arrives while it waits for an ACK as "the ACK
 * was lost" (RESEND). Unlike ReactOS it drops duplicate requests by id so
 * a retransmitted read is not answered twice. Faults are injected through
 * the knobs below. Runs in its own thread on one end of a socketpair.
 */
#ifndef FAKE_TARGET_H
#define FAKE_TARGET_H

#include "transport.h"

#include <pthread.h>
#include <stdatomic.h>

typedef struct fake_target fake_target;
typedef void (*fake_script)(fake_target *t);

struct fake_target {
	int fd;
	pthread_t thread;
	fake_script script;
	void *user;

	kdcom_parser parser;
	kdcom_packet rx;
	uint8_t in[4096];
	size_t in_len, in_pos;

	uint32_t next_id;          /* target send id: starts 0x80800800 */
	bool have_last_req;
	uint32_t last_req_id;
	int ack_wait_ms;           /* how long to wait for an ACK before resending */

	/* fault knobs (one-shot unless noted) */
	double corrupt_rate;       /* per byte, both directions (persistent) */
	unsigned rng;
	int garbage_before_send;   /* garbage bytes before the next data frame */
	bool flip_next_send;       /* flip one payload byte of the next data frame */
	bool ignore_next_ack;      /* pretend our next ACK wait saw nothing */
	bool skip_next_ack_out;    /* do not ACK the next request we receive */
	bool reset_next_request;   /* answer the next request with a RESET */
	int close_after_requests;  /* close the socket after N requests (0 = never) */
	bool no_reset_reply;       /* fake_recv reports a RESET without answering it */

	/* observations */
	atomic_int requests;       /* requests processed (not counting dups) */
	atomic_int dup_requests;   /* duplicate requests dropped */
	atomic_int acks_in;        /* ACKs received */
	atomic_int bad_acks_in;    /* ACKs with an id we never sent (e.g. 0) */
	atomic_int resends_in;
	atomic_int resets_in;
	atomic_int breakins_in;
	atomic_int bad_in;         /* damaged frames received */
	atomic_int stop;           /* ask the script to finish */
	uint32_t last_req_id_seen; /* id of the last request received */
	uint32_t first_req_id_after_reset;
};

/* Create a socketpair; the client end is returned as a kd_stream. */
int fake_start(fake_target *t, fake_script script, kd_stream **client);
/* Ask the script to stop, join the thread, close the target end. */
void fake_stop(fake_target *t);
void fake_close_now(fake_target *t);

/* Script building blocks. Return 0 ok, <0 closed/stopped, 1 RESET seen. */
int fake_send_data(fake_target *t, uint16_t type, const void *payload, size_t len);
int fake_send_control(fake_target *t, uint16_t type, uint32_t id);
/* Next data packet; handles control packets like the target would.
 * Returns 0 with t->rx filled, 1 if a RESET came (already answered),
 * 2 if a breakin byte came, -1 on timeout/close/stop. */
int fake_recv(fake_target *t, int timeout_ms);
/* Answer the manipulate request in t->rx (reads: fake_mem_byte, GetVersion:
 * an x64 target, anything else STATUS_UNSUCCESSFUL). 0 or -1. */
int fake_answer(fake_target *t);
/* Serve manipulate requests until stop (reads: deterministic bytes). */
void fake_serve(fake_target *t);
/* The byte pattern the fake target returns for a read at addr. */
uint8_t fake_mem_byte(uint64_t addr);

/* Build a STATE_CHANGE64 exception payload (x64) into buf, returns len. */
size_t fake_state_change(uint8_t *buf, uint32_t code, uint64_t pc);
size_t fake_print(uint8_t *buf, const char *text);

#endif
