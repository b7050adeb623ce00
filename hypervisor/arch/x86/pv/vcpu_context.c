/*
 * vCPU register contexts of 64-bit PV vCPUs, in and out: VCPUOP_initialise
 * (a guest starts one of its own vCPUs) and domctl setvcpucontext /
 * getvcpucontext (the toolstack starts, resets or inspects another
 * domain's vCPU).  Setting gives the vCPU a complete register context,
 * virtual IDT, GDT, kernel stack, callbacks, segment bases and page-table
 * roots.  The rules are the Xen 4.17 ABI's: every address the vCPU may
 * jump or point to must be canonical, the GDT frames must be able to
 * become descriptor pages of the domain, CR3 (and the user CR3 if given)
 * must be able to become L4 tables of the domain, and a vCPU starting in
 * user mode needs a user CR3.  The context is copied in once; nothing in
 * the vCPU changes unless every check passes, except that a validated
 * kernel root stays kept for the vCPU when its user root's validation
 * stops or is refused (take_tables).  A vCPU that already has a
 * context may be given a new one only by the toolstack, and only with the
 * page-table roots, GDT and LDT it has (Xen 4.17's rule); reset (setting
 * a null context) lets go of them.  Validating or de-validating a root's
 * tree may stop part way: the call is then continued unchanged.
 */
#include <asm/current.h>
#include <asm/desc.h>
#include <asm/descriptor.h>
#include <asm/guest_access.h>
#include <asm/layout.h>
#include <asm/ldt.h>
#include <asm/pv.h>
#include <asm/pv_mm.h>
#include <asm/time.h>
#include <asm/xstate.h>
#include <mica/context.h>
#include <mica/lib.h>
#include <mica/sched.h>
#include <mica/hypercall.h>
#include <public/errno.h>
#include <public/xen.h>

#define RFLAGS_IF       (1ULL << 9)
#define RFLAGS_IOPL     (3ULL << 12)
/* Flags a guest may start with: arithmetic, TF, DF, AC, ID (no VM/NT/RF/IOPL). */
#define RFLAGS_GUEST    0x240dd5ULL
#define RFLAGS_FIXED1   (1ULL << 1)
#define CR4_FSGSBASE    (1ULL << 16)
#define CR0_TS          (1ULL << 3)
/* The FXSAVE image (Intel SDM vol. 1, 10.5.1) and the power-on FPU state. */
#define FXSAVE_SIZE     512
#define FXSAVE_FCW      0
#define FXSAVE_MXCSR    24
#define FXSAVE_ST0      32
#define FXSAVE_XMM0     160
#define FXSAVE_XMM_END  416
#define FCW_DEFAULT     0x037f
#define MXCSR_DEFAULT   0x1f80
/* Debug registers' reset values (DR6 reserved-one bits, DR7 bit 10). */
#define DR6_DEFAULT     0xffff0ff0ULL
#define DR7_DEFAULT     (1ULL << 10)
#define GDT_GUEST_PAGES (sizeof(((struct arch_vcpu *)0)->gdt_frames) / sizeof(mfn_t))

/* Only 64-bit PV contexts exist in Mica; the layout is the ABI's. */
_Static_assert(sizeof(struct vcpu_guest_context) == 5168, "vcpu_guest_context size");
_Static_assert(sizeof(((struct vcpu_guest_context *)0)->trap_ctxt) / sizeof(struct trap_info) ==
               sizeof(((struct arch_vcpu *)0)->traps) / sizeof(struct guest_trap), "one trap per vector");
_Static_assert(sizeof(((struct vcpu_guest_context *)0)->fpu_ctxt) == 512 &&
               512 <= XSTATE_HDR_OFFSET, "FXSAVE image is the area's legacy part");

static bool code_address_ok(u64 va)
{
    return va == 0 || (is_canonical(va) && guest_range_ok(va, 1));
}

