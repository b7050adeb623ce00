/*
 * Performance counters (mica/perfc.h), compiled in with
 * CONFIG_PERF_COUNTERS.  Each CPU adds to its own copy without a lock;
 * a dump sums the copies and prints what changed since the previous dump
 * (a running CPU may be mid-update: the numbers are approximate by a
 * count or two, which is all they are for).  Only one dump at a time: a
 * second one asked for meanwhile is skipped.  With `perfc=N` on the
 * command line CPU 0 also dumps every N seconds (perfc_tick()), which
 * splits a long benchmark into windows.
 */
#include <asm/io.h>
#include <asm/smp.h>
#include <asm/time.h>
#include <mica/cpumask.h>
#include <mica/lib.h>
#include <mica/param.h>
#include <mica/percpu.h>
#include <mica/perfc.h>
#include <mica/smp.h>

#ifdef CONFIG_PERF_COUNTERS

static DEFINE_PER_CPU(u64[PERFC_NR], perfc_counts);

/* The sums printed last time; only the dumping CPU (dumping held) touches them. */
static u64 last_sum[PERFC_NR];
static u64 last_tsc, last_ns;
static bool dumping;

/* perfc=N: a dump every N seconds (0: none). */
static unsigned interval_s;
integer_param("perfc", interval_s);
static u64 next_ns;             /* CPU 0 only */

static const struct {
    const char *name;
    unsigned first, slots;
} counters[] = {
#define PERFC_NAME(n, s) { #n, PERFC_##n, (s) },
    PERFC_LIST(PERFC_NAME)
#undef PERFC_NAME
};

void perfc_add_id(unsigned id, u64 n)
{
    this_cpu(perfc_counts)[id] += n;
}

u64 perfc_read_id(unsigned id)
{
    return this_cpu(perfc_counts)[id];
}

u64 perfc_cycles(void)
{
    return rdtsc();
}

void perfc_dump(const char *why)
{
    static u64 sum[PERFC_NR];
    unsigned cpu;
    u64 now = rdtsc(), ns = now_ns();

    if (__atomic_exchange_n(&dumping, true, __ATOMIC_ACQUIRE))
        return;
    memset(sum, 0, sizeof(sum));
    for_each_cpu(cpu, &cpu_online_map)
        for (unsigned i = 0; i < PERFC_NR; i++)
            sum[i] += per_cpu(perfc_counts, cpu)[i];
    printk("perfc: --- %s: %llu TSC cycles since the last dump (%llu ns) ---\n", why,
           (unsigned long long)(now - last_tsc), (unsigned long long)(ns - last_ns));
    for (unsigned c = 0; c < ARRAY_SIZE(counters); c++)
        for (unsigned s = 0; s < counters[c].slots; s++) {
            unsigned i = counters[c].first + s;
            u64 d = sum[i] - last_sum[i];
            if (!d)
                continue;
            if (counters[c].slots == 1)
                printk("perfc: %s %llu\n", counters[c].name, (unsigned long long)d);
            else
                printk("perfc: %s[%u] %llu\n", counters[c].name, s, (unsigned long long)d);
        }
    printk("perfc: --- end ---\n");
    memcpy(last_sum, sum, sizeof(sum));
    last_tsc = now;
    last_ns = ns;
    __atomic_store_n(&dumping, false, __ATOMIC_RELEASE);
}

void perfc_tick(u64 now)
{
    if (!interval_s || smp_processor_id() != 0)
        return;
    if (!next_ns)
        next_ns = now + (u64)interval_s * 1000000000ULL;
    if (now < next_ns)
        return;
    next_ns = now + (u64)interval_s * 1000000000ULL;
    perfc_dump("interval");
}

#endif
