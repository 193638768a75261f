/*
 * blobs.S - the world's PEs, embedded in testnt.exe (.rdata) so the kernel
 * can map them into target memory.  The files are found on the include path
 * (world_blob_dir, the build directory of world/meson.build).
 */
#define BLOB(sym, file)            \
    .globl sym;                    \
    .globl sym##_end;              \
    .p2align 12;                   \
sym:                               \
    .incbin file;                  \
sym##_end:

    .section .rdata,"dr"
BLOB(world_blob_testdrv, "testdrv.sys")
BLOB(world_blob_ntdll, "ntdll.dll")
BLOB(world_blob_smss, "smss.exe")
BLOB(world_blob_csrss, "csrss.exe")
BLOB(world_blob_wininit, "wininit.exe")
BLOB(world_blob_winlogon, "winlogon.exe")
BLOB(world_blob_services, "services.exe")
BLOB(world_blob_lsass, "lsass.exe")
BLOB(world_blob_explorer, "explorer.exe")
