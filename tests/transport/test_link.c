/*
 * test_link.c - KDCOM link behaviour against an in-process fake target
 * (fake_target.c) on a socketpair, with fault injection.
 *
 * Run: test_link [scenario]   (no argument = all scenarios)
 */
#include "fake_target.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int failures;

#define CHECK(cond, ...)                                                         \
	do {                                                                     \
		if (!(cond)) {                                                   \
			failures++;                                              \
			fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                            \
			fputc('\n', stderr);                                     \
		}                                                                \
	} while (0)

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

/* One read through kdcom_transact, checked byte for byte. */
static int do_read(kdcom *l, uint64_t addr, uint32_t count, int timeout_ms)
{
	uint8_t req[KD_MANIP_HEADER_SIZE];
	kdcom_packet reply;
	kdpkt_manip m;
	int n = kdpkt_encode_read_virtual(req, sizeof req, 0, addr, count);
	if (n < 0)
		return n;
	int r = kdcom_transact(l, req, (size_t)n, &reply, timeout_ms);
	if (r < 0)
		return r;
	if (kdpkt_decode_manip(reply.payload, reply.len, &m) < 0)
		return KDT_E_PROTO;
	if (m.api != KD_API_READ_VIRTUAL_MEMORY || m.u.memory.address != addr ||
			m.u.memory.actual_bytes != count || m.data_len != count) {
		fprintf(stderr, "reply mismatch: api %x addr %llx/%llx count %u/%u data %zu id %08x\n", m.api,
				(unsigned long long)m.u.memory.address, (unsigned long long)addr,
				m.u.memory.actual_bytes, count, m.data_len, reply.id);
		return KDT_E_PROTO;
	}
	for (uint32_t i = 0; i < count; i++)
		if (m.data[i] != fake_mem_byte(addr + i)) {
			fprintf(stderr, "data mismatch at %u\n", i);
			return KDT_E_PROTO;
		}
	return 0;
}

static kdcom *new_link(fake_target *t, fake_script script, kd_stream **s)
{
	kdcom *l = NULL;
	if (fake_start(t, script, s) < 0 || kdcom_open(*s, &l) < 0) {
		fprintf(stderr, "cannot start fake target\n");
		exit(1);
	}
	kdcom_set_timeouts(l, 100, 5);
	return l;
}

static void end_link(fake_target *t, kdcom *l, kd_stream *s)
{
	fake_stop(t);
	CHECK(atomic_load(&t->bad_acks_in) == 0, "client ACKed something that was not our data packet (%d)",
			atomic_load(&t->bad_acks_in));
	kdcom_close(l);
	kd_stream_close(s);
}

/* ---- plain exchange + counters ---- */
static void test_basic(void)
{
	fake_target t = { 0 };
	kd_stream *s;
	kdcom *l = new_link(&t, fake_serve, &s);
	CHECK(do_read(l, 0x1000, 64, 2000) == 0, "read failed: %s", kdcom_errmsg(l));
	CHECK(do_read(l, 0x2000, 3944, 2000) == 0, "max read failed: %s", kdcom_errmsg(l));
	const kdcom_counters *c = kdcom_stats(l);
	CHECK(c->round_trips == 2, "round trips %llu", (unsigned long long)c->round_trips);
	CHECK(c->data_packets_sent == 2 && c->data_packets_received == 2, "data %llu/%llu",
			(unsigned long long)c->data_packets_sent, (unsigned long long)c->data_packets_received);
	CHECK(c->retransmits == 0 && c->resends_sent == 0, "unexpected recovery");
	CHECK(c->bytes_sent > 2 * (16 + 56) && c->bytes_received > 3944, "byte counters");
	char buf[1024];
	CHECK(kdcom_stats_format(l, buf, sizeof buf) > 0 && strstr(buf, "round trips        2"), "format: %s", buf);
	/* our ids: 0x80800000 then 0x80800001 (toggle bit 0 after each ACK) */
	CHECK(t.last_req_id_seen == (KDCOM_INITIAL_ID | 1), "second id 0x%08x", t.last_req_id_seen);
	end_link(&t, l, s);
}

/* ---- garbage before a leader ---- */
static void test_garbage(void)
{
	fake_target t = { .garbage_before_send = 200 };
	kd_stream *s;
	kdcom *l = new_link(&t, fake_serve, &s);
	CHECK(do_read(l, 0x3000, 100, 2000) == 0, "read after garbage: %s", kdcom_errmsg(l));
	CHECK(kdcom_stats(l)->garbage_bytes >= 150, "garbage counted %llu",
			(unsigned long long)kdcom_stats(l)->garbage_bytes);
	CHECK(kdcom_stats(l)->bad_packets == 0, "garbage taken for a frame");
	end_link(&t, l, s);
}

/* ---- flipped payload byte -> RESEND and recovery ---- */
static void test_flip(void)
{
	fake_target t = { .flip_next_send = true };
	kd_stream *s;
	kdcom *l = new_link(&t, fake_serve, &s);
	CHECK(do_read(l, 0x4000, 200, 2000) == 0, "read after flip: %s", kdcom_errmsg(l));
	CHECK(kdcom_stats(l)->resends_sent == 1, "resends sent %llu", (unsigned long long)kdcom_stats(l)->resends_sent);
	CHECK(kdcom_stats(l)->bad_packets == 1, "bad packets %llu", (unsigned long long)kdcom_stats(l)->bad_packets);
	CHECK(do_read(l, 0x5000, 10, 2000) == 0, "next read: %s", kdcom_errmsg(l));
	end_link(&t, l, s);
}

