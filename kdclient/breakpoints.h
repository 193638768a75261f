/*
 * breakpoints.h - the client-side breakpoint list (the source of truth;
 * fact sheet §8: insert everything just before each resume, remove
 * everything right after each stop, never trust an old handle).
 */
#ifndef KDCLIENT_BREAKPOINTS_H
#define KDCLIENT_BREAKPOINTS_H

#include <stddef.h>
#include <stdint.h>
#include "target.h"

typedef enum kd_bp_kind {
	KD_BP_SOFT = 0,     /* int3 through Write/RestoreBreakPoint */
	KD_BP_HW,           /* ba: DR0-3 + DR7 */
} kd_bp_kind;

typedef struct kd_bp {
	unsigned id;
	kd_bp_kind kind;
	int enabled;
	int deferred;        /* bu whose expression does not resolve yet */
	int one_shot;        /* /1: deleted after the first hit */
	int internal;        /* temporary breakpoint of p/gu: not listed */
	uint64_t addr;
	char *expr;          /* what the user typed for the address (bu) */
	char *command;       /* command string run at each hit, or NULL */
	unsigned pass_count; /* as given (1 when not given) */
	unsigned pass_left;  /* passes before it breaks */
	unsigned hits;
	/* ba */
	char access;         /* 'e' 'r' 'w' 'i' */
	unsigned size;       /* 1 2 4 8 */
	int slot;            /* DR0-3, -1 when not placed */
	/* while inserted */
	int inserted;
	uint32_t handle;
} kd_bp;

typedef struct kd_bplist kd_bplist;

kd_bplist *kd_bplist_create(void);
void kd_bplist_destroy(kd_bplist *l);

/* Add a breakpoint; id < 0 picks the lowest free id.  Returns the new
 * entry (owned by the list) or NULL (id in use, no DR slot for ba, memory):
 * *why gets a message. */
kd_bp *kd_bplist_add(kd_bplist *l, int id, kd_bp_kind kind, uint64_t addr,
		     const char **why);
int kd_bplist_remove(kd_bplist *l, unsigned id);
kd_bp *kd_bplist_find(kd_bplist *l, unsigned id);
/* An enabled, non-deferred breakpoint of this kind at addr (NULL if none). */
kd_bp *kd_bplist_at(kd_bplist *l, kd_bp_kind kind, uint64_t addr);
size_t kd_bplist_count(const kd_bplist *l);
kd_bp *kd_bplist_get(kd_bplist *l, size_t i);  /* sorted by id */
void kd_bp_set_command(kd_bp *bp, const char *cmd);
void kd_bp_set_expr(kd_bp *bp, const char *expr);

/* Parse an id list "0", "1 3", "2-4", "*" into a bitmap of ids (< 1024)
 * and report whether it parsed. */
#define KD_BP_MAX_ID 1024
int kd_bp_parse_ids(const char *text, unsigned char sel[KD_BP_MAX_ID]);

/* Insert every enabled software breakpoint except the one at skip_addr
 * (stepping over it) and the hardware ones into DR0-3 of ctx (so that
 * one SetContext places them).  Returns the DR7 value to send with
 * Continue2.  Failures to insert are reported through warn (one line). */
typedef void (*kd_bp_warn_fn)(void *ctx, const char *msg);
uint64_t kd_bplist_insert(kd_bplist *l, kd_target *t, int skip_soft, uint64_t skip_addr,
			  int skip_hw, kd_bp_warn_fn warn, void *wctx);
/* DR7 for the enabled hardware breakpoints, leaving out an execute
 * breakpoint at skip_addr when skip is set (stepping off it). */
uint64_t kd_bplist_dr7(kd_bplist *l, int skip, uint64_t skip_addr);
/* The DR0-3 values for the hardware breakpoints (0 for unused slots). */
void kd_bplist_debug_regs(kd_bplist *l, uint64_t dr[4]);
/* Remove every inserted software breakpoint (tolerates targets that already
 * deleted them, open-points #6). */
void kd_bplist_remove_all(kd_bplist *l, kd_target *t);
/* Which breakpoint a stop hit: a software one at pc for a breakpoint
 * exception, a hardware one whose DR6 bit is set for a single step. */
kd_bp *kd_bplist_hit(kd_bplist *l, uint32_t code, uint64_t pc, uint64_t dr6);

/* One `bl` line, WinDbg's shape:
 *      0 e Disable Clear  fffff800`00101234     0001 (0001) nt!NtCreateFile
 * sym is the symbolized address (or NULL). */
void kd_bp_format(const kd_bp *bp, int ptr64, const char *sym, char *buf, size_t len);

#endif
