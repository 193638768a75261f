/*
 * kdpkt_events.c - what the target sends on its own: WAIT_STATE_CHANGE64
 * (§6), DEBUG_IO and FILE_IO (§11), plus names for traces.
 * Every offset is checked against the packet length before it is read.
 */
#include "transport.h"

#include <string.h>

/* Control report offsets (§6 table). */
#define SC_REPORT 0xC0
#define SC_MIN_X86 (SC_REPORT + 0x28)
#define SC_MIN_X64 (SC_REPORT + 0x30)

static void copy_cstr(char *dst, size_t cap, const uint8_t *src, size_t n)
{
	size_t i;
	for (i = 0; i < n && i + 1 < cap && src[i]; i++)
		dst[i] = (char)src[i];
	dst[i] = 0;
}

uint16_t kdpkt_guess_state_change_machine(const uint8_t *p, size_t len)
{
	/* x86 puts Dr7 (bit 10 always reads 1) at 0xC4, which on x64 is
	 * the upper half of Dr6 and reads 0 */
	if (p && len >= SC_MIN_X86 && kdpkt_get32(p + SC_REPORT + 4) != 0)
		return KD_MACHINE_I386;
	return KD_MACHINE_AMD64;
}

static void decode_report(const uint8_t *r, uint16_t machine, kdpkt_control_report *o)
{
	if (machine == KD_MACHINE_I386) {
		o->dr6 = kdpkt_get32(r + 0x00);
		o->dr7 = kdpkt_get32(r + 0x04);
		o->instruction_count = kdpkt_get16(r + 0x08);
		o->report_flags = kdpkt_get16(r + 0x0A);
		memcpy(o->instruction_stream, r + 0x0C, KD_MAXSTREAM);
		o->seg_cs = kdpkt_get16(r + 0x1C);
		o->seg_ds = kdpkt_get16(r + 0x1E);
		o->seg_es = kdpkt_get16(r + 0x20);
		o->seg_fs = kdpkt_get16(r + 0x22);
		o->eflags = kdpkt_get32(r + 0x24);
	} else {
		o->dr6 = kdpkt_get64(r + 0x00);
		o->dr7 = kdpkt_get64(r + 0x08);
		o->eflags = kdpkt_get32(r + 0x10);
		o->instruction_count = kdpkt_get16(r + 0x14);
		o->report_flags = kdpkt_get16(r + 0x16);
		memcpy(o->instruction_stream, r + 0x18, KD_MAXSTREAM);
		o->seg_cs = kdpkt_get16(r + 0x28);
		o->seg_ds = kdpkt_get16(r + 0x2A);
		o->seg_es = kdpkt_get16(r + 0x2C);
		o->seg_fs = kdpkt_get16(r + 0x2E);
	}
	if (o->instruction_count > KD_MAXSTREAM)
		o->instruction_count = KD_MAXSTREAM;
}

