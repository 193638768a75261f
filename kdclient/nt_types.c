/*
 * nt_types.c - where the nt structures' fields are.
 *
 * Offsets come from the kernel's own PDB whenever it has types (they move
 * with every Windows build, so no table of per-build constants is kept);
 * KDDEBUGGER_DATA64 carries a handful of them for debuggers without
 * symbols (fact sheet §13) and is the fallback.
 */
#include "nt_types.h"

#include <string.h>

void nt_offsets_clear(nt_offsets *o, unsigned ptr)
{
	memset(o, 0xff, sizeof(*o));
	o->ptr = ptr;
	o->from_pdb = 0;
}

typedef struct field_spec {
	size_t member;               /* offsetof(nt_offsets, ...) */
	const char *type;
	const char *path;            /* alternatives separated by '|' */
} field_spec;

#define F(m, t, p) { offsetof(nt_offsets, m), t, p }
static const field_spec fields[] = {
	F(ep_dirbase, "_EPROCESS", "Pcb.DirectoryTableBase"),
	F(ep_pid, "_EPROCESS", "UniqueProcessId"),
	F(ep_links, "_EPROCESS", "ActiveProcessLinks"),
	F(ep_image, "_EPROCESS", "ImageFileName"),
	F(ep_peb, "_EPROCESS", "Peb"),
	F(ep_parent, "_EPROCESS", "InheritedFromUniqueProcessId"),
	F(ep_object_table, "_EPROCESS", "ObjectTable"),
	F(ep_session_id, "_EPROCESS", "SessionId"),
	F(ep_thread_head, "_EPROCESS", "ThreadListHead"),
	F(kp_thread_head, "_EPROCESS", "Pcb.ThreadListHead"),
	F(ht_handle_count, "_HANDLE_TABLE", "HandleCount"),
	F(kt_kernel_stack, "_ETHREAD", "Tcb.KernelStack"),
	F(kt_initial_stack, "_ETHREAD", "Tcb.InitialStack"),
	F(kt_stack_limit, "_ETHREAD", "Tcb.StackLimit"),
	F(kt_stack_base, "_ETHREAD", "Tcb.StackBase"),
	F(kt_teb, "_ETHREAD", "Tcb.Teb"),
	F(kt_state, "_ETHREAD", "Tcb.State"),
	F(kt_wait_reason, "_ETHREAD", "Tcb.WaitReason"),
	F(kt_wait_mode, "_ETHREAD", "Tcb.WaitMode"),
	F(kt_process, "_ETHREAD", "Tcb.ApcState.Process|Tcb.Process"),
	F(kt_trap_frame, "_ETHREAD", "Tcb.TrapFrame"),
	F(kt_priority, "_ETHREAD", "Tcb.Priority"),
	F(kt_base_priority, "_ETHREAD", "Tcb.BasePriority"),
	F(kt_context_switches, "_ETHREAD", "Tcb.ContextSwitches"),
	F(kt_kernel_time, "_ETHREAD", "Tcb.KernelTime"),
	F(kt_user_time, "_ETHREAD", "Tcb.UserTime"),
	F(kt_thread_links, "_ETHREAD", "Tcb.ThreadListEntry"),
	F(kt_win32_thread, "_ETHREAD", "Tcb.Win32Thread"),
	F(et_cid, "_ETHREAD", "Cid"),
	F(et_links, "_ETHREAD", "ThreadListEntry"),
	F(et_start, "_ETHREAD", "StartAddress"),
	F(et_win32_start, "_ETHREAD", "Win32StartAddress"),
	F(peb_being_debugged, "_PEB", "BeingDebugged"),
	F(peb_image_base, "_PEB", "ImageBaseAddress"),
	F(peb_ldr, "_PEB", "Ldr"),
	F(peb_params, "_PEB", "ProcessParameters"),
	F(peb_process_heap, "_PEB", "ProcessHeap"),
	F(peb_session_id, "_PEB", "SessionId"),
	F(peb_inherited, "_PEB", "InheritedAddressSpace"),
	F(peb_read_ifeo, "_PEB", "ReadImageFileExecOptions"),
	F(peb_nt_global_flag, "_PEB", "NtGlobalFlag"),
	F(peb_subsystem_data, "_PEB", "SubSystemData"),
	F(ldr_initialized, "_PEB_LDR_DATA", "Initialized"),
	F(ldr_in_load, "_PEB_LDR_DATA", "InLoadOrderModuleList"),
	F(ldr_in_memory, "_PEB_LDR_DATA", "InMemoryOrderModuleList"),
	F(ldr_in_init, "_PEB_LDR_DATA", "InInitializationOrderModuleList"),
	F(lde_in_load, "_LDR_DATA_TABLE_ENTRY", "InLoadOrderLinks"),
	F(lde_base, "_LDR_DATA_TABLE_ENTRY", "DllBase"),
	F(lde_entry, "_LDR_DATA_TABLE_ENTRY", "EntryPoint"),
	F(lde_image_size, "_LDR_DATA_TABLE_ENTRY", "SizeOfImage"),
	F(lde_full_name, "_LDR_DATA_TABLE_ENTRY", "FullDllName"),
	F(lde_base_name, "_LDR_DATA_TABLE_ENTRY", "BaseDllName"),
	F(lde_timestamp, "_LDR_DATA_TABLE_ENTRY", "TimeDateStamp"),
	F(pp_cur_dir, "_RTL_USER_PROCESS_PARAMETERS", "CurrentDirectory.DosPath"),
	F(pp_dll_path, "_RTL_USER_PROCESS_PARAMETERS", "DllPath"),
	F(pp_image_path, "_RTL_USER_PROCESS_PARAMETERS", "ImagePathName"),
	F(pp_cmdline, "_RTL_USER_PROCESS_PARAMETERS", "CommandLine"),
	F(pp_environment, "_RTL_USER_PROCESS_PARAMETERS", "Environment"),
	F(pp_window_title, "_RTL_USER_PROCESS_PARAMETERS", "WindowTitle"),
	F(pp_desktop, "_RTL_USER_PROCESS_PARAMETERS", "DesktopInfo"),
	F(pp_shell, "_RTL_USER_PROCESS_PARAMETERS", "ShellInfo"),
	F(pp_runtime, "_RTL_USER_PROCESS_PARAMETERS", "RuntimeData"),
	F(pp_env_size, "_RTL_USER_PROCESS_PARAMETERS", "EnvironmentSize"),
	F(teb_exception_list, "_TEB", "NtTib.ExceptionList"),
	F(teb_stack_base, "_TEB", "NtTib.StackBase"),
	F(teb_stack_limit, "_TEB", "NtTib.StackLimit"),
	F(teb_self, "_TEB", "NtTib.Self"),
	F(teb_cid, "_TEB", "ClientId"),
	F(teb_rpc, "_TEB", "ActiveRpcHandle"),
	F(teb_tls, "_TEB", "ThreadLocalStoragePointer"),
	F(teb_peb, "_TEB", "ProcessEnvironmentBlock"),
	F(teb_last_error, "_TEB", "LastErrorValue"),
};
#undef F