/* Everything Xen refuses with -EINVAL before touching the vCPU. */
static bool context_ok(const struct vcpu *v, const struct vcpu_guest_context *c)
{
    const struct cpu_user_regs *r = &c->user_regs;

    if (!is_canonical(r->rip) || !is_canonical(r->rsp) || !is_canonical(c->kernel_sp) ||
        !is_canonical(c->fs_base) || !is_canonical(c->gs_base_kernel) ||
        !is_canonical(c->gs_base_user))
        return false;
    if (!code_address_ok(c->event_callback_eip) || !code_address_ok(c->failsafe_callback_eip) ||
        !code_address_ok(c->syscall_callback_eip))
        return false;
    for (unsigned i = 0; i < 256; i++)
        if (!code_address_ok(c->trap_ctxt[i].address))
            return false;
    if ((c->ldt_base & (PAGE_SIZE - 1)) || c->ldt_ents > LDT_MAX_ENTRIES ||
        (c->ldt_ents && !guest_range_ok(c->ldt_base, c->ldt_ents * 8ULL)))
        return false;
    if (c->gdt_ents > GUEST_GDT_MAX_ENTRIES)
        return false;
    /* vCPU 0's context carries the domain's vm_assist bits. */
    if (v->vcpu_id == 0 && (c->vm_assist & ~VMASST_KNOWN_MASK))
        return false;
    /* A vCPU that starts in user mode needs the user page tables. */
    if (!v->initialised && !(c->flags & VGCF_in_kernel) && !c->ctrlreg[1])
        return false;
    return true;
}

/*
 * A context for a vCPU that has one already may change registers and
 * callbacks but must name the roots, GDT and LDT the vCPU has
 * (-EOPNOTSUPP otherwise, as Xen 4.17): those are not swapped here.
 */
static bool same_tables(const struct vcpu *v, const struct vcpu_guest_context *c)
{
    unsigned nr = (unsigned)((c->gdt_ents + 511) / 512);

    if (c->ctrlreg[3] != v->arch.guest_table << PAGE_SHIFT)
        return false;
    if (!v->arch.guest_table_user) {
        if (c->ctrlreg[1] || !(c->flags & VGCF_in_kernel))
            return false;
    } else if (c->ctrlreg[1] != v->arch.guest_table_user << PAGE_SHIFT) {
        return false;
    }
    if (c->gdt_ents != v->arch.gdt_ents)
        return false;
    for (unsigned i = 0; i < nr; i++)
        if (c->gdt_frames[i] != v->arch.gdt_frames[i])
            return false;
    if (c->ldt_ents != v->arch.ldt_ents || (c->ldt_ents && c->ldt_base != v->arch.ldt_base))
        return false;
    return true;
}

/*
 * Takes the L4 reference a CR3 holds; 0 or -XEN_EINVAL, or (when
 * `preemptible`, a live domain) HYPERCALL_CONTINUE with the L4 left
 * partly validated, holding nothing for the caller (as Xen 4.17's
 * -ERESTART from get_page_type_preemptible in arch_set_info_guest).
 * A refused L4 whose entries still hold a validated tree is kept in the
 * calling vCPU's old_guest_table (page_type.c), partly de-validated: its
 * next mmu_update, mmuext_op or context set releases it, preemptibly
 * (Xen 4.17 the same: current's old_guest_table, no continuation of
 * this call).  The slot is empty here (take_tables finished it first).
 */
static long take_root(struct domain *d, u64 cr3, mfn_t *out, bool preemptible)
{
    struct vcpu *cur = current_vcpu();
    mfn_t mfn = cr3 >> PAGE_SHIFT;
    struct page_info *pg = pv_frame(mfn);
    mfn_t *slot;
    long rc;

    if (!pg)
        return -XEN_EINVAL;
    /* Validating a new root walks d's tables: not while another vCPU
       updates them; our own domain's lock guards our slot. */
    pv_pt_lock_pair(cur->domain, d);
    bool was = pt_validation_preemptible(preemptible && !d->is_dying);
    slot = pt_devalidation_slot(preemptible && !d->is_dying && !cur->domain->is_dying
                                    ? &cur->arch.old_guest_table : NULL);
    rc = get_page_and_type(pg, d, PGT_L4);
    pt_devalidation_slot(slot);
    pt_validation_preemptible(was);
    pv_pt_unlock_pair(cur->domain, d);
    if (rc)
        return rc == HYPERCALL_CONTINUE ? rc : -XEN_EINVAL;
    *out = mfn;
    return 0;
}

