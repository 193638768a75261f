/*
 * test_streams.c - every stream kind opened for real: TCP and unix sockets
 * in both roles over loopback, and a serial port on an openpty pair.
 */
#include "transport.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

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

static int64_t ms_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read exactly n bytes within timeout. */
static int read_n(kd_stream *s, uint8_t *buf, size_t n, int timeout_ms)
{
	int64_t end = ms_now() + timeout_ms;
	size_t got = 0;
	while (got < n) {
		int left = (int)(end - ms_now());
		if (left <= 0)
			return 0;
		int r = kd_stream_read(s, buf + got, n - got, left);
		if (r < 0)
			return r;
		got += (size_t)r;
	}
	return 1;
}

/* Bytes that a cooked tty would mangle: CR/LF, ^C, XON/XOFF, 0xFF. */
static const uint8_t binary[] = { 0x30, 0x30, 0x30, 0x30, '\r', '\n', 0x03, 0x11, 0x13, 0x7F, 0xFF, 0x00,
	0x1A, 0x04, 0xAA, 0x62 };

static void exchange(kd_stream *a, kd_stream *b, const char *what)
{
	uint8_t buf[sizeof binary];
	CHECK(kd_stream_write(a, binary, sizeof binary) == 0, "%s write a: %s", what, kd_stream_errmsg(a));
	CHECK(read_n(b, buf, sizeof buf, 2000) == 1 && !memcmp(buf, binary, sizeof buf), "%s a->b bytes", what);
	CHECK(kd_stream_write(b, binary, sizeof binary) == 0, "%s write b: %s", what, kd_stream_errmsg(b));
	CHECK(read_n(a, buf, sizeof buf, 2000) == 1 && !memcmp(buf, binary, sizeof buf), "%s b->a bytes", what);
	/* nothing more to read: the deadline is honoured */
	int64_t t0 = ms_now();
	uint8_t r[64];
	int n = kd_stream_read(b, r, sizeof r, 150);
	int64_t dt = ms_now() - t0;
	/* the upper bound only rules out a hang: a loaded machine (or a
	 * sanitizer build) can oversleep poll by 100 ms */
	CHECK(n == 0 && dt >= 150 && dt < 1150, "%s idle read: %d after %lld ms", what, n, (long long)dt);
}

static void test_tcp(void)
{
	kd_connspec spec;
	char err[256];
	kd_stream *srv, *cli;
	CHECK(kd_connspec_parse("tcp-listen:127.0.0.1:1", &spec, err, sizeof err) == 0, "parse");
	spec.port = 0; /* let the OS pick a free port */
	if (kd_stream_open_spec(&spec, &srv, err, sizeof err) < 0) {
		CHECK(0, "tcp-listen: %s", err);
		return;
	}
	uint16_t port = kd_stream_spec(srv)->port;
	CHECK(port != 0, "listen port recorded");
	CHECK(strstr(kd_stream_describe(srv), "waiting"), "describe %s", kd_stream_describe(srv));
	/* nobody connected: writes vanish like on an unplugged line */
	CHECK(kd_stream_write(srv, "x", 1) == 0, "write without peer");
	char spec_s[64];
	snprintf(spec_s, sizeof spec_s, "tcp:127.0.0.1:%u", (unsigned)port);
	if (kd_stream_open(spec_s, &cli, err, sizeof err) < 0) {
		CHECK(0, "tcp connect: %s", err);
		kd_stream_close(srv);
		return;
	}
	CHECK(kd_stream_accept(srv, 2000) == 0, "accept");
	CHECK(strstr(kd_stream_describe(srv), "(connected)"), "describe %s", kd_stream_describe(srv));
	exchange(cli, srv, "tcp");

	/* the client goes away: the listener sees KDT_E_CLOSED, then takes
	 * a new client with reopen */
	kd_stream_close(cli);
	uint8_t b;
	CHECK(kd_stream_read(srv, &b, 1, 1000) == KDT_E_CLOSED, "closed peer not reported");
	kd_stream_write(srv, "x", 1); /* must not kill the process (SIGPIPE) */
	CHECK(kd_stream_open(spec_s, &cli, err, sizeof err) == 0, "reconnect: %s", err);
	CHECK(kd_stream_reopen(srv, 2000) == 0, "listener reopen: %s", kd_stream_errmsg(srv));
	exchange(cli, srv, "tcp again");
	/* client-side reopen: server keeps listening */
	CHECK(kd_stream_reopen(cli, 2000) == 0, "client reopen: %s", kd_stream_errmsg(cli));
	CHECK(kd_stream_reopen(srv, 2000) == 0, "listener takes reopened client");
	exchange(cli, srv, "tcp reopened");
	kd_stream_close(cli);
	kd_stream_close(srv);

	/* nobody listening: a clear error, no crash */
	snprintf(spec_s, sizeof spec_s, "tcp:127.0.0.1:%u", (unsigned)port);
	CHECK(kd_stream_open(spec_s, &cli, err, sizeof err) < 0 && strstr(err, "cannot connect"), "refused: %s", err);
}

