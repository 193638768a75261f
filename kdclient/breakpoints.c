/*
 * breakpoints.c - breakpoint bookkeeping, insertion on resume and removal
 * on stop (fact sheet §8), DR7 encoding for ba, and the `bl` line.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "breakpoints.h"

struct kd_bplist {
	kd_bp **v;           /* sorted by id */
	size_t n, cap;
};

kd_bplist *kd_bplist_create(void)
{
	return calloc(1, sizeof(kd_bplist));
}

static void bp_free(kd_bp *bp)
{
	if (!bp)
		return;
	free(bp->expr);
	free(bp->command);
	free(bp);
}

void kd_bplist_destroy(kd_bplist *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		bp_free(l->v[i]);
	free(l->v);
	free(l);
}

kd_bp *kd_bplist_find(kd_bplist *l, unsigned id)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i]->id == id)
			return l->v[i];
	return NULL;
}

size_t kd_bplist_count(const kd_bplist *l) { return l->n; }
kd_bp *kd_bplist_get(kd_bplist *l, size_t i) { return i < l->n ? l->v[i] : NULL; }

static int slot_used(kd_bplist *l, int slot)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i]->kind == KD_BP_HW && l->v[i]->slot == slot)
			return 1;
	return 0;
}

kd_bp *kd_bplist_add(kd_bplist *l, int id, kd_bp_kind kind, uint64_t addr,
		     const char **why)
{
	static const char *no_mem = "out of memory";
	if (id < 0) {
		id = 0;
		while (kd_bplist_find(l, (unsigned)id))
			id++;
	} else if (kd_bplist_find(l, (unsigned)id)) {
		if (why)
			*why = "breakpoint id already in use";
		return NULL;
	}
	if (id >= KD_BP_MAX_ID) {
		if (why)
			*why = "breakpoint id out of range";
		return NULL;
	}
	int slot = -1;
	if (kind == KD_BP_HW) {
		for (int s = 0; s < 4; s++)
			if (!slot_used(l, s)) {
				slot = s;
				break;
			}
		if (slot < 0) {
			if (why)
				*why = "no free debug register (DR0-DR3 in use)";
			return NULL;
		}
	}
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 8;
		kd_bp **nv = realloc(l->v, nc * sizeof(*nv));
		if (!nv) {
			if (why)
				*why = no_mem;
			return NULL;
		}
		l->v = nv;
		l->cap = nc;
	}
	kd_bp *bp = calloc(1, sizeof(*bp));
	if (!bp) {
		if (why)
			*why = no_mem;
		return NULL;
	}
	bp->id = (unsigned)id;
	bp->kind = kind;
	bp->enabled = 1;
	bp->addr = addr;
	bp->pass_count = bp->pass_left = 1;
	bp->slot = slot;
	bp->access = 'e';
	bp->size = 1;
	size_t pos = 0;
	while (pos < l->n && l->v[pos]->id < bp->id)
		pos++;
	memmove(&l->v[pos + 1], &l->v[pos], (l->n - pos) * sizeof(*l->v));
	l->v[pos] = bp;
	l->n++;
	return bp;
}

int kd_bplist_remove(kd_bplist *l, unsigned id)
{
	for (size_t i = 0; i < l->n; i++) {
		if (l->v[i]->id == id) {
			bp_free(l->v[i]);
			memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof(*l->v));
			l->n--;
			return 0;
		}
	}
	return -1;
}

kd_bp *kd_bplist_at(kd_bplist *l, kd_bp_kind kind, uint64_t addr)
{
	for (size_t i = 0; i < l->n; i++) {
		kd_bp *bp = l->v[i];
		if (bp->kind == kind && bp->enabled && !bp->deferred && bp->addr == addr)
			return bp;
	}
	return NULL;
}

static char *dup_or_null(const char *s)
{
	return (s && *s) ? strdup(s) : NULL;
}

void kd_bp_set_command(kd_bp *bp, const char *cmd)
{
	free(bp->command);
	bp->command = dup_or_null(cmd);
}

void kd_bp_set_expr(kd_bp *bp, const char *expr)
{
	free(bp->expr);
	bp->expr = dup_or_null(expr);
}

int kd_bp_parse_ids(const char *p, unsigned char sel[KD_BP_MAX_ID])
{
	memset(sel, 0, KD_BP_MAX_ID);
	int any = 0;
	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (!*p)
			break;
		if (*p == '*') {
			memset(sel, 1, KD_BP_MAX_ID);
			p++;
			any = 1;
			continue;
		}
		/* ids are decimal in WinDbg's bl/bc/bd/be */
		if (!isdigit((unsigned char)*p))
			return -1;
		char *end;
		unsigned long a = strtoul(p, &end, 10), b = a;
		p = end;
		if (*p == '-') {
			p++;
			if (!isdigit((unsigned char)*p))
				return -1;
			b = strtoul(p, &end, 10);
			p = end;
		}
		if (a > b || b >= KD_BP_MAX_ID)
			return -1;
		for (unsigned long i = a; i <= b; i++)
			sel[i] = 1;
		any = 1;
	}
	return any ? 0 : -1;
}

/* DR7: local enable bit 2*slot, R/W at 16+4*slot (00 execute, 01 write,
 * 10 I/O, 11 read/write), LEN at 18+4*slot (00 1, 01 2, 11 4, 10 8).
 * Bit 10 reads as 1 on every CPU; WinDbg sends 0x400 with no breakpoints
 * (capture §7), so it is always set. */
