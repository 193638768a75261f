/*
 * symbols.h - the one public header of the symbols library: PE images
 * (from a file or from target memory), PDB files (MSF 7.00), and the
 * symbol path / symbol server / module set built on top of them.
 *
 * Conventions (libgit2-like):
 *  - objects are opaque; open functions return 0 and store the object, or
 *    return a negative SYM_E_* code and write a one-line message into the
 *    caller's err buffer (never NULL-terminated past errlen);
 *  - every other int function returns 0 (or a count) / negative SYM_E_*, and
 *    leaves a message retrievable with pe_errmsg()/pdb_errmsg();
 *  - strings returned by const char * stay valid until the object is
 *    closed;
 *  - all input bytes (files, target memory) are untrusted: every read is
 *    bounds-checked, a malformed file is refused with SYM_E_FORMAT;
 *  - objects are not thread-safe (indexes are built lazily on first use).
 *
 * Addresses inside one image are RVAs (uint32_t, relative to the image
 * base); the module set (S2 section) turns them into virtual addresses.
 */
#ifndef KDCLIENT_SYMBOLS_H
#define KDCLIENT_SYMBOLS_H

#include <stddef.h>
#include <stdint.h>

/* Error codes shared by the whole library. */
enum {
	SYM_OK = 0,
	SYM_E_FAIL = -1,      /* generic failure; see the message */
	SYM_E_NOTFOUND = -2,  /* no such symbol / type / record / directory */
	SYM_E_FORMAT = -3,    /* malformed, truncated or unsupported input */
	SYM_E_IO = -4,        /* open/read/mmap failed (errno in the message) */
	SYM_E_NOMEM = -5,
	SYM_E_INVAL = -6,     /* bad argument from the caller */
	SYM_E_READ = -7,      /* the target-memory read callback failed */
};

/* ======================================================================
 * PE images (pe.c, pe_exports.c, pe_debug.c, pe_pdata.c)
 * ====================================================================== */

typedef struct pe_image pe_image;

/* COFF machine types (IMAGE_FILE_HEADER.Machine). */
#define PE_MACHINE_I386  0x014c
#define PE_MACHINE_AMD64 0x8664

/*
 * Read callback for images in target memory: read len bytes at virtual
 * address addr into buf, store the number of bytes read in *got, return 0
 * (a short read with *got < len is allowed) or negative on failure.
 * Same shape as the target interface's memory read, so an engine adapter is
 * a one-liner.
 */
typedef int (*pe_read_fn)(void *ctx, uint64_t addr, void *buf, size_t len,
                          size_t *got);

/* Open an image file (memory-mapped, file layout: RVAs are translated
 * through the section table). */
int pe_open_file(const char *path, pe_image **out, char *err, size_t errlen);

/* Open an image held in memory in FILE layout (e.g. a downloaded .exe);
 * buf must stay valid until pe_close. */
int pe_open_memory(const void *buf, size_t len, pe_image **out,
                   char *err, size_t errlen);

/*
 * Open an image LOADED at virtual address base in target memory (image
 * layout: RVA == offset from base).  The open reads only the headers and
 * section table; the export, debug and exception directories are read
 * through read(ctx, ...) on first use, in a few large reads (each one is a
 * KD round trip), and pe_read_rva reads on every call.  ctx must stay valid
 * until pe_close.  Unreadable header pages fail the open with SYM_E_READ;
 * unreadable directory pages fail only the call that needs them.
 */
int pe_open_read(pe_read_fn read, void *ctx, uint64_t base, pe_image **out,
                 char *err, size_t errlen);

void pe_close(pe_image *pe);
const char *pe_errmsg(const pe_image *pe);

uint16_t pe_machine(const pe_image *pe);       /* PE_MACHINE_* */
int pe_is_pe32plus(const pe_image *pe);        /* 1 for PE32+ (64-bit) */
uint64_t pe_image_base(const pe_image *pe);    /* OptionalHeader.ImageBase
                                                  (pe_open_read: the base
                                                  it was opened at) */
uint32_t pe_size_of_image(const pe_image *pe); /* OptionalHeader.SizeOfImage */
uint32_t pe_timestamp(const pe_image *pe);     /* FileHeader.TimeDateStamp */
uint32_t pe_entry_point(const pe_image *pe);   /* AddressOfEntryPoint (RVA) */
uint32_t pe_checksum(const pe_image *pe);      /* OptionalHeader.CheckSum */

