/*
 * io.c - NtCreateFile and the System worker thread that calls it forever.
 *
 * The worker is what a debugger breaks on ("bp nt!NtCreateFile", then
 * "du poi(poi(r8+10)+8)" shows the file name): a real non-inlined
 * NtCreateFile with the x64 Windows signature, called through the normal
 * calling convention (rcx=&Handle, rdx=Access, r8=&ObjectAttributes,
 * r9=&IoStatus, the rest on the stack).  The create goes down
 * IopCreateFile -> IofCallDriver -> testdrv!TestDrvDispatchCreate, so a
 * breakpoint in the driver shows a stack that crosses modules.
 */
#include "world.h"

#define CHAIN __attribute__((noinline, disable_tail_calls))

#define STATUS_SUCCESS               0
#define STATUS_INVALID_PARAMETER     ((NTSTATUS)0xC000000D)
#define STATUS_OBJECT_NAME_INVALID   ((NTSTATUS)0xC0000033)
#define STATUS_OBJECT_NAME_NOT_FOUND ((NTSTATUS)0xC0000034)

extern KLDR_DATA_TABLE_ENTRY *world_testdrv_entry;

/* The names the worker opens, in this order, forever (issue 3 item 5). */
static const WCHAR *const IopTestFileNames[] = {
    (const WCHAR *)L"\\??\\C:\\Windows\\System32\\config\\SYSTEM",
    (const WCHAR *)L"\\??\\C:\\Windows\\System32\\drivers\\etc\\hosts",
    (const WCHAR *)L"\\??\\C:\\pagefile.sys",
    (const WCHAR *)L"\\??\\C:\\Users\\Public\\desktop.ini",
    (const WCHAR *)L"\\??\\C:\\Windows\\System32\\winevt\\Logs\\System.evtx",
    (const WCHAR *)L"\\??\\C:\\ProgramData\\test\\kd-trace.txt",
};

/* Counters a debugger can watch ("dd nt!IopCreateFileCount"). */
volatile ULONG IopCreateFileCount;
/* Knobs a user can change from the debugger: "ed nt!TestFileWorkerHeartbeat 0"
 * silences the DbgPrint heartbeat; "eq nt!TestFileWorkerDelay -10000000"
 * slows the worker to one create a second (100 ns units, negative = relative). */
volatile ULONG TestFileWorkerHeartbeat = 200;
volatile LONG64 TestFileWorkerDelay = -200000;
volatile ULONG64 IopNextHandle = 0x80000004;
DRIVER_OBJECT *IopTestDriverObject;
static KEVENT ExpWorkQueueEvent;

CHAIN NTSTATUS IofCallDriver(DEVICE_OBJECT *DeviceObject, IRP *Irp)
{
    DRIVER_DISPATCH *dispatch = DeviceObject->DriverObject->MajorFunction[Irp->MajorFunction];
    NTSTATUS status = dispatch(DeviceObject, Irp);
    return status;
}

CHAIN NTSTATUS IopCreateFile(HANDLE *FileHandle, ACCESS_MASK DesiredAccess,
                             OBJECT_ATTRIBUTES *ObjectAttributes, IO_STATUS_BLOCK *IoStatusBlock,
                             LARGE_INTEGER *AllocationSize, ULONG FileAttributes,
                             ULONG ShareAccess, ULONG Disposition, ULONG CreateOptions,
                             PVOID EaBuffer, ULONG EaLength, ULONG Options)
{
    /* Every argument is looked at, so the compiler keeps passing all eleven
     * (an unused one would be left undefined at the call site, and a user
     * reading the stack arguments at the breakpoint would see garbage). */
    if (!FileHandle || !ObjectAttributes || !IoStatusBlock ||
        ObjectAttributes->Length != sizeof(OBJECT_ATTRIBUTES) ||
        Disposition > 5 /* FILE_MAXIMUM_DISPOSITION */ || (EaLength && !EaBuffer) ||
        (AllocationSize && AllocationSize->QuadPart < 0) || (Options & 0x80000000))
        return STATUS_INVALID_PARAMETER;
    UNICODE_STRING *name = ObjectAttributes->ObjectName;
    if (!name || !name->Buffer || name->Length < 8 || (name->Length & 1))
        return STATUS_OBJECT_NAME_INVALID;

    IopCreateFileCount++;
    NTSTATUS status = STATUS_OBJECT_NAME_NOT_FOUND;
    DEVICE_OBJECT *dev = IopTestDriverObject ? IopTestDriverObject->DeviceObject : NULL;
    if (dev && dev->DriverObject->MajorFunction[0]) {
        IRP irp;
        memset(&irp, 0, sizeof irp);
        irp.Type = 6;
        irp.Size = sizeof irp;
        irp.MajorFunction = 0;                   /* IRP_MJ_CREATE */
        irp.FileName = name;
        irp.DesiredAccess = DesiredAccess;
        irp.CreateOptions = CreateOptions | Disposition << 24;   /* as in the IO stack location */
        irp.ShareAccess = ShareAccess;
        irp.FileAttributes = FileAttributes;
        irp.UserIosb = IoStatusBlock;
        irp.Thread = (ETHREAD *)world_current_thread();
        status = IofCallDriver(dev, &irp);
        IoStatusBlock->Information = irp.IoStatus.Information;
    }
    IoStatusBlock->Status = status;
    if (status >= 0) {
        *FileHandle = (HANDLE)IopNextHandle;
        IopNextHandle += 4;
    } else {
        *FileHandle = NULL;
    }
    return status;
}

