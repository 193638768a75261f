/*
 * kdcom_link.c - the KDCOM link: ACK / RESEND / RESET, packet ids,
 * duplicates, bounded retransmission, attach (fact sheet §3-5,
 * open-points #3, #4, #7, #10).
 *
 * Rules kept here, because the open clients break them (kd-anchors §4-5):
 *   - a control packet is never ACKed and never checked for duplicates;
 *   - ACK ids have the sync bit 0x800 masked;
 *   - every wait has a deadline; retransmission is bounded, then RESET;
 *   - a RESET from either side restarts our ids at 0x80800000 and the next
 *     data packet from the target is never a duplicate;
 *   - nothing exits: a closed stream comes back as KDT_E_CLOSED.
 */
#include "transport.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define QUEUE_MAX 64
#define ATTACH_POKE_MS 500    /* breakin cadence while attaching (§5 step 2) */
#define ATTACH_SETTLE_MS 1000 /* wait for the state change re-sent after RESET;
                               * also how long a target that just spoke is
                               * given before a breakin byte is sent */

struct kdcom {
	kd_stream *s;
	kdcom_parser parser;
	kdcom_packet rx;              /* parser's work area */
	uint8_t inbuf[4096];
	size_t in_len, in_pos;
	int64_t last_byte_ms;         /* when the last byte arrived (stall detection) */

	uint32_t next_id;             /* id of our next data packet */
	bool have_last_rx;
	uint32_t last_rx_id;          /* previous data packet id from the target */
	bool sent_since_rx;           /* for round-trip counting */

	uint8_t tx[KDCOM_MAX_FRAME];  /* the data frame awaiting its ACK */
	size_t tx_len;
	uint16_t tx_type;

	int ack_timeout_ms;
	int max_retransmits;
	int attach_resets;

	kdcom_packet *queue[QUEUE_MAX]; /* received, not yet handed out */
	int q_head, q_count;

