/* The command implementations the table in commands.c points at. */
#ifndef VMCTL_COMMANDS_H
#define VMCTL_COMMANDS_H

#include <stdbool.h>
#include <stdint.h>

#include "cli.h"

int cmd_validate(const struct vmctl_command *cmd, int argc, char **argv);
int cmd_define(const struct vmctl_command *cmd, int argc, char **argv);
int cmd_undefine(const struct vmctl_command *cmd, int argc, char **argv);
/* vmctl undefine and a domain's snapshot directory (cmd_snapshot.c), as
   virsh undefine: a domain with snapshots is refused unless drop_metadata
   (--snapshots-metadata).  begin locks the directory (*lock_fd, -1 when
   there is none); finish, after the definition is removed (undefined),
   removes the directory, and unlocks.  vmctl exit statuses. */
struct store;
int snapshots_undefine_begin(const struct vmctl_command *cmd, const struct store *store,
                             const char *domain, bool drop_metadata, int *lock_fd);
int snapshots_undefine_finish(const struct vmctl_command *cmd, const struct store *store,
                              const char *domain, int lock_fd, bool undefined);
int cmd_dumpxml(const struct vmctl_command *cmd, int argc, char **argv);
int cmd_list(const struct vmctl_command *cmd, int argc, char **argv);
int cmd_info(const struct vmctl_command *cmd, int argc, char **argv);
/* What running domains use (cmd_stats.c). */
int cmd_domstats(const struct vmctl_command *cmd, int argc, char **argv);
int cmd_hostinfo(const struct vmctl_command *cmd, int argc, char **argv);
int cmd_create(const struct vmctl_command *cmd, int argc, char **argv);
int cmd_start(const struct vmctl_command *cmd, int argc, char **argv);
int cmd_autostart(const struct vmctl_command *cmd, int argc, char **argv);
int cmd_start_autostart(const struct vmctl_command *cmd, int argc, char **argv);
/* shutdown and reboot: one function, the command's name says which. */
int cmd_shutdown(const struct vmctl_command *cmd, int argc, char **argv);
int cmd_sched(const struct vmctl_command *cmd, int argc, char **argv);
/* destroy, pause, unpause and console: one function,
   the command's name says which. */
int cmd_domain_op(const struct vmctl_command *cmd, int argc, char **argv);
/* Hot-plug on a running domain (cmd_devices.c). */
int cmd_attach_disk(const struct vmctl_command *cmd, int argc, char **argv);
int cmd_detach_disk(const struct vmctl_command *cmd, int argc, char **argv);
int cmd_attach_interface(const struct vmctl_command *cmd, int argc, char **argv);
int cmd_detach_interface(const struct vmctl_command *cmd, int argc, char **argv);

/* vcpu-list, vcpu-pin (cmd_vcpu.c). */
int cmd_vcpu_list(const struct vmctl_command *cmd, int argc, char **argv);
int cmd_vcpu_pin(const struct vmctl_command *cmd, int argc, char **argv);

/* setmem and setmaxmem (one function, the command's name says which),
   setvcpus (cmd_resize.c). */
int cmd_setmem(const struct vmctl_command *cmd, int argc, char **argv);
int cmd_setvcpus(const struct vmctl_command *cmd, int argc, char **argv);

int cmd_save(const struct vmctl_command *cmd, int argc, char **argv);
int cmd_restore(const struct vmctl_command *cmd, int argc, char **argv);
int cmd_migrate(const struct vmctl_command *cmd, int argc, char **argv);
int cmd_migrate_receive(const struct vmctl_command *cmd, int argc, char **argv);
int cmd_evacuate(const struct vmctl_command *cmd, int argc, char **argv);

/* backup, backup-verify, backup-restore (cmd_backup.c, docs/backups.md). */
int cmd_backup(const struct vmctl_command *cmd, int argc, char **argv);
int cmd_backup_verify(const struct vmctl_command *cmd, int argc, char **argv);
int cmd_backup_restore(const struct vmctl_command *cmd, int argc, char **argv);
/* Snapshots and clones (cmd_snapshot.c, cmd_clone.c; docs/snapshots.md). */
int cmd_snapshot_create(const struct vmctl_command *cmd, int argc, char **argv);
int cmd_snapshot_list(const struct vmctl_command *cmd, int argc, char **argv);
int cmd_snapshot_revert(const struct vmctl_command *cmd, int argc, char **argv);
int cmd_snapshot_delete(const struct vmctl_command *cmd, int argc, char **argv);
int cmd_snapshot_dumpxml(const struct vmctl_command *cmd, int argc, char **argv);
int cmd_clone(const struct vmctl_command *cmd, int argc, char **argv);

#endif
