/*
 * stream.c - one byte-stream interface over serial ports, TCP and unix
 * sockets (client and listen roles).
 *
 * All I/O goes through a non-blocking descriptor and poll(), so every read
 * has a deadline and a vanished peer shows up as KDT_E_CLOSED instead of a
 * signal or a hang. SIGPIPE is avoided with MSG_NOSIGNAL on sockets.
 */
#include "transport.h"
#include "stream_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static const char *const error_names[] = {
	[0] = "success",
	[1] = "I/O error",
	[2] = "timeout",
	[3] = "peer closed the connection",
	[6] = "invalid argument",
	[20] = "protocol error",
	[21] = "buffer too small",
	[22] = "out of memory",
	[23] = "link was reset",
};

const char *kdt_strerror(int code)
{
	int i = -code;
	if (i < 0 || i >= (int)(sizeof error_names / sizeof error_names[0]) || !error_names[i])
		return "unknown error";
	return error_names[i];
}

int kdt_stream_fail(kd_stream *s, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->err, sizeof s->err, fmt, ap);
	va_end(ap);
	return code;
}

int64_t kdt_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -1;
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	return 0;
}

/* Wait for `events` on fd until the deadline (-1 = none). 1 ready,
 * 0 timeout, <0 error. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		int t = -1;
		if (deadline >= 0) {
			int64_t left = deadline - kdt_now_ms();
			t = left < 0 ? 0 : (left > 1000000 ? 1000000 : (int)left);
		}
		struct pollfd pfd = { .fd = fd, .events = events };
		int r = poll(&pfd, 1, t);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		return r > 0;
	}
}

/* ---------------- sockets ---------------- */

static int tcp_connect(kd_stream *s, int64_t deadline)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL, *ai;
	char port[8];
	int fd = -1, last_errno = 0;

	snprintf(port, sizeof port, "%u", (unsigned)s->spec.port);
	int g = getaddrinfo(s->spec.host, port, &hints, &res);
	if (g)
		return kdt_stream_fail(s, KDT_E_IO, "tcp:%s:%s: cannot resolve host: %s",
				s->spec.host, port, gai_strerror(g));
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
		if (fd < 0) {
			last_errno = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS) {
			int w = wait_fd(fd, POLLOUT, deadline);
			int soerr = 0;
			socklen_t sl = sizeof soerr;
			if (w > 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0)
				break;
			last_errno = w == 0 ? ETIMEDOUT : (soerr ? soerr : errno);
		} else {
			last_errno = errno;
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return kdt_stream_fail(s, last_errno == ETIMEDOUT ? KDT_E_TIMEOUT : KDT_E_IO,
				"tcp:%s:%u: cannot connect: %s", s->spec.host, (unsigned)s->spec.port,
				strerror(last_errno));
	int one = 1;
	/* KD is request/reply with small packets: Nagle only adds latency */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	s->fd = fd;
	return 0;
}

static int tcp_listen(kd_stream *s)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE };
	struct addrinfo *res = NULL;
	char port[8];
	snprintf(port, sizeof port, "%u", (unsigned)s->spec.port);
	int g = getaddrinfo(s->spec.host[0] ? s->spec.host : NULL, port, &hints, &res);
	if (g)
		return kdt_stream_fail(s, KDT_E_IO, "tcp-listen:%s:%s: cannot resolve address: %s",
				s->spec.host, port, gai_strerror(g));
	int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int one = 1;
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 1) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		freeaddrinfo(res);
		return kdt_stream_fail(s, KDT_E_IO, "tcp-listen:%s:%s: cannot listen: %s",
				s->spec.host, port, strerror(e));
	}
	freeaddrinfo(res);
	/* port 0 asks the OS for one: record which (tests use this) */
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
		if (ss.ss_family == AF_INET)
			s->spec.port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		else if (ss.ss_family == AF_INET6)
			s->spec.port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	s->listen_fd = fd;
	return 0;
}

static int unix_addr(kd_stream *s, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	if (strlen(s->spec.path) >= sizeof sa->sun_path)
		return kdt_stream_fail(s, KDT_E_INVAL, "unix socket path too long: %s", s->spec.path);
	memcpy(sa->sun_path, s->spec.path, strlen(s->spec.path));
	return 0;
}

static int unix_connect(kd_stream *s)
{
	struct sockaddr_un sa;
	int r = unix_addr(s, &sa);
	if (r)
		return r;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return kdt_stream_fail(s, KDT_E_IO, "unix:%s: socket: %s", s->spec.path, strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 && errno != EINPROGRESS) {
		int e = errno;
		close(fd);
		return kdt_stream_fail(s, KDT_E_IO, "unix:%s: cannot connect: %s%s", s->spec.path,
				strerror(e),
				e == ENOENT || e == ECONNREFUSED ? " (is the VM running with its COM port on this socket?)" : "");
	}
	s->fd = fd;
	return 0;
}

