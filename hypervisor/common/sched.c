/*
 * Credit scheduler (see mica/sched.h).
 *
 * One run queue per CPU; the running vCPU is found through the CPU's own
 * cpu_info.  Credit is in nanoseconds of CPU time.  Every accounting
 * period each vCPU that wants a CPU earns its share of the period times
 * the number of CPUs in use, split by weight over every runnable vCPU on
 * every queue (at most one CPU's worth each); running spends credit.  On
 * each CPU the vCPU with the most credit runs next.  A capped domain whose
 * vCPUs spent more than cap% of the period waits for the next period.
 *
 * Several CPUs (sched_smp=1, docs/smp-boot.md): all vCPUs of a domain
 * sit on one queue, the domain's sched_cpu, so they never run at the
 * same moment on two CPUs (Mica cannot yet flush other CPUs' TLBs when a
 * guest changes its page tables).  A CPU with nothing to run takes a
 * whole domain that waits on a busy CPU's queue (work stealing); a wake-up
 * for another CPU's queue kicks that CPU, and an idle one, with the
 * reschedule IPI.  Until the shared subsystems have their own locks, one
 * lock, sched_lock, is held whenever a CPU runs Mica code with guests on
 * several CPUs: from each entry from a guest to the return, and in the
 * idle loop except while halted.  Guests run in parallel; Mica's own code
 * does not.  With sched_smp=0 (the default) or one CPU, everything runs
 * on CPU 0 and the lock is never taken.
 *
 * A vCPU woken from blocking is boosted: it runs ahead of vCPUs that
 * merely have credit, until it next gives up the CPU or has used up one
 * time slice.  That is what lets
 * a guest that mostly sleeps (waiting for timers or I/O) get its turn
 * promptly even when another vCPU spins through its whole time slice.
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
#include <mica/sched.h>
#include <mica/spinlock.h>
#include <mica/time_guest.h>
#include <public/errno.h>

/*
 * Scheduler-wide parameters (XEN_SYSCTL_scheduler_op): the time slice, and
 * the rate limit under which a running vCPU is not preempted by a wakeup.
 * Mica starts without a rate limit (Xen's credit default is 1 ms).
 */
static struct sched_credit_params params = {
    .tslice_ms = CONFIG_SCHED_TIMESLICE_MS, .ratelimit_us = 0, .migr_delay_us = 0,
};

#define TIMESLICE_NS ((u64)params.tslice_ms * 1000000ULL)
#define RATELIMIT_NS ((u64)params.ratelimit_us * 1000ULL)
#define PERIOD_NS (3 * TIMESLICE_NS)
#define MAX_CREDIT_NS (2 * PERIOD_NS)

/* Every field is guarded by sched_lock when SMP scheduling is on. */
struct run_queue {
    struct vcpu *vcpus;             /* all schedulable vCPUs of this CPU */
    struct vcpu *curr;              /* what the CPU runs (NULL: idle), for other CPUs to see */
    bool need_resched;
    u64 slice_end;
};

static DEFINE_PER_CPU(struct run_queue, runq);
static u64 next_period;             /* the end of the accounting period, for all CPUs */

/* sched_smp=1: run guests on every online CPU (docs/smp-boot.md). */
static bool sched_smp_wanted;
boolean_param("sched_smp", sched_smp_wanted);

static bool smp_active;             /* set once by sched_start(): sched_smp=1 and CPUs > 1 */
static DEFINE_SPINLOCK(sched_lock, LOCK_ORDER_SCHED_BIG);
static DEFINE_PER_CPU(bool, sched_lock_held);
static cpumask_t idle_cpus;         /* CPUs halted with nothing to run; atomic bit updates */

#define this_rq() (&this_cpu(runq))

bool sched_lock_enter(void)
{
    if (!__atomic_load_n(&smp_active, __ATOMIC_RELAXED) || this_cpu(sched_lock_held))
        return false;
    spin_lock(&sched_lock);
    this_cpu(sched_lock_held) = true;
    return true;
}

void sched_lock_leave(bool taken)
{
    if (!taken)
        return;
    this_cpu(sched_lock_held) = false;
    spin_unlock(&sched_lock);
}

