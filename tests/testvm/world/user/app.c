/*
 * app.c - the test world's user-mode executables (smss.exe ... explorer.exe).
 *
 * One source, built once per process name (-DWORLD_PROCESS="lsass"), each
 * with its own PDB, linked at 0x00007FF612340000 and importing from
 * ntdll.dll (the world's loader binds the IAT).  The code really runs in
 * ring 3 at boot: ntdll!RtlUserThreadStart calls wmainCRTStartup(PEB), which
 * waits on handle 4 (an event nobody signals) through ntdll's syscall stub,
 * so the thread stays blocked with a user-mode call chain below its
 * kernel frames.  explorer.exe also runs AppTickerThread, which wakes from
 * NtDelayExecution ten times a second.
 */
#ifndef WORLD_PROCESS
#define WORLD_PROCESS "app"
#endif

__declspec(dllimport) long NtWaitForSingleObject(void *Handle, unsigned char Alertable,
                                                 void *Timeout);
__declspec(dllimport) long NtDelayExecution(unsigned char Alertable, long long *Interval);

volatile unsigned long long AppLoopCount;
volatile unsigned long long AppTickCount;
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

/* explorer.exe's second thread: ring-3 code that runs ten times a second
 * (so "bp explorer!AppTickerLoop" hits in explorer's address space). */
__attribute__((noinline, disable_tail_calls)) void AppTickerLoop(void)
{
    long long interval = -1000000;           /* 100 ms */
    for (;;) {
        AppTickCount++;
        NtDelayExecution(0, &interval);
    }
}

__declspec(dllexport) __attribute__((disable_tail_calls)) int AppTickerThread(void *Peb)
{
    (void)Peb;
    AppTickerLoop();
    return 0;
}
