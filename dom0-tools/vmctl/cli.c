#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
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
        fprintf(out, "  %-16s %s\n", c->name, c->summary);
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

/* The flag arg names ("--name", "--name=V" or "-c"); NULL if none. */
static const struct cli_flag *find_flag(const struct cli_flag *flags, const char *arg)
{
    for (const struct cli_flag *f = flags; f && f->name; f++) {
        if (arg[1] == '-') {
            size_t len = strlen(f->name);
            if (strncmp(arg + 2, f->name, len) == 0 &&
                (arg[2 + len] == '\0' || arg[2 + len] == '='))
                return f;
        } else if (f->short_name && arg[1] == f->short_name && arg[2] == '\0') {
            return f;
        }
    }
    return NULL;
}

static enum cli_result parse(const struct vmctl_command *cmd, int argc, char **argv,
                            const struct cli_flag *flags, const char *const *names,
                            size_t n_names, const char **positional)
{
    bool options_done = false;
    size_t positionals = 0;
    for (size_t i = 0; i < n_names; i++)
        positional[i] = NULL;
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
            const struct cli_flag *f = find_flag(flags, arg);
            if (!f) {
                cli_usage_error(cmd, "unknown option '%s'", arg);
                return CLI_USAGE_ERROR;
            }
            const char *eq = arg[1] == '-' ? strchr(arg, '=') : NULL;
            if (!f->arg) {
                if (eq) {
                    cli_usage_error(cmd, "--%s takes no value", f->name);
                    return CLI_USAGE_ERROR;
                }
                *f->value = true;
            } else if (eq) {
                *f->arg = eq + 1;
            } else if (i + 1 < argc) {
                *f->arg = argv[++i];
            } else {
                cli_usage_error(cmd, "--%s needs a value", f->name);
                return CLI_USAGE_ERROR;
            }
            continue;
        }
        if (positionals >= n_names) {
            cli_usage_error(cmd, "unexpected argument '%s'", arg);
            return CLI_USAGE_ERROR;
        }
        positional[positionals++] = arg;
    }
    if (positionals < n_names) {
        cli_usage_error(cmd, "missing %s argument", names[positionals]);
        return CLI_USAGE_ERROR;
    }
    for (size_t i = 0; i < n_names; i++) {
        if (positional[i][0] == '\0') {
            cli_usage_error(cmd, "%s must not be empty", names[i]);
            return CLI_USAGE_ERROR;
        }
    }
    return CLI_OK;
}

enum cli_result cli_parse(const struct vmctl_command *cmd, int argc, char **argv,
                          const struct cli_flag *flags, const char *positional_name,
                          const char **positional)
{
    const char *one[1];
    enum cli_result r = parse(cmd, argc, argv, flags, &positional_name,
                              positional_name ? 1 : 0, one);
    if (positional)
        *positional = positional_name ? one[0] : NULL;
    return r;
}

bool cli_begin_args(const struct vmctl_command *cmd, int argc, char **argv,
                    const struct cli_flag *flags, const char *const *names, size_t n_names,
                    const char **positional, int *status)
{
    enum cli_result r = parse(cmd, argc, argv, flags, names, n_names, positional);
    *status = r == CLI_USAGE_ERROR ? VMCTL_EXIT_USAGE : VMCTL_EXIT_OK;
    return r == CLI_OK;
}

bool cli_begin(const struct vmctl_command *cmd, int argc, char **argv,
               const struct cli_flag *flags, const char *positional_name,
               const char **positional, int *status)
{
    enum cli_result r = cli_parse(cmd, argc, argv, flags, positional_name, positional);
    *status = r == CLI_USAGE_ERROR ? VMCTL_EXIT_USAGE : VMCTL_EXIT_OK;
    return r == CLI_OK;
}

bool cli_number(const struct vmctl_command *cmd, const char *option, const char *text,
                unsigned long min, unsigned long max, unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(text, &end, 10);
    /* strtoul takes "-1" and " 5"; a count given that way is a mistake. */
    if (text[0] < '0' || text[0] > '9' || *end || errno || v < min || v > max) {
        cli_usage_error(cmd, "--%s wants a whole number from %lu to %lu, not '%s'", option,
                        min, max, text);
        return false;
    }
    *out = v;
    return true;
}
