/*
 * capture_dump.c - run every packet of ../shared/kd-capture/packets.jsonl
 * through the framing parser and the payload decoders, and print what
 * they decoded, one "key=value" line per fact. check_capture.py compares
 * the lines with the capture's summary.md. Nothing of the capture is
 * stored in the repository: it is read at test time.
 *
 * The capture is KDNET: no 0xAA trailer and ids growing by 2. Each packet
 * is checked twice: its header and payload exactly as captured through a
 * parser with the trailer turned off (checksum verified), and re-framed by
 * kdcom_frame as a serial link would carry it (trailer on).
 *
 * Also re-encodes WinDbg's GetVersion, ReadVirtualMemory, GetContext and
 * Continue2 requests with our encoders and compares the bytes, skipping
 * only the fields WinDbg leaves uninitialised (see MASKS below).
 *
 * Usage: capture_dump packets.jsonl
 */
#include "transport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a tiny extractor for this file's flat JSON objects ---- */
static const char *find_key(const char *line, const char *key)
{
	char pat[64];
	snprintf(pat, sizeof pat, "\"%s\": ", key);
	const char *p = strstr(line, pat);
	return p ? p + strlen(pat) : NULL;
}

static bool get_str(const char *line, const char *key, char *out, size_t cap)
{
	const char *p = find_key(line, key);
	if (!p || *p != '"')
		return false;
	p++;
	size_t i = 0;
	while (*p && *p != '"' && i + 1 < cap)
		out[i++] = *p++;
	out[i] = 0;
	return *p == '"';
}

static bool get_num(const char *line, const char *key, unsigned long long *v)
{
	char tmp[64];
	const char *p = find_key(line, key);
	if (!p)
		return false;
	if (*p == '"') {
		if (!get_str(line, key, tmp, sizeof tmp))
			return false;
		*v = strtoull(tmp, NULL, 0);
		return true;
	}
	*v = strtoull(p, NULL, 10);
	return true;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static long unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	while (s[0] && s[1]) {
		int hi = hexval(s[0]), lo = hexval(s[1]);
		if (hi < 0 || lo < 0 || n >= cap)
			return -1;
		out[n++] = (uint8_t)(hi << 4 | lo);
		s += 2;
	}
	return (long)n;
}

static void print_hex(const char *key, const uint8_t *p, size_t n)
{
	printf(" %s=", key);
	for (size_t i = 0; i < n; i++)
		printf("%02x", p[i]);
}

/* ---- the checks ---- */

static bool parse_frame(const uint8_t *f, size_t n, bool trailer, kdcom_packet *pkt)
{
	kdcom_parser p;
	kdcom_parser_init(&p);
	p.trailer = trailer;
	for (size_t i = 0; i < n; i++) {
		kdcom_parse_result r = kdcom_parser_feed(&p, f[i], pkt);
		if (r == KDCOM_PARSE_PACKET)
			return i == n - 1;
		if (r == KDCOM_PARSE_BAD)
			return false;
	}
	return false;
}

/* Byte ranges (offset, length) of a request WinDbg leaves uninitialised;
 * the capture shows host stack garbage there (summary §11). */
struct mask { uint32_t api; struct { int off, len; } skip[4]; const char *why; };
static const struct mask MASKS[] = {
	/* ProcessorLevel/Processor = 0xffff, pad = 0x25 and the whole union
	 * are stack garbage in frame 10; ApiNumber and ReturnStatus
	 * (STATUS_PENDING) are compared */
	{ KD_API_GET_VERSION, { { 0x04, 4 }, { 0x0C, 4 }, { 0x10, 40 } },
		"ProcessorLevel, Processor, pad, union" },
	/* ReturnStatus, ProcessorLevel, pad, ActualBytesRead and the union
	 * tail hold garbage; ApiNumber, Processor, TargetBaseAddress and
	 * TransferCount are compared */
	{ KD_API_READ_VIRTUAL_MEMORY, { { 0x04, 2 }, { 0x08, 8 }, { 0x1C, 4 }, { 0x20, 24 } },
		"ProcessorLevel, ReturnStatus, pad, ActualBytesRead, union tail" },
	/* union bytes after the CONTEXT size field: zero in four requests,
	 * stack garbage (0x2, 0x25) in frame 226 */
	{ KD_API_GET_CONTEXT, { { 0x18, 32 } }, "union tail after the size field" },
	/* ProcessorLevel and the 8 union bytes after CurrentSymbolEnd */
	{ KD_API_CONTINUE2, { { 0x04, 2 }, { 0x30, 8 } }, "ProcessorLevel, union tail" },
};

