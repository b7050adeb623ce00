/*
 * Sets of physical CPU numbers, written as libvirt's cpuset and xl's
 * cpulist: comma-separated items, each a CPU "3", a range "0-2", or an
 * exclusion "^1" / "^4-5" that takes CPUs out of what the items before it
 * put in ("0-3,^1" is 0, 2, 3).  "all" (every CPU) is xl's and accepted
 * only where the caller allows it (vmctl vcpu-pin; not in the XML, as in
 * libvirt).  No blanks.  Used by <vcpu cpuset>, <vcpupin cpuset> and
 * vmctl vcpu-pin, and to print masks as xl vcpu-list does.
 */
#ifndef MICA_DOMCFG_CPUSET_H
#define MICA_DOMCFG_CPUSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* CPU numbers 0 .. DOMCFG_CPUS_MAX - 1 (Xen's NR_CPUS tops out at 4095). */
#define DOMCFG_CPUS_MAX 4096

struct domcfg_cpuset {
    uint64_t bits[DOMCFG_CPUS_MAX / 64];
};

/* 0, or -1 with a sentence in err saying what is wrong ("'0-x': ...").
   An empty result is an error too ("selects no CPU").  With allow_all,
   "all" means CPUs 0 .. DOMCFG_CPUS_MAX - 1; *is_all (may be NULL) says so. */
int domcfg_cpuset_parse(const char *text, bool allow_all, struct domcfg_cpuset *out,
                        bool *is_all, char *err, size_t err_len);

bool domcfg_cpuset_test(const struct domcfg_cpuset *s, unsigned cpu);
void domcfg_cpuset_set(struct domcfg_cpuset *s, unsigned cpu);
bool domcfg_cpuset_empty(const struct domcfg_cpuset *s);
/* The highest CPU in the set, or -1 when empty. */
int domcfg_cpuset_last(const struct domcfg_cpuset *s);

/* As xl prints a mask over CPUs 0 .. nr - 1: "all" when every one is in
   it, "none" when none is, else ranges "0-2,5".  CPUs >= nr are left out. */
void domcfg_cpuset_format(const struct domcfg_cpuset *s, unsigned nr, char *out, size_t len);

/* Xen's byte bitmaps (bit n of byte n / 8 is CPU n), nbytes long. */
void domcfg_cpuset_to_bytes(const struct domcfg_cpuset *s, uint8_t *bytes, size_t nbytes);
void domcfg_cpuset_from_bytes(struct domcfg_cpuset *s, const uint8_t *bytes, size_t nbytes);

#endif
