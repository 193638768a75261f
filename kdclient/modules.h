/*
 * modules.h - the engine's module list and symbol state (S2): which
 * modules the target has loaded (PsLoadedModuleList, load-symbol events,
 * the PEB loader list of a process) and their symbols, kept in the
 * session's sym_modset (symbols/symbols.h).
 *
 * Other areas use kd_modules_pdb (nt types and offsets for !process and the
 * stack walker) and kd_modules_load_user (K's `.process /r`); the engine
 * calls kd_modules_on_attach / kd_modules_on_event (session.h).
 */
#ifndef KDCLIENT_MODULES_H
#define KDCLIENT_MODULES_H

#include <stdint.h>
#include "session.h"

struct pdb;
struct sym_path;

/* The session's module set (kd_session_symbols), created on first use
 * with the symbol path and a reader through the current view. */
struct sym_modset *kd_modules_set(kd_session *s);

/* Target memory through the session's current view, in the shape of
 * symbols.h's pe_read_fn (ctx = the session). */
int kd_modules_read_cb(void *ctx, uint64_t addr, void *buf, size_t len, size_t *got);

/* The PDB of a module by WinDbg name ("nt", "testdrv"), loading it on
 * first use; NULL when the module is unknown or has no PDB. */
struct pdb *kd_modules_pdb(kd_session *s, const char *module);
/* Base address of a module by name; 0 if unknown. */
uint64_t kd_modules_base(kd_session *s, const char *module);

/* Replace the user-mode modules with the PEB loader list of the process
 * whose EPROCESS is at eprocess, read through the session's current view
 * (install the process view first).  0 or negative with kd_session_errmsg. */
int kd_modules_load_user(kd_session *s, uint64_t eprocess);

/* Re-read the kernel module list (PsLoadedModuleList); every module goes
 * back to deferred symbols, as `.reload` does.  Returns the module count
 * or negative with kd_session_errmsg. */
int kd_modules_reload(kd_session *s);

/* The symbol path in use (parsed from kd_session_sympath, then
 * _NT_SYMBOL_PATH); created on first use. */
struct sym_path *kd_modules_sympath(kd_session *s);
/* .sympath / .sympath+: 0 or negative with kd_session_errmsg. */
int kd_modules_set_sympath(kd_session *s, const char *text, int append);
/* !sym noisy / quiet */
void kd_modules_set_noisy(kd_session *s, int noisy);
int kd_modules_noisy(kd_session *s);

#endif