static void compare_encoding(unsigned long long n, const uint8_t *d, size_t len)
{
	kdpkt_manip m;
	uint8_t mine[KDCOM_MAX_PAYLOAD];
	int k = -1;
	if (kdpkt_decode_manip(d, len, &m) < 0)
		return;
	const struct mask *mask = NULL;
	for (size_t i = 0; i < sizeof MASKS / sizeof MASKS[0]; i++)
		if (MASKS[i].api == m.api)
			mask = &MASKS[i];
	if (!mask)
		return;
	switch (m.api) {
	case KD_API_GET_VERSION:
		k = kdpkt_encode_get_version(mine, sizeof mine, m.processor);
		break;
	case KD_API_READ_VIRTUAL_MEMORY:
		k = kdpkt_encode_read_virtual(mine, sizeof mine, m.processor, m.u.memory.address,
				m.u.memory.transfer_count);
		break;
	case KD_API_GET_CONTEXT:
		k = kdpkt_encode_get_context(mine, sizeof mine, m.processor, KD_CONTEXT_SIZE_AMD64);
		break;
	case KD_API_CONTINUE2:
		k = kdpkt_encode_continue2(mine, sizeof mine, m.processor, KD_MACHINE_AMD64, &m.u.cont2);
		break;
	}
	int first_diff = -1;
	if (k != (int)len) {
		first_diff = k < 0 ? 0 : (k < (int)len ? k : (int)len);
	} else {
		for (int i = 0; i < k && first_diff < 0; i++) {
			bool skipped = false;
			for (int j = 0; j < 4; j++)
				if (i >= mask->skip[j].off && i < mask->skip[j].off + mask->skip[j].len)
					skipped = true;
			if (!skipped && mine[i] != d[i])
				first_diff = i;
		}
	}
	printf("E n=%llu api=0x%04x identical=%s", n, m.api, first_diff < 0 ? "yes" : "no");
	if (first_diff >= 0)
		printf(" first_diff=0x%x", first_diff);
	printf(" masked=\"%s\"\n", mask->why);
}

