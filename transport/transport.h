/*
 * transport.h - the one public header of libkdtransport.
 *
 * Three layers, bottom up:
 *   1. byte streams (kd_stream_*): serial port, TCP client/listen, unix
 *      socket client/listen, behind one interface; plus the connection
 *      string parser (kd_connspec_*) that understands WinDbg's -k forms.
 *   2. the KDCOM link (kdcom_*): packet framing, checksums, ACK / RESEND /
 *      RESET, packet ids, duplicates, retransmission, attach, breakin.
 *   3. payload codecs (kdpkt_*): encode DBGKD_MANIPULATE_STATE64 requests,
 *      decode replies, DBGKD_WAIT_STATE_CHANGE64, DBGKD_DEBUG_IO,
 *      DBGKD_FILE_IO and DBGKD_GET_VERSION64.
 *
 * Conventions: functions return 0 (or a byte count) on success and a
 * negative KDT_E_* code on failure; the message of the last failure is in
 * kd_stream_errmsg() / kdcom_errmsg(). Nothing here exits or aborts: a peer
 * that goes away is KDT_E_CLOSED and the caller decides (reconnect with
 * kd_stream_reopen + kdcom_attach). Timeouts are in milliseconds; a
 * negative timeout means "no deadline" and is meant only for callers that
 * poll something else in between (every internal wait of the link has its
 * own deadline). Nothing is thread safe; one thread per object.
 *
 * Wire facts cited as "§N" refer to ../shared/reference/kd-protocol-facts.md.
 */
#ifndef KDCLIENT_TRANSPORT_H
#define KDCLIENT_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * Error codes. The values that mean the same thing as kdclient/target.h's
 * KD_E_* have the same numbers (FAIL -1, TIMEOUT -2, CLOSED -3, INVAL -6),
 * so the engine may pass them through unchanged.
 * ---------------------------------------------------------------------- */
enum {
	KDT_OK = 0,
	KDT_E_IO = -1,       /* operating-system I/O error; see the message */
	KDT_E_TIMEOUT = -2,  /* the deadline passed */
	KDT_E_CLOSED = -3,   /* the peer closed the connection / device gone */
	KDT_E_INVAL = -6,    /* bad argument or bad connection string */
	KDT_E_PROTO = -20,   /* malformed packet or payload (decoders, link) */
	KDT_E_NOSPACE = -21, /* output buffer too small */
	KDT_E_NOMEM = -22,   /* out of memory */
	KDT_E_RESET = -23,   /* the link was reset while the call was pending */
};

/* A one-line English name for a KDT_E_* code ("timeout", "peer closed"). */
const char *kdt_strerror(int code);

/* ========================================================================
 * 1. Byte streams
 * ====================================================================== */

typedef enum kd_conn_kind {
	KD_CONN_SERIAL = 1,   /* tty device, 8N1, no flow control */
	KD_CONN_TCP,          /* connect to host:port */
	KD_CONN_TCP_LISTEN,   /* listen on addr:port, accept one peer */
	KD_CONN_UNIX,         /* connect to a unix socket (VM "pipe") */
	KD_CONN_UNIX_LISTEN,  /* listen on a unix socket path */
	KD_CONN_FD,           /* an existing descriptor (kd_stream_from_fd) */
} kd_conn_kind;

#define KD_CONNSPEC_PATH_MAX 256
#define KD_DEFAULT_BAUD 115200u

/* A parsed connection string. Accepted forms:
 *   com:port=/dev/ttyS0,baud=115200          serial (baud default 115200)
 *   com:pipe,port=/path/sock[,reconnect][,resets=N]
 *                                            unix socket client (VirtualBox,
 *                                            VMware, QEMU "pipe" = socket)
 *   com:ipport=4445,port=127.0.0.1           TCP client (port= is the host)
 *   serial:/dev/ttyUSB0[@115200]
 *   tcp:host:port                            TCP client
 *   tcp-listen:[addr:]port                   TCP server (addr default 127.0.0.1)
 *   unix:/path                               unix socket client
 *   unix-listen:/path                        unix socket server
 * Options `reconnect` and `resets=N` are accepted on every com: form; on
 * short forms they may follow a comma (tcp:h:p,reconnect). They are only
 * recorded here; the engine acts on them (reconnect after KDT_E_CLOSED,
 * how many RESETs kdcom_attach sends: see kdcom_set_attach_resets). */
typedef struct kd_connspec {
	kd_conn_kind kind;
	char path[KD_CONNSPEC_PATH_MAX]; /* serial device or unix socket path */
	char host[KD_CONNSPEC_PATH_MAX]; /* TCP host or listen address */
	uint16_t port;                   /* TCP port */
	uint32_t baud;                   /* serial baud rate */
	bool reconnect;                  /* WinDbg ",reconnect" */
	int resets;                      /* WinDbg ",resets=N"; -1 = not given */
} kd_connspec;

