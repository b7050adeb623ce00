/*
 * The TLB-flush clock (see asm/tlbflush.h).
 *
 * The clock is 32 bits and may wrap: a CPU whose last flush reads later
 * than the clock, or a stamp that does, dates from before the wrap and
 * counts as needing a flush (one extra flush, never a missed one).
 */
#include <asm/current.h>
#include <asm/io.h>
#include <asm/tlbflush.h>

#define MAX_FLUSH_CPUS 64

/* Guarded by: one CPU runs Mica's MM code today (atomic increments with several). */
static u32 clock = 1;
/* Per CPU: the clock at its last flush_tlb_local(); written by that CPU only. */
static u32 last_flush[MAX_FLUSH_CPUS];

u32 tlbflush_now(void)
{
    return clock;
}

static unsigned this_cpu(void)
{
    return (unsigned)get_cpu_info()->processor_id % MAX_FLUSH_CPUS;
}

void flush_tlb_local(void)
{
    u32 t = ++clock;

    if (!t)
        t = clock = 1;      /* wrapped: older stamps now read as later, hence flushed */
    write_cr3(read_cr3());
    last_flush[this_cpu()] = t;
}

/* Whether a CPU that last flushed at `flushed` may cache what was live at `stamp`. */
static bool may_cache(u32 flushed, u32 stamp)
{
    u32 now = clock;

    return flushed > now || stamp > now || stamp >= flushed;
}

void tlbflush_before_retype(u32 stamp)
{
    if (may_cache(last_flush[this_cpu()], stamp))
        flush_tlb_local();
}
