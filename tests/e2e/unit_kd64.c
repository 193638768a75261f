/*
 * unit_kd64.c - the kd64 API client against a fake target on a socketpair
 * (a thread speaking KDCOM with the transport's framing primitives): the
 * request layouts WinDbg sends (fact sheet §7, open-points #2 and #9),
 * chunking at 3944 bytes, partial reads reported without filler bytes,
 * replies matched by ApiNumber, DbgPrint and FILE_IO arriving in the middle
 * of a request, and the per-stop memory cache of the live target.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kd64.h"
#include "target_kd.h"
#include "transport/transport.h"

static int failures;
#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #c); failures++; } } while (0)

#define MAXREQ 64
typedef struct fake {
	int fd;
	uint32_t next_id;
	/* what the client sent */
	uint8_t req[MAXREQ][KDCOM_MAX_PAYLOAD];
	size_t req_len[MAXREQ];
	uint16_t req_type[MAXREQ];
	int nreq;
	/* behaviour */
	size_t partial_at;        /* memory readable below this offset from 0x1000 */
	int send_print_first;     /* DbgPrint before the next reply */
	int send_file_io_first;   /* FILE_IO before the next reply */
	int send_stale_first;     /* a reply with another ApiNumber first */
	int file_io_answered;
	uint32_t file_io_status;
	pthread_mutex_t mu;
	int stop;
} fake;

static void put32(uint8_t *p, uint32_t v) { kdpkt_put32(p, v); }

static void fake_send(fake *f, uint32_t leader, uint16_t type, uint32_t id, const void *pl, size_t len)
{
	uint8_t frame[KDCOM_MAX_FRAME];
	int n = kdcom_frame(frame, sizeof(frame), leader, type, id, pl, len);
	if (n > 0 && write(f->fd, frame, (size_t)n) != n)
		perror("fake write");
}

static void fake_data(fake *f, uint16_t type, const void *pl, size_t len)
{
	fake_send(f, KDCOM_LEADER_DATA, type, f->next_id, pl, len);
	f->next_id ^= 1;
}

static void answer(fake *f, const uint8_t *q, size_t qlen)
{
	uint8_t r[KDCOM_MAX_PAYLOAD];
	uint32_t api = kdpkt_get32(q);
	if (f->send_print_first) {
		f->send_print_first = 0;
		uint8_t io[0x10 + 6] = { 0 };
		put32(io, 0x3230);
		put32(io + 8, 6);
		memcpy(io + 0x10, "hello\n", 6);
		fake_data(f, KD_PACKET_TYPE_DEBUG_IO, io, sizeof(io));
	}
	if (f->send_file_io_first) {
		f->send_file_io_first = 0;
		uint8_t fio[0x40 + 8] = { 0 };
		put32(fio, 0x3430);
		memcpy(fio + 0x40, "a\0b\0c\0\0\0", 8);
		fake_data(f, KD_PACKET_TYPE_FILE_IO, fio, sizeof(fio));
	}
	if (f->send_stale_first) {
		f->send_stale_first = 0;
		memset(r, 0, 0x38);
		put32(r, 0x3146);   /* a GetVersion reply nobody asked for */
		fake_data(f, KD_PACKET_TYPE_STATE_MANIPULATE, r, 0x38);
	}
	memcpy(r, q, 0x38);
	put32(r + 8, 0);
	size_t rlen = 0x38;
	switch (api) {
	case 0x3130: {          /* ReadVirtualMemory: byte i of address a is (a & 0xff) */
		uint64_t a = kdpkt_get64(q + 0x10);
		uint32_t n = kdpkt_get32(q + 0x18), got = n;
		if (f->partial_at && a + n > 0x1000 + f->partial_at)
			got = a >= 0x1000 + f->partial_at ? 0 : (uint32_t)(0x1000 + f->partial_at - a);
		for (uint32_t i = 0; i < got; i++)
			r[0x38 + i] = (uint8_t)(a + i);
		put32(r + 0x1C, got);
		if (got < n)
			put32(r + 8, 0xC0000001u);
		rlen += got;
		break;
	}
	case 0x3131:            /* WriteVirtualMemory: all written */
		put32(r + 0x1C, kdpkt_get32(q + 0x18));
		break;
	case 0x3132:            /* GetContext */
		memset(r + 0x38, 0x5a, 0x4D0);
		rlen += 0x4D0;
		break;
	case 0x3134:            /* WriteBreakPoint */
		put32(r + 0x18, 7);
		break;
	default:
		break;
	}
	(void)qlen;
	fake_data(f, KD_PACKET_TYPE_STATE_MANIPULATE, r, rlen);
}

