/*
 * Inter-processor interrupts (see asm/ipi.h; docs/smp.md).
 *
 * Each CPU has one outgoing call record, used for one call at a time (its
 * own), and an inbox: the set of CPUs whose records hold a call for it.
 * A caller fills its record, sets its bit in each target's inbox, sends
 * the targets CALL_FUNCTION_VECTOR and waits until the record's `waiting`
 * set is empty; a target takes a sender's bit out of its inbox, runs the
 * function and takes itself out of the sender's `waiting`.  So calls from
 * different CPUs proceed at once, without a lock.
 *
 * Mica runs with interrupts off except in the idle loop, so an interrupt
 * alone would leave a target that is waiting for something else (a spin
 * lock, another CPU's answer) deaf: every wait loop calls cpu_relax(),
 * which runs this CPU's inbox (smp_ipi_poll()).  A target answers from a
 * guest (the interrupt), from idle (the interrupt), or from any wait; two
 * CPUs calling each other both answer while they wait.  The interrupt is
 * handled in do_trap() before the scheduler lock, which the caller may
 * hold.
 */
#include <asm/current.h>
#include <asm/io.h>
#include <asm/ipi.h>
#include <asm/lapic.h>
#include <asm/smp.h>
#include <asm/time.h>
#include <asm/tlbflush.h>
#include <asm/traps.h>
#include <mica/lib.h>

/* How long a caller waits before it reports, and before it gives up. */
#define CALL_REPORT_S   10
#define CALL_GIVE_UP_S  120

struct call_record {
    ipi_fn_t fn;                /* written by the owner while `waiting` is empty */
    void *info;
    cpumask_t waiting;          /* targets still to run it; each clears its own bit */
} __attribute__((aligned(64)));

static struct call_record records[NR_CPUS];
/* inbox[t]: CPUs with a call for t; set by the caller, cleared by t (atomic bits). */
static cpumask_t inbox[NR_CPUS] __attribute__((aligned(64)));
/* Written by its CPU only. */
static bool in_function[NR_CPUS];
static u64 sent, answered;      /* atomic counters */

bool smp_in_ipi_function(void)
{
    return READ_ONCE(in_function[smp_processor_id()]);
}

u64 smp_calls_sent(void)
{
    return __atomic_load_n(&sent, __ATOMIC_RELAXED);
}

u64 smp_calls_answered(void)
{
    return __atomic_load_n(&answered, __ATOMIC_RELAXED);
}

/* Runs every call queued for this CPU. */
static void run_inbox(unsigned me)
{
    cpumask_t *box = &inbox[me];
    unsigned from;

    if (in_function[me])
        return;                 /* a function does not wait, so this is not one of its waits */
    in_function[me] = true;
    for_each_cpu(from, box) {
        struct call_record *r = &records[from];

        if (!cpumask_test_and_clear_cpu(from, box))
            continue;
        /* The locked clear orders the reads of the record after the caller's writes. */
        r->fn(r->info);
        __atomic_fetch_add(&answered, 1, __ATOMIC_RELAXED);
        cpumask_clear_cpu(me, &r->waiting);
    }
    in_function[me] = false;
}

/* The CPU reporting a crash (smp_crash_stop_others), or -1; set once. */
static int crash_cpu = -1;

void smp_ipi_poll(void)
{
    unsigned me = smp_processor_id();

    /* A CPU reporting a crash runs nobody's functions: it may be stopping their senders. */
    if (me < NR_CPUS && !cpumask_empty(&inbox[me]) &&
        __atomic_load_n(&crash_cpu, __ATOMIC_RELAXED) != (int)me)
        run_inbox(me);
}

void smp_call_function_interrupt(void)
{
    run_inbox(smp_processor_id());
    lapic_eoi();
}

void smp_send_reschedule(unsigned cpu)
{
    if (cpu != smp_processor_id() && cpu_online(cpu))
        lapic_send_ipi(cpu_apic_id(cpu), RESCHEDULE_VECTOR);
}

static void report_slow(const struct call_record *r, u64 waited_s, bool give_up)
{
    char list[128];
    size_t len = 0;
    unsigned cpu;

    list[0] = 0;
    for_each_cpu(cpu, &r->waiting)
        if (len < sizeof(list) - 8)
            len += (size_t)snprintf(list + len, sizeof(list) - len, " %u", cpu);
    if (give_up)
        panic("IPI: CPU %u waited %llu s for CPU(s)%s to run a function (a TLB flush or "
              "call); they never answered\n", smp_processor_id(),
              (unsigned long long)waited_s, list);
    pr_warn("IPI: CPU %u has waited %llu s for CPU(s)%s to run a function; still waiting "
            "(gives up at %u s)\n", smp_processor_id(), (unsigned long long)waited_s, list,
            CALL_GIVE_UP_S);
}

