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

#endif