CHAIN NTSTATUS NtCreateFile(HANDLE *FileHandle, ACCESS_MASK DesiredAccess,
                            OBJECT_ATTRIBUTES *ObjectAttributes, IO_STATUS_BLOCK *IoStatusBlock,
                            LARGE_INTEGER *AllocationSize, ULONG FileAttributes,
                            ULONG ShareAccess, ULONG CreateDisposition, ULONG CreateOptions,
                            PVOID EaBuffer, ULONG EaLength)
{
    NTSTATUS status = IopCreateFile(FileHandle, DesiredAccess, ObjectAttributes, IoStatusBlock,
                                    AllocationSize, FileAttributes, ShareAccess,
                                    CreateDisposition, CreateOptions, EaBuffer, EaLength, 0);
    return status;
}

/* System thread: NtCreateFile on the six names in turn, ~50 times a second
 * of guest time (a 20 ms delay between calls lets the idle thread poll for
 * the debugger), with a DbgPrint heartbeat every 200 calls. */
CHAIN void TestFileWorkerThread(PVOID StartContext)
{
    (void)StartContext;
    for (ULONG64 n = 0;; n++) {
        const WCHAR *file = IopTestFileNames[n % 6];
        UNICODE_STRING name;
        OBJECT_ATTRIBUTES oa;
        IO_STATUS_BLOCK iosb;
        HANDLE handle = NULL;
        LARGE_INTEGER delay;

        name.Buffer = (WCHAR *)file;
        name.Length = (USHORT)(wcslen(file) * 2);
        name.MaximumLength = name.Length + 2;
        oa.Length = sizeof oa;
        oa.RootDirectory = NULL;
        oa.ObjectName = &name;
        oa.Attributes = 0x240;                   /* OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE */
        oa.SecurityDescriptor = NULL;
        oa.SecurityQualityOfService = NULL;
        iosb.Status = 0;
        iosb.Information = 0;

        NTSTATUS status = NtCreateFile(&handle, 0x80100000 /* GENERIC_READ|SYNCHRONIZE */,
                                       &oa, &iosb, NULL, 0x80 /* FILE_ATTRIBUTE_NORMAL */,
                                       3 /* FILE_SHARE_READ|WRITE */, 1 /* FILE_OPEN */,
                                       0x60 /* SYNCHRONOUS_IO_NONALERT|NON_DIRECTORY_FILE */,
                                       NULL, 0);
        if ((n + 1) % 50 == 0)
            KeSetEvent(&ExpWorkQueueEvent, 0, 0);    /* a work item for ExpWorkerThread */
        ULONG beat = TestFileWorkerHeartbeat;
        if (beat && (n + 1) % beat == 0)
            DbgPrint("testnt: NtCreateFile worker: %u calls, last %wZ -> 0x%x handle %p\n",
                     (unsigned)(n + 1), &name, (unsigned)status, handle);

        delay.QuadPart = TestFileWorkerDelay;    /* 20 ms unless changed */
        KeDelayExecutionThread(0 /* KernelMode */, 0, &delay);
    }
}

/* A System worker thread (WrQueue wait, as on Windows) that the file worker
 * hands a "work item" every 50 creates, so it wakes about once a second:
 * a thread that changes state while the target runs. */
volatile ULONG ExpWorkItemsProcessed;

CHAIN void ExpWorkerThread(PVOID StartContext)
{
    KEVENT *queue = StartContext;
    for (;;) {
        KeWaitForSingleObject(queue, WrQueue, 0, 0, NULL);
        ExpWorkItemsProcessed++;
    }
}

void world_io_init(void)
{
    EPROCESS *sys = PsInitialSystemProcess;
    KeInitializeEvent(&ExpWorkQueueEvent, 1, 0);
    world_create_thread(sys, ExpWorkerThread, &ExpWorkQueueEvent, 0x0c);
    world_create_thread(sys, TestFileWorkerThread, NULL, 0x10);

    if (!world_testdrv_entry)
        return;
    DRIVER_OBJECT *drv = mm_alloc(sizeof *drv);
    DEVICE_OBJECT *dev = mm_alloc(sizeof *dev);
    static const char drvname[] = "\\Driver\\testdrv";
    WCHAR *w = mm_alloc(sizeof drvname * 2);
    size_t len = world_ascii_to_utf16(w, drvname);

    drv->Type = 4;
    drv->Size = sizeof *drv;
    drv->DriverStart = world_testdrv_entry->DllBase;
    drv->DriverSize = world_testdrv_entry->SizeOfImage;
    drv->DriverSection = world_testdrv_entry;
    drv->DriverInit = world_testdrv_entry->EntryPoint;
    drv->DriverName.Buffer = w;
    drv->DriverName.Length = (USHORT)(len * 2);
    drv->DriverName.MaximumLength = (USHORT)(len * 2 + 2);
    dev->Type = 3;
    dev->Size = sizeof *dev;
    dev->ReferenceCount = 1;
    dev->DriverObject = drv;
    dev->DeviceType = 0x22;                      /* FILE_DEVICE_UNKNOWN */
    drv->DeviceObject = dev;

    typedef NTSTATUS DRIVER_INITIALIZE(DRIVER_OBJECT *, UNICODE_STRING *);
    DRIVER_INITIALIZE *entry = (DRIVER_INITIALIZE *)world_testdrv_entry->EntryPoint;
    if (entry(drv, NULL) >= 0)
        IopTestDriverObject = drv;
}
