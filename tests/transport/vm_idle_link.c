/*
 * vm_idle_link.c - the link against the test kernel stopped at its boot
 * stop, with the user idle between requests (suite 'vm', run by
 * vm_link.py, which boots the VM).
 *
 * The case: a breakin byte reaches the target while it is already stopped
 (kdcom_attach used to poke with 0x62 when a slow target had not answered
 * its RESET yet; a user's Ctrl-C does the same). Like ReactOS KDCOM, the
 * test kernel then notes Ctrl-C pending and at its next 1 s receive
 * timeout sends its state change again and waits for the ACK (until the
 * client reads, i.e. while the user is idle); a request arriving during
 * that wait is answered with RESEND (fact sheet §4). Each round sends one
 * breakin byte, idles, then asks; every request must still be answered
 * promptly, whichever way the caller uses the link:
 *   kd64     drain what came while idle, kdcom_send_packet, then
 *            kdcom_recv_packet until the reply (kdclient/kd64.c's way);
 *   nodrain  the same without the drain (the request meets the re-sent
 *            state change on the wire: the race every time);
 *   transact kdcom_transact.
 * Then a Continue2 meets a re-sent stop: the next stop handed out must be
 * a new one, not the old one sent again.
 *
 * Usage: vm_idle_link SPEC [ROUNDS]
 */
#include "transport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REPLY_LIMIT_MS 3000   /* a request must be answered within this */

static int64_t ms_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

typedef struct counts {
	int state_changes;   /* re-sent state changes seen */
	int other;           /* DbgPrints etc. */
} counts;

static void note_side(counts *c, const kdcom_packet *p)
{
	if (p->type == KD_PACKET_TYPE_STATE_CHANGE64)
		c->state_changes++;
	else if (p->type != KD_PACKET_TYPE_STATE_MANIPULATE)
		c->other++;
}

/* Does `p` answer the request `req`? */
static bool is_reply(const uint8_t *req, const kdcom_packet *p)
{
	kdpkt_manip m;
	if (p->type != KD_PACKET_TYPE_STATE_MANIPULATE || kdpkt_decode_manip(p->payload, p->len, &m) < 0)
		return false;
	if (m.api != kdpkt_get32(req))
		return false;
	if (m.api == KD_API_READ_VIRTUAL_MEMORY)
		return m.u.memory.address == kdpkt_get64(req + 0x10);
	return true;
}

static int send_recv(kdcom *l, const uint8_t *req, size_t len, bool drain, kdcom_packet *reply, counts *c)
{
	int64_t end = ms_now() + REPLY_LIMIT_MS;
	if (drain)
		for (int i = 0; i < 64 && kdcom_recv_packet(l, reply, 0) == 0; i++)
			note_side(c, reply);
	int r = kdcom_send_packet(l, KD_PACKET_TYPE_STATE_MANIPULATE, req, len, REPLY_LIMIT_MS);
	if (r < 0)
		return r;
	for (;;) {
		int64_t left = end - ms_now();
		if (left <= 0)
			return KDT_E_TIMEOUT;
		r = kdcom_recv_packet(l, reply, (int)left);
		if (r < 0)
			return r;
		if (is_reply(req, reply))
			return 0;
		note_side(c, reply);
	}
}

/* Check the reply's content, not just its arrival. */
static bool reply_ok(const uint8_t *req, const kdcom_packet *p, const uint8_t *kern_head)
{
	kdpkt_manip m;
	if (kdpkt_decode_manip(p->payload, p->len, &m) < 0 || !KD_NT_SUCCESS(m.return_status))
		return false;
	if (m.api == KD_API_GET_CONTEXT)
		return m.data_len == KD_CONTEXT_SIZE_AMD64 &&
			kdpkt_get64(m.data + 0xF8) != 0; /* Rip */
	if (m.api == KD_API_READ_VIRTUAL_MEMORY)
		return m.data_len == kdpkt_get32(req + 0x18) && !memcmp(m.data, kern_head, 64);
	return false;
}