void sched_lock_before_guest(void)
{
    sched_lock_leave(this_cpu(sched_lock_held));
}

static void reschedule_interrupt(struct cpu_regs *regs)
{
    /* The sender set need_resched; the exit path or idle loop acts on it. */
    lapic_eoi();
}

/* Makes cpu look at its run queue again soon. */
static void resched_cpu(unsigned cpu)
{
    per_cpu(runq, cpu).need_resched = true;
    if (cpu != smp_processor_id() && smp_active)
        lapic_send_ipi(cpu_apic_id(cpu), RESCHEDULE_VECTOR);
}

/* Wakes one idle CPU (other than this one), which then looks for work to take. */
static void kick_idle_cpu(void)
{
    unsigned cpu, me = smp_processor_id();

    if (!smp_active)
        return;
    for_each_cpu(cpu, &idle_cpus)
        if (cpu != me) {
            resched_cpu(cpu);
            return;
        }
}

/*
 * The online CPUs every vCPU of d may run on (the domain's vCPUs share a
 * queue, so its CPU must suit them all).
 */
static void domain_cpus_allowed(const struct domain *d, cpumask_t *out)
{
    cpumask_copy(out, &cpu_online_map);
    for (unsigned i = 0; i < d->max_vcpus; i++)
        if (d->vcpus[i])
            cpumask_and(out, out, &d->vcpus[i]->cpu_hard_affinity);
}

static bool domain_may_run_on(const struct domain *d, unsigned cpu)
{
    for (unsigned i = 0; i < d->max_vcpus; i++)
        if (d->vcpus[i] && !cpumask_test_cpu(cpu, &d->vcpus[i]->cpu_hard_affinity))
            return false;
    return true;
}

/* The CPU with the fewest queued vCPUs, among those d may run on. */
static unsigned least_loaded_cpu(const struct domain *d)
{
    unsigned best = 0, best_n = ~0u, cpu;
    cpumask_t allowed;

    domain_cpus_allowed(d, &allowed);
    for_each_cpu(cpu, &allowed) {
        unsigned n = 0;
        for (struct vcpu *w = per_cpu(runq, cpu).vcpus; w; w = w->runq_next)
            n++;
        if (n < best_n) {
            best = cpu;
            best_n = n;
        }
    }
    return best;
}

static bool sched_smp_on(void)
{
    return sched_smp_wanted && num_online_cpus() > 1;
}

void sched_add_vcpu(struct vcpu *v)
{
    struct domain *d = v->domain;
    struct run_queue *rq;

    if (!d->sched_placed) {
        d->sched_cpu = sched_smp_on() ? least_loaded_cpu(d) : 0;
        d->sched_placed = true;
    }
    rq = &per_cpu(runq, d->sched_cpu);
    for (struct vcpu *w = rq->vcpus; w; w = w->runq_next)
        if (w == v)
            return;
    v->runq_next = rq->vcpus;
    rq->vcpus = v;
    if (d->sched_cpu != smp_processor_id())
        resched_cpu(d->sched_cpu);
}

void sched_remove_vcpu(struct vcpu *v)
{
    struct run_queue *rq = &per_cpu(runq, v->domain->sched_cpu);

    for (struct vcpu **p = &rq->vcpus; *p; p = &(*p)->runq_next) {
        if (*p == v) {
            *p = v->runq_next;
            v->runq_next = NULL;
            return;
        }
    }
}

void sched_credit_params_get(struct sched_credit_params *p)
{
    *p = params;
}

void sched_credit_params_set(const struct sched_credit_params *p)
{
    params = *p;
}