	kdcom_counters c;
	kdcom_trace_fn trace;
	void *trace_ctx;
	char err[400];
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t deadline_of(int timeout_ms)
{
	return timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
}

static int64_t earlier(int64_t a, int64_t b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

__attribute__((format(printf, 3, 4)))
static int fail(kdcom *l, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(l->err, sizeof l->err, fmt, ap);
	va_end(ap);
	return code;
}

static int stream_fail(kdcom *l, int code)
{
	return fail(l, code, "%s", kd_stream_errmsg(l->s));
}

/* ---------------- queue ---------------- */

static int enqueue(kdcom *l, const kdcom_packet *p)
{
	kdcom_packet *copy;
	if (l->q_count == QUEUE_MAX) {
		/* the caller is not reading: drop the oldest (DbgPrint floods) */
		free(l->queue[l->q_head]);
		l->q_head = (l->q_head + 1) % QUEUE_MAX;
		l->q_count--;
	}
	copy = malloc(sizeof *copy);
	if (!copy)
		return fail(l, KDT_E_NOMEM, "out of memory queueing a packet");
	memcpy(copy, p, offsetof(kdcom_packet, payload) + p->len);
	l->queue[(l->q_head + l->q_count) % QUEUE_MAX] = copy;
	l->q_count++;
	return 0;
}

static kdcom_packet *queue_at(kdcom *l, int i)
{
	return l->queue[(l->q_head + i) % QUEUE_MAX];
}

/* Remove entry i, copying it to out (if out). */
static void queue_take(kdcom *l, int i, kdcom_packet *out)
{
	kdcom_packet *p = queue_at(l, i);
	if (out)
		memcpy(out, p, offsetof(kdcom_packet, payload) + p->len);
	free(p);
	for (int j = i; j < l->q_count - 1; j++)
		l->queue[(l->q_head + j) % QUEUE_MAX] = l->queue[(l->q_head + j + 1) % QUEUE_MAX];
	l->q_count--;
}

static void queue_clear(kdcom *l)
{
	while (l->q_count)
		queue_take(l, 0, NULL);
	l->q_head = 0;
}

/* ---------------- wire ---------------- */

static int write_raw(kdcom *l, const uint8_t *buf, size_t len)
{
	int r = kd_stream_write(l->s, buf, len);
	if (r < 0)
		return stream_fail(l, r);
	l->c.bytes_sent += len;
	return 0;
}

static void trace_frame(kdcom *l, bool sent, const uint8_t *frame)
{
	if (!l->trace)
		return;
	kdcom_packet *p = &l->rx;
	kdcom_packet tmp;
	if (sent) {
		p = &tmp;
		p->leader = kdpkt_get32(frame);
		p->type = kdpkt_get16(frame + 4);
		p->len = kdpkt_get16(frame + 6);
		p->id = kdpkt_get32(frame + 8);
		p->checksum = kdpkt_get32(frame + 12);
		memcpy(p->payload, frame + KDCOM_HEADER_SIZE, p->len);
	}
	l->trace(l->trace_ctx, sent, p);
}

static int send_control(kdcom *l, uint16_t type, uint32_t id)
{
	uint8_t f[KDCOM_HEADER_SIZE];
	kdcom_frame(f, sizeof f, KDCOM_LEADER_CONTROL, type, id, NULL, 0);
	int r = write_raw(l, f, sizeof f);
	if (r < 0)
		return r;
	l->c.packets_sent++;
	if (type == KD_PACKET_TYPE_RESEND)
		l->c.resends_sent++;
	else if (type == KD_PACKET_TYPE_RESET)
		l->c.resets_sent++;
	trace_frame(l, true, f);
	return 0;
}

static int send_tx(kdcom *l, bool again)
{
	int r = write_raw(l, l->tx, l->tx_len);
	if (r < 0)
		return r;
	l->c.packets_sent++;
	l->c.data_packets_sent++;
	if (again)
		l->c.retransmits++;
	trace_frame(l, true, l->tx);
	return 0;
}

/* Both sides restart: our ids from the initial id, and the target's next
 * data packet must not be mistaken for a duplicate (open-points #4). */
static void restart_ids(kdcom *l)
{
	l->next_id = KDCOM_INITIAL_ID;
	l->have_last_rx = false;
	if (l->tx_len)
		kdpkt_put32(l->tx + 8, l->next_id);
}

/* Next good packet off the wire into l->rx. Bad data packets are answered
 * with RESEND here. Returns 1 packet, 0 deadline passed, <0 error. */
static int read_packet(kdcom *l, int64_t deadline)
{
	bool polled = false; /* a deadline already past still reads once: recv(…, 0) polls */
	for (;;) {
		while (l->in_pos < l->in_len) {
			uint64_t g0 = l->parser.garbage;
			kdcom_parse_result pr = kdcom_parser_feed(&l->parser, l->inbuf[l->in_pos++], &l->rx);
			l->c.garbage_bytes += l->parser.garbage - g0;
			if (pr == KDCOM_PARSE_PACKET) {
				l->c.packets_received++;
				if (l->rx.leader == KDCOM_LEADER_DATA)
					l->c.data_packets_received++;
				trace_frame(l, false, NULL);
				return 1;
			}
			if (pr == KDCOM_PARSE_BAD) {
				l->c.bad_packets++;
				/* the target re-sends on RESEND (§4) */
				int r = send_control(l, KD_PACKET_TYPE_RESEND, 0);
				if (r < 0)
					return r;
			} else if (pr == KDCOM_PARSE_BREAKIN) {
				l->c.garbage_bytes++; /* a target never sends 0x62 */
			}
		}
		int t = -1;
		if (deadline >= 0) {
			int64_t left = deadline - now_ms();
			if (left <= 0) {
				if (polled)
					return 0;
				left = 0;
			}
			t = left > 0x7fffffff ? 0x7fffffff : (int)left;
		}
		polled = true;
		/* a sender never pauses inside a frame: a gap of an ACK timeout
		 * mid-frame means the rest is lost (peer restarted, damaged
		 * ByteCount); drop the partial frame and ask for it again */
		bool mid_frame = kdcom_parser_busy(&l->parser);
		int64_t stall_at = l->last_byte_ms + l->ack_timeout_ms;
		if (mid_frame) {
			int64_t gap = stall_at - now_ms();
			if (gap < 0)
				gap = 0;
			if (t < 0 || t > gap)
				t = (int)gap;
		}
		int n = kd_stream_read(l->s, l->inbuf, sizeof l->inbuf, t);
		if (n < 0)
			return stream_fail(l, n);
		if (n == 0 && mid_frame && now_ms() >= stall_at) {
			kdcom_parser_reset(&l->parser);
			l->c.bad_packets++;
			int r = send_control(l, KD_PACKET_TYPE_RESEND, 0);
			if (r < 0)
				return r;
			continue;
		}
		if (n == 0)
			return 0; /* the caller's deadline; a partial frame is kept */
		l->last_byte_ms = now_ms();
		l->c.bytes_received += (uint64_t)n;
		l->in_len = (size_t)n;
		l->in_pos = 0;
	}
}

/* A good data packet arrived: ACK it (id with the sync bit masked, §3) and
 * drop it if it repeats the previous id (our ACK was lost). Returns 1 new,
 * 0 duplicate, <0 error. */
static int accept_data(kdcom *l)
{
	int r = send_control(l, KD_PACKET_TYPE_ACKNOWLEDGE, l->rx.id & ~KDCOM_SYNC_BIT);
	if (r < 0)
		return r;
	if (l->have_last_rx && l->rx.id == l->last_rx_id) {
		l->c.duplicates++;
		return 0;
	}
	l->have_last_rx = true;
	l->last_rx_id = l->rx.id;
	if (l->sent_since_rx) {
		l->c.round_trips++;
		l->sent_since_rx = false;
	}
	return 1;
}

/* Control packets that arrive while we are not waiting for an ACK. */
static void control_when_idle(kdcom *l)
{
	if (l->rx.type == KD_PACKET_TYPE_RESET) {
		l->c.resets_received++;
		restart_ids(l);
	} else if (l->rx.type == KD_PACKET_TYPE_RESEND) {
		/* our last data packet was ACKed already; a stray RESEND
		 * (e.g. a damaged ACK of ours) needs nothing from us */
		l->c.resends_received++;
	}
}

/* Next new data packet from the wire (not the queue). With stop_on_reset
 * a RESET from the target ends the wait with KDT_E_RESET. */
static int wire_recv_data(kdcom *l, kdcom_packet *out, int64_t deadline, bool stop_on_reset)
{
	for (;;) {
		int r = read_packet(l, deadline);
		if (r < 0)
			return r;
		if (r == 0) {
			l->c.timeouts++;
			return fail(l, KDT_E_TIMEOUT, "no packet from the target before the deadline");
		}
		if (l->rx.leader == KDCOM_LEADER_CONTROL) {
			control_when_idle(l);
			if (stop_on_reset && l->rx.type == KD_PACKET_TYPE_RESET)
				return fail(l, KDT_E_RESET, "the target reset the link");
			continue;
		}
		r = accept_data(l);
		if (r < 0)
			return r;
		if (r == 0)
			continue;
		memcpy(out, &l->rx, offsetof(kdcom_packet, payload) + l->rx.len);
		return 0;
	}
}

/* ---------------- public ---------------- */

int kdcom_open(kd_stream *s, kdcom **out)
{
	*out = NULL;
	if (!s)
		return KDT_E_INVAL;
	kdcom *l = calloc(1, sizeof *l);
	if (!l)
		return KDT_E_NOMEM;
	l->s = s;
	kdcom_parser_init(&l->parser);
	l->next_id = KDCOM_INITIAL_ID;
	l->ack_timeout_ms = 1000;
	l->max_retransmits = 5;
	l->attach_resets = 1;
	*out = l;
	return 0;
}

void kdcom_close(kdcom *l)
{
	if (!l)
		return;
	queue_clear(l);
	free(l);
}

void kdcom_set_timeouts(kdcom *l, int ack_timeout_ms, int max_retransmits)
{
	if (ack_timeout_ms > 0)
		l->ack_timeout_ms = ack_timeout_ms;
	if (max_retransmits >= 0)
		l->max_retransmits = max_retransmits;
}

void kdcom_set_attach_resets(kdcom *l, int resets)
{
	l->attach_resets = resets < 0 ? 0 : resets;
}

void kdcom_set_trace(kdcom *l, kdcom_trace_fn fn, void *ctx)
{
	l->trace = fn;
	l->trace_ctx = ctx;
}

kd_stream *kdcom_stream(kdcom *l)
{
	return l->s;
}

const char *kdcom_errmsg(const kdcom *l)
{
	return l->err;
}

const kdcom_counters *kdcom_stats(const kdcom *l)
{
	return &l->c;
}

int kdcom_send_breakin(kdcom *l)
{
	uint8_t b = KDCOM_BREAKIN_BYTE;
	int r = write_raw(l, &b, 1);
	if (r == 0)
		l->c.breakins_sent++;
	return r;
}

int kdcom_send_reset(kdcom *l)
{
	restart_ids(l);
	return send_control(l, KD_PACKET_TYPE_RESET, 0);
}

/* Is the data packet in l->rx the target's reply to our packet in l->tx?
 * Only a manipulate reply with our ApiNumber is: the target sends one only
 * after it took the request in (§5 step 8). */
static bool answers_tx(const kdcom *l)
{
	if (l->tx_type != KD_PACKET_TYPE_STATE_MANIPULATE || l->rx.type != KD_PACKET_TYPE_STATE_MANIPULATE)
		return false;
	if (l->tx_len < KDCOM_HEADER_SIZE + 4 || l->rx.len < 4)
		return false;
	return kdpkt_get32(l->tx + KDCOM_HEADER_SIZE) == kdpkt_get32(l->rx.payload);
}

/* The target answered our STATE_MANIPULATE packet with RESEND after it had
 * sent these state changes: it was waiting for their ACK, so it sent them
 * before taking our packet in, while stopped (the engine sends manipulate
 * packets only to a stopped target), and it now counts them as delivered.
 * They are the current stop sent again (Ctrl-C pending, §4), not news;
 * handed out after a Continue they would look like a new stop while the
 * target runs. (A state change followed by an ACK, or by nothing, may be
 * the result of our packet, a Continue whose ACK was lost: kept.) The same
 * holds for a DbgPrompt re-sent while our answer to it was on its way. */
static bool is_get_string(const uint8_t *payload, size_t len)
{
	return len >= 4 && kdpkt_get32(payload) == KD_DEBUG_IO_GET_STRING;
}

/* What a stopped target re-sends while our packet is on its way: its
 * state change (we send a manipulate request), or its DbgPrompt (we send
 * the answer; its prompt loop sends the prompt again after a RESEND). */
static bool is_stale_candidate(const kdcom *l, const kdcom_packet *p)
{
	if (p->type == KD_PACKET_TYPE_STATE_CHANGE64)
		return l->tx_type == KD_PACKET_TYPE_STATE_MANIPULATE;
	if (p->type == KD_PACKET_TYPE_DEBUG_IO && l->tx_type == KD_PACKET_TYPE_DEBUG_IO)
		return is_get_string(p->payload, p->len) &&
			is_get_string(l->tx + KDCOM_HEADER_SIZE, l->tx_len - KDCOM_HEADER_SIZE);
	return false;
}

static void drop_stale_stops(kdcom *l, const kdcom_packet *const *stops, int n)
{
	for (int k = 0; k < n; k++)
		for (int i = 0; i < l->q_count; i++)
			if (queue_at(l, i) == stops[k] && is_stale_candidate(l, stops[k])) {
				queue_take(l, i, NULL);
				l->c.stale_stops++;
				break;
			}
}

int kdcom_send_packet(kdcom *l, uint16_t type, const void *payload, size_t len, int timeout_ms)
{
	int64_t deadline = deadline_of(timeout_ms);
	int attempts = 0;
	bool reset_done = false;
	/* a new data packet from the target came while our ACK is missing:
	 * either the ACK was lost, or the target was itself waiting for the
	 * ACK of that packet, answered ours with RESEND and took its own as
	 * delivered (§4; a stopped target with Ctrl-C pending re-sends its
	 * state change every second). Only what follows tells them apart. */
	bool answer_seen = false;
	/* state changes queued during this wait, see drop_stale_stops */
	const kdcom_packet *stops[8];
	int nstops = 0;

	int n = kdcom_frame(l->tx, sizeof l->tx, KDCOM_LEADER_DATA, type, l->next_id, payload, len);
	if (n < 0) {
		l->tx_len = 0;
		return fail(l, KDT_E_INVAL, "packet of %zu bytes does not fit KDCOM (max %d)", len,
				KDCOM_MAX_PAYLOAD);
	}
	l->tx_len = (size_t)n;
	l->tx_type = type;
	int r = send_tx(l, false);
	if (r < 0)
		return r;

	for (;;) {
		int64_t try_deadline = earlier(now_ms() + l->ack_timeout_ms, deadline);
		r = read_packet(l, try_deadline);
		if (r < 0)
			return r;
		bool again = false;
		if (r == 0) {
			l->c.timeouts++;
			if (answer_seen) {
				/* no RESEND followed the target's packet: it took
				 * ours, only the ACK went missing */
				l->next_id ^= 1;
				return 0;
			}
			if (deadline >= 0 && now_ms() >= deadline)
				return fail(l, KDT_E_TIMEOUT, "no ACK for %s packet id 0x%08x before the deadline (%d retransmissions)",
						kdpkt_type_name(type), kdpkt_get32(l->tx + 8), attempts);
			again = true;
		} else if (l->rx.leader == KDCOM_LEADER_CONTROL) {
			uint32_t want = kdpkt_get32(l->tx + 8) & ~KDCOM_SYNC_BIT;
			switch (l->rx.type) {
			case KD_PACKET_TYPE_ACKNOWLEDGE:
				if ((l->rx.id & ~KDCOM_SYNC_BIT) == want) {
					l->next_id ^= 1;
					l->sent_since_rx = true;
					return 0;
				}
				continue; /* a stale ACK */
			case KD_PACKET_TYPE_RESEND:
				l->c.resends_received++;
				if (nstops)
					drop_stale_stops(l, stops, nstops);
				nstops = 0;
				again = true;
				break;
			case KD_PACKET_TYPE_RESET:
				/* the target restarted its side: do the same and send
				 * the request again under the restarted id (§4) */
				l->c.resets_received++;
				restart_ids(l);
				again = true;
				break;
			default:
				continue;
			}
		} else {
			r = accept_data(l);
			if (r < 0)
				return r;
			if (r == 0)
				continue;
			r = enqueue(l, &l->rx);
			if (r < 0)
				return r;
			if (answers_tx(l)) {
				/* the reply came, so the request got there and only
				 * its ACK was lost */
				l->next_id ^= 1;
				return 0;
			}
			/* anything else (a re-sent state change, a DbgPrint)
			 * proves nothing: wait for the ACK or the RESEND */
			answer_seen = true;
			if (is_stale_candidate(l, &l->rx) && nstops < (int)(sizeof stops / sizeof stops[0]))
				stops[nstops++] = queue_at(l, l->q_count - 1);
			continue;
		}
		if (again) {
			answer_seen = false;
			if (++attempts > l->max_retransmits) {
				if (reset_done)
					return fail(l, KDT_E_TIMEOUT, "target does not acknowledge %s packets (gave up after RESET and %d retransmissions)",
							kdpkt_type_name(type), l->max_retransmits);
				/* bounded retransmission, then start both sides over */
				r = send_control(l, KD_PACKET_TYPE_RESET, 0);
				if (r < 0)
					return r;
				restart_ids(l);
				reset_done = true;
				attempts = 0;
			}
			r = send_tx(l, true);
			if (r < 0)
				return r;
		}
	}
}

int kdcom_recv_packet(kdcom *l, kdcom_packet *out, int timeout_ms)
{
	if (l->q_count) {
		queue_take(l, 0, out);
		return 0;
	}
	return wire_recv_data(l, out, deadline_of(timeout_ms), false);
}

/* Is `reply` the answer to `req`? Same ApiNumber (§5 step 8) and, for
 * memory-like requests, the same echoed address: every reply echoes the
 * request header (capture §11), so a late reply to an earlier read of
 * another address cannot be taken for this one. */
static bool reply_matches(const uint8_t *req, size_t req_len, const kdcom_packet *reply)
{
	if (reply->type != KD_PACKET_TYPE_STATE_MANIPULATE || reply->len < 4)
		return false;
	uint32_t api = kdpkt_get32(req);
	if (kdpkt_get32(reply->payload) != api)
		return false;
	switch (api) {
	case KD_API_READ_VIRTUAL_MEMORY:
	case KD_API_READ_PHYSICAL_MEMORY:
	case KD_API_READ_CONTROL_SPACE:
		/* TransferCount is echoed; ActualBytesRead must describe the
		 * data that came (a damaged header passes the byte-sum
		 * checksum, which covers the payload only) */
		if (req_len < 0x38 || reply->len < 0x38)
			return false;
		if (kdpkt_get32(req + 0x18) != kdpkt_get32(reply->payload + 0x18) ||
				kdpkt_get32(reply->payload + 0x1C) != reply->len - 0x38u ||
				kdpkt_get32(reply->payload + 0x1C) > kdpkt_get32(req + 0x18))
			return false;
		return kdpkt_get64(req + 0x10) == kdpkt_get64(reply->payload + 0x10);
	case KD_API_WRITE_VIRTUAL_MEMORY:
	case KD_API_WRITE_PHYSICAL_MEMORY:
	case KD_API_WRITE_CONTROL_SPACE:
	case KD_API_WRITE_BREAKPOINT:
	case KD_API_RESTORE_BREAKPOINT:
	case KD_API_GET_CONTEXT_EX:
	case KD_API_READ_MSR:
		if (req_len < 0x18 || reply->len < 0x18)
			return false;
		return kdpkt_get64(req + 0x10) == kdpkt_get64(reply->payload + 0x10);
	default:
		return true;
	}
}

static int take_queued_reply(kdcom *l, const uint8_t *req, size_t len, kdcom_packet *reply)
{
	for (int i = 0; i < l->q_count; i++) {
		if (reply_matches(req, len, queue_at(l, i))) {
			queue_take(l, i, reply);
			return 1;
		}
	}
	return 0;
}

int kdcom_transact(kdcom *l, const void *req_v, size_t len, kdcom_packet *reply, int timeout_ms)
{
	const uint8_t *req = req_v;
	int64_t deadline = deadline_of(timeout_ms);
	int requests = 0;
	if (!req || len < 0x18)
		return fail(l, KDT_E_INVAL, "manipulate request too short");
	/* replies queued before this request are stale (§5 step 8) */
	for (int i = 0; i < l->q_count;) {
		if (queue_at(l, i)->type == KD_PACKET_TYPE_STATE_MANIPULATE)
			queue_take(l, i, NULL);
		else
			i++;
	}
	uint32_t api = kdpkt_get32(req);
	for (;;) {
		int64_t left = deadline < 0 ? -1 : deadline - now_ms();
		if (deadline >= 0 && left <= 0)
			return fail(l, KDT_E_TIMEOUT, "no reply to %s before the deadline", kdpkt_api_name(api));
		int r = kdcom_send_packet(l, KD_PACKET_TYPE_STATE_MANIPULATE, req, len,
				deadline < 0 ? -1 : (int)left);
		if (r < 0)
			return r;
		requests++;
		if (take_queued_reply(l, req, len, reply))
			return 0;
		/* the reply may have been lost in a way no ACK logic sees (a
		 * damaged type field, a RESET): after a while ask again, which
		 * for these idempotent requests is what a user would do */
		int64_t wait_until = earlier(now_ms() + 4 * (int64_t)l->ack_timeout_ms, deadline);
		for (;;) {
			r = wire_recv_data(l, reply, wait_until, true);
			if (r == 0) {
				if (reply_matches(req, len, reply))
					return 0;
				if (reply->type == KD_PACKET_TYPE_STATE_MANIPULATE)
					continue; /* a stale reply to an earlier request */
				if ((r = enqueue(l, reply)) < 0)
					return r;
				continue;
			}
			break;
		}
		if (r != KDT_E_TIMEOUT && r != KDT_E_RESET)
			return r;
		if (requests > l->max_retransmits)
			return fail(l, KDT_E_TIMEOUT, "no reply to %s after %d requests", kdpkt_api_name(api), requests);
		l->c.retransmits++;
	}
}

/* Answer what a stopped target blocks on while we attach, so it gets to
 * its state change: FILE_IO is declined, a prompt gets an empty line. */
static int answer_during_attach(kdcom *l, const kdcom_packet *p, int64_t deadline)
{
	uint8_t buf[KDCOM_MAX_PAYLOAD];
	int n = -1;
	if (p->type == KD_PACKET_TYPE_FILE_IO) {
		n = kdpkt_encode_file_io_decline(buf, sizeof buf, p->payload, p->len);
	} else if (p->type == KD_PACKET_TYPE_DEBUG_IO) {
		kdpkt_debug_io io;
		if (kdpkt_decode_debug_io(p->payload, p->len, &io) == 0 && io.api == KD_DEBUG_IO_GET_STRING)
			n = kdpkt_encode_get_string_reply(buf, sizeof buf, &io, "", 0);
	}
	if (n <= 0)
		return 0;
	int64_t left = deadline < 0 ? -1 : deadline - now_ms();
	return kdcom_send_packet(l, p->type, buf, (size_t)n, left < 0 && deadline >= 0 ? 0 : (int)left);
}

int kdcom_attach(kdcom *l, int timeout_ms)
{
	int64_t deadline = deadline_of(timeout_ms);
	int64_t settle = -1, next_poke, heard_at = -1;
	int resets_sent = 0;
	bool reset_answered = false, breakin_sent = false, got_sc = false;
	int r;

	queue_clear(l);
	restart_ids(l);
	l->tx_len = 0;
	/* after a reconnect, half a frame from the old connection is noise */
	kdcom_parser_reset(&l->parser);
	l->in_len = l->in_pos = 0;
	if (l->attach_resets > 0) {
		/* a stopped target answers RESET by re-sending its state
		 * change (§5 step 3); a running one ignores it */
		if ((r = send_control(l, KD_PACKET_TYPE_RESET, 0)) < 0)
			return r;
		resets_sent = 1;
	}
	/* A breakin byte that reaches a target already stopped is not
	 * harmless: it leaves Ctrl-C pending, and the target then re-sends
	 * its state change on every receive timeout for as long as it stays
	 * stopped (§4/§5, ReactOS KdpSendWaitContinue). So a stopped target,
	 * slow to answer the RESET (an emulated UART on a busy host), gets
	 * a full settle time before the first breakin. */
	next_poke = now_ms() + (resets_sent == l->attach_resets && resets_sent > 0 ? ATTACH_SETTLE_MS : ATTACH_POKE_MS);

	for (;;) {
		int64_t until = earlier(earlier(next_poke, deadline), settle);
		r = read_packet(l, until);
		if (r < 0)
			return r;
		int64_t now = now_ms();
		if (r == 0) {
			if (got_sc && settle >= 0 && now >= settle)
				return 0;
			if (deadline >= 0 && now >= deadline) {
				l->c.timeouts++;
				return fail(l, KDT_E_TIMEOUT, "no state change from the target within %d ms (is the target booted with /debug and the right port/baud?)",
						timeout_ms);
			}
			if (now >= next_poke) {
				int64_t gap = ATTACH_POKE_MS;
				if (resets_sent < l->attach_resets) {
					r = send_control(l, KD_PACKET_TYPE_RESET, 0);
					resets_sent++;
					if (resets_sent == l->attach_resets)
						gap = ATTACH_SETTLE_MS;
				} else if (heard_at >= 0 && now < heard_at + ATTACH_SETTLE_MS) {
					/* the target just answered the RESET: a
					 * stopped one sends its state change next */
					next_poke = heard_at + ATTACH_SETTLE_MS;
					continue;
				} else {
					/* a running target only polls for 0x62 (§5 step 2) */
					r = kdcom_send_breakin(l);
					breakin_sent = true;
				}
				if (r < 0)
					return r;
				next_poke = now + gap;
			}
			continue;
		}
		if (l->rx.leader == KDCOM_LEADER_CONTROL) {
			if (l->rx.type == KD_PACKET_TYPE_RESET) {
				/* only the RESET reply holds breakins back: it comes
				 * once per RESET, so a running target that floods
				 * DbgPrints still gets its breakin */
				heard_at = now;
				l->c.resets_received++;
				restart_ids(l);
				reset_answered = true;
				if (got_sc) /* its state change came first: a fresh one follows */
					settle = now + ATTACH_SETTLE_MS;
			} else if (l->rx.type == KD_PACKET_TYPE_RESEND) {
				l->c.resends_received++;
			}
			continue;
		}
		r = accept_data(l);
		if (r < 0)
			return r;
		if (r == 0)
			continue;
		uint16_t type = l->rx.type; /* l->rx is reused by an answer below */
		switch (type) {
		case KD_PACKET_TYPE_STATE_CHANGE64:
			/* keep only the newest state change */
			for (int i = 0; i < l->q_count; i++)
				if (queue_at(l, i)->type == KD_PACKET_TYPE_STATE_CHANGE64)
					queue_take(l, i--, NULL);
			if ((r = enqueue(l, &l->rx)) < 0)
				return r;
			if (got_sc || reset_answered || breakin_sent || resets_sent == 0)
				return 0;
			got_sc = true;
			/* came before the RESET reply: the target re-sends it
			 * after answering the RESET; take that one if it comes */
			settle = now + ATTACH_SETTLE_MS;
			break;
		case KD_PACKET_TYPE_STATE_MANIPULATE:
			break; /* a reply meant for a debugger that went away */
		case KD_PACKET_TYPE_FILE_IO:
			if ((r = answer_during_attach(l, &l->rx, deadline)) < 0)
				return r;
			break;
		case KD_PACKET_TYPE_DEBUG_IO: {
			kdcom_packet copy;
			memcpy(&copy, &l->rx, offsetof(kdcom_packet, payload) + l->rx.len);
			if ((r = enqueue(l, &copy)) < 0)
				return r;
			if ((r = answer_during_attach(l, &copy, deadline)) < 0)
				return r;
			break;
		}
		default:
			break; /* TRACE_IO etc.: ACKed, nothing to do */
		}
		/* an answer sent above may have been overtaken by the state
		 * change (kdcom_send_packet queues it) */
		if (type == KD_PACKET_TYPE_FILE_IO || type == KD_PACKET_TYPE_DEBUG_IO)
			for (int i = 0; i < l->q_count; i++)
				if (queue_at(l, i)->type == KD_PACKET_TYPE_STATE_CHANGE64)
					return 0;
	}
}

int kdcom_stats_format(const kdcom *l, char *buf, size_t len)
{
	const kdcom_counters *c = &l->c;
	return snprintf(buf, len,
			"packets sent       %llu\n"
			"packets received   %llu\n"
			"bytes sent         %llu\n"
			"bytes received     %llu\n"
			"data sent          %llu\n"
			"data received      %llu\n"
			"round trips        %llu\n"
			"resends sent       %llu\n"
			"resends received   %llu\n"
			"retransmits        %llu\n"
			"resets sent        %llu\n"
			"resets received    %llu\n"
			"timeouts           %llu\n"
			"duplicates         %llu\n"
			"bad packets        %llu\n"
			"garbage bytes      %llu\n"
			"breakins sent      %llu\n"
			"stale stops        %llu\n",
			(unsigned long long)c->packets_sent, (unsigned long long)c->packets_received,
			(unsigned long long)c->bytes_sent, (unsigned long long)c->bytes_received,
			(unsigned long long)c->data_packets_sent, (unsigned long long)c->data_packets_received,
			(unsigned long long)c->round_trips, (unsigned long long)c->resends_sent,
			(unsigned long long)c->resends_received, (unsigned long long)c->retransmits,
			(unsigned long long)c->resets_sent, (unsigned long long)c->resets_received,
			(unsigned long long)c->timeouts, (unsigned long long)c->duplicates,
			(unsigned long long)c->bad_packets, (unsigned long long)c->garbage_bytes,
			(unsigned long long)c->breakins_sent, (unsigned long long)c->stale_stops);
}
