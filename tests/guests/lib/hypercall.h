/*
 * Hypercalls from a test kernel.  The normal path calls the slot of the
 * hypercall page the hypervisor wrote (the ABI: guests must not assume
 * what is in it); hypercall_raw() issues SYSCALL directly, which is the
 * only way to ask for numbers beyond the page's 128 slots.
 *
 * Every argument register is declared clobbered: the ABI lets debug
 * builds of Xen poison them.
 */
#ifndef GUEST_HYPERCALL_H
#define GUEST_HYPERCALL_H

#include <public/xen.h>
#include <public/errno.h>
#include <public/version.h>
#include <public/sched.h>
#include <public/vcpu.h>
#include <public/event_channel.h>
#include <public/callback.h>
#include <public/physdev.h>

extern char hypercall_page[4096];

/* True when rip is on the SYSCALL of hypercall nr's page slot: where an
 * upcall lands when the hypervisor preempted the call to continue it
 * (the guest re-executes the SYSCALL). */
static inline int rip_on_hypercall_syscall(unsigned long rip, unsigned nr)
{
    unsigned long stub = (unsigned long)hypercall_page + nr * 32;
    const unsigned char *insn = (const unsigned char *)rip;

    return rip >= stub && rip + 2 <= stub + 32 && insn[0] == 0x0f && insn[1] == 0x05;
}

static inline long hypercall5(unsigned nr, unsigned long a1, unsigned long a2,
                              unsigned long a3, unsigned long a4,
                              unsigned long a5)
{
    register unsigned long r10 __asm__("r10") = a4;
    register unsigned long r8 __asm__("r8") = a5;
    long ret = (long)(hypercall_page + nr * 32);

    __asm__ volatile("call *%%rax"
                     : "+a"(ret), "+D"(a1), "+S"(a2), "+d"(a3), "+r"(r10), "+r"(r8)
                     :
                     : "memory", "r9", "r11", "rcx", "cc");
    return ret;
}

static inline long hypercall_raw(unsigned long nr, unsigned long a1,
                                 unsigned long a2, unsigned long a3)
{
    long ret = (long)nr;

    __asm__ volatile("syscall"
                     : "+a"(ret), "+D"(a1), "+S"(a2), "+d"(a3)
                     :
                     : "memory", "rcx", "r11", "r10", "r8", "r9", "cc");
    return ret;
}

#define HC(nr, a1, a2, a3) \
    hypercall5((nr), (unsigned long)(a1), (unsigned long)(a2), (unsigned long)(a3), 0, 0)

static inline long HYPERVISOR_set_trap_table(const struct trap_info *t)
{ return HC(__HYPERVISOR_set_trap_table, t, 0, 0); }
static inline long HYPERVISOR_mmu_update(struct mmu_update *r, unsigned n,
                                         unsigned *done, unsigned dom)
{ return hypercall5(__HYPERVISOR_mmu_update, (unsigned long)r, n, (unsigned long)done, dom, 0); }
static inline long HYPERVISOR_set_gdt(const uint64_t *frames, unsigned long entries)
{ return HC(__HYPERVISOR_set_gdt, frames, entries, 0); }
static inline long HYPERVISOR_stack_switch(unsigned long ss, unsigned long sp)
{ return HC(__HYPERVISOR_stack_switch, ss, sp, 0); }
static inline long HYPERVISOR_set_callbacks(unsigned long ev, unsigned long fs,
                                            unsigned long sc)
{ return HC(__HYPERVISOR_set_callbacks, ev, fs, sc); }
static inline long HYPERVISOR_fpu_taskswitch(int set)
{ return HC(__HYPERVISOR_fpu_taskswitch, set, 0, 0); }
static inline long HYPERVISOR_update_descriptor(uint64_t ma, uint64_t desc)
{ return HC(__HYPERVISOR_update_descriptor, ma, desc, 0); }
static inline long HYPERVISOR_memory_op(unsigned cmd, void *arg)
{ return HC(__HYPERVISOR_memory_op, cmd, arg, 0); }
static inline long HYPERVISOR_multicall(void *list, unsigned long nr)
{ return HC(__HYPERVISOR_multicall, list, nr, 0); }
static inline long HYPERVISOR_update_va_mapping(unsigned long va, uint64_t pte,
                                                unsigned long flags)
{ return HC(__HYPERVISOR_update_va_mapping, va, pte, flags); }
static inline long HYPERVISOR_set_timer_op(uint64_t deadline)
{ return HC(__HYPERVISOR_set_timer_op, deadline, 0, 0); }
static inline long HYPERVISOR_set_debugreg(unsigned reg, uint64_t value)
{ return HC(__HYPERVISOR_set_debugreg, reg, value, 0); }
static inline long HYPERVISOR_get_debugreg(unsigned reg)
{ return HC(__HYPERVISOR_get_debugreg, reg, 0, 0); }
static inline long HYPERVISOR_xen_version(int cmd, void *arg)
{ return HC(__HYPERVISOR_xen_version, cmd, arg, 0); }
static inline long HYPERVISOR_console_io(int cmd, unsigned long count, const void *buf)
{ return HC(__HYPERVISOR_console_io, cmd, count, buf); }
static inline long HYPERVISOR_vm_assist(unsigned cmd, unsigned type)
{ return HC(__HYPERVISOR_vm_assist, cmd, type, 0); }
static inline long HYPERVISOR_vcpu_op(int cmd, unsigned vcpu, void *arg)
{ return HC(__HYPERVISOR_vcpu_op, cmd, vcpu, arg); }
static inline long HYPERVISOR_set_segment_base(unsigned which, unsigned long base)
{ return HC(__HYPERVISOR_set_segment_base, which, base, 0); }
static inline long HYPERVISOR_mmuext_op(struct mmuext_op *op, unsigned n,
                                        unsigned *done, unsigned dom)
{ return hypercall5(__HYPERVISOR_mmuext_op, (unsigned long)op, n, (unsigned long)done, dom, 0); }
static inline long HYPERVISOR_sched_op(int cmd, void *arg)
{ return HC(__HYPERVISOR_sched_op, cmd, arg, 0); }
static inline long HYPERVISOR_callback_op(int cmd, const void *arg)
{ return HC(__HYPERVISOR_callback_op, cmd, arg, 0); }
static inline long HYPERVISOR_event_channel_op(int cmd, void *arg)
{ return HC(__HYPERVISOR_event_channel_op, cmd, arg, 0); }
static inline long HYPERVISOR_physdev_op(int cmd, void *arg)
{ return HC(__HYPERVISOR_physdev_op, cmd, arg, 0); }

#endif