static uint64_t dr7_bits(const kd_bp *bp)
{
	unsigned rw = bp->access == 'w' ? 1 : bp->access == 'i' ? 2 : bp->access == 'r' ? 3 : 0;
	unsigned len = bp->size == 2 ? 1 : bp->size == 4 ? 3 : bp->size == 8 ? 2 : 0;
	unsigned s = (unsigned)bp->slot;
	return (1ull << (2 * s)) | ((uint64_t)rw << (16 + 4 * s)) | ((uint64_t)len << (18 + 4 * s));
}

uint64_t kd_bplist_dr7(kd_bplist *l, int skip, uint64_t skip_addr)
{
	uint64_t dr7 = 0x400;
	for (size_t i = 0; i < l->n; i++) {
		kd_bp *bp = l->v[i];
		if (bp->kind != KD_BP_HW || !bp->enabled || bp->deferred || bp->slot < 0)
			continue;
		if (skip && bp->addr == skip_addr && bp->access == 'e')
			continue;
		dr7 |= dr7_bits(bp);
	}
	return dr7;
}

void kd_bplist_debug_regs(kd_bplist *l, uint64_t dr[4])
{
	memset(dr, 0, 4 * sizeof(dr[0]));
	for (size_t i = 0; i < l->n; i++) {
		kd_bp *bp = l->v[i];
		if (bp->kind == KD_BP_HW && bp->slot >= 0 && bp->slot < 4)
			dr[bp->slot] = bp->addr;
	}
}

uint64_t kd_bplist_insert(kd_bplist *l, kd_target *t, int skip_soft, uint64_t skip_addr,
			  int skip_hw, kd_bp_warn_fn warn, void *wctx)
{
	uint64_t dr7 = 0x400;
	for (size_t i = 0; i < l->n; i++) {
		kd_bp *bp = l->v[i];
		if (!bp->enabled || bp->deferred)
			continue;
		if (bp->kind == KD_BP_HW) {
			if (skip_hw && bp->addr == skip_addr && bp->access == 'e')
				continue;
			dr7 |= dr7_bits(bp);
			continue;
		}
		if (bp->inserted || (skip_soft && bp->addr == skip_addr))
			continue;
		/* Two breakpoints at one address share one int3. */
		int dup = 0;
		for (size_t j = 0; j < i; j++)
			if (l->v[j]->kind == KD_BP_SOFT && l->v[j]->inserted &&
			    l->v[j]->addr == bp->addr)
				dup = 1;
		if (dup)
			continue;
		uint32_t h = 0;
		if (t->ops->write_breakpoint(t, bp->addr, &h) < 0 || h == 0) {
			if (warn) {
				char msg[160];
				snprintf(msg, sizeof(msg),
					 "Unable to insert breakpoint %u at %016llx, %s",
					 bp->id, (unsigned long long)bp->addr, kd_target_errmsg(t));
				warn(wctx, msg);
			}
			continue;
		}
		bp->inserted = 1;
		bp->handle = h;
	}
	return dr7;
}

void kd_bplist_remove_all(kd_bplist *l, kd_target *t)
{
	for (size_t i = 0; i < l->n; i++) {
		kd_bp *bp = l->v[i];
		if (!bp->inserted)
			continue;
		/* The target may have deleted it already when it reported the
		 * stop (open-points #6): a failure here is expected. */
		(void)t->ops->restore_breakpoint(t, bp->handle);
		bp->inserted = 0;
		bp->handle = 0;
	}
}

kd_bp *kd_bplist_hit(kd_bplist *l, uint32_t code, uint64_t pc, uint64_t dr6)
{
	if (code == 0x80000003u)
		return kd_bplist_at(l, KD_BP_SOFT, pc);
	if (code == 0x80000004u) {
		for (size_t i = 0; i < l->n; i++) {
			kd_bp *bp = l->v[i];
			if (bp->kind == KD_BP_HW && bp->enabled && bp->slot >= 0 &&
			    (dr6 & (1ull << bp->slot)))
				return bp;
		}
	}
	return NULL;
}

void kd_bp_format(const kd_bp *bp, int ptr64, const char *sym, char *buf, size_t len)
{
	char addr[24];
	if (ptr64)
		snprintf(addr, sizeof(addr), "%08x`%08x", (unsigned)(bp->addr >> 32),
			 (unsigned)bp->addr);
	else
		snprintf(addr, sizeof(addr), "%08x", (unsigned)bp->addr);
	char hw[8] = "   ";
	if (bp->kind == KD_BP_HW)
		snprintf(hw, sizeof(hw), "%c %u", bp->access, bp->size);
	int n = snprintf(buf, len, "%6u %c%s %s Clear  %s %s %04x (%04x) ", bp->id,
			 bp->enabled ? 'e' : 'd', bp->deferred ? "u" : "",
			 bp->enabled ? "Disable" : "Enable", bp->deferred ? "" : addr, hw,
			 bp->pass_left, bp->pass_count);
	if (n < 0 || (size_t)n >= len)
		return;
	size_t off = (size_t)n;
	if (bp->one_shot)
		off += (size_t)snprintf(buf + off, len - off, "/1 ");
	if (off < len)
		off += (size_t)snprintf(buf + off, len - off, "%s",
				      bp->deferred && bp->expr ? bp->expr : (sym ? sym : ""));
	if (off < len && bp->command)
		off += (size_t)snprintf(buf + off, len - off, " \"%s\"", bp->command);
	if (off < len)
		snprintf(buf + off, len - off, "  hits %u", bp->hits);
}