static void *fake_main(void *arg)
{
	fake *f = arg;
	kdcom_parser ps;
	kdcom_parser_init(&ps);
	static kdcom_packet pk;
	uint8_t buf[4096];
	for (;;) {
		ssize_t n = read(f->fd, buf, sizeof(buf));
		if (n <= 0)
			return NULL;
		for (ssize_t i = 0; i < n; i++) {
			if (kdcom_parser_feed(&ps, buf[i], &pk) != KDCOM_PARSE_PACKET)
				continue;
			if (pk.leader != KDCOM_LEADER_DATA)
				continue;      /* ACKs from the client */
			fake_send(f, KDCOM_LEADER_CONTROL, KD_PACKET_TYPE_ACKNOWLEDGE, pk.id, NULL, 0);
			pthread_mutex_lock(&f->mu);
			if (f->nreq < MAXREQ) {
				memcpy(f->req[f->nreq], pk.payload, pk.len);
				f->req_len[f->nreq] = pk.len;
				f->req_type[f->nreq] = pk.type;
				f->nreq++;
			}
			pthread_mutex_unlock(&f->mu);
			if (pk.type == KD_PACKET_TYPE_FILE_IO) {
				f->file_io_answered = 1;
				f->file_io_status = kdpkt_get32(pk.payload + 4);
				continue;
			}
			if (pk.type != KD_PACKET_TYPE_STATE_MANIPULATE)
				continue;
			uint32_t api = kdpkt_get32(pk.payload);
			if (api == 0x313C || api == 0x3136 || api == 0x3149 || api == 0x313B)
				continue;      /* no reply */
			answer(f, pk.payload, pk.len);
		}
	}
}

static void print_cb(void *ctx, const char *text, size_t len)
{
	char *dst = ctx;
	strncat(dst, text, len);
}

