/*
 * ntdefs.h - the Windows structure types of the test kernel's "small world".
 *
 * These are declared here (and used by the world's .c files) so that clang
 * emits them into testnt.pdb: the debugger must find every offset from the
 * PDB, as it does on Windows.  Names, member names and member ORDER follow
 * Windows 10 x64; many Windows members are left out, so the offsets are NOT
 * the Windows ones (a debugger that hard-codes Windows offsets fails here,
 * on purpose).  No anonymous unions/structs: every member has a name, so a
 * "Pcb.DirectoryTableBase" style lookup works with a simple PDB reader.
 *
 * The few offsets the assembly needs are #defines checked by _Static_assert
 * in sched.c (see KTHREAD_KernelStack).
 */
#ifndef TESTVM_WORLD_NTDEFS_H
#define TESTVM_WORLD_NTDEFS_H

/* Offsets used by swapctx.S and syscall.S (checked in sched.c). */
#define KTHREAD_KernelStack 0x58
#define KPCR_UserRsp        0x10
#define KPCR_Prcb_RspBase   0x1A8        /* KPCR.Prcb (0x180) + KPRCB.RspBase (0x28) */
#define KTRAP_FRAME_SIZE    0x190
#define KTRAP_PreviousMode  0x28
#define KTRAP_Rax           0x30
#define KTRAP_Rcx           0x38
#define KTRAP_Rdx           0x40
#define KTRAP_R8            0x48
#define KTRAP_R9            0x50
#define KTRAP_Rbx           0x140
#define KTRAP_Rdi           0x148
#define KTRAP_Rsi           0x150
#define KTRAP_Rbp           0x158
#define KTRAP_Rip           0x168
#define KTRAP_SegCs         0x170
#define KTRAP_EFlags        0x178
#define KTRAP_Rsp           0x180
#define KTRAP_SegSs         0x188

#ifndef __ASSEMBLER__

#include <stddef.h>
#include <stdint.h>

typedef unsigned char UCHAR;
typedef char CHAR;
typedef unsigned short USHORT;
typedef short SHORT;
typedef unsigned short WCHAR;
typedef unsigned long ULONG;       /* 32 bits: the target is *-windows-msvc */
typedef long LONG;
typedef unsigned long long ULONG64;
typedef long long LONG64;
typedef unsigned long long ULONG_PTR;
typedef unsigned long long SIZE_T;
typedef void *PVOID;
typedef void *HANDLE;
typedef long NTSTATUS;
typedef unsigned char BOOLEAN;
typedef ULONG ACCESS_MASK;
typedef ULONG64 KAFFINITY;

typedef struct _LIST_ENTRY {
    struct _LIST_ENTRY *Flink;
    struct _LIST_ENTRY *Blink;
} LIST_ENTRY, *PLIST_ENTRY;

typedef struct _LIST_ENTRY64 {
    ULONG64 Flink;
    ULONG64 Blink;
} LIST_ENTRY64;

typedef struct _SINGLE_LIST_ENTRY {
    struct _SINGLE_LIST_ENTRY *Next;
} SINGLE_LIST_ENTRY;

typedef struct _LARGE_INTEGER_PARTS {
    ULONG LowPart;
    LONG HighPart;
} LARGE_INTEGER_PARTS;

typedef union _LARGE_INTEGER {
    LARGE_INTEGER_PARTS u;
    LONG64 QuadPart;
} LARGE_INTEGER;

typedef union _ULARGE_INTEGER {
    LARGE_INTEGER_PARTS u;
    ULONG64 QuadPart;
} ULARGE_INTEGER;

typedef struct _UNICODE_STRING {
    USHORT Length;          /* bytes, without the terminator */
    USHORT MaximumLength;
    WCHAR *Buffer;
} UNICODE_STRING, *PUNICODE_STRING;

typedef struct _STRING {
    USHORT Length;
    USHORT MaximumLength;
    CHAR *Buffer;
} STRING;

typedef struct _CLIENT_ID {
    HANDLE UniqueProcess;
    HANDLE UniqueThread;
} CLIENT_ID;

typedef struct _M128A {
    ULONG64 Low;
    LONG64 High;
} __attribute__((aligned(16))) M128A;

/* ---- processor: KPCR / KPRCB / CONTEXT ---------------------------------- */

typedef struct _XSAVE_FORMAT {
    USHORT ControlWord;
    USHORT StatusWord;
    UCHAR TagWord;
    UCHAR Reserved1;
    USHORT ErrorOpcode;
    ULONG ErrorOffset;
    USHORT ErrorSelector;
    USHORT Reserved2;
    ULONG DataOffset;
    USHORT DataSelector;
    USHORT Reserved3;
    ULONG MxCsr;
    ULONG MxCsr_Mask;
    M128A FloatRegisters[8];
    M128A XmmRegisters[16];
    UCHAR Reserved4[96];
} XSAVE_FORMAT;

