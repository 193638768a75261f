/*
 * kdpkt_manip.c - DBGKD_MANIPULATE_STATE64 requests and replies, and
 * DBGKD_GET_VERSION64 (fact sheet §7, §10). Explicit little-endian field
 * access at the offsets of the fact sheet; no struct overlays.
 */
#include "transport.h"

#include <string.h>

/* Offsets inside the 0x38-byte header. */
enum {
	M_API = 0x00, M_PROC_LEVEL = 0x04, M_PROC = 0x06, M_STATUS = 0x08,
	M_U = 0x10, M_U_SIZE = 40,
};

/* The common header. WinDbg puts STATUS_PENDING in ReturnStatus of
 * requests (capture frames 10, 194) and, for Continue/Continue2, the
 * continue status itself (frames 234, 950, 954). */
static int header(uint8_t *buf, size_t cap, size_t data_len, uint32_t api,
		uint16_t processor, uint32_t status)
{
	if (!buf)
		return KDT_E_INVAL;
	if (data_len > KD_MANIP_MAX_DATA)
		return KDT_E_INVAL;
	if (cap < KD_MANIP_HEADER_SIZE + data_len)
		return KDT_E_NOSPACE;
	memset(buf, 0, KD_MANIP_HEADER_SIZE);
	kdpkt_put32(buf + M_API, api);
	kdpkt_put16(buf + M_PROC_LEVEL, 0);
	kdpkt_put16(buf + M_PROC, processor);
	kdpkt_put32(buf + M_STATUS, status);
	return KD_MANIP_HEADER_SIZE;
}

int kdpkt_encode_get_version(uint8_t *buf, size_t cap, uint16_t processor)
{
	return header(buf, cap, 0, KD_API_GET_VERSION, processor, KD_STATUS_PENDING);
}

/* DBGKD_READ_MEMORY64 / WRITE_MEMORY64: TargetBaseAddress u64 @0x10,
 * TransferCount u32 @0x18, ActualBytes u32 @0x1C, data at 0x38. */
static int memory_req(uint8_t *buf, size_t cap, uint32_t api, uint16_t processor,
		uint64_t address, uint32_t count, uint32_t actual, const void *data)
{
	size_t dl = data ? count : 0;
	if (!data && count > KD_MANIP_MAX_DATA)
		return KDT_E_INVAL; /* the reply could not carry it (§1) */
	int n = header(buf, cap, dl, api, processor, KD_STATUS_PENDING);
	if (n < 0)
		return n;
	kdpkt_put64(buf + M_U, address);
	kdpkt_put32(buf + M_U + 8, count);
	kdpkt_put32(buf + M_U + 12, actual);
	if (dl)
		memcpy(buf + KD_MANIP_HEADER_SIZE, data, dl);
	return (int)(KD_MANIP_HEADER_SIZE + dl);
}

int kdpkt_encode_read_virtual(uint8_t *buf, size_t cap, uint16_t processor,
		uint64_t address, uint32_t count)
{
	return memory_req(buf, cap, KD_API_READ_VIRTUAL_MEMORY, processor, address, count, 0, NULL);
}

int kdpkt_encode_write_virtual(uint8_t *buf, size_t cap, uint16_t processor,
		uint64_t address, const void *data, uint32_t count)
{
	if (!data && count)
		return KDT_E_INVAL;
	return memory_req(buf, cap, KD_API_WRITE_VIRTUAL_MEMORY, processor, address, count, 0,
			data ? data : "");
}

int kdpkt_encode_read_physical(uint8_t *buf, size_t cap, uint16_t processor,
		uint64_t address, uint32_t count, uint32_t caching)
{
	return memory_req(buf, cap, KD_API_READ_PHYSICAL_MEMORY, processor, address, count, caching, NULL);
}

int kdpkt_encode_write_physical(uint8_t *buf, size_t cap, uint16_t processor,
		uint64_t address, const void *data, uint32_t count, uint32_t caching)
{
	if (!data && count)
		return KDT_E_INVAL;
	return memory_req(buf, cap, KD_API_WRITE_PHYSICAL_MEMORY, processor, address, count, caching,
			data ? data : "");
}

int kdpkt_encode_read_control(uint8_t *buf, size_t cap, uint16_t processor,
		uint64_t address, uint32_t count)
{
	return memory_req(buf, cap, KD_API_READ_CONTROL_SPACE, processor, address, count, 0, NULL);
}

int kdpkt_encode_write_control(uint8_t *buf, size_t cap, uint16_t processor,
		uint64_t address, const void *data, uint32_t count)
{
	if (!data && count)
		return KDT_E_INVAL;
	return memory_req(buf, cap, KD_API_WRITE_CONTROL_SPACE, processor, address, count, 0,
			data ? data : "");
}

int kdpkt_encode_get_context(uint8_t *buf, size_t cap, uint16_t processor, uint32_t context_size)
{
	int n = header(buf, cap, 0, KD_API_GET_CONTEXT, processor, KD_STATUS_PENDING);
	if (n < 0)
		return n;
	/* WinDbg: 0 at union+0, the CONTEXT size at union+4 (open-points #9) */
	kdpkt_put32(buf + M_U + 4, context_size);
	return n;
}

