/*
 * Credit scheduler (see mica/sched.h and docs/smp.md, "The scheduler").
 *
 * One run queue per CPU, each with its own lock; the vCPU a CPU runs is
 * found through its cpu_info.  Credit is in nanoseconds of CPU time.
 * Every accounting period each domain that wants a CPU earns its share of
 * the period times the number of CPUs in use, split by weight over every
 * domain with a runnable vCPU on any queue, and divided among its
 * runnable vCPUs (at most one CPU's worth each); running spends credit.
 * On each CPU the vCPU with the most credit runs next.  A capped domain
 * whose vCPUs together spent more than cap% of one CPU in the period (on
 * whatever CPUs they ran) waits until the period's budget comes back.
 *
 * Several CPUs (sched_smp=1): a vCPU sits on the queue of its CPU,
 * v->processor, and only the holder of that queue's lock changes its
 * scheduling state or moves it.  A vCPU moves to another CPU only while
 * it is not running (v->is_running clear: its state is saved), under the
 * locks of both queues.  A CPU with nothing to run takes work from a CPU
 * busy with something else (work stealing, as Xen's credit does); a
 * wake-up for another CPU's vCPU kicks that CPU, and an idle one that may
 * steal it, with the reschedule IPI.
 *
 * A domain's vCPUs run on different CPUs at the same moment (sched_parallel,
 * on by default): the TLB shootdown (arch/x86 flush_tlb_mask and each
 * domain's dirty CPU mask) makes MMUEXT_TLB_FLUSH_MULTI, page-type changes
 * and grant unmaps reach every CPU that ran the domain.  sched_parallel=0
 * keeps each domain's vCPUs on one queue ("colocated"): a whole domain then
 * moves at once, and only when none of its vCPUs runs.
 *
 * A vCPU woken from blocking is boosted: it runs ahead of vCPUs that
 * merely have credit, until it next gives up the CPU or has run for one
 * boost period (a third of a time slice: Xen's credit1 takes the boost
 * away at its next 10 ms tick).  That is what lets a guest that mostly
 * sleeps (waiting for timers or I/O) get its turn promptly even when
 * another vCPU spins through its whole time slice.  One exception: a
 * vCPU woken by an event the running vCPU of another domain on its CPU
 * sends it is held back, rather than preempting, if the sender is
 * boosted itself (credit1 preempts only for a higher priority) or
 * started its run less than the rate limit ago (credit2, Xen 4.17's
 * default, does not preempt then, nor later for that wake-up).  It then
 * waits until the sender blocks, yields or has run for one boost
 * period.  So two guests that feed each other (a front end and its back
 * end on one CPU) each get through what the other queued, instead of
 * handing the CPU over at almost every notification (docs/benchmarks.md,
 * "PV block and network"; docs/smp.md, "Wake-ups and preemption").
 *
 * Locks (docs/smp.md): credit_lock (LOCK_ORDER_SCHED_CREDIT) is taken
 * only by the CPU that refills credit, and takes run-queue locks inside
 * it one at a time.  Run-queue locks (LOCK_ORDER_SCHED) nest only by
 * trylock (stealing, evicting), so their order among themselves never
 * matters.  Nothing is called under a run-queue lock that takes another
 * lock except the console: timer events are gathered under the lock and
 * sent after it is dropped.  No scheduler lock is held while waiting for
 * another CPU (sched_sync_domain()).
 */
#include <mica/rcu.h>
#include <asm/current.h>
#include <asm/io.h>
#include <asm/lapic.h>
#include <asm/smp.h>
#include <asm/time.h>
#include <asm/traps.h>
#include <mica/context.h>
#include <mica/cpumask.h>
#include <mica/event.h>
#include <mica/lib.h>
#include <mica/param.h>
#include <mica/percpu.h>
#include <mica/perfc.h>
#include <mica/sched.h>
#include <mica/selftest.h>
#include <mica/spinlock.h>
#include <mica/time_guest.h>
#include <public/errno.h>

/*
 * Scheduler-wide parameters (XEN_SYSCTL_scheduler_op): the time slice, and
 * the rate limit under which a running vCPU is not preempted by a wakeup.
 * Read without a lock: each field is one aligned word, set by sysctl (and
 * the rate limit once at boot, sched_init()).
 */
static struct sched_credit_params params = {
    .tslice_ms = CONFIG_SCHED_TIMESLICE_MS, .ratelimit_us = 0, .migr_delay_us = 0,
};

/*
 * sched_ratelimit_us=N (Xen's option, and Xen's default of 1000 for both
 * credit and credit2): a vCPU that has run for less than N us keeps the
 * CPU when another one wakes; the woken one (boosted) runs when the limit
 * is up, or sooner if the running one blocks.  0 preempts at once.
 * Without it a back-end and its front-end on one CPU preempt each other
 * at every notification: bench/blk-throughput's random reads switched
 * twice per I/O, one request per turn; with it each side gets through
 * what the other queued meanwhile (docs/benchmarks.md, "PV block and
 * network").  At most the time slice.
 */
static unsigned boot_ratelimit_us = 1000;
integer_param("sched_ratelimit_us", boot_ratelimit_us);

#define TIMESLICE_NS ((u64)READ_ONCE(params.tslice_ms) * 1000000ULL)
#define RATELIMIT_NS ((u64)READ_ONCE(params.ratelimit_us) * 1000ULL)
#define PERIOD_NS (3 * TIMESLICE_NS)
/* How long a boosted vCPU keeps its boost while it runs (credit1's tick: a third of a slice). */
#define BOOST_NS (TIMESLICE_NS / 3)
#define MAX_CREDIT_NS (2 * PERIOD_NS)
/*
 * Credit never falls below this: a vCPU that ran flat out for a long time
 * must not then lose its CPU for as long to one that just arrived.
 */
#define MIN_CREDIT_NS (-(s64)MAX_CREDIT_NS)

