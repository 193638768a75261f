/*
 * kdbg.c - KdDebuggerDataBlock (the "KDBG" block) and the debugger data list.
 *
 * GetVersion64's DebuggerDataList is &KdpDebuggerDataListHead; a debugger
 * dereferences it once to reach the block (fact sheet §10), then checks
 * OwnerTag == 'KDBG' and Size (§13).  The Offset and Size fields are filled from
 * the real layouts in ntdefs.h with offsetof/sizeof, so they always agree with
 * testnt.pdb.
 */
#include "world.h"

#define OFS(type, field) ((USHORT)offsetof(type, field))

/* The field offsets the fact sheet (§13) lists; a mistake here would make the
 * block lie to every debugger. */
_Static_assert(offsetof(KDDEBUGGER_DATA64, Header.OwnerTag) == 0x10, "OwnerTag");
_Static_assert(offsetof(KDDEBUGGER_DATA64, KernBase) == 0x18, "KernBase");
_Static_assert(offsetof(KDDEBUGGER_DATA64, PaeEnabled) == 0x36, "PaeEnabled");
_Static_assert(offsetof(KDDEBUGGER_DATA64, PsLoadedModuleList) == 0x48, "PsLoadedModuleList");
_Static_assert(offsetof(KDDEBUGGER_DATA64, PsActiveProcessHead) == 0x50, "PsActiveProcessHead");
_Static_assert(offsetof(KDDEBUGGER_DATA64, PspCidTable) == 0x58, "PspCidTable");
_Static_assert(offsetof(KDDEBUGGER_DATA64, ObpRootDirectoryObject) == 0x98, "ObpRoot");
_Static_assert(offsetof(KDDEBUGGER_DATA64, MmPfnDatabase) == 0xC0, "MmPfnDatabase");
_Static_assert(offsetof(KDDEBUGGER_DATA64, MmPageSize) == 0x138, "MmPageSize");
_Static_assert(offsetof(KDDEBUGGER_DATA64, MmHighestUserAddress) == 0x1C8, "MmHighestUserAddress");
_Static_assert(offsetof(KDDEBUGGER_DATA64, MmSystemRangeStart) == 0x1D0, "MmSystemRangeStart");
_Static_assert(offsetof(KDDEBUGGER_DATA64, MmUserProbeAddress) == 0x1D8, "MmUserProbeAddress");
_Static_assert(offsetof(KDDEBUGGER_DATA64, KdPrintCircularBuffer) == 0x1E0, "KdPrintCircularBuffer");
_Static_assert(offsetof(KDDEBUGGER_DATA64, KdPrintRolloverCount) == 0x1F8, "KdPrintRolloverCount");
_Static_assert(offsetof(KDDEBUGGER_DATA64, NtBuildLab) == 0x208, "NtBuildLab");
_Static_assert(offsetof(KDDEBUGGER_DATA64, KiProcessorBlock) == 0x218, "KiProcessorBlock");
_Static_assert(offsetof(KDDEBUGGER_DATA64, MmUnloadedDrivers) == 0x220, "MmUnloadedDrivers");
_Static_assert(offsetof(KDDEBUGGER_DATA64, CmNtCSDVersion) == 0x268, "CmNtCSDVersion");
_Static_assert(offsetof(KDDEBUGGER_DATA64, MmPhysicalMemoryBlock) == 0x270, "MmPhysicalMemoryBlock");
_Static_assert(offsetof(KDDEBUGGER_DATA64, MmSessionBase) == 0x278, "MmSessionBase");
_Static_assert(offsetof(KDDEBUGGER_DATA64, OffsetKThreadNextProcessor) == 0x298, "NextProcessor");
_Static_assert(offsetof(KDDEBUGGER_DATA64, OffsetKThreadTeb) == 0x29A, "Teb");
_Static_assert(offsetof(KDDEBUGGER_DATA64, OffsetKThreadKernelStack) == 0x29C, "KernelStack");
_Static_assert(offsetof(KDDEBUGGER_DATA64, OffsetKThreadInitialStack) == 0x29E, "InitialStack");
_Static_assert(offsetof(KDDEBUGGER_DATA64, OffsetKThreadApcProcess) == 0x2A0, "ApcProcess");
_Static_assert(offsetof(KDDEBUGGER_DATA64, OffsetKThreadState) == 0x2A2, "State");
_Static_assert(offsetof(KDDEBUGGER_DATA64, SizeEProcess) == 0x2A8, "SizeEProcess");
_Static_assert(offsetof(KDDEBUGGER_DATA64, OffsetEprocessPeb) == 0x2AA, "Peb");
_Static_assert(offsetof(KDDEBUGGER_DATA64, OffsetEprocessParentCID) == 0x2AC, "ParentCID");
_Static_assert(offsetof(KDDEBUGGER_DATA64, OffsetEprocessDirectoryTableBase) == 0x2AE, "DTB");
_Static_assert(offsetof(KDDEBUGGER_DATA64, SizePrcb) == 0x2B0, "SizePrcb");
_Static_assert(offsetof(KDDEBUGGER_DATA64, OffsetPrcbCurrentThread) == 0x2B4, "CurrentThread");
_Static_assert(offsetof(KDDEBUGGER_DATA64, OffsetPrcbProcStateContext) == 0x2BC, "ProcStateContext");
_Static_assert(offsetof(KDDEBUGGER_DATA64, OffsetPrcbNumber) == 0x2BE, "PrcbNumber");
_Static_assert(offsetof(KDDEBUGGER_DATA64, SizeEThread) == 0x2C0, "SizeEThread");
_Static_assert(offsetof(KDDEBUGGER_DATA64, KdPrintCircularBufferPtr) == 0x2C8, "KdPrintCircularBufferPtr");
_Static_assert(offsetof(KDDEBUGGER_DATA64, KdPrintBufferSize) == 0x2D0, "KdPrintBufferSize");
_Static_assert(offsetof(KDDEBUGGER_DATA64, KeLoaderBlock) == 0x2D8, "KeLoaderBlock");
_Static_assert(offsetof(KDDEBUGGER_DATA64, SizePcr) == 0x2E0, "SizePcr");
_Static_assert(offsetof(KDDEBUGGER_DATA64, OffsetPcrSelfPcr) == 0x2E2, "SelfPcr");
_Static_assert(offsetof(KDDEBUGGER_DATA64, OffsetPcrCurrentPrcb) == 0x2E4, "CurrentPrcb");
_Static_assert(offsetof(KDDEBUGGER_DATA64, OffsetPcrContainedPrcb) == 0x2E6, "ContainedPrcb");
_Static_assert(offsetof(KDDEBUGGER_DATA64, OffsetPrcbProcStateSpecialReg) == 0x2F2, "SpecialReg");
_Static_assert(offsetof(KDDEBUGGER_DATA64, IopNumTriageDumpDataBlocks) == 0x308, "IopNumTriage");
_Static_assert(offsetof(KDDEBUGGER_DATA64, VfCrashDataBlock) == 0x318, "VfCrashDataBlock");
_Static_assert(offsetof(KDDEBUGGER_DATA64, EtwpDebuggerData) == 0x330, "EtwpDebuggerData");
_Static_assert(offsetof(KDDEBUGGER_DATA64, OffsetPrcbContext) == 0x338, "OffsetPrcbContext");
_Static_assert(offsetof(KDDEBUGGER_DATA64, PteBase) == 0x360, "PteBase");
_Static_assert(offsetof(KPCR, Self) == 0x18 && offsetof(KPCR, CurrentPrcb) == 0x20 &&
               offsetof(KPCR, Prcb) == 0x180, "KPCR layout as on Windows x64");