int kdpkt_encode_set_context(uint8_t *buf, size_t cap, uint16_t processor,
		uint32_t context_flags, const void *context, uint32_t context_size)
{
	if (!context || !context_size)
		return KDT_E_INVAL;
	int n = header(buf, cap, context_size, KD_API_SET_CONTEXT, processor, KD_STATUS_PENDING);
	if (n < 0)
		return n;
	kdpkt_put32(buf + M_U, context_flags);
	memcpy(buf + KD_MANIP_HEADER_SIZE, context, context_size);
	return (int)(KD_MANIP_HEADER_SIZE + context_size);
}

int kdpkt_encode_get_context_ex(uint8_t *buf, size_t cap, uint16_t processor,
		uint32_t offset, uint32_t count)
{
	int n = header(buf, cap, 0, KD_API_GET_CONTEXT_EX, processor, KD_STATUS_PENDING);
	if (n < 0)
		return n;
	kdpkt_put32(buf + M_U, offset);
	kdpkt_put32(buf + M_U + 4, count);
	return n;
}

int kdpkt_encode_write_breakpoint(uint8_t *buf, size_t cap, uint16_t processor, uint64_t address)
{
	int n = header(buf, cap, 0, KD_API_WRITE_BREAKPOINT, processor, KD_STATUS_PENDING);
	if (n < 0)
		return n;
	kdpkt_put64(buf + M_U, address);
	return n;
}

int kdpkt_encode_restore_breakpoint(uint8_t *buf, size_t cap, uint16_t processor, uint32_t handle)
{
	int n = header(buf, cap, 0, KD_API_RESTORE_BREAKPOINT, processor, KD_STATUS_PENDING);
	if (n < 0)
		return n;
	kdpkt_put32(buf + M_U, handle);
	return n;
}

int kdpkt_encode_continue(uint8_t *buf, size_t cap, uint16_t processor, uint32_t continue_status)
{
	int n = header(buf, cap, 0, KD_API_CONTINUE, processor, continue_status);
	if (n < 0)
		return n;
	kdpkt_put32(buf + M_U, continue_status);
	return n;
}

int kdpkt_encode_continue2(uint8_t *buf, size_t cap, uint16_t processor,
		uint16_t machine, const kdpkt_continue2 *c)
{
	if (!c)
		return KDT_E_INVAL;
	int n = header(buf, cap, 0, KD_API_CONTINUE2, processor, c->continue_status);
	if (n < 0)
		return n;
	uint8_t *u = buf + M_U;
	kdpkt_put32(u, c->continue_status);
	/* the control set is packed at union+4 (pack 4, §7; capture §11) */
	if (machine == KD_MACHINE_I386) {
		kdpkt_put32(u + 4, c->trace_flag);
		kdpkt_put32(u + 8, (uint32_t)c->dr7);
		kdpkt_put32(u + 12, (uint32_t)c->sym_start);
		kdpkt_put32(u + 16, (uint32_t)c->sym_end);
	} else if (machine == KD_MACHINE_AMD64) {
		kdpkt_put32(u + 4, c->trace_flag);
		kdpkt_put64(u + 8, c->dr7);
		kdpkt_put64(u + 16, c->sym_start);
		kdpkt_put64(u + 24, c->sym_end);
	} else {
		return KDT_E_INVAL;
	}
	return n;
}

int kdpkt_encode_read_msr(uint8_t *buf, size_t cap, uint16_t processor, uint32_t msr)
{
	int n = header(buf, cap, 0, KD_API_READ_MSR, processor, KD_STATUS_PENDING);
	if (n < 0)
		return n;
	kdpkt_put32(buf + M_U, msr);
	return n;
}

int kdpkt_encode_write_msr(uint8_t *buf, size_t cap, uint16_t processor, uint32_t msr, uint64_t value)
{
	int n = header(buf, cap, 0, KD_API_WRITE_MSR, processor, KD_STATUS_PENDING);
	if (n < 0)
		return n;
	kdpkt_put32(buf + M_U, msr);
	kdpkt_put32(buf + M_U + 4, (uint32_t)value);
	kdpkt_put32(buf + M_U + 8, (uint32_t)(value >> 32));
	return n;
}

int kdpkt_encode_switch_processor(uint8_t *buf, size_t cap, uint16_t processor)
{
	return header(buf, cap, 0, KD_API_SWITCH_PROCESSOR, processor, KD_STATUS_PENDING);
}

int kdpkt_encode_reboot(uint8_t *buf, size_t cap)
{
	return header(buf, cap, 0, KD_API_REBOOT, 0, KD_STATUS_PENDING);
}

int kdpkt_encode_cause_bugcheck(uint8_t *buf, size_t cap)
{
	return header(buf, cap, 0, KD_API_CAUSE_BUGCHECK, 0, KD_STATUS_PENDING);
}

/* ---------------- decoding ---------------- */

