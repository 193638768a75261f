/*
 * world_stub.c - stand-in for tests/testvm/world/ while it does not exist:
 * no processes, no modules, an idle loop that polls for breakins.
 * Compiled only when world/meson.build is absent.
 */
#include "ke.h"

void world_init(void) {}

void world_run(void)
{
    for (;;) {
        kd_poll_breakin();
        ke_idle_wait();
    }
}

uint64_t world_current_thread(void) { return 0; }
uint64_t world_kpcr(void) { return 0; }
uint64_t world_kprcb(void) { return 0; }
uint64_t world_ps_loaded_module_list(void) { return 0; }
uint64_t world_ps_active_process_head(void) { return 0; }
uint64_t world_kd_debugger_data_block(void) { return 0; }
uint64_t world_debugger_data_list(void) { return 0; }