/* Debug directory, CodeView record: RSDS (PDB 7.0) or NB10 (PDB 2.0). */
typedef struct pe_codeview_info {
	int is_rsds;            /* 1: RSDS (guid valid), 0: NB10 (signature) */
	uint8_t guid[16];       /* RSDS GUID as stored (Data1..3 little-endian) */
	uint32_t signature;     /* NB10 signature (time stamp) */
	uint32_t age;
	char pdb_name[260];     /* as stored in the image: UNTRUSTED, may hold
	                           any path; sanitize before touching a disk */
} pe_codeview_info;
/* 0, SYM_E_NOTFOUND when the image has no CodeView record. */
int pe_codeview(pe_image *pe, pe_codeview_info *out);

/* Sections (IMAGE_SECTION_HEADER). */
typedef struct pe_section {
	char name[9];               /* NUL-terminated, 8 chars max */
	uint32_t virtual_address;   /* RVA */
	uint32_t virtual_size;
	uint32_t raw_offset;        /* PointerToRawData */
	uint32_t raw_size;          /* SizeOfRawData */
	uint32_t characteristics;
} pe_section;
size_t pe_section_count(const pe_image *pe);
int pe_section_at(const pe_image *pe, size_t i, pe_section *out);

/* Exports (loaded lazily on the first call). */
typedef struct pe_export {
	const char *name;       /* NULL for ordinal-only exports */
	uint32_t ordinal;       /* biased (Base + index), as WinDbg shows */
	uint32_t rva;           /* 0 for forwarders */
	const char *forwarder;  /* "NTDLL.RtlAllocateHeap" or NULL */
} pe_export;
/* Number of exports (>= 0) or negative SYM_E_* (bad/unreadable directory). */
int pe_export_count(pe_image *pe);
int pe_export_at(pe_image *pe, size_t i, pe_export *out);
/* Exact-name lookup; SYM_E_NOTFOUND if absent. */
int pe_find_export(pe_image *pe, const char *name, pe_export *out);

/*
 * .pdata (x64 RUNTIME_FUNCTION, exception directory), loaded lazily and
 * checked sorted.  pe_find_runtime_function finds the entry with
 * begin <= rva < end; *unwind_rva is the UNWIND_INFO's RVA exactly as
 * stored (low bit clear).  Read UNWIND_INFO bytes (and chained entries)
 * with pe_read_rva.  SYM_E_NOTFOUND for leaf functions / x86 images.
 */
int pe_find_runtime_function(pe_image *pe, uint32_t rva, uint32_t *begin,
                             uint32_t *end, uint32_t *unwind_rva);
int pe_runtime_function_count(pe_image *pe);   /* >= 0 or negative */
int pe_runtime_function_at(pe_image *pe, size_t i, uint32_t *begin,
                           uint32_t *end, uint32_t *unwind_rva);

/* Read len bytes at rva: file images translate through the sections
 * (bytes past SizeOfRawData but inside VirtualSize read as zero); target
 * images call the read callback at base + rva.  0 only if all len bytes
 * were read. */
int pe_read_rva(pe_image *pe, uint32_t rva, void *buf, size_t len);

/* ======================================================================
 * PDB files (msf.c, pdb.c, pdb_dbi.c, pdb_symbols.c, pdb_types.c,
 * pdb_fpo.c).  MSF 7.00 ("Microsoft C/C++ MSF 7.00") only.
 * ====================================================================== */

typedef struct pdb pdb_file;   /* struct pdb (what kd_modules_pdb returns) */

/* Memory-maps path; nothing but the superblock and stream directory is
 * parsed at open, indexes are built on first use. */
int pdb_open(const char *path, pdb_file **out, char *err, size_t errlen);
/* Same over a caller's buffer; buf must stay valid until pdb_close. */
int pdb_open_memory(const void *buf, size_t len, pdb_file **out,
                    char *err, size_t errlen);
void pdb_close(pdb_file *pdb);
const char *pdb_errmsg(const pdb_file *pdb);

