/*
 * boot.S - multiboot v1 entry: the first bytes of .text, a 32-bit stub that
 * builds throw-away page tables and enters long mode, then a jump to the
 * higher-half image (0xFFFFF800_00100000) where KiSystemStartup runs.
 *
 * QEMU loads the PE file flat at physical 0x100000 (a.out kludge), which is
 * why the build insists on RVA == file offset for every section.  The address
 * fields of the header are filled in after linking by tools/link_pe.py (they
 * depend on SizeOfImage and AddressOfEntryPoint, which only the linker knows).
 */
#define MB_MAGIC  0x1BADB002
#define MB_FLAGS  0x00010002      /* bit 1: memory info, bit 16: address fields */

/* Boot page tables and stack in free low memory (below the 640 KiB hole,
 * away from QEMU's multiboot info at 0x9000). */
#define BOOT_PML4      0x10000
#define BOOT_PDPT_LOW  0x11000
#define BOOT_PD        0x12000
#define BOOT_PDPT_HIGH 0x13000
#define BOOT_STACK32   0x20000

        .section .text
        .p2align 3
        .globl KiMultibootHeader
KiMultibootHeader:
        .long MB_MAGIC
        .long MB_FLAGS
        .long -(MB_MAGIC + MB_FLAGS)
        .long 0                 /* header_addr   (patched) */
        .long 0                 /* load_addr     (patched) */
        .long 0                 /* load_end_addr (patched) */
        .long 0                 /* bss_end_addr  (patched) */
        .long 0                 /* entry_addr    (patched) */

        .code32
        .globl KiMultibootEntry
KiMultibootEntry:
        cli
        mov     %ebx, %esi              /* multiboot info (physical) */
        mov     $BOOT_STACK32, %esp
        call    1f
1:      pop     %ebp
        sub     $(1b - KiMultibootEntry), %ebp  /* ebp = physical KiMultibootEntry */

        cld
        mov     $BOOT_PML4, %edi
        xor     %eax, %eax
        mov     $(0x4000 / 4), %ecx
        rep stosl
        movl    $(BOOT_PDPT_LOW + 3), BOOT_PML4
        movl    $(BOOT_PDPT_HIGH + 3), BOOT_PML4 + 496 * 8   /* 0xFFFFF800_00000000 */
        movl    $(BOOT_PD + 3), BOOT_PDPT_LOW
        movl    $(BOOT_PD + 3), BOOT_PDPT_HIGH
        mov     $BOOT_PD, %edi
        mov     $0x83, %eax             /* present, writable, 2 MiB */
        mov     $512, %ecx
2:      mov     %eax, (%edi)
        add     $0x200000, %eax
        add     $8, %edi
        loop    2b

        mov     $BOOT_PML4, %eax
        mov     %eax, %cr3
        mov     %cr4, %eax
        or      $0x620, %eax            /* PAE | OSFXSR | OSXMMEXCPT */
        mov     %eax, %cr4
        mov     $0xC0000080, %ecx       /* EFER */
        rdmsr
        or      $0x900, %eax            /* LME | NXE */
        wrmsr
        mov     %cr0, %eax
        and     $0xFFFFFFFB, %eax       /* clear EM: SSE is used by compiled code */
        or      $0x80000022, %eax       /* PG | NE | MP */
        mov     %eax, %cr0

        lea     (KiBootGdt - KiMultibootEntry)(%ebp), %eax
        push    %eax
        pushw   $(KiBootGdtEnd - KiBootGdt - 1)
        lgdt    (%esp)
        add     $6, %esp
        lea     (KiLongModeEntry - KiMultibootEntry)(%ebp), %eax
        push    $0x10
        push    %eax
        lret

        .p2align 3
KiBootGdt:
        .quad 0
        .quad 0
        .quad 0x00209A0000000000        /* 0x10: 64-bit ring 0 code */
        .quad 0x0000920000000000        /* 0x18: ring 0 data */
KiBootGdtEnd:

        .code64
        .globl KiLongModeEntry
KiLongModeEntry:
        mov     $0x18, %eax
        mov     %eax, %ds
        mov     %eax, %es
        mov     %eax, %ss
        movabsq $KiHighEntry, %rax
        jmp     *%rax
        .globl KiHighEntry
KiHighEntry:
        movabsq $KiBootStackTop, %rsp
        mov     %esi, %ecx              /* arg1: multiboot info physical address */
        sub     $32, %rsp
        call    KiSystemStartup
3:      hlt
        jmp     3b

        .section .data
        .p2align 4
        .globl KiBootStack
KiBootStack:
        .zero   32768
KiBootStackTop:
