/*
 * Sets of physical CPUs, one bit per CPU number below NR_CPUS.
 *
 * cpumask_set_cpu() and cpumask_clear_cpu() are atomic, so CPUs may add
 * and remove themselves from a shared mask (a domain's dirty-CPU set, a
 * TLB-flush target set) without a lock; the __ variants are for masks
 * only one CPU can see.  Whole-mask operations are not atomic.
 */
#ifndef MICA_CPUMASK_H
#define MICA_CPUMASK_H

#include <mica/smp.h>
#include <asm/atomic.h>

#define CPUMASK_WORDS ((NR_CPUS + 63) / 64)

typedef struct cpumask {
    u64 bits[CPUMASK_WORDS];
} cpumask_t;

static inline void cpumask_set_cpu(unsigned int cpu, cpumask_t *m) { set_bit64(cpu, m->bits); }
static inline void cpumask_clear_cpu(unsigned int cpu, cpumask_t *m) { clear_bit64(cpu, m->bits); }
static inline bool cpumask_test_cpu(unsigned int cpu, const cpumask_t *m) { return test_bit64(cpu, m->bits); }
static inline bool cpumask_test_and_set_cpu(unsigned int cpu, cpumask_t *m) { return test_and_set_bit64(cpu, m->bits); }
static inline bool cpumask_test_and_clear_cpu(unsigned int cpu, cpumask_t *m) { return test_and_clear_bit64(cpu, m->bits); }
static inline void __cpumask_set_cpu(unsigned int cpu, cpumask_t *m) { m->bits[cpu / 64] |= 1ULL << (cpu % 64); }
static inline void __cpumask_clear_cpu(unsigned int cpu, cpumask_t *m) { m->bits[cpu / 64] &= ~(1ULL << (cpu % 64)); }

static inline void cpumask_clear(cpumask_t *m)
{
    for (unsigned int i = 0; i < CPUMASK_WORDS; i++)
        m->bits[i] = 0;
}

static inline void cpumask_copy(cpumask_t *dst, const cpumask_t *src) { *dst = *src; }

static inline void cpumask_or(cpumask_t *dst, const cpumask_t *a, const cpumask_t *b)
{
    for (unsigned int i = 0; i < CPUMASK_WORDS; i++)
        dst->bits[i] = a->bits[i] | b->bits[i];
}

static inline void cpumask_and(cpumask_t *dst, const cpumask_t *a, const cpumask_t *b)
{
    for (unsigned int i = 0; i < CPUMASK_WORDS; i++)
        dst->bits[i] = a->bits[i] & b->bits[i];
}

/* dst = a without b's CPUs */
static inline void cpumask_andnot(cpumask_t *dst, const cpumask_t *a, const cpumask_t *b)
{
    for (unsigned int i = 0; i < CPUMASK_WORDS; i++)
        dst->bits[i] = a->bits[i] & ~b->bits[i];
}

static inline bool cpumask_empty(const cpumask_t *m)
{
    for (unsigned int i = 0; i < CPUMASK_WORDS; i++)
        if (m->bits[i])
            return false;
    return true;
}

static inline unsigned int cpumask_weight(const cpumask_t *m)
{
    unsigned int n = 0;

    for (unsigned int i = 0; i < CPUMASK_WORDS; i++)
        n += (unsigned int)__builtin_popcountll(m->bits[i]);
    return n;
}

/* Bits past NR_CPUS in the last word are never set; this keeps it so. */
#define MIN_CPU(c) ((c) < NR_CPUS ? (c) : NR_CPUS)

/* The first CPU in m at or after cpu, or NR_CPUS when there is none. */
static inline unsigned int cpumask_next_from(unsigned int cpu, const cpumask_t *m)
{
    while (cpu < NR_CPUS) {
        u64 w = m->bits[cpu / 64] >> (cpu % 64);
        if (w)
            return MIN_CPU(cpu + (unsigned int)__builtin_ctzll(w));
        cpu = (cpu / 64 + 1) * 64;
    }
    return NR_CPUS;
}
static inline unsigned int cpumask_first(const cpumask_t *m) { return cpumask_next_from(0, m); }
static inline unsigned int cpumask_next(unsigned int cpu, const cpumask_t *m) { return cpumask_next_from(cpu + 1, m); }

#define for_each_cpu(cpu, m) \
    for ((cpu) = cpumask_first(m); (cpu) < NR_CPUS; (cpu) = cpumask_next((cpu), (m)))

#endif
