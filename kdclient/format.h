/*
 * format.h - WinDbg's output shapes as pure functions writing into a
 * caller's buffer (no session, no I/O), so that each shape is unit-tested
 * against the exact strings WinDbg prints.
 *
 * ptr_size is the target's pointer width (8 or 4): addresses print as
 * fffff800`00100000 on 64-bit targets and as 8 hex digits on 32-bit ones.
 * Bytes the target could not supply are marked in `valid` (NULL means all
 * readable) and print as question marks, never as made-up data.
 * Each function returns the length written (the output is always
 * NUL-terminated and truncated to outlen).
 */
#ifndef KDCLIENT_FORMAT_H
#define KDCLIENT_FORMAT_H

#include <stddef.h>
#include <stdint.h>

/* Long enough for any line these functions produce, symbols included. */
#define KD_FMT_LINE 512

/* fffff800`00100000, or 00100000 when ptr_size is 4. */
size_t kd_fmt_addr(char *out, size_t outlen, unsigned ptr_size, uint64_t v);
/* Always the 64-bit shape: 00000000`00001000 (dq values, `?`). */
size_t kd_fmt_u64(char *out, size_t outlen, uint64_t v);

/*
 * db line: up to 16 bytes.  `lead` blank byte slots come first when a
 * caller wants 16-byte columns ("...1003           00 00 ..."); WinDbg's
 * db itself does not realign and passes 0.  The ASCII column shows 0x20-0x7e,
 * '.' for other bytes and '?' for unreadable ones.
 *   fffff800`00100000  4d 5a 90 00 03 00 00 00-04 00 00 00 ff ff 00 00  MZ..............
 */
size_t kd_fmt_db_line(char *out, size_t outlen, unsigned ptr_size, uint64_t addr,
		      const uint8_t *data, const uint8_t *valid, size_t n, size_t lead);

/*
 * dw / dd / dq line: `n` units of `unit` bytes (2, 4 or 8) taken from data
 * (little-endian), separated by one blank; unreadable units print as
 * ???? / ???????? / ????????`????????.  WinDbg puts 8 words, 4 dwords or 2
 * qwords on a line (KD_FMT_PER_LINE).
 */
size_t kd_fmt_units_line(char *out, size_t outlen, unsigned ptr_size, uint64_t addr,
			 unsigned unit, const uint8_t *data, const uint8_t *valid, size_t n);
unsigned kd_fmt_per_line(unsigned unit);   /* 16, 8, 4, 2 for 1, 2, 4, 8 */

/*
 * da / du line: the characters between quotes, as WinDbg prints them;
 * characters outside 0x20-0x7e are shown as '.', so nothing the target
 * wrote reaches the terminal raw.  `wide` = du (UTF-16LE units in data,
 * 2*n bytes).
 *   fffff800`00100000  "MZ."
 */
size_t kd_fmt_chars_line(char *out, size_t outlen, unsigned ptr_size, uint64_t addr,
			 const uint8_t *data, size_t n, int wide);

/*
 * dps / dqs / dds line: one pointer-sized (or `unit`-sized) value and its
 * symbol when one is given (sym NULL or "" for none).
 *   fffff800`00100000  fffff800`00101234 nt!KiSystemStartup+0x34
 */
size_t kd_fmt_ptrsym_line(char *out, size_t outlen, unsigned ptr_size, uint64_t addr,
			  unsigned unit, uint64_t value, int readable, const char *sym);

/* `? expr`: "Evaluate expression: 4096 = 00000000`00001000" (8 digits on
 * 32-bit targets for 32-bit values, -1 included; the decimal is signed
 * 64-bit, as WinDbg prints it). */
size_t kd_fmt_evaluate(char *out, size_t outlen, unsigned ptr_size, uint64_t v);

/*
 * .formats: the value in every notation, several lines ending in '\n':
 *   Evaluate expression:
 *     Hex:     00000000`00000012
 *     Decimal: 18
 *     Octal:   0000000000000000000022
 *     Binary:  00000000 00000000 00000000 00000000 ...
 *     Chars:   ........
 *     Time:    Thu Jan  1 00:00:18 1970
 *     Float:   low 2.52234e-44 high 0
 *     Double:  8.89318e-323
 * 64-bit forms for ptr_size 8, 32-bit ones for 4.  Time is the CRT time
 * (UTC) for values below 2^32, else a FILETIME.
 */
size_t kd_fmt_formats(char *out, size_t outlen, unsigned ptr_size, uint64_t v);

/* Escape bytes for the terminal: printable ASCII as is, \n \t \r \\ as
 * escapes, every other byte as \xNN.  Returns the length written. */
size_t kd_fmt_escape(char *out, size_t outlen, const char *text, size_t len);

/* Make a name safe for the terminal in place: every byte outside
 * 0x20-0x7e becomes '?'.  Symbol names can come from a target's export
 * table, so they get the same distrust as its memory.  Returns s. */
char *kd_fmt_sanitize(char *s);

/* Little-endian load of 1, 2, 4 or 8 bytes. */
uint64_t kd_fmt_le(const uint8_t *p, unsigned size);

#endif
