/*
 * Mica guest ABI, core part: the hypercall table, the pages every PV
 * guest shares with the hypervisor (start_info, shared_info, vcpu_info)
 * and the MMU hypercall arguments.
 *
 * Mica speaks the Xen x86-64 PV ABI, so the numbers and layouts here are
 * the ones stock Linux PV kernels expect (Xen 4.17 interface).  Names
 * follow the ABI's own spelling wherever guests know the name; the text of
 * these headers is Mica's.  See docs/abi.md.
 *
 * Conventions for every header in public/:
 *   - only explicit-width types from <stdint.h>; "unsigned long" of the
 *     64-bit ABI is uint64_t, "int" is int32_t;
 *   - a guest pointer ("guest handle") is a uint64_t holding a guest
 *     virtual address: the hypervisor never dereferences it directly;
 *   - every struct is followed by assertions on its size and on the offset
 *     of each member.  XEN_ABI_* assertions describe the shared ABI and are
 *     also compared against Xen's own headers by tests/abi; MICA_ABI_*
 *     assertions cover padding we spell out and Mica-only structures.
 */
#ifndef MICA_PUBLIC_XEN_H
#define MICA_PUBLIC_XEN_H

#include <stdint.h>

#define XEN_ABI_SIZE(type, size)                                             \
    _Static_assert(sizeof(type) == (size), "guest ABI: sizeof(" #type ")")
#define XEN_ABI_OFFSET(type, member, off)                                    \
    _Static_assert(__builtin_offsetof(type, member) == (off),                \
                   "guest ABI: offset of " #type "." #member)
#define MICA_ABI_SIZE(type, size)     XEN_ABI_SIZE(type, size)
#define MICA_ABI_OFFSET(type, m, off) XEN_ABI_OFFSET(type, m, off)

/* ------------------------------------------------------------------ */
/* Scalar types of the ABI.                                            */

typedef uint16_t domid_t;        /* domain id; see DOMID_* below */
typedef uint32_t evtchn_port_t;  /* event-channel port number */
typedef uint64_t xen_pfn_t;      /* frame number (an MFN for PV guests) */
typedef uint64_t xen_ulong_t;    /* the guest's native word */
typedef uint64_t xen_guest_handle_t; /* guest virtual address of an argument */

#include <public/arch-x86_64.h>

/* ------------------------------------------------------------------ */
/* Hypercall numbers, passed in RAX.  NR_hypercalls bounds the table.   */

#define __HYPERVISOR_set_trap_table                  0
#define __HYPERVISOR_mmu_update                      1
#define __HYPERVISOR_set_gdt                         2
#define __HYPERVISOR_stack_switch                    3
#define __HYPERVISOR_set_callbacks                   4
#define __HYPERVISOR_fpu_taskswitch                  5
#define __HYPERVISOR_sched_op_compat                 6
#define __HYPERVISOR_platform_op                     7
#define __HYPERVISOR_set_debugreg                    8
#define __HYPERVISOR_get_debugreg                    9
#define __HYPERVISOR_update_descriptor              10
/* 11 is unused */
#define __HYPERVISOR_memory_op                      12
#define __HYPERVISOR_multicall                      13
#define __HYPERVISOR_update_va_mapping              14
#define __HYPERVISOR_set_timer_op                   15
#define __HYPERVISOR_event_channel_op_compat        16
#define __HYPERVISOR_xen_version                    17
#define __HYPERVISOR_console_io                     18
#define __HYPERVISOR_physdev_op_compat              19
#define __HYPERVISOR_grant_table_op                 20
#define __HYPERVISOR_vm_assist                      21
#define __HYPERVISOR_update_va_mapping_otherdomain  22
#define __HYPERVISOR_iret                           23
#define __HYPERVISOR_vcpu_op                        24
#define __HYPERVISOR_set_segment_base               25
#define __HYPERVISOR_mmuext_op                      26
#define __HYPERVISOR_xsm_op                         27
#define __HYPERVISOR_nmi_op                         28
#define __HYPERVISOR_sched_op                       29
#define __HYPERVISOR_callback_op                    30
#define __HYPERVISOR_xenoprof_op                    31
#define __HYPERVISOR_event_channel_op               32
#define __HYPERVISOR_physdev_op                     33
#define __HYPERVISOR_hvm_op                         34
#define __HYPERVISOR_sysctl                         35
#define __HYPERVISOR_domctl                         36
#define __HYPERVISOR_kexec_op                       37
#define __HYPERVISOR_tmem_op                        38
#define __HYPERVISOR_argo_op                        39
#define __HYPERVISOR_xenpmu_op                      40
#define __HYPERVISOR_dm_op                          41
#define __HYPERVISOR_hypfs_op                       42
/* 43..47 unused; 48..55 are reserved for architecture-specific calls. */
#define __HYPERVISOR_arch_0                         48
#define __HYPERVISOR_arch_1                         49
#define __HYPERVISOR_arch_2                         50
#define __HYPERVISOR_arch_3                         51
#define __HYPERVISOR_arch_4                         52
#define __HYPERVISOR_arch_5                         53
#define __HYPERVISOR_arch_6                         54
#define __HYPERVISOR_arch_7                         55
/* Size of the dispatch table: any number at or above it is -ENOSYS. */
#define NR_hypercalls                               64
/* On x86, arch_0 is the machine-check call (dom0). */
#define __HYPERVISOR_mca                            __HYPERVISOR_arch_0

/* ------------------------------------------------------------------ */
/* Virtual interrupts, bound with EVTCHNOP_bind_virq.                  */
/* Per-vCPU ones: TIMER, DEBUG, XENOPROF, XENPMU; the rest are global.  */

#define VIRQ_TIMER       0
#define VIRQ_DEBUG       1
#define VIRQ_CONSOLE     2
#define VIRQ_DOM_EXC     3
#define VIRQ_TBUF        4
#define VIRQ_DEBUGGER    6
#define VIRQ_XENOPROF    7
#define VIRQ_CON_RING    8
#define VIRQ_PCPU_STATE  9
#define VIRQ_MEM_EVENT  10
#define VIRQ_ARGO       11
#define VIRQ_ENOMEM     12
#define VIRQ_XENPMU     13
#define VIRQ_ARCH_0     16
#define VIRQ_ARCH_1     17
#define VIRQ_ARCH_2     18
#define VIRQ_ARCH_3     19
#define VIRQ_ARCH_4     20
#define VIRQ_ARCH_5     21
#define VIRQ_ARCH_6     22
#define VIRQ_ARCH_7     23
#define NR_VIRQS        24
/* x86: the machine-check VIRQ is the first arch one. */
#define VIRQ_MCA        VIRQ_ARCH_0

/* ------------------------------------------------------------------ */
/* mmu_update (hypercall 1).  The low 3 bits of mmu_update.ptr select   */
/* the command; the rest is the machine address of the 8-byte target.  */

#define MMU_NORMAL_PT_UPDATE        0
#define MMU_MACHPHYS_UPDATE         1
#define MMU_PT_UPDATE_PRESERVE_AD   2
#define MMU_PT_UPDATE_NO_TRANSLATE  3
/* Bit 31 of the count marks a preempted batch being continued. */
#define MMU_UPDATE_PREEMPTED        (~(~0U >> 1))

struct mmu_update {
    uint64_t ptr;   /* command | machine address of the entry */
    uint64_t val;   /* new contents (or PFN for MMU_MACHPHYS_UPDATE) */
};
XEN_ABI_SIZE(struct mmu_update, 16);
XEN_ABI_OFFSET(struct mmu_update, ptr, 0);
XEN_ABI_OFFSET(struct mmu_update, val, 8);

/* mmuext_op (hypercall 26) commands. */
#define MMUEXT_PIN_L1_TABLE        0
#define MMUEXT_PIN_L2_TABLE        1
#define MMUEXT_PIN_L3_TABLE        2
#define MMUEXT_PIN_L4_TABLE        3
#define MMUEXT_UNPIN_TABLE         4
#define MMUEXT_NEW_BASEPTR         5
#define MMUEXT_TLB_FLUSH_LOCAL     6
#define MMUEXT_INVLPG_LOCAL        7
#define MMUEXT_TLB_FLUSH_MULTI     8
#define MMUEXT_INVLPG_MULTI        9
#define MMUEXT_TLB_FLUSH_ALL      10
#define MMUEXT_INVLPG_ALL         11
#define MMUEXT_FLUSH_CACHE        12
#define MMUEXT_SET_LDT            13
/* 14 unused */
#define MMUEXT_NEW_USER_BASEPTR   15
#define MMUEXT_CLEAR_PAGE         16
#define MMUEXT_COPY_PAGE          17
#define MMUEXT_FLUSH_CACHE_GLOBAL 18
#define MMUEXT_MARK_SUPER         19
#define MMUEXT_UNMARK_SUPER       20

struct mmuext_op {
    uint32_t cmd;
    uint32_t _pad;
    union {
        xen_pfn_t mfn;           /* pin/unpin, base pointers, clear/copy */
        uint64_t  linear_addr;   /* INVLPG_*, SET_LDT */
    } arg1;
    union {
        uint32_t           nr_ents;   /* SET_LDT */
        xen_guest_handle_t vcpumask;  /* *_MULTI: VA of a u64 vCPU bitmap */
        xen_pfn_t          src_mfn;   /* COPY_PAGE */
    } arg2;
};
XEN_ABI_SIZE(struct mmuext_op, 24);
XEN_ABI_OFFSET(struct mmuext_op, cmd, 0);
MICA_ABI_OFFSET(struct mmuext_op, _pad, 4);
XEN_ABI_OFFSET(struct mmuext_op, arg1, 8);
XEN_ABI_OFFSET(struct mmuext_op, arg1.mfn, 8);
XEN_ABI_OFFSET(struct mmuext_op, arg1.linear_addr, 8);
XEN_ABI_OFFSET(struct mmuext_op, arg2, 16);
XEN_ABI_OFFSET(struct mmuext_op, arg2.nr_ents, 16);
XEN_ABI_OFFSET(struct mmuext_op, arg2.vcpumask, 16);
XEN_ABI_OFFSET(struct mmuext_op, arg2.src_mfn, 16);

/* update_va_mapping (14) flags: flush type in bits 0-1, scope above. */
#define UVMF_NONE            0x0UL
#define UVMF_TLB_FLUSH       0x1UL
#define UVMF_INVLPG          0x2UL
#define UVMF_FLUSHTYPE_MASK  0x3UL
#define UVMF_MULTI           0x0UL  /* scope = pointer to a vCPU bitmap */
#define UVMF_LOCAL           0x0UL
#define UVMF_ALL             0x4UL

/* ------------------------------------------------------------------ */
/* console_io (18) and vm_assist (21).                                  */

#define CONSOLEIO_write  0
#define CONSOLEIO_read   1

#define VMASST_CMD_enable                 0
#define VMASST_CMD_disable                1
#define VMASST_TYPE_4gb_segments          0
#define VMASST_TYPE_4gb_segments_notify   1
#define VMASST_TYPE_writable_pagetables   2
#define VMASST_TYPE_pae_extended_cr3      3
#define VMASST_TYPE_architectural_iopl    4
#define VMASST_TYPE_runstate_update_flag  5
#define VMASST_TYPE_m2p_strict           32

/* ------------------------------------------------------------------ */
/* Special domain ids (domid_t).  Real domains are below 0x7FF0.        */

#define DOMID_FIRST_RESERVED  0x7FF0U
#define DOMID_SELF            0x7FF0U
#define DOMID_IO              0x7FF1U
#define DOMID_XEN             0x7FF2U
#define DOMID_COW             0x7FF3U
#define DOMID_INVALID         0x7FF4U
#define DOMID_IDLE            0x7FFFU
#define DOMID_MASK            0x7FFFU

/* ------------------------------------------------------------------ */
/* multicall (13): each entry runs as hypercall `op` with args[0..4].   */

struct multicall_entry {
    xen_ulong_t op;
    xen_ulong_t result;   /* written back by the hypervisor */
    xen_ulong_t args[6];
};
XEN_ABI_SIZE(struct multicall_entry, 64);
XEN_ABI_OFFSET(struct multicall_entry, op, 0);
XEN_ABI_OFFSET(struct multicall_entry, result, 8);
XEN_ABI_OFFSET(struct multicall_entry, args, 16);

/* ------------------------------------------------------------------ */
/* Time, per vCPU.  Protected by `version`: odd while being updated.    */
/* now = system_time + ((tsc - tsc_timestamp) scaled by tsc_shift, then */
/* multiplied by tsc_to_system_mul, >> 32).                            */

struct vcpu_time_info {
    uint32_t version;
    uint32_t pad0;
    uint64_t tsc_timestamp;     /* TSC when the fields below were taken */
    uint64_t system_time;       /* ns since the hypervisor started */
    uint32_t tsc_to_system_mul; /* 32.32 fixed-point ns per (shifted) tick */
    int8_t   tsc_shift;
    uint8_t  flags;             /* XEN_PVCLOCK_* */
    uint8_t  pad1[2];
};
XEN_ABI_SIZE(struct vcpu_time_info, 32);
XEN_ABI_OFFSET(struct vcpu_time_info, version, 0);
XEN_ABI_OFFSET(struct vcpu_time_info, pad0, 4);
XEN_ABI_OFFSET(struct vcpu_time_info, tsc_timestamp, 8);
XEN_ABI_OFFSET(struct vcpu_time_info, system_time, 16);
XEN_ABI_OFFSET(struct vcpu_time_info, tsc_to_system_mul, 24);
XEN_ABI_OFFSET(struct vcpu_time_info, tsc_shift, 28);
XEN_ABI_OFFSET(struct vcpu_time_info, flags, 29);
XEN_ABI_OFFSET(struct vcpu_time_info, pad1, 30);

#define XEN_PVCLOCK_TSC_STABLE_BIT  (1 << 0)
#define XEN_PVCLOCK_GUEST_STOPPED   (1 << 1)

/* ------------------------------------------------------------------ */
/* Per-vCPU event and time state (64 bytes).                           */

struct vcpu_info {
    uint8_t  evtchn_upcall_pending;  /* set by the hypervisor */
    uint8_t  evtchn_upcall_mask;     /* the guest's virtual "cli" */
    uint8_t  _pad[6];
    xen_ulong_t evtchn_pending_sel;  /* which evtchn_pending words changed */
    struct arch_vcpu_info arch;
    struct vcpu_time_info time;
};
XEN_ABI_SIZE(struct vcpu_info, 64);
XEN_ABI_OFFSET(struct vcpu_info, evtchn_upcall_pending, 0);
XEN_ABI_OFFSET(struct vcpu_info, evtchn_upcall_mask, 1);
MICA_ABI_OFFSET(struct vcpu_info, _pad, 2);
XEN_ABI_OFFSET(struct vcpu_info, evtchn_pending_sel, 8);
XEN_ABI_OFFSET(struct vcpu_info, arch, 16);
XEN_ABI_OFFSET(struct vcpu_info, arch.cr2, 16);
XEN_ABI_OFFSET(struct vcpu_info, time, 32);

/* ------------------------------------------------------------------ */
/* The shared_info page (first 3136 bytes of a 4 KiB page).            */

struct shared_info {
    struct vcpu_info vcpu_info[XEN_LEGACY_MAX_VCPUS];
    /* 2-level event channels: port p is bit p%64 of word p/64. */
    xen_ulong_t evtchn_pending[64];
    xen_ulong_t evtchn_mask[64];
    /* Wall-clock time at system time 0; same version protocol as time. */
    uint32_t wc_version;
    uint32_t wc_sec;
    uint32_t wc_nsec;
    uint32_t wc_sec_hi;
    struct arch_shared_info arch;
};
XEN_ABI_SIZE(struct shared_info, 3136);
XEN_ABI_OFFSET(struct shared_info, vcpu_info, 0);
XEN_ABI_OFFSET(struct shared_info, evtchn_pending, 2048);
XEN_ABI_OFFSET(struct shared_info, evtchn_mask, 2560);
XEN_ABI_OFFSET(struct shared_info, wc_version, 3072);
XEN_ABI_OFFSET(struct shared_info, wc_sec, 3076);
XEN_ABI_OFFSET(struct shared_info, wc_nsec, 3080);
XEN_ABI_OFFSET(struct shared_info, wc_sec_hi, 3084);
XEN_ABI_OFFSET(struct shared_info, arch, 3088);

/* ------------------------------------------------------------------ */
/* start_info: handed to the guest in RSI at first entry.              */

#define MAX_GUEST_CMDLINE 1024

struct start_info {
    /* Valid at first boot and after resume. */
    char     magic[32];          /* "xen-3.0-x86_64" */
    uint64_t nr_pages;           /* pages owned by the domain */
    uint64_t shared_info;        /* machine address of shared_info */
    uint32_t flags;              /* SIF_* */
    uint32_t _pad0;
    xen_pfn_t store_mfn;         /* xenstore ring frame */
    uint32_t store_evtchn;       /* xenstore event channel */
    uint32_t _pad1;
    union {
        struct {
            xen_pfn_t mfn;       /* console ring frame */
            uint32_t  evtchn;    /* console event channel */
        } domU;
        struct {
            uint32_t info_off;   /* offset of dom0_vga_console_info */
            uint32_t info_size;  /* its size */
        } dom0;
    } console;
    /* Valid at first boot only. */
    uint64_t pt_base;            /* VA of the bootstrap L4 */
    uint64_t nr_pt_frames;       /* bootstrap page-table frames */
    uint64_t mfn_list;           /* VA of the p2m array */
    uint64_t mod_start;          /* VA of the initrd (PFN with SIF_MOD_START_PFN) */
    uint64_t mod_len;            /* initrd bytes */
    char     cmd_line[MAX_GUEST_CMDLINE];
    uint64_t first_p2m_pfn;      /* INIT_P2M layout: first frame of p2m + tables */
    uint64_t nr_p2m_frames;
};
XEN_ABI_SIZE(struct start_info, 1168);
XEN_ABI_OFFSET(struct start_info, magic, 0);
XEN_ABI_OFFSET(struct start_info, nr_pages, 32);
XEN_ABI_OFFSET(struct start_info, shared_info, 40);
XEN_ABI_OFFSET(struct start_info, flags, 48);
MICA_ABI_OFFSET(struct start_info, _pad0, 52);
XEN_ABI_OFFSET(struct start_info, store_mfn, 56);
XEN_ABI_OFFSET(struct start_info, store_evtchn, 64);
MICA_ABI_OFFSET(struct start_info, _pad1, 68);
XEN_ABI_OFFSET(struct start_info, console, 72);
XEN_ABI_OFFSET(struct start_info, console.domU.mfn, 72);
XEN_ABI_OFFSET(struct start_info, console.domU.evtchn, 80);
XEN_ABI_OFFSET(struct start_info, console.dom0.info_off, 72);
XEN_ABI_OFFSET(struct start_info, console.dom0.info_size, 76);
XEN_ABI_OFFSET(struct start_info, pt_base, 88);
XEN_ABI_OFFSET(struct start_info, nr_pt_frames, 96);
XEN_ABI_OFFSET(struct start_info, mfn_list, 104);
XEN_ABI_OFFSET(struct start_info, mod_start, 112);
XEN_ABI_OFFSET(struct start_info, mod_len, 120);
XEN_ABI_OFFSET(struct start_info, cmd_line, 128);
XEN_ABI_OFFSET(struct start_info, first_p2m_pfn, 1152);
XEN_ABI_OFFSET(struct start_info, nr_p2m_frames, 1160);

/* start_info.flags */
#define SIF_PRIVILEGED       (1 << 0)
#define SIF_INITDOMAIN       (1 << 1)
#define SIF_MULTIBOOT_MOD    (1 << 2)   /* module is a xen_multiboot_mod_list */
#define SIF_MOD_START_PFN    (1 << 3)   /* mod_start is a PFN, not a VA */
#define SIF_VIRT_P2M_4TOOLS  (1 << 4)
#define SIF_PM_MASK          (0xFF << 8)

/* With SIF_MULTIBOOT_MOD: array of these at the module start, ended by
 * mod_start == 0; addresses are relative to the module start. */
struct xen_multiboot_mod_list {
    uint32_t mod_start;
    uint32_t mod_end;    /* last byte, inclusive */
    uint32_t cmdline;
    uint32_t pad;
};
XEN_ABI_SIZE(struct xen_multiboot_mod_list, 16);
XEN_ABI_OFFSET(struct xen_multiboot_mod_list, mod_start, 0);
XEN_ABI_OFFSET(struct xen_multiboot_mod_list, mod_end, 4);
XEN_ABI_OFFSET(struct xen_multiboot_mod_list, cmdline, 8);
XEN_ABI_OFFSET(struct xen_multiboot_mod_list, pad, 12);

/* dom0 only: console description placed after start_info
 * (start_info.console.dom0.info_off / info_size). */
#define XEN_VGATYPE_TEXT_MODE_3  0x03
#define XEN_VGATYPE_VESA_LFB     0x23
#define XEN_VGATYPE_EFI_LFB      0x70

struct dom0_vga_console_info {
    uint8_t video_type;   /* XEN_VGATYPE_* */
    uint8_t _pad[3];
    union {
        struct {
            uint16_t font_height;
            uint16_t cursor_x;
            uint16_t cursor_y;
            uint16_t rows;
            uint16_t columns;
        } text_mode_3;
        struct {
            uint16_t width;
            uint16_t height;
            uint16_t bytes_per_line;
            uint16_t bits_per_pixel;
            uint32_t lfb_base;       /* low 32 bits of the frame buffer */
            uint32_t lfb_size;       /* in 64 KiB units */
            uint8_t  red_pos, red_size;
            uint8_t  green_pos, green_size;
            uint8_t  blue_pos, blue_size;
            uint8_t  rsvd_pos, rsvd_size;
            uint32_t gbl_caps;
            uint16_t mode_attrs;
            uint16_t pad;
            uint32_t ext_lfb_base;   /* high 32 bits of the frame buffer */
        } vesa_lfb;
    } u;
};
XEN_ABI_SIZE(struct dom0_vga_console_info, 40);
XEN_ABI_OFFSET(struct dom0_vga_console_info, video_type, 0);
MICA_ABI_OFFSET(struct dom0_vga_console_info, _pad, 1);
XEN_ABI_OFFSET(struct dom0_vga_console_info, u, 4);
XEN_ABI_OFFSET(struct dom0_vga_console_info, u.text_mode_3.font_height, 4);
XEN_ABI_OFFSET(struct dom0_vga_console_info, u.text_mode_3.cursor_x, 6);
XEN_ABI_OFFSET(struct dom0_vga_console_info, u.text_mode_3.cursor_y, 8);
XEN_ABI_OFFSET(struct dom0_vga_console_info, u.text_mode_3.rows, 10);
XEN_ABI_OFFSET(struct dom0_vga_console_info, u.text_mode_3.columns, 12);
XEN_ABI_OFFSET(struct dom0_vga_console_info, u.vesa_lfb.width, 4);
XEN_ABI_OFFSET(struct dom0_vga_console_info, u.vesa_lfb.height, 6);
XEN_ABI_OFFSET(struct dom0_vga_console_info, u.vesa_lfb.bytes_per_line, 8);
XEN_ABI_OFFSET(struct dom0_vga_console_info, u.vesa_lfb.bits_per_pixel, 10);
XEN_ABI_OFFSET(struct dom0_vga_console_info, u.vesa_lfb.lfb_base, 12);
XEN_ABI_OFFSET(struct dom0_vga_console_info, u.vesa_lfb.lfb_size, 16);
XEN_ABI_OFFSET(struct dom0_vga_console_info, u.vesa_lfb.red_pos, 20);
XEN_ABI_OFFSET(struct dom0_vga_console_info, u.vesa_lfb.red_size, 21);
XEN_ABI_OFFSET(struct dom0_vga_console_info, u.vesa_lfb.green_pos, 22);
XEN_ABI_OFFSET(struct dom0_vga_console_info, u.vesa_lfb.green_size, 23);
XEN_ABI_OFFSET(struct dom0_vga_console_info, u.vesa_lfb.blue_pos, 24);
XEN_ABI_OFFSET(struct dom0_vga_console_info, u.vesa_lfb.blue_size, 25);
XEN_ABI_OFFSET(struct dom0_vga_console_info, u.vesa_lfb.rsvd_pos, 26);
XEN_ABI_OFFSET(struct dom0_vga_console_info, u.vesa_lfb.rsvd_size, 27);
XEN_ABI_OFFSET(struct dom0_vga_console_info, u.vesa_lfb.gbl_caps, 28);
XEN_ABI_OFFSET(struct dom0_vga_console_info, u.vesa_lfb.mode_attrs, 32);
XEN_ABI_OFFSET(struct dom0_vga_console_info, u.vesa_lfb.pad, 34);
XEN_ABI_OFFSET(struct dom0_vga_console_info, u.vesa_lfb.ext_lfb_base, 36);

/* ------------------------------------------------------------------ */
/* A bitmap passed by reference (CPU and node maps of the toolstack     */
/* calls): bit i of the map is bit (i % 8) of byte i / 8.               */

struct xenctl_bitmap {
    xen_guest_handle_t bitmap;    /* uint8_t[(nr_bits + 7) / 8] */
    uint32_t nr_bits;
    uint32_t _pad;
};
XEN_ABI_SIZE(struct xenctl_bitmap, 16);
XEN_ABI_OFFSET(struct xenctl_bitmap, bitmap, 0);
XEN_ABI_OFFSET(struct xenctl_bitmap, nr_bits, 8);
MICA_ABI_OFFSET(struct xenctl_bitmap, _pad, 12);

#endif /* MICA_PUBLIC_XEN_H */