/* PDB info stream: GUID (same byte order as pe_codeview_info.guid) and
 * age (the age in the PDB info stream; the DBI age is what images carry
 * and is returned here when present, as symstore/WinDbg match on it). */
int pdb_guid_age(pdb_file *pdb, uint8_t guid[16], uint32_t *age);
/* DBI machine type (PE_MACHINE_*), 0 if unknown. */
uint16_t pdb_machine(pdb_file *pdb);

/* ---- symbols (publics, globals, procedures) ---- */

typedef enum pdb_symbol_kind {
	PDB_SYM_PUBLIC = 1,     /* S_PUB32 */
	PDB_SYM_FUNCTION,       /* S_GPROC32 / S_LPROC32 (module stream) */
	PDB_SYM_GLOBAL_DATA,    /* S_GDATA32 */
	PDB_SYM_LOCAL_DATA,     /* S_LDATA32 (file static) */
	PDB_SYM_THREAD_DATA,    /* S_GTHREAD32 / S_LTHREAD32 (rva = TLS offset) */
} pdb_symbol_kind;

typedef struct pdb_symbol {
	pdb_symbol_kind kind;
	const char *name;       /* as WinDbg shows it: for publics x86 C
	                           decoration stripped (_foo@8 -> foo) and
	                           plain C++ names reduced to the qualified
	                           name (?f@C@@QEAAXXZ -> C::f) */
	const char *raw_name;   /* exactly as stored (decorated) */
	uint32_t rva;
	uint32_t size;          /* function length; 0 when unknown */
	uint32_t type_index;    /* 0 for publics */
	int is_code;            /* public flagged code/function, or a proc */
	uint16_t segment;       /* section:offset as stored (1-based) */
	uint32_t offset;
} pdb_symbol;

/* Address of a symbol by name: procedures, globals, then publics; the
 * undecorated and the decorated name both match, and, as in WinDbg, case
 * does not matter (an exact-case match wins).  SYM_E_NOTFOUND if none. */
int pdb_find_symbol(pdb_file *pdb, const char *name, uint32_t *rva);
/* Same, returning the full record. */
int pdb_lookup_symbol(pdb_file *pdb, const char *name, pdb_symbol *out);

/* Nearest symbol at or below rva (publics, procs and globals merged, a
 * proc preferred over a public at the same address); *disp = rva - start.
 * SYM_E_NOTFOUND below the first symbol or outside every section. */
int pdb_symbol_at(pdb_file *pdb, uint32_t rva, const char **name,
                  uint32_t *disp);
int pdb_symbol_at_ex(pdb_file *pdb, uint32_t rva, pdb_symbol *out,
                     uint32_t *disp);

/* Calls cb for every symbol that has an address, in address order (a
 * function appears once as a public and once as a procedure).  A nonzero
 * return stops the walk and is returned.  Returns 0 or negative SYM_E_*. */
typedef int (*pdb_symbol_cb)(void *ctx, const pdb_symbol *sym);
int pdb_foreach_symbol(pdb_file *pdb, pdb_symbol_cb cb, void *ctx);
/* The others: rva 0, i.e. absolute symbols, linker pseudo-section symbols
 * (__guard_flags...) and code an OMAP dropped.  Found by name only. */
int pdb_foreach_unmapped_symbol(pdb_file *pdb, pdb_symbol_cb cb, void *ctx);

/* Function containing rva from S_GPROC32/S_LPROC32: *start (RVA) and
 * *len (CodeSize).  SYM_E_NOTFOUND if rva is in no procedure. */
int pdb_function_extent(pdb_file *pdb, uint32_t rva, uint32_t *start,
                        uint32_t *len);

/* Section headers from DBI's optional debug header (1-based segment to RVA
 * is what publics use); count >= 0 or negative. */
int pdb_section_count(pdb_file *pdb);
int pdb_section_at(pdb_file *pdb, size_t i, pe_section *out);

/* DBI module list (one per object file / import library, plus
 * "* Linker *"). */
typedef struct pdb_module_info {
	const char *name;       /* module name (object path) */
	const char *obj_name;   /* object or library file */
	uint16_t sym_stream;    /* 0xffff: none (stripped PDB) */
	uint32_t sym_bytes;
} pdb_module_info;
int pdb_module_count(pdb_file *pdb);
int pdb_module_at(pdb_file *pdb, size_t i, pdb_module_info *out);

