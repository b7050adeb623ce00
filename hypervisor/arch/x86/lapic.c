/*
 * Local APIC in xAPIC (MMIO) mode: enable, timer calibration against the
 * same reference window as the TSC, one-shot timer, EOI, and the
 * interrupt command register for INIT/startup IPIs.  Every CPU's LAPIC
 * sits at the same physical address, so one mapping serves them all;
 * the timer is calibrated once, on the boot CPU, and secondary CPUs use
 * the same rate (their LAPIC timers run off the same bus clock).
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
    LAPIC_ICR_LOW = 0x300,
    LAPIC_ICR_HIGH = 0x310,
    LAPIC_LVT_TIMER = 0x320,
    LAPIC_LVT_LINT1 = 0x360,
    LAPIC_TIMER_INITIAL = 0x380,
    LAPIC_TIMER_CURRENT = 0x390,
    LAPIC_TIMER_DIVIDE = 0x3e0,
};
#define SVR_ENABLE (1u << 8)
#define LVT_MASKED (1u << 16)
#define TIMER_DIVIDE_BY_16 0x3
#define ICR_DELIVERY_PENDING (1u << 12)
#define ICR_LEVEL_ASSERT (1u << 14)
#define ICR_TRIGGER_LEVEL (1u << 15)
#define ICR_MODE_INIT (5u << 8)
#define ICR_MODE_STARTUP (6u << 8)
#define ICR_MODE_NMI (4u << 8)
#define ICR_DEST_SELF (1u << 18)
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
    __atomic_fetch_add(&timer_interrupts, 1, __ATOMIC_RELAXED);
    lapic_eoi();
}

u64 lapic_timer_interrupts(void)
{
    return timer_interrupts;
}

void lapic_enable_this_cpu(void)
{
    u64 base = rdmsr(MSR_APIC_BASE);

    if (!(base & APIC_BASE_ENABLE))
        wrmsr(MSR_APIC_BASE, base | APIC_BASE_ENABLE);
    lapic_write(LAPIC_SVR, SVR_ENABLE | SPURIOUS_VECTOR);
    lapic_write(LAPIC_TPR, 0);
    lapic_write(LAPIC_TIMER_DIVIDE, TIMER_DIVIDE_BY_16);
    lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | LAPIC_TIMER_VECTOR);
    /* Platform NMIs (LINT1) reach CPU 0 only, as on Xen: lapic_init() unmasks its own. */
    lapic_write(LAPIC_LVT_LINT1, LVT_MASKED | ICR_MODE_NMI);
}

void lapic_init(void)
{
    u64 base = rdmsr(MSR_APIC_BASE);
    const unsigned window_ms = 10;

    lapic = ioremap(base & APIC_BASE_ADDR_MASK, PAGE_SIZE);
    if (!lapic)
        panic("cannot map the local APIC at %#llx\n",
              (unsigned long long)(base & APIC_BASE_ADDR_MASK));

    lapic_enable_this_cpu();
    lapic_write(LAPIC_LVT_LINT1, ICR_MODE_NMI);        /* CPU 0 takes platform NMIs (nmi.c) */
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

/* Waits (bounded) for the previous command to leave the ICR. */
static bool icr_wait_idle(void)
{
    for (unsigned i = 0; i < 100000; i++) {
        if (!(lapic_read(LAPIC_ICR_LOW) & ICR_DELIVERY_PENDING))
            return true;
        udelay(1);
    }
    return false;
}

static bool icr_send(u32 apic_id, u32 low)
{
    if (!icr_wait_idle())
        return false;
    lapic_write(LAPIC_ICR_HIGH, apic_id << 24);
    lapic_write(LAPIC_ICR_LOW, low);     /* writing the low half sends */
    return icr_wait_idle();
}

bool lapic_send_init(u32 apic_id)
{
    if (!icr_send(apic_id, ICR_MODE_INIT | ICR_LEVEL_ASSERT | ICR_TRIGGER_LEVEL))
        return false;
    /* The de-assert message; modern CPUs ignore it, old ones need it. */
    return icr_send(apic_id, ICR_MODE_INIT | ICR_TRIGGER_LEVEL);
}

bool lapic_send_startup(u32 apic_id, paddr_t entry)
{
    return icr_send(apic_id, ICR_MODE_STARTUP | (u32)(entry >> 12));
}

void lapic_send_ipi(u32 apic_id, unsigned vector)
{
    icr_send(apic_id, ICR_LEVEL_ASSERT | vector);
}

/*
 * Written from an NMI handler: only the low half of the ICR (the "self"
 * shorthand ignores the destination in the high half), so code the NMI
 * interrupted between its two ICR writes still sends where it meant to;
 * the ICR is idle again before the handler returns.
 */
void lapic_self_ipi_from_nmi(unsigned vector)
{
    icr_wait_idle();
    lapic_write(LAPIC_ICR_LOW, ICR_DEST_SELF | ICR_LEVEL_ASSERT | vector);
    icr_wait_idle();
}

volatile u32 *lapic_nmi_icr_prepare(u32 apic_id, u32 *low)
{
    icr_wait_idle();
    lapic_write(LAPIC_ICR_HIGH, apic_id << 24);
    *low = ICR_LEVEL_ASSERT | ICR_MODE_NMI;
    return (volatile u32 *)((uintptr_t)lapic + LAPIC_ICR_LOW);
}

bool lapic_send_nmi(u32 apic_id)
{
    return icr_send(apic_id, ICR_LEVEL_ASSERT | ICR_MODE_NMI);
}
