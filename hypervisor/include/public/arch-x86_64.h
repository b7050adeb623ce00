/*
 * Mica guest ABI, x86-64 part: flat selectors, the virtual address split
 * between hypervisor and guest, the virtual IDT entry, the register frame
 * and vCPU context used by VCPUOP_initialise, and the arch halves of
 * vcpu_info and shared_info.
 *
 * public/xen.h includes this file once its scalar types exist; including
 * this file first goes through public/xen.h, which comes back here.
 */
#include <public/xen.h>

#ifndef MICA_PUBLIC_ARCH_X86_64_H
#define MICA_PUBLIC_ARCH_X86_64_H

/* ------------------------------------------------------------------ */
/* Selectors in the hypervisor's reserved GDT page.  A PV64 kernel and   */
/* its user space both run in ring 3 with these; FLAT_*_DS is null.     */

#define FLAT_RING3_CS32  0xe023
#define FLAT_RING3_CS64  0xe033
#define FLAT_RING3_DS32  0xe02b
#define FLAT_RING3_DS64  0x0000
#define FLAT_RING3_SS32  0xe02b
#define FLAT_RING3_SS64  0xe02b

#define FLAT_KERNEL_CS64 FLAT_RING3_CS64
#define FLAT_KERNEL_CS32 FLAT_RING3_CS32
#define FLAT_KERNEL_CS   FLAT_RING3_CS64
#define FLAT_KERNEL_DS64 FLAT_RING3_DS64
#define FLAT_KERNEL_DS32 FLAT_RING3_DS32
#define FLAT_KERNEL_DS   FLAT_RING3_DS64
#define FLAT_KERNEL_SS64 FLAT_RING3_SS64
#define FLAT_KERNEL_SS32 FLAT_RING3_SS32
#define FLAT_KERNEL_SS   FLAT_RING3_SS64
#define FLAT_USER_CS64   FLAT_RING3_CS64
#define FLAT_USER_CS32   FLAT_RING3_CS32
#define FLAT_USER_CS     FLAT_RING3_CS64
#define FLAT_USER_DS64   FLAT_RING3_DS64
#define FLAT_USER_DS32   FLAT_RING3_DS32
#define FLAT_USER_DS     FLAT_RING3_DS64
#define FLAT_USER_SS64   FLAT_RING3_SS64
#define FLAT_USER_SS32   FLAT_RING3_SS32
#define FLAT_USER_SS     FLAT_RING3_SS64

/* The guest owns GDT pages 0..13; page 14 holds the selectors above. */
#define FIRST_RESERVED_GDT_PAGE   14
#define FIRST_RESERVED_GDT_BYTE   (14 * 4096)
#define FIRST_RESERVED_GDT_ENTRY  (14 * 4096 / 8)

/* ------------------------------------------------------------------ */
/* Virtual layout.  PML4 slots 256..271 belong to the hypervisor; the   */
/* read-only machine-to-phys table is mapped for guests at its start.    */

#define HYPERVISOR_VIRT_START  0xFFFF800000000000ULL
#define HYPERVISOR_VIRT_END    0xFFFF880000000000ULL
#define MACH2PHYS_VIRT_START   0xFFFF800000000000ULL
#define MACH2PHYS_VIRT_END     0xFFFF804000000000ULL
#define MACH2PHYS_NR_ENTRIES   ((0xFFFF804000000000ULL - 0xFFFF800000000000ULL) >> 3)

/* Legacy vcpu_info slots inside shared_info. */
#define XEN_LEGACY_MAX_VCPUS   32

/* set_segment_base (25) selectors. */
#define SEGBASE_FS           0
#define SEGBASE_GS_USER      1
#define SEGBASE_GS_KERNEL    2
#define SEGBASE_GS_USER_SEL  3

/* ------------------------------------------------------------------ */
/* Virtual IDT entry, as passed to set_trap_table (0).  A zero address  */
/* ends the list.  flags: bits 0-1 DPL for software INT n; bit 2 set =  */
/* mask events on entry.                                               */

