/*
 * testdrv.c - testdrv.sys, the test world's second kernel module.
 *
 * A real PE + PDB loaded at 0xFFFFF80002000000 and listed in
 * PsLoadedModuleList.  DriverEntry installs an IRP_MJ_CREATE handler that
 * the System worker's NtCreateFile calls on every create, so
 * "bp testdrv!TestDrvDispatchCreate" hits ~50 times a second with a stack
 * testdrv!TestDrvDispatchCreate <- nt!IofCallDriver <- nt!IopCreateFile <-
 * nt!NtCreateFile <- nt!TestFileWorkerThread <- nt!KiStartSystemThread.
 * No imports: the world's loader does not bind them.
 */
#include "../ntdefs.h"

#define STATUS_SUCCESS               0
#define STATUS_OBJECT_NAME_NOT_FOUND ((NTSTATUS)0xC0000034)
#define FILE_OPENED 1

volatile ULONG TestDrvCreateCount;
volatile ULONG TestDrvLastNameLength;
WCHAR TestDrvLastName[128];

__attribute__((noinline, disable_tail_calls))
static NTSTATUS TestDrvCompleteRequest(IRP *Irp, NTSTATUS Status, ULONG_PTR Information)
{
    Irp->IoStatus.Status = Status;
    Irp->IoStatus.Information = Information;
    return Status;
}

/* Remember the name (a debugger can "du testdrv!TestDrvLastName") and open
 * everything except the page file. */
__attribute__((noinline, disable_tail_calls))
NTSTATUS TestDrvDispatchCreate(DEVICE_OBJECT *DeviceObject, IRP *Irp)
{
    UNICODE_STRING *name = Irp->FileName;
    ULONG chars = name->Length / 2;
    int pagefile = 0;
    (void)DeviceObject;

    TestDrvCreateCount++;
    if (chars > 127)
        chars = 127;
    for (ULONG i = 0; i < chars; i++)
        TestDrvLastName[i] = name->Buffer[i];
    TestDrvLastName[chars] = 0;
    TestDrvLastNameLength = chars;
    if (chars >= 12) {
        static const char tail[] = "pagefile.sys";
        pagefile = 1;
        for (ULONG i = 0; i < 12; i++)
            if (name->Buffer[chars - 12 + i] != (WCHAR)tail[i])
                pagefile = 0;
    }
    NTSTATUS status = pagefile
        ? TestDrvCompleteRequest(Irp, STATUS_OBJECT_NAME_NOT_FOUND, 0)
        : TestDrvCompleteRequest(Irp, STATUS_SUCCESS, FILE_OPENED);
    return status;
}

NTSTATUS DriverEntry(DRIVER_OBJECT *DriverObject, UNICODE_STRING *RegistryPath)
{
    (void)RegistryPath;
    DriverObject->MajorFunction[0] = TestDrvDispatchCreate;      /* IRP_MJ_CREATE */
    return STATUS_SUCCESS;
}
