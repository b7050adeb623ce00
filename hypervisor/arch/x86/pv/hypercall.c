/*
 * Hypercall dispatch for PV guests, and the hypercalls that manage the
 * x86 virtual CPU: virtual IDT, callbacks, kernel stack, segment bases,
 * virtual CR0.TS, iret, multicall.
 *
 * Numbers, argument order and semantics follow the Xen x86-64 PV ABI:
 * RAX = number, arguments in RDI, RSI, RDX, R10, R8, result in RAX.
 */
#include <asm/mca.h>
#include <asm/current.h>
#include <asm/descriptor.h>
#include <asm/layout.h>
#include <asm/desc.h>
#include <asm/guest_access.h>
#include <asm/io.h>
#include <asm/pirq.h>
#include <asm/platform_op.h>
#include <asm/pv.h>
#include <mica/event.h>
#include <mica/grant_table.h>
#include <mica/hypercall.h>
#include <mica/lib.h>
#include <mica/nospec.h>
#include <mica/percpu.h>
#include <mica/perfc.h>
#include <mica/sched.h>
#include <mica/unknown_op.h>
#include <public/callback.h>
#include <public/errno.h>
#include <public/physdev.h>
#include <public/xen.h>

#define MSR_FS_BASE        0xc0000100
#define MSR_GS_BASE        0xc0000101
#define MAX_TRAP_ENTRIES   256


static bool guest_code_address_ok(u64 va)
{
    return is_canonical(va) && guest_range_ok(va, 1);
}

static long do_set_trap_table(u64 list)
{
    struct vcpu *v = current_vcpu();
    struct trap_info ti;

    if (!list) {
        memset(v->arch.traps, 0, sizeof(v->arch.traps));
        return 0;
    }
    for (unsigned i = 0; i < MAX_TRAP_ENTRIES + 1; i++) {
        if (copy_from_guest(&ti, list + i * sizeof(ti), sizeof(ti)))
            return -XEN_EFAULT;
        if (ti.address == 0)
            return 0;
        if (!guest_code_address_ok(ti.address))
            return -XEN_EINVAL;
        v->arch.traps[ti.vector] = (struct guest_trap){
            .address = ti.address,
            .cs = (u16)(ti.cs | 3),
            .flags = ti.flags,
        };
    }
    return -XEN_EINVAL;     /* no terminating entry among 256 */
}

static long do_stack_switch(u64 ss, u64 sp)
{
    (void)ss;       /* PV64 frames always use FLAT_KERNEL_SS */
    current_vcpu()->arch.kernel_sp = sp;
    return 0;
}

/*
 * The NMI callback is vector 2 of the virtual IDT, as on Xen 4.17: events
 * masked on entry, kernel CS.  A vCPU 0 whose domain has an NMI reason
 * noted (nmi=dom0) gets the NMI it may have missed while it had none.
 */
static long register_nmi_callback(struct vcpu *v, u64 address)
{
    if (!guest_code_address_ok(address))
        return -XEN_EINVAL;
    v->arch.traps[2] = (struct guest_trap){
        .address = address,
        .cs = RING3_CS64,
        .flags = GUEST_TRAP_MASK_EVENTS,
    };
    if (v->vcpu_id == 0 && READ_ONCE(v->domain->shared_info->arch.nmi_reason))
        __atomic_store_n(&v->arch.nmi_pending, true, __ATOMIC_RELEASE);
    return 0;
}

static long do_nmi_op(unsigned cmd, u64 arg)
{
    struct vcpu *v = current_vcpu();
    struct xennmi_callback cb;

    switch (cmd) {
    case XENNMI_register_callback:
        if (copy_from_guest(&cb, arg, sizeof(cb)))
            return -XEN_EFAULT;
        return register_nmi_callback(v, cb.handler_address);
    case XENNMI_unregister_callback:
        v->arch.traps[2] = (struct guest_trap){ 0 };
        return 0;
    default:
        return -XEN_ENOSYS;
    }
}