static int unix_listen(kd_stream *s)
{
	struct sockaddr_un sa;
	struct stat st;
	int r = unix_addr(s, &sa);
	if (r)
		return r;
	/* a stale socket from an earlier run would make bind fail; only ever
	 * remove a socket, never a regular file someone pointed us at */
	if (lstat(s->spec.path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(s->spec.path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 1) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return kdt_stream_fail(s, KDT_E_IO, "unix-listen:%s: cannot listen: %s", s->spec.path, strerror(e));
	}
	s->listen_fd = fd;
	s->unlink_on_close = true;
	return 0;
}

static bool is_listener(const kd_stream *s)
{
	return s->spec.kind == KD_CONN_TCP_LISTEN || s->spec.kind == KD_CONN_UNIX_LISTEN;
}

static int connect_client(kd_stream *s, int64_t deadline)
{
	switch (s->spec.kind) {
	case KD_CONN_TCP:
		return tcp_connect(s, deadline);
	case KD_CONN_UNIX:
		return unix_connect(s);
	case KD_CONN_SERIAL:
		return kdt_serial_open(s);
	default:
		return kdt_stream_fail(s, KDT_E_INVAL, "cannot connect this kind of stream");
	}
}

/* ---------------- public API ---------------- */

static kd_stream *stream_new(const kd_connspec *spec)
{
	kd_stream *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->spec = *spec;
	s->fd = -1;
	s->listen_fd = -1;
	return s;
}

int kd_stream_open_spec(const kd_connspec *spec, kd_stream **out, char *err, size_t errlen)
{
	int r;
	*out = NULL;
	kd_stream *s = stream_new(spec);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return KDT_E_NOMEM;
	}
	if (is_listener(s))
		r = s->spec.kind == KD_CONN_TCP_LISTEN ? tcp_listen(s) : unix_listen(s);
	else
		r = connect_client(s, kdt_now_ms() + 10000);
	if (r < 0) {
		if (err && errlen)
			snprintf(err, errlen, "%s", s->err);
		kd_stream_close(s);
		return r;
	}
	*out = s;
	return 0;
}

int kd_stream_open(const char *spec, kd_stream **out, char *err, size_t errlen)
{
	kd_connspec c;
	*out = NULL;
	int r = kd_connspec_parse(spec, &c, err, errlen);
	if (r < 0)
		return r;
	return kd_stream_open_spec(&c, out, err, errlen);
}

int kd_stream_from_fd(int fd, const char *desc, kd_stream **out)
{
	kd_connspec c;
	memset(&c, 0, sizeof c);
	c.kind = KD_CONN_FD;
	c.resets = -1;
	snprintf(c.path, sizeof c.path, "%s", desc ? desc : "fd");
	*out = NULL;
	if (fd < 0)
		return KDT_E_INVAL;
	kd_stream *s = stream_new(&c);
	if (!s)
		return KDT_E_NOMEM;
	set_nonblock(fd);
	s->fd = fd;
	*out = s;
	return 0;
}

static void drop_peer(kd_stream *s)
{
	if (s->spec.kind == KD_CONN_SERIAL) {
		kdt_serial_close(s);  /* owns the descriptor */
	} else if (s->fd >= 0) {
		close(s->fd);
	}
	s->fd = -1;
}

int kd_stream_accept(kd_stream *s, int timeout_ms)
{
	if (!is_listener(s) || s->fd >= 0)
		return 0;
	int64_t deadline = timeout_ms < 0 ? -1 : kdt_now_ms() + timeout_ms;
	for (;;) {
		int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd >= 0) {
			int one = 1;
			if (s->spec.kind == KD_CONN_TCP_LISTEN)
				setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
			s->fd = fd;
			return 0;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
			return kdt_stream_fail(s, KDT_E_IO, "accept: %s", strerror(errno));
		int w = wait_fd(s->listen_fd, POLLIN, deadline);
		if (w < 0)
			return kdt_stream_fail(s, KDT_E_IO, "poll: %s", strerror(errno));
		if (w == 0)
			return kdt_stream_fail(s, KDT_E_TIMEOUT, "%s: no peer connected yet",
					kd_stream_describe(s));
	}
}

