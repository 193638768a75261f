/*
 * test_kdpkt.c - framing and checksum vectors, the byte parser's resync,
 * connection strings, and the payload codecs' layouts and bounds checks.
 * Expected bytes are written out from the fact sheet's tables (§1, §7),
 * not produced by the code under test.
 */
#include "transport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;
#define CHECK(cond, ...)                                                          \
	do {                                                                      \
		if (!(cond)) {                                                    \
			failures++;                                               \
			fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                             \
			fputc('\n', stderr);                                      \
		}                                                                 \
	} while (0)

static void test_checksum_and_frame(void)
{
	static const uint8_t payload[] = { 0x46, 0x31, 0x00, 0x00, 0xFF, 0xFF, 0x01, 0x80 };
	/* 0x46+0x31+0xFF+0xFF+0x01+0x80 = 0x2F6 */
	CHECK(kdcom_checksum(payload, sizeof payload) == 0x2F6, "sum 0x%x", kdcom_checksum(payload, sizeof payload));
	CHECK(kdcom_checksum(NULL, 0) == 0, "empty sum");
	uint8_t big[4000];
	memset(big, 0xFF, sizeof big);
	CHECK(kdcom_checksum(big, sizeof big) == 4000u * 255u, "big sum");

	static const uint8_t want_data[] = {
		0x30, 0x30, 0x30, 0x30, 0x02, 0x00, 0x08, 0x00, 0x01, 0x00, 0x80, 0x80,
		0xF6, 0x02, 0x00, 0x00,
		0x46, 0x31, 0x00, 0x00, 0xFF, 0xFF, 0x01, 0x80, 0xAA };
	uint8_t f[64];
	int n = kdcom_frame(f, sizeof f, KDCOM_LEADER_DATA, KD_PACKET_TYPE_STATE_MANIPULATE,
			0x80800001u, payload, sizeof payload);
	CHECK(n == (int)sizeof want_data && !memcmp(f, want_data, sizeof want_data), "data frame (n=%d)", n);

	static const uint8_t want_ack[] = {
		0x69, 0x69, 0x69, 0x69, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x80,
		0x00, 0x00, 0x00, 0x00 };
	n = kdcom_frame(f, sizeof f, KDCOM_LEADER_CONTROL, KD_PACKET_TYPE_ACKNOWLEDGE, 0x80800000u, NULL, 0);
	CHECK(n == 16 && !memcmp(f, want_ack, 16), "ack frame");
	CHECK(kdcom_frame(f, sizeof f, KDCOM_LEADER_CONTROL, 4, 0, payload, 1) == KDT_E_INVAL, "control with payload");
	CHECK(kdcom_frame(f, 10, KDCOM_LEADER_DATA, 2, 0, payload, 8) == KDT_E_NOSPACE, "small buffer");
	CHECK(kdcom_frame(f, sizeof f, 0x12345678, 2, 0, payload, 8) == KDT_E_INVAL, "bad leader");
	static uint8_t huge[KDCOM_MAX_FRAME + 8];
	CHECK(kdcom_frame(huge, sizeof huge, KDCOM_LEADER_DATA, 2, 0, big, 4001) == KDT_E_INVAL, "4001 bytes");
	CHECK(kdcom_frame(huge, sizeof huge, KDCOM_LEADER_DATA, 2, 0, big, 4000) == KDCOM_MAX_FRAME, "4000 bytes");
}

/* Feed bytes; count packets / bad results. */
static int feed(kdcom_parser *p, const uint8_t *b, size_t n, kdcom_packet *out, int *bad)
{
	int pk = 0;
	for (size_t i = 0; i < n; i++) {
		kdcom_parse_result r = kdcom_parser_feed(p, b[i], out);
		if (r == KDCOM_PARSE_PACKET)
			pk++;
		if (r == KDCOM_PARSE_BAD && bad)
			(*bad)++;
	}
	return pk;
}