/* The x64 CONTEXT, 0x4D0 bytes, as GetContext sends it (fact sheet §12). */
typedef struct _CONTEXT {
    ULONG64 P1Home, P2Home, P3Home, P4Home, P5Home, P6Home;
    ULONG ContextFlags;
    ULONG MxCsr;
    USHORT SegCs, SegDs, SegEs, SegFs, SegGs, SegSs;
    ULONG EFlags;
    ULONG64 Dr0, Dr1, Dr2, Dr3, Dr6, Dr7;
    ULONG64 Rax, Rcx, Rdx, Rbx, Rsp, Rbp, Rsi, Rdi;
    ULONG64 R8, R9, R10, R11, R12, R13, R14, R15;
    ULONG64 Rip;
    XSAVE_FORMAT FltSave;
    M128A VectorRegister[26];
    ULONG64 VectorControl;
    ULONG64 DebugControl;
    ULONG64 LastBranchToRip;
    ULONG64 LastBranchFromRip;
    ULONG64 LastExceptionToRip;
    ULONG64 LastExceptionFromRip;
} __attribute__((aligned(16))) CONTEXT;

typedef struct _KDESCRIPTOR {
    USHORT Pad[3];
    USHORT Limit;
    PVOID Base;
} KDESCRIPTOR;

/* Fact sheet §9 (control space selector 2). */
typedef struct _KSPECIAL_REGISTERS {
    ULONG64 Cr0, Cr2, Cr3, Cr4;
    ULONG64 KernelDr0, KernelDr1, KernelDr2, KernelDr3, KernelDr6, KernelDr7;
    KDESCRIPTOR Gdtr;
    KDESCRIPTOR Idtr;
    USHORT Tr;
    USHORT Ldtr;
    ULONG MxCsr;
    ULONG64 DebugControl;
    ULONG64 LastBranchToRip;
    ULONG64 LastBranchFromRip;
    ULONG64 LastExceptionToRip;
    ULONG64 LastExceptionFromRip;
    ULONG64 Cr8;
    ULONG64 MsrGsBase;
    ULONG64 MsrGsSwap;
    ULONG64 MsrStar;
    ULONG64 MsrLStar;
    ULONG64 MsrCStar;
    ULONG64 MsrSyscallMask;
    ULONG64 Xcr0;
    ULONG64 MsrFsBase;
    ULONG64 SpecialPadding0;
} KSPECIAL_REGISTERS;

typedef struct _KPROCESSOR_STATE {
    KSPECIAL_REGISTERS SpecialRegisters;
    CONTEXT ContextFrame;
} KPROCESSOR_STATE;

struct _KTHREAD;

typedef struct _KPRCB {
    ULONG MxCsr;
    UCHAR LegacyNumber;
    UCHAR ReservedMustBeZero;
    UCHAR InterruptRequest;
    UCHAR IdleHalt;
    struct _KTHREAD *CurrentThread;
    struct _KTHREAD *NextThread;
    struct _KTHREAD *IdleThread;
    UCHAR NestingLevel;
    UCHAR ClockOwner;
    UCHAR PendingTickFlags;
    UCHAR IdleState;
    ULONG Number;
    ULONG64 RspBase;
    ULONG64 PrcbLock;
    CHAR *PriorityState;
    CHAR CpuType;
    CHAR CpuID;
    USHORT CpuStep;
    ULONG MHz;
    ULONG64 HalReserved[8];
    USHORT MinorVersion;
    USHORT MajorVersion;
    UCHAR BuildType;
    UCHAR CpuVendor;
    UCHAR LegacyCoresPerPhysicalProcessor;
    UCHAR LegacyLogicalProcessorsPerCore;
    ULONG64 TscFrequency;
    ULONG64 PrcbPad04[12];
    KPROCESSOR_STATE ProcessorState;
    UCHAR VendorString[13];
    UCHAR PrcbPad10[3];
    ULONG FeatureBits;
    ULONG64 UpdateSignature;
    ULONG64 KernelDirectoryTableBase;
    ULONG64 DpcStack;
    ULONG64 ContextSwitches;
} KPRCB;

/* KPCR with the KPRCB contained at +0x180 as on Windows x64 (kdd assumes
 * PCR = PRCB - 0x180).  NtTib's union is flattened to its x64 members. */
typedef struct _KPCR {
    PVOID GdtBase;
    PVOID TssBase;
    ULONG64 UserRsp;
    struct _KPCR *Self;
    KPRCB *CurrentPrcb;
    PVOID LockArray;
    PVOID Used_Self;
    PVOID IdtBase;
    ULONG64 Unused[2];
    UCHAR Irql;
    UCHAR SecondLevelCacheAssociativity;
    UCHAR ObsoleteNumber;
    UCHAR Fill0;
    ULONG Unused0[3];
    USHORT MajorVersion;
    USHORT MinorVersion;
    ULONG StallScaleFactor;
    PVOID Unused1[3];
    ULONG KernelReserved[15];
    ULONG SecondLevelCacheSize;
    ULONG HalReserved[16];
    ULONG Unused2;
    PVOID KdVersionBlock;
    PVOID Unused3;
    ULONG PcrAlign1[24];
    KPRCB Prcb;
} KPCR;

/* ---- dispatcher objects -------------------------------------------------- */

/* Type values: 0 NotificationEvent, 1 SynchronizationEvent, 3 Process,
 * 6 Thread, 8 NotificationTimer. */
typedef struct _DISPATCHER_HEADER {
    UCHAR Type;
    UCHAR Signalling;
    UCHAR Size;
    UCHAR Reserved1;
    LONG SignalState;
    LIST_ENTRY WaitListHead;
} DISPATCHER_HEADER;

typedef struct _KEVENT {
    DISPATCHER_HEADER Header;
} KEVENT;