/* Parse `text`. On failure returns KDT_E_INVAL and writes one line into
 * err saying what was expected (e.g. "tcp:HOST:PORT expects a port number
 * 1-65535, got 'x'"). */
int kd_connspec_parse(const char *text, kd_connspec *out, char *err, size_t errlen);

/* Canonical short form of a spec ("tcp:127.0.0.1:4445"). Returns the length
 * (like snprintf) or KDT_E_INVAL. */
int kd_connspec_format(const kd_connspec *spec, char *buf, size_t len);

typedef struct kd_stream kd_stream;

/* Parse `spec` and open the stream. Client kinds connect now (TCP gives
 * up after 10 s); listen kinds bind and listen now and accept the
 * peer lazily: until a peer is connected kd_stream_read waits for one
 * (within its deadline) and kd_stream_write discards the bytes, the way a
 * serial line with nobody on the other end would. A serial port opens at
 * the spec's baud, 8N1, no flow control; on a pty, where modem-line ioctls
 * fail, those failures are ignored. */
int kd_stream_open(const char *spec, kd_stream **out, char *err, size_t errlen);
int kd_stream_open_spec(const kd_connspec *spec, kd_stream **out, char *err, size_t errlen);

/* Wrap an already-connected descriptor (socketpair, pipe pair, pty); the
 * stream owns fd and closes it. `desc` is what kd_stream_describe says. */
int kd_stream_from_fd(int fd, const char *desc, kd_stream **out);

/* Read up to len bytes. Returns >0 bytes read, 0 if the deadline passed
 * with nothing to read, <0 on error (KDT_E_CLOSED when the peer closed). */
int kd_stream_read(kd_stream *s, void *buf, size_t len, int timeout_ms);

/* Write all len bytes (retrying short writes). Returns 0 or <0. */
int kd_stream_write(kd_stream *s, const void *buf, size_t len);

/* For listen kinds: wait up to timeout_ms for a peer. 0 when one is
 * connected (or the kind is not a listener), KDT_E_TIMEOUT otherwise. */
int kd_stream_accept(kd_stream *s, int timeout_ms);

/* Close the current connection and connect again to the same spec
 * (clients retry until the deadline; listeners wait for a new peer).
 * Returns 0 or <0 (KDT_E_TIMEOUT if nobody came). */
int kd_stream_reopen(kd_stream *s, int timeout_ms);

/* Discard input already buffered (stale bytes before an attach). */
void kd_stream_drain(kd_stream *s);

/* "tcp:127.0.0.1:4445 (connected)", "unix-listen:/tmp/kd.sock (waiting for
 * a peer)", "serial:/dev/ttyS0@115200". Valid until the next call on s. */
const char *kd_stream_describe(kd_stream *s);

/* The parsed spec the stream was opened with (reconnect, resets, ...). */
const kd_connspec *kd_stream_spec(const kd_stream *s);

/* Descriptor to poll for readability alongside stdin (may change after
 * kd_stream_reopen / accept; -1 when not connected). */
int kd_stream_fd(const kd_stream *s);

const char *kd_stream_errmsg(const kd_stream *s);
void kd_stream_close(kd_stream *s);

/* ========================================================================
 * 2. KDCOM link layer (§1-5)
 * ====================================================================== */

#define KDCOM_LEADER_DATA 0x30303030u     /* "0000" */
#define KDCOM_LEADER_CONTROL 0x69696969u  /* "iiii" */
#define KDCOM_LEADER_BYTE_DATA 0x30
#define KDCOM_LEADER_BYTE_CONTROL 0x69
#define KDCOM_TRAILER 0xAA                /* after a data packet's payload */
#define KDCOM_BREAKIN_BYTE 0x62           /* 'b' */
#define KDCOM_HEADER_SIZE 16
#define KDCOM_MAX_PAYLOAD 4000            /* PACKET_MAX_SIZE */
#define KDCOM_MAX_FRAME (KDCOM_HEADER_SIZE + KDCOM_MAX_PAYLOAD + 1)
#define KDCOM_INITIAL_ID 0x80800000u
#define KDCOM_SYNC_BIT 0x00000800u

/* One packet as it travels (header fields + payload). */
typedef struct kdcom_packet {
	uint32_t leader;   /* KDCOM_LEADER_DATA or KDCOM_LEADER_CONTROL */
	uint16_t type;     /* KD_PACKET_TYPE_* */
	uint16_t len;      /* payload bytes (ByteCount), <= KDCOM_MAX_PAYLOAD */
	uint32_t id;       /* PacketId as received/sent */
	uint32_t checksum; /* header checksum field */
	uint8_t payload[KDCOM_MAX_PAYLOAD];
} kdcom_packet;

/* Per-link counters (kdcom_stats). Packets/bytes count everything on the
 * wire in that direction, control packets and retransmissions included. */