int kdpkt_decode_state_change(const uint8_t *p, size_t len, uint16_t machine, kdpkt_state_change *o)
{
	if (!machine)
		machine = KD_MACHINE_AMD64;
	if (machine != KD_MACHINE_AMD64 && machine != KD_MACHINE_I386)
		return KDT_E_INVAL;
	size_t min = machine == KD_MACHINE_I386 ? SC_MIN_X86 : SC_MIN_X64;
	if (!p || !o || len < min)
		return KDT_E_PROTO;
	memset(o, 0, sizeof *o);
	o->new_state = kdpkt_get32(p + 0x00);
	o->processor_level = kdpkt_get16(p + 0x04);
	o->processor = kdpkt_get16(p + 0x06);
	o->number_processors = kdpkt_get32(p + 0x08);
	o->thread = kdpkt_get64(p + 0x10);
	o->program_counter = kdpkt_get64(p + 0x18);
	decode_report(p + SC_REPORT, machine, &o->report);
	/* the header is 0xF0 whatever the architecture (the report is a
	 * union sized for AMD64); anything after it is extra data */
	size_t hdr = len < KD_STATE_CHANGE_SIZE ? len : KD_STATE_CHANGE_SIZE;
	o->extra = p + hdr;
	o->extra_len = len - hdr;

	switch (o->new_state & 0xFFFF) {
	case KD_STATE_EXCEPTION:
		o->u.exception.code = kdpkt_get32(p + 0x20);
		o->u.exception.flags = kdpkt_get32(p + 0x24);
		o->u.exception.record = kdpkt_get64(p + 0x28);
		o->u.exception.address = kdpkt_get64(p + 0x30);
		o->u.exception.number_parameters = kdpkt_get32(p + 0x38);
		for (int i = 0; i < 15; i++)
			o->u.exception.information[i] = kdpkt_get64(p + 0x40 + 8 * i);
		o->u.exception.first_chance = kdpkt_get32(p + 0xB8);
		break;
	case KD_STATE_LOAD_SYMBOLS: {
		uint32_t pln = kdpkt_get32(p + 0x20);
		o->u.load_symbols.path_name_length = pln;
		o->u.load_symbols.base_of_dll = kdpkt_get64(p + 0x28);
		o->u.load_symbols.process_id = kdpkt_get64(p + 0x30);
		o->u.load_symbols.checksum = kdpkt_get32(p + 0x38);
		o->u.load_symbols.size_of_image = kdpkt_get32(p + 0x3C);
		o->u.load_symbols.unload = p[0x40] != 0;
		/* the path is the last PathNameLength bytes of the packet,
		 * which holds whatever pad the target put before it */
		if (pln && pln <= o->extra_len)
			copy_cstr(o->path, sizeof o->path, p + len - pln, pln);
		else if (pln)
			return KDT_E_PROTO;
		break;
	}
	case KD_STATE_COMMAND_STRING: {
		o->u.command_string.flags = kdpkt_get32(p + 0x20);
		/* name NUL command NUL */
		const uint8_t *d = o->extra;
		size_t n = o->extra_len;
		const uint8_t *nul = memchr(d, 0, n);
		copy_cstr(o->path, sizeof o->path, d, nul ? (size_t)(nul - d) : n);
		if (nul)
			copy_cstr(o->command, sizeof o->command, nul + 1, n - (size_t)(nul + 1 - d));
		break;
	}
	default:
		break;
	}
	return 0;
}

int kdpkt_decode_debug_io(const uint8_t *p, size_t len, kdpkt_debug_io *o)
{
	if (!p || !o || len < KD_DEBUG_IO_HEADER_SIZE)
		return KDT_E_PROTO;
	memset(o, 0, sizeof *o);
	o->api = kdpkt_get32(p);
	o->processor_level = kdpkt_get16(p + 4);
	o->processor = kdpkt_get16(p + 6);
	o->length = kdpkt_get32(p + 8);
	if (o->api == KD_DEBUG_IO_GET_STRING)
		o->length_read = kdpkt_get32(p + 12);
	o->text = p + KD_DEBUG_IO_HEADER_SIZE;
	size_t avail = len - KD_DEBUG_IO_HEADER_SIZE;
	o->text_len = o->length < avail ? o->length : avail;
	return 0;
}

int kdpkt_encode_get_string_reply(uint8_t *buf, size_t cap, const kdpkt_debug_io *req,
		const char *answer, size_t answer_len)
{
	if (!buf || !req || (answer_len && !answer))
		return KDT_E_INVAL;
	/* the target reserved LengthOfStringRead bytes; never send more */
	if (req->length_read && answer_len > req->length_read)
		answer_len = req->length_read;
	if (answer_len > KDCOM_MAX_PAYLOAD - KD_DEBUG_IO_HEADER_SIZE)
		answer_len = KDCOM_MAX_PAYLOAD - KD_DEBUG_IO_HEADER_SIZE;
	if (cap < KD_DEBUG_IO_HEADER_SIZE + answer_len)
		return KDT_E_NOSPACE;
	kdpkt_put32(buf, KD_DEBUG_IO_GET_STRING);
	kdpkt_put16(buf + 4, req->processor_level);
	kdpkt_put16(buf + 6, req->processor);
	kdpkt_put32(buf + 8, req->length);
	kdpkt_put32(buf + 12, (uint32_t)answer_len);
	if (answer_len)
		memcpy(buf + KD_DEBUG_IO_HEADER_SIZE, answer, answer_len);
	return (int)(KD_DEBUG_IO_HEADER_SIZE + answer_len);
}