typedef struct _KTIMER {
    DISPATCHER_HEADER Header;
    ULARGE_INTEGER DueTime;     /* here: in ke_ticks() units (100 Hz) */
    LIST_ENTRY TimerListEntry;
    PVOID Dpc;
    ULONG Processor;
    ULONG Period;
} KTIMER;

typedef struct _KWAIT_BLOCK {
    LIST_ENTRY WaitListEntry;
    UCHAR WaitType;
    UCHAR BlockState;
    USHORT WaitKey;
    LONG SpareLong;
    struct _KTHREAD *Thread;
    PVOID Object;
    PVOID SparePtr;
} KWAIT_BLOCK;

typedef struct _KAPC_STATE {
    LIST_ENTRY ApcListHead[2];
    struct _KPROCESS *Process;
    UCHAR InProgressFlags;
    UCHAR KernelApcPending;
    UCHAR UserApcPendingAll;
    UCHAR Pad;
} KAPC_STATE;

/* ---- processes and threads ---------------------------------------------- */

/* What KTHREAD.KernelStack of a thread that is not running points at (as on
 * Windows x64): SwapContext's frame.  A debugger starts a blocked thread's
 * stack walk with Rip = Return, Rsp = KernelStack + sizeof(KSWITCH_FRAME),
 * Rbp = Rbp; Return lies inside KiSwapContext (past its prologue), or is
 * KiStartSystemThread for a thread that has never run. */
typedef struct _KSWITCH_FRAME {
    ULONG64 P1Home;
    ULONG64 P2Home;
    ULONG64 P3Home;
    ULONG64 P4Home;
    ULONG64 P5Home;
    UCHAR ApcBypass;
    UCHAR Fill1[7];
    ULONG64 Rbp;
    ULONG64 Return;
} KSWITCH_FRAME;

/* Above the switch frame of a new thread: what KiStartSystemThread (kernel
 * threads) or KiStartUserThread (first entry to user mode) reads. */
typedef struct _KSTART_FRAME {
    ULONG64 ReturnSlot;                  /* 0: ends the unwind chain */
    ULONG64 StartRoutine;                /* user: the exe entry point */
    ULONG64 StartContext;                /* user: the PEB */
    ULONG64 UserStack;                   /* user: initial RSP */
    ULONG64 UserEntry;                   /* user: ntdll!RtlUserThreadStart */
    ULONG64 Reserved;
} KSTART_FRAME;

/* The x64 trap frame (Windows layout, 0x190 bytes).  KiSystemCall64 builds
 * one at the top of the thread's kernel stack; its tail (Rip, SegCs, EFlags,
 * Rsp, SegSs) is the machine frame that UWOP_PUSH_MACHFRAME unwinds through
 * into user mode. */
typedef struct _KTRAP_FRAME {
    ULONG64 P1Home;
    ULONG64 P2Home;
    ULONG64 P3Home;
    ULONG64 P4Home;
    ULONG64 P5Home;
    CHAR PreviousMode;
    UCHAR PreviousIrql;
    UCHAR FaultIndicator;
    UCHAR ExceptionActive;
    ULONG MxCsr;
    ULONG64 Rax;
    ULONG64 Rcx;
    ULONG64 Rdx;
    ULONG64 R8;
    ULONG64 R9;
    ULONG64 R10;
    ULONG64 R11;
    ULONG64 GsBase;
    M128A Xmm0;
    M128A Xmm1;
    M128A Xmm2;
    M128A Xmm3;
    M128A Xmm4;
    M128A Xmm5;
    ULONG64 FaultAddress;
    ULONG64 Dr0;
    ULONG64 Dr1;
    ULONG64 Dr2;
    ULONG64 Dr3;
    ULONG64 Dr6;
    ULONG64 Dr7;
    ULONG64 DebugControl;
    ULONG64 LastBranchToRip;
    ULONG64 LastBranchFromRip;
    ULONG64 LastExceptionToRip;
    ULONG64 LastExceptionFromRip;
    USHORT SegDs;
    USHORT SegEs;
    USHORT SegFs;
    USHORT SegGs;
    ULONG64 TrapFrame;
    ULONG64 Rbx;
    ULONG64 Rdi;
    ULONG64 Rsi;
    ULONG64 Rbp;
    ULONG64 ErrorCode;
    ULONG64 Rip;
    USHORT SegCs;
    UCHAR Fill0;
    UCHAR Logging;
    USHORT Fill1[2];
    ULONG EFlags;
    ULONG Fill2;
    ULONG64 Rsp;
    USHORT SegSs;
    USHORT Fill3;
    ULONG Fill4;
} KTRAP_FRAME;

typedef struct _KPROCESS {
    DISPATCHER_HEADER Header;
    LIST_ENTRY ProfileListHead;
    ULONG64 DirectoryTableBase;      /* the CR3 value */
    LIST_ENTRY ThreadListHead;       /* KTHREAD.ThreadListEntry */
    ULONG ProcessLock;
    ULONG ProcessTimerDelay;
    ULONG64 DeepFreezeStartTime;
    KAFFINITY Affinity;
    LIST_ENTRY ReadyListHead;
    SINGLE_LIST_ENTRY SwapListEntry;
    KAFFINITY ActiveProcessors;
    LONG ProcessFlags;
    CHAR BasePriority;
    CHAR QuantumReset;
    CHAR Visited;
    CHAR Flags;
    ULONG64 KernelTime;
    ULONG64 UserTime;
    ULONG64 UserDirectoryTableBase;
    UCHAR AddressPolicy;
    UCHAR Spare2[7];
} KPROCESS;

