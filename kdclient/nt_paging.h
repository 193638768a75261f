/*
 * nt_paging.h - virtual-to-physical translation done by the debugger,
 * reading page tables through physical memory (x64 4-level with 1 GiB and
 * 2 MiB pages, x86 PAE, x86 2-level with 4 MiB pages).
 *
 * Page tables are read in 2 KiB blocks (one KD request each, 256 entries)
 * and cached until nt_paging_flush(), which the owner calls once per stop.
 */
#ifndef KDCLIENT_NT_PAGING_H
#define KDCLIENT_NT_PAGING_H

#include <stddef.h>
#include <stdint.h>

typedef enum nt_paging_mode {
	NT_PAGING_X64 = 1,       /* 4-level, 8-byte entries */
	NT_PAGING_PAE,           /* 3-level, 8-byte entries, 4-entry PDPT */
	NT_PAGING_X86,           /* 2-level, 4-byte entries */
} nt_paging_mode;

enum {
	NT_PAGING_E_READ = -1,        /* a physical read failed */
	NT_PAGING_E_NOT_PRESENT = -2, /* an entry is not present (see walk) */
	NT_PAGING_E_NOMEM = -3,
};

/* Physical read: 0 if all len bytes were read, else < 0. */
typedef int (*nt_phys_read_fn)(void *ctx, uint64_t pa, void *buf, size_t len);

typedef struct nt_paging nt_paging;

int nt_paging_create(nt_paging_mode mode, nt_phys_read_fn read, void *ctx, nt_paging **out);
void nt_paging_destroy(nt_paging *p);
void nt_paging_flush(nt_paging *p);
nt_paging_mode nt_paging_get_mode(const nt_paging *p);
/* Physical reads issued so far (to keep page walks near one per table). */
unsigned nt_paging_reads(const nt_paging *p);

/* One entry of a walk.  Levels are named as WinDbg names them: PXE (PML4),
 * PPE (PDPT), PDE, PTE. */
typedef struct nt_pte_level {
	uint64_t table_pa;       /* physical address of the table */
	uint64_t entry_pa;       /* physical address of the entry */
	uint64_t value;          /* the entry */
	unsigned index;
} nt_pte_level;

typedef struct nt_pte_walk {
	unsigned nlevels;        /* entries read */
	unsigned total_levels;   /* 4 (x64), 3 (PAE), 2 (x86) */
	nt_pte_level level[4];
	uint64_t pa;             /* physical address of va (when translated) */
	uint64_t page_size;      /* 4 KiB, 2/4 MiB, 1 GiB */
	int transition;          /* the last entry was a transition PTE */
	int large;               /* ended at a large-page entry */
} nt_pte_walk;

/* Translate va through the page directory dirbase (CR3 /
 * KPROCESS.DirectoryTableBase).  0 with walk->pa set; NT_PAGING_E_NOT_PRESENT
 * with the walk filled up to the entry that was not present; E_READ. */
int nt_paging_translate(nt_paging *p, uint64_t dirbase, uint64_t va, nt_pte_walk *walk);

/* One entry of the top-level table (PML4 / PDPT / PD) of dirbase, from
 * the cache: 0 or NT_PAGING_E_READ. */
int nt_paging_top_entry(nt_paging *p, uint64_t dirbase, unsigned index, uint64_t *value);

/* Entry decoding shared with !pte. */
int nt_pte_present(nt_paging_mode mode, uint64_t e);          /* valid, or transition */
int nt_pte_transition(nt_paging_mode mode, uint64_t e);
uint64_t nt_pte_pfn(nt_paging_mode mode, uint64_t e);
/* WinDbg's flag string, e.g. "---DA--KWEV" (11 chars + NUL). */
void nt_pte_flags(nt_paging_mode mode, uint64_t e, char out[12]);

#endif