int kd_stream_read(kd_stream *s, void *buf, size_t len, int timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? -1 : kdt_now_ms() + timeout_ms;
	if (len == 0)
		return 0;
	if (s->fd < 0) {
		if (!is_listener(s))
			return kdt_stream_fail(s, KDT_E_CLOSED, "%s: not connected", kd_stream_describe(s));
		int a = kd_stream_accept(s, timeout_ms);
		if (a == KDT_E_TIMEOUT)
			return 0;
		if (a < 0)
			return a;
	}
	for (;;) {
		ssize_t n = read(s->fd, buf, len);
		if (n > 0)
			return (int)(n > INT32_MAX ? INT32_MAX : n);
		if (n == 0 && s->spec.kind == KD_CONN_SERIAL) {
			/* a tty in raw mode may read 0 for "no data" as well as
			 * for a hang-up: only POLLHUP tells them apart */
			struct pollfd pfd = { .fd = s->fd, .events = POLLIN };
			if (poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLHUP | POLLERR)))
				return kdt_stream_fail(s, KDT_E_CLOSED, "%s: line hung up",
						kd_stream_describe(s));
			errno = EAGAIN;
			n = -1;
		} else if (n == 0) {
			return kdt_stream_fail(s, KDT_E_CLOSED, "%s: peer closed the connection",
					kd_stream_describe(s));
		}
		if (errno == EIO && s->spec.kind != KD_CONN_FD && s->spec.kind != KD_CONN_SERIAL)
			return kdt_stream_fail(s, KDT_E_IO, "read: %s", strerror(errno));
		if (errno == EIO || errno == ECONNRESET || errno == EPIPE)
			/* a pty whose other side closed reads EIO: same as a hang-up */
			return kdt_stream_fail(s, KDT_E_CLOSED, "%s: connection lost (%s)",
					kd_stream_describe(s), strerror(errno));
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return kdt_stream_fail(s, KDT_E_IO, "read: %s", strerror(errno));
		int w = wait_fd(s->fd, POLLIN, deadline);
		if (w < 0)
			return kdt_stream_fail(s, KDT_E_IO, "poll: %s", strerror(errno));
		if (w == 0)
			return 0;
	}
}

int kd_stream_write(kd_stream *s, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	if (s->fd < 0) {
		if (is_listener(s)) {
			/* pick up a peer that is already waiting, else behave like an
			 * unplugged serial line: the bytes are lost */
			kd_stream_accept(s, 0);
			if (s->fd < 0)
				return 0;
		} else {
			return kdt_stream_fail(s, KDT_E_CLOSED, "%s: not connected", kd_stream_describe(s));
		}
	}
	while (len) {
		ssize_t n;
		if (s->spec.kind == KD_CONN_SERIAL)
			n = write(s->fd, p, len);
		else
			n = send(s->fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && s->spec.kind == KD_CONN_FD && errno == ENOTSOCK)
			n = write(s->fd, p, len);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
			/* a stuck peer must not hang us forever either */
			int w = wait_fd(s->fd, POLLOUT, kdt_now_ms() + 10000);
			if (w == 0)
				return kdt_stream_fail(s, KDT_E_TIMEOUT, "%s: write blocked for 10 s",
						kd_stream_describe(s));
			if (w < 0)
				return kdt_stream_fail(s, KDT_E_IO, "poll: %s", strerror(errno));
			continue;
		}
		if (n < 0 && (errno == EPIPE || errno == ECONNRESET || errno == EIO))
			return kdt_stream_fail(s, KDT_E_CLOSED, "%s: peer closed the connection",
					kd_stream_describe(s));
		return kdt_stream_fail(s, KDT_E_IO, "write: %s", n < 0 ? strerror(errno) : "wrote nothing");
	}
	return 0;
}

int kd_stream_reopen(kd_stream *s, int timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? -1 : kdt_now_ms() + timeout_ms;
	drop_peer(s);
	if (s->spec.kind == KD_CONN_FD)
		return kdt_stream_fail(s, KDT_E_CLOSED, "%s: cannot reopen a wrapped descriptor",
				kd_stream_describe(s));
	if (is_listener(s))
		return kd_stream_accept(s, timeout_ms);
	for (;;) {
		int r = connect_client(s, deadline);
		if (r == 0)
			return 0;
		int64_t now = kdt_now_ms();
		if (deadline >= 0 && now >= deadline)
			return r == KDT_E_TIMEOUT ? r : kdt_stream_fail(s, KDT_E_TIMEOUT, "%s (gave up reconnecting)", s->err);
		/* the VM is restarting: try again shortly */
		struct timespec ts = { 0, 200 * 1000000L };
		nanosleep(&ts, NULL);
	}
}

void kd_stream_drain(kd_stream *s)
{
	uint8_t buf[512];
	if (s->fd < 0)
		return;
	while (kd_stream_read(s, buf, sizeof buf, 0) > 0)
		;
}

const char *kd_stream_describe(kd_stream *s)
{
	char spec[300];
	kd_connspec_format(&s->spec, spec, sizeof spec);
	const char *state = "";
	if (is_listener(s))
		state = s->fd >= 0 ? " (connected)" : " (waiting for a peer)";
	else if (s->fd < 0)
		state = " (closed)";
	else if (s->spec.kind == KD_CONN_SERIAL && s->serial_fallback)
		state = " (termios)";
	snprintf(s->desc, sizeof s->desc, "%s%s", spec, state);
	return s->desc;
}

const kd_connspec *kd_stream_spec(const kd_stream *s)
{
	return &s->spec;
}

int kd_stream_fd(const kd_stream *s)
{
	return s->fd;
}

const char *kd_stream_errmsg(const kd_stream *s)
{
	return s->err;
}

void kd_stream_close(kd_stream *s)
{
	if (!s)
		return;
	drop_peer(s);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	if (s->unlink_on_close)
		unlink(s->spec.path);
	free(s);
}