typedef struct _EX_FAST_REF {
    ULONG64 Value;
} EX_FAST_REF;

typedef struct _HANDLE_TABLE {
    ULONG NextHandleNeedingPool;
    LONG ExtraInfoPages;
    ULONG64 TableCode;
    struct _EPROCESS *QuotaProcess;
    LIST_ENTRY HandleTableList;
    ULONG UniqueProcessId;
    ULONG Flags;
    ULONG HandleCount;
    ULONG Spare;
} HANDLE_TABLE;

struct _PEB;

typedef struct _EPROCESS {
    KPROCESS Pcb;
    ULONG64 ProcessLock;
    HANDLE UniqueProcessId;
    LIST_ENTRY ActiveProcessLinks;
    ULONG64 RundownProtect;
    ULONG Flags2;
    ULONG Flags;
    LARGE_INTEGER CreateTime;
    ULONG64 ProcessQuotaUsage[2];
    ULONG64 ProcessQuotaPeak[2];
    ULONG64 PeakVirtualSize;
    ULONG64 VirtualSize;
    LIST_ENTRY SessionProcessLinks;
    PVOID ExceptionPortData;
    EX_FAST_REF Token;
    ULONG64 WorkingSetPage;
    PVOID SectionObject;
    PVOID SectionBaseAddress;
    ULONG Cookie;
    ULONG Spare0;
    HANDLE InheritedFromUniqueProcessId;
    HANDLE OwnerProcessId;
    struct _PEB *Peb;
    PVOID Session;
    PVOID QuotaBlock;
    HANDLE_TABLE *ObjectTable;
    PVOID DebugPort;
    PVOID WoW64Process;
    PVOID DeviceMap;
    PVOID EtwDataSource;
    ULONG64 PageDirectoryPte;
    PVOID ImageFilePointer;
    UCHAR ImageFileName[15];
    UCHAR PriorityClass;
    PVOID SecurityPort;
    PVOID SeAuditProcessCreationInfo;
    LIST_ENTRY JobLinks;
    PVOID HighestUserAddress;
    LIST_ENTRY ThreadListHead;       /* ETHREAD.ThreadListEntry */
    ULONG ActiveThreads;
    ULONG ImagePathHash;
    ULONG DefaultHardErrorProcessing;
    LONG LastThreadExitStatus;
    ULONG64 NumberOfPrivatePages;
    ULONG64 NumberOfLockedPages;
    LARGE_INTEGER ExitTime;
    ULONG SessionId;
    ULONG ExitStatus;
} EPROCESS;

/* KTHREAD_STATE values (KTHREAD.State). */
enum _KTHREAD_STATE {
    Initialized = 0, Ready = 1, Running = 2, Standby = 3, Terminated = 4,
    Waiting = 5, Transition = 6, DeferredReady = 7
};

/* KWAIT_REASON values used here (KTHREAD.WaitReason). */
enum _KWAIT_REASON {
    Executive = 0, DelayExecution = 4, UserRequest = 6, WrQueue = 15,
    WrLpcReceive = 16
};

typedef struct _KTHREAD {
    DISPATCHER_HEADER Header;
    PVOID SListFaultAddress;
    ULONG64 QuantumTarget;
    PVOID InitialStack;
    PVOID StackLimit;
    PVOID StackBase;
    ULONG64 ThreadLock;
    ULONG64 CycleTime;
    ULONG CurrentRunTime;
    ULONG ExpectedRunTime;
    PVOID KernelStack;               /* RSP saved by KiSwapContext */
    PVOID StateSaveArea;
    PVOID SchedulingGroup;
    UCHAR WaitRegister;
    UCHAR Running;
    UCHAR Alerted[2];
    ULONG MiscFlags;
    ULONG ThreadFlags;
    ULONG SystemCallNumber;
    PVOID FirstArgument;
    struct _KTRAP_FRAME *TrapFrame;
    KAPC_STATE ApcState;
    LONG64 WaitStatus;
    KWAIT_BLOCK *WaitBlockList;
    LIST_ENTRY WaitListEntry;
    PVOID Queue;
    PVOID Teb;                       /* user address of the _TEB */
    ULONG64 RelativeTimerBias;
    KTIMER Timer;
    KWAIT_BLOCK WaitBlock[4];
    UCHAR State;                     /* enum _KTHREAD_STATE */
    CHAR Priority;
    CHAR BasePriority;
    UCHAR WaitIrql;
    CHAR WaitMode;
    UCHAR WaitReason;                /* enum _KWAIT_REASON */
    UCHAR NextProcessor;
    UCHAR Spare1;
    ULONG WaitTime;
    ULONG KernelTime;
    ULONG UserTime;
    ULONG ContextSwitches;
    PVOID Win32Thread;
    struct _KPROCESS *Process;
    LIST_ENTRY ThreadListEntry;      /* KPROCESS.ThreadListHead */
    LIST_ENTRY MutantListHead;
} KTHREAD, *PKTHREAD;

