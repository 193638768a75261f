/*
 * bench_vm_link - how much of the serial link does KD leave for payload?
 *
 * Boots the test VM, attaches with the transport library alone, then in one
 * run on the same VM measures:
 *   - KD payload rate: kernel memory read with ReadVirtualMemory in the
 *     largest chunks a reply can carry (3944 bytes; fact sheet §1), both as
 *     payload bytes/s and as link bytes/s (every byte on the wire, both
 *     directions, ACKs and headers included, from the link counters);
 *   - raw link rate: the test kernel's crash dump, which it streams to COM2
 *     (the same emulated 16550 as COM1) as fast as the UART takes bytes,
 *     timed by watching the dump file grow.
 * The ratio payload/raw says what KD framing, the request/reply round trip
 * and the target's copy loop cost against the raw UART.  Not a test: it
 * prints numbers (docs/PERFORMANCE.md).
 *
 * usage: bench_vm_link [RUN_VM TESTNT_EXE [megabytes]]
 * (defaults: the launcher and image of the build it was compiled in)
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "transport.h"

#define CHUNK 3944u   /* PACKET_MAX_SIZE - sizeof(DBGKD_MANIPULATE_STATE64) */

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int die(const char *what, kdcom *l)
{
	fprintf(stderr, "bench_vm_link: %s%s%s\n", what, l ? ": " : "", l ? kdcom_errmsg(l) : "");
	return 1;
}

/* Wait for the next STATE_CHANGE64; DbgPrints and other data are dropped.
 * Sets *dump_done when the kernel reports the dump written. */
static int next_stop(kdcom *l, int timeout_ms, kdpkt_state_change *sc, int *dump_done)
{
	static kdcom_packet p;
	double end = now() + timeout_ms / 1000.0;
	while (now() < end) {
		int rc = kdcom_recv_packet(l, &p, 50);
		if (rc == KDT_E_TIMEOUT)
			continue;
		if (rc < 0)
			return rc;
		if (p.type == KD_PACKET_TYPE_DEBUG_IO && dump_done &&
		    memmem(p.payload, p.len, "Dump written", 12))
			*dump_done = 1;
		if (p.type == KD_PACKET_TYPE_STATE_CHANGE64 && sc)
			return kdpkt_decode_state_change(p.payload, p.len, 0x8664, sc);
	}
	return KDT_E_TIMEOUT;
}

static int resume(kdcom *l)
{
	uint8_t req[0x38];
	kdpkt_continue2 c = { .continue_status = KD_DBG_CONTINUE, .sym_start = 1 };
	int n = kdpkt_encode_continue2(req, sizeof req, 0, 0x8664, &c);
	return n < 0 ? n : kdcom_send_packet(l, KD_PACKET_TYPE_STATE_MANIPULATE, req, (size_t)n, 5000);
}

static int manip(kdcom *l, const uint8_t *req, int n, kdcom_packet *reply, kdpkt_manip *m)
{
	int rc = kdcom_transact(l, req, (size_t)n, reply, 10000);
	if (rc < 0)
		return rc;
	return kdpkt_decode_manip(reply->payload, reply->len, m);
}

/* A breakpoint stop on an int3 the debugger did not place is resumed past
 * it, as WinDbg does (open-points #5). */
static int skip_int3(kdcom *l, uint64_t pc)
{
	static uint8_t req[0x38 + 0x4D0];
	static kdcom_packet reply;
	kdpkt_manip m;
	int n = kdpkt_encode_read_virtual(req, sizeof req, 0, pc, 1);
	if (n < 0 || manip(l, req, n, &reply, &m) < 0 || m.data_len != 1 || m.data[0] != 0xCC)
		return 0;
	n = kdpkt_encode_get_context(req, sizeof req, 0, 0x4D0);
	if (n < 0 || manip(l, req, n, &reply, &m) < 0 || m.data_len != 0x4D0)
		return -1;
	uint8_t ctx[0x4D0];
	memcpy(ctx, m.data, sizeof ctx);
	kdpkt_put64(ctx + 0xF8, pc + 1);   /* CONTEXT.Rip (fact sheet §12) */
	n = kdpkt_encode_set_context(req, sizeof req, 0, 0x10001F, ctx, sizeof ctx);
	return n < 0 ? n : manip(l, req, n, &reply, &m);
}

