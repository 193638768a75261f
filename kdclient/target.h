/*
 * target.h - the debugger's view of one target: memory, registers,
 * breakpoints, run control and events.
 *
 * Commands and the nt awareness layer talk only to this interface, never to
 * KD packets, so that the live KD target (target_kd.c), a crash-dump target
 * and unit-test fakes are interchangeable.  A target is a table of operations
 * plus an opaque implementation pointer; every operation returns 0 or a
 * negative KD_E* code and leaves a one-line message in kd_target_errmsg().
 */
#ifndef KDCLIENT_TARGET_H
#define KDCLIENT_TARGET_H

#include <stddef.h>
#include <stdint.h>

enum {
	KD_OK = 0,
	KD_E_FAIL = -1,      /* generic failure; see the message */
	KD_E_TIMEOUT = -2,   /* the target did not answer before the deadline */
	KD_E_CLOSED = -3,    /* the link went away (peer closed, VM exited) */
	KD_E_PARTIAL = -4,   /* memory: fewer bytes than asked (count reported) */
	KD_E_STATUS = -5,    /* the target answered with a failing NTSTATUS */
	KD_E_INVAL = -6,     /* bad argument from the caller */
	KD_E_RUNNING = -7,   /* needs a stopped target */
	KD_E_NOTSUP = -8,    /* this target cannot do that */
	KD_E_INTR = -9,      /* interrupted by the user (Ctrl-C) */
};

typedef enum kd_arch {
	KD_ARCH_UNKNOWN = 0,
	KD_ARCH_X64 = 1,     /* MachineType 0x8664 */
	KD_ARCH_X86 = 2,     /* MachineType 0x014c */
} kd_arch;

/*
 * A register context exactly as the target's CONTEXT record travels in
 * Get/SetContext (x64: 0x4D0 bytes, x86: 0x2CC; fact sheet §12).  Keeping
 * the raw record lets SetContext send back every field it did not change.
 * Named access goes through kd_context_get/kd_context_set (context.c).
 */
#define KD_CONTEXT_MAX 0x4D0
typedef struct kd_context {
	kd_arch arch;
	size_t size;                 /* 0x4D0 or 0x2CC */
	uint8_t raw[KD_CONTEXT_MAX];
} kd_context;

/* Register by WinDbg name ("rip", "eax", "r8d", "efl", "cs", "dr7", ...).
 * Returns 0, or KD_E_INVAL for a name this architecture does not have. */
int kd_context_get(const kd_context *ctx, const char *name, uint64_t *value);
int kd_context_set(kd_context *ctx, const char *name, uint64_t value);
/* Width of a register in bytes (1, 2, 4, 8), 0 if the name is unknown. */
unsigned kd_context_reg_size(const kd_context *ctx, const char *name);
uint64_t kd_context_pc(const kd_context *ctx);   /* rip / eip */
uint64_t kd_context_sp(const kd_context *ctx);   /* rsp / esp */
uint64_t kd_context_fp(const kd_context *ctx);   /* rbp / ebp */

/* Special registers (KSPECIAL_REGISTERS, fact sheet §9) in one shape for both
 * architectures; 32-bit values are zero-extended. */
typedef struct kd_special_regs {
	uint64_t cr0, cr2, cr3, cr4, cr8;
	uint64_t kdr0, kdr1, kdr2, kdr3, kdr6, kdr7;
	uint64_t gdtr_base, idtr_base;
	uint16_t gdtr_limit, idtr_limit, tr, ldtr;
} kd_special_regs;

/* What the target reported when it stopped or spoke. */
typedef enum kd_event_kind {
	KD_EV_EXCEPTION = 1,   /* STATE_CHANGE64 exception */
	KD_EV_LOAD_SYMBOLS,    /* STATE_CHANGE64 load/unload symbols */
	KD_EV_COMMAND_STRING,  /* STATE_CHANGE64 command string */
	KD_EV_PRINT,           /* DbgPrint text (target keeps running) */
	KD_EV_PROMPT,          /* DbgPrompt: answer with kd_target_answer_prompt */
	KD_EV_RECONNECTED,     /* the link dropped and was re-attached */
} kd_event_kind;

#define KD_MAX_TEXT 4096
typedef struct kd_event {
	kd_event_kind kind;
	uint16_t processor;
	uint32_t number_processors;
	uint64_t thread;            /* current KTHREAD */
	uint64_t pc;                /* ProgramCounter */
	/* KD_EV_EXCEPTION */
	uint32_t code;              /* ExceptionCode, e.g. 0x80000003 */
	uint32_t flags;
	uint64_t address;           /* ExceptionAddress */
	uint32_t nparams;
	uint64_t params[15];
	int first_chance;
	/* KD_EV_LOAD_SYMBOLS */
	uint64_t base;
	uint64_t process_id;
	uint32_t checksum, image_size;
	int unload;
	/* control report */
	uint64_t dr6, dr7;
	uint32_t eflags;
	uint16_t instr_count;
	uint8_t instr[16];
	/* KD_EV_LOAD_SYMBOLS path, KD_EV_PRINT / KD_EV_PROMPT text (raw bytes
	 * from the target: escape before printing), KD_EV_COMMAND_STRING */
	char text[KD_MAX_TEXT];
	size_t text_len;
} kd_event;