typedef struct kdcom_counters {
	uint64_t packets_sent, packets_received;
	uint64_t bytes_sent, bytes_received;
	uint64_t data_packets_sent, data_packets_received;
	uint64_t round_trips;     /* a data packet sent, then a data packet received */
	uint64_t resends_sent;    /* RESEND control packets we sent (bad input) */
	uint64_t resends_received;/* RESEND control packets the target sent */
	uint64_t retransmits;     /* our data packets sent again */
	uint64_t resets_sent, resets_received;
	uint64_t timeouts;        /* waits that hit their deadline */
	uint64_t duplicates;      /* data packets re-ACKed and dropped */
	uint64_t bad_packets;     /* checksum / trailer / size errors */
	uint64_t garbage_bytes;   /* bytes skipped while looking for a leader */
	uint64_t breakins_sent;
	uint64_t stale_stops;     /* re-sent state changes / prompts dropped (kdcom_send_packet) */
} kdcom_counters;

typedef struct kdcom kdcom;

/* Create a link on an open stream. The link does not own the stream: close
 * the link, then the stream. Own ids start at KDCOM_INITIAL_ID. */
int kdcom_open(kd_stream *s, kdcom **out);
void kdcom_close(kdcom *l);

/* Timing: how long to wait for an ACK before retransmitting (default
 * 1000 ms; a 4000-byte packet takes ~0.35 s at 115200 baud, §4) and how
 * many retransmissions before the link sends a RESET (default 5). */
void kdcom_set_timeouts(kdcom *l, int ack_timeout_ms, int max_retransmits);

/* How many RESET packets kdcom_attach sends first (WinDbg resets=N;
 * default 1; 0 = only breakin bytes). */
void kdcom_set_attach_resets(kdcom *l, int resets);

/* Attach to a target in whatever state it is (§5, open-points #7, #10):
 * sends the configured RESETs, then (1 s after the last RESET) a breakin
 * byte every ~500 ms until a STATE_CHANGE64 arrives; for 1 s after a RESET
 * reply no breakin is sent, because a breakin byte that reaches a stopped
 * target leaves Ctrl-C pending there and makes it re-send its state
 * change every second. A running target answers the breakin; a stopped,
 * resending target answers the RESET, and its state change may come before
 * or after the RESET reply (both are accepted; the newest state change
 * wins). Data packets that arrive meanwhile are ACKed; a stopped target
 * blocked on FILE_IO is declined (STATUS_NO_SUCH_FILE) and one blocked on
 * a DbgPrompt gets an empty line, so it can get to its state change.
 * On success returns 0 and the state change (preceded by any DEBUG_IO
 * packets that arrived first, in order) is queued: the following
 * kdcom_recv_packet calls return them. KDT_E_TIMEOUT if no state change
 * came, KDT_E_CLOSED/KDT_E_IO on stream errors. Resets own ids to
 * KDCOM_INITIAL_ID and forgets the last received id. */
int kdcom_attach(kdcom *l, int timeout_ms);

/* Send one data packet and wait for its ACK (id with the sync bit masked,
 * §3). Retransmits on RESEND or after the ACK timeout; after
 * max_retransmits it sends a RESET, restarts ids and tries once more
 * round. A RESET from the target restarts ids and retransmits. Data
 * packets that arrive while the ACK is missing are ACKed and queued for
 * kdcom_recv_packet. A manipulate reply with our ApiNumber means the ACK
 * was lost: the packet counts as delivered at once. Any other data packet
 * (typically the state change a stopped target re-sends while it has
 * Ctrl-C pending) proves nothing: the target may have been waiting for
 * that packet's ACK, in which case it answers ours with RESEND and drops
 * it; so the wait goes on, a RESEND retransmits, and only an ACK timeout
 * with no RESEND counts as delivered. A STATE_CHANGE64 that came before
 * such a RESEND of a STATE_MANIPULATE packet is dropped (stale_stops): the
 * target sent it before it took our packet in, so it is the current stop
 * sent again, and after a Continue it would pose as a new stop; likewise a
 * DbgPrompt (GetString) re-sent before such a RESEND of our answer to it.
 * Returns 0, KDT_E_TIMEOUT,
 * KDT_E_CLOSED, KDT_E_IO, KDT_E_INVAL (len > 4000). After success own id
 * toggles bit 0. */
int kdcom_send_packet(kdcom *l, uint16_t type, const void *payload, size_t len, int timeout_ms);

/* Receive the next data packet (queued ones first). Every good data packet
 * is ACKed; duplicates (same id as the previous one, not right after a
 * RESET) are re-ACKed and dropped; bad packets get a RESEND; control
 * packets are handled inside and never ACKed. DEBUG_IO, FILE_IO, TRACE_IO
 * are returned like any other data packet (the caller answers GetString
 * and FILE_IO, see kdpkt_*). A timeout of 0 polls: bytes already waiting
 * are read once. A partial frame survives short timeouts; it is dropped
 * (and a RESEND sent) only after a gap of one ACK timeout inside it.
 * Returns 0 with *out filled, KDT_E_TIMEOUT, KDT_E_CLOSED, KDT_E_IO. */
