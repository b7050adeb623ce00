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

/* Blocks the current vCPU until an event is pending for it. */
void vcpu_block(struct vcpu *v);
/* Makes a blocked vCPU runnable (an event arrived). */
void vcpu_wake(struct vcpu *v);
void vcpu_yield(struct vcpu *v);

/*
 * Called on every exit to a guest: if a reschedule is due, switches to
 * the next vCPU (idling while none is runnable).  Never returns to an
 * unrunnable vCPU.
 */
void sched_on_exit(void);

/* Runs the first vCPU; never returns. */
void sched_start(void) __attribute__((noreturn));

/* Accounting and timer work from the timer interrupt. */
void sched_tick(u64 now);

#endif