/* UTF-16LE (NUL or end terminated) to UTF-8, truncated to cap-1. */
static void utf16_to_utf8(char *dst, size_t cap, const uint8_t *src, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i + 1 < n; i += 2) {
		uint32_t c = kdpkt_get16(src + i);
		if (c == 0)
			break;
		if (c >= 0xD800 && c < 0xDC00 && i + 3 < n) {
			uint32_t lo = kdpkt_get16(src + i + 2);
			if (lo >= 0xDC00 && lo < 0xE000) {
				c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
				i += 2;
			} else {
				c = 0xFFFD;
			}
		} else if (c >= 0xD800 && c < 0xE000) {
			c = 0xFFFD;
		}
		uint8_t b[4];
		size_t k;
		if (c < 0x80) {
			b[0] = (uint8_t)c;
			k = 1;
		} else if (c < 0x800) {
			b[0] = (uint8_t)(0xC0 | (c >> 6));
			b[1] = (uint8_t)(0x80 | (c & 0x3F));
			k = 2;
		} else if (c < 0x10000) {
			b[0] = (uint8_t)(0xE0 | (c >> 12));
			b[1] = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
			b[2] = (uint8_t)(0x80 | (c & 0x3F));
			k = 3;
		} else {
			b[0] = (uint8_t)(0xF0 | (c >> 18));
			b[1] = (uint8_t)(0x80 | ((c >> 12) & 0x3F));
			b[2] = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
			b[3] = (uint8_t)(0x80 | (c & 0x3F));
			k = 4;
		}
		if (o + k >= cap)
			break;
		memcpy(dst + o, b, k);
		o += k;
	}
	if (cap)
		dst[o] = 0;
}

int kdpkt_decode_file_io(const uint8_t *p, size_t len, kdpkt_file_io *o)
{
	if (!p || !o || len < KD_FILE_IO_HEADER_SIZE)
		return KDT_E_PROTO;
	memset(o, 0, sizeof *o);
	o->api = kdpkt_get32(p);
	o->status = kdpkt_get32(p + 4);
	o->data = p + KD_FILE_IO_HEADER_SIZE;
	o->data_len = len - KD_FILE_IO_HEADER_SIZE;
	switch (o->api) {
	case KD_FILE_IO_CREATE:
		o->u.create.desired_access = kdpkt_get32(p + 0x08);
		o->u.create.file_attributes = kdpkt_get32(p + 0x0C);
		o->u.create.share_access = kdpkt_get32(p + 0x10);
		o->u.create.create_disposition = kdpkt_get32(p + 0x14);
		o->u.create.create_options = kdpkt_get32(p + 0x18);
		o->u.create.handle = kdpkt_get64(p + 0x20);
		o->u.create.length = kdpkt_get64(p + 0x28);
		utf16_to_utf8(o->name, sizeof o->name, o->data, o->data_len);
		break;
	case KD_FILE_IO_READ:
	case KD_FILE_IO_WRITE:
		o->u.rw.handle = kdpkt_get64(p + 0x08);
		o->u.rw.offset = kdpkt_get64(p + 0x10);
		o->u.rw.length = kdpkt_get32(p + 0x18);
		break;
	case KD_FILE_IO_CLOSE:
		o->u.close.handle = kdpkt_get64(p + 0x08);
		break;
	default:
		break;
	}
	return 0;
}

int kdpkt_encode_file_io_decline(uint8_t *buf, size_t cap, const uint8_t *req, size_t req_len)
{
	if (!buf || !req || req_len < KD_FILE_IO_HEADER_SIZE)
		return KDT_E_INVAL;
	if (cap < KD_FILE_IO_HEADER_SIZE)
		return KDT_E_NOSPACE;
	/* WinDbg echoes the 64-byte header with only Status changed
	 * (capture §6) */
	memcpy(buf, req, KD_FILE_IO_HEADER_SIZE);
	kdpkt_put32(buf + 4, KD_STATUS_NO_SUCH_FILE);
	return KD_FILE_IO_HEADER_SIZE;
}

/* ---------------- names ---------------- */

