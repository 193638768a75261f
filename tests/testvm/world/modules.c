/*
 * modules.c - PsLoadedModuleList (nt + testdrv.sys) and a tiny PE loader.
 *
 * testdrv.sys is a real second PE with its own PDB, embedded in the kernel
 * image (blobs.S) and loaded at its fixed base in the shared kernel half, so a
 * debugger can read its headers (debug directory / RSDS) from target memory
 * exactly as it does for a Windows driver.
 */
#include "world.h"

LIST_ENTRY PsLoadedModuleList;
KLDR_DATA_TABLE_ENTRY *world_testdrv_entry;
extern UCHAR __ImageBase[];

uint64_t world_ps_loaded_module_list(void) { return (uint64_t)&PsLoadedModuleList; }

static ULONG rd16(const UCHAR *p) { return p[0] | (ULONG)p[1] << 8; }
static ULONG rd32(const UCHAR *p) { return rd16(p) | rd16(p + 2) << 16; }
static ULONG64 rd64(const UCHAR *p) { return rd32(p) | (ULONG64)rd32(p + 4) << 32; }

/* Offset of the PE signature, or 0 when the file is not a PE32+ image. */
static ULONG pe_nt_offset(const UCHAR *f, size_t n)
{
    if (n < 0x40 || f[0] != 'M' || f[1] != 'Z')
        return 0;
    ULONG e = rd32(f + 0x3C);
    if ((size_t)e + 24 + 0xF0 > n || memcmp(f + e, "PE\0\0", 4) != 0 ||
        rd16(f + e + 24) != 0x20B)
        return 0;
    return e;
}

int world_pe_info(const UCHAR *f, size_t n, ULONG64 *base, ULONG *size_of_image,
                  ULONG *entry_rva, ULONG *timestamp, ULONG *checksum)
{
    ULONG e = pe_nt_offset(f, n);
    if (!e)
        return -1;
    const UCHAR *opt = f + e + 24;
    if (base) *base = rd64(opt + 24);
    if (size_of_image) *size_of_image = rd32(opt + 56);
    if (entry_rva) *entry_rva = rd32(opt + 16);
    if (timestamp) *timestamp = rd32(f + e + 8);
    if (checksum) *checksum = rd32(opt + 64);
    return 0;
}

/* Fill dst (4 KiB) with the image page at rva: headers, section raw data,
 * zeros elsewhere. */
int world_pe_copy_page(const UCHAR *f, size_t n, ULONG rva, UCHAR *dst)
{
    ULONG e = pe_nt_offset(f, n);
    if (!e)
        return -1;
    ULONG nsec = rd16(f + e + 6);
    ULONG optsize = rd16(f + e + 20);
    ULONG hdrsize = rd32(f + e + 24 + 60);
    const UCHAR *sec = f + e + 24 + optsize;

    memset(dst, 0, 0x1000);
    if (rva < hdrsize) {
        ULONG len = hdrsize - rva < 0x1000 ? hdrsize - rva : 0x1000;
        if (rva + len <= n)
            memcpy(dst, f + rva, len);
    }
    for (ULONG i = 0; i < nsec; i++, sec += 40) {
        if ((size_t)(sec + 40 - f) > n)
            return -1;
        ULONG va = rd32(sec + 12), vsize = rd32(sec + 8);
        ULONG raw = rd32(sec + 16), off = rd32(sec + 20);
        ULONG len = raw < vsize ? raw : vsize;
        ULONG lo = rva > va ? rva : va;
        ULONG hi = rva + 0x1000 < va + len ? rva + 0x1000 : va + len;
        if (lo >= hi)
            continue;
        if ((size_t)off + (lo - va) + (hi - lo) > n)
            return -1;
        memcpy(dst + (lo - rva), f + off + (lo - va), hi - lo);
    }
    return 0;
}

/* Pointer to len bytes of the file at image offset rva, or NULL. */
const UCHAR *world_pe_rva_ptr(const UCHAR *f, size_t n, ULONG rva, ULONG len)
{
    ULONG e = pe_nt_offset(f, n);
    if (!e)
        return NULL;
    ULONG nsec = rd16(f + e + 6);
    const UCHAR *sec = f + e + 24 + rd16(f + e + 20);
    if (rva + (ULONG64)len <= rd32(f + e + 24 + 60))
        return rva + (size_t)len <= n ? f + rva : NULL;
    for (ULONG i = 0; i < nsec; i++, sec += 40) {
        if ((size_t)(sec + 40 - f) > n)
            return NULL;
        ULONG va = rd32(sec + 12), raw = rd32(sec + 16), off = rd32(sec + 20);
        if (rva >= va && rva + (ULONG64)len <= (ULONG64)va + raw)
            return (size_t)off + (rva - va) + len <= n ? f + off + (rva - va) : NULL;
    }
    return NULL;
}