static void test_parser(void)
{
	static const uint8_t payload[] = "hello kd";
	uint8_t f[64], stream[256];
	kdcom_parser p;
	kdcom_packet *pkt = malloc(sizeof *pkt);
	int bad = 0;
	int n = kdcom_frame(f, sizeof f, KDCOM_LEADER_DATA, 3, 0x80800800u, payload, 8);

	/* garbage, including broken leaders, before a good frame */
	size_t k = 0;
	const uint8_t junk[] = { 0x00, 0x30, 0x30, 0x30, 0x69, 0x69, 0x69, 0x30, 0x30, 0xAA, 0x62 };
	memcpy(stream, junk, sizeof junk);
	k = sizeof junk;
	memcpy(stream + k, f, (size_t)n);
	k += (size_t)n;
	kdcom_parser_init(&p);
	CHECK(feed(&p, stream, k, pkt, &bad) == 1 && bad == 0, "frame after garbage");
	CHECK(pkt->type == 3 && pkt->len == 8 && pkt->id == 0x80800800u && !memcmp(pkt->payload, payload, 8),
			"fields");
	CHECK(p.garbage >= 9, "garbage counted %llu", (unsigned long long)p.garbage);

	/* mixed leader: "000" then "0000" must still find the frame */
	stream[0] = 0x30; stream[1] = 0x30; stream[2] = 0x69;
	memcpy(stream + 3, f, (size_t)n);
	kdcom_parser_init(&p);
	CHECK(feed(&p, stream, 3 + (size_t)n, pkt, &bad) == 1, "mixed leader restart");

	/* flipped payload byte -> BAD; wrong trailer -> BAD */
	memcpy(stream, f, (size_t)n);
	stream[20] ^= 1;
	kdcom_parser_init(&p);
	bad = 0;
	CHECK(feed(&p, stream, (size_t)n, pkt, &bad) == 0 && bad == 1, "bad checksum");
	memcpy(stream, f, (size_t)n);
	stream[n - 1] = 0xAB;
	kdcom_parser_init(&p);
	bad = 0;
	CHECK(feed(&p, stream, (size_t)n, pkt, &bad) == 0 && bad == 1, "bad trailer");
	/* after a bad frame the next good one parses */
	CHECK(feed(&p, f, (size_t)n, pkt, &bad) == 1, "recovery after bad frame");

	/* ByteCount > 4000 is dropped and rescanned */
	memcpy(stream, f, (size_t)n);
	kdpkt_put16(stream + 6, 4001);
	kdcom_parser_init(&p);
	bad = 0;
	CHECK(feed(&p, stream, 16, pkt, &bad) == 0 && bad == 1, "oversize header");
	CHECK(feed(&p, f, (size_t)n, pkt, &bad) == 1, "good frame after oversize");

	/* control packet: no trailer, returned as is */
	n = kdcom_frame(f, sizeof f, KDCOM_LEADER_CONTROL, KD_PACKET_TYPE_RESET, 0, NULL, 0);
	kdcom_parser_init(&p);
	CHECK(feed(&p, f, (size_t)n, pkt, NULL) == 1 && pkt->type == KD_PACKET_TYPE_RESET &&
			pkt->leader == KDCOM_LEADER_CONTROL, "control packet");
	/* breakin byte between packets is reported */
	kdcom_parser_init(&p);
	CHECK(kdcom_parser_feed(&p, 0x62, pkt) == KDCOM_PARSE_BREAKIN, "breakin");
	free(pkt);
}