int kdcom_recv_packet(kdcom *l, kdcom_packet *out, int timeout_ms);

/* Request/reply helper for STATE_MANIPULATE: send `req` (len bytes, a
 * full 0x38-byte header + data) and wait for the reply with the same
 * ApiNumber (§5 step 8) and, for memory/control-space/breakpoint/MSR
 * requests, the same echoed address (reads also: echoed TransferCount and
 * ActualBytesRead consistent with the data). Stale manipulate replies are
 * dropped; other data packets (DEBUG_IO, STATE_CHANGE64, ...) are kept in
 * order for the next kdcom_recv_packet. If no reply comes within 4 ACK
 * timeouts, or the target RESETs, the request is sent again (at most
 * max_retransmits times): these requests are idempotent. Returns 0 with
 * *reply filled, or a negative code. Do not use for Continue/Continue2/
 * Reboot/CauseBugCheck/SwitchProcessor, which have no reply: use
 * kdcom_send_packet (a KDT_E_TIMEOUT there means "no ACK seen", the target
 * may well be running). */
int kdcom_transact(kdcom *l, const void *req, size_t len, kdcom_packet *reply, int timeout_ms);

/* Send one breakin byte (0x62). Only while the target runs (§5 step 9). */
int kdcom_send_breakin(kdcom *l);

/* Send a RESET control packet now and restart own ids (does not wait). */
int kdcom_send_reset(kdcom *l);

/* Counters since kdcom_open. */
const kdcom_counters *kdcom_stats(const kdcom *l);

/* Counters as "name value" lines for a --link-stats style dump. Returns
 * the length written (like snprintf). */
int kdcom_stats_format(const kdcom *l, char *buf, size_t len);

/* Optional packet trace: called for every packet sent (sent=true) or
 * received (good ones only), control packets included. */
typedef void (*kdcom_trace_fn)(void *ctx, bool sent, const kdcom_packet *p);
void kdcom_set_trace(kdcom *l, kdcom_trace_fn fn, void *ctx);

/* The stream under the link. */
kd_stream *kdcom_stream(kdcom *l);

const char *kdcom_errmsg(const kdcom *l);

/* ---- framing primitives (used by the link, tests, fake targets) ---- */

/* Byte sum of the payload, wrapping (§1). */
uint32_t kdcom_checksum(const void *payload, size_t len);

/* Write a complete frame: header, payload, and the 0xAA trailer when the
 * leader is data (control packets: len must be 0). Returns the frame
 * length or KDT_E_INVAL / KDT_E_NOSPACE. */
int kdcom_frame(uint8_t *buf, size_t cap, uint32_t leader, uint16_t type,
		uint32_t id, const void *payload, size_t len);

/* Byte-driven frame parser. Feed bytes one at a time; the fields are
 * private (exposed only so it can live on the stack). */
typedef enum kdcom_parse_result {
	KDCOM_PARSE_MORE = 0,    /* need more bytes */
	KDCOM_PARSE_PACKET,      /* *out holds a good packet */
	KDCOM_PARSE_BAD,         /* a data packet failed (checksum, trailer, size):
	                          * the peer should be sent a RESEND */
	KDCOM_PARSE_BREAKIN,     /* a lone 0x62 between packets (fake targets) */
} kdcom_parse_result;

/* Pass the same *out for every byte of a frame: the payload is
 * assembled in it. */
typedef struct kdcom_parser {
	int state;
	uint8_t lead_byte;
	int lead_count;
	uint8_t hdr[KDCOM_HEADER_SIZE];
	size_t got;
	uint32_t sum;
	uint64_t garbage;  /* bytes skipped looking for a leader */
	uint64_t bad;      /* frames rejected */
	bool trailer;      /* expect the 0xAA trailer (default true; KDNET: false) */
} kdcom_parser;

void kdcom_parser_init(kdcom_parser *p);
kdcom_parse_result kdcom_parser_feed(kdcom_parser *p, uint8_t byte, kdcom_packet *out);
/* True while a frame is partly read (its leader was complete). */
bool kdcom_parser_busy(const kdcom_parser *p);
/* Drop a partly read frame and scan for a leader again (counters kept). */
void kdcom_parser_reset(kdcom_parser *p);

/* ========================================================================
 * 3. Payload codecs (§2, §6, §7, §10, §11)
 * All decoders take the packet payload (no KDCOM header), check every
 * offset against len and return 0 or KDT_E_PROTO. All encoders write into
 * buf (cap bytes) and return the payload length or KDT_E_NOSPACE /
 * KDT_E_INVAL. Strings from the target are raw bytes (NUL-terminated
 * copies): escape them before printing.
 * ====================================================================== */