/* Drops a root's reference; the last one devalidates the tree, under d's pt_lock. */
static void put_root(struct domain *d, mfn_t mfn)
{
    spin_lock(&d->arch.pt_lock);
    put_page_and_type(pv_frame(mfn));
    spin_unlock(&d->arch.pt_lock);
}

/*
 * Drops a root of v whose last put may de-validate a whole tree: that
 * de-validation may stop part way (unless v's domain is dying), kept in
 * v's old_guest_table (Xen 4.17's vcpu_destroy_pagetables), and then
 * HYPERCALL_CONTINUE.  The root counts as dropped either way.
 */
static long drop_root(struct vcpu *v, mfn_t *root)
{
    struct domain *d = v->domain;
    mfn_t mfn = *root;
    mfn_t *was;

    if (!mfn)
        return 0;
    *root = 0;
    spin_lock(&d->arch.pt_lock);
    was = pt_devalidation_slot(d->is_dying ? NULL : &v->arch.old_guest_table);
    put_page_and_type(pv_frame(mfn));
    pt_devalidation_slot(was);
    spin_unlock(&d->arch.pt_lock);
    return v->arch.old_guest_table ? HYPERCALL_CONTINUE : 0;
}

/*
 * v's roots and the table its slot keeps, let go preemptibly: 0 when
 * none is left, HYPERCALL_CONTINUE when a de-validation stopped (the
 * call is re-issued and goes on here).
 */
static long drop_roots(struct vcpu *v)
{
    long rc;

    if (v->arch.old_guest_table && (rc = pv_finish_old_table(v, true)))
        return rc;
    if ((rc = drop_root(v, &v->arch.guest_table)))
        return rc;
    return drop_root(v, &v->arch.guest_table_user);
}

static void load_registers(struct vcpu *v, const struct vcpu_guest_context *c)
{
    const struct cpu_user_regs *u = &c->user_regs;
    struct cpu_regs *r = &v->arch.regs;

    memset(r, 0, sizeof(*r));
    r->r15 = u->r15; r->r14 = u->r14; r->r13 = u->r13; r->r12 = u->r12;
    r->rbp = u->rbp; r->rbx = u->rbx; r->r11 = u->r11; r->r10 = u->r10;
    r->r9 = u->r9;   r->r8 = u->r8;   r->rax = u->rax; r->rcx = u->rcx;
    r->rdx = u->rdx; r->rsi = u->rsi; r->rdi = u->rdi;
    r->rip = u->rip;
    r->rsp = u->rsp;
    /*
     * Mica returns to guests on its flat ring-3 selectors only (as after
     * the iret hypercall); the guest's own descriptors for them describe
     * the same flat segments.
     */
    r->cs = (u->cs | 3) == RING3_CS32 ? RING3_CS32 : RING3_CS64;
    r->ss = RING3_DS;
    /* IOPL is virtual, and hardware interrupts stay enabled in guests. */
    v->arch.iopl = (u8)((u->rflags & RFLAGS_IOPL) >> 12);
    r->rflags = (u->rflags & RFLAGS_GUEST) | RFLAGS_FIXED1 | RFLAGS_IF;
    /* Loaded (or reported to the failsafe callback) when it is switched in. */
    v->arch.data_sel[0] = u->ds;
    v->arch.data_sel[1] = u->es;
    v->arch.data_sel[2] = u->fs;
    v->arch.data_sel[3] = u->gs;
}

/*
 * The FPU part: with VGCF_I387_VALID the FXSAVE image becomes the x87/SSE
 * state (XSTATE_BV x87|SSE, the other components in their initial state);
 * otherwise the vCPU gets the power-on state at its first switch-in
 * (xstate.c).  XCR0 stays what the guest set, as on Xen 4.17
 * (vcpu_setup_fpu leaves it alone): a Linux guest resumed after a
 * cancelled save goes on using AVX, and a reset XCR0 made that #UD.
 */