int kdpkt_decode_version(const uint8_t *p, size_t len, kdpkt_version *v)
{
	if (!p || len < 0x28)
		return KDT_E_PROTO;
	memset(v, 0, sizeof *v);
	v->major_version = kdpkt_get16(p + 0x00);
	v->minor_version = kdpkt_get16(p + 0x02);
	v->protocol_version = p[0x04];
	v->kd_secondary_version = p[0x05];
	v->flags = kdpkt_get16(p + 0x06);
	v->machine_type = kdpkt_get16(p + 0x08);
	v->max_packet_type = p[0x0A];
	v->max_state_change = p[0x0B];
	v->max_manipulate = p[0x0C];
	v->simulation = p[0x0D];
	v->kern_base = kdpkt_get64(p + 0x10);
	v->ps_loaded_module_list = kdpkt_get64(p + 0x18);
	v->debugger_data_list = kdpkt_get64(p + 0x20);
	return 0;
}

int kdpkt_decode_manip(const uint8_t *p, size_t len, kdpkt_manip *m)
{
	if (!p || !m || len < KD_MANIP_HEADER_SIZE)
		return KDT_E_PROTO;
	memset(m, 0, sizeof *m);
	m->api = kdpkt_get32(p + M_API);
	m->processor_level = kdpkt_get16(p + M_PROC_LEVEL);
	m->processor = kdpkt_get16(p + M_PROC);
	m->return_status = kdpkt_get32(p + M_STATUS);
	memcpy(m->raw_union, p + M_U, M_U_SIZE);
	m->data = p + KD_MANIP_HEADER_SIZE;
	m->data_len = len - KD_MANIP_HEADER_SIZE;

	const uint8_t *u = p + M_U;
	switch (m->api) {
	case KD_API_READ_VIRTUAL_MEMORY:
	case KD_API_WRITE_VIRTUAL_MEMORY:
	case KD_API_READ_PHYSICAL_MEMORY:
	case KD_API_WRITE_PHYSICAL_MEMORY:
	case KD_API_READ_CONTROL_SPACE:
	case KD_API_WRITE_CONTROL_SPACE:
		m->u.memory.address = kdpkt_get64(u);
		m->u.memory.transfer_count = kdpkt_get32(u + 8);
		m->u.memory.actual_bytes = kdpkt_get32(u + 12);
		break;
	case KD_API_GET_VERSION:
		kdpkt_decode_version(u, M_U_SIZE, &m->u.version);
		break;
	case KD_API_GET_CONTEXT:
	case KD_API_SET_CONTEXT:
		m->u.context.flags = kdpkt_get32(u);
		m->u.context.size = kdpkt_get32(u + 4);
		break;
	case KD_API_GET_CONTEXT_EX:
	case KD_API_SET_CONTEXT_EX:
		m->u.context_ex.offset = kdpkt_get32(u);
		m->u.context_ex.byte_count = kdpkt_get32(u + 4);
		m->u.context_ex.bytes_copied = kdpkt_get32(u + 8);
		break;
	case KD_API_WRITE_BREAKPOINT:
		m->u.write_bp.address = kdpkt_get64(u);
		m->u.write_bp.handle = kdpkt_get32(u + 8);
		break;
	case KD_API_RESTORE_BREAKPOINT:
		m->u.restore_bp.handle = kdpkt_get32(u);
		break;
	case KD_API_CONTINUE:
		m->u.cont.continue_status = kdpkt_get32(u);
		break;
	case KD_API_CONTINUE2:
		m->u.cont2.continue_status = kdpkt_get32(u);
		m->u.cont2.trace_flag = kdpkt_get32(u + 4);
		m->u.cont2.dr7 = kdpkt_get64(u + 8);
		m->u.cont2.sym_start = kdpkt_get64(u + 16);
		m->u.cont2.sym_end = kdpkt_get64(u + 24);
		break;
	case KD_API_READ_MSR:
	case KD_API_WRITE_MSR:
		m->u.msr.msr = kdpkt_get32(u);
		m->u.msr.value = (uint64_t)kdpkt_get32(u + 4) | ((uint64_t)kdpkt_get32(u + 8) << 32);
		break;
	case KD_API_READ_IO_SPACE:
	case KD_API_WRITE_IO_SPACE:
		m->u.io.address = kdpkt_get64(u);
		m->u.io.data_size = kdpkt_get32(u + 8);
		m->u.io.data_value = kdpkt_get32(u + 12);
		break;
	case KD_API_SEARCH_MEMORY:
		m->u.search.address = kdpkt_get64(u);
		m->u.search.length = kdpkt_get64(u + 8);
		m->u.search.pattern_length = kdpkt_get32(u + 16);
		break;
	case KD_API_QUERY_MEMORY:
		m->u.query_memory.address = kdpkt_get64(u);
		m->u.query_memory.reserved = kdpkt_get64(u + 8);
		m->u.query_memory.address_space = kdpkt_get32(u + 16);
		m->u.query_memory.flags = kdpkt_get32(u + 20);
		break;
	default:
		break; /* raw_union still has the bytes */
	}
	return 0;
}
