/*
 * The per-domain monitor: a small process `vmctl create` / `vmctl start`
 * leaves behind for each domain it starts, which carries out the
 * definition's on_poweroff / on_reboot / on_crash when the domain shuts
 * down (destroy, restart = destroy and create again from the same
 * definition, preserve = leave it shut down) and ends when the domain is
 * gone.  Why a process per domain and not a daemon: docs/vmctl.md.
 */
#ifndef VMCTL_MONITOR_H
#define VMCTL_MONITOR_H

#include <stdint.h>

#include "cli.h"
#include "domcfg.h"

/* Is each of cfg's actions one the monitor carries out?  If not, says
   which (as "FILE: ...") and returns VMCTL_EXIT_INVALID; else VMCTL_EXIT_OK. */
int monitor_check_actions(const struct vmctl_command *cmd, const char *file,
                          const struct domain_config *cfg);

/* Starts the monitor of domain domid (built from cfg) in the background,
   detached from this terminal and process group; its log goes to
   $MICA_LOG_DIR/NAME.monitor.log (default /var/log/mica).  0, or -1 with a
   warning printed (the domain runs on, but nobody acts on its shutdown). */
int monitor_spawn(const struct vmctl_command *cmd, const struct domain_config *cfg,
                  uint32_t domid);

/* A running `vmctl save` marks its domain: /run/mica/saving/DOMID, locked
   (flock) for as long as the save runs and naming the file it writes.
   When the monitor finds its domain suspended, the mark there and the
   lock free, the save died without cleaning up (SIGKILL, e.g. the OOM
   killer): it resumes the guest as a cancelled suspend, removes the
   partial FILE.tmp-* and the mark.  A suspend without a mark (xl save,
   vmctl migrate) is left alone.  save_mark returns the locked descriptor
   (-1 when the mark could not be made: the save goes on without it);
   save_unmark removes the mark and closes it. */
int monitor_save_mark(uint32_t domid, const char *file);
void monitor_save_unmark(uint32_t domid, int fd);

#endif
