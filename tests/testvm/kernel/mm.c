/*
 * mm.c - physical pages (a bump allocator over RAM above the image), the
 * kernel page tables (image at 0xFFFFF800_00100000 with 4 KiB pages, direct
 * map of RAM at 0xFFFF8000_00000000), and page-table walks that the
 * debugger uses to read memory without ever faulting.
 */
#include "ke.h"

#define PTE_P   0x001ull
#define PTE_W   0x002ull
#define PTE_U   0x004ull
#define PTE_PS  0x080ull
#define PTE_ADDR 0x000FFFFFFFFFF000ull
#define BOOT_ALIAS 0xFFFFF80000000000ull   /* boot.S maps phys [0,1G) here */

static uint64_t MmDirectBase = BOOT_ALIAS;
static uint64_t MmNextFreePage;
static uint64_t MmFirstFreePage;
static uint64_t MmHighestPhysical;
static uint64_t MmKernelPml4;
static uint64_t MmSizeOfImage;
static uint8_t *MmPoolCursor;
static size_t MmPoolLeft;

void *mm_phys(uint64_t pa)
{
    return (void *)(MmDirectBase + pa);
}

uint64_t mm_phys_of(const void *p)
{
    return (uint64_t)p - MmDirectBase;
}

uint64_t mm_phys_top(void)
{
    return MmHighestPhysical;
}

uint64_t mm_kernel_cr3(void)
{
    return MmKernelPml4;
}

uint64_t MmImageSize(void)
{
    return MmSizeOfImage;
}

uint64_t mm_alloc_page(void)
{
    if (MmNextFreePage + MM_PAGE_SIZE > MmHighestPhysical)
        return 0;
    uint64_t pa = MmNextFreePage;
    MmNextFreePage += MM_PAGE_SIZE;
    memset(mm_phys(pa), 0, MM_PAGE_SIZE);
    return pa;
}

void *mm_alloc(size_t bytes)
{
    bytes = (bytes + 15) & ~(size_t)15;
    if (bytes > MmPoolLeft) {
        /* The page allocator is a bump allocator, so consecutive pages are
         * physically contiguous and one direct-map range covers them. */
        size_t pages = (bytes + MM_PAGE_SIZE - 1) / MM_PAGE_SIZE;
        uint64_t first = mm_alloc_page();
        if (!first)
            return NULL;
        for (size_t i = 1; i < pages; i++)
            if (!mm_alloc_page())
                return NULL;
        MmPoolCursor = mm_phys(first);
        MmPoolLeft = pages * MM_PAGE_SIZE;
    }
    void *p = MmPoolCursor;
    MmPoolCursor += bytes;
    MmPoolLeft -= bytes;
    return p;
}

static uint64_t *MmTable(uint64_t pa)
{
    return (uint64_t *)mm_phys(pa & PTE_ADDR);
}

static void MmPropagateKernelEntry(unsigned idx);

int mm_map_page(uint64_t pml4_pa, uint64_t va, uint64_t pa, uint64_t flags)
{
    uint64_t inter = PTE_P | PTE_W | (flags & MM_USER ? PTE_U : 0);
    /* Kernel-half mappings always go into the kernel's tables, shared by
     * every address space. */
    if (va >> 63) {
        unsigned idx = (va >> 39) & 511;
        uint64_t *k = MmTable(MmKernelPml4);
        if (!(k[idx] & PTE_P)) {
            uint64_t n = mm_alloc_page();
            if (!n)
                return -1;
            k[idx] = n | PTE_P | PTE_W;
            MmPropagateKernelEntry(idx);
        }
        pml4_pa = MmKernelPml4;
    }
    uint64_t table = pml4_pa;
    for (int shift = 39; shift > 12; shift -= 9) {
        uint64_t *t = MmTable(table);
        unsigned idx = (va >> shift) & 511;
        if (!(t[idx] & PTE_P)) {
            uint64_t n = mm_alloc_page();
            if (!n)
                return -1;
            t[idx] = n | inter;
        } else if (t[idx] & PTE_PS) {
            return -1;
        } else {
            t[idx] |= (inter & PTE_U);
        }
        table = t[idx] & PTE_ADDR;
    }
    uint64_t *pt = MmTable(table);
    pt[(va >> 12) & 511] = (pa & PTE_ADDR) | (flags & (MM_PRESENT | MM_WRITE | MM_USER | MM_NX)) | PTE_P;
    if ((read_cr3() & PTE_ADDR) == (pml4_pa & PTE_ADDR) || va >= 0xFFFF800000000000ull)
        invlpg(va);
    return 0;
}