static void load_fpu(struct vcpu *v, const struct vcpu_guest_context *c)
{
    v->arch.fpu_ts = c->ctrlreg[0] & CR0_TS;
    v->arch.fpu_initialised = false;
    if (c->flags & VGCF_I387_VALID) {
        u8 *area = xstate_area(v);
        u64 bv = XSTATE_X87 | XSTATE_SSE;
        u32 mxcsr;

        memset(area, 0, XSTATE_AREA_SIZE);
        memcpy(area, c->fpu_ctxt, sizeof(c->fpu_ctxt));
        /* Reserved MXCSR bits would make the restore fault inside Mica. */
        memcpy(&mxcsr, area + FXSAVE_MXCSR, sizeof(mxcsr));
        mxcsr &= 0xffff;
        memcpy(area + FXSAVE_MXCSR, &mxcsr, sizeof(mxcsr));
        /* XRSTOR loads only components named in XSTATE_BV. */
        memcpy(area + XSTATE_HDR_OFFSET, &bv, sizeof(bv));
        /* A vCPU that never ran has no XCR0 yet (0 would #GP in XSETBV). */
        if (!v->arch.xcr0)
            v->arch.xcr0 = XSTATE_X87 | XSTATE_SSE;
        v->arch.xcr0_accum |= v->arch.xcr0;
        v->arch.fpu_initialised = true;
    }
}

/*
 * Before a fresh vCPU's roots are taken: a kernel root its old_guest_table
 * keeps from a continued call is that call's, re-issued, when the context
 * names it again (*kernel_root then holds it, references and all); any
 * other table kept there is let go first, preemptibly (Xen 4.17's
 * put_old_guest_table on the target in arch_set_info_guest).
 */
static long settle_old_table(struct vcpu *v, u64 cr3, mfn_t *kernel_root)
{
    struct domain *d = v->domain;
    long rc = 0;

    bool kept;

    spin_lock(&d->arch.pt_lock);
    kept = v->arch.old_guest_table_typed && v->arch.old_guest_table == cr3 >> PAGE_SHIFT;
    if (kept) {
        *kernel_root = v->arch.old_guest_table;
        v->arch.old_guest_table = 0;
        v->arch.old_guest_table_typed = false;
    }
    spin_unlock(&d->arch.pt_lock);
    /* v cannot run (it has no context): nobody else changes its slot meanwhile. */
    if (!kept && v->arch.old_guest_table)
        rc = pv_finish_old_table(v, true);
    return rc;
}

/*
 * The user root's validation stopped (or was refused): the kernel root,
 * validated already, waits in v's old_guest_table for the re-issued call
 * (Xen 4.17 the same), so the continuation goes on with the user root
 * alone.  Should a racing call for the same vCPU have kept a table there
 * meanwhile, ours is dropped instead (to the end: only a guest racing
 * two initialises of one vCPU gets there).
 */
static void keep_kernel_root(struct vcpu *v, mfn_t kernel_root)
{
    struct domain *d = v->domain;

    spin_lock(&d->arch.pt_lock);
    if (!v->arch.old_guest_table) {
        v->arch.old_guest_table = kernel_root;
        v->arch.old_guest_table_typed = true;
        kernel_root = 0;
    }
    spin_unlock(&d->arch.pt_lock);
    if (kernel_root)
        put_root(d, kernel_root);
}

/*
 * Takes the GDT and the roots a fresh vCPU's context names.  Either
 * root's validation may stop (HYPERCALL_CONTINUE: the call is re-issued
 * unchanged).  When the user root's stops or is refused, the kernel root
 * stays kept in v's old_guest_table, nothing else is held: dropping it
 * here could de-validate the tree its (preemptible) validation just built
 * in one go (Xen 4.17 leaves it as the vCPU's root); the next context,
 * reset or teardown of v lets it go.
 */