static long register_callback(struct vcpu *v, unsigned type, unsigned flags, u64 address)
{
    bool mask = flags & CALLBACKF_mask_events;

    if (address && !guest_code_address_ok(address))
        return -XEN_EINVAL;
    switch (type) {
    case CALLBACKTYPE_event:
        v->arch.event_cb = (struct guest_callback){ address, true };
        return 0;
    case CALLBACKTYPE_failsafe:
        v->arch.failsafe_cb = (struct guest_callback){ address, mask };
        return 0;
    case CALLBACKTYPE_syscall:
        v->arch.syscall_cb = (struct guest_callback){ address, mask };
        return 0;
    case CALLBACKTYPE_nmi:
        return register_nmi_callback(v, address);
    case CALLBACKTYPE_syscall32:
        v->arch.syscall32_cb = (struct guest_callback){ address, mask };
        return 0;
    case CALLBACKTYPE_sysenter:
        v->arch.sysenter_cb = (struct guest_callback){ address, mask };
        return 0;
    case CALLBACKTYPE_sysenter_deprecated:
        return -XEN_ENOSYS;     /* as on Xen 4.17 for 64-bit guests */
    default:
        return -XEN_ENOSYS;
    }
}

/*
 * The legacy call has no way to say which address it refused: as on Xen,
 * a bad one leaves that callback as it was and the call still succeeds.
 */
static long do_set_callbacks(u64 event, u64 failsafe, u64 syscall)
{
    struct vcpu *v = current_vcpu();

    register_callback(v, CALLBACKTYPE_event, 0, event);
    register_callback(v, CALLBACKTYPE_failsafe, 0, failsafe);
    register_callback(v, CALLBACKTYPE_syscall, 0, syscall);
    return 0;
}

static long do_callback_op(int cmd, u64 arg)
{
    struct vcpu *v = current_vcpu();

    switch (cmd) {
    case CALLBACKOP_register: {
        struct callback_register r;
        if (copy_from_guest(&r, arg, sizeof(r)))
            return -XEN_EFAULT;
        return register_callback(v, r.type, r.flags, r.address);
    }
    case CALLBACKOP_unregister: {
        struct callback_unregister u;
        if (copy_from_guest(&u, arg, sizeof(u)))
            return -XEN_EFAULT;
        if (u.type != CALLBACKTYPE_nmi)
            return -XEN_EINVAL;
        v->arch.traps[2] = (struct guest_trap){ 0 };
        return 0;
    }
    default:
        return -XEN_ENOSYS;
    }
}

static long do_fpu_taskswitch(u64 set)
{
    struct vcpu *v = current_vcpu();

    v->arch.fpu_ts = set != 0;
    write_cr0_ts(v->arch.fpu_ts);
    return 0;
}

static long do_set_segment_base(unsigned which, u64 base)
{
    struct vcpu *v = current_vcpu();

    switch (which) {
    case SEGBASE_FS:
        if (!is_canonical(base))
            return -XEN_EINVAL;
        v->arch.fs_base = base;
        wrmsr(MSR_FS_BASE, base);
        return 0;
    case SEGBASE_GS_USER:
        if (!is_canonical(base))
            return -XEN_EINVAL;
        v->arch.gs_base_user = base;
        return 0;
    case SEGBASE_GS_KERNEL:
        if (!is_canonical(base))
            return -XEN_EINVAL;
        v->arch.gs_base_kernel = base;
        wrmsr(MSR_GS_BASE, base);
        return 0;
    case SEGBASE_GS_USER_SEL:
        /*
         * In 64-bit mode a selector load sets the base from its descriptor:
         * 0 for the null and flat selectors.  Guest GDT selectors are not
         * backed yet, so like a faulting load they give the null selector.
         */
        v->arch.gs_sel_user = (u16)base == 0 || ((u16)base | 3) == RING3_DS ||
                              ((u16)base | 3) == RING3_CS64 ? (u16)(base ? base | 3 : 0) : 0;
        v->arch.gs_base_user = 0;
        return 0;
    default:
        return -XEN_EINVAL;
    }
}