/* Version and the kernel's debugger data block (KDDEBUGGER_DATA64). */
typedef struct kd_version {
	uint16_t major, minor;       /* minor = build number */
	uint8_t protocol, secondary;
	uint16_t flags;
	uint16_t machine;            /* 0x8664 / 0x014c */
	kd_arch arch;
	uint64_t kern_base;
	uint64_t ps_loaded_module_list;
	uint64_t debugger_data_list;
	uint64_t kdbg;               /* address of KDDEBUGGER_DATA64, 0 if none */
} kd_version;

/* How to resume (Continue2; fact sheet §7-8). */
typedef struct kd_resume {
	uint32_t status;             /* DBG_CONTINUE 0x10002, NOT_HANDLED 0x80010001 */
	int trace;                   /* 1 = single step (EFLAGS.TF) */
	uint64_t dr7;                /* copied to KernelDr7 on every CPU */
} kd_resume;

typedef struct kd_target kd_target;

typedef struct kd_target_ops {
	const char *name;            /* "kd", "dump", "fake" */
	/* Memory.  read_* report how many bytes came back in *got even on
	 * failure (partial reads stop at the first unreadable byte). */
	int (*read_virtual)(kd_target *t, uint64_t addr, void *buf, size_t len, size_t *got);
	int (*write_virtual)(kd_target *t, uint64_t addr, const void *buf, size_t len, size_t *done);
	int (*read_physical)(kd_target *t, uint64_t addr, void *buf, size_t len, size_t *got);
	int (*write_physical)(kd_target *t, uint64_t addr, const void *buf, size_t len, size_t *done);
	/* Registers of one processor. */
	int (*get_context)(kd_target *t, unsigned cpu, kd_context *out);
	int (*set_context)(kd_target *t, unsigned cpu, const kd_context *ctx);
	int (*get_special)(kd_target *t, unsigned cpu, kd_special_regs *out);
	int (*set_special)(kd_target *t, unsigned cpu, const kd_special_regs *in);
	/* Control space pointers: selector 0 KPCR, 1 KPRCB, 3 current KTHREAD. */
	int (*read_control_pointer)(kd_target *t, unsigned cpu, unsigned selector, uint64_t *out);
	int (*read_msr)(kd_target *t, unsigned cpu, uint32_t msr, uint64_t *value);
	int (*write_msr)(kd_target *t, unsigned cpu, uint32_t msr, uint64_t value);
	/* Software breakpoints in the target's table; handle 0 never valid. */
	int (*write_breakpoint)(kd_target *t, uint64_t addr, uint32_t *handle);
	int (*restore_breakpoint)(kd_target *t, uint32_t handle);
	/* Run control. */
	int (*resume)(kd_target *t, const kd_resume *how);
	/* Wait for the next event while running (or a print while stopped).
	 * Returns 0 with *ev filled, KD_E_TIMEOUT, KD_E_CLOSED, ... */
	int (*wait_event)(kd_target *t, kd_event *ev, int timeout_ms);
	int (*break_in)(kd_target *t);          /* async-signal-unsafe; call from the loop */
	int (*answer_prompt)(kd_target *t, const char *text, size_t len);
	int (*switch_processor)(kd_target *t, unsigned cpu);
	int (*cause_bugcheck)(kd_target *t);    /* .crash */
	int (*reboot)(kd_target *t);            /* .reboot */
	int (*reconnect)(kd_target *t, int timeout_ms);
	void (*close)(kd_target *t);
} kd_target_ops;

struct kd_target {
	const kd_target_ops *ops;
	void *impl;
	kd_version version;
	int stopped;                 /* 1 while the target waits for commands */
	unsigned cpu;                /* processor that reported the stop */
	char errmsg[256];
};

/* Set the message and return code (for implementations). */
int kd_target_fail(kd_target *t, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
const char *kd_target_errmsg(const kd_target *t);

/* Convenience wrappers used by commands (they fill errmsg on failure). */
int kd_read(kd_target *t, uint64_t addr, void *buf, size_t len);   /* all or error */
int kd_read_u64(kd_target *t, uint64_t addr, uint64_t *v);
int kd_read_u32(kd_target *t, uint64_t addr, uint32_t *v);
int kd_read_ptr(kd_target *t, uint64_t addr, uint64_t *v);         /* 8 or 4 bytes by arch */
unsigned kd_ptr_size(const kd_target *t);

#endif
