/*
 * app.c - the test world's user-mode executables (smss.exe ... explorer.exe).
 *
 * One source, built once per process name (-DWORLD_PROCESS="lsass"), each
 * with its own PDB, linked at 0x00007FF612340000.  The code never runs; the
 * per-process string and entry point make the images (and so each
 * process's memory at the same address) differ.
 */
#ifndef WORLD_PROCESS
#define WORLD_PROCESS "app"
#endif

volatile unsigned long long AppLoopCount;
const char AppProcessName[] = WORLD_PROCESS;

__attribute__((noinline)) static void AppServiceLoop(void)
{
    for (;;) {
        AppLoopCount++;
        __asm__ volatile("pause");
    }
}

int wmainCRTStartup(void)
{
    AppLoopCount = (unsigned long long)(unsigned char)AppProcessName[0];
    AppServiceLoop();
    return 0;
}
