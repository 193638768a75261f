/*
 * serial.c - serial ports: libserialport first, plain termios as fallback.
 *
 * KDCOM wants 8N1 at the target's baud and no flow control (fact sheet
 * §5 step 1). libserialport 0.1.1 refuses devices it cannot find under
 * /sys/class/tty (ptys, which VMs and socat hand out) and its sp_open fails
 * when the modem-line ioctl TIOCMGET does (ptys again). Those devices still
 * carry bytes perfectly well, so when libserialport says no we configure
 * the descriptor with termios ourselves and never touch modem lines.
 */
#include "stream_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <libserialport.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

/* Rates termios can name; anything else is refused up front rather than
 * silently running at the wrong speed. */
static const struct { uint32_t baud; speed_t speed; } termios_rates[] = {
	{ 9600, B9600 }, { 19200, B19200 }, { 38400, B38400 }, { 57600, B57600 },
	{ 115200, B115200 }, { 230400, B230400 }, { 460800, B460800 },
	{ 500000, B500000 }, { 576000, B576000 }, { 921600, B921600 },
	{ 1000000, B1000000 }, { 1152000, B1152000 }, { 1500000, B1500000 },
	{ 2000000, B2000000 }, { 2500000, B2500000 }, { 3000000, B3000000 },
	{ 3500000, B3500000 }, { 4000000, B4000000 },
};

static int open_termios(kd_stream *s, const char *path, const char *why)
{
	speed_t speed = 0;
	for (size_t i = 0; i < sizeof termios_rates / sizeof termios_rates[0]; i++)
		if (termios_rates[i].baud == s->spec.baud)
			speed = termios_rates[i].speed;
	if (!speed)
		return kdt_stream_fail(s, KDT_E_INVAL, "serial:%s: unsupported baud rate %u",
				path, (unsigned)s->spec.baud);
	int fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return kdt_stream_fail(s, KDT_E_IO, "serial:%s: cannot open: %s (libserialport: %s)",
				path, strerror(errno), why);
	struct termios t;
	if (tcgetattr(fd, &t) < 0) {
		int e = errno;
		close(fd);
		return kdt_stream_fail(s, KDT_E_IO, "serial:%s: not a terminal: %s", path, strerror(e));
	}
	cfmakeraw(&t);
	t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB | CSTOPB | CRTSCTS);
	t.c_cflag |= CS8 | CLOCAL | CREAD;
	t.c_iflag &= ~(tcflag_t)(IXON | IXOFF | IXANY);
	/* VMIN 1: an empty non-blocking read says EAGAIN instead of 0,
	 * which would look like a hang-up */
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	cfsetispeed(&t, speed);
	cfsetospeed(&t, speed);
	if (tcsetattr(fd, TCSANOW, &t) < 0) {
		int e = errno;
		close(fd);
		return kdt_stream_fail(s, KDT_E_IO, "serial:%s: cannot configure: %s", path, strerror(e));
	}
	s->fd = fd;
	s->serial_fallback = true;
	return 0;
}

static int open_libserialport(kd_stream *s, const char *path, char *why, size_t whylen)
{
	struct sp_port *port = NULL;
	struct sp_port_config *cfg = NULL;
	int fd = -1;

	if (sp_get_port_by_name(path, &port) != SP_OK) {
		char *m = sp_last_error_message();
		snprintf(why, whylen, "%s", m ? m : "device not found");
		sp_free_error_message(m);
		return -1;
	}
	if (sp_open(port, SP_MODE_READ_WRITE) != SP_OK) {
		char *m = sp_last_error_message();
		snprintf(why, whylen, "%s", m ? m : "open failed");
		sp_free_error_message(m);
		sp_free_port(port);
		return -1;
	}
	if (sp_new_config(&cfg) == SP_OK) {
		sp_set_config_baudrate(cfg, (int)s->spec.baud);
		sp_set_config_bits(cfg, 8);
		sp_set_config_parity(cfg, SP_PARITY_NONE);
		sp_set_config_stopbits(cfg, 1);
		sp_set_config_flowcontrol(cfg, SP_FLOWCONTROL_NONE);
		if (sp_set_config(port, cfg) != SP_OK) {
			/* modem-line ioctls can fail on odd drivers: set what
			 * carries bytes one by one and ignore the rest */
			sp_set_baudrate(port, (int)s->spec.baud);
			sp_set_bits(port, 8);
			sp_set_parity(port, SP_PARITY_NONE);
			sp_set_stopbits(port, 1);
		}
		sp_free_config(cfg);
	}
	if (sp_get_port_handle(port, &fd) != SP_OK || fd < 0) {
		snprintf(why, whylen, "no descriptor");
		sp_close(port);
		sp_free_port(port);
		return -1;
	}
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	struct termios t;
	if (tcgetattr(fd, &t) == 0) {
		/* same reason as in open_termios: VMIN 1 so "no data" is
		 * EAGAIN, and make sure nothing cooks the bytes */
		cfmakeraw(&t);
		t.c_cflag |= CLOCAL | CREAD;
		t.c_cc[VMIN] = 1;
		t.c_cc[VTIME] = 0;
		tcsetattr(fd, TCSANOW, &t);
	}
	s->port = port;
	s->fd = fd;
	s->serial_fallback = false;
	return 0;
}

int kdt_serial_open(kd_stream *s)
{
	char real[PATH_MAX];
	char why[256] = "";
	/* /dev/serial/by-id/... links: libserialport wants the real name */
	const char *path = realpath(s->spec.path, real) ? real : s->spec.path;
	if (open_libserialport(s, path, why, sizeof why) == 0) {
		tcflush(s->fd, TCIOFLUSH);
		return 0;
	}
	int r = open_termios(s, path, why);
	if (r == 0)
		tcflush(s->fd, TCIFLUSH);
	return r;
}

void kdt_serial_close(kd_stream *s)
{
	if (s->port) {
		sp_close(s->port);
		sp_free_port(s->port);
		s->port = NULL;
	} else if (s->fd >= 0) {
		close(s->fd);
	}
	s->fd = -1;
}
