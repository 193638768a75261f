/*
 * nt_process.h - walking the kernel's process and thread lists and a
 * process's PEB loader lists, through a memory-read callback and the
 * offsets of nt_types.h.  Every structure is read in ONE request (a whole
 * EPROCESS, a whole ETHREAD, a whole loader entry): round trips are the
 * cost of a serial debugger, fields are then decoded from the buffer.
 */
#ifndef KDCLIENT_NT_PROCESS_H
#define KDCLIENT_NT_PROCESS_H

#include <stddef.h>
#include <stdint.h>
#include "nt_types.h"

/* Read len bytes: 0 if all were read, else < 0. */
typedef int (*nt_read_fn)(void *ctx, uint64_t addr, void *buf, size_t len);

typedef struct nt_process {
	uint64_t eprocess;
	uint64_t pid, parent_pid;
	uint64_t dirbase;
	uint64_t peb;
	uint64_t object_table;
	uint32_t session_id;         /* NT_OFF_NONE when unknown */
	char image[16];              /* ImageFileName, NUL-terminated (raw bytes: escape) */
	uint64_t thread_head;        /* address of the thread list head */
	uint32_t thread_link_off;    /* offset of the list entry in ETHREAD */
} nt_process;

typedef struct nt_thread {
	uint64_t ethread;
	uint64_t pid, tid;
	uint64_t teb;
	uint64_t process;            /* KTHREAD.ApcState.Process */
	uint64_t kernel_stack, initial_stack, stack_limit, stack_base;
	uint64_t trap_frame, start, win32_start, win32_thread;
	unsigned state, wait_reason, wait_mode;
	int priority, base_priority;
	uint32_t context_switches, kernel_time, user_time;
} nt_thread;

typedef struct nt_module {
	uint64_t entry;              /* address of the LDR_DATA_TABLE_ENTRY */
	uint64_t base, entry_point;
	uint32_t size, timestamp;
	uint64_t full_name_buf, base_name_buf;   /* UNICODE_STRING buffers */
	uint16_t full_name_len, base_name_len;   /* bytes */
} nt_module;

typedef int (*nt_process_cb)(void *ctx, const nt_process *p);
typedef int (*nt_thread_cb)(void *ctx, const nt_thread *t);
typedef int (*nt_module_cb)(void *ctx, const nt_module *m);

#define NT_MAX_LIST 4096       /* a corrupted list must not loop forever */

/* Decode one EPROCESS already in buf (len bytes read at eprocess). */
void nt_decode_process(const nt_offsets *o, uint64_t eprocess, const uint8_t *buf, size_t len,
                       nt_process *p);
int nt_read_process(const nt_offsets *o, nt_read_fn read, void *ctx, uint64_t eprocess,
                    nt_process *p);
/* Walk PsActiveProcessHead (the address of the list head).  A callback's
 * nonzero return stops the walk and is returned.  < 0 on read errors
 * (message in err). */
int nt_walk_processes(const nt_offsets *o, nt_read_fn read, void *ctx, uint64_t head,
                      nt_process_cb cb, void *cbctx, char *err, size_t errlen);

void nt_decode_thread(const nt_offsets *o, uint64_t ethread, const uint8_t *buf, size_t len,
                      nt_thread *t);
int nt_read_thread(const nt_offsets *o, nt_read_fn read, void *ctx, uint64_t ethread,
                   nt_thread *t);
int nt_walk_threads(const nt_offsets *o, nt_read_fn read, void *ctx, const nt_process *p,
                    nt_thread_cb cb, void *cbctx, char *err, size_t errlen);

/* PEB -> Ldr -> InLoadOrderModuleList (read through a view that maps the
 * process's user space).  */
int nt_walk_peb_modules(const nt_offsets *o, nt_read_fn read, void *ctx, uint64_t peb,
                        nt_module_cb cb, void *cbctx, char *err, size_t errlen);

/* A UNICODE_STRING's text as UTF-8 with control characters escaped
 * (target strings never reach the terminal raw).  Reads the buffer in one
 * request; at most max_bytes of UTF-16 are read. */
int nt_read_unicode(nt_read_fn read, void *ctx, uint64_t buf, uint16_t len_bytes,
                    char *out, size_t outlen);
/* Decode a UNICODE_STRING header (Length, MaximumLength, Buffer) at off. */
void nt_buf_unicode(const nt_offsets *o, const uint8_t *b, size_t len, uint32_t off,
                    uint16_t *length, uint64_t *buffer);
/* Convert UTF-16LE to escaped UTF-8 (shared by !peb's environment dump). */
size_t nt_utf16_to_utf8(const uint8_t *in, size_t in_bytes, char *out, size_t outlen);

/* Thread state / wait reason names as WinDbg prints them. */
const char *nt_thread_state_name(unsigned state);
const char *nt_wait_reason_name(unsigned reason);

#endif