typedef struct _ETHREAD {
    KTHREAD Tcb;
    LARGE_INTEGER CreateTime;
    LARGE_INTEGER ExitTime;
    PVOID ChargeOnlySession;
    LIST_ENTRY PostBlockList;
    PVOID TerminationPort;
    ULONG64 RundownProtect;
    CLIENT_ID Cid;
    PVOID StartAddress;
    PVOID Win32StartAddress;
    LIST_ENTRY ThreadListEntry;      /* EPROCESS.ThreadListHead */
    ULONG64 ThreadLock;
    ULONG ReadClusterSize;
    LONG MmLockOrdering;
    ULONG CrossThreadFlags;
    ULONG SameThreadPassiveFlags;
    LIST_ENTRY IrpList;
    PVOID ActiveTimerListLock;
    LIST_ENTRY ActiveTimerListHead;
} ETHREAD;

/* ---- loader: kernel modules ---------------------------------------------- */

typedef struct _KLDR_DATA_TABLE_ENTRY {
    LIST_ENTRY InLoadOrderLinks;
    PVOID ExceptionTable;
    ULONG ExceptionTableSize;
    PVOID GpValue;
    PVOID NonPagedDebugInfo;
    PVOID DllBase;
    PVOID EntryPoint;
    ULONG SizeOfImage;
    UNICODE_STRING FullDllName;
    UNICODE_STRING BaseDllName;
    ULONG Flags;
    USHORT LoadCount;
    USHORT SignatureLevel;
    PVOID SectionPointer;
    ULONG CheckSum;
    ULONG CoverageSectionSize;
    PVOID CoverageSection;
    PVOID LoadedImports;
    PVOID Spare;
    ULONG SizeOfImageNotRounded;
    ULONG TimeDateStamp;
} KLDR_DATA_TABLE_ENTRY;

/* ---- user mode: PEB, loader data, parameters, TEB ------------------------ */

typedef struct _PEB_LDR_DATA {
    ULONG Length;
    UCHAR Initialized;
    PVOID SsHandle;
    LIST_ENTRY InLoadOrderModuleList;
    LIST_ENTRY InMemoryOrderModuleList;
    LIST_ENTRY InInitializationOrderModuleList;
    PVOID EntryInProgress;
    UCHAR ShutdownInProgress;
    HANDLE ShutdownThreadId;
} PEB_LDR_DATA;

typedef struct _LDR_DATA_TABLE_ENTRY {
    LIST_ENTRY InLoadOrderLinks;
    LIST_ENTRY InMemoryOrderLinks;
    LIST_ENTRY InInitializationOrderLinks;
    PVOID DllBase;
    PVOID EntryPoint;
    ULONG SizeOfImage;
    UNICODE_STRING FullDllName;
    UNICODE_STRING BaseDllName;
    ULONG Flags;
    USHORT ObsoleteLoadCount;
    USHORT TlsIndex;
    LIST_ENTRY HashLinks;
    ULONG TimeDateStamp;
    PVOID EntryPointActivationContext;
    PVOID Lock;
    PVOID DdagNode;
    LIST_ENTRY NodeModuleLink;
    PVOID LoadContext;
    PVOID ParentDllBase;
    PVOID SwitchBackContext;
    ULONG64 OriginalBase;
    LARGE_INTEGER LoadTime;
    ULONG BaseNameHashValue;
    ULONG LoadReason;
    ULONG ImplicitPathOptions;
    ULONG ReferenceCount;
} LDR_DATA_TABLE_ENTRY;

typedef struct _CURDIR {
    UNICODE_STRING DosPath;
    HANDLE Handle;
} CURDIR;

typedef struct _RTL_DRIVE_LETTER_CURDIR {
    USHORT Flags;
    USHORT Length;
    ULONG TimeStamp;
    STRING DosPath;
} RTL_DRIVE_LETTER_CURDIR;

typedef struct _RTL_USER_PROCESS_PARAMETERS {
    ULONG MaximumLength;
    ULONG Length;
    ULONG Flags;
    ULONG DebugFlags;
    HANDLE ConsoleHandle;
    ULONG ConsoleFlags;
    HANDLE StandardInput;
    HANDLE StandardOutput;
    HANDLE StandardError;
    CURDIR CurrentDirectory;
    UNICODE_STRING DllPath;
    UNICODE_STRING ImagePathName;
    UNICODE_STRING CommandLine;
    PVOID Environment;               /* UTF-16 "NAME=value\0...\0\0" */
    ULONG StartingX;
    ULONG StartingY;
    ULONG CountX;
    ULONG CountY;
    ULONG CountCharsX;
    ULONG CountCharsY;
    ULONG FillAttribute;
    ULONG WindowFlags;
    ULONG ShowWindowFlags;
    UNICODE_STRING WindowTitle;
    UNICODE_STRING DesktopInfo;
    UNICODE_STRING ShellInfo;
    UNICODE_STRING RuntimeData;
    RTL_DRIVE_LETTER_CURDIR CurrentDirectores[32];
    ULONG64 EnvironmentSize;
    ULONG64 EnvironmentVersion;
    PVOID PackageDependencyData;
    ULONG ProcessGroupId;
    ULONG LoaderThreads;
} RTL_USER_PROCESS_PARAMETERS;

