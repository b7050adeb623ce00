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
#define CPU_INFO_SIZE        208
#define CPU_INFO_CURRENT     176
#define CPU_INFO_CPU         184
#define CPU_INFO_SCRATCH_RSP 192
#define CPU_INFO_RSP0        200

#ifndef __ASSEMBLY__
#include <asm/regs.h>

struct vcpu;

struct cpu_info {
    struct cpu_regs guest_regs;
    struct vcpu *current;
    u64 processor_id;
    u64 scratch_rsp;        /* guest RSP while the SYSCALL entry switches stacks */
    u64 rsp0;               /* &guest_regs + 1: stack top for entries from ring 3 */
};
_Static_assert(sizeof(struct cpu_info) == CPU_INFO_SIZE, "cpu_info size");
_Static_assert(__builtin_offsetof(struct cpu_info, current) == CPU_INFO_CURRENT, "cpu_info");
_Static_assert(__builtin_offsetof(struct cpu_info, processor_id) == CPU_INFO_CPU, "cpu_info");
_Static_assert(__builtin_offsetof(struct cpu_info, scratch_rsp) == CPU_INFO_SCRATCH_RSP, "cpu_info");
_Static_assert(__builtin_offsetof(struct cpu_info, rsp0) == CPU_INFO_RSP0, "cpu_info");
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
