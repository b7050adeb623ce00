/* Architecture hooks the scheduler uses to switch between vCPUs. */
#ifndef MICA_CONTEXT_H
#define MICA_CONTEXT_H

#include <mica/types.h>

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

/*
 * VCPUOP_initialise: gives v (never initialised) the register context at
 * guest address arg; v stays down unless the context says VGCF_online.
 * 0, -XEN_EFAULT, -XEN_EEXIST, -XEN_EINVAL.
 */
long arch_initialise_vcpu(struct vcpu *v, u64 arg);

/* Programs this CPU's timer to interrupt at absolute time `deadline` ns. */
void arch_set_timer(u64 deadline);

#endif
