/*
 * kdcom_frame.c - KDCOM framing: checksum, frame building, and the
 * byte-driven frame parser with leader resync (fact sheet §1).
 */
#include "transport.h"

#include <string.h>

enum { ST_LEADER, ST_HEADER, ST_PAYLOAD, ST_TRAILER };

uint32_t kdcom_checksum(const void *payload, size_t len)
{
	const uint8_t *p = payload;
	uint32_t sum = 0;
	for (size_t i = 0; i < len; i++)
		sum += p[i];
	return sum;
}

int kdcom_frame(uint8_t *buf, size_t cap, uint32_t leader, uint16_t type,
		uint32_t id, const void *payload, size_t len)
{
	bool data = leader == KDCOM_LEADER_DATA;
	if (leader != KDCOM_LEADER_DATA && leader != KDCOM_LEADER_CONTROL)
		return KDT_E_INVAL;
	if (len > KDCOM_MAX_PAYLOAD || (!data && len) || (len && !payload))
		return KDT_E_INVAL;
	size_t total = KDCOM_HEADER_SIZE + len + (data ? 1 : 0);
	if (!buf || cap < total)
		return KDT_E_NOSPACE;
	kdpkt_put32(buf, leader);
	kdpkt_put16(buf + 4, type);
	kdpkt_put16(buf + 6, (uint16_t)len);
	kdpkt_put32(buf + 8, id);
	/* control packets carry ByteCount 0 and checksum 0 (capture §2) */
	kdpkt_put32(buf + 12, data ? kdcom_checksum(payload, len) : 0);
	if (len)
		memcpy(buf + KDCOM_HEADER_SIZE, payload, len);
	if (data)
		buf[KDCOM_HEADER_SIZE + len] = KDCOM_TRAILER;
	return (int)total;
}

void kdcom_parser_init(kdcom_parser *p)
{
	memset(p, 0, sizeof *p);
	p->state = ST_LEADER;
	p->trailer = true;
}

static void restart(kdcom_parser *p)
{
	p->state = ST_LEADER;
	p->lead_count = 0;
	p->got = 0;
}

bool kdcom_parser_busy(const kdcom_parser *p)
{
	return p->state != ST_LEADER;
}

void kdcom_parser_reset(kdcom_parser *p)
{
	restart(p);
}

static kdcom_parse_result header_done(kdcom_parser *p, kdcom_packet *out)
{
	out->leader = kdpkt_get32(p->hdr);
	out->type = kdpkt_get16(p->hdr + 4);
	out->len = kdpkt_get16(p->hdr + 6);
	out->id = kdpkt_get32(p->hdr + 8);
	out->checksum = kdpkt_get32(p->hdr + 12);
	if (out->leader == KDCOM_LEADER_CONTROL) {
		restart(p);
		if (out->len != 0) {
			/* a control packet never has a payload: this header is
			 * damaged; rescan (nothing to ask a resend of) */
			p->garbage += KDCOM_HEADER_SIZE;
			return KDCOM_PARSE_MORE;
		}
		return KDCOM_PARSE_PACKET;
	}
	if (out->len > KDCOM_MAX_PAYLOAD) {
		/* the target drops such headers and rescans (§1) */
		restart(p);
		p->bad++;
		return KDCOM_PARSE_BAD;
	}
	p->sum = 0;
	p->got = 0;
	if (out->len == 0) {
		p->state = p->trailer ? ST_TRAILER : ST_LEADER;
		if (!p->trailer)
			goto finish;
		return KDCOM_PARSE_MORE;
	}
	p->state = ST_PAYLOAD;
	return KDCOM_PARSE_MORE;
finish:
	restart(p);
	if (p->sum != out->checksum) {
		p->bad++;
		return KDCOM_PARSE_BAD;
	}
	return KDCOM_PARSE_PACKET;
}

kdcom_parse_result kdcom_parser_feed(kdcom_parser *p, uint8_t b, kdcom_packet *out)
{
	switch (p->state) {
	case ST_LEADER:
		if (b == KDCOM_LEADER_BYTE_DATA || b == KDCOM_LEADER_BYTE_CONTROL) {
			if (p->lead_count > 0 && b == p->lead_byte) {
				p->lead_count++;
			} else {
				/* mixed leader bytes: start again from this one (§1) */
				p->garbage += (uint64_t)p->lead_count;
				p->lead_byte = b;
				p->lead_count = 1;
			}
			if (p->lead_count == 4) {
				memset(p->hdr, b, 4);
				p->got = 4;
				p->state = ST_HEADER;
			}
			return KDCOM_PARSE_MORE;
		}
		if (b == KDCOM_BREAKIN_BYTE && p->lead_count == 0)
			return KDCOM_PARSE_BREAKIN;
		p->garbage += (uint64_t)p->lead_count + 1;
		p->lead_count = 0;
		return KDCOM_PARSE_MORE;
	case ST_HEADER:
		p->hdr[p->got++] = b;
		if (p->got == KDCOM_HEADER_SIZE)
			return header_done(p, out);
		return KDCOM_PARSE_MORE;
	case ST_PAYLOAD:
		out->payload[p->got++] = b;
		p->sum += b;
		if (p->got < out->len)
			return KDCOM_PARSE_MORE;
		if (p->trailer) {
			p->state = ST_TRAILER;
			return KDCOM_PARSE_MORE;
		}
		restart(p);
		if (p->sum != out->checksum) {
			p->bad++;
			return KDCOM_PARSE_BAD;
		}
		return KDCOM_PARSE_PACKET;
	case ST_TRAILER:
		restart(p);
		if (b != KDCOM_TRAILER || p->sum != out->checksum) {
			p->bad++;
			return KDCOM_PARSE_BAD;
		}
		return KDCOM_PARSE_PACKET;
	}
	restart(p);
	return KDCOM_PARSE_MORE;
}