/* ---- our ACK lost -> the target resends -> duplicate re-ACKed, dropped ---- */
static void test_dropped_ack(void)
{
	fake_target t = { .ignore_next_ack = true, .ack_wait_ms = 100 };
	kd_stream *s;
	kdcom *l = new_link(&t, fake_serve, &s);
	CHECK(do_read(l, 0x6000, 32, 2000) == 0, "read: %s", kdcom_errmsg(l));
	kdcom_packet p;
	int r = kdcom_recv_packet(l, &p, 400);
	CHECK(r == KDT_E_TIMEOUT, "duplicate was delivered (r=%d type %u)", r, p.type);
	CHECK(kdcom_stats(l)->duplicates == 1, "duplicates %llu", (unsigned long long)kdcom_stats(l)->duplicates);
	CHECK(atomic_load(&t.acks_in) == 2, "target saw %d ACKs, want 2 (original + re-ACK)", atomic_load(&t.acks_in));
	CHECK(do_read(l, 0x6100, 32, 2000) == 0, "read after dup: %s", kdcom_errmsg(l));
	end_link(&t, l, s);
}

/* ---- the target's ACK of our request lost -> we retransmit, target drops dup ---- */
static void test_lost_request_ack(void)
{
	fake_target t = { .skip_next_ack_out = true };
	kd_stream *s;
	kdcom *l = new_link(&t, fake_serve, &s);
	CHECK(do_read(l, 0x6800, 16, 2000) == 0, "read: %s", kdcom_errmsg(l));
	CHECK(atomic_load(&t.requests) == 1, "requests %d", atomic_load(&t.requests));
	CHECK(do_read(l, 0x6900, 16, 2000) == 0, "next read: %s", kdcom_errmsg(l));
	end_link(&t, l, s);
}

/* ---- RESET mid-request ---- */
static void test_reset_mid_request(void)
{
	fake_target t = { .reset_next_request = true };
	kd_stream *s;
	kdcom *l = new_link(&t, fake_serve, &s);
	CHECK(do_read(l, 0x7000, 8, 2000) == 0, "read 1: %s", kdcom_errmsg(l));
	/* request 2 (id 0x80800001) is answered with RESET: the client must
	 * restart its ids and ask again with 0x80800000 */
	CHECK(do_read(l, 0x7100, 8, 3000) == 0, "read across RESET: %s", kdcom_errmsg(l));
	CHECK(kdcom_stats(l)->resets_received == 1, "resets received %llu",
			(unsigned long long)kdcom_stats(l)->resets_received);
	CHECK(t.first_req_id_after_reset == KDCOM_INITIAL_ID, "id after reset 0x%08x", t.first_req_id_after_reset);
	CHECK(do_read(l, 0x7200, 8, 2000) == 0, "read 3: %s", kdcom_errmsg(l));
	end_link(&t, l, s);
}

/* ---- attach: stopped target answers RESET with its state change first ---- */
static int sc_resend_same_id;

static void script_sc_then_reset(fake_target *t)
{
	uint8_t sc[KD_STATE_CHANGE_SIZE];
	size_t n = fake_state_change(sc, KD_STATUS_BREAKPOINT, 0xfffff80012345678ull);
	if (sc_resend_same_id)
		t->next_id = KDCOM_INITIAL_ID;
	/* wait for the client's RESET without answering it yet */
	t->no_reset_reply = true;
	while (!atomic_load(&t->stop) && fake_recv(t, 50) != 1)
		;
	t->no_reset_reply = false;
	/* the state change it had pending goes out first ... */
	uint8_t f[KDCOM_MAX_FRAME];
	int fl = kdcom_frame(f, sizeof f, KDCOM_LEADER_DATA, KD_PACKET_TYPE_STATE_CHANGE64, t->next_id, sc, n);
	send(t->fd, f, (size_t)fl, MSG_NOSIGNAL);
	/* ... then the RESET reply; ids restart */
	fake_send_control(t, KD_PACKET_TYPE_RESET, 0);
	t->next_id = KDCOM_INITIAL_ID;
	/* and the state change again, as ReactOS re-sends it after a RESET */
	kdpkt_put64(sc + 0x18, 0xfffff80012345679ull); /* mark the second copy */
	fake_send_data(t, KD_PACKET_TYPE_STATE_CHANGE64, sc, n);
	fake_serve(t);
}

static void test_attach_sc_first(int same_id)
{
	fake_target t = { 0 };
	kd_stream *s;
	sc_resend_same_id = same_id;
	kdcom *l = new_link(&t, script_sc_then_reset, &s);
	int64_t t0 = ms_now();
	int r = kdcom_attach(l, 5000);
	CHECK(r == 0, "attach: %s", kdcom_errmsg(l));
	kdcom_packet p;
	kdpkt_state_change sc;
	r = kdcom_recv_packet(l, &p, 1000);
	CHECK(r == 0 && p.type == KD_PACKET_TYPE_STATE_CHANGE64, "no state change (r=%d type %u)", r, p.type);
	CHECK(kdpkt_decode_state_change(p.payload, p.len, KD_MACHINE_AMD64, &sc) == 0 &&
			sc.program_counter == 0xfffff80012345679ull, "not the newest state change: pc %llx",
			(unsigned long long)sc.program_counter);
	r = kdcom_recv_packet(l, &p, 300);
	CHECK(r == KDT_E_TIMEOUT, "second state change handed out (r=%d type %u)", r, p.type);
	CHECK(kdcom_stats(l)->duplicates == 0, "re-sent state change after RESET taken for a duplicate");
	CHECK(ms_now() - t0 < 4000, "attach took %lld ms", (long long)(ms_now() - t0));
	CHECK(do_read(l, 0x8000, 16, 2000) == 0, "read after attach: %s", kdcom_errmsg(l));
	end_link(&t, l, s);
}