void sched_request_resched(void)
{
    unsigned cpu;

    this_rq()->need_resched = true;
    if (!smp_active)
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
    bool again = true;

    if (!smp_active)
        return;
    while (again) {
        unsigned cpu;
        again = false;
        for_each_cpu(cpu, &cpu_online_map) {
            struct vcpu *c = __atomic_load_n(&per_cpu(runq, cpu).curr, __ATOMIC_ACQUIRE);
            if (cpu == smp_processor_id() || !c || c->domain != d)
                continue;
            /* Let that CPU in to switch away: it needs the lock for that. */
            resched_cpu(cpu);
            again = true;
        }
        if (again) {
            spin_unlock(&sched_lock);
            udelay(10);
            /*
             * Taken back under the caller's inner locks (domctl_lock): by
             * trylock, which the lock-order check allows.  No deadlock: a
             * CPU holding sched_lock could only wait for domctl_lock from a
             * vCPU of dom0, and dom0's vCPUs all share this CPU.
             */
            while (!spin_trylock(&sched_lock))
                cpu_relax();
        }
    }
}

static bool can_run(const struct vcpu *v)
{
    return v->state == VCPU_RUNNABLE && !v->paused && !v->domain->is_shutdown;
}

void vcpu_block(struct vcpu *v)
{
    v->state = VCPU_BLOCKED;
    /* An event that arrived before blocking must not be slept through. */
    if (event_pending(v))
        v->state = VCPU_RUNNABLE;
    this_rq()->need_resched = true;
}

void vcpu_wake(struct vcpu *v)
{
    unsigned cpu = v->domain->sched_cpu;
    struct run_queue *rq = &per_cpu(runq, cpu);

    v->polling = false;
    if (v->state == VCPU_BLOCKED) {
        v->state = VCPU_RUNNABLE;
        v->boosted = true;
        resched_cpu(cpu);
        /* Its CPU is busy with another domain: an idle CPU may take this one. */
        if (rq->curr && rq->curr->domain != v->domain)
            kick_idle_cpu();
    } else if (cpu != smp_processor_id() && rq->curr == v) {
        /* Running elsewhere: interrupt it so it takes its event upcall now. */
        resched_cpu(cpu);
    }
}

void vcpu_yield(struct vcpu *v)
{
    /* Giving up the CPU costs half a slice in credit, and any boost. */
    v->boosted = false;
    v->credit -= (s64)TIMESLICE_NS / 2;
    this_rq()->need_resched = true;
}

/*
 * Earned credit for the period: the CPUs' combined time, split by weight
 * among runnable vCPUs on every queue, no vCPU earning more than the one
 * CPU it can use.
 */
static void refill_credit(u64 now)
{
    u64 total_weight = 0, ncpus = smp_active ? num_online_cpus() : 1;
    unsigned cpu;

    for_each_cpu(cpu, &cpu_online_map)
        for (struct vcpu *v = per_cpu(runq, cpu).vcpus; v; v = v->runq_next)
            if (can_run(v))
                total_weight += v->domain->sched_weight;
    for_each_cpu(cpu, &cpu_online_map) {
        for (struct vcpu *v = per_cpu(runq, cpu).vcpus; v; v = v->runq_next) {
            if (!can_run(v) || total_weight == 0)
                continue;
            v->credit += (s64)MIN(PERIOD_NS * ncpus * v->domain->sched_weight / total_weight,
                                  PERIOD_NS);
            if (v->credit > (s64)MAX_CREDIT_NS)
                v->credit = MAX_CREDIT_NS;
        }
    }
    next_period = now + PERIOD_NS;
}

static bool over_cap(const struct vcpu *v)
{
    const struct domain *d = v->domain;
    /* Credit below -cap% of a period means the cap's share is spent. */
    return d->sched_cap && v->credit < -(s64)(PERIOD_NS * d->sched_cap / 100);
}

static struct vcpu *pick_next(void)
{
    struct vcpu *best = NULL;

    for (struct vcpu *v = this_rq()->vcpus; v; v = v->runq_next) {
        if (!can_run(v) || over_cap(v))
            continue;
        if (!best || (v->boosted && !best->boosted) ||
            (v->boosted == best->boosted && v->credit > best->credit))
            best = v;
    }
    return best;
}

static void account(struct vcpu *v, u64 now)
{
    if (!v)
        return;
    v->runtime_ns += now - v->run_start_ns;
    v->credit -= (s64)(now - v->run_start_ns);
    v->run_start_ns = now;
}