/* Packet types (header.PacketType, §2). */
enum {
	KD_PACKET_TYPE_UNUSED = 0,
	KD_PACKET_TYPE_STATE_CHANGE32 = 1,
	KD_PACKET_TYPE_STATE_MANIPULATE = 2,
	KD_PACKET_TYPE_DEBUG_IO = 3,
	KD_PACKET_TYPE_ACKNOWLEDGE = 4,
	KD_PACKET_TYPE_RESEND = 5,
	KD_PACKET_TYPE_RESET = 6,
	KD_PACKET_TYPE_STATE_CHANGE64 = 7,
	KD_PACKET_TYPE_POLL_BREAKIN = 8,
	KD_PACKET_TYPE_TRACE_IO = 9,
	KD_PACKET_TYPE_CONTROL_REQUEST = 10,
	KD_PACKET_TYPE_FILE_IO = 11,
	KD_PACKET_TYPE_MAX = 12,
};

/* NewState of a STATE_CHANGE64. */
enum {
	KD_STATE_EXCEPTION = 0x3030,
	KD_STATE_LOAD_SYMBOLS = 0x3031,
	KD_STATE_COMMAND_STRING = 0x3032,
};

/* DEBUG_IO, TRACE_IO and FILE_IO ApiNumbers. */
enum {
	KD_DEBUG_IO_PRINT_STRING = 0x3230,
	KD_DEBUG_IO_GET_STRING = 0x3231,
	KD_TRACE_IO_API = 0x3330,
	KD_FILE_IO_CREATE = 0x3430,
	KD_FILE_IO_READ = 0x3431,
	KD_FILE_IO_WRITE = 0x3432,
	KD_FILE_IO_CLOSE = 0x3433,
};

/* DBGKD_MANIPULATE_STATE64 ApiNumbers (§7). */
enum {
	KD_API_READ_VIRTUAL_MEMORY = 0x3130,
	KD_API_WRITE_VIRTUAL_MEMORY = 0x3131,
	KD_API_GET_CONTEXT = 0x3132,
	KD_API_SET_CONTEXT = 0x3133,
	KD_API_WRITE_BREAKPOINT = 0x3134,
	KD_API_RESTORE_BREAKPOINT = 0x3135,
	KD_API_CONTINUE = 0x3136,
	KD_API_READ_CONTROL_SPACE = 0x3137,
	KD_API_WRITE_CONTROL_SPACE = 0x3138,
	KD_API_READ_IO_SPACE = 0x3139,
	KD_API_WRITE_IO_SPACE = 0x313A,
	KD_API_REBOOT = 0x313B,
	KD_API_CONTINUE2 = 0x313C,
	KD_API_READ_PHYSICAL_MEMORY = 0x313D,
	KD_API_WRITE_PHYSICAL_MEMORY = 0x313E,
	KD_API_QUERY_SPECIAL_CALLS = 0x313F,
	KD_API_SET_SPECIAL_CALL = 0x3140,
	KD_API_CLEAR_SPECIAL_CALLS = 0x3141,
	KD_API_SET_INTERNAL_BREAKPOINT = 0x3142,
	KD_API_GET_INTERNAL_BREAKPOINT = 0x3143,
	KD_API_READ_IO_SPACE_EXTENDED = 0x3144,
	KD_API_WRITE_IO_SPACE_EXTENDED = 0x3145,
	KD_API_GET_VERSION = 0x3146,
	KD_API_WRITE_BREAKPOINT_EX = 0x3147,
	KD_API_RESTORE_BREAKPOINT_EX = 0x3148,
	KD_API_CAUSE_BUGCHECK = 0x3149,
	KD_API_SWITCH_PROCESSOR = 0x3150,
	KD_API_PAGE_IN = 0x3151,
	KD_API_READ_MSR = 0x3152,
	KD_API_WRITE_MSR = 0x3153,
	KD_API_SEARCH_MEMORY = 0x3156,
	KD_API_GET_BUS_DATA = 0x3157,
	KD_API_SET_BUS_DATA = 0x3158,
	KD_API_CHECK_LOW_MEMORY = 0x3159,
	KD_API_CLEAR_ALL_INTERNAL_BREAKPOINTS = 0x315A,
	KD_API_FILL_MEMORY = 0x315B,
	KD_API_QUERY_MEMORY = 0x315C,
	KD_API_SWITCH_PARTITION = 0x315D,
	KD_API_WRITE_CUSTOM_BREAKPOINT = 0x315E,
	KD_API_GET_CONTEXT_EX = 0x315F,
	KD_API_SET_CONTEXT_EX = 0x3160,
};