struct trap_info {
    uint8_t  vector;
    uint8_t  flags;
    uint16_t cs;
    uint32_t _pad;
    uint64_t address;
};
XEN_ABI_SIZE(struct trap_info, 16);
XEN_ABI_OFFSET(struct trap_info, vector, 0);
XEN_ABI_OFFSET(struct trap_info, flags, 1);
XEN_ABI_OFFSET(struct trap_info, cs, 2);
MICA_ABI_OFFSET(struct trap_info, _pad, 4);
XEN_ABI_OFFSET(struct trap_info, address, 8);

/* ------------------------------------------------------------------ */
/* General registers as a PV64 guest sees them in vcpu_guest_context.   */

struct cpu_user_regs {
    uint64_t r15;
    uint64_t r14;
    uint64_t r13;
    uint64_t r12;
    uint64_t rbp;
    uint64_t rbx;
    uint64_t r11;
    uint64_t r10;
    uint64_t r9;
    uint64_t r8;
    uint64_t rax;
    uint64_t rcx;
    uint64_t rdx;
    uint64_t rsi;
    uint64_t rdi;
    uint32_t error_code;        /* hypervisor-private */
    uint32_t entry_vector;      /* hypervisor-private */
    uint64_t rip;
    uint16_t cs;
    uint16_t _pad0[1];
    uint8_t  saved_upcall_mask;
    uint8_t  _pad1[3];
    uint64_t rflags;            /* IF mirrors !saved_upcall_mask */
    uint64_t rsp;
    uint16_t ss, _pad2[3];
    uint16_t es, _pad3[3];
    uint16_t ds, _pad4[3];
    uint16_t fs, _pad5[3];
    uint16_t gs, _pad6[3];
};
XEN_ABI_SIZE(struct cpu_user_regs, 200);
XEN_ABI_OFFSET(struct cpu_user_regs, r15, 0);
XEN_ABI_OFFSET(struct cpu_user_regs, r14, 8);
XEN_ABI_OFFSET(struct cpu_user_regs, r13, 16);
XEN_ABI_OFFSET(struct cpu_user_regs, r12, 24);
XEN_ABI_OFFSET(struct cpu_user_regs, rbp, 32);
XEN_ABI_OFFSET(struct cpu_user_regs, rbx, 40);
XEN_ABI_OFFSET(struct cpu_user_regs, r11, 48);
XEN_ABI_OFFSET(struct cpu_user_regs, r10, 56);
XEN_ABI_OFFSET(struct cpu_user_regs, r9, 64);
XEN_ABI_OFFSET(struct cpu_user_regs, r8, 72);
XEN_ABI_OFFSET(struct cpu_user_regs, rax, 80);
XEN_ABI_OFFSET(struct cpu_user_regs, rcx, 88);
XEN_ABI_OFFSET(struct cpu_user_regs, rdx, 96);
XEN_ABI_OFFSET(struct cpu_user_regs, rsi, 104);
XEN_ABI_OFFSET(struct cpu_user_regs, rdi, 112);
XEN_ABI_OFFSET(struct cpu_user_regs, error_code, 120);
XEN_ABI_OFFSET(struct cpu_user_regs, entry_vector, 124);
XEN_ABI_OFFSET(struct cpu_user_regs, rip, 128);
XEN_ABI_OFFSET(struct cpu_user_regs, cs, 136);
XEN_ABI_OFFSET(struct cpu_user_regs, _pad0, 138);
XEN_ABI_OFFSET(struct cpu_user_regs, saved_upcall_mask, 140);
XEN_ABI_OFFSET(struct cpu_user_regs, _pad1, 141);
XEN_ABI_OFFSET(struct cpu_user_regs, rflags, 144);
XEN_ABI_OFFSET(struct cpu_user_regs, rsp, 152);
XEN_ABI_OFFSET(struct cpu_user_regs, ss, 160);
XEN_ABI_OFFSET(struct cpu_user_regs, _pad2, 162);
XEN_ABI_OFFSET(struct cpu_user_regs, es, 168);
XEN_ABI_OFFSET(struct cpu_user_regs, _pad3, 170);
XEN_ABI_OFFSET(struct cpu_user_regs, ds, 176);
XEN_ABI_OFFSET(struct cpu_user_regs, _pad4, 178);
XEN_ABI_OFFSET(struct cpu_user_regs, fs, 184);
XEN_ABI_OFFSET(struct cpu_user_regs, _pad5, 186);
XEN_ABI_OFFSET(struct cpu_user_regs, gs, 192);
XEN_ABI_OFFSET(struct cpu_user_regs, _pad6, 194);