/* DBI section contributions: which module produced which bytes. */
typedef struct pdb_contribution {
	uint16_t segment;       /* 1-based section */
	uint32_t offset;
	uint32_t rva;           /* 0 if the segment maps nowhere */
	uint32_t size;
	uint32_t characteristics;
	uint16_t module;        /* index for pdb_module_at */
} pdb_contribution;
int pdb_contribution_count(pdb_file *pdb);
int pdb_contribution_at(pdb_file *pdb, size_t i, pdb_contribution *out);
/* Contribution covering rva (so: the module an address belongs to). */
int pdb_contribution_of(pdb_file *pdb, uint32_t rva, pdb_contribution *out);

/* ---- source lines (C13 line tables of the module streams) ---- */

typedef struct pdb_line {
	uint32_t rva;           /* first byte of the line's code */
	uint32_t end;           /* end of the block the entry belongs to */
	uint32_t line;          /* 1-based line number */
	uint16_t segment;
	uint32_t offset;
	const char *file;       /* source path as recorded ("" if unknown);
	                           PDB contents: escape before printing */
} pdb_line;
/* Line containing rva (the entry at or below it within its block).
 * SYM_E_NOTFOUND where there is no line information, including code MSVC
 * marks hidden (line 0xF00F00 / 0xFEEFEE). */
int pdb_line_at(pdb_file *pdb, uint32_t rva, pdb_line *out);
/* Every line entry (hidden ones left out) in address order; nonzero from
 * cb stops and is returned. */
typedef int (*pdb_line_cb)(void *ctx, const pdb_line *line);
int pdb_foreach_line(pdb_file *pdb, pdb_line_cb cb, void *ctx);

/* ---- types (TPI) ---- */

/* Type indexes below 0x1000 are CodeView basic types (T_INT4, T_64PUCHAR…);
 * the others index TPI records. */
typedef enum pdb_type_kind {
	PDB_TYPE_BASE = 1,      /* basic type (< 0x1000), incl. basic pointers */
	PDB_TYPE_POINTER,       /* LF_POINTER, or a basic pointer type */
	PDB_TYPE_ARRAY,         /* LF_ARRAY */
	PDB_TYPE_STRUCT,        /* LF_STRUCTURE */
	PDB_TYPE_CLASS,         /* LF_CLASS */
	PDB_TYPE_UNION,         /* LF_UNION */
	PDB_TYPE_ENUM,          /* LF_ENUM */
	PDB_TYPE_BITFIELD,      /* LF_BITFIELD */
	PDB_TYPE_MODIFIER,      /* LF_MODIFIER (const/volatile) */
	PDB_TYPE_PROCEDURE,     /* LF_PROCEDURE / LF_MFUNCTION */
	PDB_TYPE_OTHER,         /* field lists, arg lists, unsupported leaves */
} pdb_type_kind;

#define PDB_MOD_CONST     0x1
#define PDB_MOD_VOLATILE  0x2
#define PDB_MOD_UNALIGNED 0x4

typedef struct pdb_type {
	pdb_type_kind kind;
	uint16_t leaf;          /* LF_* leaf, or 0 for basic types */
	const char *name;       /* aggregates/enums: tag name; basic: WinDbg
	                           name ("Uint4B"); otherwise NULL */
	uint64_t size;          /* bytes (pointer: 4 or 8; array: total) */
	uint32_t elem_ti;       /* pointer: pointee; array: element; modifier:
	                           modified; bitfield: base; enum: underlying;
	                           procedure: return type */
	uint32_t index_ti;      /* array: index type */
	uint64_t count;         /* array: element count (size / elem size) */
	uint32_t field_list;    /* aggregates/enums: LF_FIELDLIST index */
	uint32_t member_count;  /* aggregates/enums: count field of the record */
	uint8_t bit_pos;        /* bitfield: first bit */
	uint8_t bit_len;        /* bitfield: width */
	uint16_t modifiers;     /* PDB_MOD_* (modifier and pointer records) */
	uint16_t properties;    /* aggregates/enums: CV_prop_t as stored */
	int forward;            /* 1: forward reference (fwdref property) */
	uint16_t param_count;   /* procedure */
	uint8_t call_conv;      /* procedure: CV_call_e */
} pdb_type;