typedef struct _PEB {
    UCHAR InheritedAddressSpace;
    UCHAR ReadImageFileExecOptions;
    UCHAR BeingDebugged;
    UCHAR BitField;
    UCHAR Padding0[4];
    HANDLE Mutant;
    PVOID ImageBaseAddress;
    PEB_LDR_DATA *Ldr;
    RTL_USER_PROCESS_PARAMETERS *ProcessParameters;
    PVOID SubSystemData;
    PVOID ProcessHeap;
    PVOID FastPebLock;
    PVOID AtlThunkSListPtr;
    PVOID IFEOKey;
    ULONG CrossProcessFlags;
    UCHAR Padding1[4];
    PVOID KernelCallbackTable;
    ULONG SystemReserved;
    ULONG AtlThunkSListPtr32;
    PVOID ApiSetMap;
    ULONG TlsExpansionCounter;
    UCHAR Padding2[4];
    PVOID TlsBitmap;
    ULONG TlsBitmapBits[2];
    PVOID ReadOnlySharedMemoryBase;
    PVOID SharedData;
    PVOID *ReadOnlyStaticServerData;
    PVOID AnsiCodePageData;
    PVOID OemCodePageData;
    PVOID UnicodeCaseTableData;
    ULONG NumberOfProcessors;
    ULONG NtGlobalFlag;
    LARGE_INTEGER CriticalSectionTimeout;
    ULONG64 HeapSegmentReserve;
    ULONG64 HeapSegmentCommit;
    ULONG64 HeapDeCommitTotalFreeThreshold;
    ULONG64 HeapDeCommitFreeBlockThreshold;
    ULONG NumberOfHeaps;
    ULONG MaximumNumberOfHeaps;
    PVOID *ProcessHeaps;
    PVOID GdiSharedHandleTable;
    PVOID ProcessStarterHelper;
    ULONG GdiDCAttributeList;
    UCHAR Padding3[4];
    PVOID LoaderLock;
    ULONG OSMajorVersion;
    ULONG OSMinorVersion;
    USHORT OSBuildNumber;
    USHORT OSCSDVersion;
    ULONG OSPlatformId;
    ULONG ImageSubsystem;
    ULONG ImageSubsystemMajorVersion;
    ULONG ImageSubsystemMinorVersion;
    UCHAR Padding4[4];
    ULONG64 ActiveProcessAffinityMask;
    ULONG SessionId;
    UCHAR Padding5[4];
} PEB;

typedef struct _NT_TIB {
    PVOID ExceptionList;
    PVOID StackBase;
    PVOID StackLimit;
    PVOID SubSystemTib;
    PVOID FiberData;
    PVOID ArbitraryUserPointer;
    struct _NT_TIB *Self;
} NT_TIB;

typedef struct _TEB {
    NT_TIB NtTib;
    PVOID EnvironmentPointer;
    CLIENT_ID ClientId;
    PVOID ActiveRpcHandle;
    PVOID ThreadLocalStoragePointer;
    PEB *ProcessEnvironmentBlock;
    ULONG LastErrorValue;
    ULONG CountOfOwnedCriticalSections;
    PVOID CsrClientThread;
    PVOID Win32ThreadInfo;
    ULONG User32Reserved[26];
    ULONG UserReserved[5];
    PVOID WOW32Reserved;
    ULONG CurrentLocale;
    ULONG FpSoftwareStatusRegister;
} TEB;

/* ---- KUSER_SHARED_DATA: fixed ABI, so the real Windows offsets ------------ */

typedef struct _KSYSTEM_TIME {
    ULONG LowPart;
    LONG High1Time;
    LONG High2Time;
} KSYSTEM_TIME;

typedef struct _KUSER_SHARED_DATA {
    ULONG TickCountLowDeprecated;
    ULONG TickCountMultiplier;
    KSYSTEM_TIME InterruptTime;
    KSYSTEM_TIME SystemTime;
    KSYSTEM_TIME TimeZoneBias;
    USHORT ImageNumberLow;
    USHORT ImageNumberHigh;
    WCHAR NtSystemRoot[260];
    ULONG MaxStackTraceDepth;
    ULONG CryptoExponent;
    ULONG TimeZoneId;
    ULONG LargePageMinimum;
    ULONG AitSamplingValue;
    ULONG AppCompatFlag;
    ULONG64 RNGSeedVersion;
    ULONG GlobalValidationRunlevel;
    LONG TimeZoneBiasStamp;
    ULONG NtBuildNumber;
    ULONG NtProductType;
    UCHAR ProductTypeIsValid;
    UCHAR Reserved0[1];
    USHORT NativeProcessorArchitecture;
    ULONG NtMajorVersion;
    ULONG NtMinorVersion;
    UCHAR ProcessorFeatures[64];
    ULONG Reserved1;
    ULONG Reserved3;
    ULONG TimeSlip;
    ULONG AlternativeArchitecture;
    ULONG BootId;
    LARGE_INTEGER SystemExpirationDate;
    ULONG SuiteMask;
    UCHAR KdDebuggerEnabled;
    UCHAR MitigationPolicies;
    USHORT CyclesPerYield;
    ULONG ActiveConsoleId;
    ULONG DismountCount;
    ULONG ComPlusPackage;
    ULONG LastSystemRITEventTickCount;
    ULONG NumberOfPhysicalPages;
    UCHAR SafeBootMode;
    UCHAR VirtualizationFlags;
    UCHAR Reserved12[2];
    ULONG SharedDataFlags;
    ULONG DataFlagsPad[1];
    ULONG64 TestRetInstruction;
    LONG64 QpcFrequency;
    ULONG SystemCall;
    ULONG Reserved2;
    ULONG64 SystemCallPad[2];
    KSYSTEM_TIME TickCount;
    ULONG TickCountPad[1];
    ULONG Cookie;
    ULONG CookiePad[1];
} KUSER_SHARED_DATA;