/* Moves every vCPU of d from from's queue to cpu's, and d with them. */
static void move_domain(struct domain *d, struct run_queue *from, unsigned cpu)
{
    struct run_queue *to = &per_cpu(runq, cpu);

    for (struct vcpu **p = &from->vcpus; *p;) {
        struct vcpu *w = *p;
        if (w->domain != d) {
            p = &w->runq_next;
            continue;
        }
        *p = w->runq_next;
        w->runq_next = to->vcpus;
        to->vcpus = w;
    }
    d->sched_cpu = cpu;
}

/*
 * Domains on this CPU's queue whose vCPUs' hard affinity no longer allows
 * it go to a CPU they allow.  Run where the queue's CPU is not running
 * them (their state is saved or is saved before sched_lock is released).
 */
static void evict_disallowed(void)
{
    unsigned me = smp_processor_id();
    struct run_queue *rq = this_rq();
    bool moved = true;

    while (moved) {
        moved = false;
        for (struct vcpu *v = rq->vcpus; v; v = v->runq_next) {
            cpumask_t allowed;
            unsigned to;

            if (domain_may_run_on(v->domain, me))
                continue;
            domain_cpus_allowed(v->domain, &allowed);
            to = cpumask_first(&allowed);
            if (to >= NR_CPUS)
                continue;       /* refused by sched_set_hard_affinity(); cannot happen */
            move_domain(v->domain, rq, to);
            resched_cpu(to);
            moved = true;
            break;
        }
    }
}

/*
 * Work stealing: an idle CPU takes a domain that waits on the queue of a
 * CPU busy with another domain, all its vCPUs at once (they share one
 * queue).  A domain none of whose vCPUs runs has its state saved (the
 * switch away saved it before curr changed), so this CPU may load it.
 */
static struct vcpu *steal_work(void)
{
    unsigned me = smp_processor_id(), cpu;

    if (!smp_active)
        return NULL;
    for_each_cpu(cpu, &cpu_online_map) {
        struct run_queue *rq = &per_cpu(runq, cpu);

        if (cpu == me || !rq->curr)
            continue;
        for (struct vcpu *v = rq->vcpus; v; v = v->runq_next) {
            struct domain *d = v->domain;
            if (d == rq->curr->domain || !can_run(v) || over_cap(v) ||
                !domain_may_run_on(d, me))
                continue;
            move_domain(d, rq, me);
            return pick_next();
        }
    }
    return NULL;
}

/* The earliest moment this CPU must look at its timers and run queue. */
static u64 earliest_deadline(void)
{
    struct run_queue *rq = this_rq();
    u64 d = next_period;

    if (rq->slice_end && rq->slice_end < d)
        d = rq->slice_end;
    for (struct vcpu *v = rq->vcpus; v; v = v->runq_next) {
        if (v->singleshot_deadline && v->singleshot_deadline < d)
            d = v->singleshot_deadline;
        if (v->periodic_period && v->periodic_next < d)
            d = v->periodic_next;
        if (v->polling && v->poll_deadline && v->poll_deadline < d)
            d = v->poll_deadline;
    }
    return d;
}

static u64 next_deadline(u64 now)
{
    u64 d = earliest_deadline();

    return d > now ? d : now + 1000;
}

bool sched_work_due(void)
{
    return READ_ONCE(this_rq()->need_resched) || now_ns() >= earliest_deadline();
}

void sched_tick(u64 now)
{
    struct run_queue *rq = this_rq();

    for (struct vcpu *v = rq->vcpus; v; v = v->runq_next) {
        if (v->polling && v->poll_deadline && v->poll_deadline <= now)
            vcpu_wake(v);
        if (v->singleshot_deadline && v->singleshot_deadline <= now) {
            v->singleshot_deadline = 0;
            send_timer_virq(v);
        }
        if (v->periodic_period && v->periodic_next <= now) {
            /* Missed periods collapse into one event, as on real timers. */
            while (v->periodic_next <= now)
                v->periodic_next += v->periodic_period;
            send_timer_virq(v);
        }
    }
    if (now >= next_period)
        refill_credit(now);
    if (rq->slice_end && now >= rq->slice_end)
        rq->need_resched = true;
}