_Static_assert(sizeof(CONTEXT) == 0x4D0, "x64 CONTEXT is 0x4D0 bytes");
_Static_assert(sizeof(KSPECIAL_REGISTERS) == 0xF0, "KSPECIAL_REGISTERS");
_Static_assert(offsetof(OBJECT_ATTRIBUTES, ObjectName) == 0x10, "ObjectName at +0x10");

/* From the core (kernel/): the bugcheck code + parameters, and the int3 a
 * breakin stops on. */
extern uint64_t KiBugCheckData[5];
extern UCHAR RtlpBreakWithStatusInstruction[];

KDDEBUGGER_DATA64 KdDebuggerDataBlock;
LIST_ENTRY64 KdpDebuggerDataListHead;
static const char NtBuildLab[] = "19041.1.amd64fre.testnt.261122-0000";
static const WCHAR CmNtCSDVersionString[] = { 0 };

void world_kdbg_init(ULONG64 kern_base);

void world_kdbg_init(ULONG64 kern_base)
{
    KDDEBUGGER_DATA64 *d = &KdDebuggerDataBlock;

    memset(d, 0, sizeof *d);
    KdpDebuggerDataListHead.Flink = (ULONG64)&d->Header.List;
    KdpDebuggerDataListHead.Blink = (ULONG64)&d->Header.List;
    d->Header.List.Flink = (ULONG64)&KdpDebuggerDataListHead;
    d->Header.List.Blink = (ULONG64)&KdpDebuggerDataListHead;
    d->Header.OwnerTag = 0x4742444B;                 /* 'KDBG' */
    d->Header.Size = sizeof *d;

    d->KernBase = kern_base;
    d->PaeEnabled = 1;
    d->BreakpointWithStatus = (ULONG64)RtlpBreakWithStatusInstruction;
    d->KiBugcheckData = (ULONG64)KiBugCheckData;
    d->PsLoadedModuleList = (ULONG64)&PsLoadedModuleList;
    d->PsActiveProcessHead = (ULONG64)&PsActiveProcessHead;
    d->MmPageSize = 0x1000;
    d->MmHighestUserAddress = 0x00007FFFFFFEFFFFull;
    d->MmSystemRangeStart = 0xFFFF800000000000ull;
    d->MmUserProbeAddress = 0x00007FFFFFFF0000ull;
    d->NtBuildLab = (ULONG64)NtBuildLab;
    d->CmNtCSDVersion = (ULONG64)CmNtCSDVersionString;
    d->KiProcessorBlock = (ULONG64)KiProcessorBlock;
    d->MmNumberOfPhysicalPages = mm_phys_top() / 0x1000;
    d->MmHighestPhysicalPage = mm_phys_top() / 0x1000 - 1;

    d->OffsetKThreadNextProcessor = OFS(KTHREAD, NextProcessor);
    d->OffsetKThreadTeb = OFS(KTHREAD, Teb);
    d->OffsetKThreadKernelStack = OFS(KTHREAD, KernelStack);
    d->OffsetKThreadInitialStack = OFS(KTHREAD, InitialStack);
    d->OffsetKThreadApcProcess = OFS(KTHREAD, ApcState.Process);
    d->OffsetKThreadState = OFS(KTHREAD, State);
    d->SizeEProcess = sizeof(EPROCESS);
    d->OffsetEprocessPeb = OFS(EPROCESS, Peb);
    d->OffsetEprocessParentCID = OFS(EPROCESS, InheritedFromUniqueProcessId);
    d->OffsetEprocessDirectoryTableBase = OFS(EPROCESS, Pcb.DirectoryTableBase);
    d->SizePrcb = sizeof(KPRCB);
    d->OffsetPrcbCurrentThread = OFS(KPRCB, CurrentThread);
    d->OffsetPrcbMhz = OFS(KPRCB, MHz);
    d->OffsetPrcbCpuType = OFS(KPRCB, CpuType);
    d->OffsetPrcbVendorString = OFS(KPRCB, VendorString);
    d->OffsetPrcbProcStateContext = OFS(KPRCB, ProcessorState.ContextFrame);
    d->OffsetPrcbNumber = OFS(KPRCB, Number);
    d->SizeEThread = sizeof(ETHREAD);
    d->SizePcr = sizeof(KPCR);
    d->OffsetPcrSelfPcr = OFS(KPCR, Self);
    d->OffsetPcrCurrentPrcb = OFS(KPCR, CurrentPrcb);
    d->OffsetPcrContainedPrcb = OFS(KPCR, Prcb);
    d->OffsetPrcbProcStateSpecialReg = OFS(KPRCB, ProcessorState.SpecialRegisters);
    d->GdtR0Code = KGDT64_R0_CODE;
    d->GdtR0Data = KGDT64_R0_DATA;
    d->GdtR3Code = KGDT64_R3_CODE;
    d->GdtR3Data = KGDT64_R3_DATA;
    d->GdtTss = 0x40;
    d->OffsetPrcbContext = OFS(KPRCB, ProcessorState.ContextFrame);
    d->OffsetKThreadStackLimit = offsetof(KTHREAD, StackLimit);
    d->OffsetKThreadStackBase = offsetof(KTHREAD, StackBase);
    d->OffsetKThreadQueueListEntry = offsetof(KTHREAD, WaitListEntry);
    d->OffsetEThreadIrpList = offsetof(ETHREAD, IrpList);
    d->OffsetPrcbIdleThread = OFS(KPRCB, IdleThread);
    d->OffsetPrcbDpcStack = OFS(KPRCB, DpcStack);
    d->OffsetKThreadWaitReason = OFS(KTHREAD, WaitReason);
}

uint64_t world_kd_debugger_data_block(void) { return (uint64_t)&KdDebuggerDataBlock; }
uint64_t world_debugger_data_list(void) { return (uint64_t)&KdpDebuggerDataListHead; }