static long take_tables(struct vcpu *v, const struct vcpu_guest_context *c)
{
    struct domain *d = v->domain;
    mfn_t kernel_root = 0, user_root = 0;
    long rc;

    if (c->ldt_ents && !d->arch.perdomain_l4e)
        return -XEN_ENOSYS;     /* no per-domain area to show an LDT in (as set_ldt) */
    /*
     * The table our own vCPU keeps from an earlier call (a refused root
     * among others) goes first, preemptibly, as Xen 4.17's
     * put_old_guest_table(current) in arch_set_info_guest: the slot is
     * then free for a refused root of this call.
     */
    if (current_vcpu()->arch.old_guest_table &&
        (rc = pv_finish_old_table(current_vcpu(), true)))
        return rc;
    if ((rc = pv_set_gdt(v, c->gdt_frames, c->gdt_ents)))
        return rc;
    if ((rc = settle_old_table(v, c->ctrlreg[3], &kernel_root)) ||
        (!kernel_root && (rc = take_root(d, c->ctrlreg[3], &kernel_root, true)))) {
        pv_drop_gdt(v);
        return rc;
    }
    if (c->ctrlreg[1] && (rc = take_root(d, c->ctrlreg[1], &user_root, true))) {
        pv_drop_gdt(v);
        keep_kernel_root(v, kernel_root);
        return rc;
    }
    v->arch.guest_table = kernel_root;
    v->arch.guest_table_user = user_root;
    /*
     * As MMUEXT_SET_LDT records it: pages are mapped into the vCPU's LDT
     * view when first touched, and the context switch loads LDTR.
     */
    v->arch.ldt_base = c->ldt_ents ? c->ldt_base : 0;
    v->arch.ldt_ents = (u32)c->ldt_ents;
    if (v->vcpu_id == 0)
        d->arch.vm_assist = c->vm_assist;
    return 0;
}

/* VGCF_online: up (runnable where it was) or down, as the context says. */
static void set_online(struct vcpu *v, bool online)
{
    bool other = v != current_vcpu();

    if (online && v->state == VCPU_DOWN) {
        v->state = VCPU_RUNNABLE;
        if (other)
            vcpu_runstate_change(v, RUNSTATE_runnable, now_ns());
        sched_add_vcpu(v);
        sched_request_resched();
    } else if (!online && v->state != VCPU_DOWN) {
        sched_vcpu_down(v);
        if (other)
            vcpu_runstate_change(v, RUNSTATE_offline, now_ns());
    }
}

static long set_context(struct vcpu *v, const struct vcpu_guest_context *c)
{
    long rc;

    if (!context_ok(v, c))
        return -XEN_EINVAL;
    if (v->initialised) {
        if (!same_tables(v, c))
            return -XEN_EOPNOTSUPP;
        /*
         * A de-validation the vCPU's own hypercall stopped part way: its
         * registers, which held that continuation, are replaced, so it
         * is finished here (preemptibly, this call continued meanwhile).
         * One a reset left unfinished stays the reset's (as Xen 4.17):
         * such a vCPU has no kernel root, so only a context naming none
         * (CR3 0) gets here; its registers are taken, v stays down.
         */
        if (!v->in_reset && v->arch.old_guest_table && (rc = pv_finish_old_table(v, true)))
            return rc;
    } else if ((rc = take_tables(v, c))) {
        return rc;
    }

    load_registers(v, c);
    load_fpu(v, c);
    v->arch.kernel_mode = c->flags & VGCF_in_kernel;
    v->arch.kernel_sp = c->kernel_sp;
    v->arch.fs_base = c->fs_base;
    v->arch.gs_base_kernel = c->gs_base_kernel;
    v->arch.gs_base_user = c->gs_base_user;
    v->arch.cr2 = c->ctrlreg[2];
    /* As Xen's pv_fixup_guest_cr4: FSGSBASE when the guest's CPUID offers it. */
    v->arch.cr4_fsgsbase = (c->ctrlreg[4] & CR4_FSGSBASE) && pv_guest_has_fsgsbase(v);
    for (unsigned i = 0; i < 256; i++) {
        const struct trap_info *t = &c->trap_ctxt[i];
        /* The array is the virtual IDT indexed by vector (its vector field is not used). */
        v->arch.traps[i] = (struct guest_trap){
            .address = t->address,
            .cs = (u16)(t->cs | 3),
            .flags = t->flags,
        };
    }
    v->arch.event_cb = (struct guest_callback){ c->event_callback_eip, true };
    v->arch.failsafe_cb = (struct guest_callback){
        c->failsafe_callback_eip, (c->flags & VGCF_failsafe_disables_events) != 0 };
    v->arch.syscall_cb = (struct guest_callback){
        c->syscall_callback_eip, (c->flags & VGCF_syscall_disables_events) != 0 };
    /* As on Xen, debug registers the rules refuse are simply left clear. */
    memset(v->arch.debugreg, 0, sizeof(v->arch.debugreg));
    v->arch.debugreg[6] = DR6_DEFAULT;
    v->arch.debugreg[7] = DR7_DEFAULT;
    for (unsigned i = 0; i < 8; i++)
        if (i != 4 && i != 5)
            pv_set_debugreg(v, i, c->debugreg[i]);
    v->initialised = true;
    /* Xen 4.17 clears _VPF_down, but _VPF_in_reset keeps the vCPU paused. */
    if (!v->in_reset)
        set_online(v, c->flags & VGCF_online);
    return 0;
}

