/*
 * MICA_VMCTL_PROFILE=1 in the environment: `vmctl save` and `vmctl
 * restore` print where their wall time went, phase by phase, on stderr
 * (bench/save-restore's profiling, docs/benchmarks.md).  Off, each lap
 * costs one getenv-free test.  Header-only: one table per source file.
 */
#ifndef VMCTL_PROFILE_H
#define VMCTL_PROFILE_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PROF_MAX 16

struct prof {
    bool on;
    int n;
    double last, start;
    const char *name[PROF_MAX];
    double sec[PROF_MAX];
    unsigned long count[PROF_MAX];
};

static struct prof prof;

static inline double prof_clock(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static inline void prof_begin(void)
{
    const char *e = getenv("MICA_VMCTL_PROFILE");
    prof.on = e && *e && strcmp(e, "0") != 0;
    prof.n = 0;
    prof.start = prof.last = prof.on ? prof_clock() : 0;
}

/* The time since the last lap goes to phase NAME (a string literal). */
static inline void prof_lap(const char *name)
{
    if (!prof.on)
        return;
    double t = prof_clock();
    int i = 0;
    while (i < prof.n && strcmp(prof.name[i], name) != 0)
        i++;
    if (i == prof.n) {
        if (prof.n == PROF_MAX)
            i = PROF_MAX - 1;
        else
            prof.name[prof.n++] = name;
    }
    prof.sec[i] += t - prof.last;
    prof.count[i]++;
    prof.last = t;
}

static inline void prof_end(const char *what)
{
    if (!prof.on)
        return;
    prof_lap("rest");
    /* One write: another process's profile (a migration's receiver,
       through ssh) may share the terminal or pipe. */
    char line[2048];
    size_t len = 0;
    int k = snprintf(line, sizeof(line), "%s: profile: total %.3f s:", what,
                     prof.last - prof.start);
    for (int i = 0; k > 0 && i < prof.n; i++) {
        len += (size_t)k < sizeof(line) - len ? (size_t)k : sizeof(line) - len - 1;
        k = snprintf(line + len, sizeof(line) - len, " %s %.3f s (%lu)%s", prof.name[i],
                     prof.sec[i], prof.count[i], i + 1 < prof.n ? "," : "\n");
    }
    fputs(line, stderr);
    fflush(stderr);
}

#endif