struct run_queue {
    spinlock_t lock;
    /*
     * rq->lock guards: vcpus (the vCPUs whose processor is this CPU and
     * that are schedulable) and nr_vcpus; for each vCPU whose processor
     * is this CPU: processor itself, on_runq, runq_next, state, paused,
     * polling, boosted, cpu_hard_affinity, is_running (set and cleared by
     * this CPU only; others read it with an acquire load); and curr,
     * on_since and wake_held.
     */
    struct vcpu *vcpus;
    unsigned nr_vcpus;
    struct vcpu *curr;              /* what the CPU runs (NULL: idle), for other CPUs to see */
    bool need_resched;              /* set by anyone (atomic store), cleared by this CPU */
    u64 slice_end;                  /* this CPU only */
    u64 run_since;                  /* this CPU only: when curr was last chosen */
    u64 on_since;                   /* when curr was switched to (its boost and a hold count from here) */
    bool wake_held;                 /* a woken vCPU waits without preempting curr (held_back()) */
    u64 deadline;                   /* this CPU only: when its timer is due */
    bool timers_changed;            /* this CPU only: its running vCPU set a timer */
    bool yielded;                   /* this CPU only: its running vCPU yielded (no rate limit) */
};

static DEFINE_PER_CPU(struct run_queue, runq);

/* credit_lock guards next_period's update, refill_gen and the domains' sched_refill_* fields. */
static DEFINE_SPINLOCK(credit_lock, LOCK_ORDER_SCHED_CREDIT);
static u64 next_period;             /* the end of the accounting period; read without the lock */
static u32 refill_gen;

/* sched_smp=1 (the default): run guests on every online CPU (docs/smp-boot.md). */
static bool sched_smp_wanted = true;
boolean_param("sched_smp", sched_smp_wanted);
/*
 * sched_parallel=1 (the default): a domain's vCPUs on different CPUs at
 * once.  (It was off for a while because QEMU 7.2's TCG crashed in Linux
 * dom0 boots; PCI configuration writes now hold the other CPUs, which
 * avoids that: arch/x86/pci_conf.c, docs/smp.md.)
 */
static bool sched_parallel_wanted = true;
boolean_param("sched_parallel", sched_parallel_wanted);

static bool smp_active;             /* set once by sched_start(): sched_smp=1 and CPUs > 1 */
static bool parallel;               /* set once before any vCPU is placed */
static cpumask_t idle_cpus;         /* CPUs halted with nothing to run; atomic bit updates */

#define this_rq() (&this_cpu(runq))
#define rq_of(cpu) (&per_cpu(runq, cpu))

static void reschedule_interrupt(struct cpu_regs *regs)
{
    /* The sender set need_resched; the exit path or idle loop acts on it. */
    (void)regs;
    lapic_eoi();
}

/* Makes cpu look at its run queue again soon.  Any lock may be held. */
static void resched_cpu(unsigned cpu)
{
    __atomic_store_n(&rq_of(cpu)->need_resched, true, __ATOMIC_RELEASE);
    if (cpu != smp_processor_id() && __atomic_load_n(&smp_active, __ATOMIC_ACQUIRE))
        lapic_send_ipi(cpu_apic_id(cpu), RESCHEDULE_VECTOR);
}

/*
 * Locks the queue v belongs to and returns it: v->processor may change
 * until that queue's lock is held, so it is read again under the lock.
 */
static struct run_queue *vcpu_rq_lock(const struct vcpu *v)
{
    for (;;) {
        unsigned cpu = READ_ONCE(v->processor);
        struct run_queue *rq = rq_of(cpu);

        spin_lock(&rq->lock);
        if (READ_ONCE(v->processor) == cpu)
            return rq;
        spin_unlock(&rq->lock);
    }
}

static bool sched_smp_on(void)
{
    return sched_smp_wanted && num_online_cpus() > 1;
}

static bool can_run(const struct vcpu *v)
{
    return v->state == VCPU_RUNNABLE && !v->paused && !v->domain->is_shutdown;
}

/* The domain's cap budget for one period, in ns of one CPU (0: no cap). */
static u64 cap_budget(const struct domain *d)
{
    return PERIOD_NS * READ_ONCE(d->sched_cap) / 100;
}

static bool over_cap(const struct vcpu *v)
{
    const struct domain *d = v->domain;
    u64 budget = cap_budget(d);

    return budget && __atomic_load_n(&d->sched_spent_ns, __ATOMIC_RELAXED) >= budget;
}

/*
 * Whether v may run on cpu.  Colocated, the domain's vCPUs share a queue,
 * so that CPU must suit every one of them.  Reads other vCPUs' affinity
 * without their lock: a change is followed by a kick that looks again.
 */
static bool may_run_on(const struct vcpu *v, unsigned cpu)
{
    const struct domain *d = v->domain;

    if (parallel)
        return cpumask_test_cpu(cpu, &v->cpu_hard_affinity);
    for (unsigned i = 0; i < d->max_vcpus; i++)
        if (d->vcpus[i] && !cpumask_test_cpu(cpu, &d->vcpus[i]->cpu_hard_affinity))
            return false;
    return true;
}

/* The online CPUs v may run on. */
static void cpus_allowed(const struct vcpu *v, cpumask_t *out)
{
    const struct domain *d = v->domain;

    cpumask_and(out, &cpu_online_map, &v->cpu_hard_affinity);
    if (!parallel)
        for (unsigned i = 0; i < d->max_vcpus; i++)
            if (d->vcpus[i])
                cpumask_and(out, out, &d->vcpus[i]->cpu_hard_affinity);
}

/* Wakes one idle CPU (other than this one) that may run v, to come and take it. */
static void kick_idle_cpu(const struct vcpu *v)
{
    unsigned cpu, me = smp_processor_id();

    if (!__atomic_load_n(&smp_active, __ATOMIC_ACQUIRE))
        return;
    for_each_cpu(cpu, &idle_cpus)
        if (cpu != me && may_run_on(v, cpu)) {
            resched_cpu(cpu);
            return;
        }
}

/* The CPU with the fewest queued vCPUs among those allowed (a hint: read without locks). */
static unsigned least_loaded_cpu(const cpumask_t *allowed, const unsigned *extra)
{
    unsigned best = 0, best_n = ~0u, cpu;

    for_each_cpu(cpu, allowed) {
        unsigned n = READ_ONCE(rq_of(cpu)->nr_vcpus) + (extra ? extra[cpu] : 0);
        if (n < best_n) {
            best = cpu;
            best_n = n;
        }
    }
    return best;
}