/*
 * Queues fn(info) for every online CPU of mask but this one and sends them
 * the IPI; leaves the set of CPUs asked in *targets (empty: nobody).
 */
static void call_send(const cpumask_t *mask, ipi_fn_t fn, void *info, cpumask_t *targets)
{
    unsigned me = smp_processor_id(), cpu;
    struct call_record *r = &records[me];

    /* A function runs in the middle of another CPU's work: it must not call out itself. */
    ASSERT(!in_function[me]);
    cpumask_and(targets, mask, &cpu_online_map);
    __cpumask_clear_cpu(me, targets);
    if (cpumask_empty(targets))
        return;
    r->fn = fn;
    r->info = info;
    cpumask_copy(&r->waiting, targets);
    smp_mb();                   /* the record before any target can see its inbox bit */
    for_each_cpu(cpu, targets) {
        cpumask_set_cpu(me, &inbox[cpu]);
        lapic_send_ipi(cpu_apic_id(cpu), CALL_FUNCTION_VECTOR);
        __atomic_fetch_add(&sent, 1, __ATOMIC_RELAXED);
    }
}

/*
 * Waits, answering calls for this CPU meanwhile, until done(arg) says so;
 * reports the CPUs still in this CPU's record after CALL_REPORT_S and
 * stops Mica after CALL_GIVE_UP_S.
 */
static void call_wait(bool (*done)(void *arg), void *arg)
{
    const struct call_record *r = &records[smp_processor_id()];
    u64 start = now_ns(), reported = 0;

    while (!done(arg)) {
        u64 waited_s;

        cpu_relax();            /* answers calls for this CPU meanwhile */
        waited_s = (now_ns() - start) / 1000000000ULL;
        if (waited_s >= CALL_GIVE_UP_S)
            report_slow(r, waited_s, true);
        if (waited_s >= reported + CALL_REPORT_S) {
            reported = waited_s;
            report_slow(r, waited_s, false);
        }
    }
    smp_mb();                   /* the targets' work before whatever the caller does next */
}

static bool all_answered(void *arg)
{
    return cpumask_empty(&((struct call_record *)arg)->waiting);
}

void on_selected_cpus(const cpumask_t *mask, ipi_fn_t fn, void *info)
{
    unsigned me = smp_processor_id();
    cpumask_t targets;

    call_send(mask, fn, info, &targets);
    if (cpumask_test_cpu(me, mask)) {
        /* Under the same rules as on the targets (and the same check). */
        in_function[me] = true;
        fn(info);
        in_function[me] = false;
    }
    if (!cpumask_empty(&targets))
        call_wait(all_answered, &records[me]);
}

/*
 * Holding the other CPUs (smp_call_others_held): each target runs
 * hold_fn, which counts itself in and waits, in Mica's code and touching
 * no device, until the holder lets go.  One hold at a time (`holding`);
 * the holder waits for all of them to return before it returns, so the
 * next hold starts from a clean state.
 */
static struct {
    bool holding;               /* a hold is under way (atomic exchange) */
    unsigned stopped;           /* targets that have reached hold_fn (atomic) */
    unsigned want;              /* how many targets the holder waits for */
    bool released;              /* the holder is done; targets return */
} hold __attribute__((aligned(64)));

static void hold_fn(void *info)
{
    (void)info;
    __atomic_fetch_add(&hold.stopped, 1, __ATOMIC_SEQ_CST);
    while (!__atomic_load_n(&hold.released, __ATOMIC_ACQUIRE))
        __asm__ volatile("pause" ::: "memory");
}

static bool all_stopped(void *arg)
{
    (void)arg;
    return __atomic_load_n(&hold.stopped, __ATOMIC_ACQUIRE) == hold.want;
}

void smp_call_others_held(ipi_fn_t fn, void *info)
{
    unsigned me = smp_processor_id(), cpu;
    cpumask_t targets;

    if (__atomic_exchange_n(&hold.holding, true, __ATOMIC_ACQUIRE))
        panic("IPI: CPU %u began a hold of the other CPUs while another was under way\n", me);
    hold.stopped = 0;
    __atomic_store_n(&hold.released, false, __ATOMIC_RELEASE);
    call_send(&cpu_online_map, hold_fn, NULL, &targets);
    hold.want = 0;
    for_each_cpu(cpu, &targets)
        hold.want++;
    if (hold.want)
        call_wait(all_stopped, NULL);
    fn(info);
    __atomic_store_n(&hold.released, true, __ATOMIC_SEQ_CST);
    if (hold.want)
        call_wait(all_answered, &records[me]);
    __atomic_store_n(&hold.holding, false, __ATOMIC_RELEASE);
}