int main(void)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return 2;
	fake *f = calloc(1, sizeof(*f));
	f->fd = sv[1];
	f->next_id = KDCOM_INITIAL_ID;
	pthread_mutex_init(&f->mu, NULL);
	pthread_t th;
	pthread_create(&th, NULL, fake_main, f);

	kd_stream *st = NULL;
	kdcom *link = NULL;
	CHECK(kd_stream_from_fd(sv[0], "fake", &st) == 0);
	CHECK(kdcom_open(st, &link) == 0);
	kd64 *k = NULL;
	CHECK(kd64_create(link, &k) == 0);
	kd64_set_timeout(k, 5000);
	char printed[256] = "";
	kd64_set_print(k, print_cb, printed);

	/* Chunking: 5000 bytes = 3944 + 1056. */
	static uint8_t buf[8192];
	size_t got = 0;
	f->nreq = 0;
	CHECK(kd64_read_virtual(k, 0, 0x10000, buf, 5000, &got) == 0 && got == 5000);
	CHECK(f->nreq == 2);
	CHECK(kdpkt_get32(f->req[0]) == 0x3130 && kdpkt_get64(f->req[0] + 0x10) == 0x10000 &&
	      kdpkt_get32(f->req[0] + 0x18) == 3944);
	CHECK(kdpkt_get64(f->req[1] + 0x10) == 0x10000 + 3944 && kdpkt_get32(f->req[1] + 0x18) == 1056);
	CHECK(kdpkt_get32(f->req[0] + 8) == 0x103);   /* STATUS_PENDING, as WinDbg */
	CHECK(buf[0] == 0x00 && buf[3944] == (uint8_t)(0x10000 + 3944) && buf[4999] == (uint8_t)(0x10000 + 4999));

	/* Partial: readable up to 0x1000+100; the rest stays untouched. */
	f->partial_at = 100;
	memset(buf, 0xEE, sizeof(buf));
	CHECK(kd64_read_virtual(k, 0, 0x1000, buf, 300, &got) == KD_E_PARTIAL);
	CHECK(got == 100 && buf[99] == 99 && buf[100] == 0xEE && buf[299] == 0xEE);
	f->partial_at = 0;

	/* GetContext: union+0 = 0, union+4 = 0x4D0 (open-points #9). */
	f->nreq = 0;
	uint8_t ctx[0x4D0];
	CHECK(kd64_get_context(k, 0, ctx, sizeof(ctx)) == 0 && ctx[0] == 0x5a);
	CHECK(f->nreq == 1 && kdpkt_get32(f->req[0]) == 0x3132 && kdpkt_get32(f->req[0] + 0x10) == 0 &&
	      kdpkt_get32(f->req[0] + 0x14) == 0x4D0);

	/* A stale reply with another ApiNumber, a DbgPrint and a FILE_IO in
	 * the middle of a request: the print goes out, FILE_IO is declined
	 * with STATUS_NO_SUCH_FILE, the right reply is still found. */
	f->send_stale_first = 1;
	f->send_print_first = 1;
	f->send_file_io_first = 1;
	uint32_t h = 0;
	CHECK(kd64_write_breakpoint(k, 0, 0xfffff80000101000ull, &h) == 0 && h == 7);
	CHECK(strcmp(printed, "hello\n") == 0);
	for (int i = 0; i < 50 && !f->file_io_answered; i++)
		usleep(10000);
	CHECK(f->file_io_answered && f->file_io_status == 0xC000000Fu);

	/* Continue2 (AMD64 ControlSet): status, TraceFlag, Dr7 u64, and no
	 * symbol range as WinDbg sends it: SymStart 1, SymEnd 0 (open-points #2). */
	f->nreq = 0;
	CHECK(kd64_continue2(k, 0, 0x10002, 1, 0x401) == 0);
	for (int i = 0; i < 50 && f->nreq < 1; i++)
		usleep(10000);
	CHECK(f->nreq == 1);
	const uint8_t *c = f->req[0];
	CHECK(kdpkt_get32(c) == 0x313C && kdpkt_get32(c + 0x10) == 0x10002 && kdpkt_get32(c + 0x14) == 1);
	CHECK(kdpkt_get64(c + 0x18) == 0x401 && kdpkt_get64(c + 0x20) == 1 && kdpkt_get64(c + 0x28) == 0);

	/* The live target's cache: a second read of the same bytes in one
	 * stop costs no request; a write invalidates it. */
	kd_target *t = NULL;
	CHECK(kd_target_kd_from_link(link, &t) == 0);
	t->stopped = 1;
	f->nreq = 0;
	uint8_t small[8];
	CHECK(kd_read(t, 0x20010, small, 8) == 0 && small[0] == 0x10);
	CHECK(kd_read(t, 0x20018, small, 8) == 0 && small[0] == 0x18);
	CHECK(f->nreq == 1);
	size_t done = 0;
	CHECK(t->ops->write_virtual(t, 0x20010, small, 1, &done) == 0);
	CHECK(kd_read(t, 0x20010, small, 8) == 0);
	CHECK(f->nreq == 3);

	/* A read over several lines is one request for all of them (an
	 * EPROCESS is ~1 KiB), and fills the lines: 0x30010+1024 needs the
	 * lines 0x30000..0x30500. */
	static uint8_t big[4096];
	f->nreq = 0;
	CHECK(kd_read(t, 0x30010, big, 1024) == 0);
	CHECK(f->nreq == 1 && kdpkt_get64(f->req[0] + 0x10) == 0x30000 &&
	      kdpkt_get32(f->req[0] + 0x18) == 0x500);
	CHECK(big[0] == 0x10 && big[1023] == (uint8_t)(0x30010 + 1023));
	CHECK(kd_read(t, 0x30300, small, 8) == 0 && small[0] == 0x00 && f->nreq == 1);
	/* Lines already cached are not asked for again: only 0x30500.. is. */
	CHECK(kd_read(t, 0x30400, big, 0x200) == 0 && big[0x1ff] == 0xff);
	CHECK(f->nreq == 2 && kdpkt_get64(f->req[1] + 0x10) == 0x30500 &&
	      kdpkt_get32(f->req[1] + 0x18) == 0x100);
	/* 3840 bytes (15 lines) is the most one request of whole lines holds. */
	f->nreq = 0;
	CHECK(kd_read(t, 0x31000, big, 3840) == 0 && f->nreq == 1);
	/* Bigger: exactly what was asked, split at 3944 by kd64, and the
	 * lines it covered are cached. */
	f->nreq = 0;
	CHECK(kd_read(t, 0x40000, big, 4000) == 0 && f->nreq == 2 &&
	      kdpkt_get32(f->req[0] + 0x18) == 3944);
	CHECK(kd_read(t, 0x40e00, small, 8) == 0 && f->nreq == 2 && small[0] == 0x00);

	/* Partial: readable below 0x1180.  A 600-byte read from 0x1010 is one
	 * request, reports the 0x170 readable bytes, leaves the rest of the
	 * buffer alone (no filler), and the cache remembers where the
	 * readable part ends. */
	f->partial_at = 0x180;
	f->nreq = 0;
	memset(big, 0xEE, sizeof(big));
	size_t pgot = 0;
	CHECK(t->ops->read_virtual(t, 0x1010, big, 600, &pgot) == KD_E_PARTIAL);
	CHECK(pgot == 0x170 && big[0x16f] == (uint8_t)(0x1010 + 0x16f) && big[0x170] == 0xEE &&
	      big[599] == 0xEE);
	CHECK(f->nreq == 1);
	CHECK(t->ops->read_virtual(t, 0x1178, big, 16, &pgot) == KD_E_PARTIAL && pgot == 8);
	CHECK(t->ops->read_virtual(t, 0x1100, big, 8, &pgot) == 0 && pgot == 8);
	CHECK(f->nreq == 1);
	f->partial_at = 0;
	t->ops->close(t);

	kd64_destroy(k);
	kdcom_close(link);
	kd_stream_close(st);
	close(sv[1]);
	pthread_join(th, NULL);
	free(f);
	if (failures) {
		fprintf(stderr, "%d check(s) failed\n", failures);
		return 1;
	}
	printf("ok\n");
	return 0;
}
