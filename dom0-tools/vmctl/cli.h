/*
 * Command table and the argument conventions every vmctl command shares:
 * long options only, --help/-h anywhere, "--" ends options, usage errors
 * on stderr with exit status 2.
 */
#ifndef VMCTL_CLI_H
#define VMCTL_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct vmctl_command {
    const char *name;
    const char *args;      /* e.g. "[--all] [--inactive] [--json]" */
    const char *summary;   /* one line for the command list */
    const char *help;      /* the rest of "vmctl help CMD" */
    int (*run)(const struct vmctl_command *cmd, int argc, char **argv);
};

extern const struct vmctl_command vmctl_commands[];
const struct vmctl_command *vmctl_find_command(const char *name);

void vmctl_print_overview(FILE *out);
void vmctl_print_help(const struct vmctl_command *cmd, FILE *out);

struct cli_flag {
    const char *name;      /* without the leading "--" */
    bool *value;           /* an on/off flag: set true when given */
    const char **arg;      /* instead, an option with a value: "--name V" or
                              "--name=V"; the last one given wins */
    char short_name;       /* also "-c" for this flag; 0 for none */
};

enum cli_result { CLI_OK, CLI_HELP_SHOWN, CLI_USAGE_ERROR };

/*
 * Parses argv[1..] of a command: the flags listed (array ended by an
 * entry with a NULL name), and exactly one positional argument when
 * positional_name is not NULL (none otherwise).  On CLI_USAGE_ERROR the
 * message has been printed.
 */
enum cli_result cli_parse(const struct vmctl_command *cmd, int argc, char **argv,
                          const struct cli_flag *flags, const char *positional_name,
                          const char **positional);

/*
 * Every command's first step: cli_parse(), folded into "go on" (true) or
 * "stop now and return *status" (false: 0 after --help, 2 after a usage
 * error that has been printed).
 */
bool cli_begin(const struct vmctl_command *cmd, int argc, char **argv,
               const struct cli_flag *flags, const char *positional_name,
               const char **positional, int *status);

/* The same with exactly n_names positional arguments, in order. */
bool cli_begin_args(const struct vmctl_command *cmd, int argc, char **argv,
                    const struct cli_flag *flags, const char *const *names, size_t n_names,
                    const char **positional, int *status);

/* An option's value as a whole number in [min, max]; false (usage error
   printed) otherwise. */
bool cli_number(const struct vmctl_command *cmd, const char *option, const char *text,
                unsigned long min, unsigned long max, unsigned long *out);

/* Prints "vmctl CMD: message" plus the usage lines; returns exit status 2. */
__attribute__((format(printf, 2, 3)))
int cli_usage_error(const struct vmctl_command *cmd, const char *fmt, ...);

/* Prints "vmctl CMD: message" on stderr and returns code. */
__attribute__((format(printf, 3, 4)))
int cli_fail(const struct vmctl_command *cmd, int code, const char *fmt, ...);

/* Prints "vmctl CMD: warning: message" on stderr. */
__attribute__((format(printf, 2, 3)))
void cli_warn(const struct vmctl_command *cmd, const char *fmt, ...);

#endif