/* ------------------------------------------------------------------ */
/* Full vCPU state for VCPUOP_initialise (5168 bytes).                 */

/* vcpu_guest_context.flags */
#define _VGCF_i387_valid                 0
#define VGCF_i387_valid                  (1 << 0)
#define VGCF_I387_VALID                  (1 << 0)
#define _VGCF_in_kernel                  2
#define VGCF_in_kernel                   (1 << 2)
#define VGCF_IN_KERNEL                   (1 << 2)
#define _VGCF_failsafe_disables_events   3
#define VGCF_failsafe_disables_events    (1 << 3)
#define _VGCF_syscall_disables_events    4
#define VGCF_syscall_disables_events     (1 << 4)
#define _VGCF_online                     5
#define VGCF_online                      (1 << 5)
/* iret_context.flags: return with SYSRET (RCX/R11 not restored). */
#define _VGCF_in_syscall                 8
#define VGCF_in_syscall                  (1 << 8)
#define VGCF_IN_SYSCALL                  (1 << 8)

struct vcpu_guest_context {
    uint8_t  fpu_ctxt[512];          /* FXSAVE image */
    uint64_t flags;                  /* VGCF_* */
    struct cpu_user_regs user_regs;
    struct trap_info trap_ctxt[256]; /* virtual IDT, indexed by vector */
    uint64_t ldt_base;               /* linear address */
    uint64_t ldt_ents;
    uint64_t gdt_frames[16];         /* MFNs */
    uint64_t gdt_ents;
    uint64_t kernel_ss;
    uint64_t kernel_sp;
    uint64_t ctrlreg[8];             /* cr3 = kernel L4, ctrlreg[1] = user L4 */
    uint64_t debugreg[8];
    uint64_t event_callback_eip;
    uint64_t failsafe_callback_eip;
    uint64_t syscall_callback_eip;
    uint64_t vm_assist;              /* VMASST_TYPE_* bitmap */
    uint64_t fs_base;
    uint64_t gs_base_kernel;
    uint64_t gs_base_user;
};
XEN_ABI_SIZE(struct vcpu_guest_context, 5168);
XEN_ABI_OFFSET(struct vcpu_guest_context, fpu_ctxt, 0);
XEN_ABI_OFFSET(struct vcpu_guest_context, flags, 512);
XEN_ABI_OFFSET(struct vcpu_guest_context, user_regs, 520);
XEN_ABI_OFFSET(struct vcpu_guest_context, trap_ctxt, 720);
XEN_ABI_OFFSET(struct vcpu_guest_context, ldt_base, 4816);
XEN_ABI_OFFSET(struct vcpu_guest_context, ldt_ents, 4824);
XEN_ABI_OFFSET(struct vcpu_guest_context, gdt_frames, 4832);
XEN_ABI_OFFSET(struct vcpu_guest_context, gdt_ents, 4960);
XEN_ABI_OFFSET(struct vcpu_guest_context, kernel_ss, 4968);
XEN_ABI_OFFSET(struct vcpu_guest_context, kernel_sp, 4976);
XEN_ABI_OFFSET(struct vcpu_guest_context, ctrlreg, 4984);
XEN_ABI_OFFSET(struct vcpu_guest_context, debugreg, 5048);
XEN_ABI_OFFSET(struct vcpu_guest_context, event_callback_eip, 5112);
XEN_ABI_OFFSET(struct vcpu_guest_context, failsafe_callback_eip, 5120);
XEN_ABI_OFFSET(struct vcpu_guest_context, syscall_callback_eip, 5128);
XEN_ABI_OFFSET(struct vcpu_guest_context, vm_assist, 5136);
XEN_ABI_OFFSET(struct vcpu_guest_context, fs_base, 5144);
XEN_ABI_OFFSET(struct vcpu_guest_context, gs_base_kernel, 5152);
XEN_ABI_OFFSET(struct vcpu_guest_context, gs_base_user, 5160);

