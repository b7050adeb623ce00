/*
 * VCPUOP_initialise for 64-bit PV vCPUs: a guest gives one of its
 * secondary vCPUs (never initialised before) a complete register context,
 * virtual IDT, GDT, kernel stack, callbacks, segment bases and page-table
 * roots.  The rules are the Xen 4.17 ABI's: every address the vCPU may
 * jump or point to must be canonical, the GDT frames must be able to
 * become descriptor pages of the domain, CR3 (and the user CR3 if given)
 * must be able to become L4 tables of the domain, and a vCPU starting in
 * user mode needs a user CR3.  The context is copied in once; nothing in
 * the vCPU changes unless every check passes.
 */
#include <asm/current.h>
#include <asm/desc.h>
#include <asm/descriptor.h>
#include <asm/guest_access.h>
#include <asm/layout.h>
#include <asm/ldt.h>
#include <asm/pv.h>
#include <asm/pv_mm.h>
#include <asm/xstate.h>
#include <mica/context.h>
#include <mica/lib.h>
#include <mica/sched.h>
#include <public/errno.h>
#include <public/xen.h>

#define RFLAGS_IF       (1ULL << 9)
#define RFLAGS_IOPL     (3ULL << 12)
/* Flags a guest may start with: arithmetic, TF, DF, AC, ID (no VM/NT/RF/IOPL). */
#define RFLAGS_GUEST    0x240dd5ULL
#define RFLAGS_FIXED1   (1ULL << 1)
#define CR0_TS          (1ULL << 3)
#define FXSAVE_MXCSR    24

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
static bool context_ok(const struct vcpu_guest_context *c)
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
    /* A vCPU that starts in user mode needs the user page tables. */
    if (!(c->flags & VGCF_in_kernel) && !c->ctrlreg[1])
        return false;
    return true;
}

/* Takes the L4 reference a CR3 holds; 0 or -XEN_EINVAL. */
static long take_root(struct domain *d, u64 cr3, mfn_t *out)
{
    mfn_t mfn = cr3 >> PAGE_SHIFT;
    struct page_info *pg = pv_frame(mfn);

    if (!pg || get_page_and_type(pg, d, PGT_L4))
        return -XEN_EINVAL;
    *out = mfn;
    return 0;
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
 * state (XCR0 x87|SSE, as Xen does); otherwise the vCPU gets the power-on
 * state at its first switch-in (xstate.c).
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
        v->arch.xcr0 = XSTATE_X87 | XSTATE_SSE;
        v->arch.fpu_initialised = true;
    }
}

static long set_context(struct vcpu *v, const struct vcpu_guest_context *c)
{
    struct domain *d = v->domain;
    mfn_t kernel_root = 0, user_root = 0;
    long rc;

    if (!context_ok(c))
        return -XEN_EINVAL;
    if (c->ldt_ents && !d->arch.perdomain_l4e)
        return -XEN_ENOSYS;     /* no per-domain area to show an LDT in (as set_ldt) */
    if ((rc = pv_set_gdt(v, c->gdt_frames, c->gdt_ents)))
        return rc;
    if ((rc = take_root(d, c->ctrlreg[3], &kernel_root)) ||
        (c->ctrlreg[1] && (rc = take_root(d, c->ctrlreg[1], &user_root)))) {
        if (kernel_root)
            put_page_and_type(pv_frame(kernel_root));
        pv_drop_gdt(v);
        return rc;
    }

    load_registers(v, c);
    load_fpu(v, c);
    v->arch.kernel_mode = c->flags & VGCF_in_kernel;
    v->arch.guest_table = kernel_root;
    v->arch.guest_table_user = user_root;
    v->arch.kernel_sp = c->kernel_sp;
    /*
     * As MMUEXT_SET_LDT records it: pages are mapped into the vCPU's LDT
     * view when first touched, and the context switch loads LDTR.
     */
    v->arch.ldt_base = c->ldt_ents ? c->ldt_base : 0;
    v->arch.ldt_ents = (u32)c->ldt_ents;
    v->arch.fs_base = c->fs_base;
    v->arch.gs_base_kernel = c->gs_base_kernel;
    v->arch.gs_base_user = c->gs_base_user;
    v->arch.cr2 = 0;
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
    v->arch.nmi_cb = (struct guest_callback){ 0, true };
    /* As on Xen, debug registers the rules refuse are simply left clear. */
    memset(v->arch.debugreg, 0, sizeof(v->arch.debugreg));
    v->arch.debugreg[6] = 0xffff0ff0ULL;
    v->arch.debugreg[7] = 1ULL << 10;
    for (unsigned i = 0; i < 8; i++)
        if (i != 4 && i != 5)
            pv_set_debugreg(v, i, c->debugreg[i]);
    v->initialised = true;
    return 0;
}

long arch_initialise_vcpu(struct vcpu *v, u64 arg)
{
    /* 5 KiB: on the 32 KiB hypercall stack rather than in shared state. */
    struct vcpu_guest_context c;
    long rc;

    if (copy_from_guest(&c, arg, sizeof(c)))
        return -XEN_EFAULT;
    if (v->initialised)
        return -XEN_EEXIST;
    if ((rc = set_context(v, &c)))
        return rc;
    if (c.flags & VGCF_online) {
        v->state = VCPU_RUNNABLE;
        sched_add_vcpu(v);
        sched_request_resched();
    }
    return 0;
}
