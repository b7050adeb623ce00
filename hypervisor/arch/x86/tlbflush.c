/*
 * The TLB-flush clock and TLB shootdown (see asm/tlbflush.h).
 *
 * The clock is 32 bits and may wrap: a CPU whose last flush reads later
 * than the clock, or a stamp that does, dates from before the wrap and
 * counts as needing a flush (one extra flush, never a missed one).  It
 * skips 0, so 0 never names a flush.
 *
 * A flush ticks the clock before it loads CR3 and records the tick after
 * (as Xen's pre_flush/post_flush): a stamp taken between the two reads
 * the tick or later, so the flush does not count as after it.
 */
#include <asm/current.h>
#include <asm/io.h>
#include <asm/ipi.h>
#include <asm/smp.h>
#include <asm/tlbflush.h>
#include <mica/domain.h>
#include <mica/lib.h>
#include <mica/perfc.h>

/* The clock: atomic updates only. */
static u32 clock = 1;
/* Per CPU: the clock at its last full flush; written by that CPU only. */
static u32 last_flush[NR_CPUS];

u32 tlbflush_now(void)
{
    return __atomic_load_n(&clock, __ATOMIC_SEQ_CST);
}

u32 tlbflush_last(unsigned cpu)
{
    return __atomic_load_n(&last_flush[cpu], __ATOMIC_ACQUIRE);
}

static u32 clock_tick(void)
{
    u32 old = __atomic_load_n(&clock, __ATOMIC_RELAXED), t;

    do {
        t = old + 1;
        if (!t)
            t = 1;          /* wrapped: older stamps now read as later, hence flushed */
    } while (!__atomic_compare_exchange_n(&clock, &old, t, false, __ATOMIC_SEQ_CST,
                                          __ATOMIC_RELAXED));
    return t;
}

void switch_cr3(u64 cr3)
{
    u32 t = clock_tick();

    write_cr3(cr3);
    __atomic_store_n(&last_flush[smp_processor_id()], t, __ATOMIC_RELEASE);
}

void flush_tlb_local(void)
{
    perfc_inc(tlb_flush_full);
    switch_cr3(read_cr3());
}

/* Whether a CPU that last flushed at `flushed` may cache what was live at `stamp`. */
static bool may_cache(u32 flushed, u32 stamp)
{
    u32 now = tlbflush_now();

    return flushed > now || stamp > now || stamp >= flushed;
}

void tlbflush_filter(cpumask_t *mask, u32 stamp)
{
    unsigned cpu;

    for_each_cpu(cpu, mask)
        if (!may_cache(__atomic_load_n(&last_flush[cpu], __ATOMIC_ACQUIRE), stamp))
            __cpumask_clear_cpu(cpu, mask);
}

void tlbflush_before_retype(const struct domain *owner, u32 stamp)
{
    cpumask_t mask;

    cpumask_copy(&mask, owner ? &owner->arch.dirty_cpumask : &cpu_online_map);
    tlbflush_filter(&mask, stamp);
    if (!cpumask_empty(&mask))
        flush_tlb_mask(&mask);
}

static void flush_all_fn(void *arg)
{
    (void)arg;
    flush_tlb_local();
}

static void flush_one_fn(void *arg)
{
    perfc_inc(tlb_flush_one);
    flush_tlb_one_local(*(const u64 *)arg);
}

#ifdef CONFIG_PERF_COUNTERS
static void count_ipis(const cpumask_t *mask)
{
    unsigned cpu;

    for_each_cpu(cpu, mask)
        if (cpu != smp_processor_id() && cpumask_test_cpu(cpu, &cpu_online_map))
            perfc_inc(tlb_flush_ipi);
}
#else
static void count_ipis(const cpumask_t *mask) { (void)mask; }
#endif

void flush_tlb_mask(const cpumask_t *mask)
{
    count_ipis(mask);
    on_selected_cpus(mask, flush_all_fn, NULL);
}

void flush_tlb_one_mask(const cpumask_t *mask, u64 va)
{
    count_ipis(mask);
    on_selected_cpus(mask, flush_one_fn, &va);
}

void flush_tlb_domain(const struct domain *d)
{
    cpumask_t mask;

    /* Ordered after the caller's page-table writes: a CPU that loads d's
     * tables after this read sees them (arch_context_switch sets its bit
     * before its CR3 load). */
    perfc_inc(tlb_flush_domain);
    smp_mb();
    cpumask_copy(&mask, &d->arch.dirty_cpumask);
    if (!cpumask_empty(&mask))
        flush_tlb_mask(&mask);
}