/*
 * ---- Stopping the other CPUs on a crash ----
 *
 * The first CPU to crash (panic, fatal exception, machine_crash_stop)
 * claims crash_cpu and sends every other online CPU an NMI, which reaches
 * it whatever it is doing, interrupts off or in a guest; the NMI handler
 * (smp_crash_nmi(), first thing in do_trap()) sees crash_cpu set, marks
 * its CPU in crash_stopped and halts for good.  The crashing CPU waits
 * (bounded) for them before it prints, so its report is the last thing on
 * the console.  A second CPU that crashes meanwhile halts too, silently.
 */
#define CRASH_STOP_WAIT_NS 2000000000ULL

static cpumask_t crash_stopped;         /* CPUs halted for the crash (atomic bits) */

static void __attribute__((noreturn)) crash_halt(void)
{
    cpumask_set_cpu(smp_processor_id(), &crash_stopped);
    for (;;)
        __asm__ volatile("cli; hlt" ::: "memory");
}

bool smp_crash_nmi(void)
{
    int who = __atomic_load_n(&crash_cpu, __ATOMIC_ACQUIRE);

    if (who < 0 || who == (int)smp_processor_id())
        return false;
    crash_halt();
}

void smp_crash_stop_others(char *report, size_t size)
{
    unsigned me = smp_processor_id(), cpu, asked = 0, stopped = 0;
    int nobody = -1;
    cpumask_t others;
    u64 start;
    size_t len;

    report[0] = 0;
    if (!__atomic_compare_exchange_n(&crash_cpu, &nobody, (int)me, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE)) {
        if (nobody != (int)me)
            crash_halt();       /* another CPU is reporting its crash */
        return;                 /* a crash while reporting one: go on with it */
    }
    cpumask_copy(&others, &cpu_online_map);
    __cpumask_clear_cpu(me, &others);
    if (cpumask_empty(&others))
        return;
    for_each_cpu(cpu, &others) {
        lapic_send_nmi(cpu_apic_id(cpu));
        asked++;
    }
    start = now_ns();
    for (;;) {
        stopped = 0;
        for_each_cpu(cpu, &others)
            if (cpumask_test_cpu(cpu, &crash_stopped))
                stopped++;
        if (stopped == asked || now_ns() - start > CRASH_STOP_WAIT_NS)
            break;
        __asm__ volatile("pause" ::: "memory");
    }
    len = (size_t)snprintf(report, size, "CPU %u stopped %u of the other %u online CPU(s)",
                           me, stopped, asked);
    if (stopped != asked) {
        len += (size_t)snprintf(report + len, size > len ? size - len : 0,
                                "; still running after 2 s:");
        for_each_cpu(cpu, &others)
            if (!cpumask_test_cpu(cpu, &crash_stopped) && len + 8 < size)
                len += (size_t)snprintf(report + len, size - len, " %u", cpu);
    }
}

/* ---- boot check ---- */

static u32 boot_check_seen[NR_CPUS];

static void boot_check_fn(void *info)
{
    WRITE_ONCE(boot_check_seen[smp_processor_id()], *(const u32 *)info);
}

void smp_ipi_boot_check(void)
{
    unsigned me = smp_processor_id(), cpu, n = 0, bad = 0;
    u32 token = 0x1f1f0000u;
    u32 before[NR_CPUS];

    if (num_online_cpus() < 2)
        return;
    /* The others are halted in their idle wait: the interrupt path answers. */
    for (unsigned round = 1; round <= 3; round++) {
        token = 0x1f1f0000u + round;
        on_selected_cpus(&cpu_online_map, boot_check_fn, &token);
    }
    for_each_cpu(cpu, &cpu_online_map) {
        if (READ_ONCE(boot_check_seen[cpu]) != token)
            bad++;
        before[cpu] = tlbflush_last(cpu);
    }
    flush_tlb_mask(&cpu_online_map);
    for_each_cpu(cpu, &cpu_online_map) {
        if (tlbflush_last(cpu) == before[cpu])
            bad++;
        n++;
    }
    if (bad)
        panic("IPI: %u of %u online CPUs did not run a function or TLB flush asked by CPU %u\n",
              bad, n, me);
    printk("IPI: call-function and TLB shootdown answered by all %u online CPUs\n", n);
}
