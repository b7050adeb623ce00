/* Architecture hooks the scheduler uses to switch between vCPUs. */
#ifndef MICA_CONTEXT_H
#define MICA_CONTEXT_H

struct vcpu;

/*
 * Saves prev's state (registers from the entry frame, segment bases, FPU)
 * and loads next's, including its page tables.  Either may be NULL
 * (nothing to save, or switching to idle).
 */
void arch_context_switch(struct vcpu *prev, struct vcpu *next);

/* Enters next's saved frame; never returns. */
void arch_enter_vcpu(struct vcpu *next) __attribute__((noreturn));

/* Waits for an interrupt with interrupts enabled, then disables them. */
void arch_idle_wait(void);

/* Programs this CPU's timer to interrupt at absolute time `deadline` ns. */
void arch_set_timer(u64 deadline);

#endif
