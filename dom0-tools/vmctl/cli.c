#include "cli.h"

#include <stdarg.h>
#include <string.h>

#include "exitcodes.h"

const struct vmctl_command *vmctl_find_command(const char *name)
{
    for (const struct vmctl_command *c = vmctl_commands; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

void vmctl_print_overview(FILE *out)
{
    fprintf(out,
            "Usage: vmctl COMMAND [ARGS]\n"
            "Manage Mica domains from dom0.\n\n"
            "Commands:\n");
    for (const struct vmctl_command *c = vmctl_commands; c->name; c++)
        fprintf(out, "  %-10s %s\n", c->name, c->summary);
    fprintf(out,
            "\n'vmctl help COMMAND' or 'vmctl COMMAND --help' describes one command.\n"
            "Exit status: 0 ok, 1 failed, 2 usage error, 3 invalid definition,\n"
            "4 no such domain, 5 hypervisor unreachable, 6 domain already exists.\n"
            "Definitions are stored in $MICA_STATE_DIR (default /var/lib/mica).\n");
}

void vmctl_print_help(const struct vmctl_command *cmd, FILE *out)
{
    fprintf(out, "Usage: vmctl %s%s%s\n%s.\n\n%s", cmd->name, cmd->args[0] ? " " : "",
            cmd->args, cmd->summary, cmd->help);
}

int cli_usage_error(const struct vmctl_command *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "vmctl %s: ", cmd->name);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nUsage: vmctl %s%s%s\nTry 'vmctl help %s' for more.\n", cmd->name,
            cmd->args[0] ? " " : "", cmd->args, cmd->name);
    return VMCTL_EXIT_USAGE;
}

int cli_fail(const struct vmctl_command *cmd, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "vmctl %s: ", cmd->name);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return code;
}

void cli_warn(const struct vmctl_command *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "vmctl %s: warning: ", cmd->name);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

enum cli_result cli_parse(const struct vmctl_command *cmd, int argc, char **argv,
                          const struct cli_flag *flags, const char *positional_name,
                          const char **positional)
{
    bool options_done = false;
    int positionals = 0;
    if (positional)
        *positional = NULL;
    /* --help wins wherever it is, so that "vmctl define --help" never
       defines anything. */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            vmctl_print_help(cmd, stdout);
            return CLI_HELP_SHOWN;
        }
    }
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!options_done && strcmp(arg, "--") == 0) {
            options_done = true;
            continue;
        }
        if (!options_done && arg[0] == '-' && arg[1] != '\0') {
            bool known = false;
            for (const struct cli_flag *f = flags; f && f->name; f++) {
                if (arg[1] == '-' && strcmp(arg + 2, f->name) == 0) {
                    *f->value = true;
                    known = true;
                }
            }
            if (!known) {
                cli_usage_error(cmd, "unknown option '%s'", arg);
                return CLI_USAGE_ERROR;
            }
            continue;
        }
        if (!positional_name || positionals >= 1) {
            cli_usage_error(cmd, "unexpected argument '%s'", arg);
            return CLI_USAGE_ERROR;
        }
        *positional = arg;
        positionals++;
    }
    if (positional_name && positionals == 0) {
        cli_usage_error(cmd, "missing %s argument", positional_name);
        return CLI_USAGE_ERROR;
    }
    if (positional_name && (*positional)[0] == '\0') {
        cli_usage_error(cmd, "%s must not be empty", positional_name);
        return CLI_USAGE_ERROR;
    }
    return CLI_OK;
}