int mm_virt_to_phys(uint64_t cr3, uint64_t va, uint64_t *pa)
{
    /* Non-canonical addresses are never mapped. */
    uint64_t top = va >> 47;
    if (top != 0 && top != 0x1FFFF)
        return -1;
    uint64_t table = cr3 & PTE_ADDR;
    for (int shift = 39; shift >= 12; shift -= 9) {
        if (table >= MmHighestPhysical)
            return -1;
        uint64_t e = MmTable(table)[(va >> shift) & 511];
        if (!(e & PTE_P))
            return -1;
        if (shift == 12 || ((e & PTE_PS) && shift != 39)) {
            uint64_t mask = (1ull << shift) - 1;
            *pa = ((e & PTE_ADDR) & ~mask) | (va & mask);
            return 0;
        }
        table = e & PTE_ADDR;
    }
    return -1;
}

/* Address spaces made by mm_create_address_space; a kernel-half PML4 entry
 * created later is copied into each, so all of them keep sharing the whole
 * kernel half (without allocating 256 PDPT pages up front, which would
 * bloat every crash dump). */
#define MM_MAX_ADDRESS_SPACES 64
static uint64_t MmAddressSpaces[MM_MAX_ADDRESS_SPACES];
static int MmAddressSpaceCount;

uint64_t mm_create_address_space(void)
{
    if (MmAddressSpaceCount == MM_MAX_ADDRESS_SPACES)
        return 0;
    uint64_t pml4 = mm_alloc_page();
    if (!pml4)
        return 0;
    uint64_t *dst = MmTable(pml4), *src = MmTable(MmKernelPml4);
    for (int i = 256; i < 512; i++)
        dst[i] = src[i];
    MmAddressSpaces[MmAddressSpaceCount++] = pml4;
    return pml4;
}

static void MmPropagateKernelEntry(unsigned idx)
{
    uint64_t e = MmTable(MmKernelPml4)[idx];
    for (int i = 0; i < MmAddressSpaceCount; i++)
        MmTable(MmAddressSpaces[i])[idx] = e;
}

static uint32_t MmRead32(uint64_t va)
{
    return *(volatile uint32_t *)va;
}

void MmInitSystem(uint32_t multiboot_info_pa)
{
    /* Multiboot info: flags bit 0 gives mem_upper (KiB above 1 MiB). */
    uint64_t mbi = BOOT_ALIAS + multiboot_info_pa;
    uint32_t mb_flags = MmRead32(mbi);
    uint64_t mem_upper_kb = (mb_flags & 1) ? MmRead32(mbi + 8) : 127 * 1024;
    MmHighestPhysical = (mem_upper_kb + 1024) * 1024;
    if (MmHighestPhysical > (1ull << 30))
        MmHighestPhysical = 1ull << 30;        /* the boot alias only covers 1 GiB */
    MmHighestPhysical &= ~(MM_PAGE_SIZE - 1);

    uint64_t nt = KERNEL_IMAGE_BASE + MmRead32(KERNEL_IMAGE_BASE + 0x3C);
    MmSizeOfImage = MmRead32(nt + 0x18 + 0x38);
    MmNextFreePage = (KERNEL_IMAGE_PHYS + MmSizeOfImage + 2 * MM_PAGE_SIZE - 1) & ~(MM_PAGE_SIZE - 1);
    MmFirstFreePage = MmNextFreePage;

    MmKernelPml4 = mm_alloc_page();
    uint64_t *pml4 = MmTable(MmKernelPml4);
    pml4[256] = mm_alloc_page() | PTE_P | PTE_W;     /* direct map */

    /* Direct map with 2 MiB pages. */
    uint64_t pdpt = pml4[256] & PTE_ADDR;
    for (uint64_t pa = 0; pa < MmHighestPhysical; pa += 0x200000) {
        uint64_t *pdpte = &MmTable(pdpt)[(pa >> 30) & 511];
        if (!(*pdpte & PTE_P))
            *pdpte = mm_alloc_page() | PTE_P | PTE_W;
        MmTable(*pdpte)[(pa >> 21) & 511] = pa | PTE_P | PTE_W | PTE_PS;
    }
    /* The image, page by page; the page after it stays unmapped so partial
     * reads have a real edge to stop at. */
    for (uint64_t off = 0; off < MmSizeOfImage; off += MM_PAGE_SIZE)
        mm_map_page(MmKernelPml4, KERNEL_IMAGE_BASE + off, KERNEL_IMAGE_PHYS + off,
                    MM_PRESENT | MM_WRITE);

    write_cr3(MmKernelPml4);
    MmDirectBase = MM_DIRECT_MAP_BASE;
}

/* Crash dump runs: the image, and the pages handed out since boot (the
 * allocator starts one page after the image, so these are two runs). */
uint64_t MmDumpRunEnd(void)
{
    return MmNextFreePage;
}

uint64_t MmFirstAllocatedPage(void)
{
    return MmFirstFreePage;
}