/* ------------------------------------------------------------------ */
/* What the guest has on its stack when it invokes the iret hypercall   */
/* (lowest address first).                                              */

struct iret_context {
    uint64_t rax;
    uint64_t r11;
    uint64_t rcx;
    uint64_t flags;     /* VGCF_in_syscall or 0 */
    uint64_t rip;
    uint64_t cs;
    uint64_t rflags;
    uint64_t rsp;
    uint64_t ss;
};
XEN_ABI_SIZE(struct iret_context, 72);
XEN_ABI_OFFSET(struct iret_context, rax, 0);
XEN_ABI_OFFSET(struct iret_context, r11, 8);
XEN_ABI_OFFSET(struct iret_context, rcx, 16);
XEN_ABI_OFFSET(struct iret_context, flags, 24);
XEN_ABI_OFFSET(struct iret_context, rip, 32);
XEN_ABI_OFFSET(struct iret_context, cs, 40);
XEN_ABI_OFFSET(struct iret_context, rflags, 48);
XEN_ABI_OFFSET(struct iret_context, rsp, 56);
XEN_ABI_OFFSET(struct iret_context, ss, 64);

/* ------------------------------------------------------------------ */
/* Arch halves of vcpu_info and shared_info.                            */

struct arch_vcpu_info {
    uint64_t cr2;   /* faulting address of the #PF being delivered */
    uint64_t pad;
};
XEN_ABI_SIZE(struct arch_vcpu_info, 16);
XEN_ABI_OFFSET(struct arch_vcpu_info, cr2, 0);
XEN_ABI_OFFSET(struct arch_vcpu_info, pad, 8);

struct arch_shared_info {
    uint64_t max_pfn;                    /* guest-maintained */
    xen_pfn_t pfn_to_mfn_frame_list_list;
    uint64_t nmi_reason;                 /* XEN_NMIREASON_* (dom0) */
    uint64_t p2m_cr3;
    uint64_t p2m_vaddr;
    uint64_t p2m_generation;
};
XEN_ABI_SIZE(struct arch_shared_info, 48);
XEN_ABI_OFFSET(struct arch_shared_info, max_pfn, 0);
XEN_ABI_OFFSET(struct arch_shared_info, pfn_to_mfn_frame_list_list, 8);
XEN_ABI_OFFSET(struct arch_shared_info, nmi_reason, 16);
XEN_ABI_OFFSET(struct arch_shared_info, p2m_cr3, 24);
XEN_ABI_OFFSET(struct arch_shared_info, p2m_vaddr, 32);
XEN_ABI_OFFSET(struct arch_shared_info, p2m_generation, 40);

/* ------------------------------------------------------------------ */
/* CPU policy serialisation (XEN_SYSCTL_get_cpu_policy and the domctl   */
/* get/set_cpu_policy): arrays of CPUID leaves and of MSR values.       */

#define XEN_CPUID_NO_SUBLEAF 0xffffffffu   /* subleaf of a leaf without subleaves */

struct xen_cpuid_leaf {
    uint32_t leaf, subleaf;
    uint32_t a, b, c, d;
};
XEN_ABI_SIZE(struct xen_cpuid_leaf, 24);
XEN_ABI_OFFSET(struct xen_cpuid_leaf, leaf, 0);
XEN_ABI_OFFSET(struct xen_cpuid_leaf, subleaf, 4);
XEN_ABI_OFFSET(struct xen_cpuid_leaf, a, 8);
XEN_ABI_OFFSET(struct xen_cpuid_leaf, b, 12);
XEN_ABI_OFFSET(struct xen_cpuid_leaf, c, 16);
XEN_ABI_OFFSET(struct xen_cpuid_leaf, d, 20);

struct xen_msr_entry {
    uint32_t idx;
    uint32_t flags;               /* must be zero */
    uint64_t val;
};
XEN_ABI_SIZE(struct xen_msr_entry, 16);
XEN_ABI_OFFSET(struct xen_msr_entry, idx, 0);
XEN_ABI_OFFSET(struct xen_msr_entry, flags, 4);
XEN_ABI_OFFSET(struct xen_msr_entry, val, 8);

#endif /* MICA_PUBLIC_ARCH_X86_64_H */