static void test_unix(void)
{
	char path[128], spec_s[160], err[256];
	kd_stream *srv, *cli;
	snprintf(path, sizeof path, "/tmp/kdt-test-%d.sock", (int)getpid());
	snprintf(spec_s, sizeof spec_s, "unix-listen:%s", path);
	if (kd_stream_open(spec_s, &srv, err, sizeof err) < 0) {
		CHECK(0, "unix-listen: %s", err);
		return;
	}
	struct stat st;
	CHECK(stat(path, &st) == 0 && S_ISSOCK(st.st_mode), "socket file");
	snprintf(spec_s, sizeof spec_s, "com:pipe,port=%s,reconnect", path);
	if (kd_stream_open(spec_s, &cli, err, sizeof err) < 0) {
		CHECK(0, "unix connect: %s", err);
		kd_stream_close(srv);
		return;
	}
	CHECK(kd_stream_spec(cli)->reconnect, "reconnect flag visible");
	uint8_t b;
	/* the listener accepts lazily inside read */
	CHECK(kd_stream_read(srv, &b, 1, 100) == 0, "read before data");
	exchange(cli, srv, "unix");
	/* the listener goes away: the client sees KDT_E_CLOSED on read and
	 * on write, and the process survives (no SIGPIPE) */
	kd_stream_close(srv);
	CHECK(stat(path, &st) != 0, "socket file removed on close");
	CHECK(kd_stream_read(cli, &b, 1, 1000) == KDT_E_CLOSED, "closed listener not reported");
	int w = 0;
	for (int i = 0; i < 10 && w == 0; i++)
		w = kd_stream_write(cli, binary, sizeof binary);
	CHECK(w == KDT_E_CLOSED, "write to closed peer: %d", w);
	CHECK(kd_stream_reopen(cli, 300) == KDT_E_TIMEOUT, "reopen with nobody listening");
	kd_stream_close(cli);
	snprintf(spec_s, sizeof spec_s, "unix:%s", path);
	CHECK(kd_stream_open(spec_s, &cli, err, sizeof err) < 0 && strstr(err, path), "missing socket: %s", err);
}

static void test_serial_pty(void)
{
	int master, slave;
	char name[128], spec_s[200], err[512];
	if (openpty(&master, &slave, name, NULL, NULL) < 0) {
		CHECK(0, "openpty: %s", strerror(errno));
		return;
	}
	/* the far end is raw too (like a VM's emulated UART) */
	struct termios t;
	tcgetattr(master, &t);
	cfmakeraw(&t);
	tcsetattr(master, TCSANOW, &t);
	kd_stream *s;
	snprintf(spec_s, sizeof spec_s, "com:port=%s,baud=115200", name);
	if (kd_stream_open(spec_s, &s, err, sizeof err) < 0) {
		CHECK(0, "serial open %s: %s", spec_s, err);
		close(master);
		close(slave);
		return;
	}
	CHECK(strstr(kd_stream_describe(s), "@115200"), "describe %s", kd_stream_describe(s));
	/* our side must be raw 8N1, no flow control, whatever libserialport did */
	struct termios mine;
	CHECK(tcgetattr(kd_stream_fd(s), &mine) == 0, "tcgetattr");
	CHECK((mine.c_cflag & CSIZE) == CS8 && !(mine.c_cflag & (PARENB | CSTOPB | CRTSCTS)) &&
			!(mine.c_iflag & (IXON | IXOFF | ICRNL)) && !(mine.c_lflag & (ICANON | ECHO | ISIG)) &&
			cfgetospeed(&mine) == B115200, "not raw 8N1");
	uint8_t buf[sizeof binary];
	/* an idle line is a timeout, not a hang-up (a raw tty reads 0 bytes) */
	int64_t t0 = ms_now();
	int r0 = kd_stream_read(s, buf, 1, 200);
	CHECK(r0 == 0 && ms_now() - t0 >= 200, "idle serial read returned %d after %lld ms", r0,
			(long long)(ms_now() - t0));
	CHECK(write(master, binary, sizeof binary) == (ssize_t)sizeof binary, "write master");
	CHECK(read_n(s, buf, sizeof buf, 2000) == 1 && !memcmp(buf, binary, sizeof buf), "pty -> stream bytes");
	CHECK(kd_stream_write(s, binary, sizeof binary) == 0, "stream write: %s", kd_stream_errmsg(s));
	size_t got = 0;
	int64_t end = ms_now() + 2000;
	while (got < sizeof buf && ms_now() < end) {
		struct pollfd p = { .fd = master, .events = POLLIN };
		if (poll(&p, 1, 100) > 0) {
			ssize_t n = read(master, buf + got, sizeof buf - got);
			if (n > 0)
				got += (size_t)n;
		}
	}
	CHECK(got == sizeof buf && !memcmp(buf, binary, sizeof buf), "stream -> pty bytes (%zu)", got);
	close(slave);
	/* the far end goes away: an error, not a hang or a signal */
	close(master);
	uint8_t b;
	int r = kd_stream_read(s, &b, 1, 1000);
	CHECK(r == KDT_E_CLOSED, "pty hang-up read returned %d", r);
	kd_stream_close(s);

	snprintf(spec_s, sizeof spec_s, "serial:/nonexistent/ttyKD0@115200");
	CHECK(kd_stream_open(spec_s, &s, err, sizeof err) < 0 && strstr(err, "/nonexistent/ttyKD0"),
			"missing device: %s", err);
	CHECK(kd_stream_open("serial:/dev/null@1234567", &s, err, sizeof err) < 0, "odd baud on non-tty");
}

int main(void)
{
	test_tcp();
	printf("%s tcp\n", failures ? "FAIL" : "ok  ");
	int f = failures;
	test_unix();
	printf("%s unix\n", failures > f ? "FAIL" : "ok  ");
	f = failures;
	test_serial_pty();
	printf("%s serial-pty\n", failures > f ? "FAIL" : "ok  ");
	return failures ? 1 : 0;
}
