/*
 * bench_kdcom.c - encode/decode rate of the KDCOM link layer, measured in
 * one run (not a test; see docs/PERFORMANCE.md "Link layer").
 *
 *   encode: kdcom_frame (header, checksum, payload copy, trailer)
 *   decode: kdcom_parser_feed over a buffer of back-to-back frames
 *           (leader scan, header, checksum, trailer)
 *   codec:  kdpkt_encode_read_virtual + kdpkt_decode_manip of a reply
 *
 * Usage: bench_kdcom [seconds-per-case]   (default 0.3)
 */
#include "transport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static volatile uint32_t sink;

static void report(const char *what, size_t payload, double packets, double bytes, double secs)
{
	printf("%-8s %5zu B payload: %12.0f packets/s %9.1f MB/s\n", what, payload, packets / secs,
			bytes / secs / 1e6);
}

static void bench_encode(size_t len, double budget)
{
	static uint8_t payload[KDCOM_MAX_PAYLOAD], frame[KDCOM_MAX_FRAME];
	for (size_t i = 0; i < len; i++)
		payload[i] = (uint8_t)(i * 37);
	double t0 = now_s(), t;
	uint64_t n = 0;
	do {
		for (int i = 0; i < 1000; i++) {
			int k = kdcom_frame(frame, sizeof frame, KDCOM_LEADER_DATA, KD_PACKET_TYPE_STATE_MANIPULATE,
					KDCOM_INITIAL_ID | (uint32_t)(n & 1), payload, len);
			sink += (uint32_t)k + frame[12];
			n++;
		}
		t = now_s() - t0;
	} while (t < budget);
	report("encode", len, (double)n, (double)n * (double)(len + 17), t);
}

static void bench_decode(size_t len, double budget)
{
	enum { FRAMES = 64 };
	size_t flen = KDCOM_HEADER_SIZE + len + 1;
	uint8_t *buf = malloc(flen * FRAMES);
	static uint8_t payload[KDCOM_MAX_PAYLOAD];
	static kdcom_packet pkt;
	for (size_t i = 0; i < len; i++)
		payload[i] = (uint8_t)(i * 37);
	for (int i = 0; i < FRAMES; i++)
		kdcom_frame(buf + (size_t)i * flen, flen, KDCOM_LEADER_DATA, KD_PACKET_TYPE_STATE_MANIPULATE,
				KDCOM_INITIAL_ID | (uint32_t)(i & 1), payload, len);
	kdcom_parser p;
	kdcom_parser_init(&p);
	double t0 = now_s(), t;
	uint64_t n = 0;
	do {
		for (size_t i = 0; i < flen * FRAMES; i++)
			if (kdcom_parser_feed(&p, buf[i], &pkt) == KDCOM_PARSE_PACKET)
				n++;
		t = now_s() - t0;
	} while (t < budget);
	if (p.bad)
		fprintf(stderr, "decode: %llu bad frames!\n", (unsigned long long)p.bad);
	sink += pkt.payload[0];
	report("decode", len, (double)n, (double)n * (double)flen, t);
	free(buf);
}

static void bench_codec(double budget)
{
	static uint8_t req[KDCOM_MAX_PAYLOAD], reply[KDCOM_MAX_PAYLOAD];
	kdpkt_manip m;
	int rl = kdpkt_encode_read_virtual(reply, sizeof reply, 0, 0xfffff80000000000ull, 1024);
	memset(reply + rl, 0x5a, 1024);
	kdpkt_put32(reply + 0x1C, 1024);
	double t0 = now_s(), t;
	uint64_t n = 0;
	do {
		for (int i = 0; i < 1000; i++) {
			int k = kdpkt_encode_read_virtual(req, sizeof req, 0, 0xfffff80000000000ull + n, 1024);
			kdpkt_decode_manip(reply, (size_t)rl + 1024, &m);
			sink += (uint32_t)k + m.u.memory.actual_bytes;
			n++;
		}
		t = now_s() - t0;
	} while (t < budget);
	printf("codec    read request + 1 KB reply: %12.0f pairs/s\n", (double)n / t);
}

int main(int argc, char **argv)
{
	double budget = argc > 1 ? atof(argv[1]) : 0.3;
	if (budget <= 0)
		budget = 0.3;
	static const size_t sizes[] = { 56, 1024, KDCOM_MAX_PAYLOAD };
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
		bench_encode(sizes[i], budget);
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
		bench_decode(sizes[i], budget);
	bench_codec(budget);
	/* for scale: 115200 baud 8N1 carries 11520 bytes/s */
	printf("serial   115200 baud: %.4f MB/s (the line, not the code, is the limit)\n", 11520 / 1e6);
	return 0;
}