static const struct { size_t member; const char *type; } sizes[] = {
	{ offsetof(nt_offsets, ep_size), "_EPROCESS" },
	{ offsetof(nt_offsets, et_size), "_ETHREAD" },
	{ offsetof(nt_offsets, peb_size), "_PEB" },
	{ offsetof(nt_offsets, ldr_size), "_PEB_LDR_DATA" },
	{ offsetof(nt_offsets, lde_size), "_LDR_DATA_TABLE_ENTRY" },
	{ offsetof(nt_offsets, pp_size), "_RTL_USER_PROCESS_PARAMETERS" },
	{ offsetof(nt_offsets, teb_size), "_TEB" },
};

static uint32_t *member(nt_offsets *o, size_t off) { return (uint32_t *)((char *)o + off); }

int nt_offsets_from_types(nt_offsets *o, nt_field_fn field, nt_size_fn size, void *ctx)
{
	int found = 0;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		char alt[96];
		const char *p = fields[i].path;
		while (*p) {
			size_t n = strcspn(p, "|");
			if (n >= sizeof(alt))
				break;
			memcpy(alt, p, n);
			alt[n] = 0;
			uint32_t off;
			if (field(ctx, fields[i].type, alt, &off) == 0) {
				*member(o, fields[i].member) = off;
				found++;
				break;
			}
			p += n;
			if (*p == '|')
				p++;
		}
	}
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint32_t sz;
		if (size(ctx, sizes[i].type, &sz) == 0 && sz)
			*member(o, sizes[i].member) = sz;
	}
	if (found)
		o->from_pdb = 1;
	return found;
}

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