/* Leaves prev (saving its state) for nothing: this CPU goes idle. */
static void switch_to_idle(struct vcpu *prev, u64 now)
{
    vcpu_runstate_change(prev, prev->state == VCPU_BLOCKED ? RUNSTATE_blocked :
                               prev->state == VCPU_DOWN ? RUNSTATE_offline :
                               RUNSTATE_runnable, now);
    vcpu_runstate_publish(prev);
    arch_context_switch(prev, NULL);
    get_cpu_info()->current = NULL;
    __atomic_store_n(&this_rq()->curr, NULL, __ATOMIC_RELEASE);
}

/* Halts until an interrupt; other CPUs may run Mica meanwhile. */
static void idle_wait(u64 now)
{
    bool held = this_cpu(sched_lock_held);

    arch_set_timer(next_deadline(now));
    cpumask_set_cpu(smp_processor_id(), &idle_cpus);
    rcu_quiescent();                    /* idle: no lookup results held */
    sched_lock_leave(held);
    rcu_idle_enter();               /* idle: no lookup results held */
    arch_idle_wait();
    rcu_idle_exit();
    if (held)
        sched_lock_enter();
    cpumask_clear_cpu(smp_processor_id(), &idle_cpus);
}

static struct vcpu *switch_to_next(struct vcpu *prev, u64 now)
{
    struct run_queue *rq = this_rq();
    struct vcpu *next;

    for (;;) {
        sched_tick(now);
        rq->need_resched = false;
        if (smp_active)
            evict_disallowed();
        next = pick_next();
        if (!next && prev) {
            /* Save prev before looking elsewhere: another CPU may take its domain. */
            switch_to_idle(prev, now);
            prev = NULL;
        }
        if (!next)
            next = steal_work();
        if (next)
            break;
        if (!rq->vcpus)
            domain_check_machine_end();
        /* Idle: wait for an interrupt (a timer, a device, another CPU) to wake someone. */
        rq->slice_end = 0;
        idle_wait(now);
        now = now_ns();
    }
    /* prev's domain waits while next's runs here: an idle CPU may take it. */
    if (prev && next->domain != prev->domain && can_run(prev))
        kick_idle_cpu();
    if (next != prev) {
        if (prev)
            prev->boosted = false;
        if (prev) {
            vcpu_runstate_change(prev, prev->state == VCPU_BLOCKED ? RUNSTATE_blocked :
                                       prev->state == VCPU_DOWN ? RUNSTATE_offline :
                                       RUNSTATE_runnable, now);
            vcpu_runstate_publish(prev);    /* prev's page tables are still live */
        }
        /*
         * next is current before its state is loaded: a fault while the
         * switch loads next's selectors (an LDT page mapped on first use)
         * is next's to resolve, not prev's.
         */
        get_cpu_info()->current = next;
        arch_context_switch(prev, next);
        __atomic_store_n(&rq->curr, next, __ATOMIC_RELEASE);
        vcpu_runstate_change(next, RUNSTATE_running, now);
        vcpu_runstate_publish(next);
        update_vcpu_time(next);
    } else {
        /* Staying on: still account, so the guest's copy keeps moving. */
        vcpu_runstate_change(next, RUNSTATE_running, now);
        vcpu_runstate_publish(next);
    }
    next->run_start_ns = now;
    rq->slice_end = now + TIMESLICE_NS;
    rq->need_resched = false;
    arch_set_timer(next_deadline(now));
    return next;
}