/* ---- attach: stopped target answers RESET with RESET, then the state change ---- */
static void script_reset_then_sc(fake_target *t)
{
	uint8_t sc[KD_STATE_CHANGE_SIZE];
	size_t n = fake_state_change(sc, KD_STATUS_BREAKPOINT, 0x401000);
	while (!atomic_load(&t->stop)) {
		int r = fake_recv(t, 50);
		if (r == 1)
			break; /* RESET answered inside fake_recv */
	}
	fake_send_data(t, KD_PACKET_TYPE_STATE_CHANGE64, sc, n);
	fake_serve(t);
}

static void test_attach_reset_first(void)
{
	fake_target t = { 0 };
	kd_stream *s;
	kdcom *l = new_link(&t, script_reset_then_sc, &s);
	int64_t t0 = ms_now();
	CHECK(kdcom_attach(l, 5000) == 0, "attach: %s", kdcom_errmsg(l));
	/* no breakin cadence (500 ms) and no settling (1000 ms) needed */
	CHECK(ms_now() - t0 < 900, "attach to a stopped target took %lld ms", (long long)(ms_now() - t0));
	kdcom_packet p;
	CHECK(kdcom_recv_packet(l, &p, 1000) == 0 && p.type == KD_PACKET_TYPE_STATE_CHANGE64, "no state change");
	CHECK(atomic_load(&t.breakins_in) == 0, "breakin sent to a stopped target");
	CHECK(do_read(l, 0x8800, 16, 2000) == 0, "read after attach: %s", kdcom_errmsg(l));
	end_link(&t, l, s);
}

/* ---- attach: a stopped target asking for a file (.kdfiles) first ---- */
static atomic_int file_io_declined;

static void script_file_io_then_sc(fake_target *t)
{
	uint8_t buf[KD_STATE_CHANGE_SIZE + 64];
	while (!atomic_load(&t->stop) && fake_recv(t, 50) != 1)
		;
	memset(buf, 0, 64);
	kdpkt_put32(buf, KD_FILE_IO_CREATE);
	kdpkt_put32(buf + 8, 0x120089);
	const char *name = "\\a.sys";
	for (int i = 0; name[i]; i++)
		kdpkt_put16(buf + 64 + 2 * i, (uint8_t)name[i]);
	fake_send_data(t, KD_PACKET_TYPE_FILE_IO, buf, 64 + 2 * strlen(name));
	/* the target blocks on the answer (§11) */
	while (!atomic_load(&t->stop)) {
		if (fake_recv(t, 50) == 0 && t->rx.type == KD_PACKET_TYPE_FILE_IO) {
			kdpkt_file_io f;
			if (kdpkt_decode_file_io(t->rx.payload, t->rx.len, &f) == 0 && f.status == KD_STATUS_NO_SUCH_FILE &&
					f.api == KD_FILE_IO_CREATE)
				atomic_store(&file_io_declined, 1);
			break;
		}
	}
	fake_send_data(t, KD_PACKET_TYPE_STATE_CHANGE64, buf, fake_state_change(buf, KD_STATUS_BREAKPOINT, 0x1234));
	fake_serve(t);
}

static void test_attach_file_io(void)
{
	fake_target t = { 0 };
	kd_stream *s;
	kdcom *l = new_link(&t, script_file_io_then_sc, &s);
	CHECK(kdcom_attach(l, 5000) == 0, "attach: %s", kdcom_errmsg(l));
	CHECK(atomic_load(&file_io_declined) == 1, "FILE_IO was not declined with STATUS_NO_SUCH_FILE");
	kdcom_packet p;
	CHECK(kdcom_recv_packet(l, &p, 1000) == 0 && p.type == KD_PACKET_TYPE_STATE_CHANGE64, "no state change");
	end_link(&t, l, s);
}

/* ---- DbgPrompt while stopped: handed to the caller, who answers ---- */
static char prompt_answer[64];

static void script_prompt(fake_target *t)
{
	uint8_t buf[64];
	memset(buf, 0, 16);
	kdpkt_put32(buf, KD_DEBUG_IO_GET_STRING);
	kdpkt_put32(buf + 8, 4);
	kdpkt_put32(buf + 12, 32);
	memcpy(buf + 16, "go? ", 4);
	fake_send_data(t, KD_PACKET_TYPE_DEBUG_IO, buf, 20);
	while (!atomic_load(&t->stop)) {
		if (fake_recv(t, 50) == 0 && t->rx.type == KD_PACKET_TYPE_DEBUG_IO) {
			kdpkt_debug_io io;
			if (kdpkt_decode_debug_io(t->rx.payload, t->rx.len, &io) == 0 && io.api == KD_DEBUG_IO_GET_STRING)
				snprintf(prompt_answer, sizeof prompt_answer, "%.*s", (int)io.length_read, (const char *)io.text);
			break;
		}
	}
	fake_serve(t);
}