/* Data directory i (0 export, 1 import, 3 exception): rva and size. */
int world_pe_data_dir(const UCHAR *f, size_t n, ULONG i, ULONG *rva, ULONG *size)
{
    ULONG e = pe_nt_offset(f, n);
    if (!e || i >= 16)
        return -1;
    *rva = rd32(f + e + 24 + 112 + 8 * i);
    *size = rd32(f + e + 24 + 112 + 8 * i + 4);
    return *rva ? 0 : -1;
}

/* RVA of the export called name, or 0. */
ULONG world_pe_export_rva(const UCHAR *f, size_t n, const char *name)
{
    ULONG dir, size;
    const UCHAR *d;
    if (world_pe_data_dir(f, n, 0, &dir, &size) != 0 ||
        !(d = world_pe_rva_ptr(f, n, dir, 40)))
        return 0;
    ULONG count = rd32(d + 24), funcs = rd32(d + 28), names = rd32(d + 32), ords = rd32(d + 36);
    size_t len = strlen(name);
    for (ULONG i = 0; i < count; i++) {
        const UCHAR *np = world_pe_rva_ptr(f, n, names + 4 * i, 4);
        const UCHAR *s = np ? world_pe_rva_ptr(f, n, rd32(np), (ULONG)len + 1) : NULL;
        if (!s || memcmp(s, name, len + 1) != 0)
            continue;
        const UCHAR *op = world_pe_rva_ptr(f, n, ords + 2 * i, 2);
        const UCHAR *fp = op ? world_pe_rva_ptr(f, n, funcs + 4 * rd16(op), 4) : NULL;
        return fp ? rd32(fp) : 0;
    }
    return 0;
}

size_t world_ascii_to_utf16(WCHAR *dst, const char *src)
{
    size_t i = 0;
    for (; src[i]; i++)
        dst[i] = (UCHAR)src[i];
    dst[i] = 0;
    return i;
}

static void init_kernel_ustr(UNICODE_STRING *u, const char *s)
{
    size_t len = strlen(s);
    WCHAR *w = mm_alloc((len + 1) * 2);
    world_ascii_to_utf16(w, s);
    u->Buffer = w;
    u->Length = (USHORT)(len * 2);
    u->MaximumLength = (USHORT)(len * 2 + 2);
}

static KLDR_DATA_TABLE_ENTRY *add_module(ULONG64 base, const char *full, const char *name)
{
    KLDR_DATA_TABLE_ENTRY *m = mm_alloc(sizeof *m);
    const UCHAR *img = (const UCHAR *)base;
    ULONG e = rd32(img + 0x3C);
    const UCHAR *opt = img + e + 24;

    m->DllBase = (PVOID)base;
    m->EntryPoint = (PVOID)(base + rd32(opt + 16));
    m->SizeOfImage = rd32(opt + 56);
    m->SizeOfImageNotRounded = m->SizeOfImage;
    m->TimeDateStamp = rd32(img + e + 8);
    m->CheckSum = rd32(opt + 64);
    /* exception directory = data directory 3 */
    m->ExceptionTable = (PVOID)(base + rd32(opt + 112 + 3 * 8));
    m->ExceptionTableSize = rd32(opt + 112 + 3 * 8 + 4);
    m->Flags = 0x49104000;
    m->LoadCount = 1;
    init_kernel_ustr(&m->FullDllName, full);
    init_kernel_ustr(&m->BaseDllName, name);
    m->InLoadOrderLinks.Flink = &PsLoadedModuleList;
    m->InLoadOrderLinks.Blink = PsLoadedModuleList.Blink;
    PsLoadedModuleList.Blink->Flink = &m->InLoadOrderLinks;
    PsLoadedModuleList.Blink = &m->InLoadOrderLinks;
    return m;
}

/* Map a PE blob at its preferred base in the kernel half (shared by every
 * address space), page by page. */
static ULONG64 load_kernel_image(const UCHAR *f, size_t n)
{
    ULONG64 base;
    ULONG size;
    if (world_pe_info(f, n, &base, &size, NULL, NULL, NULL) != 0)
        return 0;
    for (ULONG rva = 0; rva < size; rva += 0x1000) {
        uint64_t pa = mm_alloc_page();
        if (!pa || world_pe_copy_page(f, n, rva, mm_phys(pa)) != 0 ||
            mm_map_page(mm_kernel_cr3(), base + rva, pa, MM_PRESENT | MM_WRITE) != 0)
            return 0;
    }
    return base;
}

void world_modules_init(void)
{
    PsLoadedModuleList.Flink = PsLoadedModuleList.Blink = &PsLoadedModuleList;
    add_module((ULONG64)__ImageBase, "\\SystemRoot\\system32\\ntoskrnl.exe", "ntoskrnl.exe");

    size_t n = (size_t)(world_blob_testdrv_end - world_blob_testdrv);
    ULONG64 base = load_kernel_image(world_blob_testdrv, n);
    if (!base)
        return;                 /* world_run reports it (no KD traffic here) */
    world_testdrv_entry = add_module(base, "\\SystemRoot\\system32\\drivers\\testdrv.sys",
                                     "testdrv.sys");
}
