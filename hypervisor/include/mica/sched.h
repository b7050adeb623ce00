/*
 * The scheduler: which runnable vCPU each CPU runs, and for how long.
 *
 * Proportional share: each vCPU earns credit in proportion to its
 * domain's weight and spends it while running; the runnable vCPU with
 * the most credit runs next, for at most one time slice.  A domain's cap
 * (percent of one CPU) bounds what its vCPUs may spend per accounting
 * period even when the CPU would otherwise idle.
 */
#ifndef MICA_SCHED_H
#define MICA_SCHED_H

#include <mica/domain.h>

/* Scheduler state of a new vCPU: may run anywhere (hard and soft affinity all CPUs). */
void sched_init_vcpu(struct vcpu *v);
/*
 * XEN_DOMCTL_setvcpuaffinity's hard part: -XEN_EINVAL when mask holds no
 * online CPU (as Xen), or one Mica cannot honour yet (guests on CPU 0
 * only; no CPU shared by all the domain's vCPUs), with a console line.
 */
long sched_set_hard_affinity(struct vcpu *v, const cpumask_t *mask);

/* sched_smp=1 is in force: guests run on more than one CPU. */
bool sched_guests_on_several_cpus(void);

/* The CPU v runs on or last queued on; true when it is running there now. */
bool sched_vcpu_where(const struct vcpu *v, unsigned *cpu);
/* The credit scheduler's global parameters (XEN_SYSCTL_scheduler_op). */
struct sched_credit_params {
    u32 tslice_ms;
    u32 ratelimit_us;           /* 0: no rate limit */
    u32 migr_delay_us;          /* kept and reported; one CPU, no migration */
};
void sched_credit_params_get(struct sched_credit_params *p);
/* The caller has checked the values against Xen's ranges. */
void sched_credit_params_set(const struct sched_credit_params *p);

void sched_add_vcpu(struct vcpu *v);
void sched_remove_vcpu(struct vcpu *v);

/* Marks that the running vCPU should give up the CPU at the next exit. */
void sched_request_resched(void);

/*
 * True when this CPU has scheduling work due now (a timer or the time
 * slice has run out, or a vCPU was woken): a long hypercall then gives
 * the CPU back (mica/hypercall.h, hypercall_preempt_check).
 */
bool sched_work_due(void);

/* Blocks the current vCPU until an event is pending for it. */
void vcpu_block(struct vcpu *v);
/* Makes a blocked vCPU runnable (an event arrived). */
void vcpu_wake(struct vcpu *v);
/*
 * Brackets the delivery of an event the running vCPU sends to another
 * domain (EVTCHNOP_send): a vCPU it wakes on this CPU may wait for it
 * instead of preempting it (common/sched.c, docs/smp.md "Wake-ups and
 * preemption").  Not nested.
 */
void sched_guest_notify_begin(void);
void sched_guest_notify_end(void);
void vcpu_yield(struct vcpu *v);

/*
 * Called on every exit to a guest: if a reschedule is due, switches to
 * the next vCPU (idling while none is runnable).  Never returns to an
 * unrunnable vCPU.
 */
void sched_on_exit(void);

/* Runs the first vCPU; never returns. */
void sched_start(void) __attribute__((noreturn));
/*
 * A secondary CPU's life after bring-up: idles until sched_start() has
 * decided to run guests on it (sched_smp=1), then runs them.
 */
void sched_start_secondary(void) __attribute__((noreturn));

/*
 * Returns once no vCPU of d (other than the caller's own) is running on
 * any CPU; d's vCPUs must already be paused or off the run queues.  Holds
 * no scheduler lock while it waits, so it may be called with domctl_lock
 * held; it kicks the CPUs concerned.
 */
void sched_sync_domain(struct domain *d);

/* Run-queue locks and placement policy; before any domain is made (setup.c). */
void sched_init(void);
/* Chooses the CPUs of a new domain's vCPUs, before the domain is visible. */
void sched_place_domain(struct domain *d);
/* Pauses or unpauses one vCPU (its CPU is kicked to act on it). */
void sched_set_paused(struct vcpu *v, bool paused);
/* Takes v down (VCPUOP_down and the like). */
void sched_vcpu_down(struct vcpu *v);
/*
 * SCHEDOP_poll's sleep: blocks v unless a wake-up already cleared
 * v->polling (which the caller set, with the ports, before checking
 * them).  Returns whether v blocked.
 */
bool sched_poll_block(struct vcpu *v);
/* v's guest timers changed (set_timer_op, VCPUOP_set_*_timer): its CPU looks again. */
void sched_timers_changed(struct vcpu *v);
/*
 * VCPUOP_set/stop_periodic_timer (period_ns 0 stops it): the first event
 * one period from now; armed even if v is not running (as on Xen).
 */
void sched_set_periodic(struct vcpu *v, u64 period_ns);
/* sched_parallel=1 is in force: a domain's vCPUs may run on several CPUs at once. */
bool sched_vcpus_in_parallel(void);

/* Accounting and timer work from the timer interrupt. */
void sched_tick(u64 now);

#endif
