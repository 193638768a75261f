/*
 * world.h - the "small Windows world" of the test kernel (V2).
 *
 * The entry points the core calls (world_init, world_run, world_current_thread,
 * world_kpcr, world_kprcb, world_ps_*, world_kd_debugger_data_block,
 * world_debugger_data_list) are declared in ../kernel/kernel.h, the core<->world
 * contract; this header adds the Windows-named globals and the declarations the
 * world's own files share.
 */
#ifndef TESTVM_WORLD_H
#define TESTVM_WORLD_H

#include "kernel.h"
#include "ntdefs.h"

/* ---- Windows-named globals (symbols in testnt.pdb) ----------------------- */
extern LIST_ENTRY PsLoadedModuleList;          /* KLDR_DATA_TABLE_ENTRY.InLoadOrderLinks */
extern LIST_ENTRY PsActiveProcessHead;         /* EPROCESS.ActiveProcessLinks */
extern KDDEBUGGER_DATA64 KdDebuggerDataBlock;  /* OwnerTag 'KDBG' */
extern LIST_ENTRY64 KdpDebuggerDataListHead;   /* GetVersion64 DebuggerDataList */
extern KPCR KiInitialPcr;                      /* GS base */
extern KPRCB *KiProcessorBlock[1];
extern EPROCESS *PsInitialSystemProcess;
extern EPROCESS *PsIdleProcess;
extern KTHREAD *KiInitialThread;               /* the idle thread (boot stack) */

/* NtCreateFile with the real x64 signature (the worker's call site). */
NTSTATUS NtCreateFile(HANDLE *FileHandle, ACCESS_MASK DesiredAccess,
                      OBJECT_ATTRIBUTES *ObjectAttributes, IO_STATUS_BLOCK *IoStatusBlock,
                      LARGE_INTEGER *AllocationSize, ULONG FileAttributes,
                      ULONG ShareAccess, ULONG CreateDisposition, ULONG CreateOptions,
                      PVOID EaBuffer, ULONG EaLength);

/* ---- scheduler (sched.c, swapctx.S) -------------------------------------- */
typedef void KSTART_ROUTINE(PVOID StartContext);
/* Make a thread of process p ready to run routine(ctx) on its own kernel stack. */
ETHREAD *world_create_thread(EPROCESS *p, KSTART_ROUTINE *routine, PVOID ctx,
                             ULONG thread_id);
NTSTATUS KeWaitForSingleObject(PVOID Object, ULONG WaitReason, CHAR WaitMode,
                               BOOLEAN Alertable, LARGE_INTEGER *Timeout);
NTSTATUS KeDelayExecutionThread(CHAR WaitMode, BOOLEAN Alertable, LARGE_INTEGER *Interval);
NTSTATUS NtWaitForSingleObject(HANDLE Handle, BOOLEAN Alertable, LARGE_INTEGER *Timeout);
ETHREAD *world_create_user_thread(EPROCESS *p, ULONG tid, ULONG64 user_entry, ULONG64 start,
                                  ULONG64 arg, ULONG64 user_stack, ULONG64 teb);
void KeInitializeEvent(KEVENT *Event, ULONG Type, BOOLEAN State);
LONG KeSetEvent(KEVENT *Event, LONG Increment, BOOLEAN Wait);
void world_sched_init(void);
/* Kernel VA range for stacks: pages mapped in the kernel half (shared). */
void *world_map_kernel_pages(ULONG pages);

/* assembly */
void KiSwapContext(KTHREAD *OldThread, KTHREAD *NewThread);
void KiStartSystemThread(void);
void KiStartUserThread(void);
void KiSystemCall64(void);

/* ---- processes, modules, I/O --------------------------------------------- */
void world_modules_init(void);
void world_processes_init(void);
void world_io_init(void);
void world_drivers_start(void);
/* Copy a flat PE file's page at rva into dst (one 4 KiB page). */
int world_pe_copy_page(const UCHAR *file, size_t file_size, ULONG rva, UCHAR *dst);
int world_pe_info(const UCHAR *file, size_t file_size, ULONG64 *base,
                  ULONG *size_of_image, ULONG *entry_rva, ULONG *timestamp,
                  ULONG *checksum);
const UCHAR *world_pe_rva_ptr(const UCHAR *file, size_t file_size, ULONG rva, ULONG len);
int world_pe_data_dir(const UCHAR *file, size_t file_size, ULONG i, ULONG *rva, ULONG *size);
ULONG world_pe_export_rva(const UCHAR *file, size_t file_size, const char *name);
/* UTF-16 copy of an ASCII string, NUL-terminated; returns chars (w/o NUL). */
size_t world_ascii_to_utf16(WCHAR *dst, const char *src);

/* 2026-11-22 00:00:00 UTC as a FILETIME (100 ns since 1601): the world's boot time. */
#define KE_BOOT_TIME 0x01DD7A146AC1C000ll

/* KUSER_SHARED_DATA (shared_data.c) */
void world_shared_data_init(void);
void world_shared_data_update(void);
void world_shared_data_map_user(uint64_t dtb);

/* embedded blobs (blobs.S) */
extern const UCHAR world_blob_testdrv[], world_blob_testdrv_end[];
extern const UCHAR world_blob_ntdll[], world_blob_ntdll_end[];

#endif