long arch_initialise_vcpu(struct vcpu *v, u64 arg)
{
    /* 5 KiB: on the 32 KiB hypercall stack rather than in shared state. */
    struct vcpu_guest_context c;

    if (copy_from_guest(&c, arg, sizeof(c)))
        return -XEN_EFAULT;
    if (v->initialised)
        return -XEN_EEXIST;
    long rc = set_context(v, &c);
    /* The re-issued call (same arguments) goes on with the partly validated root. */
    if (rc == HYPERCALL_CONTINUE)
        hypercall_continue_unchanged();
    return rc;
}

long arch_set_vcpu_context(struct vcpu *v, u64 arg)
{
    struct vcpu_guest_context c;

    if (copy_from_guest(&c, arg, sizeof(c)))
        return -XEN_EFAULT;
    long rc = set_context(v, &c);
    if (rc == HYPERCALL_CONTINUE)
        hypercall_continue_unchanged();
    return rc;
}

/*
 * Down and in_reset first, so that v cannot run (nor be brought up by its
 * domain) while a continued reset has dropped part of it.  As Xen 4.17's
 * vcpu_reset, v loses its context only when the reset is finished: one
 * stopped and abandoned leaves v initialised without a kernel root, so a
 * new context naming a root is refused (-EOPNOTSUPP: its tables differ;
 * one naming none only sets registers, set_context) and VCPUOP_initialise
 * too (-EEXIST), until a reset is finished.
 */
long arch_reset_vcpu(struct vcpu *v)
{
    long rc;

    v->in_reset = true;
    set_online(v, false);
    pv_destroy_ldt(v);
    pv_drop_gdt(v);
    if ((rc = drop_roots(v))) {
        hypercall_continue_unchanged();
        return rc;
    }
    v->initialised = false;
    v->arch.ldt_base = 0;
    v->arch.ldt_ents = 0;
    v->arch.fpu_initialised = false;
    v->arch.cr4_fsgsbase = false;
    v->in_reset = false;
    return 0;
}

/*
 * XSAVE leaves a component in its initial configuration unwritten
 * (XSTATE_BV clear): the FXSAVE image shows the initial values instead.
 */
static void fpu_image(struct vcpu *v, u8 *out)
{
    u8 *area = xstate_area(v);
    u64 bv = XSTATE_X87 | XSTATE_SSE;
    u16 fcw = FCW_DEFAULT;
    u32 mxcsr = MXCSR_DEFAULT;

    memset(out, 0, FXSAVE_SIZE);
    if (!v->arch.fpu_initialised) {
        /* Xen shows such a vCPU's image as zeros with the default MXCSR. */
        memcpy(out + FXSAVE_MXCSR, &mxcsr, sizeof(mxcsr));
        return;
    }
    memcpy(out, area, FXSAVE_SIZE);
    if (xstate_guest_xcr0_max())
        memcpy(&bv, area + XSTATE_HDR_OFFSET, sizeof(bv));
    if (!(bv & XSTATE_X87)) {
        memset(out, 0, FXSAVE_MXCSR);
        memset(out + FXSAVE_ST0, 0, FXSAVE_XMM0 - FXSAVE_ST0);
        memcpy(out + FXSAVE_FCW, &fcw, sizeof(fcw));
    }
    if (!(bv & XSTATE_SSE))
        memset(out + FXSAVE_XMM0, 0, FXSAVE_XMM_END - FXSAVE_XMM0);
}