void sched_on_exit(void)
{
    struct vcpu *cur = current_vcpu();
    u64 now = now_ns();

    rcu_quiescent();                    /* the hypercall or trap is over */
    account(cur, now);
    sched_tick(now);
    /*
     * A boost lasts one time slice at most (Xen's credit1 likewise ends it
     * at the next accounting): a woken vCPU that then spins, say waiting
     * for another vCPU of its domain, must not starve that vCPU.
     */
    if (cur && cur->boosted && this_rq()->slice_end && now >= this_rq()->slice_end)
        cur->boosted = false;
    if (!this_rq()->need_resched && cur && can_run(cur) && !over_cap(cur) &&
        cur->domain->sched_cpu == smp_processor_id()) {
        arch_set_timer(next_deadline(now));
        return;
    }
    /*
     * Rate limit: a vCPU that still could run and has run for less than the
     * limit is not preempted yet (its slice cannot be over, the limit is
     * below the slice); the switch happens at the first exit after it.
     */
    if (cur && can_run(cur) && !over_cap(cur) && now - cur->run_start_ns < RATELIMIT_NS) {
        u64 d = next_deadline(now), until = cur->run_start_ns + RATELIMIT_NS;
        arch_set_timer(until < d ? until : d);
        return;
    }
    switch_to_next(cur, now);
}

void sched_start(void)
{
    u64 now = now_ns();
    struct vcpu *next;

    if (sched_smp_on()) {
        unsigned cpu;

        printk("Scheduler: guests run on all %u online CPUs (sched_smp=1)\n", num_online_cpus());
        set_irq_handler(RESCHEDULE_VECTOR, reschedule_interrupt);
        __atomic_store_n(&smp_active, true, __ATOMIC_RELEASE);
        sched_lock_enter();
        /* Wake the other CPUs from sched_start_secondary()'s wait. */
        for_each_cpu(cpu, &cpu_online_map)
            resched_cpu(cpu);
    } else if (num_online_cpus() > 1) {
        printk("Scheduler: guests run on CPU 0 only; the other %u CPUs idle "
               "(sched_smp=1 runs guests on them, docs/smp-boot.md)\n", num_online_cpus() - 1);
    }
    refill_credit(now);
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
    while (!__atomic_load_n(&smp_active, __ATOMIC_ACQUIRE))
        arch_idle_wait();
    rcu_idle_exit();
    sched_lock_enter();
    rcu_cpu_online(smp_processor_id());     /* grace periods wait for this CPU from now */
    arch_enter_vcpu(switch_to_next(NULL, now_ns()));
}

void sched_init_vcpu(struct vcpu *v)
{
    /* As on Xen: every CPU, hard and soft, until the toolstack says otherwise. */
    for (unsigned cpu = 0; cpu < NR_CPUS; cpu++) {
        __cpumask_set_cpu(cpu, &v->cpu_hard_affinity);
        __cpumask_set_cpu(cpu, &v->cpu_soft_affinity);
    }
}

long sched_set_hard_affinity(struct vcpu *v, const cpumask_t *mask)
{
    struct domain *d = v->domain;
    cpumask_t old = v->cpu_hard_affinity, allowed;

    cpumask_and(&allowed, mask, &cpu_online_map);
    if (cpumask_empty(&allowed))
        return -XEN_EINVAL;                 /* Xen's answer: no online CPU in it */
    if (!sched_smp_on() && !cpumask_test_cpu(0, mask)) {
        pr_warn("d%u v%u: affinity without CPU 0 refused: guests run on CPU 0 only "
                "(sched_smp=0 or one CPU)\n", d->domid, v->vcpu_id);
        return -XEN_EINVAL;
    }
    v->cpu_hard_affinity = *mask;
    domain_cpus_allowed(d, &allowed);
    if (cpumask_empty(&allowed)) {
        v->cpu_hard_affinity = old;
        pr_warn("d%u v%u: affinity refused: Mica runs all of a domain's vCPUs on one CPU "
                "for now, and no online CPU suits every vCPU of d%u\n",
                d->domid, v->vcpu_id, d->domid);
        return -XEN_EINVAL;
    }
    /* The CPU holding d moves it at its next scheduling decision. */
    if (d->sched_placed && !cpumask_test_cpu(d->sched_cpu, &allowed))
        resched_cpu(d->sched_cpu);
    return 0;
}

bool sched_vcpu_where(const struct vcpu *v, unsigned *cpu)
{
    *cpu = v->domain->sched_cpu;
    return __atomic_load_n(&per_cpu(runq, *cpu).curr, __ATOMIC_ACQUIRE) == v;
}

bool sched_guests_on_several_cpus(void)
{
    return __atomic_load_n(&smp_active, __ATOMIC_ACQUIRE);
}