void sched_init(void)
{
    unsigned cpu;

    for_each_cpu(cpu, &cpu_online_map)
        spin_lock_init(&rq_of(cpu)->lock, "runq.lock", LOCK_ORDER_SCHED);
    parallel = sched_smp_on() && sched_parallel_wanted;
    if ((u64)boot_ratelimit_us * 1000 > (u64)params.tslice_ms * 1000000) {
        pr_warn("sched_ratelimit_us=%u is above the %u ms time slice: using %u\n",
                boot_ratelimit_us, params.tslice_ms, params.tslice_ms * 1000);
        boot_ratelimit_us = params.tslice_ms * 1000;
    }
    params.ratelimit_us = boot_ratelimit_us;
}

void sched_init_vcpu(struct vcpu *v)
{
    /* As on Xen: every CPU, hard and soft, until the toolstack says otherwise. */
    for (unsigned cpu = 0; cpu < NR_CPUS; cpu++) {
        __cpumask_set_cpu(cpu, &v->cpu_hard_affinity);
        __cpumask_set_cpu(cpu, &v->cpu_soft_affinity);
    }
    v->processor = 0;
}

/*
 * Chooses where d's vCPUs start, before anyone else can see d (domain
 * creation): colocated, all on the least loaded CPU; in parallel, each
 * vCPU on the least loaded CPU counting its siblings placed before it.
 */
void sched_place_domain(struct domain *d)
{
    unsigned extra[NR_CPUS] = { 0 }, cpu = 0;

    if (!sched_smp_on())
        return;
    for (unsigned i = 0; i < d->max_vcpus; i++) {
        struct vcpu *v = d->vcpus[i];
        if (!v)
            continue;
        if (parallel || i == 0) {
            cpu = least_loaded_cpu(&cpu_online_map, extra);
            extra[cpu]++;
        }
        v->processor = cpu;
    }
}

static void rq_link(struct run_queue *rq, struct vcpu *v)
{
    v->runq_next = rq->vcpus;
    rq->vcpus = v;
    rq->nr_vcpus++;
    v->on_runq = true;
}

static void rq_unlink(struct run_queue *rq, struct vcpu *v)
{
    for (struct vcpu **p = &rq->vcpus; *p; p = &(*p)->runq_next)
        if (*p == v) {
            *p = v->runq_next;
            v->runq_next = NULL;
            rq->nr_vcpus--;
            v->on_runq = false;
            return;
        }
}

void sched_add_vcpu(struct vcpu *v)
{
    struct run_queue *rq = vcpu_rq_lock(v);
    unsigned cpu = v->processor;

    if (!v->on_runq)
        rq_link(rq, v);
    spin_unlock(&rq->lock);
    resched_cpu(cpu);           /* its timers count from now, on that CPU too */
}

void sched_remove_vcpu(struct vcpu *v)
{
    struct run_queue *rq = vcpu_rq_lock(v);

    if (v->on_runq)
        rq_unlink(rq, v);
    spin_unlock(&rq->lock);
}

void sched_set_paused(struct vcpu *v, bool paused)
{
    struct run_queue *rq = vcpu_rq_lock(v);
    unsigned cpu = v->processor;

    v->paused = paused;
    spin_unlock(&rq->lock);
    resched_cpu(cpu);
}

void sched_vcpu_down(struct vcpu *v)
{
    struct run_queue *rq = vcpu_rq_lock(v);
    unsigned cpu = v->processor;

    v->state = VCPU_DOWN;
    v->polling = false;
    spin_unlock(&rq->lock);
    resched_cpu(cpu);
}

void sched_credit_params_get(struct sched_credit_params *p)
{
    *p = params;
}

void sched_credit_params_set(const struct sched_credit_params *p)
{
    WRITE_ONCE(params.tslice_ms, p->tslice_ms);
    WRITE_ONCE(params.ratelimit_us, p->ratelimit_us);
    WRITE_ONCE(params.migr_delay_us, p->migr_delay_us);
}

void sched_request_resched(void)
{
    unsigned cpu;

    __atomic_store_n(&this_rq()->need_resched, true, __ATOMIC_RELEASE);
    if (!__atomic_load_n(&smp_active, __ATOMIC_ACQUIRE))
        return;
    /*
     * A domain-wide change (pause, unpause, shutdown) may concern any CPU:
     * one running the domain, or an idle one whose queue holds it.
     */
    for_each_cpu(cpu, &cpu_online_map)
        if (cpu != smp_processor_id())
            resched_cpu(cpu);
}

void sched_sync_domain(struct domain *d)
{
    struct vcpu *self = current_vcpu();

    /*
     * Waits with whatever locks the caller holds (domctl_lock) but no
     * scheduler lock: the CPU running v switches away taking only its own
     * queue's lock and event locks, never one a domctl holds.
     */
    for (unsigned i = 0; i < d->max_vcpus; i++) {
        struct vcpu *v = d->vcpus[i];

        if (!v || v == self)
            continue;
        while (__atomic_load_n(&v->is_running, __ATOMIC_ACQUIRE)) {
            resched_cpu(READ_ONCE(v->processor));
            for (unsigned n = 0; n < 1000 && __atomic_load_n(&v->is_running, __ATOMIC_ACQUIRE); n++)
                cpu_relax();
        }
    }
}

void vcpu_block(struct vcpu *v)
{
    struct run_queue *rq = vcpu_rq_lock(v);

    perfc_inc(vcpu_block);
    v->state = VCPU_BLOCKED;
    /*
     * An event that arrived before blocking must not be slept through: the
     * sender marks the event pending before it takes this lock to wake v.
     */
    smp_mb();
    if (event_pending(v))
        v->state = VCPU_RUNNABLE;
    WRITE_ONCE(rq->need_resched, true);
    spin_unlock(&rq->lock);
}

bool sched_poll_block(struct vcpu *v)
{
    struct run_queue *rq = vcpu_rq_lock(v);
    bool blocked = v->polling;      /* cleared by a wake-up that came first */

    if (blocked) {
        v->state = VCPU_BLOCKED;
        WRITE_ONCE(rq->need_resched, true);
    }
    spin_unlock(&rq->lock);
    return blocked;
}

