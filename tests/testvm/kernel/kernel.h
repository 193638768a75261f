/*
 * kernel.h - the contract between the test kernel core (V1: tests/testvm/kernel/)
 * and the "small Windows world" (V2: tests/testvm/world/).
 *
 * The test kernel is a PE image (testnt.exe, module name "nt") linked at
 * 0xFFFFF800_00100000 and booted by QEMU's multiboot loader at physical
 * 0x00100000.  Everything here is compiled with
 *   clang -target x86_64-pc-windows-msvc -ffreestanding -fno-builtin ...
 * so the calling convention is the Windows x64 one (rcx, rdx, r8, r9, 32-byte
 * home area) and every type declared in a .c file ends up in testnt.pdb.
 *
 * Address map (kernel half, shared by every address space):
 *   0xFFFFF800_00100000 + x   the nt image (x < SizeOfImage), 4 KiB pages;
 *                             the page after the image is NOT mapped.
 *   0xFFFF8000_00000000 + pa  direct map of all physical RAM (2 MiB pages),
 *                             see mm_phys().  Pool-like objects live here.
 * The user half (PML4 entries 0..255) is empty in the kernel address space;
 * mm_create_address_space() gives a new PML4 that shares entries 256..511.
 *
 * Threads/interrupts: the core runs a 100 Hz PIT timer (IRQ0, vector 0x20)
 * that polls COM1 for the KD breakin byte, so interrupts should be enabled
 * while the world runs (the world may also call kd_poll_breakin() itself).
 * Nothing here may be called from the timer interrupt except ke_ticks().
 * Every trap/interrupt stub does swapgs when it comes from ring 3, so in the
 * kernel MSR_GS_BASE is the KPCR (world_kpcr(), loaded at boot) and in user
 * mode KERNEL_GS_BASE holds it (the world keeps the TEB there while a thread
 * runs in the kernel).  The stubs carry unwind info (machine frame), so stack
 * walks cross them into the interrupted code.
 *
 * Build contract (tests/testvm/meson.build does subdir('world') when
 * world/meson.build exists, BEFORE it builds the kernel).  Variables the
 * world can use:  testvm_clang, testvm_lld_link, testvm_python (programs),
 * testvm_kernel_c_args (list: the kernel's clang flags incl. -I for this
 * header), testvm_user_c_args (same without kernel-only bits),
 * testvm_link_py (script: link_pe.py --out X.exe --pdb X.pdb --base 0x...
 * --entry sym [--dll] [--driver] [--subsystem native|console] objs... ;
 * checks RVA == file offset).  testnt-core.exe is the core linked with
 * kernel/world_stub.c instead of the world.  The world defines:
 *   world_kernel_sources : files('...c', '...S') compiled into testnt.exe
 *   world_kernel_deps    : custom targets to build first (user PEs etc.)
 *   world_blob_dir       : include path for .incbin in world .S files
 */
#ifndef TESTVM_KERNEL_H
#define TESTVM_KERNEL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* ---- fixed addresses ---------------------------------------------------- */
#define KERNEL_IMAGE_BASE   0xFFFFF80000100000ull   /* nt!__ImageBase */
#define KERNEL_IMAGE_PHYS   0x0000000000100000ull
#define MM_DIRECT_MAP_BASE  0xFFFF800000000000ull
#define MM_PAGE_SIZE        4096ull

/* ---- memory (V1) -------------------------------------------------------- */
#define MM_PRESENT  0x001ull
#define MM_WRITE    0x002ull
#define MM_USER     0x004ull
#define MM_NX       0x8000000000000000ull

/* A zeroed 4 KiB physical page; returns its physical address (0 = out of memory). */
uint64_t mm_alloc_page(void);
/* Direct-map pointer for a physical address (valid in every address space). */
void *mm_phys(uint64_t pa);
/* Physical address of a direct-map pointer (inverse of mm_phys). */
uint64_t mm_phys_of(const void *p);
/* Zeroed kernel memory from the direct map, 16-byte aligned, never freed
 * (a bump allocator over mm_alloc_page; fine for nt objects). NULL if out. */
void *mm_alloc(size_t bytes);
/* The kernel's PML4 (what CR3 holds at boot). */
uint64_t mm_kernel_cr3(void);
/* A new PML4 (physical address) sharing the kernel half (entries 256..511). */
uint64_t mm_create_address_space(void);
/* Map one 4 KiB page va -> pa in the address space whose PML4 is pml4_pa.
 * flags: MM_PRESENT|MM_WRITE|MM_USER|MM_NX.  Intermediate tables are created
 * (with USER set when flags has MM_USER).  Returns 0, or -1 (no memory, or va
 * is covered by a large page).  Kernel-half addresses (bit 63 set) always
 * land in the shared kernel tables, whatever pml4_pa says, so every address
 * space sees them. */
