/*
 * nt_types.h - field offsets of the Windows structures the nt awareness
 * layer reads, from nt's PDB types (pdb_type_field) or, when the PDB has no
 * types, from the KDDEBUGGER_DATA64 Offset* fields (fact sheet §13).
 *
 * NT_OFF_NONE marks a field this kernel (or this source of offsets) does
 * not have; readers skip it and print what WinDbg prints for missing data.
 */
#ifndef KDCLIENT_NT_TYPES_H
#define KDCLIENT_NT_TYPES_H

#include <stddef.h>
#include <stdint.h>

#define NT_OFF_NONE 0xffffffffu

typedef struct nt_offsets {
	unsigned ptr;                /* pointer size: 8 or 4 */
	int from_pdb;                /* 1: PDB types, 0: KDBG fallback */
	/* _EPROCESS (+ _KPROCESS Pcb) */
	uint32_t ep_size;
	uint32_t ep_dirbase, ep_pid, ep_links, ep_image, ep_peb, ep_parent;
	uint32_t ep_object_table, ep_session_id, ep_thread_head;
	uint32_t kp_thread_head;     /* _KPROCESS.ThreadListHead */
	uint32_t ht_handle_count;    /* _HANDLE_TABLE.HandleCount */
	/* _ETHREAD (+ _KTHREAD Tcb) */
	uint32_t et_size;
	uint32_t kt_kernel_stack, kt_initial_stack, kt_stack_limit, kt_stack_base;
	uint32_t kt_teb, kt_state, kt_wait_reason, kt_wait_mode, kt_process;
	uint32_t kt_trap_frame, kt_priority, kt_base_priority, kt_context_switches;
	uint32_t kt_kernel_time, kt_user_time, kt_thread_links, kt_win32_thread;
	uint32_t et_cid, et_links, et_start, et_win32_start;
	/* _PEB, _PEB_LDR_DATA, _LDR_DATA_TABLE_ENTRY, _RTL_USER_PROCESS_PARAMETERS */
	uint32_t peb_size, peb_being_debugged, peb_image_base, peb_ldr, peb_params;
	uint32_t peb_process_heap, peb_session_id;
	uint32_t peb_inherited, peb_read_ifeo, peb_nt_global_flag, peb_subsystem_data;
	uint32_t ldr_size, ldr_initialized, ldr_in_load, ldr_in_memory, ldr_in_init;
	uint32_t lde_size, lde_in_load, lde_base, lde_entry, lde_image_size;
	uint32_t lde_full_name, lde_base_name, lde_timestamp;
	uint32_t pp_size, pp_cur_dir, pp_dll_path, pp_image_path, pp_cmdline;
	uint32_t pp_environment, pp_window_title, pp_desktop, pp_shell, pp_runtime;
	uint32_t pp_env_size;
	/* _TEB (NT_TIB first) */
	uint32_t teb_size, teb_exception_list, teb_stack_base, teb_stack_limit;
	uint32_t teb_self, teb_cid, teb_rpc, teb_tls, teb_peb, teb_last_error;
} nt_offsets;

/* Fill every field with NT_OFF_NONE. */
void nt_offsets_clear(nt_offsets *o, unsigned ptr);

/* Offsets by type and field path through a callback (so that the PDB
 * adapter stays in one place and tests can feed a table):
 * field(ctx, "_EPROCESS", "Pcb.DirectoryTableBase", &off) and
 * size(ctx, "_EPROCESS", &bytes) return 0 or < 0 when absent.  Returns the
 * number of fields found (0: no types at all). */
typedef int (*nt_field_fn)(void *ctx, const char *type, const char *path, uint32_t *off);
typedef int (*nt_size_fn)(void *ctx, const char *type, uint32_t *size);
int nt_offsets_from_types(nt_offsets *o, nt_field_fn field, nt_size_fn size, void *ctx);

/* KDDEBUGGER_DATA64 as read from the target (at least 0x340 bytes for the
 * Offset* fields; OwnerTag 'KDBG' checked).  Fills what the block has:
 * EPROCESS Peb/DirectoryTableBase/ParentCID and sizes, KTHREAD KernelStack,
 * InitialStack, Teb, ApcState.Process, State.  0 or < 0 (not a KDBG). */
int nt_offsets_from_kdbg(nt_offsets *o, const uint8_t *kdbg, size_t len);

/* Fields the process/thread walkers cannot do without. */
int nt_offsets_can_walk_processes(const nt_offsets *o);

/* Little-endian readers over a buffer read from the target, bounds-checked:
 * a field outside the buffer (or NT_OFF_NONE) reads as 0 and returns 0. */
uint64_t nt_buf_ptr(const nt_offsets *o, const uint8_t *buf, size_t len, uint32_t off);
uint64_t nt_buf_u64(const uint8_t *buf, size_t len, uint32_t off);
uint32_t nt_buf_u32(const uint8_t *buf, size_t len, uint32_t off);
uint16_t nt_buf_u16(const uint8_t *buf, size_t len, uint32_t off);
uint8_t nt_buf_u8(const uint8_t *buf, size_t len, uint32_t off);

#endif