/* ---- I/O ------------------------------------------------------------------ */

typedef struct _OBJECT_ATTRIBUTES {
    ULONG Length;
    HANDLE RootDirectory;
    UNICODE_STRING *ObjectName;      /* +0x10: poi(r8+10) at NtCreateFile */
    ULONG Attributes;
    PVOID SecurityDescriptor;
    PVOID SecurityQualityOfService;
} OBJECT_ATTRIBUTES;

typedef struct _IO_STATUS_BLOCK {
    NTSTATUS Status;                 /* union with Pointer on Windows */
    ULONG_PTR Information;
} IO_STATUS_BLOCK;

struct _DRIVER_OBJECT;
struct _DEVICE_OBJECT;
struct _IRP;
typedef NTSTATUS DRIVER_DISPATCH(struct _DEVICE_OBJECT *DeviceObject, struct _IRP *Irp);

typedef struct _DEVICE_OBJECT {
    SHORT Type;                      /* 3 */
    USHORT Size;
    LONG ReferenceCount;
    struct _DRIVER_OBJECT *DriverObject;
    struct _DEVICE_OBJECT *NextDevice;
    PVOID DeviceExtension;
    ULONG DeviceType;
    ULONG Flags;
} DEVICE_OBJECT;

typedef struct _DRIVER_OBJECT {
    SHORT Type;                      /* 4 */
    SHORT Size;
    DEVICE_OBJECT *DeviceObject;
    ULONG Flags;
    PVOID DriverStart;
    ULONG DriverSize;
    PVOID DriverSection;             /* its KLDR_DATA_TABLE_ENTRY */
    PVOID DriverExtension;
    UNICODE_STRING DriverName;
    PVOID DriverInit;
    PVOID DriverStartIo;
    PVOID DriverUnload;
    DRIVER_DISPATCH *MajorFunction[28];
} DRIVER_OBJECT;

/* A much reduced IRP: what the create path hands to the driver. */
typedef struct _IRP {
    SHORT Type;                      /* 6 */
    USHORT Size;
    ULONG Flags;
    IO_STATUS_BLOCK IoStatus;
    UCHAR MajorFunction;             /* IRP_MJ_CREATE = 0 */
    UCHAR RequestorMode;
    UCHAR Pad[6];
    UNICODE_STRING *FileName;
    ACCESS_MASK DesiredAccess;
    ULONG CreateOptions;
    ULONG ShareAccess;
    ULONG FileAttributes;
    PVOID UserIosb;
    struct _ETHREAD *Thread;
} IRP;

/* ---- KDDEBUGGER_DATA64 (fact sheet §13; offsets asserted in kdbg.c) ------ */

typedef struct _DBGKD_DEBUG_DATA_HEADER64 {
    LIST_ENTRY64 List;
    ULONG OwnerTag;
    ULONG Size;
} DBGKD_DEBUG_DATA_HEADER64;