/* The iret hypercall: the guest's return from a bounce (ABI §iret). */
static void do_iret(struct cpu_regs *regs)
{
    struct vcpu *v = current_vcpu();
    struct iret_context c;

    if (copy_from_guest(&c, regs->rsp, sizeof(c))) {
        domain_crash(v->domain, "iret hypercall with an unreadable frame at %#llx",
                     (unsigned long long)regs->rsp);
        return;
    }
    if ((c.cs & 3) == 3 && v->arch.kernel_mode) {
        if (!v->arch.guest_table_user) {
            domain_crash(v->domain, "iret to user mode with no user page tables");
            return;
        }
        pv_toggle_guest_mode(v);
    }
    /*
     * A non-canonical RIP is the guest's own fault: the exit path gives it
     * the #GP(0) the return raises, on that frame, as Xen 4.17 does (its
     * IRETQ faults and the fault is the guest's; XSA-7 class, test
     * syscall_canonical).  A non-canonical RSP leaves nowhere to put that
     * frame: the domain is crashed.
     */
    if (!is_canonical(c.rsp)) {
        domain_crash(v->domain, "iret to non-canonical rsp %#llx (rip %#llx)",
                     (unsigned long long)c.rsp, (unsigned long long)c.rip);
        return;
    }
    if (v->domain->arch.vm_assist & (1ULL << VMASST_TYPE_architectural_iopl))
        v->arch.iopl = (c.rflags >> 12) & 3;
    regs->rip = c.rip;
    regs->cs = (c.cs | 3) == RING3_CS32 ? RING3_CS32 : RING3_CS64;
    regs->rflags = (c.rflags & ~(u64)((3u << 12) | (1u << 17))) | (1u << 9);
    regs->rsp = c.rsp;
    regs->ss = RING3_DS;
    if (!(c.flags & VGCF_IN_SYSCALL)) {
        regs->rcx = c.rcx;
        regs->r11 = c.r11;
    }
    regs->rax = c.rax;
    v->vcpu_info->evtchn_upcall_mask = !(c.rflags & (1u << 9));
    v->arch.nmi_masked = false;     /* any iret ends a virtual NMI, as on Xen */
}

static long do_physdev_op(int cmd, u64 arg)
{
    struct vcpu *v = current_vcpu();

    if (pirq_physdev_handles(cmd))
        return pirq_physdev_op(v->domain, cmd, arg);
    switch (cmd) {
    case PHYSDEVOP_pirq_eoi_gmfn_v2:
        return pirq_eoi_map_register(v->domain, arg);
    case PHYSDEVOP_set_iopl: {
        u32 iopl;
        if (copy_from_guest(&iopl, arg, sizeof(iopl)))
            return -XEN_EFAULT;
        if (iopl > 3)
            return -XEN_EINVAL;
        v->arch.iopl = (u8)iopl;
        return 0;
    }
    case PHYSDEVOP_set_iobitmap: {
        struct physdev_set_iobitmap b;
        if (copy_from_guest(&b, arg, sizeof(b)))
            return -XEN_EFAULT;
        if (b.nr_ports > 65536 || (b.nr_ports && !guest_range_ok(b.bitmap, (b.nr_ports + 7) / 8)))
            return -XEN_EINVAL;
        /* The bitmap stays in guest memory and is read at each access. */
        v->arch.iobmp_va = b.nr_ports ? b.bitmap : 0;
        v->arch.iobmp_ports = b.nr_ports;
        return 0;
    }
    default:
        return unknown_op(__HYPERVISOR_physdev_op, (u32)cmd);
    }
}

/*
 * Xen's hypercall_preempt_check(): scheduling work is due on this CPU,
 * or the caller itself has an event to take.  Outside a hypercall (a
 * handler run by Mica itself) there is nothing to continue.
 */
bool hypercall_preempt_check(void)
{
    struct vcpu *v = current_vcpu();

    if (!v || !v->in_hypercall)
        return false;
    if (v->vcpu_info->evtchn_upcall_pending && !v->vcpu_info->evtchn_upcall_mask)
        return true;
    return sched_work_due();
}

void hypercall_continue_args(u64 a0, u64 a1, u64 a2)
{
    struct vcpu *v = current_vcpu();
    struct cpu_regs *regs = guest_regs();

    if (v->mc_call) {
        v->mc_call->args[0] = a0;
        v->mc_call->args[1] = a1;
        v->mc_call->args[2] = a2;
        v->mc_call_preempted = true;
        return;
    }
    regs->rdi = a0;
    regs->rsi = a1;
    regs->rdx = a2;
}

void hypercall_continue_args4(u64 a0, u64 a1, u64 a2, u64 a3)
{
    struct vcpu *v = current_vcpu();

    hypercall_continue_args(a0, a1, a2);
    if (v->mc_call)
        v->mc_call->args[3] = a3;
    else
        guest_regs()->r10 = a3;
}

void hypercall_continue_unchanged(void)
{
    struct vcpu *v = current_vcpu();

    if (v->mc_call)
        v->mc_call_preempted = true;
}

/*
 * A guest that takes its own vCPU down with no other up has usually hit a
 * fatal error before it had a console (Linux halts with interrupts off
 * that way): leave the caller's return addresses for whoever debugs it.
 */