static void test_connspec(void)
{
	kd_connspec c;
	char err[512], buf[400];
	CHECK(kd_connspec_parse("com:port=/dev/ttyS0,baud=115200", &c, err, sizeof err) == 0 &&
			c.kind == KD_CONN_SERIAL && !strcmp(c.path, "/dev/ttyS0") && c.baud == 115200, "com serial: %s", err);
	CHECK(kd_connspec_parse("com:port=/dev/ttyS1", &c, err, sizeof err) == 0 && c.baud == KD_DEFAULT_BAUD,
			"default baud");
	CHECK(kd_connspec_parse("com:pipe,port=/tmp/kd.sock,reconnect,resets=0", &c, err, sizeof err) == 0 &&
			c.kind == KD_CONN_UNIX && !strcmp(c.path, "/tmp/kd.sock") && c.reconnect && c.resets == 0,
			"com pipe: %s", err);
	CHECK(kd_connspec_parse("com:pipe,port=/tmp/kd.sock", &c, err, sizeof err) == 0 && !c.reconnect &&
			c.resets == -1, "pipe defaults");
	CHECK(kd_connspec_parse("com:ipport=4445,port=127.0.0.1", &c, err, sizeof err) == 0 &&
			c.kind == KD_CONN_TCP && !strcmp(c.host, "127.0.0.1") && c.port == 4445, "com ipport: %s", err);
	CHECK(kd_connspec_parse("serial:/dev/ttyUSB0@57600", &c, err, sizeof err) == 0 &&
			c.kind == KD_CONN_SERIAL && !strcmp(c.path, "/dev/ttyUSB0") && c.baud == 57600, "serial@");
	CHECK(kd_connspec_parse("serial:/dev/ttyUSB0", &c, err, sizeof err) == 0 && c.baud == 115200, "serial");
	CHECK(kd_connspec_parse("tcp:localhost:4445", &c, err, sizeof err) == 0 && c.kind == KD_CONN_TCP &&
			!strcmp(c.host, "localhost") && c.port == 4445, "tcp");
	CHECK(kd_connspec_parse("tcp:[::1]:99,reconnect", &c, err, sizeof err) == 0 && !strcmp(c.host, "::1") &&
			c.port == 99 && c.reconnect, "tcp v6: %s", err);
	CHECK(kd_connspec_parse("tcp-listen:4445", &c, err, sizeof err) == 0 && c.kind == KD_CONN_TCP_LISTEN &&
			!strcmp(c.host, "127.0.0.1") && c.port == 4445, "tcp-listen default addr");
	CHECK(kd_connspec_parse("tcp-listen:0.0.0.0:5000", &c, err, sizeof err) == 0 && !strcmp(c.host, "0.0.0.0") &&
			c.port == 5000, "tcp-listen addr");
	CHECK(kd_connspec_parse("unix:/tmp/a", &c, err, sizeof err) == 0 && c.kind == KD_CONN_UNIX, "unix");
	CHECK(kd_connspec_parse("unix-listen:/tmp/a", &c, err, sizeof err) == 0 && c.kind == KD_CONN_UNIX_LISTEN,
			"unix-listen");
	CHECK(kd_connspec_format(&c, buf, sizeof buf) > 0 && !strcmp(buf, "unix-listen:/tmp/a"), "format %s", buf);

	static const char *const bad[] = {
		"", "foo", "tcp:host", "tcp:host:0", "tcp:host:70000", "tcp:host:12x", "tcp-listen:abc",
		"serial:", "serial:/dev/ttyS0@fast", "com:", "com:baud=9600", "com:port=/dev/x,baud=0",
		"com:ipport=99999,port=h", "com:port=/x,bogus", "com:pipe,port=/x,resets=many", "unix:",
		"tcp:h:1,nonsense",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = 0;
		int r = kd_connspec_parse(bad[i], &c, err, sizeof err);
		CHECK(r == KDT_E_INVAL && err[0] && !strchr(err, '\n'), "'%s' accepted or no one-line message (%s)",
				bad[i], err);
	}
	kd_connspec_parse("nonsense:x", &c, err, sizeof err);
	CHECK(strstr(err, "tcp:HOST:PORT") && strstr(err, "com:port="), "message lists forms: %s", err);
}