/* NTSTATUS and continue-status values (§14). */
#define KD_STATUS_SUCCESS 0x00000000u
#define KD_STATUS_PENDING 0x00000103u
#define KD_STATUS_UNSUCCESSFUL 0xC0000001u
#define KD_STATUS_INVALID_PARAMETER 0xC000000Du
#define KD_STATUS_NO_SUCH_DEVICE 0xC000000Eu
#define KD_STATUS_NO_SUCH_FILE 0xC000000Fu
#define KD_STATUS_DATATYPE_MISALIGNMENT 0x80000002u
#define KD_STATUS_BREAKPOINT 0x80000003u
#define KD_STATUS_SINGLE_STEP 0x80000004u
#define KD_STATUS_WAKE_SYSTEM_DEBUGGER 0x80000007u
#define KD_STATUS_ACCESS_VIOLATION 0xC0000005u
#define KD_STATUS_ASSERTION_FAILURE 0xC0000420u
#define KD_DBG_EXCEPTION_HANDLED 0x00010001u
#define KD_DBG_CONTINUE 0x00010002u
#define KD_DBG_EXCEPTION_NOT_HANDLED 0x80010001u
#define KD_NT_SUCCESS(st) (((uint32_t)(st) & 0x80000000u) == 0)

/* GET_VERSION64 MachineType and Flags (§10; pointer width comes from the
 * machine type, not the PTR64 flag: open-points #1). */
#define KD_MACHINE_I386 0x014Cu
#define KD_MACHINE_AMD64 0x8664u
#define KD_MACHINE_ARMNT 0x01C4u
#define KD_MACHINE_ARM64 0xAA64u
#define KD_VERS_FLAG_MP 0x0001u
#define KD_VERS_FLAG_DATA 0x0002u
#define KD_VERS_FLAG_PTR64 0x0004u
#define KD_VERS_FLAG_NOMM 0x0008u
#define KD_VERS_FLAG_HSS 0x0010u
#define KD_VERS_FLAG_PARTITIONS 0x0020u

/* Sizes (§6, §7, §11, §12). */
#define KD_MANIP_HEADER_SIZE 0x38   /* DBGKD_MANIPULATE_STATE64; data follows */
#define KD_MANIP_MAX_DATA (KDCOM_MAX_PAYLOAD - KD_MANIP_HEADER_SIZE) /* 3944 */
#define KD_STATE_CHANGE_SIZE 0xF0   /* DBGKD_ANY_WAIT_STATE_CHANGE (x64 report) */
#define KD_DEBUG_IO_HEADER_SIZE 0x10
#define KD_FILE_IO_HEADER_SIZE 0x40
#define KD_CONTEXT_SIZE_AMD64 0x4D0
#define KD_CONTEXT_SIZE_I386 0x2CC
#define KD_MAXSTREAM 16

/* ---- DBGKD_GET_VERSION64 (§10) ---- */
typedef struct kdpkt_version {
	uint16_t major_version;   /* 0xF free / 0xC checked (low byte) */
	uint16_t minor_version;   /* the build number */
	uint8_t protocol_version;
	uint8_t kd_secondary_version;
	uint16_t flags;           /* KD_VERS_FLAG_* */
	uint16_t machine_type;    /* KD_MACHINE_* */
	uint8_t max_packet_type, max_state_change, max_manipulate, simulation;
	uint64_t kern_base;
	uint64_t ps_loaded_module_list;
	uint64_t debugger_data_list; /* address of a list head: dereference once */
} kdpkt_version;

/* Decode the 40-byte GET_VERSION64 body (the union of a GetVersion reply,
 * i.e. payload + 0x10). */
int kdpkt_decode_version(const uint8_t *p, size_t len, kdpkt_version *out);

/* ---- DBGKD_MANIPULATE_STATE64 requests (§7) ----
 * Every encoder fills the 0x38-byte header: ApiNumber, ProcessorLevel 0,
 * Processor, ReturnStatus STATUS_PENDING (as WinDbg; for Continue and
 * Continue2 WinDbg puts the continue status there, and so do we), pad 0,
 * union, then any data. Fields WinDbg leaves uninitialised
 * (ProcessorLevel, pad, unused union bytes) are zero here. Memory reads
 * larger than KD_MANIP_MAX_DATA are refused (KDT_E_INVAL). */
int kdpkt_encode_get_version(uint8_t *buf, size_t cap, uint16_t processor);
int kdpkt_encode_read_virtual(uint8_t *buf, size_t cap, uint16_t processor,
		uint64_t address, uint32_t count);
int kdpkt_encode_write_virtual(uint8_t *buf, size_t cap, uint16_t processor,
		uint64_t address, const void *data, uint32_t count);
/* caching: 0 default, 1 cached, 2 uncached, 3 write-combined (carried in
 * the ActualBytes field of the request, §7) */
int kdpkt_encode_read_physical(uint8_t *buf, size_t cap, uint16_t processor,
		uint64_t address, uint32_t count, uint32_t caching);
int kdpkt_encode_write_physical(uint8_t *buf, size_t cap, uint16_t processor,
		uint64_t address, const void *data, uint32_t count, uint32_t caching);
/* Control space: x64 address is a selector (0 KPCR, 1 KPRCB, 2
 * KSPECIAL_REGISTERS, 3 KTHREAD); x86 is an offset into KPROCESSOR_STATE
 * (0x2CC = special registers), §9. */
int kdpkt_encode_read_control(uint8_t *buf, size_t cap, uint16_t processor,
		uint64_t address, uint32_t count);