/* VM_LINK_TRACE=1: one stderr line per packet, with a timestamp. */
static void trace_packet(void *ctx, bool sent, const kdcom_packet *p)
{
	const int64_t *t0 = ctx;
	uint32_t api = p->len >= 4 ? kdpkt_get32(p->payload) : 0;
	fprintf(stderr, "%7lld %s %-16s id %08x len %4u api %04x %s\n", (long long)(ms_now() - *t0),
			sent ? ">>" : "<<", kdpkt_type_name(p->type), p->id, p->len, api,
			p->type == KD_PACKET_TYPE_STATE_MANIPULATE ? kdpkt_api_name(api) : "");
}

int main(int argc, char **argv)
{
	int64_t start = ms_now();
	if (argc < 2) {
		fprintf(stderr, "usage: vm_idle_link SPEC [ROUNDS]\n");
		return 2;
	}
	int rounds = argc > 2 ? atoi(argv[2]) : 12;
	char err[256];
	kd_stream *s = NULL;
	kdcom *l = NULL;
	if (kd_stream_open(argv[1], &s, err, sizeof err) < 0 || kdcom_open(s, &l) < 0) {
		fprintf(stderr, "open %s: %s\n", argv[1], err);
		return 1;
	}
	if (getenv("VM_LINK_TRACE"))
		kdcom_set_trace(l, trace_packet, &start);
	/* kdclient's settings (kdclient/target_kd.c) */
	kdcom_set_timeouts(l, 4000, 5);
	if (kdcom_attach(l, 60000) < 0) {
		fprintf(stderr, "attach: %s\n", kdcom_errmsg(l));
		return 1;
	}
	kdcom_packet pkt;
	int r0;
	while ((r0 = kdcom_recv_packet(l, &pkt, 0)) == 0 && pkt.type != KD_PACKET_TYPE_STATE_CHANGE64)
		; /* DbgPrints from boot come first */
	if (r0 < 0) {
		fprintf(stderr, "attach returned without a state change\n");
		return 1;
	}
	static kdcom_packet stop; /* the stop we sit in, to recognise it re-sent */
	stop = pkt;
	uint8_t req[KD_MANIP_HEADER_SIZE];
	int n = kdpkt_encode_get_version(req, sizeof req, 0);
	kdpkt_manip m;
	if (kdcom_transact(l, req, (size_t)n, &pkt, 10000) < 0 ||
			kdpkt_decode_manip(pkt.payload, pkt.len, &m) < 0 || !m.u.version.kern_base) {
		fprintf(stderr, "GetVersion: %s\n", kdcom_errmsg(l));
		return 1;
	}
	uint64_t kern = m.u.version.kern_base;
	uint8_t head[64];
	n = kdpkt_encode_read_virtual(req, sizeof req, 0, kern, 64);
	if (kdcom_transact(l, req, (size_t)n, &pkt, 10000) < 0 ||
			kdpkt_decode_manip(pkt.payload, pkt.len, &m) < 0 || m.data_len != 64 ||
			memcmp(m.data, "MZ", 2)) {
		fprintf(stderr, "reading the kernel's MZ header at %llx failed: %s\n",
				(unsigned long long)kern, kdcom_errmsg(l));
		return 1;
	}
	memcpy(head, m.data, 64);

	/* What an attach sends when the stopped target is slow to answer its
	 * RESET: a breakin byte. From here on the target has Ctrl-C pending. */
	counts c = { 0 };
	kdcom_send_breakin(l);
	int64_t t_break = ms_now();
	while (c.state_changes == 0 && ms_now() - t_break < 10000) {
		int r = kdcom_recv_packet(l, &pkt, 500);
		if (r == 0)
			note_side(&c, &pkt);
		else if (r != KDT_E_TIMEOUT)
			break;
	}
	printf("after the breakin byte: state change re-sent after %lld ms\n", (long long)(ms_now() - t_break));
	if (c.state_changes == 0) {
		fprintf(stderr, "FAIL: the stopped target did not re-send its state change after a breakin byte; "
				"the race this test is about cannot happen\n");
		return 1;
	}

	static const char *const modes[] = { "kd64", "nodrain", "transact" };
	int failures = 0, worst = 0;
	uint64_t resends0 = kdcom_stats(l)->resends_received;
	for (int i = 0; i < rounds; i++) {
		int gap = 1200 + (i * 700) % 2800;   /* 1.2 .. 3.9 s at the prompt */
		/* the test kernel re-sends its stop once per breakin byte (ReactOS
		 * may repeat it at every timeout): give every round one */
		kdcom_send_breakin(l);
		sleep_ms(gap);
		int mode = i % 3;
		bool ctx = (i / 3) % 2 == 0;
		n = ctx ? kdpkt_encode_get_context(req, sizeof req, 0, KD_CONTEXT_SIZE_AMD64)
			: kdpkt_encode_read_virtual(req, sizeof req, 0, kern, 64);
		int64_t t0 = ms_now();
		uint64_t rs = kdcom_stats(l)->resends_received;
		int r = mode == 2 ? kdcom_transact(l, req, (size_t)n, &pkt, REPLY_LIMIT_MS)
			: send_recv(l, req, (size_t)n, mode == 0, &pkt, &c);
		int took = (int)(ms_now() - t0);
		bool ok = r == 0 && took <= REPLY_LIMIT_MS && reply_ok(req, &pkt, head);
		printf("%s round %2d: idle %4d ms, %-8s %-17s %5d ms, %llu RESEND %s\n", ok ? "ok  " : "FAIL", i,
				gap, modes[mode], ctx ? "GetContext" : "ReadVirtualMemory", took,
				(unsigned long long)(kdcom_stats(l)->resends_received - rs), r ? kdcom_errmsg(l) : "");
		if (!ok)
			failures++;
		if (took > worst)
			worst = took;
	}
	/* Continue from the boot stop after an idle gap, the Continue2 meeting
	 * the re-sent stop: the first stop handed out afterwards must be a new
	 * one (the next LoadSymbols, or the breakin sent if none comes), never
	 * the stop we continued from sent again. */
	kdcom_send_breakin(l);
	sleep_ms(2200);
	kdpkt_continue2 cont = { .continue_status = KD_DBG_CONTINUE, .sym_start = 1 };
	n = kdpkt_encode_continue2(req, sizeof req, 0, KD_MACHINE_AMD64, &cont);
	uint64_t stale0 = kdcom_stats(l)->stale_stops, rs0 = kdcom_stats(l)->resends_received;
	if (kdcom_send_packet(l, KD_PACKET_TYPE_STATE_MANIPULATE, req, (size_t)n, REPLY_LIMIT_MS) < 0) {
		fprintf(stderr, "FAIL: Continue2: %s\n", kdcom_errmsg(l));
		failures++;
	} else {
		int64_t t0 = ms_now(), breakin_at = t0 + 3000;
		bool stopped = false;
		while (!stopped && ms_now() - t0 < 20000) {
			if (breakin_at && ms_now() >= breakin_at) {
				kdcom_send_breakin(l);
				breakin_at = 0;
			}
			int r = kdcom_recv_packet(l, &pkt, 250);
			if (r == KDT_E_TIMEOUT)
				continue;
			if (r < 0)
				break;
			if (pkt.type != KD_PACKET_TYPE_STATE_CHANGE64)
				continue;
			stopped = true;
			kdpkt_state_change sc;
			bool same = pkt.len == stop.len && !memcmp(pkt.payload, stop.payload, pkt.len);
			if (kdpkt_decode_state_change(pkt.payload, pkt.len, KD_MACHINE_AMD64, &sc) < 0 || same) {
				fprintf(stderr, "FAIL: the first stop after Continue2 is the stop we continued from, "
						"sent again (%llu ms after)\n", (unsigned long long)(ms_now() - t0));
				failures++;
			} else {
				printf("ok   Continue2 after idle (%llu RESEND, %llu stale stop dropped): next stop "
						"%04x at %llx\n",
						(unsigned long long)(kdcom_stats(l)->resends_received - rs0),
						(unsigned long long)(kdcom_stats(l)->stale_stops - stale0),
						sc.new_state & 0xFFFF, (unsigned long long)sc.program_counter);
			}
		}
		if (!stopped) {
			fprintf(stderr, "FAIL: no stop after Continue2 and a breakin\n");
			failures++;
		}
	}

	char stats[1024];
	kdcom_stats_format(l, stats, sizeof stats);
	printf("re-sent state changes seen %d, RESENDs from the target %llu, slowest request %d ms\n%s",
			c.state_changes, (unsigned long long)(kdcom_stats(l)->resends_received - resends0), worst,
			stats);
	kdcom_close(l);
	kd_stream_close(s);
	if (failures)
		fprintf(stderr, "FAIL: %d failure(s)\n", failures);
	return failures ? 1 : 0;
}
