/*
 * pdb_internal.h - internal: the MSF container and the PDB object shared
 * by msf.c, pdb.c, pdb_dbi.c, pdb_symbols.c, pdb_types.c, pdb_typename.c
 * and pdb_fpo.c.  Each part is parsed on first use and indexed once.
 */
#ifndef SYMBOLS_PDB_INTERNAL_H
#define SYMBOLS_PDB_INTERNAL_H

#include "symbols.h"
#include "sym_bytes.h"

/* ---- MSF 7.00 container (msf.c) ---- */
typedef struct msf {
	const uint8_t *data;
	size_t len;
	uint32_t block_size, num_blocks;
	uint32_t nstreams;
	uint32_t *sizes;          /* per stream; 0 for nil streams */
	uint32_t **blocks;        /* per stream: pointer into dir */
	uint8_t *dir;             /* the assembled stream directory */
	uint8_t **cache;          /* per stream: contiguous copy, lazily */
} msf;

int msf_open(msf *m, const uint8_t *data, size_t len, char *err, size_t errlen);
void msf_close(msf *m);
/* Contiguous bytes of stream idx (cached until close).  A nil or missing
 * stream is SYM_E_NOTFOUND. */
int msf_stream(msf *m, uint32_t idx, const uint8_t **data, uint32_t *len,
               char *err, size_t errlen);

/* ---- the PDB object ---- */
#define PDB_NIL_STREAM 0xffff

/* DBI optional debug header stream slots (llvm: DbgHeaderType). */
enum {
	PDB_DBG_FPO = 0, PDB_DBG_EXCEPTION, PDB_DBG_FIXUP, PDB_DBG_OMAP_TO_SRC,
	PDB_DBG_OMAP_FROM_SRC, PDB_DBG_SECTION_HDR, PDB_DBG_TOKEN_RID_MAP,
	PDB_DBG_XDATA, PDB_DBG_PDATA, PDB_DBG_NEW_FPO, PDB_DBG_SECTION_HDR_ORIG,
	PDB_DBG_COUNT
};

typedef struct pdb_module {
	const char *name;
	const char *obj_name;
	uint16_t sym_stream;
	uint32_t sym_bytes;
	uint32_t c11_bytes, c13_bytes;   /* line info after the symbols */
} pdb_module;

/* One entry of the merged symbol table (pdb_symbols.c). */
typedef struct pdb_sym {
	const char *name;       /* undecorated for display */
	const char *raw_name;
	uint32_t rva, size, ti, offset;
	uint16_t segment;
	uint8_t kind;           /* pdb_symbol_kind */
	uint8_t is_code;
} pdb_sym;

struct pdb {
	msf msf;
	const uint8_t *map;
	size_t map_len;         /* nonzero: munmap at close */
	char errmsg[256];

	/* PDB info stream (pdb.c), parsed at open */
	uint32_t info_version, info_signature, info_age;
	uint8_t guid[16];
	uint32_t nnamed;
	const char **named_names;
	uint32_t *named_streams;

	/* DBI (pdb_dbi.c) */
	int dbi_state;
	uint32_t dbi_age;
	uint16_t machine;
	uint16_t gsi_stream, psi_stream, symrec_stream;
	uint16_t dbg_streams[PDB_DBG_COUNT];
	pdb_module *modules;
	uint32_t nmodules;
	pe_section *sections;   /* what segments in symbols refer to */
	uint32_t nsections;
	pdb_contribution *contribs;       /* DBI order */
	uint32_t ncontribs;
	pdb_contribution *contribs_by_rva; /* mapped ones, sorted */
	uint32_t ncontribs_by_rva;
	uint32_t *omap;         /* OMAP from source: pairs (from, to) */
	uint32_t nomap;