int kdpkt_encode_write_control(uint8_t *buf, size_t cap, uint16_t processor,
		uint64_t address, const void *data, uint32_t count);
/* GetContext: union+0 = 0, union+4 = context_size (what WinDbg sends,
 * open-points #9; pass KD_CONTEXT_SIZE_AMD64 or _I386, or 0). */
int kdpkt_encode_get_context(uint8_t *buf, size_t cap, uint16_t processor,
		uint32_t context_size);
/* SetContext: ContextFlags at union+0, the whole CONTEXT as data. */
int kdpkt_encode_set_context(uint8_t *buf, size_t cap, uint16_t processor,
		uint32_t context_flags, const void *context, uint32_t context_size);
/* GetContextEx: window [offset, offset+count) of the CONTEXT. */
int kdpkt_encode_get_context_ex(uint8_t *buf, size_t cap, uint16_t processor,
		uint32_t offset, uint32_t count);
int kdpkt_encode_write_breakpoint(uint8_t *buf, size_t cap, uint16_t processor,
		uint64_t address);
int kdpkt_encode_restore_breakpoint(uint8_t *buf, size_t cap, uint16_t processor,
		uint32_t handle);
/* Continue (v1): no reply. */
int kdpkt_encode_continue(uint8_t *buf, size_t cap, uint16_t processor,
		uint32_t continue_status);
/* Continue2: no reply. ControlSet layout by machine (KD_MACHINE_AMD64:
 * TraceFlag u32, Dr7 u64, SymStart u64, SymEnd u64; KD_MACHINE_I386: all
 * u32). "No symbol range" is start 1, end 0 as WinDbg sends
 * (open-points #2). */
typedef struct kdpkt_continue2 {
	uint32_t continue_status;  /* KD_DBG_CONTINUE / _EXCEPTION_HANDLED / ... */
	uint32_t trace_flag;       /* 1 = single step */
	uint64_t dr7;              /* copied to KernelDr7 on every CPU */
	uint64_t sym_start;        /* 1 = no range */
	uint64_t sym_end;          /* 0 */
} kdpkt_continue2;
int kdpkt_encode_continue2(uint8_t *buf, size_t cap, uint16_t processor,
		uint16_t machine, const kdpkt_continue2 *c);
int kdpkt_encode_read_msr(uint8_t *buf, size_t cap, uint16_t processor, uint32_t msr);
int kdpkt_encode_write_msr(uint8_t *buf, size_t cap, uint16_t processor,
		uint32_t msr, uint64_t value);
/* SwitchProcessor, Reboot, CauseBugCheck: header only, no reply. */
int kdpkt_encode_switch_processor(uint8_t *buf, size_t cap, uint16_t processor);
int kdpkt_encode_reboot(uint8_t *buf, size_t cap);
int kdpkt_encode_cause_bugcheck(uint8_t *buf, size_t cap);

/* ---- DBGKD_MANIPULATE_STATE64 replies (also decodes requests) ---- */
typedef struct kdpkt_manip {
	uint32_t api;             /* KD_API_* */
	uint16_t processor_level;
	uint16_t processor;
	uint32_t return_status;   /* NTSTATUS */
	uint8_t raw_union[40];    /* the union bytes as on the wire */
	/* Union members, decoded by api (only the one for `api` is set): */
	union {
		/* Read/Write Virtual/Physical Memory, Read/Write ControlSpace */
		struct { uint64_t address; uint32_t transfer_count; uint32_t actual_bytes; } memory;
		kdpkt_version version;                    /* GetVersion */
		struct { uint32_t flags; uint32_t size; } context;   /* Get/SetContext */
		struct { uint32_t offset, byte_count, bytes_copied; } context_ex;
		struct { uint64_t address; uint32_t handle; } write_bp;
		struct { uint32_t handle; } restore_bp;
		struct { uint32_t continue_status; } cont;
		kdpkt_continue2 cont2;                    /* decoded as AMD64 layout */
		struct { uint32_t msr; uint64_t value; } msr;
		struct { uint64_t address; uint32_t data_size, data_value; } io;
		struct { uint64_t address; uint64_t length; uint32_t pattern_length; } search;
		struct { uint64_t address, reserved; uint32_t address_space, flags; } query_memory;
	} u;
	const uint8_t *data;      /* bytes after the 0x38 header (points into p) */
	size_t data_len;
} kdpkt_manip;

int kdpkt_decode_manip(const uint8_t *p, size_t len, kdpkt_manip *out);

/* ---- DBGKD_WAIT_STATE_CHANGE64 (§6) ---- */
typedef struct kdpkt_control_report {
	uint64_t dr6, dr7;
	uint32_t eflags;
	uint16_t instruction_count;
	uint16_t report_flags;
	uint8_t instruction_stream[KD_MAXSTREAM];
	uint16_t seg_cs, seg_ds, seg_es, seg_fs;
} kdpkt_control_report;

