/*
 * Local APIC in xAPIC (MMIO) mode: enable, timer calibration against the
 * same reference window as the TSC, one-shot timer, EOI.
 */
#include <asm/io.h>
#include <asm/lapic.h>
#include <asm/paging.h>
#include <asm/time.h>
#include <asm/traps.h>
#include <mica/lib.h>

enum {
    LAPIC_ID = 0x020,
    LAPIC_TPR = 0x080,
    LAPIC_EOI = 0x0b0,
    LAPIC_SVR = 0x0f0,
    LAPIC_LVT_TIMER = 0x320,
    LAPIC_TIMER_INITIAL = 0x380,
    LAPIC_TIMER_CURRENT = 0x390,
    LAPIC_TIMER_DIVIDE = 0x3e0,
};
#define SVR_ENABLE (1u << 8)
#define LVT_MASKED (1u << 16)
#define TIMER_DIVIDE_BY_16 0x3
#define APIC_BASE_ENABLE (1ULL << 11)
#define APIC_BASE_ADDR_MASK 0x000ffffffffff000ULL

static volatile u32 *lapic;
static u32 ticks_per_ms;

static u32 lapic_read(unsigned reg) { return lapic[reg / 4]; }
static void lapic_write(unsigned reg, u32 v) { lapic[reg / 4] = v; }

void pic_disable(void)
{
    /* Re-base both PICs above the exception vectors, then mask every line. */
    outb(0x20, 0x11); outb(0xa0, 0x11);
    outb(0x21, 0x20); outb(0xa1, 0x28);
    outb(0x21, 0x04); outb(0xa1, 0x02);
    outb(0x21, 0x01); outb(0xa1, 0x01);
    outb(0x21, 0xff); outb(0xa1, 0xff);
}

/*
 * The TSC (calibrated before) times the window: the midpoints of the TSC
 * around the start write and the final read, not the nominal window,
 * whose end the wait overshoots (by a lot on a busy emulator host).
 */
static u64 timer_tsc_start, timer_tsc_stop;
static void timer_start(void)
{
    u64 t0 = rdtsc();

    lapic_write(LAPIC_TIMER_INITIAL, 0xffffffffu);
    timer_tsc_start = t0 + (rdtsc() - t0) / 2;
}
static u32 timer_end;
static void timer_stop(void)
{
    u64 t0 = rdtsc();

    timer_end = lapic_read(LAPIC_TIMER_CURRENT);
    timer_tsc_stop = t0 + (rdtsc() - t0) / 2;
}

static volatile u64 timer_interrupts;

/* The scheduler will hang its work here; for now the count proves delivery. */
static void timer_interrupt(struct cpu_regs *regs)
{
    timer_interrupts++;
    lapic_eoi();
}

u64 lapic_timer_interrupts(void)
{
    return timer_interrupts;
}

void lapic_init(void)
{
    u64 base = rdmsr(MSR_APIC_BASE);
    const unsigned window_ms = 10;

    if (!(base & APIC_BASE_ENABLE))
        wrmsr(MSR_APIC_BASE, base | APIC_BASE_ENABLE);
    lapic = ioremap(base & APIC_BASE_ADDR_MASK, PAGE_SIZE);
    if (!lapic)
        panic("cannot map the local APIC at %#llx\n",
              (unsigned long long)(base & APIC_BASE_ADDR_MASK));

    lapic_write(LAPIC_SVR, SVR_ENABLE | SPURIOUS_VECTOR);
    lapic_write(LAPIC_TPR, 0);
    lapic_write(LAPIC_TIMER_DIVIDE, TIMER_DIVIDE_BY_16);
    lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | LAPIC_TIMER_VECTOR);

    time_calibrate_window(window_ms, timer_start, timer_stop);
    u64 window_ns = tsc_to_ns(timer_tsc_stop - timer_tsc_start);
    ticks_per_ms = window_ns ? (u32)((u64)(0xffffffffu - timer_end) * 1000000 / window_ns)
                             : (0xffffffffu - timer_end) / window_ms;
    lapic_write(LAPIC_TIMER_INITIAL, 0);
    if (ticks_per_ms == 0)
        panic("local APIC timer did not count during calibration\n");
    set_irq_handler(LAPIC_TIMER_VECTOR, timer_interrupt);
}

u32 lapic_id(void)
{
    return lapic_read(LAPIC_ID) >> 24;
}

void lapic_eoi(void)
{
    lapic_write(LAPIC_EOI, 0);
}

u32 lapic_timer_ticks_per_ms(void)
{
    return ticks_per_ms;
}

void lapic_timer_oneshot(u64 ns)
{
    u64 ticks = ns * ticks_per_ms / 1000000;

    if (ticks == 0)
        ticks = 1;
    if (ticks > 0xffffffffu)
        ticks = 0xffffffffu;
    lapic_write(LAPIC_LVT_TIMER, LAPIC_TIMER_VECTOR);   /* one-shot, unmasked */
    lapic_write(LAPIC_TIMER_INITIAL, (u32)ticks);
}
