/*
 * app.c - the test world's user-mode executables (smss.exe ... explorer.exe).
 *
 * One source, built once per process name (-DWORLD_PROCESS="lsass"), each
 * with its own PDB, linked at 0x00007FF612340000 and importing from
 * ntdll.dll (the world's loader binds the IAT).  The code really runs in
 * ring 3 at boot: ntdll!RtlUserThreadStart calls wmainCRTStartup(PEB), which
 * waits on handle 4 (an event nobody signals) through ntdll's syscall stub,
 * so the thread stays blocked with a user-mode call chain below its
 * kernel frames.
 */
#ifndef WORLD_PROCESS
#define WORLD_PROCESS "app"
#endif

__declspec(dllimport) long NtWaitForSingleObject(void *Handle, unsigned char Alertable,
                                                 void *Timeout);

volatile unsigned long long AppLoopCount;
volatile long AppLastStatus;
const char AppProcessName[] = WORLD_PROCESS;

__attribute__((noinline, disable_tail_calls)) void AppServiceLoop(void *Peb)
{
    (void)Peb;
    for (;;) {
        AppLoopCount++;
        AppLastStatus = NtWaitForSingleObject((void *)4, 0, 0);
    }
}

__attribute__((disable_tail_calls)) int wmainCRTStartup(void *Peb)
{
    AppLoopCount = (unsigned long long)(unsigned char)AppProcessName[0];
    AppServiceLoop(Peb);
    return 0;
}