static void test_prompt(void)
{
	fake_target t = { 0 };
	kd_stream *s;
	kdcom *l = new_link(&t, script_prompt, &s);
	kdcom_packet p;
	kdpkt_debug_io io;
	sleep_ms(150);
	/* timeout 0 polls the wire: a packet already there is returned */
	CHECK(kdcom_recv_packet(l, &p, 0) == 0 && p.type == KD_PACKET_TYPE_DEBUG_IO &&
			kdpkt_decode_debug_io(p.payload, p.len, &io) == 0 && io.api == KD_DEBUG_IO_GET_STRING,
			"prompt not handed to the caller");
	uint8_t out[64];
	int n = kdpkt_encode_get_string_reply(out, sizeof out, &io, "yes", 3);
	CHECK(n > 0 && kdcom_send_packet(l, KD_PACKET_TYPE_DEBUG_IO, out, (size_t)n, 2000) == 0, "answer: %s",
			kdcom_errmsg(l));
	CHECK(do_read(l, 0xA000, 8, 2000) == 0, "read after prompt: %s", kdcom_errmsg(l));
	CHECK(!strcmp(prompt_answer, "yes"), "target read '%s'", prompt_answer);
	end_link(&t, l, s);
}

/* ---- a DbgPrompt re-sent (Ctrl-C pending) while the answer is on its way:
 * the answer gets through and the re-sent prompt is not handed out as a
 * second prompt ---- */
static atomic_int prompts_sent;

static void script_prompt_resending(fake_target *t)
{
	uint8_t buf[64];
	memset(buf, 0, 16);
	kdpkt_put32(buf, KD_DEBUG_IO_GET_STRING);
	kdpkt_put32(buf + 8, 4);
	kdpkt_put32(buf + 12, 32);
	memcpy(buf + 16, "go? ", 4);
	while (!atomic_load(&t->stop)) {
		atomic_fetch_add(&prompts_sent, 1);
		fake_send_data(t, KD_PACKET_TYPE_DEBUG_IO, buf, 20);
		int r = fake_recv(t, 150); /* timeout with Ctrl-C pending: prompt again */
		if (r == 0 && t->rx.type == KD_PACKET_TYPE_DEBUG_IO) {
			kdpkt_debug_io io;
			if (kdpkt_decode_debug_io(t->rx.payload, t->rx.len, &io) == 0 && io.api == KD_DEBUG_IO_GET_STRING)
				snprintf(prompt_answer, sizeof prompt_answer, "%.*s", (int)io.length_read, (const char *)io.text);
			break;
		}
	}
	fake_serve(t);
}

static void test_prompt_during_resend(void)
{
	fake_target t = { 0 };
	kd_stream *s;
	prompt_answer[0] = 0;
	kdcom *l = new_link(&t, script_prompt_resending, &s);
	kdcom_set_timeouts(l, 300, 5);
	kdcom_packet p;
	kdpkt_debug_io io;
	CHECK(kdcom_recv_packet(l, &p, 2000) == 0 && p.type == KD_PACKET_TYPE_DEBUG_IO &&
			kdpkt_decode_debug_io(p.payload, p.len, &io) == 0 && io.api == KD_DEBUG_IO_GET_STRING,
			"prompt not handed to the caller");
	sleep_ms(600); /* the user types; the target prompts again */
	uint8_t out[64];
	int n = kdpkt_encode_get_string_reply(out, sizeof out, &io, "yes", 3);
	CHECK(n > 0 && kdcom_send_packet(l, KD_PACKET_TYPE_DEBUG_IO, out, (size_t)n, 2000) == 0, "answer: %s",
			kdcom_errmsg(l));
	CHECK(do_read(l, 0xA100, 8, 2000) == 0, "read after prompt: %s", kdcom_errmsg(l));
	CHECK(!strcmp(prompt_answer, "yes"), "target read '%s'", prompt_answer);
	int r = kdcom_recv_packet(l, &p, 300);
	CHECK(r == KDT_E_TIMEOUT, "a re-sent prompt was handed out after the answer (type %u)", p.type);
	CHECK(atomic_load(&prompts_sent) > 1 && kdcom_stats(l)->resends_received > 0,
			"the race was not exercised (%d prompts, %llu RESENDs)", atomic_load(&prompts_sent),
			(unsigned long long)kdcom_stats(l)->resends_received);
	end_link(&t, l, s);
}

/* ---- TRACE_IO is handed over like DEBUG_IO; control packets never enter
 * the duplicate check (a control packet carrying the id of the next data
 * packet must not make that packet look like a repeat) ---- */
static void script_trace_io(fake_target *t)
{
	uint8_t buf[64];
	memset(buf, 0, sizeof buf);
	kdpkt_put32(buf, KD_TRACE_IO_API);
	fake_send_control(t, KD_PACKET_TYPE_RESEND, t->next_id);
	fake_send_data(t, KD_PACKET_TYPE_TRACE_IO, buf, 24);
	fake_send_control(t, KD_PACKET_TYPE_RESEND, t->next_id);
	fake_send_data(t, KD_PACKET_TYPE_DEBUG_IO, buf, fake_print(buf, "after trace\n"));
	fake_serve(t);
}

static void test_trace_io(void)
{
	fake_target t = { 0 };
	kd_stream *s;
	kdcom *l = new_link(&t, script_trace_io, &s);
	kdcom_packet p;
	CHECK(kdcom_recv_packet(l, &p, 2000) == 0 && p.type == KD_PACKET_TYPE_TRACE_IO, "TRACE_IO not handed over");
	CHECK(kdcom_recv_packet(l, &p, 2000) == 0 && p.type == KD_PACKET_TYPE_DEBUG_IO, "DbgPrint after a control "
			"packet with its id was dropped");
	CHECK(kdcom_stats(l)->duplicates == 0, "duplicates %llu", (unsigned long long)kdcom_stats(l)->duplicates);
	sleep_ms(300); /* let the target thread take in our last ACK */
	CHECK(atomic_load(&t.acks_in) == 2, "target saw %d ACKs (control packets must not be ACKed)",
			atomic_load(&t.acks_in));
	end_link(&t, l, s);
}