/* Type by name (case-insensitive, exact case preferred): the complete
 * definition when one exists (forward references resolved), else the
 * forward reference.  Basic names ("int", "Uint4B") are not looked up
 * here.  SYM_E_NOTFOUND if none. */
int pdb_find_type(pdb_file *pdb, const char *name, uint32_t *ti);
/* Record of ti; forward references are NOT resolved here (see
 * pdb_resolve_type). */
int pdb_type_info(pdb_file *pdb, uint32_t ti, pdb_type *out);
/* Forward reference -> full definition (ti unchanged if none/not fwd). */
uint32_t pdb_resolve_type(pdb_file *pdb, uint32_t ti);
/* TPI type index range [first, end) for enumeration. */
int pdb_type_range(pdb_file *pdb, uint32_t *first, uint32_t *end);

typedef enum pdb_member_kind {
	PDB_MEMBER_DATA = 1,    /* LF_MEMBER */
	PDB_MEMBER_STATIC,      /* LF_STMEMBER (no offset) */
	PDB_MEMBER_ENUMERATE,   /* LF_ENUMERATE (value) */
	PDB_MEMBER_BASE_CLASS,  /* LF_BCLASS (offset, ti = base) */
	PDB_MEMBER_NESTED_TYPE, /* LF_NESTTYPE (ti = nested type) */
} pdb_member_kind;

typedef struct pdb_member {
	pdb_member_kind kind;
	const char *name;       /* "" for unnamed (base classes) */
	uint64_t offset;        /* data / base class: byte offset */
	int64_t value;          /* enumerate: value, signed per the enum's
	                           underlying type */
	uint64_t uvalue;        /* enumerate: the numeric leaf as stored
	                           (negative leaves sign-extended) */
	uint32_t ti;            /* member type (a bitfield ti for bitfields) */
	uint8_t bit_pos;        /* bitfield members: from the LF_BITFIELD */
	uint8_t bit_len;        /* 0 = not a bitfield */
} pdb_member;

/* Members of a struct/class/union/enum (forward references resolved),
 * in field-list order; LF_ONEMETHOD/LF_METHOD/LF_VFUNCTAB are skipped.
 * Count >= 0 or negative. */
int pdb_type_member_count(pdb_file *pdb, uint32_t ti);
int pdb_type_member_at(pdb_file *pdb, uint32_t ti, size_t i, pdb_member *out);

/*
 * Field by dotted path ("Pcb.DirectoryTableBase"): walks nested structs,
 * unnamed unions/structs and base classes; *offset is the byte offset from
 * the start of ti, *field_ti the field's type (bitfield ti for bitfields:
 * use pdb_type_info for the bits).  Either out pointer may be NULL.
 */
int pdb_type_field(pdb_file *pdb, uint32_t ti, const char *path,
                   uint64_t *offset, uint32_t *field_ti);

/*
 * Type name as WinDbg's dt prints it in the member column:
 * "Uint8B", "Ptr64 _EPROCESS", "Ptr32 Void", "[16] UChar",
 * "[2] [3] Int4B", "Pos 0, 1 Bit", "_LIST_ENTRY", "Ptr64     void " for
 * function pointers.  Returns the full length (snprintf-like) or negative.
 */
int pdb_type_name(pdb_file *pdb, uint32_t ti, char *buf, size_t len);
/* C-like name ("struct _EPROCESS *", "unsigned char[16]") for x / dv. */
int pdb_type_c_name(pdb_file *pdb, uint32_t ti, char *buf, size_t len);
/* Size in bytes (forward refs resolved), 0 if unknown. */
uint64_t pdb_type_size(pdb_file *pdb, uint32_t ti);

/* ---- x86 frame information (for the x86 stack walker) ---- */