#ifdef CONFIG_PERF_COUNTERS
/* The perfc bucket of a duration in ns (the buckets of wake_latency in mica/perfc.h). */
static unsigned perfc_us_bucket(u64 ns)
{
    static const u64 limit_us[] = { 10, 50, 200, 1000, 2000, 5000, 20000 };
    unsigned i = 0;

    while (i < ARRAY_SIZE(limit_us) && ns >= limit_us[i] * 1000)
        i++;
    return i;
}
#endif

/* Set while this CPU delivers an event its running vCPU sends to another domain. */
static DEFINE_PER_CPU(bool, guest_notifying);

void sched_guest_notify_begin(void)
{
    this_cpu(guest_notifying) = true;
}

void sched_guest_notify_end(void)
{
    this_cpu(guest_notifying) = false;
}

/*
 * Whether v, just woken, waits behind what its CPU runs rather than
 * preempting it (wake_locked(); the top of this file): only when that is
 * the vCPU running here, of another domain, and it is sending v an event
 * (it produced work for v, and will likely produce more), and it is
 * boosted itself (credit1 preempts only for a higher priority) or
 * started its run less than the rate limit ago (credit2 does not preempt
 * then, nor later for that wake-up).  rq is v's queue, locked.
 */
static bool held_back(const struct run_queue *rq, const struct vcpu *v)
{
    const struct vcpu *cur = rq->curr;

    if (!this_cpu(guest_notifying) || !cur || cur != current_vcpu() || cur == v ||
        cur->domain == v->domain)
        return false;
    return cur->boosted || now_ns() - rq->on_since < RATELIMIT_NS;
}

/* Called with v's queue locked. */
static void wake_locked(struct run_queue *rq, struct vcpu *v)
{
    unsigned cpu = v->processor;

    v->polling = false;
    if (v->state == VCPU_BLOCKED) {
        perfc_inc(vcpu_wake_blocked);
#ifdef CONFIG_PERF_COUNTERS
        v->woken_ns = now_ns();
        if (rq->curr && rq->curr != v) {
            perfc_inc(wake_cpu_busy);
            if (rq->curr->boosted)
                perfc_inc(wake_cpu_busy_boosted);
        }
        else
            perfc_inc(wake_cpu_idle);
        if (cpu != smp_processor_id())
            perfc_inc(wake_remote_ipi);
#endif
        v->state = VCPU_RUNNABLE;
        v->boosted = true;
        /*
         * Held back, v waits until the running vCPU blocks or yields, or
         * at the latest until it has run for one boost period: the exit
         * of its hypercall re-arms this CPU's timer for that
         * (earliest_deadline(), sched_on_exit()).
         */
        if (held_back(rq, v)) {
            rq->wake_held = true;
            rq->timers_changed = true;
            perfc_inc(wake_deferred);
        } else {
            resched_cpu(cpu);
        }
        /* Its CPU is busy with someone else: an idle CPU may come and take it. */
        if (rq->curr && rq->curr != v && (parallel || rq->curr->domain != v->domain))
            kick_idle_cpu(v);
    } else if (cpu != smp_processor_id() && rq->curr == v) {
        /* Running elsewhere: interrupt it so it takes its event upcall now. */
        perfc_inc(event_running_ipi);
        resched_cpu(cpu);
    }
}

void vcpu_wake(struct vcpu *v)
{
    struct run_queue *rq = vcpu_rq_lock(v);

    wake_locked(rq, v);
    spin_unlock(&rq->lock);
}

static void credit_add(struct vcpu *v, s64 amount);

void vcpu_yield(struct vcpu *v)
{
    /* Giving up the CPU costs half a slice in credit, and any boost. */
    struct run_queue *rq = vcpu_rq_lock(v);

    v->boosted = false;
    credit_add(v, -(s64)TIMESLICE_NS / 2);
    /* As on Xen: the rate limit does not hold a vCPU that gives the CPU away. */
    if (v == current_vcpu())
        rq->yielded = true;
    WRITE_ONCE(rq->need_resched, true);
    spin_unlock(&rq->lock);
}

/* Adds amount (of either sign) to v's credit, kept within its bounds. */
static void credit_add(struct vcpu *v, s64 amount)
{
    s64 old = __atomic_load_n(&v->credit, __ATOMIC_RELAXED), new;

    do {
        new = old + amount;
        if (new > (s64)MAX_CREDIT_NS)
            new = MAX_CREDIT_NS;
        if (new < MIN_CREDIT_NS)
            new = MIN_CREDIT_NS;
    } while (!__atomic_compare_exchange_n(&v->credit, &old, new, false, __ATOMIC_RELAXED,
                                          __ATOMIC_RELAXED));
}

/*
 * A new accounting period, by whichever CPU gets there first: the CPUs'
 * combined time is split by weight among the domains with a runnable vCPU
 * on any queue, each domain's share among its runnable vCPUs, no vCPU
 * earning more than the one CPU it can use; and each capped domain's
 * spending is charged one period's budget.  The queues are locked one at
 * a time, so a vCPU that changes queue in between may be counted twice or
 * missed for one period.
 */