static void decode(unsigned long long n, const char *dir, unsigned type, const uint8_t *d, size_t len)
{
	bool h2t = dir[0] == 'h';
	if (type == KD_PACKET_TYPE_STATE_MANIPULATE) {
		kdpkt_manip m;
		if (kdpkt_decode_manip(d, len, &m) < 0) {
			printf("M n=%llu decode=fail\n", n);
			return;
		}
		printf("M n=%llu dir=%s api=0x%04x pl=0x%x proc=0x%x status=0x%08x", n, dir, m.api,
				m.processor_level, m.processor, m.return_status);
		switch (m.api) {
		case KD_API_READ_VIRTUAL_MEMORY:
		case KD_API_READ_CONTROL_SPACE:
		case KD_API_WRITE_CONTROL_SPACE:
			printf(" addr=0x%016llx count=0x%x actual=0x%x", (unsigned long long)m.u.memory.address,
					m.u.memory.transfer_count, m.u.memory.actual_bytes);
			break;
		case KD_API_RESTORE_BREAKPOINT:
			printf(" handle=%u", m.u.restore_bp.handle);
			break;
		case KD_API_CONTINUE2:
			printf(" cstatus=0x%08x trace=%u dr7=0x%llx symstart=0x%llx symend=0x%llx",
					m.u.cont2.continue_status, m.u.cont2.trace_flag,
					(unsigned long long)m.u.cont2.dr7, (unsigned long long)m.u.cont2.sym_start,
					(unsigned long long)m.u.cont2.sym_end);
			break;
		case KD_API_CONTINUE:
			printf(" cstatus=0x%08x", m.u.cont.continue_status);
			break;
		case KD_API_GET_CONTEXT_EX:
			printf(" offset=0x%x bytecount=0x%x copied=0x%x", m.u.context_ex.offset,
					m.u.context_ex.byte_count, m.u.context_ex.bytes_copied);
			break;
		}
		printf(" datalen=%zu", m.data_len);
		if (m.data_len)
			print_hex("first", m.data, m.data_len < 16 ? m.data_len : 16);
		printf("\n");
		if (!h2t && m.api == KD_API_GET_VERSION) {
			const kdpkt_version *v = &m.u.version;
			printf("V n=%llu major=0x%x minor=0x%x proto=0x%x secondary=0x%x flags=0x%x machine=0x%x "
					"maxpt=0x%x maxsc=0x%x maxm=0x%x sim=0x%x kernbase=0x%016llx psl=0x%016llx ddl=0x%016llx\n",
					n, v->major_version, v->minor_version, v->protocol_version, v->kd_secondary_version,
					v->flags, v->machine_type, v->max_packet_type, v->max_state_change, v->max_manipulate,
					v->simulation, (unsigned long long)v->kern_base,
					(unsigned long long)v->ps_loaded_module_list, (unsigned long long)v->debugger_data_list);
		}
		if (h2t)
			compare_encoding(n, d, len);
	} else if (type == KD_PACKET_TYPE_STATE_CHANGE64) {
		kdpkt_state_change s;
		uint16_t machine = kdpkt_guess_state_change_machine(d, len);
		if (kdpkt_decode_state_change(d, len, machine, &s) < 0) {
			printf("S n=%llu decode=fail\n", n);
			return;
		}
		printf("S n=%llu state=0x%x pl=%u proc=%u nproc=%u thread=0x%016llx pc=0x%016llx machine=0x%x\n", n,
				s.new_state, s.processor_level, s.processor, s.number_processors,
				(unsigned long long)s.thread, (unsigned long long)s.program_counter, machine);
		if (s.new_state == KD_STATE_EXCEPTION) {
			printf("SE n=%llu code=0x%08x flags=0x%x record=0x%016llx address=0x%016llx nparams=%u "
					"info0=0x%016llx info1=0x%016llx info2=0x%016llx first=%u\n", n,
					s.u.exception.code, s.u.exception.flags,
					(unsigned long long)s.u.exception.record, (unsigned long long)s.u.exception.address,
					s.u.exception.number_parameters, (unsigned long long)s.u.exception.information[0],
					(unsigned long long)s.u.exception.information[1],
					(unsigned long long)s.u.exception.information[2], s.u.exception.first_chance);
		} else if (s.new_state == KD_STATE_LOAD_SYMBOLS) {
			printf("SL n=%llu pln=%u base=0x%016llx pid=0x%016llx checksum=0x%x size=0x%x unload=%d", n,
					s.u.load_symbols.path_name_length, (unsigned long long)s.u.load_symbols.base_of_dll,
					(unsigned long long)s.u.load_symbols.process_id, s.u.load_symbols.checksum,
					s.u.load_symbols.size_of_image, s.u.load_symbols.unload);
			print_hex("path", (const uint8_t *)s.path, strlen(s.path));
			printf("\n");
		}
		printf("SR n=%llu dr6=0x%016llx dr7=0x%016llx eflags=0x%x icount=%u rflags=0x%x", n,
				(unsigned long long)s.report.dr6, (unsigned long long)s.report.dr7, s.report.eflags,
				s.report.instruction_count, s.report.report_flags);
		print_hex("stream", s.report.instruction_stream, KD_MAXSTREAM);
		printf(" cs=0x%x ds=0x%x es=0x%x fs=0x%x\n", s.report.seg_cs, s.report.seg_ds, s.report.seg_es,
				s.report.seg_fs);
	} else if (type == KD_PACKET_TYPE_DEBUG_IO) {
		kdpkt_debug_io io;
		if (kdpkt_decode_debug_io(d, len, &io) < 0) {
			printf("D n=%llu decode=fail\n", n);
			return;
		}
		printf("D n=%llu api=0x%x length=%u", n, io.api, io.length);
		print_hex("text", io.text, io.text_len);
		printf("\n");
	} else if (type == KD_PACKET_TYPE_FILE_IO) {
		kdpkt_file_io f;
		if (kdpkt_decode_file_io(d, len, &f) < 0) {
			printf("F n=%llu decode=fail\n", n);
			return;
		}
		printf("F n=%llu dir=%s api=0x%x status=0x%08x access=0x%x attr=0x%x share=0x%x disp=%u opts=0x%x", n,
				dir, f.api, f.status, f.u.create.desired_access, f.u.create.file_attributes,
				f.u.create.share_access, f.u.create.create_disposition, f.u.create.create_options);
		print_hex("name", (const uint8_t *)f.name, strlen(f.name));
		printf("\n");
		if (!h2t) {
			/* our decline must equal WinDbg's reply, which follows */
			uint8_t out[64];
			int k = kdpkt_encode_file_io_decline(out, sizeof out, d, len);
			printf("FD n=%llu", n);
			print_hex("decline", out, k > 0 ? (size_t)k : 0);
		} else {
			printf("FR n=%llu", n);
			print_hex("reply", d, len < 64 ? len : 64);
		}
		printf("\n");
	}
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: capture_dump packets.jsonl\n");
		return 2;
	}
	FILE *f = fopen(argv[1], "r");
	if (!f) {
		perror(argv[1]);
		return 2;
	}
	static char line[1 << 16];
	static uint8_t data[KDCOM_MAX_PAYLOAD + 16];
	static uint8_t frame[KDCOM_MAX_FRAME + 16];
	static kdcom_packet pkt;
	int bad = 0;
	while (fgets(line, sizeof line, f)) {
		unsigned long long n, type, id, sum, len, leader;
		char dir[32], hex[2 * (KDCOM_MAX_PAYLOAD + 8)];
		if (!get_num(line, "n", &n) || !get_str(line, "dir", dir, sizeof dir) ||
				!get_num(line, "type", &type) || !get_num(line, "id", &id) ||
				!get_num(line, "checksum", &sum) || !get_num(line, "len", &len) ||
				!get_num(line, "leader", &leader) || !get_str(line, "data", hex, sizeof hex)) {
			printf("X unparsable line\n");
			bad++;
			continue;
		}
		long dl = unhex(hex, data, sizeof data);
		bool len_ok = dl >= 0 && (unsigned long long)dl == len;
		bool sum_ok = len_ok && kdcom_checksum(data, (size_t)dl) == sum;

		/* as captured (KDNET framing: no trailer) */
		uint8_t *h = frame;
		kdpkt_put32(h, (uint32_t)leader);
		kdpkt_put16(h + 4, (uint16_t)type);
		kdpkt_put16(h + 6, (uint16_t)len);
		kdpkt_put32(h + 8, (uint32_t)id);
		kdpkt_put32(h + 12, (uint32_t)sum);
		memcpy(h + 16, data, len_ok ? (size_t)dl : 0);
		bool kdnet_ok = len_ok && parse_frame(frame, 16 + (size_t)dl, false, &pkt) &&
				pkt.type == type && pkt.id == id && pkt.len == len && !memcmp(pkt.payload, data, (size_t)dl);

		/* as a serial link carries it */
		int fl = len_ok ? kdcom_frame(frame, sizeof frame, (uint32_t)leader, (uint16_t)type, (uint32_t)id,
				data, (size_t)dl) : -1;
		bool frame_ok = fl > 0 && parse_frame(frame, (size_t)fl, true, &pkt) && pkt.type == type &&
				pkt.id == id && pkt.len == len && pkt.checksum == sum && !memcmp(pkt.payload, data, (size_t)dl);

		printf("P n=%llu dir=%s type=%llu id=0x%08llx len=%llu sum=%s frame=%s kdnet=%s\n", n, dir, type, id,
				len, sum_ok ? "ok" : "bad", frame_ok ? "ok" : "bad", kdnet_ok ? "ok" : "bad");
		if (len_ok)
			decode(n, dir, (unsigned)type, data, (size_t)dl);
	}
	fclose(f);
	return bad ? 1 : 0;
}
