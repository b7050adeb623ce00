#include "cpuset.h"

#include <stdio.h>
#include <string.h>

bool domcfg_cpuset_test(const struct domcfg_cpuset *s, unsigned cpu)
{
    return cpu < DOMCFG_CPUS_MAX && (s->bits[cpu / 64] >> (cpu % 64)) & 1;
}

void domcfg_cpuset_set(struct domcfg_cpuset *s, unsigned cpu)
{
    if (cpu < DOMCFG_CPUS_MAX)
        s->bits[cpu / 64] |= 1ULL << (cpu % 64);
}

static void clear_cpu(struct domcfg_cpuset *s, unsigned cpu)
{
    if (cpu < DOMCFG_CPUS_MAX)
        s->bits[cpu / 64] &= ~(1ULL << (cpu % 64));
}

bool domcfg_cpuset_empty(const struct domcfg_cpuset *s)
{
    for (size_t i = 0; i < DOMCFG_CPUS_MAX / 64; i++)
        if (s->bits[i])
            return false;
    return true;
}

int domcfg_cpuset_last(const struct domcfg_cpuset *s)
{
    for (int cpu = DOMCFG_CPUS_MAX - 1; cpu >= 0; cpu--)
        if (domcfg_cpuset_test(s, (unsigned)cpu))
            return cpu;
    return -1;
}

/* A CPU number at *p: digits only, below DOMCFG_CPUS_MAX. */
static int cpu_number(const char **p, unsigned *out, const char *text, char *err, size_t len)
{
    const char *s = *p;
    unsigned long v = 0;

    if (*s < '0' || *s > '9') {
        snprintf(err, len, "'%s': expected a CPU number %s%s%s; write CPUs as in '0-3,^2' "
                 "(numbers, ranges a-b, exclusions ^n, separated by commas, no blanks)",
                 text, *s ? "at '" : "at the end", *s ? s : "", *s ? "'" : "");
        return -1;
    }
    while (*s >= '0' && *s <= '9') {
        v = v * 10 + (unsigned long)(*s - '0');
        if (v >= DOMCFG_CPUS_MAX) {
            snprintf(err, len, "'%s': CPU numbers go up to %d", text, DOMCFG_CPUS_MAX - 1);
            return -1;
        }
        s++;
    }
    *p = s;
    *out = (unsigned)v;
    return 0;
}

int domcfg_cpuset_parse(const char *text, bool allow_all, struct domcfg_cpuset *out,
                        bool *is_all, char *err, size_t err_len)
{
    const char *p = text;

    memset(out, 0, sizeof(*out));
    if (is_all)
        *is_all = false;
    if (allow_all && strcmp(text, "all") == 0) {
        for (unsigned cpu = 0; cpu < DOMCFG_CPUS_MAX; cpu++)
            domcfg_cpuset_set(out, cpu);
        if (is_all)
            *is_all = true;
        return 0;
    }
    if (!*text) {
        snprintf(err, err_len, "the CPU list is empty; name CPUs as in '0-3,^2'%s",
                 allow_all ? " or 'all'" : "");
        return -1;
    }
    for (;;) {
        bool exclude = *p == '^';
        unsigned first, last;

        if (exclude)
            p++;
        if (cpu_number(&p, &first, text, err, err_len))
            return -1;
        last = first;
        if (*p == '-') {
            p++;
            if (cpu_number(&p, &last, text, err, err_len))
                return -1;
            if (last < first) {
                snprintf(err, err_len, "'%s': the range %u-%u runs backwards; write %u-%u",
                         text, first, last, last, first);
                return -1;
            }
        }
        for (unsigned cpu = first; cpu <= last; cpu++) {
            if (exclude)
                clear_cpu(out, cpu);
            else
                domcfg_cpuset_set(out, cpu);
        }
        if (!*p)
            break;
        if (*p != ',') {
            snprintf(err, err_len, "'%s': unexpected '%c'; write CPUs as in '0-3,^2' (numbers, "
                     "ranges a-b, exclusions ^n, separated by commas, no blanks)", text, *p);
            return -1;
        }
        p++;
    }
    if (domcfg_cpuset_empty(out)) {
        snprintf(err, err_len, "'%s' selects no CPU (an empty affinity: the vCPU could run "
                 "nowhere); name at least one CPU", text);
        return -1;
    }
    return 0;
}

void domcfg_cpuset_format(const struct domcfg_cpuset *s, unsigned nr, char *out, size_t len)
{
    size_t used = 0;
    bool any = false, all = nr > 0;

    if (nr > DOMCFG_CPUS_MAX)
        nr = DOMCFG_CPUS_MAX;
    for (unsigned cpu = 0; cpu < nr; cpu++)
        if (!domcfg_cpuset_test(s, cpu))
            all = false;
    if (len == 0)
        return;
    out[0] = '\0';
    if (all) {
        snprintf(out, len, "all");
        return;
    }
    for (unsigned cpu = 0; cpu < nr; cpu++) {
        if (!domcfg_cpuset_test(s, cpu))
            continue;
        unsigned last = cpu;
        while (last + 1 < nr && domcfg_cpuset_test(s, last + 1))
            last++;
        int n = last > cpu ? snprintf(out + used, len - used, "%s%u-%u", any ? "," : "", cpu, last)
                           : snprintf(out + used, len - used, "%s%u", any ? "," : "", cpu);
        if (n < 0 || (size_t)n >= len - used) {
            out[used] = '\0';
            return;
        }
        used += (size_t)n;
        any = true;
        cpu = last;
    }
    if (!any)
        snprintf(out, len, "none");
}

void domcfg_cpuset_to_bytes(const struct domcfg_cpuset *s, uint8_t *bytes, size_t nbytes)
{
    memset(bytes, 0, nbytes);
    for (size_t cpu = 0; cpu < nbytes * 8 && cpu < DOMCFG_CPUS_MAX; cpu++)
        if (domcfg_cpuset_test(s, (unsigned)cpu))
            bytes[cpu / 8] |= (uint8_t)(1u << (cpu % 8));
}

void domcfg_cpuset_from_bytes(struct domcfg_cpuset *s, const uint8_t *bytes, size_t nbytes)
{
    memset(s, 0, sizeof(*s));
    for (size_t cpu = 0; cpu < nbytes * 8 && cpu < DOMCFG_CPUS_MAX; cpu++)
        if (bytes[cpu / 8] & (1u << (cpu % 8)))
            domcfg_cpuset_set(s, (unsigned)cpu);
}