/* Old FPO (FPO_DATA, DBI's FPO debug stream). */
typedef struct pdb_fpo {
	uint32_t start;         /* ulOffStart: RVA of the function */
	uint32_t size;          /* cbProcSize */
	uint32_t locals;        /* cdwLocals: DWORDs of locals */
	uint16_t params;        /* cdwParams: DWORDs of parameters */
	uint8_t prolog;         /* cbProlog: prolog bytes */
	uint8_t saved_regs;     /* cbRegs: registers saved */
	uint8_t has_seh;        /* fHasSEH */
	uint8_t uses_bp;        /* fUseBP: EBP is a frame pointer */
	uint8_t frame_type;     /* cbFrame: 0 FPO, 1 TRAP, 2 TSS, 3 NONFPO */
} pdb_fpo;
int pdb_find_fpo(pdb_file *pdb, uint32_t rva, pdb_fpo *out);
int pdb_fpo_count(pdb_file *pdb);
int pdb_fpo_at(pdb_file *pdb, size_t i, pdb_fpo *out);

/* New FPO (FRAMEDATA, DBI's NewFPO debug stream) with its program. */
typedef struct pdb_frame_data {
	uint32_t start;         /* RvaStart */
	uint32_t code_size;
	uint32_t locals_size;   /* bytes */
	uint32_t params_size;   /* bytes */
	uint32_t max_stack;
	uint32_t prolog_size;
	uint32_t saved_regs_size;
	uint32_t flags;         /* bit0 HasSEH, bit1 HasEH, bit2 IsFunctionStart */
	const char *program;    /* "$T0 $ebp = $eip $T0 4 + ^ = ...", or NULL */
} pdb_frame_data;
int pdb_find_frame_data(pdb_file *pdb, uint32_t rva, pdb_frame_data *out);
int pdb_frame_data_count(pdb_file *pdb);
int pdb_frame_data_at(pdb_file *pdb, size_t i, pdb_frame_data *out);

/* ---- symbol path, symbol server, module set (sympath.c, symsrv.c, modset.c) ---- */
/* Owned by S2: S1 does not edit between these markers. */

/*
 * Symbol path: WinDbg's _NT_SYMBOL_PATH syntax.  Elements are separated by
 * ';' and searched in order:
 *   dir                         a local directory (dir/name, dir/ext/name,
 *                               dir/symbols/ext/name); never written
 *   cache*dir                   downstream store for every element after it
 *   srv*[store*...]*url         a symbol-server chain; "srv**url" uses the
 *   symsrv*symsrv.dll*...       default downstream store
 * Stores use the symstore layout name/KEY/name (KEY = GUID+age for PDBs,
 * TimeDateStamp+SizeOfImage for images), accept name with its last
 * character replaced by '_' (a CAB, decompressed on the way in) and
 * file.ptr, and switch to the two-tier na/name/KEY/name layout when the
 * store root has index2.txt.  Whatever is found further down a chain is
 * copied (uncompressed, verified) into every local store before it.
 */
typedef struct sym_path sym_path;

#define SYM_DEFAULT_SERVER "https://msdl.microsoft.com/download/symbols"

/* Element kinds of a symbol path. */
typedef enum sym_elem_kind {
	SYM_ELEM_DIR = 1,      /* a bare directory: searched, never written */
	SYM_ELEM_CACHE,        /* cache*dir: downstream store for what follows */
	SYM_ELEM_SRV,          /* srv*a*b*url or symsrv*symsrv.dll*a*b*url */
} sym_elem_kind;

/* What to look for.  Build it with sym_file_id_pdb/_image: they sanitize
 * the name (which comes from the untrusted target). */
typedef struct sym_file_id {
	int is_image;
	char name[256];          /* one path component, never "." or ".." */
	uint8_t guid[16];        /* as stored in RSDS / PDB info stream */
	uint32_t age;
	uint32_t timestamp;      /* images: TimeDateStamp, SizeOfImage */
	uint32_t size_of_image;
} sym_file_id;

/* Download progress (total 0 when unknown; return nonzero to cancel the
 * download, e.g. on Ctrl-C) and noisy-mode messages. */
typedef int (*sym_progress_fn)(void *ctx, const char *url, uint64_t done, uint64_t total);
typedef void (*sym_log_fn)(void *ctx, const char *msg);

int sym_path_parse(const char *text, sym_path **out, char *err, size_t errlen);
void sym_path_free(sym_path *p);
int sym_path_set(sym_path *p, const char *text);      /* .sympath x */
int sym_path_append(sym_path *p, const char *text);   /* .sympath+ x */
const char *sym_path_text(const sym_path *p);
const char *sym_path_errmsg(const sym_path *p);
size_t sym_path_element_count(const sym_path *p);
sym_elem_kind sym_path_element_kind(const sym_path *p, size_t i);
/* DIR/CACHE: store 0 is the directory; SRV: the chain, "" = default store. */
size_t sym_path_element_store_count(const sym_path *p, size_t i);
const char *sym_path_element_store(const sym_path *p, size_t i, size_t j);

