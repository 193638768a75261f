/*
 * cmd_nt.c - Windows awareness commands: !process, !thread, !peb, !teb,
 * !pte, !vtop, .process, .thread, in WinDbg's output shapes.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cmd_args.h"
#include "command.h"
#include "commands.h"
#include "session.h"
#include "modules.h"
#include "nt_state.h"
#include "nt_view.h"
#include "stack_kd.h"

static const char *fp(kd_session *s, uint64_t v, char buf[24]) { return kd_fmt_ptr(s, v, buf); }

/* 64-bit value always in the x64 "0000000000000000" form (WinDbg prints
 * Win32Thread and Teb this way). */
static void p16(char *buf, uint64_t v) { snprintf(buf, 24, "%016llx", (unsigned long long)v); }

static const nt_offsets *offsets(kd_session *s)
{
	char err[256];
	const nt_offsets *o = nt_get_offsets(s, err, sizeof(err));
	if (!o)
		kd_err(s, "%s\n", err);
	return o;
}

/* Escape the raw ImageFileName bytes from the target. */
static void image_name(const char *raw, char *out, size_t len)
{
	size_t o = 0;
	for (const char *p = raw; *p && o + 5 < len; p++) {
		unsigned char c = (unsigned char)*p;
		if (c < 0x20 || c >= 0x7f)
			o += (size_t)snprintf(out + o, len - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	out[o] = 0;
}

/* ---- !process ---- */

typedef struct proc_ctx {
	kd_session *s;
	const nt_offsets *o;
	unsigned flags;
	const char *image;       /* filter, NULL = all */
	uint64_t want_pid;       /* filter by PID when want_pid_set */
	int want_pid_set;
	int found;
	uint64_t found_ep;       /* first match (for lookups) */
} proc_ctx;

static void print_thread(kd_session *s, const nt_offsets *o, const nt_thread *t, const char *indent,
                         int with_stack, const char *image);

static int thread_cb(void *ctx, const nt_thread *t)
{
	proc_ctx *pc = ctx;
	if (kd_session_interrupted(pc->s))
		return 1;
	int one_line = (pc->flags & 4) && !(pc->flags & 2);
	if (one_line) {
		char a[24];
		kd_out(pc->s, "        THREAD %s  Cid %04llx.%04llx  %s\n", fp(pc->s, t->ethread, a),
		       (unsigned long long)t->pid, (unsigned long long)t->tid, nt_thread_state_name(t->state));
		return 0;
	}
	print_thread(pc->s, pc->o, t, "        ", (pc->flags & 6) == 6, NULL);
	kd_out(pc->s, "\n");
	return 0;
}

static void print_process(kd_session *s, const nt_offsets *o, const nt_process *p, unsigned flags)
{
	char a[24], b[24], img[80];
	kd_out(s, "PROCESS %s\n", fp(s, p->eprocess, a));
	char sess[16];
	if (p->session_id == NT_OFF_NONE || (p->pid == 4 && p->session_id == 0 && !p->peb))
		snprintf(sess, sizeof(sess), "none");
	else
		snprintf(sess, sizeof(sess), "%u", p->session_id);
	kd_out(s, "    SessionId: %s  Cid: %04llx    Peb: %08llx  ParentCid: %04llx\n", sess,
	       (unsigned long long)p->pid, (unsigned long long)p->peb, (unsigned long long)p->parent_pid);
	char hc[32] = "<Data Not Accessible>";
	if (p->object_table && o->ht_handle_count != NT_OFF_NONE) {
		uint8_t c[4];
		if (nt_session_read(s, p->object_table + o->ht_handle_count, c, 4) == 0)
			snprintf(hc, sizeof(hc), "%u.", (unsigned)(c[0] | c[1] << 8 | c[2] << 16 | (unsigned)c[3] << 24));
	}
	kd_out(s, "    DirBase: %08llx  ObjectTable: %s  HandleCount: %s\n", (unsigned long long)p->dirbase,
	       fp(s, p->object_table, b), hc);
	image_name(p->image, img, sizeof(img));
	kd_out(s, "    Image: %s\n", img);
	if (flags & 6) {
		kd_out(s, "\n");
		proc_ctx pc = { .s = s, .o = o, .flags = flags };
		char err[256];
		/* user-mode frames of its threads live in its address space */
		nt_temp_view tv;
		nt_temp_view_begin(s, p->dirbase, &tv);
		if (nt_walk_threads(o, nt_session_read, s, p, thread_cb, &pc, err, sizeof(err)) < 0)
			kd_err(s, "%s\n", err);
		nt_temp_view_end(s, &tv);
	}
	kd_out(s, "\n");
}

static int process_cb(void *ctx, const nt_process *p)
{
	proc_ctx *pc = ctx;
	if (kd_session_interrupted(pc->s))
		return 1;
	/* ImageFileName keeps 15 bytes: a longer name matches on those */
	if (pc->image && strcasecmp(pc->image, p->image) != 0 &&
	    !(strlen(p->image) == 15 && strncasecmp(pc->image, p->image, 15) == 0))
		return 0;
	if (pc->want_pid_set && p->pid != pc->want_pid)
		return 0;
	pc->found++;
	if (!pc->found_ep)
		pc->found_ep = p->eprocess;
	if (pc->flags != 0xffffffffu)
		print_process(pc->s, pc->o, p, pc->flags);
	return 0;
}

/* EPROCESS of a PID (or 0). */
static uint64_t process_by_pid(kd_session *s, const nt_offsets *o, uint64_t pid)
{
	uint64_t head = nt_active_process_head(s);
	proc_ctx pc = { .s = s, .o = o, .flags = 0xffffffffu, .want_pid = pid, .want_pid_set = 1 };
	char err[256];
	if (!head || nt_walk_processes(o, nt_session_read, s, head, process_cb, &pc, err, sizeof(err)) < 0)
		return 0;
	return pc.found_ep;
}

static int looks_like_pid(kd_session *s, uint64_t v)
{
	kd_target *t = kd_session_target(s);
	return v < (t && t->version.arch == KD_ARCH_X86 ? 0x10000u : 0x100000u);
}

static int cmd_process(kd_session *s, const char *name, const char *args)
{
	(void)name;
	const nt_offsets *o = offsets(s);
	if (!o)
		return -1;
	char w[128], img[64] = "";
	const char *p = args;
	uint64_t addr = 0, flags = 3;
	int have_addr = 0;
	p = cmd_arg_word(p, w, sizeof(w));
	if (w[0]) {
		if (cmd_arg_eval(s, w, &addr) < 0)
			return -1;
		have_addr = 1;
		p = cmd_arg_word(p, w, sizeof(w));
		if (w[0]) {
			if (cmd_arg_eval(s, w, &flags) < 0)
				return -1;
			p = cmd_arg_word(p, img, sizeof(img));
		}
	}
	if (!have_addr)
		addr = nt_default_process(s);
	char err[256] = "";
	if (have_addr && addr == 0) {
		/* !process 0 <flags> [image]: every process */
		uint64_t head = nt_active_process_head(s);
		if (!head) {
			kd_err(s, "Unable to get PsActiveProcessHead (nt symbols or KDDEBUGGER_DATA64 needed)\n");
			return -1;
		}
		kd_out(s, "**** NT ACTIVE PROCESS DUMP ****\n");
		proc_ctx pc = { .s = s, .o = o, .flags = (unsigned)flags, .image = img[0] ? img : NULL };
		if (nt_walk_processes(o, nt_session_read, s, head, process_cb, &pc, err, sizeof(err)) < 0) {
			kd_err(s, "%s\n", err);
			return -1;
		}
		return 0;
	}
	if (!addr) {
		kd_err(s, "Unable to get the current process\n");
		return -1;
	}
	if (looks_like_pid(s, addr)) {
		uint64_t ep = process_by_pid(s, o, addr);
		if (!ep) {
			kd_err(s, "No process with Cid %llx\n", (unsigned long long)addr);
			return -1;
		}
		addr = ep;
	}
	nt_process pr;
	if (nt_read_process(o, nt_session_read, s, addr, &pr) < 0) {
		kd_err(s, "Unable to read _EPROCESS at %llx\n", (unsigned long long)addr);
		return -1;
	}
	print_process(s, o, &pr, (unsigned)flags);
	return 0;
}

/* ---- !thread ---- */

static void print_thread(kd_session *s, const nt_offsets *o, const nt_thread *t, const char *in,
                         int with_stack, const char *image)
{
	char a[24], b[24], c[24], d[24];
	char state[96];
	uint64_t cur = nt_current_thread(s);
	int running = t->ethread == cur;
	if (running)
		snprintf(state, sizeof(state), "RUNNING on processor %u", kd_session_cpu(s));
	else if (t->state == 5)
		snprintf(state, sizeof(state), "WAIT: (%s) %s Non-Alertable", nt_wait_reason_name(t->wait_reason),
		         t->wait_mode ? "UserMode" : "KernelMode");
	else
		snprintf(state, sizeof(state), "%s", nt_thread_state_name(t->state));
	p16(b, t->teb);
	p16(c, t->win32_thread);
	kd_out(s, "%sTHREAD %s  Cid %04llx.%04llx  Teb: %s Win32Thread: %s %s\n", in, fp(s, t->ethread, a),
	       (unsigned long long)t->pid, (unsigned long long)t->tid, b, c, state);
	if (image)
		kd_out(s, "%s    Owning Process            %s       Image:         %s\n", in, fp(s, t->process, a), image);
	else
		kd_out(s, "%s    Owning Process            %s\n", in, fp(s, t->process, a));
	if (o->kt_context_switches != NT_OFF_NONE)
		kd_out(s, "%s    Context Switch Count      %-14u\n", in, t->context_switches);
	if (t->win32_start || t->start) {
		char sym[256];
		kd_symbolize(s, t->win32_start ? t->win32_start : t->start, sym, sizeof(sym));
		kd_out(s, "%s    Win32 Start Address %s (0x%s)\n", in, sym, fp(s, t->win32_start ? t->win32_start : t->start, a));
	}
	kd_out(s, "%s    Stack Init %s Current %s\n", in, fp(s, t->initial_stack, a), fp(s, t->kernel_stack, b));
	kd_out(s, "%s    Base %s Limit %s Call %s\n", in, fp(s, t->stack_base, a), fp(s, t->stack_limit, c),
	       fp(s, 0, d));
	kd_out(s, "%s    Priority %d BasePriority %d\n", in, t->priority, t->base_priority);
	if (!with_stack)
		return;
	kd_context ctx;
	int have = 0;
	if (running)
		have = kd_session_get_context(s, &ctx) == 0;
	else if (t->kernel_stack)
		have = stack_kd_thread_context(s, t->kernel_stack, &ctx) == 0;
	if (!have) {
		kd_out(s, "%s    Unable to get the thread's context\n", in);
		return;
	}
	stack_frame f[64];
	size_t n = 0;
	char err[256] = "";
	char indent[32];
	snprintf(indent, sizeof(indent), "%s    ", in);
	stack_print_opts po = { .no_numbers = 1, .indent = indent };
	if (stack_kd_walk(s, &ctx, f, NULL, 64, &n, err, sizeof(err)) < 0) {
		kd_out(s, "%s%s\n", indent, err);
		return;
	}
	stack_kd_print_header(s, &po);
	stack_kd_print(s, f, n, &po);
}

static int cmd_thread(kd_session *s, const char *name, const char *args)
{
	(void)name;
	const nt_offsets *o = offsets(s);
	if (!o)
		return -1;
	char w[128];
	uint64_t addr = 0, flags = 0x1f;
	const char *p = cmd_arg_word(args, w, sizeof(w));
	if (w[0] && cmd_arg_eval(s, w, &addr) < 0)
		return -1;
	p = cmd_arg_word(p, w, sizeof(w));
	if (w[0] && cmd_arg_eval(s, w, &flags) < 0)
		return -1;
	if (!addr)
		addr = nt_implicit_thread(s);
	if (!addr)
		addr = nt_current_thread(s);
	if (!addr) {
		kd_err(s, "Unable to get the current thread\n");
		return -1;
	}
	nt_thread t;
	if (nt_read_thread(o, nt_session_read, s, addr, &t) < 0) {
		kd_err(s, "Unable to read _ETHREAD at %llx\n", (unsigned long long)addr);
		return -1;
	}
	char img[64] = "";
	nt_process pr;
	nt_temp_view tv = { 0 };
	if (t.process && nt_read_process(o, nt_session_read, s, t.process, &pr) == 0) {
		image_name(pr.image, img, sizeof(img));
		nt_temp_view_begin(s, pr.dirbase, &tv);
	}
	print_thread(s, o, &t, "", (flags & 0x10) != 0, img[0] ? img : NULL);
	nt_temp_view_end(s, &tv);
	return 0;
}

/* ---- !peb / !teb ---- */

/* Read a whole structure through the current view (PEB and TEB are user
 * memory: they need the process's address space). */
static uint8_t *read_struct(kd_session *s, uint64_t addr, uint32_t size, size_t *len)
{
	if (size == NT_OFF_NONE || !size)
		size = 0x400;
	if (size > 0x2000)
		size = 0x2000;
	uint8_t *b = malloc(size);
	if (b && nt_session_read(s, addr, b, size) < 0) {
		free(b);
		return NULL;
	}
	*len = size;
	return b;
}

static void print_unicode_field(kd_session *s, const nt_offsets *o, const uint8_t *b, size_t len,
                                uint32_t off, const char *label)
{
	uint16_t n;
	uint64_t buf;
	char text[1024];
	if (off == NT_OFF_NONE)
		return;
	nt_buf_unicode(o, b, len, off, &n, &buf);
	if (nt_read_unicode(nt_session_read, s, buf, n, text, sizeof(text)) < 0)
		kd_out(s, "    %s'< Name not readable >'\n", label);
	else
		kd_out(s, "    %s'%s'\n", label, text);
}

typedef struct peb_mod_ctx { kd_session *s; } peb_mod_ctx;

static int peb_module_cb(void *ctx, const nt_module *m)
{
	peb_mod_ctx *pc = ctx;
	char name[520], when[40] = "";
	if (nt_read_unicode(nt_session_read, pc->s, m->full_name_buf, m->full_name_len, name, sizeof(name)) < 0)
		snprintf(name, sizeof(name), "< Name not readable >");
	time_t ts = (time_t)m->timestamp;
	struct tm tm;
	if (m->timestamp && gmtime_r(&ts, &tm))
		strftime(when, sizeof(when), "%b %d %H:%M:%S %Y", &tm);
	kd_out(pc->s, "        %16llx %08x %-20s %s\n", (unsigned long long)m->base, m->timestamp, when, name);
	return 0;
}

static void print_environment(kd_session *s, uint64_t env, uint64_t size)
{
	if (!env)
		return;
	if (!size || size > 0x10000)
		size = 0x1000;
	uint8_t *b = malloc(size);
	if (!b)
		return;
	/* the block may end before size at a page: shrink until readable */
	while (size >= 0x100 && nt_session_read(s, env, b, size) < 0)
		size /= 2;
	if (size < 0x100) {
		free(b);
		return;
	}
	size_t i = 0;
	while (i + 1 < size) {
		size_t j = i;
		while (j + 1 < size && (b[j] || b[j + 1]))
			j += 2;
		if (j == i)
			break;   /* empty string: end of the block */
		char line[2048];
		nt_utf16_to_utf8(b + i, j - i, line, sizeof(line));
		kd_out(s, "        %s\n", line);
		i = j + 2;
	}
	free(b);
}

static int peb_body(kd_session *s, const nt_offsets *o, uint64_t peb);

static int cmd_peb(kd_session *s, const char *name, const char *args)
{
	(void)name;
	const nt_offsets *o = offsets(s);
	if (!o)
		return -1;
	char w[128];
	uint64_t peb = 0;
	cmd_arg_word(args, w, sizeof(w));
	if (w[0] && cmd_arg_eval(s, w, &peb) < 0)
		return -1;
	nt_temp_view tv = { 0 };
	if (!peb) {
		uint64_t ep = nt_default_process(s);
		nt_process pr;
		if (!ep || nt_read_process(o, nt_session_read, s, ep, &pr) < 0) {
			kd_err(s, "Unable to get the current process\n");
			return -1;
		}
		peb = pr.peb;
		if (!peb) {
			kd_err(s, "PEB NULL...\n");
			return -1;
		}
		/* the PEB is user memory of that process */
		nt_temp_view_begin(s, pr.dirbase, &tv);
	}
	int rc = peb_body(s, o, peb);
	nt_temp_view_end(s, &tv);
	return rc;
}

static int peb_body(kd_session *s, const nt_offsets *o, uint64_t peb)
{
	char a[24];
	size_t len;
	uint8_t *b = read_struct(s, peb, o->peb_size, &len);
	if (!b) {
		kd_err(s, "PEB at %s\nerror 1 InitTypeRead( nt!_PEB at %s) (is the process context set? .process /p)\n",
		       fp(s, peb, a), fp(s, peb, a));
		return -1;
	}
	kd_out(s, "PEB at %s\n", fp(s, peb, a));
	kd_out(s, "    InheritedAddressSpace:    %s\n", nt_buf_u8(b, len, o->peb_inherited) ? "Yes" : "No");
	kd_out(s, "    ReadImageFileExecOptions: %s\n", nt_buf_u8(b, len, o->peb_read_ifeo) ? "Yes" : "No");
	kd_out(s, "    BeingDebugged:            %s\n", nt_buf_u8(b, len, o->peb_being_debugged) ? "Yes" : "No");
	kd_out(s, "    ImageBaseAddress:         %s\n", fp(s, nt_buf_ptr(o, b, len, o->peb_image_base), a));
	if (o->peb_nt_global_flag != NT_OFF_NONE)
		kd_out(s, "    NtGlobalFlag:             %x\n", nt_buf_u32(b, len, o->peb_nt_global_flag));
	uint64_t ldr = nt_buf_ptr(o, b, len, o->peb_ldr);
	kd_out(s, "    Ldr                       %s\n", fp(s, ldr, a));
	if (ldr) {
		size_t llen;
		uint8_t *l = read_struct(s, ldr, o->ldr_size == NT_OFF_NONE ? 0x58 : o->ldr_size, &llen);
		if (l) {
			kd_out(s, "    Ldr.Initialized:          %s\n", nt_buf_u8(l, llen, o->ldr_initialized) ? "Yes" : "No");
			char x[24], y[24];
			if (o->ldr_in_init != NT_OFF_NONE)
				kd_out(s, "    Ldr.InInitializationOrderModuleList: %s . %s\n",
				       fp(s, nt_buf_ptr(o, l, llen, o->ldr_in_init), x), fp(s, nt_buf_ptr(o, l, llen, o->ldr_in_init + o->ptr), y));
			kd_out(s, "    Ldr.InLoadOrderModuleList:           %s . %s\n",
			       fp(s, nt_buf_ptr(o, l, llen, o->ldr_in_load), x), fp(s, nt_buf_ptr(o, l, llen, o->ldr_in_load + o->ptr), y));
			if (o->ldr_in_memory != NT_OFF_NONE)
				kd_out(s, "    Ldr.InMemoryOrderModuleList:         %s . %s\n",
				       fp(s, nt_buf_ptr(o, l, llen, o->ldr_in_memory), x), fp(s, nt_buf_ptr(o, l, llen, o->ldr_in_memory + o->ptr), y));
			free(l);
			kd_out(s, "                    Base TimeStamp                     Module\n");
			peb_mod_ctx mc = { s };
			char err[256];
			if (nt_walk_peb_modules(o, nt_session_read, s, peb, peb_module_cb, &mc, err, sizeof(err)) < 0)
				kd_out(s, "    %s\n", err);
		}
	}
	if (o->peb_subsystem_data != NT_OFF_NONE)
		kd_out(s, "    SubSystemData:     %s\n", fp(s, nt_buf_ptr(o, b, len, o->peb_subsystem_data), a));
	kd_out(s, "    ProcessHeap:       %s\n", fp(s, nt_buf_ptr(o, b, len, o->peb_process_heap), a));
	uint64_t pp = nt_buf_ptr(o, b, len, o->peb_params);
	kd_out(s, "    ProcessParameters: %s\n", fp(s, pp, a));
	free(b);
	if (!pp)
		return 0;
	uint8_t *q = read_struct(s, pp, o->pp_size, &len);
	if (!q) {
		kd_out(s, "    ProcessParameters not readable\n");
		return 0;
	}
	print_unicode_field(s, o, q, len, o->pp_cur_dir, "CurrentDirectory:  ");
	print_unicode_field(s, o, q, len, o->pp_window_title, "WindowTitle:  ");
	print_unicode_field(s, o, q, len, o->pp_image_path, "ImageFile:    ");
	print_unicode_field(s, o, q, len, o->pp_cmdline, "CommandLine:  ");
	print_unicode_field(s, o, q, len, o->pp_dll_path, "DllPath:      ");
	uint64_t env = nt_buf_ptr(o, q, len, o->pp_environment);
	kd_out(s, "    Environment:  %s\n", fp(s, env, a));
	print_environment(s, env, o->pp_env_size != NT_OFF_NONE ? nt_buf_u64(q, len, o->pp_env_size) : 0);
	free(q);
	return 0;
}

static int cmd_teb(kd_session *s, const char *name, const char *args)
{
	(void)name;
	const nt_offsets *o = offsets(s);
	if (!o)
		return -1;
	char w[128], a[24], b2[24];
	uint64_t teb = 0, owner_dirbase = 0;
	cmd_arg_word(args, w, sizeof(w));
	if (w[0] && cmd_arg_eval(s, w, &teb) < 0)
		return -1;
	if (!teb) {
		uint64_t th = nt_implicit_thread(s);
		if (!th)
			th = nt_current_thread(s);
		nt_thread t;
		if (!th || nt_read_thread(o, nt_session_read, s, th, &t) < 0) {
			kd_err(s, "Unable to get the current thread\n");
			return -1;
		}
		teb = t.teb;
		if (!teb) {
			kd_err(s, "TEB at %s\n    (kernel thread: no TEB)\n", fp(s, 0, a));
			return -1;
		}
		nt_process pr;
		if (t.process && nt_read_process(o, nt_session_read, s, t.process, &pr) == 0)
			owner_dirbase = pr.dirbase;
	}
	/* the TEB is user memory of the thread's process */
	nt_temp_view tv;
	nt_temp_view_begin(s, owner_dirbase, &tv);
	size_t len;
	uint8_t *b = read_struct(s, teb, o->teb_size, &len);
	nt_temp_view_end(s, &tv);
	if (!b) {
		kd_err(s, "TEB at %s\nerror InitTypeRead( TEB ) (is the process context set? .process /p)\n", fp(s, teb, a));
		return -1;
	}
	kd_out(s, "TEB at %s\n", fp(s, teb, a));
	kd_out(s, "    ExceptionList:        %s\n", fp(s, nt_buf_ptr(o, b, len, o->teb_exception_list), a));
	kd_out(s, "    StackBase:            %s\n", fp(s, nt_buf_ptr(o, b, len, o->teb_stack_base), a));
	kd_out(s, "    StackLimit:           %s\n", fp(s, nt_buf_ptr(o, b, len, o->teb_stack_limit), a));
	kd_out(s, "    Self:                 %s\n", fp(s, nt_buf_ptr(o, b, len, o->teb_self), a));
	if (o->teb_cid != NT_OFF_NONE)
		kd_out(s, "    ClientId:             %s . %s\n", fp(s, nt_buf_ptr(o, b, len, o->teb_cid), a),
		       fp(s, nt_buf_ptr(o, b, len, o->teb_cid + o->ptr), b2));
	kd_out(s, "    RpcHandle:            %s\n", fp(s, nt_buf_ptr(o, b, len, o->teb_rpc), a));
	kd_out(s, "    Tls Storage:          %s\n", fp(s, nt_buf_ptr(o, b, len, o->teb_tls), a));
	kd_out(s, "    PEB Address:          %s\n", fp(s, nt_buf_ptr(o, b, len, o->teb_peb), a));
	kd_out(s, "    LastErrorValue:       %u\n", nt_buf_u32(b, len, o->teb_last_error));
	free(b);
	return 0;
}

/* ---- !pte / !vtop ---- */

static const char *const level_names4[] = { "PXE", "PPE", "PDE", "PTE" };
static const char *const level_names3[] = { "PPE", "PDE", "PTE" };
static const char *const level_names2[] = { "PDE", "PTE" };

static uint64_t current_dirbase(kd_session *s)
{
	uint64_t d;
	if (nt_view_installed(s, &d))
		return d;
	return nt_current_cr3(s);
}

/* The page tables' own virtual addresses: Windows maps the PML4 into
 * itself at one (randomized) index; find it from the PML4 page. */
static int self_map_index(nt_paging *pg, uint64_t cr3, unsigned *idx)
{
	uint64_t table = cr3 & 0x000ffffffffff000ull, e;
	for (unsigned i = 256; i < 512; i++) {
		if (nt_paging_top_entry(pg, cr3, i, &e) < 0)
			return -1;
		if ((e & 1) && (e & 0x000ffffffffff000ull) == table) {
			*idx = i;
			return 0;
		}
	}
	return -1;
}

static int cmd_pte(kd_session *s, const char *name, const char *args)
{
	(void)name;
	char w[128];
	uint64_t va;
	cmd_arg_word(args, w, sizeof(w));
	if (!w[0]) {
		kd_err(s, "usage: !pte VirtualAddress\n");
		return -1;
	}
	if (cmd_arg_eval(s, w, &va) < 0)
		return -1;
	nt_paging *pg = nt_get_paging(s);
	uint64_t cr3 = current_dirbase(s);
	if (!pg || !cr3) {
		kd_err(s, "Unable to get the page directory base\n");
		return -1;
	}
	nt_paging_mode m = nt_paging_get_mode(pg);
	nt_pte_walk wk;
	int rc = nt_paging_translate(pg, cr3, va, &wk);
	if (rc == NT_PAGING_E_READ) {
		kd_err(s, "Unable to read the page tables (physical memory)\n");
		return -1;
	}
	const char *const *names = m == NT_PAGING_X64 ? level_names4 : m == NT_PAGING_PAE ? level_names3 : level_names2;
	unsigned self = 0;
	int have_self = m == NT_PAGING_X64 && self_map_index(pg, cr3, &self) == 0;
	uint64_t pte_base = have_self ? (0xffff000000000000ull | (uint64_t)self << 39) : 0;
	char col[4][3][64];
	unsigned nl = wk.total_levels;
	for (unsigned l = 0; l < nl; l++) {
		if (l < wk.nlevels) {
			uint64_t e = wk.level[l].value;
			if (have_self) {
				/* entry VA at level l: the self-map applied (4 - l) times */
				uint64_t v = va;
				for (unsigned k = l; k < 4; k++)
					v = pte_base + (((v & 0x0000ffffffffffffull) >> 12) << 3);
				snprintf(col[l][0], 64, "%s at %016llX", names[l], (unsigned long long)v);
			} else {
				snprintf(col[l][0], 64, "%s at (phys) %llX", names[l], (unsigned long long)wk.level[l].entry_pa);
			}
			snprintf(col[l][1], 64, "contains %016llX", (unsigned long long)e);
			if (nt_pte_present(m, e)) {
				char fl[12];
				nt_pte_flags(m, e, fl);
				if (!(e & 1))
					snprintf(col[l][2], 64, "Transition: %llx", (unsigned long long)nt_pte_pfn(m, e));
				else
					snprintf(col[l][2], 64, "pfn %-10llx%s", (unsigned long long)nt_pte_pfn(m, e), fl);
			} else {
				snprintf(col[l][2], 64, "not valid");
			}
		} else {
			snprintf(col[l][0], 64, "%s", "");
			snprintf(col[l][1], 64, "%s", "");
			snprintf(col[l][2], 64, "%s", "");
		}
	}
	kd_out(s, "                                           VA %llx\n", (unsigned long long)va);
	for (int r = 0; r < 3; r++) {
		char line[512];
		size_t o = 0;
		for (unsigned l = 0; l < nl; l++)
			o += (size_t)snprintf(line + o, sizeof(line) - o, "%-27s", col[l][r]);
		while (o && line[o - 1] == ' ')
			line[--o] = 0;
		kd_out(s, "%s\n", line);
	}
	if (rc == 0 && wk.large)
		kd_out(s, "Large page: %llx bytes, physical address %llx\n", (unsigned long long)wk.page_size,
		       (unsigned long long)wk.pa);
	return 0;
}

static int cmd_vtop(kd_session *s, const char *name, const char *args)
{
	(void)name;
	char w[128];
	uint64_t dirbase, va;
	const char *p = cmd_arg_word(args, w, sizeof(w));
	if (!w[0] || cmd_arg_eval(s, w, &dirbase) < 0) {
		kd_err(s, "usage: !vtop PFNOfPDE|DirBase VirtualAddress\n");
		return -1;
	}
	cmd_arg_word(p, w, sizeof(w));
	if (!w[0] || cmd_arg_eval(s, w, &va) < 0) {
		kd_err(s, "usage: !vtop PFNOfPDE|DirBase VirtualAddress\n");
		return -1;
	}
	if (!dirbase)
		dirbase = current_dirbase(s);
	else if (!(dirbase & 0xfff) && dirbase < 0x100000000ull && (dirbase >> 12) == 0)
		dirbase <<= 12;
	nt_paging *pg = nt_get_paging(s);
	if (!pg) {
		kd_err(s, "out of memory\n");
		return -1;
	}
	nt_paging_mode m = nt_paging_get_mode(pg);
	const char *pfx = m == NT_PAGING_X64 ? "Amd64VtoP" : m == NT_PAGING_PAE ? "X86VtoP(PAE)" : "X86VtoP";
	static const char *const lv4[] = { "PML4E", "PDPE", "PDE", "PTE" };
	static const char *const lv3[] = { "PDPE", "PDE", "PTE" };
	const char *const *lv = m == NT_PAGING_X64 ? lv4 : m == NT_PAGING_PAE ? lv3 : lv4 + 2;
	char a[24], b[24];
	p16(a, va);
	p16(b, dirbase);
	kd_out(s, "%s: Virt %.8s`%s, pagedir %.8s`%s\n", pfx, a, a + 8, b, b + 8);
	nt_pte_walk wk;
	int rc = nt_paging_translate(pg, dirbase, va, &wk);
	for (unsigned l = 0; l < wk.nlevels; l++) {
		p16(a, wk.level[l].entry_pa);
		kd_out(s, "%s: %s %.8s`%s\n", pfx, lv[l], a, a + 8);
	}
	if (rc == NT_PAGING_E_READ) {
		kd_out(s, "%s: unable to read the page tables\n", pfx);
		return -1;
	}
	if (rc < 0) {
		kd_out(s, "%s: zero %s\n", pfx, wk.nlevels ? lv[wk.nlevels - 1] : "entry");
		kd_out(s, "Virtual address %llx translation fails, error 0xD0000147.\n", (unsigned long long)va);
		return 0;
	}
	p16(a, wk.pa);
	kd_out(s, "%s: %sMapped phys %.8s`%s\n", pfx, wk.large ? "Large page " : "", a, a + 8);
	kd_out(s, "Virtual address %llx translates to physical address %llx.\n", (unsigned long long)va,
	       (unsigned long long)wk.pa);
	return 0;
}

/* ---- .process / .thread ---- */

static int parse_switches(const char **pp, int *p, int *r, int *i)
{
	const char *q = cmd_arg_skip(*pp);
	while (*q == '/' || *q == '-') {
		q++;
		while (*q && *q != ' ' && *q != '\t') {
			switch (*q) {
			case 'p': *p = 1; break;
			case 'r': *r = 1; break;
			case 'i': *i = 1; break;
			case 'P': *p = 1; break;
			default: return -1;
			}
			q++;
		}
		q = cmd_arg_skip(q);
	}
	*pp = q;
	return 0;
}

static int switch_process(kd_session *s, const nt_offsets *o, uint64_t ep, int p, int r)
{
	char a[24], err[256];
	nt_process pr;
	if (nt_read_process(o, nt_live_read, s, ep, &pr) < 0) {
		kd_err(s, "Unable to read _EPROCESS at %llx\n", (unsigned long long)ep);
		return -1;
	}
	nt_set_implicit_process(s, ep);
	kd_out(s, "Implicit process is now %s\n", fp(s, ep, a));
	if (p) {
		if (nt_install_view(s, pr.dirbase, err, sizeof(err)) < 0) {
			kd_err(s, "%s\n", err);
			return -1;
		}
		kd_out(s, ".cache forcedecodeuser done\n");
	} else {
		kd_out(s, "WARNING: .cache forcedecodeuser is not enabled\n");
	}
	if (r) {
		/* the loader list is user memory of that process (with /p the
		 * view above already translates through it) */
		nt_temp_view tv;
		nt_temp_view_begin(s, pr.dirbase, &tv);
		kd_out(s, "Loading User Symbols\n");
		int rc = kd_modules_load_user(s, ep);
		nt_temp_view_end(s, &tv);
		if (rc < 0) {
			kd_err(s, "%s\n", kd_session_errmsg(s));
			return -1;
		}
	}
	return 0;
}

static int cmd_dot_process(kd_session *s, const char *name, const char *args)
{
	(void)name;
	int p = 0, r = 0, inv = 0;
	const char *q = args;
	if (parse_switches(&q, &p, &r, &inv) < 0) {
		kd_err(s, "usage: .process [/i] [/p [/r]] [EPROCESS]\n");
		return -1;
	}
	char w[128], a[24], err[256];
	cmd_arg_word(q, w, sizeof(w));
	if (!w[0]) {
		/* back to the stopped processor's process */
		nt_set_implicit_process(s, 0);
		nt_install_view(s, 0, err, sizeof(err));
		kd_out(s, "Implicit process is now %s\n", fp(s, nt_current_process(s), a));
		return 0;
	}
	uint64_t ep;
	if (cmd_arg_eval(s, w, &ep) < 0)
		return -1;
	const nt_offsets *o = offsets(s);
	if (!o)
		return -1;
	if (inv) {
		kd_out(s, "You need to continue execution (press 'g' <enter>) for the context\n"
		          "to be switched. When the debugger breaks in again, you will be in\n"
		          "the new process context.\n");
		kd_out(s, "(.process /i needs the target to switch address spaces when it runs; this\n"
		          "client does not ask it to. Use .process /p /r for a debugger-side view of\n"
		          "the process, which works without resuming.)\n");
		return 0;
	}
	return switch_process(s, o, ep, p, r);
}

static int cmd_dot_thread(kd_session *s, const char *name, const char *args)
{
	(void)name;
	int p = 0, r = 0, inv = 0;
	const char *q = args;
	if (parse_switches(&q, &p, &r, &inv) < 0) {
		kd_err(s, "usage: .thread [/p [/r]] [ETHREAD]\n");
		return -1;
	}
	char w[128], a[24], err[256];
	cmd_arg_word(q, w, sizeof(w));
	if (!w[0]) {
		nt_set_implicit_thread(s, 0);
		kd_session_set_context(s, NULL);
		nt_set_frame_index(s, 0);
		kd_out(s, "Implicit thread is now %s\n", fp(s, nt_current_thread(s), a));
		return 0;
	}
	uint64_t th;
	if (cmd_arg_eval(s, w, &th) < 0)
		return -1;
	const nt_offsets *o = offsets(s);
	if (!o)
		return -1;
	nt_thread t;
	if (nt_read_thread(o, nt_live_read, s, th, &t) < 0) {
		kd_err(s, "Unable to read _ETHREAD at %llx\n", (unsigned long long)th);
		return -1;
	}
	if (th == nt_current_thread(s)) {
		kd_session_set_context(s, NULL);
	} else {
		kd_context ctx;
		if (!t.kernel_stack || stack_kd_thread_context(s, t.kernel_stack, &ctx) < 0) {
			kd_err(s, "Unable to get the context of thread %llx\n", (unsigned long long)th);
			return -1;
		}
		kd_session_set_context(s, &ctx);
	}
	nt_set_implicit_thread(s, th);
	nt_set_frame_index(s, 0);
	if (p && t.process) {
		if (switch_process(s, o, t.process, 1, r) < 0)
			return -1;
	}
	(void)err;
	kd_out(s, "Implicit thread is now %s\n", fp(s, th, a));
	return 0;
}

const kd_command kd_commands_nt[] = {
	{ "!process", cmd_process, KD_CMD_NEEDS_STOP, "!process [EPROCESS|PID|0 [Flags [ImageName]]]",
	  "process information (0 0: every process; flags 7: threads and stacks)" },
	{ "!thread", cmd_thread, KD_CMD_NEEDS_STOP, "!thread [ETHREAD [Flags]]", "thread information and stack" },
	{ "!peb", cmd_peb, KD_CMD_NEEDS_STOP, "!peb [address]", "process environment block (image, command line, modules, environment)" },
	{ "!teb", cmd_teb, KD_CMD_NEEDS_STOP, "!teb [address]", "thread environment block" },
	{ "!pte", cmd_pte, KD_CMD_NEEDS_STOP, "!pte VirtualAddress", "page table entries that map an address" },
	{ "!vtop", cmd_vtop, KD_CMD_NEEDS_STOP, "!vtop DirBase VirtualAddress", "translate a virtual address through a page directory" },
	{ ".process", cmd_dot_process, KD_CMD_NEEDS_STOP, ".process [/i] [/p [/r]] [EPROCESS]",
	  "set the implicit process (/p: translate user addresses through it, /r: its user symbols)" },
	{ ".thread", cmd_dot_thread, KD_CMD_NEEDS_STOP, ".thread [/p [/r]] [ETHREAD]", "set the register context to a thread's saved state" },
	{ 0 },
};