static void test_encoders(void)
{
	uint8_t b[KDCOM_MAX_PAYLOAD];
	int n = kdpkt_encode_read_virtual(b, sizeof b, 1, 0xfffff80012345678ull, 0x80);
	CHECK(n == 0x38 && kdpkt_get32(b) == 0x3130 && kdpkt_get16(b + 6) == 1 &&
			kdpkt_get32(b + 8) == KD_STATUS_PENDING && kdpkt_get64(b + 0x10) == 0xfffff80012345678ull &&
			kdpkt_get32(b + 0x18) == 0x80, "read virtual");
	CHECK(kdpkt_encode_read_virtual(b, sizeof b, 0, 0, 3945) == KDT_E_INVAL, "read > 3944");
	CHECK(kdpkt_encode_read_virtual(b, 10, 0, 0, 4) == KDT_E_NOSPACE, "small buffer");
	uint8_t data[4] = { 1, 2, 3, 4 };
	n = kdpkt_encode_write_virtual(b, sizeof b, 0, 0x1000, data, 4);
	CHECK(n == 0x3C && kdpkt_get32(b) == 0x3131 && !memcmp(b + 0x38, data, 4), "write virtual");
	n = kdpkt_encode_read_physical(b, sizeof b, 0, 0x2000, 8, 2);
	CHECK(n == 0x38 && kdpkt_get32(b) == 0x313D && kdpkt_get32(b + 0x1C) == 2, "physical caching flag");
	n = kdpkt_encode_get_context(b, sizeof b, 0, KD_CONTEXT_SIZE_AMD64);
	CHECK(n == 0x38 && kdpkt_get32(b) == 0x3132 && kdpkt_get32(b + 0x10) == 0 && kdpkt_get32(b + 0x14) == 0x4D0,
			"get context");
	static uint8_t ctx[KD_CONTEXT_SIZE_AMD64];
	n = kdpkt_encode_set_context(b, sizeof b, 0, 0x10001F, ctx, sizeof ctx);
	CHECK(n == 0x38 + 0x4D0 && kdpkt_get32(b + 0x10) == 0x10001F, "set context");
	kdpkt_continue2 c2 = { KD_DBG_CONTINUE, 1, 0x401, 1, 0 };
	n = kdpkt_encode_continue2(b, sizeof b, 0, KD_MACHINE_AMD64, &c2);
	CHECK(n == 0x38 && kdpkt_get32(b + 0x10) == KD_DBG_CONTINUE && kdpkt_get32(b + 0x14) == 1 &&
			kdpkt_get64(b + 0x18) == 0x401 && kdpkt_get64(b + 0x20) == 1 && kdpkt_get64(b + 0x28) == 0,
			"continue2 x64");
	n = kdpkt_encode_continue2(b, sizeof b, 0, KD_MACHINE_I386, &c2);
	CHECK(n == 0x38 && kdpkt_get32(b + 0x14) == 1 && kdpkt_get32(b + 0x18) == 0x401 &&
			kdpkt_get32(b + 0x1C) == 1 && kdpkt_get32(b + 0x20) == 0 && kdpkt_get32(b + 0x24) == 0,
			"continue2 x86");
	CHECK(kdpkt_encode_continue2(b, sizeof b, 0, 0x1234, &c2) == KDT_E_INVAL, "continue2 bad machine");
	n = kdpkt_encode_write_msr(b, sizeof b, 0, 0xC0000082, 0x1122334455667788ull);
	CHECK(n == 0x38 && kdpkt_get32(b) == 0x3153 && kdpkt_get32(b + 0x10) == 0xC0000082 &&
			kdpkt_get32(b + 0x14) == 0x55667788 && kdpkt_get32(b + 0x18) == 0x11223344, "write msr");
	kdpkt_manip m;
	CHECK(kdpkt_decode_manip(b, (size_t)n, &m) == 0 && m.u.msr.value == 0x1122334455667788ull, "msr roundtrip");
	n = kdpkt_encode_write_breakpoint(b, sizeof b, 0, 0xfffff80000001000ull);
	CHECK(n == 0x38 && kdpkt_get32(b) == 0x3134 && kdpkt_get64(b + 0x10) == 0xfffff80000001000ull, "bp");
	n = kdpkt_encode_restore_breakpoint(b, sizeof b, 0, 7);
	CHECK(n == 0x38 && kdpkt_get32(b) == 0x3135 && kdpkt_get32(b + 0x10) == 7, "restore bp");
	CHECK(kdpkt_encode_switch_processor(b, sizeof b, 3) == 0x38 && kdpkt_get16(b + 6) == 3 &&
			kdpkt_get32(b) == 0x3150, "switch processor");
	CHECK(kdpkt_encode_reboot(b, sizeof b) == 0x38 && kdpkt_get32(b) == 0x313B, "reboot");
	CHECK(kdpkt_encode_cause_bugcheck(b, sizeof b) == 0x38 && kdpkt_get32(b) == 0x3149, "bugcheck");
	CHECK(kdpkt_encode_get_context_ex(b, sizeof b, 0, 0x100, 0x200) == 0x38 && kdpkt_get32(b) == 0x315F &&
			kdpkt_get32(b + 0x10) == 0x100 && kdpkt_get32(b + 0x14) == 0x200, "get context ex");
	CHECK(kdpkt_encode_read_msr(b, sizeof b, 0, 0x10) == 0x38 && kdpkt_get32(b) == 0x3152, "read msr");
	CHECK(kdpkt_encode_continue(b, sizeof b, 0, KD_DBG_CONTINUE) == 0x38 && kdpkt_get32(b + 0x10) == 0x10002,
			"continue");
	CHECK(kdpkt_encode_read_control(b, sizeof b, 1, 2, 0xE0) == 0x38 && kdpkt_get32(b) == 0x3137, "read ctl");
	CHECK(kdpkt_encode_write_control(b, sizeof b, 1, 2, ctx, 0xE0) == 0x38 + 0xE0, "write ctl");
}