typedef struct _KDDEBUGGER_DATA64 {
    DBGKD_DEBUG_DATA_HEADER64 Header;
    ULONG64 KernBase;
    ULONG64 BreakpointWithStatus;
    ULONG64 SavedContext;
    USHORT ThCallbackStack;
    USHORT NextCallback;
    USHORT FramePointer;
    USHORT PaeEnabled;
    ULONG64 KiCallUserMode;
    ULONG64 KeUserCallbackDispatcher;
    ULONG64 PsLoadedModuleList;
    ULONG64 PsActiveProcessHead;
    ULONG64 PspCidTable;
    ULONG64 ExpSystemResourcesList;
    ULONG64 ExpPagedPoolDescriptor;
    ULONG64 ExpNumberOfPagedPools;
    ULONG64 KeTimeIncrement;
    ULONG64 KeBugCheckCallbackListHead;
    ULONG64 KiBugcheckData;
    ULONG64 IopErrorLogListHead;
    ULONG64 ObpRootDirectoryObject;
    ULONG64 ObpTypeObjectType;
    ULONG64 MmSystemCacheStart;
    ULONG64 MmSystemCacheEnd;
    ULONG64 MmSystemCacheWs;
    ULONG64 MmPfnDatabase;
    ULONG64 MmSystemPtesStart;
    ULONG64 MmSystemPtesEnd;
    ULONG64 MmSubsectionBase;
    ULONG64 MmNumberOfPagingFiles;
    ULONG64 MmLowestPhysicalPage;
    ULONG64 MmHighestPhysicalPage;
    ULONG64 MmNumberOfPhysicalPages;
    ULONG64 MmMaximumNonPagedPoolInBytes;
    ULONG64 MmNonPagedSystemStart;
    ULONG64 MmNonPagedPoolStart;
    ULONG64 MmNonPagedPoolEnd;
    ULONG64 MmPagedPoolStart;
    ULONG64 MmPagedPoolEnd;
    ULONG64 MmPagedPoolInformation;
    ULONG64 MmPageSize;
    ULONG64 MmSizeOfPagedPoolInBytes;
    ULONG64 MmTotalCommitLimit;
    ULONG64 MmTotalCommittedPages;
    ULONG64 MmSharedCommit;
    ULONG64 MmDriverCommit;
    ULONG64 MmProcessCommit;
    ULONG64 MmPagedPoolCommit;
    ULONG64 MmExtendedCommit;
    ULONG64 MmZeroedPageListHead;
    ULONG64 MmFreePageListHead;
    ULONG64 MmStandbyPageListHead;
    ULONG64 MmModifiedPageListHead;
    ULONG64 MmModifiedNoWritePageListHead;
    ULONG64 MmAvailablePages;
    ULONG64 MmResidentAvailablePages;
    ULONG64 PoolTrackTable;
    ULONG64 NonPagedPoolDescriptor;
    ULONG64 MmHighestUserAddress;
    ULONG64 MmSystemRangeStart;
    ULONG64 MmUserProbeAddress;
    ULONG64 KdPrintCircularBuffer;
    ULONG64 KdPrintCircularBufferEnd;
    ULONG64 KdPrintWritePointer;
    ULONG64 KdPrintRolloverCount;
    ULONG64 MmLoadedUserImageList;
    ULONG64 NtBuildLab;
    ULONG64 KiNormalSystemCall;
    ULONG64 KiProcessorBlock;
    ULONG64 MmUnloadedDrivers;
    ULONG64 MmLastUnloadedDriver;
    ULONG64 MmTriageActionTaken;
    ULONG64 MmSpecialPoolTag;
    ULONG64 KernelVerifier;
    ULONG64 MmVerifierData;
    ULONG64 MmAllocatedNonPagedPool;
    ULONG64 MmPeakCommitment;
    ULONG64 MmTotalCommitLimitMaximum;
    ULONG64 CmNtCSDVersion;
    ULONG64 MmPhysicalMemoryBlock;
    ULONG64 MmSessionBase;
    ULONG64 MmSessionSize;
    ULONG64 MmSystemParentTablePage;
    ULONG64 MmVirtualTranslationBase;
    USHORT OffsetKThreadNextProcessor;
    USHORT OffsetKThreadTeb;
    USHORT OffsetKThreadKernelStack;
    USHORT OffsetKThreadInitialStack;
    USHORT OffsetKThreadApcProcess;
    USHORT OffsetKThreadState;
    USHORT OffsetKThreadBStore;
    USHORT OffsetKThreadBStoreLimit;
    USHORT SizeEProcess;
    USHORT OffsetEprocessPeb;
    USHORT OffsetEprocessParentCID;
    USHORT OffsetEprocessDirectoryTableBase;
    USHORT SizePrcb;
    USHORT OffsetPrcbDpcRoutine;
    USHORT OffsetPrcbCurrentThread;
    USHORT OffsetPrcbMhz;
    USHORT OffsetPrcbCpuType;
    USHORT OffsetPrcbVendorString;
    USHORT OffsetPrcbProcStateContext;
    USHORT OffsetPrcbNumber;
    USHORT SizeEThread;
    UCHAR L1tfHighPhysicalBitIndex;
    UCHAR L1tfSwizzleBitIndex;
    ULONG Padding0;
    ULONG64 KdPrintCircularBufferPtr;
    ULONG64 KdPrintBufferSize;
    ULONG64 KeLoaderBlock;
    USHORT SizePcr;
    USHORT OffsetPcrSelfPcr;
    USHORT OffsetPcrCurrentPrcb;
    USHORT OffsetPcrContainedPrcb;
    USHORT OffsetPcrInitialBStore;
    USHORT OffsetPcrBStoreLimit;
    USHORT OffsetPcrInitialStack;
    USHORT OffsetPcrStackLimit;
    USHORT OffsetPrcbPcrPage;
    USHORT OffsetPrcbProcStateSpecialReg;
    USHORT GdtR0Code;
    USHORT GdtR0Data;
    USHORT GdtR0Pcr;
    USHORT GdtR3Code;
    USHORT GdtR3Data;
    USHORT GdtR3Teb;
    USHORT GdtLdt;
    USHORT GdtTss;
    USHORT Gdt64R3CmCode;
    USHORT Gdt64R3CmTeb;
    ULONG64 IopNumTriageDumpDataBlocks;
    ULONG64 IopTriageDumpDataBlocks;
    ULONG64 VfCrashDataBlock;
    ULONG64 MmBadPagesDetected;
    ULONG64 MmZeroedPageSingleBitErrorsDetected;
    ULONG64 EtwpDebuggerData;
    USHORT OffsetPrcbContext;
    USHORT OffsetPrcbMaxBreakpoints;
    USHORT OffsetPrcbMaxWatchpoints;
    ULONG OffsetKThreadStackLimit;
    ULONG OffsetKThreadStackBase;
    ULONG OffsetKThreadQueueListEntry;
    ULONG OffsetEThreadIrpList;
    USHORT OffsetPrcbIdleThread;
    USHORT OffsetPrcbNormalDpcState;
    USHORT OffsetPrcbDpcStack;
    USHORT OffsetPrcbIsrStack;
    USHORT SizeKDPC_STACK_FRAME;
    USHORT OffsetKPriQueueThreadListHead;
    USHORT OffsetKThreadWaitReason;
    USHORT Padding1;
    ULONG64 PteBase;
} KDDEBUGGER_DATA64;

#endif /* __ASSEMBLER__ */
#endif