static void refill_credit(u64 now)
{
    u64 total_weight = 0, ncpus = __atomic_load_n(&smp_active, __ATOMIC_ACQUIRE) ? num_online_cpus() : 1;
    unsigned cpu;
    u32 gen;

    if (!spin_trylock(&credit_lock))
        return;                             /* another CPU is at it */
    if (now < READ_ONCE(next_period)) {
        spin_unlock(&credit_lock);
        return;
    }
    gen = ++refill_gen;
    for_each_cpu(cpu, &cpu_online_map) {
        struct run_queue *rq = rq_of(cpu);

        spin_lock(&rq->lock);
        for (struct vcpu *v = rq->vcpus; v; v = v->runq_next) {
            struct domain *d = v->domain;
            if (d->sched_refill_gen != gen) {
                u64 budget = cap_budget(d), spent;
                d->sched_refill_gen = gen;
                d->sched_refill_active = 0;
                /* The cap's budget comes back; overspending is carried over. */
                spent = __atomic_load_n(&d->sched_spent_ns, __ATOMIC_RELAXED);
                __atomic_store_n(&d->sched_spent_ns, budget && spent > budget ? spent - budget : 0,
                                 __ATOMIC_RELAXED);
            }
            if (!can_run(v))
                continue;
            if (d->sched_refill_active++ == 0)
                total_weight += d->sched_weight;
        }
        spin_unlock(&rq->lock);
    }
    for_each_cpu(cpu, &cpu_online_map) {
        struct run_queue *rq = rq_of(cpu);

        spin_lock(&rq->lock);
        for (struct vcpu *v = rq->vcpus; v; v = v->runq_next) {
            struct domain *d = v->domain;
            u64 share;
            if (!can_run(v) || total_weight == 0 || d->sched_refill_gen != gen ||
                d->sched_refill_active == 0)
                continue;
            share = PERIOD_NS * ncpus * d->sched_weight / total_weight / d->sched_refill_active;
            credit_add(v, (s64)MIN(share, PERIOD_NS));
        }
        spin_unlock(&rq->lock);
    }
    WRITE_ONCE(next_period, now + PERIOD_NS);
    spin_unlock(&credit_lock);
    /* Capped vCPUs parked on other CPUs may run again. */
    if (__atomic_load_n(&smp_active, __ATOMIC_ACQUIRE))
        for_each_cpu(cpu, &cpu_online_map)
            if (cpu != smp_processor_id())
                resched_cpu(cpu);
}

/* Called with rq locked: the best vCPU on it that this CPU may run now. */
static struct vcpu *pick_next(struct run_queue *rq, unsigned me)
{
    struct vcpu *best = NULL;

    for (struct vcpu *v = rq->vcpus; v; v = v->runq_next) {
        s64 c, bc;
        if (!can_run(v) || over_cap(v) || !may_run_on(v, me))
            continue;
        if (!best) {
            best = v;
            continue;
        }
        c = __atomic_load_n(&v->credit, __ATOMIC_RELAXED);
        bc = __atomic_load_n(&best->credit, __ATOMIC_RELAXED);
        if ((v->boosted && !best->boosted) || (v->boosted == best->boosted && c > bc))
            best = v;
    }
    return best;
}

/* The running CPU charges v for the time since it last looked. */
static void account(struct vcpu *v, u64 now)
{
    u64 ran;

    if (!v || now <= v->run_start_ns)
        return;
    ran = now - v->run_start_ns;
    v->runtime_ns += ran;
    credit_add(v, -(s64)ran);
    if (READ_ONCE(v->domain->sched_cap))
        __atomic_fetch_add(&v->domain->sched_spent_ns, ran, __ATOMIC_RELAXED);
    v->run_start_ns = now;
}

/*
 * Moves v from rq (cpu `from`, locked) to `to` (locked too): v must not be
 * running.  Colocated, every vCPU of its domain goes, queued or not.
 */
static void migrate_locked(struct vcpu *v, struct run_queue *from, unsigned to)
{
    struct run_queue *dst = rq_of(to);
    struct domain *d = v->domain;

    for (unsigned i = 0; i < d->max_vcpus; i++) {
        struct vcpu *w = d->vcpus[i];
        if (!w || (parallel && w != v))
            continue;
        if (w->on_runq) {
            rq_unlink(from, w);
            rq_link(dst, w);
        }
        WRITE_ONCE(w->processor, to);
    }
}

/*
 * Whether v (on rq, of cpu `from`, locked) can be moved now: not running
 * and, colocated, no vCPU of its domain running either (they are all on
 * this queue, so this lock covers them).
 */
static bool movable(const struct vcpu *v)
{
    const struct domain *d = v->domain;

    if (parallel)
        return !__atomic_load_n(&v->is_running, __ATOMIC_ACQUIRE);
    for (unsigned i = 0; i < d->max_vcpus; i++)
        if (d->vcpus[i] && __atomic_load_n(&d->vcpus[i]->is_running, __ATOMIC_ACQUIRE))
            return false;
    return true;
}

/*
 * vCPUs on this CPU's queue that may no longer run here (hard affinity
 * changed) go to a CPU they may run on.  The destination's lock is only
 * tried (two queue locks never wait for each other); a failure is retried
 * at the next scheduling decision.  Called with rq locked.
 */
static void evict_disallowed(struct run_queue *rq, unsigned me)
{
    for (struct vcpu *v = rq->vcpus; v; v = v->runq_next) {
        cpumask_t allowed;
        unsigned to;

        if (may_run_on(v, me) || !movable(v))
            continue;
        cpus_allowed(v, &allowed);
        to = cpumask_first(&allowed);
        if (to >= NR_CPUS || to == me || !spin_trylock(&rq_of(to)->lock))
            continue;
        migrate_locked(v, rq, to);
        spin_unlock(&rq_of(to)->lock);
        resched_cpu(to);
        return;                 /* the list changed under the walk: once per decision */
    }
}

/*
 * Work stealing, with this CPU's queue locked and nothing on it to run:
 * take a vCPU (colocated: its whole domain) that waits on the queue of a
 * CPU busy with something else, or that may not run where it is.  Other
 * queues are only tried; *missed is set when one was busy.
 *
 * With `better` set, this CPU does have something, but its best has used
 * up its credit (OVER, in Xen's credit terms): only a waiting vCPU whose
 * credit is above *better (the local best's plus one time slice, so two
 * CPUs do not pass vCPUs back and forth over small differences) is taken,
 * as Xen's credit balancer takes UNDER work from its peers.  Without it,
 * weights would hold only among vCPUs that happen to share a CPU: a light
 * domain alone on one CPU would run flat out while a heavy one waits
 * behind another domain on the other.  (Not "credit above zero": a heavy
 * vCPU that runs all the time spends what it earns, so it hovers around
 * zero, while light ones sit far below.)
 */