/* ---- attach: a stopped target slow to answer the RESET (emulated UART on
 * a busy host) must not be sent breakin bytes: it would keep Ctrl-C
 * pending and re-send its state change every second while stopped ---- */
static void script_slow_stopped(fake_target *t)
{
	uint8_t sc[KD_STATE_CHANGE_SIZE];
	size_t n = fake_state_change(sc, KD_STATUS_BREAKPOINT, 0xfffff80000402000ull);
	sleep_ms(700); /* busy: the RESET waits in the UART */
	int r;
	while (!atomic_load(&t->stop) && (r = fake_recv(t, 50)) != 1)
		;
	sleep_ms(400); /* and the state change is slow to follow */
	fake_send_data(t, KD_PACKET_TYPE_STATE_CHANGE64, sc, n);
	fake_serve(t);
}

static void test_attach_slow_stopped(void)
{
	fake_target t = { 0 };
	kd_stream *s;
	kdcom *l = new_link(&t, script_slow_stopped, &s);
	CHECK(kdcom_attach(l, 5000) == 0, "attach: %s", kdcom_errmsg(l));
	kdcom_packet p;
	CHECK(kdcom_recv_packet(l, &p, 1000) == 0 && p.type == KD_PACKET_TYPE_STATE_CHANGE64, "no state change");
	CHECK(do_read(l, 0x8900, 16, 2000) == 0, "read after attach: %s", kdcom_errmsg(l));
	sleep_ms(200);
	CHECK(atomic_load(&t.breakins_in) == 0 && kdcom_stats(l)->breakins_sent == 0,
			"%d breakin bytes reached a stopped target", atomic_load(&t.breakins_in));
	end_link(&t, l, s);
}

/* ---- a stopped target that saw a breakin byte (ControlCPending) re-sends
 * its state change on every receive timeout and waits for the ACK; a
 * request that arrives during that wait is answered with RESEND and the
 * target takes its own state change as delivered (ReactOS KdpSendWaitContinue
 * + KdReceivePacket, fact sheet §4). The request must still get answered,
 * both through kdcom_transact and through send_packet + recv_packet. ---- */
static void script_stopped_resending(fake_target *t)
{
	uint8_t sc[KD_STATE_CHANGE_SIZE];
	size_t n = fake_state_change(sc, KD_STATUS_BREAKPOINT, 0xfffff80000401000ull);
	while (!atomic_load(&t->stop) && fake_recv(t, 50) != 1)
		; /* the attach RESET (answered inside fake_recv) */
	fake_send_data(t, KD_PACKET_TYPE_STATE_CHANGE64, sc, n);
	while (!atomic_load(&t->stop) && t->fd >= 0) {
		int r = fake_recv(t, 150);
		if (r == 2)
			continue; /* another breakin: still pending */
		if (r != 0) {
			/* receive timeout with Ctrl-C pending (or a RESET):
			 * send the stop again and wait for its ACK */
			if (!atomic_load(&t->stop) && fake_send_data(t, KD_PACKET_TYPE_STATE_CHANGE64, sc, n) < 0)
				return;
			continue;
		}
		if (t->rx.type != KD_PACKET_TYPE_STATE_MANIPULATE || t->rx.len < KD_MANIP_HEADER_SIZE)
			continue;
		atomic_fetch_add(&t->requests, 1);
		if (fake_answer(t) < 0)
			return;
	}
}

/* kd64.c's way: send the request, then receive until its reply, skipping
 * the re-sent state changes. */
static int read_by_send_recv(kdcom *l, uint64_t addr, uint32_t count, int timeout_ms)
{
	uint8_t req[KD_MANIP_HEADER_SIZE];
	int n = kdpkt_encode_read_virtual(req, sizeof req, 0, addr, count);
	int64_t end = ms_now() + timeout_ms;
	int r = kdcom_send_packet(l, KD_PACKET_TYPE_STATE_MANIPULATE, req, (size_t)n, timeout_ms);
	if (r < 0)
		return r;
	for (;;) {
		int64_t left = end - ms_now();
		if (left <= 0)
			return KDT_E_TIMEOUT;
		kdcom_packet p;
		kdpkt_manip m;
		r = kdcom_recv_packet(l, &p, (int)left);
		if (r < 0)
			return r;
		if (p.type == KD_PACKET_TYPE_STATE_MANIPULATE && kdpkt_decode_manip(p.payload, p.len, &m) == 0 &&
				m.api == KD_API_READ_VIRTUAL_MEMORY && m.u.memory.address == addr &&
				m.data_len == count && m.data[0] == fake_mem_byte(addr))
			return 0;
	}
}