int nt_offsets_from_kdbg(nt_offsets *o, const uint8_t *k, size_t len)
{
	/* Header: OwnerTag 'KDBG' at 0x10, Size at 0x14 (fact sheet §13). */
	if (len < 0x2c8 || rd32(k + 0x10) != 0x4742444bu)
		return -1;
	size_t size = rd32(k + 0x14);
	if (size < 0x2c8)
		return -1;
	struct { uint32_t koff; size_t member; } t16[] = {
		{ 0x29c, offsetof(nt_offsets, kt_kernel_stack) },
		{ 0x29e, offsetof(nt_offsets, kt_initial_stack) },
		{ 0x29a, offsetof(nt_offsets, kt_teb) },
		{ 0x2a0, offsetof(nt_offsets, kt_process) },
		{ 0x2a2, offsetof(nt_offsets, kt_state) },
		{ 0x2a8, offsetof(nt_offsets, ep_size) },
		{ 0x2aa, offsetof(nt_offsets, ep_peb) },
		{ 0x2ac, offsetof(nt_offsets, ep_parent) },
		{ 0x2ae, offsetof(nt_offsets, ep_dirbase) },
		{ 0x2c0, offsetof(nt_offsets, et_size) },
	};
	for (size_t i = 0; i < sizeof(t16) / sizeof(t16[0]); i++) {
		uint16_t v = rd16(k + t16[i].koff);
		uint32_t *m = member(o, t16[i].member);
		if (v && *m == NT_OFF_NONE)
			*m = v;
	}
	return 0;
}

int nt_offsets_can_walk_processes(const nt_offsets *o)
{
	return o->ep_pid != NT_OFF_NONE && o->ep_links != NT_OFF_NONE &&
	       o->ep_image != NT_OFF_NONE && o->ep_dirbase != NT_OFF_NONE;
}

static int in(size_t len, uint32_t off, size_t n) { return off != NT_OFF_NONE && (size_t)off + n <= len; }

uint64_t nt_buf_u64(const uint8_t *b, size_t len, uint32_t off)
{
	return in(len, off, 8) ? (uint64_t)rd32(b + off) | (uint64_t)rd32(b + off + 4) << 32 : 0;
}
uint32_t nt_buf_u32(const uint8_t *b, size_t len, uint32_t off) { return in(len, off, 4) ? rd32(b + off) : 0; }
uint16_t nt_buf_u16(const uint8_t *b, size_t len, uint32_t off) { return in(len, off, 2) ? rd16(b + off) : 0; }
uint8_t nt_buf_u8(const uint8_t *b, size_t len, uint32_t off) { return in(len, off, 1) ? b[off] : 0; }
uint64_t nt_buf_ptr(const nt_offsets *o, const uint8_t *b, size_t len, uint32_t off)
{
	return o->ptr == 8 ? nt_buf_u64(b, len, off) : nt_buf_u32(b, len, off);
}
