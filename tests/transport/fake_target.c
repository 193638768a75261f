/* fake_target.c - see fake_target.h. */
#include "fake_target.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int64_t ms_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static unsigned next_rand(fake_target *t)
{
	t->rng = t->rng * 1103515245u + 12345u;
	return (t->rng >> 8) & 0xFFFFFF;
}

static bool corrupt_now(fake_target *t)
{
	return t->corrupt_rate > 0 && next_rand(t) < (unsigned)(t->corrupt_rate * 0x1000000);
}

/* A random different byte (a line glitch, not a neat single-bit flip:
 * with single-bit flips two errors cancel in a byte-sum checksum one time
 * in sixteen, far more often than on a real line). */
static uint8_t damage(fake_target *t, uint8_t b)
{
	return (uint8_t)(b ^ (1 + next_rand(t) % 255));
}

static int raw_write(fake_target *t, const uint8_t *buf, size_t len)
{
	uint8_t tmp[KDCOM_MAX_FRAME + 64];
	if (t->fd < 0)
		return -1;
	if (len > sizeof tmp)
		return -1;
	memcpy(tmp, buf, len);
	/* The KDCOM checksum is a byte sum over the payload: damage to two
	 * payload bytes whose changes cancel (about 1 double error in 500) is
	 * undetectable by design, for any link layer. Such draws are redone;
	 * everything else stays, including damage to headers, which the
	 * checksum does not cover at all. */
	bool data = len > KDCOM_HEADER_SIZE && kdpkt_get32(buf) == KDCOM_LEADER_DATA;
	size_t plen = data ? kdpkt_get16(buf + 6) : 0;
	if (plen > len - KDCOM_HEADER_SIZE)
		plen = 0;
	for (int attempt = 0; attempt < 100; attempt++) {
		memcpy(tmp, buf, len);
		for (size_t i = 0; i < len; i++)
			if (corrupt_now(t))
				tmp[i] = damage(t, tmp[i]);
		if (!plen)
			break;
		bool changed = memcmp(tmp + KDCOM_HEADER_SIZE, buf + KDCOM_HEADER_SIZE, plen) != 0;
		if (!changed || kdcom_checksum(tmp + KDCOM_HEADER_SIZE, plen) !=
				kdcom_checksum(buf + KDCOM_HEADER_SIZE, plen))
			break;
	}
	size_t off = 0;
	while (off < len) {
		ssize_t n = send(t->fd, tmp + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

/* 1 byte, 0 deadline, -1 closed/stopped */
static int read_byte(fake_target *t, int64_t deadline, uint8_t *b)
{
	while (t->in_pos >= t->in_len) {
		if (t->fd < 0 || atomic_load(&t->stop))
			return -1;
		int64_t left = deadline - ms_now();
		if (left <= 0)
			return 0;
		struct pollfd p = { .fd = t->fd, .events = POLLIN };
		int r = poll(&p, 1, left > 20 ? 20 : (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			continue;
		ssize_t n = read(t->fd, t->in, sizeof t->in);
		if (n <= 0)
			return -1;
		t->in_len = (size_t)n;
		t->in_pos = 0;
	}
	*b = t->in[t->in_pos++];
	if (corrupt_now(t))
		*b = damage(t, *b);
	return 1;
}

/* 1 packet in t->rx, 2 breakin, 0 deadline, -1 closed */
static int next_frame(fake_target *t, int64_t deadline)
{
	for (;;) {
		uint8_t b;
		int r = read_byte(t, deadline, &b);
		if (r == 0 && kdcom_parser_busy(&t->parser))
			kdcom_parser_reset(&t->parser); /* like ReactOS: a timeout mid-packet starts over */
		if (r <= 0)
			return r;
		kdcom_parse_result pr = kdcom_parser_feed(&t->parser, b, &t->rx);
		if (pr == KDCOM_PARSE_PACKET)
			return 1;
		if (pr == KDCOM_PARSE_BREAKIN)
			return 2;
		if (pr == KDCOM_PARSE_BAD) {
			atomic_fetch_add(&t->bad_in, 1);
			fake_send_control(t, KD_PACKET_TYPE_RESEND, 0);
		}
	}
}

int fake_send_control(fake_target *t, uint16_t type, uint32_t id)
{
	uint8_t f[KDCOM_HEADER_SIZE];
	kdcom_frame(f, sizeof f, KDCOM_LEADER_CONTROL, type, id, NULL, 0);
	return raw_write(t, f, sizeof f);
}

static void note_ack(fake_target *t)
{
	atomic_fetch_add(&t->acks_in, 1);
	/* the client must ACK with one of our (sync-masked) data ids; an ACK
	 * with anything else (0 = the id of RESEND/RESET) means it ACKed a
	 * control packet */
	if (t->rx.id != KDCOM_INITIAL_ID && t->rx.id != (KDCOM_INITIAL_ID | 1))
		atomic_fetch_add(&t->bad_acks_in, 1);
}

int fake_send_data(fake_target *t, uint16_t type, const void *payload, size_t len)
{
	uint8_t f[KDCOM_MAX_FRAME];
	int n = kdcom_frame(f, sizeof f, KDCOM_LEADER_DATA, type, t->next_id, payload, len);
	if (n < 0)
		return -1;
	if (t->garbage_before_send) {
		/* random bytes and broken leaders the link must skip */
		static const uint8_t junk[] = { 0x30, 0x30, 0x30, 0x69, 0x69, 0x69, 0x30, 0x00, 0xAA, 0x12,
			0x69, 0x30, 0x30, 0x69, 0xFF };
		uint8_t g[256];
		int k = t->garbage_before_send > 256 ? 256 : t->garbage_before_send;
		for (int i = 0; i < k; i++)
			g[i] = junk[i % sizeof junk];
		raw_write(t, g, (size_t)k);
		t->garbage_before_send = 0;
	}
	bool first = true;
	for (;;) {
		if (atomic_load(&t->stop) || t->fd < 0)
			return -1;
		if (first && t->flip_next_send && len) {
			uint8_t bad[KDCOM_MAX_FRAME];
			memcpy(bad, f, (size_t)n);
			bad[KDCOM_HEADER_SIZE + len / 2] ^= 0x40;
			t->flip_next_send = false;
			if (raw_write(t, bad, (size_t)n) < 0)
				return -1;
		} else if (raw_write(t, f, (size_t)n) < 0) {
			return -1;
		}
		first = false;
		int64_t deadline = ms_now() + t->ack_wait_ms;
		for (;;) {
			int r = next_frame(t, deadline);
			if (r < 0)
				return -1;
			if (r == 2)
				atomic_fetch_add(&t->breakins_in, 1);
			if (r == 0 || r == 2)
				break; /* resend */
			if (t->rx.leader == KDCOM_LEADER_CONTROL) {
				if (t->rx.type == KD_PACKET_TYPE_ACKNOWLEDGE) {
					note_ack(t);
					if (t->ignore_next_ack) {
						t->ignore_next_ack = false;
						continue; /* "lost": wait out the timeout */
					}
					if (t->rx.id == (t->next_id & ~KDCOM_SYNC_BIT)) {
						t->next_id = (t->next_id ^ 1) & ~KDCOM_SYNC_BIT;
						return 0;
					}
					continue;
				}
				if (t->rx.type == KD_PACKET_TYPE_RESEND) {
					atomic_fetch_add(&t->resends_in, 1);
					break;
				}
				if (t->rx.type == KD_PACKET_TYPE_RESET) {
					atomic_fetch_add(&t->resets_in, 1);
					fake_send_control(t, KD_PACKET_TYPE_RESET, 0);
					t->next_id = KDCOM_INITIAL_ID;
					t->have_last_req = false;
					kdpkt_put32(f + 8, t->next_id);
					break;
				}
				continue;
			}
			/* a data packet while we wait for an ACK: ReactOS asks for
			 * it again and takes its own packet as delivered (§4) */
			fake_send_control(t, KD_PACKET_TYPE_RESEND, 0);
			t->next_id = (t->next_id ^ 1) & ~KDCOM_SYNC_BIT;
			return 0;
		}
	}
}

int fake_recv(fake_target *t, int timeout_ms)
{
	int64_t deadline = ms_now() + timeout_ms;
	for (;;) {
		int r = next_frame(t, deadline);
		if (r <= 0)
			return -1;
		if (r == 2) {
			atomic_fetch_add(&t->breakins_in, 1);
			return 2;
		}
		if (t->rx.leader == KDCOM_LEADER_CONTROL) {
			switch (t->rx.type) {
			case KD_PACKET_TYPE_ACKNOWLEDGE:
				note_ack(t);
				break;
			case KD_PACKET_TYPE_RESEND:
				atomic_fetch_add(&t->resends_in, 1);
				break;
			case KD_PACKET_TYPE_RESET:
				atomic_fetch_add(&t->resets_in, 1);
				if (t->no_reset_reply)
					return 1;
				fake_send_control(t, KD_PACKET_TYPE_RESET, 0);
				t->next_id = KDCOM_INITIAL_ID;
				t->have_last_req = false;
				return 1;
			}
			continue;
		}
		t->last_req_id_seen = t->rx.id;
		if (t->skip_next_ack_out)
			t->skip_next_ack_out = false;
		else
			fake_send_control(t, KD_PACKET_TYPE_ACKNOWLEDGE, t->rx.id & ~KDCOM_SYNC_BIT);
		/* a retransmission carries the same id */
		if (t->have_last_req && t->rx.id == t->last_req_id) {
			atomic_fetch_add(&t->dup_requests, 1);
			continue;
		}
		t->have_last_req = true;
		t->last_req_id = t->rx.id;
		return 0;
	}
}

uint8_t fake_mem_byte(uint64_t addr)
{
	return (uint8_t)((addr * 7u) ^ (addr >> 8) ^ 0x5A);
}

int fake_answer(fake_target *t)
{
	uint8_t out[KDCOM_MAX_PAYLOAD];
	size_t len = KD_MANIP_HEADER_SIZE;
	memcpy(out, t->rx.payload, KD_MANIP_HEADER_SIZE);
	uint32_t api = kdpkt_get32(out);
	kdpkt_put32(out + 8, KD_STATUS_SUCCESS);
	if (api == KD_API_READ_VIRTUAL_MEMORY) {
		uint64_t addr = kdpkt_get64(out + 0x10);
		uint32_t cnt = kdpkt_get32(out + 0x18);
		if (cnt > KD_MANIP_MAX_DATA)
			cnt = KD_MANIP_MAX_DATA;
		for (uint32_t i = 0; i < cnt; i++)
			out[len + i] = fake_mem_byte(addr + i);
		kdpkt_put32(out + 0x1C, cnt);
		len += cnt;
	} else if (api == KD_API_GET_VERSION) {
		memset(out + 0x10, 0, 40);
		kdpkt_put16(out + 0x10, 0x0F);
		kdpkt_put16(out + 0x12, 19041);
		out[0x14] = 6;
		out[0x15] = 2;
		kdpkt_put16(out + 0x16, KD_VERS_FLAG_DATA | KD_VERS_FLAG_PTR64);
		kdpkt_put16(out + 0x18, KD_MACHINE_AMD64);
		kdpkt_put64(out + 0x20, 0xfffff80000000000ull);
	} else {
		kdpkt_put32(out + 8, KD_STATUS_UNSUCCESSFUL);
	}
	return fake_send_data(t, KD_PACKET_TYPE_STATE_MANIPULATE, out, len);
}

void fake_serve(fake_target *t)
{
	while (!atomic_load(&t->stop) && t->fd >= 0) {
		int r = fake_recv(t, 50);
		if (r != 0)
			continue;
		if (t->rx.type != KD_PACKET_TYPE_STATE_MANIPULATE || t->rx.len < KD_MANIP_HEADER_SIZE)
			continue;
		int nreq = atomic_fetch_add(&t->requests, 1) + 1;
		if (t->reset_next_request && nreq >= 2) {
			/* throw the request away and reset the link instead */
			t->reset_next_request = false;
			atomic_fetch_sub(&t->requests, 1);
			fake_send_control(t, KD_PACKET_TYPE_RESET, 0);
			t->next_id = KDCOM_INITIAL_ID;
			t->have_last_req = false;
			t->first_req_id_after_reset = 1; /* armed */
			continue;
		}
		if (t->first_req_id_after_reset == 1)
			t->first_req_id_after_reset = t->rx.id;
		if (t->close_after_requests && nreq >= t->close_after_requests) {
			fake_close_now(t);
			return;
		}
		if (fake_answer(t) < 0)
			return;
	}
}

size_t fake_state_change(uint8_t *buf, uint32_t code, uint64_t pc)
{
	memset(buf, 0, KD_STATE_CHANGE_SIZE);
	kdpkt_put32(buf, KD_STATE_EXCEPTION);
	kdpkt_put32(buf + 8, 1);
	kdpkt_put64(buf + 0x10, 0xffffc00011112222ull);
	kdpkt_put64(buf + 0x18, pc);
	kdpkt_put32(buf + 0x20, code);
	kdpkt_put64(buf + 0x30, pc);
	kdpkt_put32(buf + 0xB8, 1);
	kdpkt_put64(buf + 0xC8, 0x400);
	kdpkt_put16(buf + 0xD4, 16);
	memset(buf + 0xD8, 0xCC, 16);
	return KD_STATE_CHANGE_SIZE;
}

size_t fake_print(uint8_t *buf, const char *text)
{
	size_t n = strlen(text);
	memset(buf, 0, KD_DEBUG_IO_HEADER_SIZE);
	kdpkt_put32(buf, KD_DEBUG_IO_PRINT_STRING);
	kdpkt_put32(buf + 8, (uint32_t)n);
	memcpy(buf + KD_DEBUG_IO_HEADER_SIZE, text, n);
	return KD_DEBUG_IO_HEADER_SIZE + n;
}

static void *thread_main(void *arg)
{
	fake_target *t = arg;
	t->script(t);
	return NULL;
}

int fake_start(fake_target *t, fake_script script, kd_stream **client)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return -1;
	t->fd = sv[1];
	t->script = script;
	kdcom_parser_init(&t->parser);
	t->next_id = KDCOM_INITIAL_ID | KDCOM_SYNC_BIT;
	if (!t->ack_wait_ms)
		t->ack_wait_ms = 200;
	if (!t->rng)
		t->rng = 12345;
	if (kd_stream_from_fd(sv[0], "socketpair", client) < 0)
		return -1;
	if (pthread_create(&t->thread, NULL, thread_main, t) != 0)
		return -1;
	return 0;
}

void fake_close_now(fake_target *t)
{
	if (t->fd >= 0) {
		int fd = t->fd;
		t->fd = -1;
		close(fd);
	}
}

void fake_stop(fake_target *t)
{
	atomic_store(&t->stop, 1);
	pthread_join(t->thread, NULL);
	fake_close_now(t);
}
