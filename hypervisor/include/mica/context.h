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

/*
 * VCPUOP_send_nmi: marks a virtual NMI pending for v (one at most) and
 * kicks it, so it is delivered at v's next return to the guest.
 */
void arch_vcpu_send_nmi(struct vcpu *v);

/* Waits for an interrupt with interrupts enabled, then disables them. */
void arch_idle_wait(void);

/*
 * VCPUOP_initialise: gives v (never initialised) the register context at
 * guest address arg; v stays down unless the context says VGCF_online.
 * 0, -XEN_EFAULT, -XEN_EEXIST, -XEN_EINVAL.
 */
long arch_initialise_vcpu(struct vcpu *v, u64 arg);

/*
 * domctl setvcpucontext: the context at the caller's address arg for v
 * (another domain's vCPU, not running).  A vCPU without a context gets
 * everything; one with a context keeps its roots, GDT and LDT, which the
 * context must repeat (-XEN_EOPNOTSUPP).  VGCF_online brings v up or
 * takes it down.  0, -XEN_EFAULT, -XEN_EINVAL, -XEN_EOPNOTSUPP, -XEN_ENOSYS.
 */
long arch_set_vcpu_context(struct vcpu *v, u64 arg);

/*
 * domctl setvcpucontext with no context: v goes down without a context.
 * 0, or HYPERCALL_CONTINUE (the call continued unchanged) when dropping
 * its page-table roots stopped part way.
 */
long arch_reset_vcpu(struct vcpu *v);

struct vcpu_guest_context;
/* domctl getvcpucontext: v's saved state (v has a context, is not running). */
void arch_get_vcpu_context(struct vcpu *v, struct vcpu_guest_context *c);

/*
 * Debug key 'r': the vCPU this CPU was running when the key came and the
 * registers of its last entry from the guest (where a guest that never
 * blocks spins), with the top of its stack.
 */
void arch_show_guest_frame(void);

/* Programs this CPU's timer to interrupt at absolute time `deadline` ns. */
void arch_set_timer(u64 deadline);

#endif