static void note_vcpu_down(const struct cpu_regs *regs, unsigned vcpuid)
{
    u64 words[16] = { 0 };
    struct vcpu *v = current_vcpu();

    if (vcpuid != v->vcpu_id)
        return;
    for (unsigned i = 0; i < v->domain->max_vcpus; i++)
        if (v->domain->vcpus[i] && v->domain->vcpus[i] != v &&
            v->domain->vcpus[i]->state != VCPU_DOWN)
            return;             /* ordinary CPU hot-unplug */
    if (copy_from_guest(words, regs->rsp, sizeof(words)))
        memset(words, 0, sizeof(words));
    printk("d%u v%u: VCPUOP_down from rip %#llx, rsp %#llx; stack:\n", v->domain->domid,
           v->vcpu_id, (unsigned long long)regs->rip, (unsigned long long)regs->rsp);
    for (unsigned i = 0; i < 16; i += 4)
        printk("  %#llx %#llx %#llx %#llx\n", (unsigned long long)words[i],
               (unsigned long long)words[i + 1], (unsigned long long)words[i + 2],
               (unsigned long long)words[i + 3]);
}

static long dispatch(struct cpu_regs *regs, u64 nr, const u64 a[5], bool in_multicall);

/*
 * As on Xen 4.17: before every entry but the first, the multicall itself
 * may give the CPU back (the guest re-issues it from that entry on).  A
 * sub-call that asks to be continued leaves its new arguments, and the
 * op number as its result, in its entry in guest memory; the multicall
 * is then continued at that same entry, which re-issues the sub-call.
 */
static long do_multicall(struct cpu_regs *regs, u64 list, u64 nr)
{
    struct vcpu *v = current_vcpu();
    struct multicall_entry e;

    nr = (u32)nr;                       /* the ABI's count is 32 bits */
    for (u64 i = 0; i < nr; i++) {
        u64 addr = list + i * sizeof(e);
        if (i && hypercall_preempt_check()) {
            hypercall_continue_args(addr, nr - i, regs->rdx);
            return HYPERCALL_CONTINUE;
        }
        if (copy_from_guest(&e, addr, sizeof(e)))
            return -XEN_EFAULT;
        v->mc_call = &e;
        v->mc_call_preempted = false;
        perfc_inc_idx(multicall_sub, e.op);
        e.result = (u64)dispatch(regs, e.op, e.args, true);
        v->mc_call = NULL;
        if (v->mc_call_preempted) {
            v->mc_call_preempted = false;
            e.result = e.op;
            if (copy_to_guest(addr, &e, sizeof(e)))
                return -XEN_EFAULT;
            hypercall_continue_args(addr, nr - i, regs->rdx);
            return HYPERCALL_CONTINUE;
        }
        if (copy_to_guest(addr + __builtin_offsetof(struct multicall_entry, result),
                          &e.result, sizeof(e.result)))
            return -XEN_EFAULT;
        /* After iret the multicall answers with iret's result: the guest's RAX. */
        if (e.op == __HYPERVISOR_iret)
            return (long)e.result;
        if (v->domain->is_shutdown)
            break;
    }
    return 0;
}

/* Hypercall numbers are below 64 (public/xen.h: __HYPERVISOR_arch_7 is 55). */
#define HYPERCALL_NR_LIMIT 64

