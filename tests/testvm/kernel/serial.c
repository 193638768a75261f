/*
 * serial.c - polled 16550 UARTs.  COM1 carries KD (the debugger's port),
 * COM2 receives the crash dump.  No interrupts: the KD layer polls, exactly
 * like kdcom.dll does on a real machine.
 */
#include "ke.h"

#define UART_DATA 0
#define UART_IER  1
#define UART_FCR  2
#define UART_LCR  3
#define UART_MCR  4
#define UART_LSR  5
#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY  0x20

void KiInitSerial(uint16_t port)
{
    outb(port + UART_IER, 0x00);
    outb(port + UART_LCR, 0x80);          /* DLAB: divisor 1 = 115200 baud */
    outb(port + UART_DATA, 0x01);
    outb(port + UART_IER, 0x00);
    outb(port + UART_LCR, 0x03);          /* 8N1 */
    outb(port + UART_FCR, 0x07);          /* FIFOs on, cleared */
    outb(port + UART_MCR, 0x03);          /* DTR | RTS */
}

void KiSerialPut(uint16_t port, uint8_t b)
{
    while (!(inb(port + UART_LSR) & LSR_THR_EMPTY))
        ;
    outb(port + UART_DATA, b);
}

void KiSerialWrite(uint16_t port, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    for (size_t i = 0; i < len; i++)
        KiSerialPut(port, p[i]);
}

int KiSerialPoll(uint16_t port, uint8_t *b)
{
    if (!(inb(port + UART_LSR) & LSR_DATA_READY))
        return 0;
    *b = inb(port + UART_DATA);
    return 1;
}

/* Bulk output without polling LSR per byte: QEMU's 16550 hands each THR
 * write straight to the chardev (a file for COM2), so the poll only doubles
 * the I/O exits.  Used for the crash dump only. */
void KiSerialWriteFast(uint16_t port, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    __asm__ volatile("rep outsb" : "+S"(p), "+c"(len) : "d"(port) : "memory");
}