static void test_request_during_resend(void)
{
	fake_target t = { 0 };
	kd_stream *s;
	kdcom *l = new_link(&t, script_stopped_resending, &s);
	kdcom_set_timeouts(l, 300, 5);
	CHECK(kdcom_attach(l, 5000) == 0, "attach: %s", kdcom_errmsg(l));
	kdcom_packet p;
	CHECK(kdcom_recv_packet(l, &p, 1000) == 0 && p.type == KD_PACKET_TYPE_STATE_CHANGE64, "no state change");
	int slow = 0;
	for (int i = 0; i < 8; i++) {
		sleep_ms(250 + 90 * i); /* the user sits at the prompt: nobody reads */
		uint64_t addr = 0x10000 + 0x100 * (uint64_t)i;
		int64_t t0 = ms_now();
		int r = (i & 1) ? read_by_send_recv(l, addr, 32, 3000) : do_read(l, addr, 32, 3000);
		int64_t took = ms_now() - t0;
		CHECK(r == 0, "request %d (%s) not answered: %d %s", i, (i & 1) ? "send+recv" : "transact", r,
				kdcom_errmsg(l));
		/* one retransmission after the RESEND, nothing like an ACK
		 * timeout or a re-ask */
		if (took > 1000)
			slow++;
	}
	CHECK(slow == 0, "%d requests needed more than 1 s", slow);
	CHECK(kdcom_stats(l)->resends_received > 0, "the race was not exercised (no RESEND from the target)");
	CHECK(atomic_load(&t.requests) == 8, "target served %d requests, want 8", atomic_load(&t.requests));
	end_link(&t, l, s);
}

/* ---- the same target, sent a Continue during such a re-send: the re-sent
 * old stop must not be handed out as if the target had stopped again ---- */
#define OLD_STOP_PC 0xfffff80000401000ull
#define NEW_STOP_PC 0xfffff80000405000ull
static void script_continue_during_resend(fake_target *t)
{
	uint8_t sc[KD_STATE_CHANGE_SIZE];
	size_t n = fake_state_change(sc, KD_STATUS_BREAKPOINT, OLD_STOP_PC);
	while (!atomic_load(&t->stop) && fake_recv(t, 50) != 1)
		;
	fake_send_data(t, KD_PACKET_TYPE_STATE_CHANGE64, sc, n);
	while (!atomic_load(&t->stop) && t->fd >= 0) {
		int r = fake_recv(t, 150);
		if (r == 2)
			continue;
		if (r != 0) {
			if (!atomic_load(&t->stop) && fake_send_data(t, KD_PACKET_TYPE_STATE_CHANGE64, sc, n) < 0)
				return;
			continue;
		}
		if (t->rx.type == KD_PACKET_TYPE_STATE_MANIPULATE && t->rx.len >= 4 &&
				kdpkt_get32(t->rx.payload) == KD_API_CONTINUE2)
			break;
	}
	sleep_ms(300); /* runs, then hits the next breakpoint */
	n = fake_state_change(sc, KD_STATUS_BREAKPOINT, NEW_STOP_PC);
	fake_send_data(t, KD_PACKET_TYPE_STATE_CHANGE64, sc, n);
	fake_serve(t);
}

static void test_continue_during_resend(void)
{
	fake_target t = { 0 };
	kd_stream *s;
	kdcom *l = new_link(&t, script_continue_during_resend, &s);
	kdcom_set_timeouts(l, 300, 5);
	CHECK(kdcom_attach(l, 5000) == 0, "attach: %s", kdcom_errmsg(l));
	kdcom_packet p;
	kdpkt_state_change sc;
	CHECK(kdcom_recv_packet(l, &p, 1000) == 0 && p.type == KD_PACKET_TYPE_STATE_CHANGE64, "no state change");
	sleep_ms(700); /* at the prompt; the target re-sends its stop */
	uint8_t req[KD_MANIP_HEADER_SIZE];
	kdpkt_continue2 c = { .continue_status = KD_DBG_CONTINUE, .sym_start = 1 };
	int n = kdpkt_encode_continue2(req, sizeof req, 0, KD_MACHINE_AMD64, &c);
	CHECK(kdcom_send_packet(l, KD_PACKET_TYPE_STATE_MANIPULATE, req, (size_t)n, 3000) == 0, "Continue2: %s",
			kdcom_errmsg(l));
	int r = kdcom_recv_packet(l, &p, 3000);
	CHECK(r == 0 && p.type == KD_PACKET_TYPE_STATE_CHANGE64 &&
			kdpkt_decode_state_change(p.payload, p.len, KD_MACHINE_AMD64, &sc) == 0 &&
			sc.program_counter == NEW_STOP_PC, "first stop after Continue2: r=%d type %u pc %llx (old stop is %llx)",
			r, p.type, (unsigned long long)sc.program_counter, OLD_STOP_PC);
	CHECK(kdcom_stats(l)->resends_received > 0 && kdcom_stats(l)->stale_stops > 0,
			"the race was not exercised (resends %llu, stale stops %llu)",
			(unsigned long long)kdcom_stats(l)->resends_received, (unsigned long long)kdcom_stats(l)->stale_stops);
	CHECK(do_read(l, 0xB000, 16, 2000) == 0, "read at the new stop: %s", kdcom_errmsg(l));
	end_link(&t, l, s);
}

/* ---- attach: running target; a DbgPrint is not a stop (open-points #10) ---- */
static void script_running(fake_target *t)
{
	uint8_t buf[512];
	int breakins = 0;
	fake_send_data(t, KD_PACKET_TYPE_DEBUG_IO, buf, fake_print(buf, "booting\n"));
	while (!atomic_load(&t->stop)) {
		int r = fake_recv(t, 50);
		if (r == 2 && ++breakins == 1) {
			fake_send_data(t, KD_PACKET_TYPE_DEBUG_IO, buf, fake_print(buf, "still running\n"));
		} else if (r == 2) {
			size_t n = fake_state_change(buf, KD_STATUS_BREAKPOINT, 0xfffff800aabbccddull);
			fake_send_data(t, KD_PACKET_TYPE_STATE_CHANGE64, buf, n);
			break;
		}
	}
	fake_serve(t);
}

