/*
 * kdcom.c - target side of the KDCOM packet layer over COM1, with the
 * semantics of ReactOS kddll (fact sheet sections 1, 3, 4):
 *  - leader resync: four identical 0x30 or 0x69 bytes, anything else restarts;
 *  - the first data packet after boot carries the SYNC bit (0x80800800); an
 *    ACK must match the current id with SYNC masked; then bit 0 flips;
 *  - data packets are retransmitted until ACKed, except DEBUG_IO (one try);
 *  - RESET -> RESET reply, id back to 0x80800000, caller resends;
 *  - bad checksum / trailer / short packet -> RESEND;
 *  - a data packet while waiting for an ACK -> RESEND, own packet counts as
 *    delivered (the client retransmits its request);
 *  - a 0x62 seen while scanning for a leader -> "needs resend" + Ctrl-C pending.
 */
#include "ke.h"

#define LEADER_DATA     0x30303030u
#define LEADER_CONTROL  0x69696969u
#define TRAILING_BYTE   0xAA
#define BREAKIN_BYTE    0x62
#define PACKET_MAX_SIZE 4000
#define INITIAL_PACKET_ID 0x80800000u
#define SYNC_PACKET_ID    0x00000800u

#define PACKET_TYPE_KD_DEBUG_IO    3
#define PACKET_TYPE_KD_ACKNOWLEDGE 4
#define PACKET_TYPE_KD_RESEND      5
#define PACKET_TYPE_KD_RESET       6

/* How long the target waits for an ACK before it retransmits.  Short, so a
 * client attaching to a booted target sees a state change quickly. */
#define KDP_ACK_TIMEOUT_MS  250
#define KDP_BYTE_TIMEOUT_MS 200

static struct {
    uint32_t NextPacketIdToSend;
    int ControlCPending;
} KdpCom;

void KdpComInit(void)
{
    KdpCom.NextPacketIdToSend = INITIAL_PACKET_ID | SYNC_PACKET_ID;
    KdpCom.ControlCPending = 0;
}

int KdpControlCPending(void)
{
    int v = KdpCom.ControlCPending;
    KdpCom.ControlCPending = 0;
    return v;
}

static int KdpReadByte(uint8_t *b, uint64_t deadline)
{
    for (;;) {
        if (KiSerialPoll(COM1, b))
            return 0;
        if (rdtsc() > deadline)
            return -1;
    }
}

static uint64_t KdpDeadline(uint32_t ms)
{
    return rdtsc() + (uint64_t)ms * KiTscPerMs();
}

static int KdpReadBytes(uint8_t *buf, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (KdpReadByte(&buf[i], KdpDeadline(KDP_BYTE_TIMEOUT_MS)))
            return -1;
    return 0;
}

static void KdpPut32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void KdpSendControlPacket(uint16_t type, uint32_t id)
{
    uint8_t h[16];
    KdpPut32(h, LEADER_CONTROL);
    h[4] = (uint8_t)type;
    h[5] = (uint8_t)(type >> 8);
    h[6] = h[7] = 0;
    KdpPut32(h + 8, id);
    KdpPut32(h + 12, 0);
    KiSerialWrite(COM1, h, sizeof(h));
}

static uint32_t KdpChecksum(const uint8_t *p, uint32_t n)
{
    uint32_t sum = 0;
    for (uint32_t i = 0; i < n; i++)
        sum += p[i];
    return sum;
}

