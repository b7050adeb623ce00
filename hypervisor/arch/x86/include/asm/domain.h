/*
 * The x86 half of a PV vCPU: its saved registers while it is not running
 * and the virtual-CPU state the PV ABI gives it (virtual IDT, callbacks,
 * two page-table roots, segment bases, virtual CR0.TS and CR2).
 */
#ifndef ASM_DOMAIN_H
#define ASM_DOMAIN_H

#include <asm/cpu_policy.h>
#include <asm/logdirty.h>
#include <asm/regs.h>
#include <asm/xstate.h>
#include <mica/cpumask.h>
#include <mica/spinlock.h>
#include <mica/types.h>

struct guest_trap {
    u64 address;        /* 0: no handler */
    u16 cs;
    u8 flags;           /* trap_info flags: DPL in bits 0-1, mask events in bit 2 */
};
#define GUEST_TRAP_DPL_MASK  0x3
#define GUEST_TRAP_MASK_EVENTS 0x4

struct guest_callback {
    u64 address;        /* 0: not registered */
    bool mask_events;
};

struct arch_vcpu {
    struct cpu_regs regs;           /* valid while descheduled */
    bool kernel_mode;               /* the PV "kernel mode" flag (both run in ring 3) */
    mfn_t guest_table;              /* kernel L4 */
    mfn_t guest_table_user;         /* user L4, 0 for none */
    /*
     * A table whose de-validation this vCPU's mmu_update or mmuext_op
     * stopped part way (PGT_PARTIAL | PGT_DOWN), 0 for none; it holds a
     * general reference on the frame.  Another domain's table when a
     * privileged vCPU's foreign unpin stopped (its owner's pt_lock guards
     * the table itself).  Or a table whose validation this vCPU's call
     * refused, its entries still to release (the same state; the head of
     * the refused path, docs/pv-mm.md "Refused validations"; also from
     * VCPUOP_initialise / setvcpucontext, then without a continuation of
     * that call).  Its continuation, or the vCPU's next mmu_update,
     * mmuext_op or context set, finishes it first (pv_finish_old_table),
     * as do a reset of the vCPU and the domain's teardown.  Or, with old_guest_table_typed, a validated kernel root
     * (a general and an L4 type reference) kept across the continuation
     * of a context whose user root's validation stopped (vcpu_context.c);
     * the re-issued context takes it back, anything else drops it.
     * Both read and written only under the pt_lock of the vCPU's domain,
     * by the vCPU's own hypercalls, by a context set on it, or while it
     * cannot run.
     */
    mfn_t old_guest_table;
    bool old_guest_table_typed;
    u64 kernel_sp;                  /* from stack_switch */
    u64 fs_base;
    u64 gs_base_kernel;
    u64 gs_base_user;
    u16 gs_sel_user;
    u16 data_sel[4];                /* DS, ES, FS, GS while descheduled */
    bool fpu_ts;                    /* virtual CR0.TS (fpu_taskswitch) */
    bool fpu_dirty;                 /* hardware FPU holds this vCPU's state */
    u64 cr2;                        /* virtual CR2 */
    u8 iopl;                        /* virtual IOPL (physdev set_iopl), 0-3 */
    u64 debugreg[8];
    u32 tsc_aux;                    /* TSC_AUX (pv/msrs.c says who writes it when) */
    bool debug_pending;             /* a #DB hit inside Mica, owed to the guest */
    u64 iobmp_va;                   /* physdev set_iobitmap: guest VA, 0 = none */
    u32 iobmp_ports;
    struct guest_trap traps[256];
    mfn_t gdt_frames[14];           /* guest GDT frames (type seg_desc), 0 = none */
    unsigned gdt_ents;
    u64 ldt_base;                   /* MMUEXT_SET_LDT: guest linear address */
    u32 ldt_ents;
    mfn_t ldt_frames[16];           /* LDT pages mapped in the view (seg_desc), 0 = none */
    /* The NMI callback is traps[2], as on Xen (CALLBACKTYPE_nmi, nmi_op or set_trap_table). */
    struct guest_callback event_cb, failsafe_cb, syscall_cb;
    /*
     * Virtual NMI (arch/x86/nmi.c, pv/traps.c): nmi_pending is set by any
     * CPU with an atomic exchange (nmi=dom0's forwarding, VCPUOP_send_nmi)
     * and cleared by the CPU that delivers it while running this vCPU;
     * nmi_masked is the vCPU's own (set when an NMI is delivered, cleared
     * by its iret hypercall), touched only while it runs or by its setup.
     */
    bool nmi_pending;
    bool nmi_masked;
    struct guest_callback syscall32_cb, sysenter_cb;    /* 32-bit user code */
    /* Their code selectors: only kept, for ext_vcpucontext (save/restore). */
    u16 syscall32_cs, sysenter_cs;
    /* FPU/XSAVE state (asm/xstate.h): valid while descheduled. */
    bool fpu_initialised;           /* the area holds a state (set at first switch-in) */
    bool cr4_osxsave;               /* the guest's view of CR4.OSXSAVE */
    /*
     * The guest's view of CR4.FSGSBASE (pv/emulate.c): loaded into the
     * real CR4 while the vCPU runs, so RD/WR{FS,GS}BASE work for it
     * exactly when it enabled them.  Written by the vCPU itself (MOV to
     * CR4) or by setvcpucontext while it is not running.
     */
    bool cr4_fsgsbase;
    u64 xcr0;                       /* the guest's XCR0 */
    u64 xcr0_accum;                 /* every XCR0 bit it has had (vcpuextstate) */
    u8 xsave_buf[XSTATE_BUF_SIZE] __attribute__((aligned(16)));
    /*
     * 1 + the CPU that has this vCPU's page tables loaded, 0 for none
     * (Xen's dirty_cpu): written by that CPU in arch_context_switch(),
     * read without a lock (MMUEXT_*_MULTI, UVMF_MULTI).
     */
    unsigned dirty_cpu;
};