void arch_get_vcpu_context(struct vcpu *v, struct vcpu_guest_context *c)
{
    const struct cpu_regs *r = &v->arch.regs;
    struct cpu_user_regs *u = &c->user_regs;

    memset(c, 0, sizeof(*c));
    fpu_image(v, (u8 *)c->fpu_ctxt);
    c->flags = (v->arch.fpu_initialised ? VGCF_I387_VALID : 0) |
               (v->arch.kernel_mode ? VGCF_in_kernel : 0) |
               (v->state != VCPU_DOWN ? VGCF_online : 0) |
               (v->arch.failsafe_cb.mask_events ? VGCF_failsafe_disables_events : 0) |
               (v->arch.syscall_cb.mask_events ? VGCF_syscall_disables_events : 0);

    u->r15 = r->r15; u->r14 = r->r14; u->r13 = r->r13; u->r12 = r->r12;
    u->rbp = r->rbp; u->rbx = r->rbx; u->r11 = r->r11; u->r10 = r->r10;
    u->r9 = r->r9;   u->r8 = r->r8;   u->rax = r->rax; u->rcx = r->rcx;
    u->rdx = r->rdx; u->rsi = r->rsi; u->rdi = r->rdi;
    u->rip = r->rip;
    u->cs = (u16)r->cs;
    u->rsp = r->rsp;
    u->ss = (u16)r->ss;
    /* IOPL is kept virtually; the guest sees it in its flags. */
    u->rflags = (r->rflags & ~RFLAGS_IOPL) | ((u64)v->arch.iopl << 12);
    u->ds = v->arch.data_sel[0];
    u->es = v->arch.data_sel[1];
    u->fs = v->arch.data_sel[2];
    u->gs = v->arch.data_sel[3];

    for (unsigned i = 0; i < 256; i++)
        c->trap_ctxt[i] = (struct trap_info){
            .vector = (u8)i,
            .flags = v->arch.traps[i].flags,
            .cs = v->arch.traps[i].cs,
            .address = v->arch.traps[i].address,
        };
    c->ldt_base = v->arch.ldt_ents ? v->arch.ldt_base : 0;
    c->ldt_ents = v->arch.ldt_ents;
    for (unsigned i = 0; i < GDT_GUEST_PAGES; i++)
        c->gdt_frames[i] = v->arch.gdt_frames[i];
    c->gdt_ents = v->arch.gdt_ents;
    /* Mica's guests run on its flat ring-3 data selector; stack_switch keeps no other. */
    c->kernel_ss = RING3_DS;
    c->kernel_sp = v->arch.kernel_sp;
    c->ctrlreg[0] = pv_guest_cr0(v);
    c->ctrlreg[1] = v->arch.guest_table_user << PAGE_SHIFT;
    c->ctrlreg[2] = v->arch.cr2;
    c->ctrlreg[3] = v->arch.guest_table << PAGE_SHIFT;
    c->ctrlreg[4] = pv_guest_cr4(v);
    for (unsigned i = 0; i < 8; i++)
        c->debugreg[i] = i == 4 || i == 5 ? 0 : v->arch.debugreg[i];
    c->event_callback_eip = v->arch.event_cb.address;
    c->failsafe_callback_eip = v->arch.failsafe_cb.address;
    c->syscall_callback_eip = v->arch.syscall_cb.address;
    c->vm_assist = v->domain->arch.vm_assist;
    c->fs_base = v->arch.fs_base;
    c->gs_base_kernel = v->arch.gs_base_kernel;
    c->gs_base_user = v->arch.gs_base_user;
}
