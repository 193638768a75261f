/* stream_internal.h - what stream.c and serial.c share; not public. */
#ifndef KDCLIENT_STREAM_INTERNAL_H
#define KDCLIENT_STREAM_INTERNAL_H

#include "transport.h"

struct sp_port;

struct kd_stream {
	kd_connspec spec;
	int fd;                 /* connected descriptor, -1 when none */
	int listen_fd;          /* listen kinds */
	bool unlink_on_close;   /* unix-listen: remove our socket file */
	struct sp_port *port;   /* serial opened through libserialport */
	bool serial_fallback;   /* serial opened with plain termios (pty) */
	char desc[400];
	char err[400];
};

int kdt_stream_fail(kd_stream *s, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int64_t kdt_now_ms(void);

/* serial.c: open s->spec.path at s->spec.baud, 8N1, no flow control;
 * sets s->fd (non-blocking). */
int kdt_serial_open(kd_stream *s);
void kdt_serial_close(kd_stream *s);

#endif