static struct vcpu *steal_work(struct run_queue *mine, unsigned me, bool *missed,
                               const s64 *better)
{
    unsigned cpu;

    if (!__atomic_load_n(&smp_active, __ATOMIC_ACQUIRE))
        return NULL;
    for_each_cpu(cpu, &cpu_online_map) {
        struct run_queue *rq = rq_of(cpu);
        struct vcpu *take = NULL;

        if (cpu == me)
            continue;
        if (!READ_ONCE(rq->nr_vcpus))
            continue;
        if (!spin_trylock(&rq->lock)) {
            *missed = true;
            continue;
        }
        for (struct vcpu *v = rq->vcpus; v && !take; v = v->runq_next) {
            bool waits = rq->curr && rq->curr != v &&
                         (parallel || rq->curr->domain != v->domain);
            if (!can_run(v) || over_cap(v) || !may_run_on(v, me) || !movable(v))
                continue;
            if (better && __atomic_load_n(&v->credit, __ATOMIC_RELAXED) <= *better)
                continue;
            if (waits || !may_run_on(v, cpu))
                take = v;
        }
        if (take)
            migrate_locked(take, rq, me);
        spin_unlock(&rq->lock);
        if (take)
            return pick_next(mine, me);
    }
    return NULL;
}

/* The earliest moment this CPU must look at its timers and run queue; rq locked. */
static u64 earliest_deadline(struct run_queue *rq, u64 now)
{
    u64 d = READ_ONCE(next_period);
    struct vcpu *cur = rq->curr;

    if (rq->slice_end && rq->slice_end < d)
        d = rq->slice_end;
    /* A woken vCPU held back gets its turn one boost period into the run (sched_on_exit()). */
    if (cur && rq->wake_held && rq->on_since + BOOST_NS > now && rq->on_since + BOOST_NS < d)
        d = rq->on_since + BOOST_NS;
    for (struct vcpu *v = rq->vcpus; v; v = v->runq_next) {
        u64 t = READ_ONCE(v->singleshot_deadline);
        if (t && t < d)
            d = t;
        if (v->periodic_armed && v->periodic_period && v->periodic_next < d)
            d = v->periodic_next;
        if (v->polling && v->poll_deadline && v->poll_deadline < d)
            d = v->poll_deadline;
    }
    /* A capped vCPU stops when its domain's budget would run out. */
    if (cur && cap_budget(cur->domain)) {
        u64 budget = cap_budget(cur->domain);
        u64 spent = __atomic_load_n(&cur->domain->sched_spent_ns, __ATOMIC_RELAXED);
        u64 until = cur->run_start_ns + (spent < budget ? budget - spent : 0);
        if (until < d)
            d = until;
    }
    return d;
}

static void set_timer_locked(struct run_queue *rq, u64 now)
{
    u64 d = earliest_deadline(rq, now);

    if (d <= now)
        d = now + 1000;
    rq->deadline = d;
    arch_set_timer(d);
}

bool sched_work_due(void)
{
    struct run_queue *rq = this_rq();

    return READ_ONCE(rq->need_resched) || now_ns() >= READ_ONCE(rq->deadline);
}

/*
 * v's periodic timer has a period due (rq locked): the next one is set.
 * Missed periods collapse into one event, as on real timers.
 */
static bool periodic_due_locked(struct vcpu *v, u64 now)
{
    u64 next = v->periodic_next;

    if (!v->periodic_armed || !v->periodic_period || next > now)
        return false;
    while (next <= now)
        next += v->periodic_period;
    v->periodic_next = next;
    return true;
}

#define TIMER_BATCH 16

/*
 * This CPU's timer work: the accounting period, poll time-outs, and the
 * guests' timers of the vCPUs on its queue.  Timer events are sent after
 * the queue lock is dropped (they take event locks, which come first in
 * the lock order); more than a batch at once are left for the next pass.
 */
void sched_tick(u64 now)
{
    struct run_queue *rq = this_rq();
    struct vcpu *fire[TIMER_BATCH];
    unsigned n = 0;

    perfc_tick(now);
    if (now >= READ_ONCE(next_period))
        refill_credit(now);
    spin_lock(&rq->lock);
    for (struct vcpu *v = rq->vcpus; v; v = v->runq_next) {
        bool due = false;
        u64 t;

        if (v->polling && v->poll_deadline && v->poll_deadline <= now)
            wake_locked(rq, v);
        if (n == TIMER_BATCH) {
            WRITE_ONCE(rq->need_resched, true);
            continue;
        }
        t = READ_ONCE(v->singleshot_deadline);
        if (t && t <= now) {
            WRITE_ONCE(v->singleshot_deadline, 0);
            due = true;
        }
        if (periodic_due_locked(v, now))
            due = true;
        if (due)
            fire[n++] = v;
    }
    if (rq->slice_end && now >= rq->slice_end)
        WRITE_ONCE(rq->need_resched, true);
    spin_unlock(&rq->lock);
    /* The vCPUs stay allocated: this CPU has not passed a quiescent point. */
    for (unsigned i = 0; i < n; i++)
        send_timer_virq(fire[i]);
}

static int runstate_of(const struct vcpu *v)
{
    return v->state == VCPU_BLOCKED ? RUNSTATE_blocked :
           v->state == VCPU_DOWN ? RUNSTATE_offline : RUNSTATE_runnable;
}

/*
 * Leaves prev (saving its state) for nothing: this CPU goes idle.  No lock
 * held; prev stays marked running (so nobody moves it) until it is saved.
 */
static void switch_to_idle(struct vcpu *prev, u64 now)
{
    vcpu_runstate_change(prev, runstate_of(prev), now);
    vcpu_runstate_publish(prev);
#ifdef CONFIG_PERF_COUNTERS
    u64 t0 = perfc_cycles();
#endif
    arch_context_switch(prev, NULL);
#ifdef CONFIG_PERF_COUNTERS
    perfc_add(sched_switch_cycles, perfc_cycles() - t0);
#endif
    get_cpu_info()->current = NULL;
    __atomic_store_n(&this_rq()->curr, NULL, __ATOMIC_RELEASE);
    __atomic_store_n(&prev->is_running, false, __ATOMIC_RELEASE);
}

/*
 * Halts until an interrupt.  Called with rq locked; returns with it
 * locked.  A wake-up after the lock is dropped sets need_resched and sends
 * the IPI, which ends the halt (or comes before it).
 */