int main(int argc, char **argv)
{
	if (argc == 2 || argc > 4) {
		fprintf(stderr, "usage: bench_vm_link [RUN_VM TESTNT_EXE [megabytes]]\n");
		return 2;
	}
	const char *run_vm = argc > 2 ? argv[1] : BENCH_RUN_VM;
	const char *image = argc > 2 ? argv[2] : BENCH_TESTNT_EXE;
	double megabytes = argc > 3 ? atof(argv[3]) : 1.0;
	char dir[] = "/tmp/bench-vm-link.XXXXXX";
	if (!mkdtemp(dir))
		return die("mkdtemp failed", NULL);
	char sock[600], dump[600], cmd[2048], spec[700];
	snprintf(sock, sizeof sock, "%s/com1", dir);
	snprintf(dump, sizeof dump, "%s/memory.dmp", dir);

	/* run-vm prints READY once QEMU listens; keep its pid to stop it. */
	int out[2];
	if (pipe(out) < 0)
		return die("pipe failed", NULL);
	pid_t vm = fork();
	if (vm == 0) {
		dup2(out[1], 1);
		close(out[0]);
		setsid();
		execl(run_vm, run_vm, "--image", image, "--unix", sock, "--dump-to", dump, (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	FILE *vmout = fdopen(out[0], "r");
	if (!vmout || !fgets(cmd, sizeof cmd, vmout) || strncmp(cmd, "READY", 5) != 0) {
		kill(vm, SIGTERM);
		return die("the VM did not come up", NULL);
	}

	int status = 1;
	kd_stream *s = NULL;
	kdcom *l = NULL;
	char err[256];
	snprintf(spec, sizeof spec, "unix:%s", sock);
	if (kd_stream_open(spec, &s, err, sizeof err) < 0) {
		fprintf(stderr, "bench_vm_link: %s\n", err);
		goto out;
	}
	if (kdcom_open(s, &l) < 0 || kdcom_attach(l, 20000) < 0) {
		die("attach failed", l);
		goto out;
	}
	kdcom_set_timeouts(l, 4000, 8);

	/* Boot: continue through the LoadSymbols stops until the kernel runs. */
	kdpkt_state_change sc;
	while (next_stop(l, 1500, &sc, NULL) == 0) {
		if (resume(l) < 0) {
			die("continue failed", l);
			goto out;
		}
	}
	int got_stop = 0;
	for (int i = 0; i < 20 && !got_stop; i++) {
		kdcom_send_breakin(l);
		got_stop = next_stop(l, 500, &sc, NULL) == 0;
	}
	if (!got_stop) {
		die("no stop after breakin", l);
		goto out;
	}

	static uint8_t req[0x38 + 0x4D0];
	static kdcom_packet reply;
	kdpkt_manip m;
	int n = kdpkt_encode_get_version(req, sizeof req, 0);
	if (n < 0 || manip(l, req, n, &reply, &m) < 0) {
		die("GetVersion failed", l);
		goto out;
	}
	uint64_t kern = m.u.version.kern_base;

	/* KD payload: read the kernel's first 256 KiB over and over. */
	const uint64_t span = 256 * 1024;
	uint64_t want = (uint64_t)(megabytes * 1024 * 1024), payload = 0;
	kdcom_counters before = *kdcom_stats(l);
	double t0 = now();
	while (payload < want) {
		uint64_t off = payload % span;
		uint32_t len = (uint32_t)(span - off < CHUNK ? span - off : CHUNK);
		n = kdpkt_encode_read_virtual(req, sizeof req, 0, kern + off, len);
		if (n < 0 || manip(l, req, n, &reply, &m) < 0 || m.data_len == 0) {
			die("ReadVirtualMemory failed", l);
			goto out;
		}
		payload += m.data_len;
	}
	double kd_secs = now() - t0;
	const kdcom_counters *after = kdcom_stats(l);
	uint64_t wire = (after->bytes_sent - before.bytes_sent) +
			(after->bytes_received - before.bytes_received);
	uint64_t trips = after->round_trips - before.round_trips;

	/* Raw link: .crash, then the dump streams to COM2 on continue. */
	n = kdpkt_encode_cause_bugcheck(req, sizeof req);
	if (n < 0 || kdcom_send_packet(l, KD_PACKET_TYPE_STATE_MANIPULATE, req, (size_t)n, 5000) < 0 ||
	    next_stop(l, 20000, &sc, NULL) < 0 || skip_int3(l, sc.program_counter) < 0 ||
	    resume(l) < 0) {
		die(".crash failed", l);
		goto out;
	}
	int done = 0;
	off_t last = 0;
	double first_t = 0, last_t = 0, give_up = now() + 600;
	while (!done && now() < give_up) {
		(void)next_stop(l, 20, NULL, &done);
		struct stat st;
		if (stat(dump, &st) == 0 && st.st_size != last) {
			if (last == 0)
				first_t = now();
			last = st.st_size;
			last_t = now();
		}
	}
	struct stat st;
	if (stat(dump, &st) == 0 && st.st_size != last) {
		last = st.st_size;
		last_t = now();
	}
	if (!done || last <= 0 || last_t <= first_t) {
		die("the dump did not complete", NULL);
		goto out;
	}
	double raw_secs = last_t - first_t;
	double raw = (double)last / raw_secs;
	double kd_payload = (double)payload / kd_secs;
	double kd_wire = (double)wire / kd_secs;

	printf("test VM (QEMU TCG, emulated 16550, unix socket), one run:\n");
	printf("  KD ReadVirtualMemory:  %8.1f KB/s payload  (%llu bytes in %.2f s, %llu round trips of <= %u bytes)\n",
	       kd_payload / 1024, (unsigned long long)payload, kd_secs, (unsigned long long)trips, CHUNK);
	printf("  KD link bytes:         %8.1f KB/s on the wire (both directions, headers, ACKs, trailers)\n",
	       kd_wire / 1024);
	printf("  raw COM2 dump stream:  %8.1f KB/s  (%lld bytes in %.2f s)\n",
	       raw / 1024, (long long)last, raw_secs);
	printf("  ratio KD payload / raw link: %.2f\n", kd_payload / raw);
	printf("  ratio KD wire    / raw link: %.2f\n", kd_wire / raw);
	status = 0;
out:
	if (l)
		kdcom_close(l);
	if (s)
		kd_stream_close(s);
	kill(vm, SIGTERM);
	waitpid(vm, NULL, 0);
	unlink(dump);
	unlink(sock);
	rmdir(dir);
	return status;
}