static long dispatch(struct cpu_regs *regs, u64 nr, const u64 a[5], bool in_multicall)
{
    /*
     * The switch may become a jump table indexed by nr: a mispredicted
     * range check would then jump through a guest-chosen slot past the
     * table.  Checked, then clamped (mica/nospec.h).
     */
    if (nr >= HYPERCALL_NR_LIMIT)
        return unknown_op(nr, UNKNOWN_OP_NO_SUB);
    nr = array_index_nospec(nr, HYPERCALL_NR_LIMIT);
    switch (nr) {
    case __HYPERVISOR_set_trap_table:   return do_set_trap_table(a[0]);
    case __HYPERVISOR_stack_switch:     return do_stack_switch(a[0], a[1]);
    case __HYPERVISOR_set_gdt:          return do_set_gdt(a[0], a[1]);
    case __HYPERVISOR_update_descriptor: return do_update_descriptor(a[0], a[1]);
    case __HYPERVISOR_set_callbacks:    return do_set_callbacks(a[0], a[1], a[2]);
    case __HYPERVISOR_fpu_taskswitch:   return do_fpu_taskswitch(a[0]);
    case __HYPERVISOR_set_debugreg:     return do_set_debugreg((unsigned)a[0], a[1]);
    case __HYPERVISOR_get_debugreg:     return do_get_debugreg((unsigned)a[0]);
    case __HYPERVISOR_multicall:
        return in_multicall ? -XEN_EINVAL : do_multicall(regs, a[0], a[1]);
    case __HYPERVISOR_platform_op:      return do_platform_op(a[0]);
    case __HYPERVISOR_set_timer_op:     return do_set_timer_op(a[0]);
    case __HYPERVISOR_xen_version:      return do_xen_version((int)a[0], a[1]);
    case __HYPERVISOR_memory_op:        return do_memory_op(a[0], a[1]);
    case __HYPERVISOR_grant_table_op:   return do_grant_table_op(a[0], a[1], a[2]);
    case __HYPERVISOR_console_io:       return do_console_io((int)a[0], a[1], a[2]);
    case __HYPERVISOR_vm_assist:        return do_vm_assist((unsigned)a[0], (unsigned)a[1]);
    case __HYPERVISOR_iret:
        do_iret(regs);
        return (long)regs->rax;
    case __HYPERVISOR_vcpu_op:
        if ((int)a[0] == VCPUOP_down)
            note_vcpu_down(regs, (unsigned)a[1]);
        return do_vcpu_op((int)a[0], (unsigned)a[1], a[2]);
    case __HYPERVISOR_set_segment_base: return do_set_segment_base((unsigned)a[0], a[1]);
    case __HYPERVISOR_sched_op:         return do_sched_op((int)a[0], a[1]);
    case __HYPERVISOR_callback_op:      return do_callback_op((int)a[0], a[1]);
    case __HYPERVISOR_nmi_op:           return do_nmi_op((unsigned)a[0], a[1]);
    case __HYPERVISOR_event_channel_op: return do_event_channel_op((int)a[0], a[1]);
    case __HYPERVISOR_physdev_op:       return do_physdev_op((int)a[0], a[1]);
    case __HYPERVISOR_sysctl:           return do_sysctl(a[0]);
    case __HYPERVISOR_domctl:           return do_domctl(a[0]);
    case __HYPERVISOR_update_va_mapping: return do_update_va_mapping(a[0], a[1], a[2]);
    case __HYPERVISOR_update_va_mapping_otherdomain:
        return do_update_va_mapping_otherdomain(a[0], a[1], a[2], a[3]);
    case __HYPERVISOR_mmuext_op:        return do_mmuext_op(a[0], a[1], a[2], a[3]);
    case __HYPERVISOR_mmu_update:       return do_mmu_update(a[0], a[1], a[2], a[3]);
    /*
     * Xen 4.17's own answers with Debian's build: no XSM (xsm_op is the
     * dummy policy's -ENOSYS) and no vPMU (`vpmu=` is off by default, so
     * every xenpmu_op is -EOPNOTSUPP; Linux asks at each vCPU's start).
     * Not logged as unknown: they are the answers, not gaps.
     */
    case __HYPERVISOR_mca:              return do_mca(a[0]);
    case __HYPERVISOR_xsm_op:           return -XEN_ENOSYS;
    case __HYPERVISOR_xenpmu_op:        return -XEN_EOPNOTSUPP;
    default:                            return unknown_op(nr, UNKNOWN_OP_NO_SUB);
    }
}

void pv_hypercall(struct cpu_regs *regs)
{
    const u64 args[5] = { regs->rdi, regs->rsi, regs->rdx, regs->r10, regs->r8 };
    struct vcpu *v = current_vcpu();
    u64 nr = regs->rax;
    u64 t0 = perfc_cycles();
    long rc;

    v->in_hypercall = true;
    rc = dispatch(regs, nr, args, false);
    v->in_hypercall = false;
    perfc_inc_idx(hypercall, nr);
    perfc_add_idx(hypercall_cycles, nr, perfc_cycles() - t0);
    if (v->domain->domid == 0) {
        perfc_inc(hc_dom0);
        if (nr == __HYPERVISOR_sched_op)
            perfc_inc_idx(sched_op_dom0, args[0]);
    } else {
        perfc_inc(hc_domu);
        perfc_inc_idx(hypercall_domu, nr);
        if (nr == __HYPERVISOR_sched_op)
            perfc_inc_idx(sched_op_domu, args[0]);
    }
    if (rc == HYPERCALL_CONTINUE) {
        /*
         * Re-execute SYSCALL (RAX still holds nr) with the arguments the
         * handler left in the registers; nothing else of this call is kept.
         */
        regs->rip -= 2;
        return;
    }
    if (nr != __HYPERVISOR_iret)
        regs->rax = (u64)rc;
}