static void test_decoders_bounds(void)
{
	uint8_t b[0x200];
	memset(b, 0, sizeof b);
	kdpkt_manip m;
	kdpkt_state_change sc;
	kdpkt_debug_io io;
	kdpkt_file_io fio;
	kdpkt_version v;
	CHECK(kdpkt_decode_manip(b, 0x37, &m) == KDT_E_PROTO, "short manip");
	CHECK(kdpkt_decode_version(b, 0x27, &v) == KDT_E_PROTO, "short version");
	CHECK(kdpkt_decode_state_change(b, 0xEF, KD_MACHINE_AMD64, &sc) == KDT_E_PROTO, "short x64 sc");
	kdpkt_put32(b, KD_STATE_EXCEPTION);
	CHECK(kdpkt_decode_state_change(b, 0xE8, KD_MACHINE_I386, &sc) == 0, "x86 sc min size");
	CHECK(kdpkt_decode_debug_io(b, 15, &io) == KDT_E_PROTO, "short debug io");
	CHECK(kdpkt_decode_file_io(b, 63, &fio) == KDT_E_PROTO, "short file io");

	/* LoadSymbols whose PathNameLength points outside the packet */
	kdpkt_put32(b, KD_STATE_LOAD_SYMBOLS);
	kdpkt_put32(b + 0x20, 0x1000);
	CHECK(kdpkt_decode_state_change(b, 0xF8, KD_MACHINE_AMD64, &sc) == KDT_E_PROTO, "path length lie");
	kdpkt_put32(b + 0x20, 6);
	memcpy(b + 0xF2, "a.sys", 6);
	CHECK(kdpkt_decode_state_change(b, 0xF8, KD_MACHINE_AMD64, &sc) == 0 && !strcmp(sc.path, "a.sys"),
			"path from the end: '%s'", sc.path);

	/* PrintString claiming more text than present: clamped */
	memset(b, 0, 0x20);
	kdpkt_put32(b, KD_DEBUG_IO_PRINT_STRING);
	kdpkt_put32(b + 8, 1000);
	memcpy(b + 16, "abc", 3);
	CHECK(kdpkt_decode_debug_io(b, 19, &io) == 0 && io.text_len == 3, "clamped text %zu", io.text_len);

	/* x86 control report layout */
	memset(b, 0, sizeof b);
	kdpkt_put32(b, KD_STATE_EXCEPTION);
	kdpkt_put32(b + 0xC0, 0xFFFF0FF0);
	kdpkt_put32(b + 0xC4, 0x400);
	kdpkt_put16(b + 0xC8, 16);
	b[0xCC] = 0xCC;
	kdpkt_put16(b + 0xDC, 0x08);
	kdpkt_put32(b + 0xE4, 0x246);
	CHECK(kdpkt_guess_state_change_machine(b, 0xF0) == KD_MACHINE_I386, "guess x86");
	CHECK(kdpkt_decode_state_change(b, 0xF0, KD_MACHINE_I386, &sc) == 0 && sc.report.dr7 == 0x400 &&
			sc.report.eflags == 0x246 && sc.report.seg_cs == 8 && sc.report.instruction_stream[0] == 0xCC,
			"x86 report");

	/* GetString reply */
	memset(b, 0, 0x20);
	kdpkt_put32(b, KD_DEBUG_IO_GET_STRING);
	kdpkt_put32(b + 8, 3);
	kdpkt_put32(b + 12, 4);
	memcpy(b + 16, "kd>", 3);
	CHECK(kdpkt_decode_debug_io(b, 19, &io) == 0 && io.length_read == 4, "get string");
	uint8_t out[64];
	int n = kdpkt_encode_get_string_reply(out, sizeof out, &io, "hello", 5);
	CHECK(n == 16 + 4 && kdpkt_get32(out + 12) == 4 && !memcmp(out + 16, "hell", 4), "answer clamped to max");

	/* FILE_IO decline and UTF-16 name */
	memset(b, 0, 0x80);
	kdpkt_put32(b, KD_FILE_IO_CREATE);
	kdpkt_put32(b + 8, 0x120089);
	const char *name = "\\a\xe9.sys"; /* é as one UTF-16 unit */
	for (int i = 0; name[i]; i++)
		kdpkt_put16(b + 0x40 + 2 * i, (uint8_t)name[i]);
	CHECK(kdpkt_decode_file_io(b, 0x40 + 14, &fio) == 0 && !strcmp(fio.name, "\\a\xc3\xa9.sys") &&
			fio.u.create.desired_access == 0x120089, "file io name '%s'", fio.name);
	n = kdpkt_encode_file_io_decline(out, sizeof out, b, 0x40 + 14);
	CHECK(n == 64 && kdpkt_get32(out + 4) == KD_STATUS_NO_SUCH_FILE && kdpkt_get32(out + 8) == 0x120089,
			"decline");
	CHECK(!strcmp(kdpkt_api_name(KD_API_GET_VERSION), "GetVersion") && !strcmp(kdpkt_type_name(7), "STATE_CHANGE64"),
			"names");
}

