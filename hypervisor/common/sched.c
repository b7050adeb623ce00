/*
 * Credit scheduler (see mica/sched.h).
 *
 * One run queue per CPU; today Mica brings up one CPU, but nothing here
 * keeps global "current" state: the running vCPU is found through the
 * CPU's own cpu_info.  Credit is in nanoseconds of CPU time.  Every
 * accounting period each vCPU that wants the CPU earns period * weight /
 * total weight; running spends credit.  The vCPU with the most credit runs
 * next.  A capped domain whose vCPUs spent more than cap% of the period
 * waits for the next period.
 *
 * A vCPU woken from blocking is boosted: it runs ahead of vCPUs that
 * merely have credit, until it next gives up the CPU or has used up one
 * time slice.  That is what lets
 * a guest that mostly sleeps (waiting for timers or I/O) get its turn
 * promptly even when another vCPU spins through its whole time slice.
 */
#include <asm/current.h>
#include <asm/time.h>
#include <mica/context.h>
#include <mica/event.h>
#include <mica/lib.h>
#include <mica/sched.h>
#include <mica/time_guest.h>

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

struct run_queue {
    struct vcpu *vcpus;             /* all schedulable vCPUs of this CPU */
    bool need_resched;
    u64 slice_end;
    u64 next_period;
};

static struct run_queue runq;       /* CPU 0's; one per CPU with SMP */

void sched_add_vcpu(struct vcpu *v)
{
    for (struct vcpu *w = runq.vcpus; w; w = w->runq_next)
        if (w == v)
            return;
    v->runq_next = runq.vcpus;
    runq.vcpus = v;
}

void sched_remove_vcpu(struct vcpu *v)
{
    for (struct vcpu **p = &runq.vcpus; *p; p = &(*p)->runq_next) {
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
    runq.need_resched = true;
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
    sched_request_resched();
}

void vcpu_wake(struct vcpu *v)
{
    v->polling = false;
    if (v->state == VCPU_BLOCKED) {
        v->state = VCPU_RUNNABLE;
        v->boosted = true;
        sched_request_resched();
    }
}

void vcpu_yield(struct vcpu *v)
{
    /* Giving up the CPU costs half a slice in credit, and any boost. */
    v->boosted = false;
    v->credit -= (s64)TIMESLICE_NS / 2;
    sched_request_resched();
}

/* Earned credit for the period, split by weight among runnable vCPUs. */
static void refill_credit(u64 now)
{
    u64 total_weight = 0;

    for (struct vcpu *v = runq.vcpus; v; v = v->runq_next)
        if (can_run(v))
            total_weight += v->domain->sched_weight;
    for (struct vcpu *v = runq.vcpus; v; v = v->runq_next) {
        if (!can_run(v) || total_weight == 0)
            continue;
        v->credit += (s64)(PERIOD_NS * v->domain->sched_weight / total_weight);
        if (v->credit > (s64)MAX_CREDIT_NS)
            v->credit = MAX_CREDIT_NS;
    }
    runq.next_period = now + PERIOD_NS;
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

    for (struct vcpu *v = runq.vcpus; v; v = v->runq_next) {
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

/* The earliest moment this CPU must look at its timers and run queue. */
static u64 next_deadline(u64 now)
{
    u64 d = runq.next_period;

    if (runq.slice_end && runq.slice_end < d)
        d = runq.slice_end;
    for (struct vcpu *v = runq.vcpus; v; v = v->runq_next) {
        if (v->singleshot_deadline && v->singleshot_deadline < d)
            d = v->singleshot_deadline;
        if (v->periodic_period && v->periodic_next < d)
            d = v->periodic_next;
        if (v->polling && v->poll_deadline && v->poll_deadline < d)
            d = v->poll_deadline;
    }
    return d > now ? d : now + 1000;
}

void sched_tick(u64 now)
{
    for (struct vcpu *v = runq.vcpus; v; v = v->runq_next) {
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
    if (now >= runq.next_period)
        refill_credit(now);
    if (runq.slice_end && now >= runq.slice_end)
        runq.need_resched = true;
}

static struct vcpu *switch_to_next(struct vcpu *prev, u64 now)
{
    struct vcpu *next;

    for (;;) {
        sched_tick(now);
        next = pick_next();
        if (next)
            break;
        if (!runq.vcpus)
            domain_check_machine_end();
        /* Idle: wait for an interrupt (a timer, a device) to wake someone. */
        runq.slice_end = 0;
        if (prev) {
            vcpu_runstate_change(prev, prev->state == VCPU_BLOCKED ? RUNSTATE_blocked :
                                       prev->state == VCPU_DOWN ? RUNSTATE_offline :
                                       RUNSTATE_runnable, now);
            vcpu_runstate_publish(prev);
            arch_context_switch(prev, NULL);
            get_cpu_info()->current = NULL;
            prev = NULL;
        }
        arch_set_timer(next_deadline(now));
        arch_idle_wait();
        now = now_ns();
    }
    if (next != prev) {
        if (prev)
            prev->boosted = false;
        if (prev) {
            vcpu_runstate_change(prev, prev->state == VCPU_BLOCKED ? RUNSTATE_blocked :
                                       prev->state == VCPU_DOWN ? RUNSTATE_offline :
                                       RUNSTATE_runnable, now);
            vcpu_runstate_publish(prev);    /* prev's page tables are still live */
        }
        arch_context_switch(prev, next);
        get_cpu_info()->current = next;
        vcpu_runstate_change(next, RUNSTATE_running, now);
        vcpu_runstate_publish(next);
        update_vcpu_time(next);
    } else {
        /* Staying on: still account, so the guest's copy keeps moving. */
        vcpu_runstate_change(next, RUNSTATE_running, now);
        vcpu_runstate_publish(next);
    }
    next->run_start_ns = now;
    runq.slice_end = now + TIMESLICE_NS;
    runq.need_resched = false;
    arch_set_timer(next_deadline(now));
    return next;
}

void sched_on_exit(void)
{
    struct vcpu *cur = current_vcpu();
    u64 now = now_ns();

    account(cur, now);
    sched_tick(now);
    /*
     * A boost lasts one time slice at most (Xen's credit1 likewise ends it
     * at the next accounting): a woken vCPU that then spins, say waiting
     * for another vCPU of its domain, must not starve that vCPU.
     */
    if (cur && cur->boosted && runq.slice_end && now >= runq.slice_end)
        cur->boosted = false;
    if (!runq.need_resched && cur && can_run(cur) && !over_cap(cur)) {
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

    refill_credit(now);
    next = switch_to_next(NULL, now);
    arch_enter_vcpu(next);
}