static void idle_wait(struct run_queue *rq, u64 now)
{
    unsigned me = smp_processor_id();
    bool empty = !rq->vcpus;

    rq->slice_end = 0;
    set_timer_locked(rq, now);
    cpumask_set_cpu(me, &idle_cpus);
    spin_unlock(&rq->lock);
    if (empty)
        domain_check_machine_end();
    rcu_quiescent();                /* idle: no lookup results held */
    rcu_idle_enter();
#ifdef CONFIG_PERF_COUNTERS
    u64 t0 = perfc_cycles();
    perfc_inc(sched_idle);
#endif
    if (!__atomic_load_n(&rq->need_resched, __ATOMIC_ACQUIRE))
        arch_idle_wait();
#ifdef CONFIG_PERF_COUNTERS
    perfc_add(sched_idle_cycles, perfc_cycles() - t0);
#endif
    rcu_idle_exit();
    cpumask_clear_cpu(me, &idle_cpus);
    sched_tick(now_ns());
    spin_lock(&rq->lock);
}

/* Called with this CPU's queue locked; returns the vCPU to run, the lock dropped. */
static struct vcpu *switch_to_next(struct vcpu *prev, u64 now)
{
    struct run_queue *rq = this_rq();
    unsigned me = smp_processor_id();
    struct vcpu *next;
    bool periodic_catch_up = false;

    rq->yielded = false;
    for (;;) {
        bool missed = false;

        WRITE_ONCE(rq->need_resched, false);
        if (__atomic_load_n(&smp_active, __ATOMIC_RELAXED))
            evict_disallowed(rq, me);
        next = pick_next(rq, me);
        if (!next && prev) {
            /* Save prev before looking elsewhere: another CPU may take it. */
#ifdef CONFIG_PERF_COUNTERS
            perfc_inc_idx(run_blocked, perfc_us_bucket(now - rq->on_since));
#endif
            prev->boosted = false;
            prev->periodic_armed = false;   /* Xen stops it at deschedule */
            spin_unlock(&rq->lock);
            switch_to_idle(prev, now);
            prev = NULL;
            spin_lock(&rq->lock);
            continue;
        }
        if (!next) {
            next = steal_work(rq, me, &missed, NULL);
        } else if (__atomic_load_n(&next->credit, __ATOMIC_RELAXED) < 0 && !next->boosted) {
            /* The best here is OVER: a vCPU with more credit waiting elsewhere comes first. */
            s64 above = __atomic_load_n(&next->credit, __ATOMIC_RELAXED) + (s64)TIMESLICE_NS;
            struct vcpu *stolen = steal_work(rq, me, &missed, &above);
            if (stolen)
                next = stolen;
        }
        if (next)
            break;
        if (missed) {
            /* A busy queue was skipped: look again rather than sleep on its work. */
            spin_unlock(&rq->lock);
            cpu_relax();
            spin_lock(&rq->lock);
            continue;
        }
        idle_wait(rq, now);
        now = now_ns();
    }
    /* prev's domain waits while next runs here: an idle CPU may take it. */
    if (prev && prev != next && can_run(prev) && (parallel || next->domain != prev->domain))
        kick_idle_cpu(prev);
    if (next != prev)
        __atomic_store_n(&next->is_running, true, __ATOMIC_RELEASE);
    __atomic_store_n(&rq->curr, next, __ATOMIC_RELEASE);
#ifdef CONFIG_PERF_COUNTERS
    if (next != prev && next->woken_ns) {
        u64 lat = now > next->woken_ns ? now - next->woken_ns : 0;
        perfc_inc_idx(wake_latency, perfc_us_bucket(lat));
        perfc_add(wake_latency_ns, lat);
    }
    next->woken_ns = 0;
    if (next != prev && prev && can_run(prev))
        perfc_inc_idx(run_preempted, perfc_us_bucket(now - rq->on_since));
    else if (next != prev && prev)
        perfc_inc_idx(run_blocked, perfc_us_bucket(now - rq->on_since));
#endif
    if (next != prev) {
        rq->on_since = now;
        rq->wake_held = false;
        if (prev) {
            prev->boosted = false;
            prev->periodic_armed = false;
        }
        /* As Xen's switch-in: a period that passed while descheduled fires now. */
        next->periodic_armed = true;
        periodic_catch_up = periodic_due_locked(next, now);
    }
    next->run_start_ns = now;
    rq->run_since = now;
    rq->slice_end = now + TIMESLICE_NS;
    WRITE_ONCE(rq->need_resched, false);
    set_timer_locked(rq, now);
    spin_unlock(&rq->lock);

    if (next != prev) {
        if (prev) {
            perfc_inc(sched_switch);
            if (prev->domain != next->domain)
                perfc_inc(sched_switch_domain);
            if (can_run(prev))
                perfc_inc(sched_preempt);
            vcpu_runstate_change(prev, runstate_of(prev), now);
            vcpu_runstate_publish(prev);    /* prev's page tables are still live */
        }
        /*
         * next is current before its state is loaded: a fault while the
         * switch loads next's selectors (an LDT page mapped on first use)
         * is next's to resolve, not prev's.
         */
        get_cpu_info()->current = next;
#ifdef CONFIG_PERF_COUNTERS
        u64 t0 = perfc_cycles();
#endif
        arch_context_switch(prev, next);
#ifdef CONFIG_PERF_COUNTERS
        perfc_add(sched_switch_cycles, perfc_cycles() - t0);
#endif
        if (prev)
            __atomic_store_n(&prev->is_running, false, __ATOMIC_RELEASE);
        vcpu_runstate_change(next, RUNSTATE_running, now);
        vcpu_runstate_publish(next);
        update_vcpu_time(next);
        /* Event locks come before the queue lock: sent now it is dropped. */
        if (periodic_catch_up)
            send_timer_virq(next);
    } else {
        /* Staying on: still account, so the guest's copy keeps moving. */
        vcpu_runstate_change(next, RUNSTATE_running, now);
        vcpu_runstate_publish(next);
    }
    return next;
}