void sym_path_set_callbacks(sym_path *p, sym_progress_fn progress, sym_log_fn log, void *ctx);
void sym_path_set_timeouts(sym_path *p, long connect_s, long total_s);
int sym_path_set_default_cache(sym_path *p, const char *dir);
const char *sym_path_get_default_cache(const sym_path *p);
/* $XDG_CACHE_HOME/kdclient/symbols, else ~/.cache/kdclient/symbols. */
int sym_path_default_cache(char *buf, size_t len);
/* The text .symfix installs: "cache*<cache or default>;srv*<public server>". */
int sym_path_symfix_text(const char *cache, char *buf, size_t len);

/* Take the basename after the last '/' or '\\'; refuse empty, ".", "..",
 * control characters and over-long names.  0 or SYM_E_BADNAME. */
int sym_name_sanitize(const char *in, char *out, size_t outlen, char *err, size_t errlen);
int sym_file_id_pdb(sym_file_id *id, const char *pdb_name, const uint8_t guid[16], uint32_t age,
                    char *err, size_t errlen);
int sym_file_id_image(sym_file_id *id, const char *image_name, uint32_t timestamp,
                      uint32_t size_of_image, char *err, size_t errlen);
/* "9F65CD18C2F36F88B2D0CE8A7BFE2BB71" / "5C0F3A2C9d4000". */
int sym_file_id_key(const sym_file_id *id, char *buf, size_t len);
/* GUID in registry form {XXXXXXXX-XXXX-...} for lmv. */
void sym_guid_format(const uint8_t guid[16], char buf[40]);

/* Find (downloading if needed) a file; full path in out.  0, SYM_E_NOTFOUND
 * or SYM_E_INVAL (name refused); the reason is in sym_path_errmsg. */
int sym_path_find(sym_path *p, const sym_file_id *id, char *out, size_t outlen);
int sym_path_find_pdb(sym_path *p, const char *pdb_name, const uint8_t guid[16], uint32_t age,
                      char *out, size_t outlen);
int sym_path_find_image(sym_path *p, const char *image_name, uint32_t timestamp,
                        uint32_t size_of_image, char *out, size_t outlen);


/*
 * Module set: the modules loaded in the target, each with its image headers
 * (from target memory through a pe_read_fn, or from a file) and its
 * symbols, loaded lazily the first time they are needed (WinDbg's deferred
 * loading).  Symbols come from the PDB the image's RSDS record names, found
 * on the symbol path or else at the absolute path the record holds (read
 * only, GUID/age checked); without one, from the export table.  Module names are
 * WinDbg's: "nt" for the kernel, "hal" for the HAL, else the image file name
 * without extension (a clash gets "_<base>" appended).  Name matching is
 * case-insensitive, as WinDbg's default symbol options.
 */
typedef struct sym_modset sym_modset;
typedef struct sym_module sym_module;

typedef enum sym_module_state {
	SYM_MOD_DEFERRED = 0,   /* "(deferred)": not loaded yet */
	SYM_MOD_PDB,            /* "(pdb symbols)" */
	SYM_MOD_EXPORT,         /* "(export symbols)": no PDB found */
	SYM_MOD_NONE,           /* "(no symbols)": not even the image headers */
} sym_module_state;

int sym_modset_create(sym_modset **out);
void sym_modset_destroy(sym_modset *set);
/* The path PDBs are searched on (not owned; NULL: no search). */
void sym_modset_set_path(sym_modset *set, sym_path *path);
/* How image headers are read from target memory (ctx must outlive the set
 * or the next call). */
void sym_modset_set_reader(sym_modset *set, pe_read_fn read, void *ctx);
/* Where noisy-mode messages go (loads, misses). */
void sym_modset_set_log(sym_modset *set, sym_log_fn log, void *ctx);
const char *sym_modset_errmsg(const sym_modset *set);

/* Add the module at [base, base+size).  image_name is untrusted (a full
 * "\SystemRoot\..." path is fine: its basename is used); name NULL derives
 * the module name.  A module already at base is replaced. */
