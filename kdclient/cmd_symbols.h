/*
 * cmd_symbols.h - helpers shared by the symbol commands (cmd_symbols.c,
 * cmd_symbols_dt.c).  Internal to S2's command files.
 */
#ifndef KDCLIENT_CMD_SYMBOLS_H
#define KDCLIENT_CMD_SYMBOLS_H

#include <stdint.h>
#include "session.h"

/* Whitespace split into at most max tokens of 255 characters. */
int kd_sym_split(const char *args, char tok[][256], int max);
unsigned kd_sym_ptr_size(kd_session *s);
/* fffff800`00100000 (or 8 digits on 32-bit targets). */
const char *kd_sym_addr(kd_session *s, uint64_t v, char buf[32]);
/* Names from PDBs and the target, escaped for the terminal. */
void kd_sym_out_name(kd_session *s, const char *text);

int kd_cmd_dt(kd_session *s, const char *name, const char *args);
/* The value of a variable of PDB type ti at addr, as dt prints it after
 * "name : " (x uses it for typed data).  0, or negative when unreadable. */
struct pdb;
int kd_sym_value_at(kd_session *s, struct pdb *pdb, uint32_t ti, uint64_t addr, char *out,
                    size_t len);

#endif