static uint32_t KdpGet32(const uint8_t *p)
{
    return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/*
 * Receive one packet of type `type` (PACKET_TYPE_KD_ACKNOWLEDGE to wait for
 * the ACK of our own last packet).  Data packets land in buf (payload only).
 */
int KdpReceivePacket(uint16_t type, void *buf, uint32_t max, uint32_t *len, uint32_t timeout_ms)
{
    uint64_t deadline = KdpDeadline(timeout_ms);
    for (;;) {
        uint8_t b, leader = 0;
        int count = 0;
        while (count < 4) {
            if (KdpReadByte(&b, deadline))
                return KdpCom.ControlCPending ? KDP_PACKET_RESEND : KDP_PACKET_TIMEOUT;
            if (b == 0x30 || b == 0x69) {
                if (count && b != leader)
                    count = 0;
                leader = b;
                count++;
            } else {
                if (b == BREAKIN_BYTE)
                    KdpCom.ControlCPending = 1;
                count = 0;
            }
        }
        uint8_t h[12];
        if (KdpReadBytes(h, sizeof(h)))
            return KDP_PACKET_TIMEOUT;
        uint16_t ptype = (uint16_t)(h[0] | h[1] << 8);
        uint16_t bytes = (uint16_t)(h[2] | h[3] << 8);
        uint32_t id = KdpGet32(h + 4);
        uint32_t checksum = KdpGet32(h + 8);

        if (leader == 0x69) {
            switch (ptype) {
            case PACKET_TYPE_KD_ACKNOWLEDGE:
                if (type == PACKET_TYPE_KD_ACKNOWLEDGE &&
                    id == (KdpCom.NextPacketIdToSend & ~SYNC_PACKET_ID))
                    return KDP_PACKET_RECEIVED;
                continue;                      /* stale or foreign ACK: ignore */
            case PACKET_TYPE_KD_RESET:
                KdpSendControlPacket(PACKET_TYPE_KD_RESET, 0);
                KdpCom.NextPacketIdToSend = INITIAL_PACKET_ID;
                return KDP_PACKET_RESEND;
            default:                           /* RESEND and unknown control types */
                return KDP_PACKET_RESEND;
            }
        }

        if (bytes > PACKET_MAX_SIZE)
            continue;                          /* oversized header: rescan */
        if (type == PACKET_TYPE_KD_ACKNOWLEDGE) {
            /* The client sent data instead of ACKing: it must have our
             * packet; make it resend its own. */
            KdpSendControlPacket(PACKET_TYPE_KD_RESEND, 0);
            return KDP_PACKET_RECEIVED;
        }
        uint8_t *p = buf;
        uint8_t trailer = 0;
        if (bytes > max || KdpReadBytes(p, bytes) || KdpReadBytes(&trailer, 1) ||
            KdpChecksum(p, bytes) != checksum || trailer != TRAILING_BYTE ||
            ptype != type) {
            KdpSendControlPacket(PACKET_TYPE_KD_RESEND, 0);
            continue;
        }
        KdpSendControlPacket(PACKET_TYPE_KD_ACKNOWLEDGE, id);
        *len = bytes;
        return KDP_PACKET_RECEIVED;
    }
}

void KdpSendPacket(uint16_t type, const void *msg, uint32_t len)
{
    for (;;) {
        uint8_t h[16];
        KdpPut32(h, LEADER_DATA);
        h[4] = (uint8_t)type;
        h[5] = (uint8_t)(type >> 8);
        h[6] = (uint8_t)len;
        h[7] = (uint8_t)(len >> 8);
        KdpPut32(h + 8, KdpCom.NextPacketIdToSend);
        KdpPut32(h + 12, KdpChecksum(msg, len));
        KiSerialWrite(COM1, h, sizeof(h));
        KiSerialWrite(COM1, msg, len);
        KiSerialPut(COM1, TRAILING_BYTE);

        int r = KdpReceivePacket(PACKET_TYPE_KD_ACKNOWLEDGE, NULL, 0, NULL, KDP_ACK_TIMEOUT_MS);
        if (r == KDP_PACKET_RECEIVED) {
            KdpCom.NextPacketIdToSend = (KdpCom.NextPacketIdToSend & ~SYNC_PACKET_ID) ^ 1;
            return;
        }
        /* DbgPrint must never hang a target nobody listens to.  The id
         * still moves on: if the client did get the packet but its ACK was
         * late, the next DbgPrint must not look like a duplicate to it. */
        if (type == PACKET_TYPE_KD_DEBUG_IO) {
            KdpCom.NextPacketIdToSend ^= 1;   /* SYNC stays until an ACK comes */
            return;
        }
    }
}