void sched_on_exit(void)
{
    struct vcpu *cur = current_vcpu();
    struct run_queue *rq = this_rq();
    unsigned me = smp_processor_id();
    u64 now = now_ns();

    rcu_quiescent();                    /* the hypercall or trap is over */
    account(cur, now);
    /*
     * Nothing due: no wake-up, pause, migration or affinity change for
     * this CPU (they all set need_resched), no timer set by the guest, and
     * the timer already armed for the earliest deadline (slice end, period,
     * cap budget, the queue's guest timers).  The common exit takes no lock.
     */
    if (cur && !__atomic_load_n(&rq->need_resched, __ATOMIC_ACQUIRE) && !rq->timers_changed &&
        now < rq->deadline)
        return;
    rq->timers_changed = false;
    sched_tick(now);
    spin_lock(&rq->lock);
    /*
     * A boost lasts one boost period of running at most (Xen's credit1
     * likewise ends it at its next tick): a woken vCPU that then spins,
     * say waiting for another vCPU of its domain, must not starve that
     * vCPU, nor a boosted vCPU that waits behind it.
     */
    if (cur && now >= rq->on_since + BOOST_NS) {
        if (rq->wake_held)
            WRITE_ONCE(rq->need_resched, true);
        cur->boosted = false;
        rq->wake_held = false;
    }
    if (cur && can_run(cur) && !over_cap(cur) && cur->on_runq && may_run_on(cur, me)) {
        /*
         * Rate limit: a vCPU that still could run and has run for less
         * than the limit is not preempted yet (its slice cannot be over,
         * the limit is below the slice); the switch happens at the first
         * exit after it.
         */
        bool limited = !rq->yielded && now - rq->run_since < RATELIMIT_NS;
        if (!READ_ONCE(rq->need_resched) || limited) {
            set_timer_locked(rq, now);
            if (limited && rq->run_since + RATELIMIT_NS < rq->deadline) {
                rq->deadline = rq->run_since + RATELIMIT_NS;
                arch_set_timer(rq->deadline);
            }
            spin_unlock(&rq->lock);
            return;
        }
    }
    switch_to_next(cur, now);
}

void sched_start(void)
{
    u64 now = now_ns();
    struct vcpu *next;

    if (sched_smp_on()) {
        unsigned cpu;

        printk("Scheduler: guests run on all %u online CPUs (sched_smp=1; %s)\n",
               num_online_cpus(), parallel ? "a domain's vCPUs run in parallel"
                                           : "a domain's vCPUs share one CPU at a time");
        set_irq_handler(RESCHEDULE_VECTOR, reschedule_interrupt);
        __atomic_store_n(&smp_active, true, __ATOMIC_RELEASE);
        /* Wake the other CPUs from sched_start_secondary()'s wait. */
        for_each_cpu(cpu, &cpu_online_map)
            resched_cpu(cpu);
    } else if (num_online_cpus() > 1) {
        printk("Scheduler: guests run on CPU 0 only; the other %u CPUs idle "
               "(sched_smp=1 runs guests on them, docs/smp-boot.md)\n", num_online_cpus() - 1);
    }
    WRITE_ONCE(next_period, now);
    refill_credit(now);
    spin_lock(&this_rq()->lock);
    next = switch_to_next(NULL, now);
    arch_enter_vcpu(next);
}

void sched_start_secondary(void)
{
    /*
     * sched_start() sends the reschedule IPI once smp_active is set; with
     * sched_smp=0 that never happens, and grace periods must not wait for
     * this CPU meanwhile.
     */
    rcu_idle_enter();
    while (!__atomic_load_n(&smp_active, __ATOMIC_ACQUIRE)) {
        selftest_secondary();   /* selftest=panic-smp: CPU 1's part (never returns) */
        arch_idle_wait();
    }
    rcu_idle_exit();
    rcu_cpu_online(smp_processor_id());     /* grace periods wait for this CPU from now */
    spin_lock(&this_rq()->lock);
    arch_enter_vcpu(switch_to_next(NULL, now_ns()));
}

long sched_set_hard_affinity(struct vcpu *v, const cpumask_t *mask)
{
    struct domain *d = v->domain;
    struct run_queue *rq;
    cpumask_t old, allowed;
    unsigned cpu;

    cpumask_and(&allowed, mask, &cpu_online_map);
    if (cpumask_empty(&allowed))
        return -XEN_EINVAL;                 /* Xen's answer: no online CPU in it */
    if (!sched_smp_on() && !cpumask_test_cpu(0, mask)) {
        pr_warn("d%u v%u: affinity without CPU 0 refused: guests run on CPU 0 only "
                "(sched_smp=0 or one CPU)\n", d->domid, v->vcpu_id);
        return -XEN_EINVAL;
    }
    rq = vcpu_rq_lock(v);
    old = v->cpu_hard_affinity;
    v->cpu_hard_affinity = *mask;
    cpus_allowed(v, &allowed);
    if (cpumask_empty(&allowed)) {
        v->cpu_hard_affinity = old;
        spin_unlock(&rq->lock);
        pr_warn("d%u v%u: affinity refused: a domain's vCPUs share one CPU at a time "
                "(sched_parallel=0), and no online CPU suits every vCPU of d%u\n",
                d->domid, v->vcpu_id, d->domid);
        return -XEN_EINVAL;
    }
    cpu = v->processor;
    spin_unlock(&rq->lock);
    /* The CPU holding v moves it at its next decision, or an allowed one takes it. */
    if (!cpumask_test_cpu(cpu, &allowed)) {
        resched_cpu(cpu);
        resched_cpu(cpumask_first(&allowed));
    }
    return 0;
}

bool sched_vcpu_where(const struct vcpu *v, unsigned *cpu)
{
    *cpu = READ_ONCE(v->processor);
    return __atomic_load_n(&v->is_running, __ATOMIC_ACQUIRE);
}

bool sched_guests_on_several_cpus(void)
{
    return __atomic_load_n(&smp_active, __ATOMIC_ACQUIRE);
}

void sched_timers_changed(struct vcpu *v)
{
    if (v == current_vcpu())
        this_rq()->timers_changed = true;
    else
        resched_cpu(READ_ONCE(v->processor));
}

void sched_set_periodic(struct vcpu *v, u64 period_ns)
{
    struct run_queue *rq = vcpu_rq_lock(v);

    v->periodic_period = period_ns;
    v->periodic_next = now_ns() + period_ns;
    v->periodic_armed = period_ns != 0;
    spin_unlock(&rq->lock);
    sched_timers_changed(v);
}

bool sched_vcpus_in_parallel(void)
{
    return parallel;
}