int sym_modset_add(sym_modset *set, const char *name, const char *image_name, uint64_t base,
                   uint32_t size, sym_module **out);
int sym_modset_remove(sym_modset *set, uint64_t base);
void sym_modset_clear(sym_modset *set);
/* Drop only the modules added with user = 1 (.reload /user). */
void sym_modset_clear_user(sym_modset *set);
size_t sym_modset_count(const sym_modset *set);
sym_module *sym_modset_at(const sym_modset *set, size_t i);          /* by base */
sym_module *sym_modset_find_module(const sym_modset *set, const char *name);
sym_module *sym_modset_module_at(const sym_modset *set, uint64_t addr);

/* "nt!NtCreateFile", "NtCreateFile" (every module, loaded ones first), or a
 * module name alone (its base).  0 or SYM_E_NOTFOUND. */
int sym_modset_lookup(sym_modset *set, const char *name, uint64_t *addr);
/* "nt!NtCreateFile+0x1a", "nt!KiSystemStartup", "nt+0x1234"; 1 if
 * anything symbolic was found, 0 (bare hex in buf) otherwise. */
int sym_modset_symbolize(sym_modset *set, uint64_t addr, char *buf, size_t len);

typedef struct sym_match {
	sym_module *module;
	const char *name;       /* symbol name (no module prefix) */
	uint64_t addr;
	uint32_t size;          /* 0 when unknown */
	uint32_t type_index;    /* PDB type of functions/data, 0 if none */
	int is_code;
	int is_export;          /* from the export table, not a PDB */
} sym_match;
typedef int (*sym_match_cb)(void *ctx, const sym_match *m);
/* "nt!Nt*", "*!KiSystem?tartup", "Nt*" (= "*!Nt*"): loads the symbols of
 * matching modules.  Calls cb in (module, address) order; a nonzero return
 * stops and is returned; otherwise 0, or negative for a bad pattern. */
int sym_modset_foreach_match(sym_modset *set, const char *pattern, sym_match_cb cb, void *ctx);
/* ln: the symbol at or below addr and the next one above.  Bit 0 of the
 * result: before found; bit 1: after found; negative on error. */
int sym_modset_nearest(sym_modset *set, uint64_t addr, sym_match *before, sym_match *after);
/* WinDbg-style wildcard (* and ?), case-insensitive: 1 match, 0 not. */
int sym_wildcard_match(const char *pattern, const char *text);

const char *sym_module_name(const sym_module *m);
const char *sym_module_image_name(const sym_module *m);   /* sanitized basename */
/* The name as the target reported it (a full path; display only, escape it). */
const char *sym_module_image_path(const sym_module *m);
uint64_t sym_module_base(const sym_module *m);
uint32_t sym_module_size(const sym_module *m);
sym_module_state sym_module_get_state(const sym_module *m);
const char *sym_module_pdb_path(const sym_module *m);     /* "" if none */
const char *sym_module_errmsg(const sym_module *m);       /* why no PDB */
int sym_module_is_user(const sym_module *m);
void sym_module_set_user(sym_module *m, int user);
/* Timestamp/checksum as the loader reported them (0 if unknown); the
 * image headers win once read. */
void sym_module_set_image_info(sym_module *m, uint32_t timestamp, uint32_t checksum);
uint32_t sym_module_timestamp(sym_module *m);
uint32_t sym_module_checksum(sym_module *m);
/* RSDS record of the image (reads the headers if needed). */
int sym_module_codeview(sym_module *m, pe_codeview_info *out);
/* Load symbols now; force = 1 reloads even if already loaded. */
int sym_module_load(sym_module *m, int force);
void sym_module_unload(sym_module *m);          /* back to deferred */
pdb_file *sym_module_pdb(sym_module *m);        /* loads; NULL if none */
pe_image *sym_module_pe(sym_module *m);         /* headers; NULL if none */
/* Use an image file / a PDB file instead of target memory / the path
 * (crash dumps, tests, .reload with an explicit file). */
int sym_module_set_pe_file(sym_module *m, const char *path);
int sym_module_set_pdb_file(sym_module *m, const char *path);

/* ---- end of S2 section ---- */

#endif
