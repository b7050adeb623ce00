/*
 * Per-CPU state found from the stack.
 *
 * Each CPU's stack block is STACK_SIZE bytes, aligned to its size, with a
 * struct cpu_info at the very top.  The first member is the register
 * frame of the current entry from a guest: TSS.rsp0 and the SYSCALL entry
 * both point just past it, so every entry from ring 3 lands its frame
 * there and C code finds it without searching.
 *
 * The block's lowest pages are the CPU's IST stacks (IST slot n is page
 * n - 1, desc.h), so a handler on an IST stack finds its CPU's state
 * from its own RSP, never from the RSP it interrupted (which may be a
 * guest's).  The primary stack is the rest, above them.
 */
#ifndef ASM_CURRENT_H
#define ASM_CURRENT_H

#define STACK_SIZE           0x10000
#define CPU_INFO_SIZE        240
#define CPU_INFO_CURRENT     176
#define CPU_INFO_CPU         184
#define CPU_INFO_SCRATCH_RSP 192
#define CPU_INFO_RSP0        200
#define CPU_INFO_XEN_CR3     208
#define CPU_INFO_PV_CR3      216

#ifndef __ASSEMBLY__
#include <asm/regs.h>

struct vcpu;

struct cpu_info {
    struct cpu_regs guest_regs;
    struct vcpu *current;
    u64 processor_id;
    u64 scratch_rsp;        /* guest RSP while the SYSCALL entry switches stacks */
    u64 rsp0;               /* &guest_regs + 1: stack top for entries from ring 3 */
    /*
     * XPTI (asm/xpti.h).  All three are this CPU's own, written with
     * interrupts off; an NMI, #MC or #DB may read them at any instruction.
     *
     * xen_cr3: non-zero from just before the exit code loads the root
     * page table until the next entry from the guest has loaded Mica's
     * full tables again: the CR3 (the guest's full L4) to load on entry.
     * pv_cr3: the root page table's CR3 to load on the exit to a guest,
     * 0 when the running guest does not use XPTI (then nothing switches).
     * root_src: the guest L4 whose slots the root table holds; 0 with
     * root_pgt_changed when they must be copied again before the exit.
     */
    u64 xen_cr3;
    u64 pv_cr3;
    u64 root_src;
    u64 root_pgt_changed;
};
_Static_assert(sizeof(struct cpu_info) == CPU_INFO_SIZE, "cpu_info size");
_Static_assert(__builtin_offsetof(struct cpu_info, current) == CPU_INFO_CURRENT, "cpu_info");
_Static_assert(__builtin_offsetof(struct cpu_info, processor_id) == CPU_INFO_CPU, "cpu_info");
_Static_assert(__builtin_offsetof(struct cpu_info, scratch_rsp) == CPU_INFO_SCRATCH_RSP, "cpu_info");
_Static_assert(__builtin_offsetof(struct cpu_info, rsp0) == CPU_INFO_RSP0, "cpu_info");
_Static_assert(__builtin_offsetof(struct cpu_info, xen_cr3) == CPU_INFO_XEN_CR3, "cpu_info");
_Static_assert(__builtin_offsetof(struct cpu_info, pv_cr3) == CPU_INFO_PV_CR3, "cpu_info");
/* The exit and entry code reach these fields from the guest frame, which starts the struct. */
_Static_assert(__builtin_offsetof(struct cpu_info, guest_regs) == 0, "cpu_info");
/* The hardware aligns the interrupt frame to 16 bytes: rsp0 must be. */
_Static_assert((STACK_SIZE - CPU_INFO_SIZE + sizeof(struct cpu_regs)) % 16 == 0, "rsp0 alignment");

static inline struct cpu_info *get_cpu_info(void)
{
    u64 sp;

    __asm__("mov %%rsp, %0" : "=r"(sp));
    return (struct cpu_info *)(uintptr_t)((sp | (STACK_SIZE - 1)) + 1 - CPU_INFO_SIZE);
}

static inline struct vcpu *current_vcpu(void)
{
    return get_cpu_info()->current;
}

static inline struct cpu_regs *guest_regs(void)
{
    return &get_cpu_info()->guest_regs;
}
#endif

#endif