static const struct { uint32_t api; const char *name; } api_names[] = {
	{ KD_API_READ_VIRTUAL_MEMORY, "ReadVirtualMemory" },
	{ KD_API_WRITE_VIRTUAL_MEMORY, "WriteVirtualMemory" },
	{ KD_API_GET_CONTEXT, "GetContext" },
	{ KD_API_SET_CONTEXT, "SetContext" },
	{ KD_API_WRITE_BREAKPOINT, "WriteBreakPoint" },
	{ KD_API_RESTORE_BREAKPOINT, "RestoreBreakPoint" },
	{ KD_API_CONTINUE, "Continue" },
	{ KD_API_READ_CONTROL_SPACE, "ReadControlSpace" },
	{ KD_API_WRITE_CONTROL_SPACE, "WriteControlSpace" },
	{ KD_API_READ_IO_SPACE, "ReadIoSpace" },
	{ KD_API_WRITE_IO_SPACE, "WriteIoSpace" },
	{ KD_API_REBOOT, "Reboot" },
	{ KD_API_CONTINUE2, "Continue2" },
	{ KD_API_READ_PHYSICAL_MEMORY, "ReadPhysicalMemory" },
	{ KD_API_WRITE_PHYSICAL_MEMORY, "WritePhysicalMemory" },
	{ KD_API_QUERY_SPECIAL_CALLS, "QuerySpecialCalls" },
	{ KD_API_SET_SPECIAL_CALL, "SetSpecialCall" },
	{ KD_API_CLEAR_SPECIAL_CALLS, "ClearSpecialCalls" },
	{ KD_API_SET_INTERNAL_BREAKPOINT, "SetInternalBreakpoint" },
	{ KD_API_GET_INTERNAL_BREAKPOINT, "GetInternalBreakpoint" },
	{ KD_API_READ_IO_SPACE_EXTENDED, "ReadIoSpaceExtended" },
	{ KD_API_WRITE_IO_SPACE_EXTENDED, "WriteIoSpaceExtended" },
	{ KD_API_GET_VERSION, "GetVersion" },
	{ KD_API_WRITE_BREAKPOINT_EX, "WriteBreakPointEx" },
	{ KD_API_RESTORE_BREAKPOINT_EX, "RestoreBreakPointEx" },
	{ KD_API_CAUSE_BUGCHECK, "CauseBugCheck" },
	{ KD_API_SWITCH_PROCESSOR, "SwitchProcessor" },
	{ KD_API_PAGE_IN, "PageIn" },
	{ KD_API_READ_MSR, "ReadMsr" },
	{ KD_API_WRITE_MSR, "WriteMsr" },
	{ KD_API_SEARCH_MEMORY, "SearchMemory" },
	{ KD_API_GET_BUS_DATA, "GetBusData" },
	{ KD_API_SET_BUS_DATA, "SetBusData" },
	{ KD_API_CHECK_LOW_MEMORY, "CheckLowMemory" },
	{ KD_API_CLEAR_ALL_INTERNAL_BREAKPOINTS, "ClearAllInternalBreakpoints" },
	{ KD_API_FILL_MEMORY, "FillMemory" },
	{ KD_API_QUERY_MEMORY, "QueryMemory" },
	{ KD_API_SWITCH_PARTITION, "SwitchPartition" },
	{ KD_API_WRITE_CUSTOM_BREAKPOINT, "WriteCustomBreakpoint" },
	{ KD_API_GET_CONTEXT_EX, "GetContextEx" },
	{ KD_API_SET_CONTEXT_EX, "SetContextEx" },
	{ KD_STATE_EXCEPTION, "Exception" },
	{ KD_STATE_LOAD_SYMBOLS, "LoadSymbols" },
	{ KD_STATE_COMMAND_STRING, "CommandString" },
	{ KD_DEBUG_IO_PRINT_STRING, "PrintString" },
	{ KD_DEBUG_IO_GET_STRING, "GetString" },
	{ KD_TRACE_IO_API, "TraceIo" },
	{ KD_FILE_IO_CREATE, "CreateFile" },
	{ KD_FILE_IO_READ, "ReadFile" },
	{ KD_FILE_IO_WRITE, "WriteFile" },
	{ KD_FILE_IO_CLOSE, "CloseFile" },
};

const char *kdpkt_api_name(uint32_t api)
{
	for (size_t i = 0; i < sizeof api_names / sizeof api_names[0]; i++)
		if (api_names[i].api == (api & 0xFFFF))
			return api_names[i].name;
	return "?";
}

static const char *const type_names[] = {
	"UNUSED", "STATE_CHANGE32", "STATE_MANIPULATE", "DEBUG_IO", "ACKNOWLEDGE",
	"RESEND", "RESET", "STATE_CHANGE64", "POLL_BREAKIN", "TRACE_IO",
	"CONTROL_REQUEST", "FILE_IO",
};

const char *kdpkt_type_name(uint16_t type)
{
	if (type < sizeof type_names / sizeof type_names[0])
		return type_names[type];
	return "?";
}