struct arch_domain {
    u64 vm_assist;                  /* VMASST_TYPE_* bits */
    /*
     * The CPUs that may hold this domain's translations: a CPU sets its
     * bit before it loads one of the domain's page tables and clears it
     * after loading another domain's (or Mica's idle tables; guest
     * mappings are never global, so that load flushes them), both in
     * arch_context_switch().  Atomic bit updates by each CPU for itself,
     * read without a lock (asm/tlbflush.h).
     */
    cpumask_t dirty_cpumask;
    /*
     * The per-domain area (L4 slot 260, Mica-only): each vCPU's GDT view.
     * perdomain_l4e is what every L4 of the domain carries in that slot.
     */
    u64 perdomain_l4e;
    u64 *perdomain_l1[2];           /* 2 MiB each: 16 vCPUs of 128 KiB */
    bool shared_info_typed;         /* holds the builder's writable reference on it */
    /*
     * PHYSDEVOP_pirq_eoi_gmfn_v2: the guest page whose bit n says pirq n
     * needs an EOI hypercall; 0 while none.  Set once (compare-and-swap),
     * held with a writable type reference until the teardown drops it;
     * its bits are written under pirq_lock (pv/pirq.c).
     */
    u64 pirq_eoi_mfn;
    u32 pci_cf8;                    /* dom0's last dword written to port 0xcf8 (asm/pci.h) */
    /* Teardown (pv/mm_teardown.c): where a preempted one goes on. */
    u8 teardown_step;
    u64 teardown_next;
    u64 teardown_bad;               /* frames kept back: still typed */
    /*
     * Guards the contents of this domain's page-table frames and their
     * validation: entry updates (mmu_update, update_va_mapping, writable
     * page-table emulation, grant PTEs) and mmuext ops.  One lock per
     * domain rather than Xen's per-page lock: simpler, at the price of
     * serialising one guest's vCPUs on page-table updates.
     */
    spinlock_t pt_lock;
    /*
     * XPTI (asm/xpti.h): this domain's vCPUs run on the per-CPU root page
     * tables.  Set once at creation from `xpti=` (dom0 or domU), then read-only.
     */
    bool xpti;
    /* Log-dirty tracking (pv/logdirty.c); its own comments say which lock guards what. */
    struct pv_logdirty logdirty;
    /* The toolstack's CPU policy for the guest's CPUID, once it has set one. */
    bool cpu_policy_set;
    struct cpu_policy cpu_policy;
};

/* At creation, once the domain ID is known: per-domain speculation settings (spec_ctrl.c). */
struct domain;
void arch_domain_spec_init(struct domain *d);

/* The arch part of a new domain's locks (called from domain_create()). */
static inline void arch_domain_locks_init(struct arch_domain *a)
{
    spin_lock_init(&a->pt_lock, "d->arch.pt_lock", LOCK_ORDER_PAGE_TABLE);
    spin_lock_init(&a->logdirty.lock, "d->arch.logdirty.lock", LOCK_ORDER_LOGDIRTY);
}

#endif