	/* symbols (pdb_symbols.c) */
	int syms_state;
	pdb_sym *syms;
	uint32_t nsyms;
	char *names_pool;       /* undecorated names */
	uint32_t *by_addr;      /* indexes sorted by rva (rva != 0 only) */
	uint32_t nsyms_addr;
	uint32_t *addr_rva;      /* rva of by_addr[i], for the search */
	uint32_t *name_hash;    /* open addressing, index+1, 0 = empty */
	uint32_t name_hash_size;
	uint32_t *procs;        /* indexes of procedures sorted by rva */
	uint32_t nprocs;

	/* types (pdb_types.c) */
	int tpi_state;
	const uint8_t *tpi;     /* type record bytes */
	uint32_t tpi_len;
	uint32_t ti_begin, ti_end;
	uint32_t *type_off;     /* per ti - ti_begin: offset of the record */
	uint32_t *type_hash;    /* name -> ti+1, complete types preferred */
	uint32_t type_hash_size;
	uint32_t *unique_hash;  /* unique name -> complete ti+1 */
	uint32_t unique_hash_size;

	/* IPI (pdb_ipi.c) */
	int ipi_state;
	const uint8_t *ipi;
	uint32_t ipi_begin, ipi_end;
	uint32_t *ipi_off;

	/* FPO (pdb_fpo.c) */
	int fpo_state;
	pdb_fpo *fpo;
	uint32_t nfpo;
	pdb_frame_data *frames;
	uint32_t nframes;
	int strtab_state;
	const uint8_t *strtab;  /* /names string buffer */
	uint32_t strtab_len;

	/* source lines (pdb_lines.c) */
	int lines_state;
	pdb_line *lines;        /* sorted by rva */
	uint32_t nlines;
};

int pdb_fail(pdb_file *pdb, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Stream by index with errors recorded in pdb. */
int pdb_stream(pdb_file *pdb, uint32_t idx, const uint8_t **data, uint32_t *len);
/* Stream by name from the info stream's named-stream map ("/names"). */
int pdb_named_stream(pdb_file *pdb, const char *name, uint32_t *idx);

int pdb_load_dbi(pdb_file *pdb);
void pdb_load_strtab(pdb_file *pdb);
/* NUL-terminated string at off in "/names", or NULL. */
const char *pdb_strtab_string(pdb_file *pdb, uint32_t off);
/* Segment (1-based) : offset -> RVA through sections and OMAP; 0 when
 * the address maps nowhere. */
uint32_t pdb_segoff_to_rva(pdb_file *pdb, uint16_t seg, uint32_t off);

int pdb_load_symbols(pdb_file *pdb);
int pdb_load_types(pdb_file *pdb);
int pdb_load_ipi(pdb_file *pdb);
/* TPI type of an LF_FUNC_ID / LF_MFUNC_ID id; 0 if none. */
uint32_t pdb_ipi_function_type(pdb_file *pdb, uint32_t id);
/* Type record of ti: leaf, body (after the leaf), body length. */
int pdb_type_record(pdb_file *pdb, uint32_t ti, uint16_t *leaf,
                    const uint8_t **body, uint32_t *len);
/* CodeView numeric leaf at c; value as unsigned and signed. */
int pdb_read_numeric(sym_cursor *c, uint64_t *u, int64_t *s);
/* Qualified name of an MSVC C++ decorated name into out; its length, or
 * 0 when the form is not one handled (then keep the decorated name). */
size_t pdb_undecorate_msvc(const char *raw, char *out, size_t cap);
/* Basic type (< 0x1000) names. */
const char *pdb_basic_name(uint32_t ti);
const char *pdb_basic_c_name(uint32_t ti);
uint32_t pdb_basic_size(uint32_t ti);

/* FNV-1a over the ASCII-lowercased name, used by every name index:
 * WinDbg matches symbol and type names case-insensitively (an exact-case
 * match still wins), so names differing only in case share a chain. */
static inline uint32_t pdb_hash_name(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++) {
		uint8_t c = (uint8_t)*s;
		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		h = (h ^ c) * 16777619u;
	}
	return h;
}

#endif
