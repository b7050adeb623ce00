/*
 * Boot command-line options.
 *
 * Each module declares the options it understands next to the variable
 * they set; the declarations are collected in one table (a linker
 * section) and cmdline_parse() walks the command line against it.
 * Spelling follows Xen where Xen has the option: `noreboot`,
 * `loglvl=info`, `com1=115200,8n1`, booleans accept `no-<name>`.
 */
#ifndef MICA_PARAM_H
#define MICA_PARAM_H

#include <mica/types.h>

enum param_kind {
    PARAM_BOOL,     /* bool: "name", "no-name", "name=yes|no|on|off|1|0|..." */
    PARAM_UINT,     /* unsigned of .size bytes, decimal or 0x hex */
    PARAM_SIZE,     /* u64 byte count with optional B/K/M/G/T suffix (K default none) */
    PARAM_STRING,   /* char[.size] */
    PARAM_CUSTOM,   /* .parse() decides */
};

#define PARAM_ERR_LEN 256

struct boot_param {
    const char *name;
    enum param_kind kind;
    void *var;
    size_t size;
    /* PARAM_CUSTOM: value is NULL when the option has no '='.  Returns 0;
     * < 0 with a sentence in err saying what is wrong, nothing taken; or
     * > 0 when part of the value was taken (spec-ctrl's items, as on
     * Xen), err then saying what was left out and what was taken. */
    int (*parse)(const char *value, char *err, size_t errlen);
};

#ifndef MICA_HOST_TEST
#define __boot_param __attribute__((used, section(".data.param"), aligned(8)))
#define DEFINE_PARAM(n, k, v, s, p) \
    static const struct boot_param __param_##v __boot_param = { n, k, &(v), s, p }
#define boolean_param(name, var) DEFINE_PARAM(name, PARAM_BOOL, var, sizeof(var), NULL)
#define integer_param(name, var) DEFINE_PARAM(name, PARAM_UINT, var, sizeof(var), NULL)
#define size_param(name, var)    DEFINE_PARAM(name, PARAM_SIZE, var, sizeof(var), NULL)
#define string_param(name, var)  DEFINE_PARAM(name, PARAM_STRING, var, sizeof(var), NULL)
#define custom_param(name, fn) \
    static const struct boot_param __param_##fn __boot_param = { name, PARAM_CUSTOM, NULL, 0, fn }
#else
/* Host unit tests: no command line; the option is only marked used. */
#define DEFINE_PARAM(n, k, v, s, p) \
    static const struct boot_param __param_##v __attribute__((unused)) = { n, k, &(v), s, p }
#define boolean_param(name, var) DEFINE_PARAM(name, PARAM_BOOL, var, sizeof(var), NULL)
#define integer_param(name, var) DEFINE_PARAM(name, PARAM_UINT, var, sizeof(var), NULL)
#define size_param(name, var)    DEFINE_PARAM(name, PARAM_SIZE, var, sizeof(var), NULL)
#define string_param(name, var)  DEFINE_PARAM(name, PARAM_STRING, var, sizeof(var), NULL)
#define custom_param(name, fn) \
    static const struct boot_param __param_##fn __attribute__((unused)) = \
        { name, PARAM_CUSTOM, NULL, 0, fn }
#endif

/*
 * Parses cmdline against params[0..n).  Unknown options get a warning,
 * malformed values an error naming the option and the expected form; the
 * option is then ignored (its setting stays as it was: the default, or
 * what an earlier occurrence set), unless a custom parser took part of
 * it and says so.  Returns the number of options that were unknown or
 * malformed.
 */
unsigned cmdline_parse(const char *cmdline, const struct boot_param *params, size_t n);

/* Helpers for custom parsers; each returns 0 on success. */
int parse_uint(const char *s, const char **end, u64 *out);
int parse_size(const char *s, u64 *out);
int parse_bool(const char *s, bool *out);

/* The hypervisor's own table, from the linker section. */
void cmdline_parse_builtin(const char *cmdline);

#ifndef MICA_HOST_TEST
/* Bounds of .data.param, which the linker script gathers. */
extern const struct boot_param __param_start[], __param_end[];
#endif

#endif