#define KD_PATH_MAX 512
typedef struct kdpkt_state_change {
	uint32_t new_state;         /* KD_STATE_* (0x00010000 alternate-source flag kept) */
	uint16_t processor_level;
	uint16_t processor;
	uint32_t number_processors;
	uint64_t thread;
	uint64_t program_counter;
	union {
		struct {
			uint32_t code, flags;
			uint64_t record, address;
			uint32_t number_parameters;
			uint64_t information[15];
			uint32_t first_chance;
		} exception;
		struct {
			uint32_t path_name_length;   /* counts the NUL */
			uint64_t base_of_dll;
			uint64_t process_id;
			uint32_t checksum;
			uint32_t size_of_image;
			bool unload;
		} load_symbols;
		struct { uint32_t flags; } command_string;
	} u;
	kdpkt_control_report report;   /* decoded per the machine argument */
	/* LoadSymbols: the path, taken from the END of the packet
	 * (len - PathNameLength); CommandString: the name. NUL-terminated,
	 * raw bytes. */
	char path[KD_PATH_MAX];
	char command[KD_PATH_MAX];     /* CommandString: the command */
	const uint8_t *extra;          /* bytes after the 0xF0 header */
	size_t extra_len;
} kdpkt_state_change;

/* machine: KD_MACHINE_AMD64 or KD_MACHINE_I386 (selects the control report
 * layout); 0 = not known yet, decoded as AMD64 (see
 * kdpkt_guess_state_change_machine). */
int kdpkt_decode_state_change(const uint8_t *p, size_t len, uint16_t machine,
		kdpkt_state_change *out);

/* Before GetVersion the machine is unknown: guess it from the control
 * report (an x86 report has Dr7 in the high half of the x64 Dr6 slot and
 * 32-bit sign-extended Thread/PC). Returns KD_MACHINE_AMD64 or _I386. */
uint16_t kdpkt_guess_state_change_machine(const uint8_t *p, size_t len);

/* ---- DBGKD_DEBUG_IO (§11) ---- */
typedef struct kdpkt_debug_io {
	uint32_t api;             /* KD_DEBUG_IO_PRINT_STRING / _GET_STRING */
	uint16_t processor_level;
	uint16_t processor;
	uint32_t length;          /* LengthOfString / LengthOfPromptString */
	uint32_t length_read;     /* GetString: LengthOfStringRead (max answer) */
	const uint8_t *text;      /* the string / prompt (points into p) */
	size_t text_len;          /* min(length, bytes present) */
} kdpkt_debug_io;

int kdpkt_decode_debug_io(const uint8_t *p, size_t len, kdpkt_debug_io *out);

/* Reply to a GetString (DbgPrompt): echoes the request header with
 * LengthOfStringRead = answer length (clamped to the request's maximum)
 * and the answer as data. */
int kdpkt_encode_get_string_reply(uint8_t *buf, size_t cap, const kdpkt_debug_io *req,
		const char *answer, size_t answer_len);

/* ---- DBGKD_FILE_IO (§11) ---- */
typedef struct kdpkt_file_io {
	uint32_t api;            /* KD_FILE_IO_* */
	uint32_t status;
	union {
		struct {
			uint32_t desired_access, file_attributes, share_access;
			uint32_t create_disposition, create_options;
			uint64_t handle, length;
		} create;
		struct { uint64_t handle, offset; uint32_t length; } rw;
		struct { uint64_t handle; } close;
	} u;
	char name[KD_PATH_MAX];  /* Create: the UTF-16LE name as UTF-8, NUL-terminated */
	const uint8_t *data;     /* bytes after the 64-byte header */
	size_t data_len;
} kdpkt_file_io;

int kdpkt_decode_file_io(const uint8_t *p, size_t len, kdpkt_file_io *out);

/* Decline a FILE_IO request: the 64-byte header echoed with Status =
 * STATUS_NO_SUCH_FILE (what WinDbg does for files it does not serve). */
int kdpkt_encode_file_io_decline(uint8_t *buf, size_t cap, const uint8_t *req, size_t req_len);

/* Names for traces: "ReadVirtualMemory", "STATE_CHANGE64", "PrintString";
 * "?" when unknown. */
const char *kdpkt_api_name(uint32_t api);
const char *kdpkt_type_name(uint16_t type);

/* Little-endian helpers (bounds are the caller's). */
static inline uint16_t kdpkt_get16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t kdpkt_get32(const uint8_t *p) {
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t kdpkt_get64(const uint8_t *p) {
	return (uint64_t)kdpkt_get32(p) | ((uint64_t)kdpkt_get32(p + 4) << 32);
}
static inline void kdpkt_put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void kdpkt_put32(uint8_t *p, uint32_t v) {
	p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static inline void kdpkt_put64(uint8_t *p, uint64_t v) {
	kdpkt_put32(p, (uint32_t)v); kdpkt_put32(p + 4, (uint32_t)(v >> 32));
}

#ifdef __cplusplus
}
#endif
#endif /* KDCLIENT_TRANSPORT_H */