int mm_map_page(uint64_t pml4_pa, uint64_t va, uint64_t pa, uint64_t flags);
/* Walk the page tables of cr3 (4 KiB / 2 MiB / 1 GiB pages).  0 and *pa set,
 * or -1 when va is not mapped. */
int mm_virt_to_phys(uint64_t cr3, uint64_t va, uint64_t *pa);
/* Total physical RAM in bytes (from the multiboot memory info). */
uint64_t mm_phys_top(void);

/* ---- CPU helpers (V1) --------------------------------------------------- */
uint64_t rdmsr(uint32_t msr);
void wrmsr(uint32_t msr, uint64_t value);
uint64_t read_cr3(void);
void write_cr3(uint64_t cr3);
/* Disable interrupts; returns the previous RFLAGS for ke_restore_interrupts. */
uint64_t ke_disable_interrupts(void);
void ke_restore_interrupts(uint64_t rflags);
/* sti; hlt - wait for the next interrupt (the 100 Hz timer at least). */
void ke_idle_wait(void);
/* Timer ticks (100 Hz) since boot. */
uint64_t ke_ticks(void);
/* Kernel stack used on interrupts from user mode (TSS.RSP0). */
void ke_set_kernel_stack(uint64_t rsp0);
/* GDT selectors: 0x10 kernel code, 0x18 kernel data, 0x2B user data,
 * 0x33 user code (same values as Windows x64), 0x40 TSS. */
#define KGDT64_R0_CODE 0x10
#define KGDT64_R0_DATA 0x18
#define KGDT64_R3_DATA 0x2B
#define KGDT64_R3_CODE 0x33

/* ---- debugger / Windows-named entry points (V1) ------------------------- */
/* nt!DbgPrint: formats (%s %d %u %x %X %p %c %lld %llx %ws(wide) %wZ
 * (UNICODE_STRING*) %% with width/zero-pad) and sends a real KD DEBUG_IO
 * packet (one attempt, dropped when no debugger ACKs). Returns 0. */
unsigned long DbgPrint(const char *fmt, ...);
/* nt!DbgPrompt: DEBUG_IO GetString; returns the number of bytes read. */
unsigned long DbgPrompt(const char *prompt, char *response, unsigned long length);
/* int3 (stops in the debugger when one is attached, i.e. always here). */
void DbgBreakPoint(void);
void DbgBreakPointWithStatus(unsigned long status);
/* Report a LoadSymbols state change for a loaded image (path like
 * "\\SystemRoot\\system32\\drivers\\testdrv.sys").  Call after world_init()
 * returned, e.g. at the top of world_run(). Blocks until the debugger continues. */
void DbgLoadImageSymbols(const char *path, uint64_t base, uint32_t size_of_image,
                         uint32_t checksum);
/* Bugcheck: breaks into the debugger (DBG_STATUS_BUGCHECK_FIRST), then writes
 * a crash dump to COM2 and resets the machine. */
__declspec(noreturn) void KeBugCheckEx(unsigned long code, uint64_t p1, uint64_t p2,
                                       uint64_t p3, uint64_t p4);
/* Poll COM1 once for the breakin byte 0x62; enters the debugger if seen. */
void kd_poll_breakin(void);

/* ---- small C runtime (V1) ----------------------------------------------- */
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
size_t wcslen(const uint16_t *s);
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...);

/* ---- provided by the world (V2, tests/testvm/world/) -------------------- */
/* Called once by KiSystemStartup after serial, memory, GDT/IDT and timer
 * init, before the first KD packet.  Must not send KD traffic. */
void world_init(void);
/* The scheduler; never returns.  Called with interrupts enabled after the
 * boot-time debugger reports (banner, LoadSymbols for nt). */
__declspec(noreturn) void world_run(void);
/* Current _KTHREAD address (0 if none yet): STATE_CHANGE Thread field and
 * control space selector 3. */
uint64_t world_current_thread(void);
/* _KPCR and _KPRCB addresses for control space selectors 0 and 1.  The core
 * also loads MSR_GS_BASE with world_kpcr() after world_init(). */
uint64_t world_kpcr(void);
uint64_t world_kprcb(void);
/* &PsLoadedModuleList, &PsActiveProcessHead, &KdDebuggerDataBlock, and the
 * debugger data list head (a LIST_ENTRY64 whose Flink points at
 * KdDebuggerDataBlock) -- reported in GetVersion64 and the crash dump. */
uint64_t world_ps_loaded_module_list(void);
uint64_t world_ps_active_process_head(void);
uint64_t world_kd_debugger_data_block(void);
uint64_t world_debugger_data_list(void);

#endif
