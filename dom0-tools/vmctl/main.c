/*
 * vmctl: the Mica toolstack's command line.  This file only dispatches;
 * each command lives in cmd_*.c and the table in commands.c.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "exitcodes.h"

static int help_command(int argc, char **argv)
{
    if (argc < 3) {
        vmctl_print_overview(stdout);
        return VMCTL_EXIT_OK;
    }
    if (argc > 3) {
        fprintf(stderr, "vmctl help: give one command name\nUsage: vmctl help [COMMAND]\n");
        return VMCTL_EXIT_USAGE;
    }
    const struct vmctl_command *cmd = vmctl_find_command(argv[2]);
    if (!cmd) {
        fprintf(stderr, "vmctl help: unknown command '%s'; 'vmctl help' lists them\n", argv[2]);
        return VMCTL_EXIT_USAGE;
    }
    vmctl_print_help(cmd, stdout);
    return VMCTL_EXIT_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        vmctl_print_overview(stderr);
        return VMCTL_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "help") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0)
        return help_command(argc, argv);
    const struct vmctl_command *cmd = vmctl_find_command(name);
    if (!cmd) {
        fprintf(stderr, "vmctl: unknown command '%s'; 'vmctl help' lists the commands\n", name);
        return VMCTL_EXIT_USAGE;
    }
    int rc = cmd->run(cmd, argc - 1, argv + 1);
    /* Output that cannot be written (a full disk, a closed pipe) must not
       pass for success. */
    if (fflush(stdout) != 0 && rc == VMCTL_EXIT_OK) {
        fprintf(stderr, "vmctl %s: cannot write the output\n", cmd->name);
        rc = VMCTL_EXIT_FAILURE;
    }
    return rc;
}