/* Random bytes of every length through every decoder, each in a buffer of
 * exactly that size, so a sanitizer build catches any read past the end. */
static void test_random_input(void)
{
	unsigned seed = 99;
	kdcom_packet *pkt = malloc(sizeof *pkt);
	kdcom_parser p;
	kdcom_parser_init(&p);
	for (int round = 0; round < 20000; round++) {
		size_t len = (size_t)(round % 400);
		uint8_t *b = malloc(len ? len : 1);
		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			b[i] = (uint8_t)(seed >> 16);
		}
		if (len >= 4 && round % 3 == 0)
			kdpkt_put32(b, KD_STATE_LOAD_SYMBOLS);
		if (len >= 0x24 && round % 6 == 0)
			kdpkt_put32(b + 0x20, (uint32_t)(len - 0xF0 + (round % 5)));
		kdpkt_manip m;
		kdpkt_state_change sc;
		kdpkt_debug_io io;
		kdpkt_file_io f;
		kdpkt_version v;
		kdpkt_decode_manip(b, len, &m);
		kdpkt_decode_state_change(b, len, KD_MACHINE_AMD64, &sc);
		kdpkt_decode_state_change(b, len, KD_MACHINE_I386, &sc);
		kdpkt_guess_state_change_machine(b, len);
		if (kdpkt_decode_debug_io(b, len, &io) == 0)
			CHECK(io.text + io.text_len <= b + len, "debug io text past the end");
		kdpkt_decode_file_io(b, len, &f);
		kdpkt_decode_version(b, len, &v);
		for (size_t i = 0; i < len; i++)
			kdcom_parser_feed(&p, b[i], pkt);
		free(b);
	}
	free(pkt);
}

int main(void)
{
	test_checksum_and_frame();
	test_parser();
	test_connspec();
	test_encoders();
	test_decoders_bounds();
	test_random_input();
	if (failures)
		fprintf(stderr, "%d failures\n", failures);
	else
		printf("ok\n");
	return failures ? 1 : 0;
}
