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