static void test_attach_running(void)
{
	fake_target t = { 0 };
	kd_stream *s;
	kdcom *l = new_link(&t, script_running, &s);
	kdcom_set_attach_resets(l, 0);
	CHECK(kdcom_attach(l, 5000) == 0, "attach: %s", kdcom_errmsg(l));
	CHECK(atomic_load(&t.breakins_in) >= 2, "breakins %d", atomic_load(&t.breakins_in));
	kdcom_packet p;
	kdpkt_debug_io io;
	/* DbgPrints are handed to the caller in order, then the stop */
	CHECK(kdcom_recv_packet(l, &p, 500) == 0 && p.type == KD_PACKET_TYPE_DEBUG_IO &&
			kdpkt_decode_debug_io(p.payload, p.len, &io) == 0 && io.text_len == 8 &&
			!memcmp(io.text, "booting\n", 8), "first DbgPrint missing");
	CHECK(kdcom_recv_packet(l, &p, 500) == 0 && p.type == KD_PACKET_TYPE_DEBUG_IO, "second DbgPrint missing");
	CHECK(kdcom_recv_packet(l, &p, 500) == 0 && p.type == KD_PACKET_TYPE_STATE_CHANGE64, "state change missing");
	CHECK(kdcom_stats(l)->breakins_sent >= 2, "breakins counted");
	end_link(&t, l, s);
}

/* ---- a slow line: a frame arriving in pieces across many short recv
 * calls is kept; a frame that stops half-way is dropped after an ACK
 * timeout and asked for again ---- */
static void script_slow_and_stall(fake_target *t)
{
	uint8_t buf[KD_STATE_CHANGE_SIZE + 64], f[KDCOM_MAX_FRAME];
	size_t n = fake_print(buf, "a DbgPrint that crawls over a slow serial line\n");
	int fl = kdcom_frame(f, sizeof f, KDCOM_LEADER_DATA, KD_PACKET_TYPE_DEBUG_IO, t->next_id, buf, n);
	for (int i = 0; i < fl; i += 8) {
		send(t->fd, f + i, (size_t)(fl - i < 8 ? fl - i : 8), MSG_NOSIGNAL);
		sleep_ms(30);
	}
	while (!atomic_load(&t->stop) && fake_recv(t, 50) != -1)
		; /* the ACK */
	t->next_id = (t->next_id ^ 1) & ~KDCOM_SYNC_BIT;
	/* half a frame, then silence longer than the client's ACK timeout */
	n = fake_state_change(buf, KD_STATUS_BREAKPOINT, 0x5555);
	fl = kdcom_frame(f, sizeof f, KDCOM_LEADER_DATA, KD_PACKET_TYPE_STATE_CHANGE64, t->next_id, buf, n);
	send(t->fd, f, (size_t)fl / 2, MSG_NOSIGNAL);
	sleep_ms(1000);
	fake_send_data(t, KD_PACKET_TYPE_STATE_CHANGE64, buf, n);
	fake_serve(t);
}

static void test_slow_and_stall(void)
{
	fake_target t = { 0 };
	kd_stream *s;
	kdcom *l = new_link(&t, script_slow_and_stall, &s);
	kdcom_set_timeouts(l, 500, 5); /* far above the 30 ms gaps, even on a loaded machine */
	kdcom_packet p;
	int r = KDT_E_TIMEOUT;
	int64_t end = ms_now() + 5000;
	while (r == KDT_E_TIMEOUT && ms_now() < end)
		r = kdcom_recv_packet(l, &p, 10); /* an engine polling stdin in between */
	CHECK(r == 0 && p.type == KD_PACKET_TYPE_DEBUG_IO, "slow frame lost (r=%d)", r);
	CHECK(kdcom_stats(l)->bad_packets == 0 && kdcom_stats(l)->resends_sent == 0, "slow frame reset");
	r = KDT_E_TIMEOUT;
	while (r == KDT_E_TIMEOUT && ms_now() < end)
		r = kdcom_recv_packet(l, &p, 10);
	CHECK(r == 0 && p.type == KD_PACKET_TYPE_STATE_CHANGE64, "state change after stall (r=%d)", r);
	CHECK(kdcom_stats(l)->bad_packets == 1 && kdcom_stats(l)->resends_sent == 1, "stall: bad %llu resends %llu",
			(unsigned long long)kdcom_stats(l)->bad_packets, (unsigned long long)kdcom_stats(l)->resends_sent);
	end_link(&t, l, s);
}

/* ---- the peer closes: error returned, process alive ---- */
static void test_peer_close(void)
{
	fake_target t = { .close_after_requests = 2 };
	kd_stream *s;
	kdcom *l = new_link(&t, fake_serve, &s);
	CHECK(do_read(l, 0x9000, 16, 2000) == 0, "read 1: %s", kdcom_errmsg(l));
	int r = do_read(l, 0x9100, 16, 2000);
	CHECK(r == KDT_E_CLOSED, "read on a closed peer returned %d (%s)", r, kdcom_errmsg(l));
	r = do_read(l, 0x9200, 16, 500);
	CHECK(r == KDT_E_CLOSED, "second read on a closed peer returned %d", r);
	CHECK(kdcom_errmsg(l)[0] != 0, "no message");
	end_link(&t, l, s);
}

/* ---- silence: deadlines honoured within 10% ---- */
static void script_silent(fake_target *t)
{
	while (!atomic_load(&t->stop))
		sleep_ms(10);
}

