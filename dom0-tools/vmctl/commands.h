/* The command implementations the table in commands.c points at. */
#ifndef VMCTL_COMMANDS_H
#define VMCTL_COMMANDS_H

#include <stdint.h>

#include "cli.h"

int cmd_validate(const struct vmctl_command *cmd, int argc, char **argv);
int cmd_define(const struct vmctl_command *cmd, int argc, char **argv);
int cmd_undefine(const struct vmctl_command *cmd, int argc, char **argv);
int cmd_dumpxml(const struct vmctl_command *cmd, int argc, char **argv);
int cmd_list(const struct vmctl_command *cmd, int argc, char **argv);
int cmd_info(const struct vmctl_command *cmd, int argc, char **argv);
int cmd_hostinfo(const struct vmctl_command *cmd, int argc, char **argv);
int cmd_create(const struct vmctl_command *cmd, int argc, char **argv);
int cmd_start(const struct vmctl_command *cmd, int argc, char **argv);
/* shutdown and reboot: one function, the command's name says which. */
int cmd_shutdown(const struct vmctl_command *cmd, int argc, char **argv);
int cmd_sched(const struct vmctl_command *cmd, int argc, char **argv);
/* destroy, pause, unpause and console: one function,
   the command's name says which. */
int cmd_domain_op(const struct vmctl_command *cmd, int argc, char **argv);

int cmd_save(const struct vmctl_command *cmd, int argc, char **argv);
int cmd_restore(const struct vmctl_command *cmd, int argc, char **argv);

struct hv;
/* Connects and finds the running domain NAME (or numeric ID):
   VMCTL_EXIT_OK with *hv open, else the exit status (message printed). */
int connect_running(const struct vmctl_command *cmd, const char *wanted, struct hv **hv,
                    uint32_t *domid);

#endif