static void test_silence(void)
{
	fake_target t = { 0 };
	kd_stream *s;
	kdcom *l = new_link(&t, script_silent, &s);
	kdcom_packet p;
	int64_t t0 = ms_now();
	/* deadlines of seconds, so 10% is more than a loaded machine's
	 * scheduling noise */
	int r = kdcom_recv_packet(l, &p, 2000);
	int64_t dt = ms_now() - t0;
	CHECK(r == KDT_E_TIMEOUT, "recv returned %d", r);
	CHECK(dt >= 2000 && dt <= 2200, "recv deadline 2000 ms took %lld ms", (long long)dt);

	kdcom_set_timeouts(l, 1000, 5);
	uint8_t req[KD_MANIP_HEADER_SIZE];
	int n = kdpkt_encode_get_version(req, sizeof req, 0);
	t0 = ms_now();
	r = kdcom_transact(l, req, (size_t)n, &p, 2500);
	dt = ms_now() - t0;
	CHECK(r == KDT_E_TIMEOUT, "transact returned %d", r);
	CHECK(dt >= 2500 && dt <= 2750, "transact deadline 2500 ms took %lld ms", (long long)dt);

	t0 = ms_now();
	r = kdcom_attach(l, 3000);
	dt = ms_now() - t0;
	CHECK(r == KDT_E_TIMEOUT, "attach returned %d", r);
	CHECK(dt >= 3000 && dt <= 3300, "attach deadline 3000 ms took %lld ms", (long long)dt);
	CHECK(kdcom_stats(l)->timeouts >= 3, "timeouts %llu", (unsigned long long)kdcom_stats(l)->timeouts);
	end_link(&t, l, s);
}

/* ---- 1% random byte corruption both ways, 1000 exchanges ---- */
static void test_corruption(void)
{
	fake_target t = { .corrupt_rate = 0.01, .ack_wait_ms = 25, .rng = 777 };
	kd_stream *s;
	kdcom *l = new_link(&t, fake_serve, &s);
	/* A damaged ByteCount makes the target swallow up to 4000 bytes of
	 * our retransmissions as one bogus payload before it resyncs (so would
	 * ReactOS): allow enough retransmissions to push that much through. */
	kdcom_set_timeouts(l, 25, 100);
	unsigned seed = 4242;
	int ok = 0;
	int64_t t0 = ms_now();
	for (int i = 0; i < 1000; i++) {
		seed = seed * 1103515245u + 12345u;
		uint64_t addr = 0xfffff80000000000ull + ((seed >> 4) & 0xFFFFF0);
		uint32_t count = 1 + ((seed >> 16) % 64);
		int r = do_read(l, addr, count, 10000);
		if (r == 0)
			ok++;
		else
			fprintf(stderr, "exchange %d failed: %d %s\n", i, r, kdcom_errmsg(l));
	}
	const kdcom_counters *c = kdcom_stats(l);
	fprintf(stderr, "corruption: %d/1000 ok in %lld ms; resends sent %llu recv %llu, retransmits %llu, dups %llu, bad %llu, resets %llu/%llu\n",
			ok, (long long)(ms_now() - t0), (unsigned long long)c->resends_sent,
			(unsigned long long)c->resends_received, (unsigned long long)c->retransmits,
			(unsigned long long)c->duplicates, (unsigned long long)c->bad_packets,
			(unsigned long long)c->resets_sent, (unsigned long long)c->resets_received);
	CHECK(ok == 1000, "%d of 1000 exchanges completed", ok);
	CHECK(c->bad_packets > 0, "corruption was not exercised");
	fake_stop(&t);
	/* corrupted ACK ids are expected here, so bad_acks_in is not checked */
	kdcom_close(l);
	kd_stream_close(s);
}

static const struct { const char *name; void (*fn)(void); } tests[] = {
	{ "basic", test_basic },
	{ "garbage", test_garbage },
	{ "flip", test_flip },
	{ "dropped-ack", test_dropped_ack },
	{ "lost-request-ack", test_lost_request_ack },
	{ "reset-mid-request", test_reset_mid_request },
	{ "attach-sc-first", NULL },
	{ "attach-sc-first-same-id", NULL },
	{ "attach-reset-first", test_attach_reset_first },
	{ "attach-running", test_attach_running },
	{ "attach-file-io", test_attach_file_io },
	{ "attach-slow-stopped", test_attach_slow_stopped },
	{ "request-during-resend", test_request_during_resend },
	{ "continue-during-resend", test_continue_during_resend },
	{ "prompt", test_prompt },
	{ "prompt-during-resend", test_prompt_during_resend },
	{ "trace-io", test_trace_io },
	{ "slow-and-stall", test_slow_and_stall },
	{ "peer-close", test_peer_close },
	{ "silence", test_silence },
	{ "corruption", test_corruption },
};

int main(int argc, char **argv)
{
	/* no SIGPIPE handler on purpose: a closed peer must come back as an
	 * error, never kill the process */
	for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
		if (argc > 1 && strcmp(argv[1], tests[i].name))
			continue;
		int before = failures;
		if (!strcmp(tests[i].name, "attach-sc-first"))
			test_attach_sc_first(0);
		else if (!strcmp(tests[i].name, "attach-sc-first-same-id"))
			test_attach_sc_first(1);
		else
			tests[i].fn();
		printf("%s %s\n", failures == before ? "ok  " : "FAIL", tests[i].name);
	}
	return failures ? 1 : 0;
}
