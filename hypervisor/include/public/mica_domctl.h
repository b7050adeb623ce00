/*
 * Mica-only domctl operations (hypercall 36, struct xen_domctl).
 *
 * Xen 4.17 numbers its domctl operations 1-86 and 1000-1003 (gdbsx);
 * Mica's own operations live at 0x4d00 ("M" << 8) and up, far from both,
 * so that Xen's toolstack never sends one by accident and a later Xen
 * addition does not collide.  Their argument structures sit in the
 * 128-byte union of struct xen_domctl (xen_domctl.u), like Xen's own.
 */
#ifndef MICA_PUBLIC_MICA_DOMCTL_H
#define MICA_PUBLIC_MICA_DOMCTL_H

#include <public/xen.h>

#define MICA_DOMCTL_FIRST     0x4d00
/*
 * Build a PV guest into a domain made by createdomain and not yet built:
 * Mica loads the kernel (ELF, or bzImage/gzip/xz/LZ4 as for dom0) and the
 * optional initrd from the caller's memory, gives the domain mem_kb of
 * memory (at most its max_mem), lays out the Xen PV start-of-day region
 * with a xenstore page and a console page, and makes vCPU 0 runnable.
 * The domain stays paused until the toolstack unpauses it.
 *
 * console_port and store_port are unbound ports of the new domain (the
 * toolstack makes them with EVTCHNOP_alloc_unbound, as xl does); they go
 * to start_info's console.domU.evtchn and store_evtchn.  The frames of
 * the two pages come back in console_mfn and store_mfn.
 *
 * Errors: -EEXIST if the domain is already built (or running), -EINVAL
 * for the caller itself, bad sizes, ports or a kernel that is not a
 * usable PV kernel, -ENOMEM if the memory is not free, -EFAULT for an
 * unreadable buffer.  Any failure once the domain was found fresh
 * destroys the domain: the toolstack never sees a half-built one.
 */
#define MICA_DOMCTL_build_pv  0x4d01

/* Bounds on what the caller may hand over (bytes). */
#define MICA_BUILD_KERNEL_MAX  (64ULL << 20)
#define MICA_BUILD_INITRD_MAX  (512ULL << 20)

struct mica_domctl_build_pv {
    /* IN: caller's virtual addresses and lengths. */
    uint64_t kernel;             /* kernel image */
    uint64_t kernel_len;
    uint64_t initrd;             /* 0 with initrd_len 0: none */
    uint64_t initrd_len;
    uint64_t cmdline;            /* 0 with cmdline_len 0: empty */
    uint64_t cmdline_len;        /* < MAX_GUEST_CMDLINE, no NUL needed */
    uint64_t mem_kb;             /* the domain's memory */
    uint32_t console_port;
    uint32_t store_port;
    /* OUT. */
    uint64_t console_mfn;
    uint64_t store_mfn;
    uint64_t nr_pages;           /* pages given to the domain */
};
MICA_ABI_SIZE(struct mica_domctl_build_pv, 88);
MICA_ABI_OFFSET(struct mica_domctl_build_pv, kernel, 0);
MICA_ABI_OFFSET(struct mica_domctl_build_pv, kernel_len, 8);
MICA_ABI_OFFSET(struct mica_domctl_build_pv, initrd, 16);
MICA_ABI_OFFSET(struct mica_domctl_build_pv, initrd_len, 24);
MICA_ABI_OFFSET(struct mica_domctl_build_pv, cmdline, 32);
MICA_ABI_OFFSET(struct mica_domctl_build_pv, cmdline_len, 40);
MICA_ABI_OFFSET(struct mica_domctl_build_pv, mem_kb, 48);
MICA_ABI_OFFSET(struct mica_domctl_build_pv, console_port, 56);
MICA_ABI_OFFSET(struct mica_domctl_build_pv, store_port, 60);
MICA_ABI_OFFSET(struct mica_domctl_build_pv, console_mfn, 64);
MICA_ABI_OFFSET(struct mica_domctl_build_pv, store_mfn, 72);
MICA_ABI_OFFSET(struct mica_domctl_build_pv, nr_pages, 80);

/*
 * Copy frames of a domain that does not run (paused by the toolstack, or
 * shut down, e.g. suspended for a save) to or from the caller's memory:
 * save and restore without mapping each frame into dom0.
 *
 * frames: the caller's array of nr MFNs of the domain; buffer: nr * 4096
 * octets, frame i at buffer + i * 4096.  MICA_COPY_FROM_DOMAIN reads any
 * frame of the domain (page tables included); MICA_COPY_TO_DOMAIN writes
 * a frame only if it can be typed writable, i.e. it is not in use as a
 * page table or descriptor page.  done: 0 for a new call; the frames
 * copied so far on the way out.  A long batch may be preempted and
 * continued by Mica (the call is re-issued with done advanced); the
 * caller sees one call.
 *
 * Errors (done then names the frame at which the call stopped): -EINVAL
 * for a frame that is not the domain's (another domain's, free, Mica's,
 * its shared_info page, no such frame), an unknown direction, non-zero
 * pad, done > nr, or the caller's own domain; -EPERM for a frame in use
 * as a page table or descriptor page (to the domain only); -E2BIG for nr
 * above MICA_COPY_FRAMES_MAX; -EBUSY when the domain may run (neither
 * paused nor shut down); -EFAULT for an unreadable frames array or an
 * inaccessible buffer (the frames before it are copied).  The buffer must
 * be resident in the caller's memory (Mica does not fault it in).
 */
#define MICA_DOMCTL_copy_frames  0x4d02

#define MICA_COPY_FROM_DOMAIN  0     /* domain's frames -> buffer (save) */
#define MICA_COPY_TO_DOMAIN    1     /* buffer -> domain's frames (restore) */
#define MICA_COPY_FRAMES_MAX   1024

struct mica_domctl_copy_frames {
    uint64_t frames;             /* IN: caller's address of nr uint64_t MFNs */
    uint64_t buffer;             /* IN: caller's address of nr * 4096 octets */
    uint32_t nr;                 /* IN */
    uint32_t direction;          /* IN: MICA_COPY_* */
    uint32_t done;               /* IN/OUT: see above */
    uint32_t pad;                /* IN: 0 */
};
MICA_ABI_SIZE(struct mica_domctl_copy_frames, 32);
MICA_ABI_OFFSET(struct mica_domctl_copy_frames, frames, 0);
MICA_ABI_OFFSET(struct mica_domctl_copy_frames, buffer, 8);
MICA_ABI_OFFSET(struct mica_domctl_copy_frames, nr, 16);
MICA_ABI_OFFSET(struct mica_domctl_copy_frames, direction, 20);
MICA_ABI_OFFSET(struct mica_domctl_copy_frames, done, 24);
MICA_ABI_OFFSET(struct mica_domctl_copy_frames, pad, 28);

/*
 * The last CLEAN of a live migration, the guest suspended: what
 * XEN_DOMCTL_shadow_op CLEAN with XEN_DOMCTL_SHADOW_LOGDIRTY_FINAL does
 * (the dirty bitmap copied out and cleared, every kernel-half entry that
 * log-dirty made read-only given its RW back), except how those RW
 * restorations are reported.  The shadow_op marks each L1 table so
 * changed dirty, and a toolstack sends the whole table again for its RW
 * bits (about 130 tables for a 256 MiB Linux: its direct map).  Here the
 * table's PFN and the slots made writable go to rw_tables instead, for a
 * toolstack that tells the destination to set those RW bits in the copy
 * it already has (vmctl migrate's MICA_KERNEL_RW record,
 * docs/migration.md).  A table that changed in any other way is marked
 * dirty as before; tables beyond rw_max are marked dirty too, so a short
 * list is never wrong, only slower.
 *
 * dirty_bitmap, pages: as shadow_op's (bit n % 8 of octet n / 8: PFN n;
 * 0 for no bitmap).  rw_tables: the caller's array of rw_max entries;
 * rw_nr: how many were filled.  dirty_count, fault_count: shadow_op's
 * stats.  pad: 0.  Log-dirty off: 0 with nothing reported, as CLEAN.
 *
 * Errors: -EINVAL for the caller itself, rw_max above
 * MICA_LOGDIRTY_RW_MAX or non-zero pad; -ENOMEM if the list cannot be
 * allocated (nothing done) or, as CLEAN, for a PFN beyond the bitmap;
 * -EFAULT for an unwritable bitmap or list (the bitmap is cleared all
 * the same: the caller must treat the migration as failed).
 */
#define MICA_DOMCTL_logdirty_final  0x4d03
#define MICA_LOGDIRTY_RW_MAX        4096

struct mica_logdirty_rw {
    uint64_t pfn;                /* the L1 table */
    uint64_t slots[8];           /* bit n % 64 of slots[n / 64]: entry n made writable */
};
MICA_ABI_SIZE(struct mica_logdirty_rw, 72);
MICA_ABI_OFFSET(struct mica_logdirty_rw, pfn, 0);
MICA_ABI_OFFSET(struct mica_logdirty_rw, slots, 8);

struct mica_domctl_logdirty_final {
    uint64_t dirty_bitmap;       /* IN: caller's address of (pages + 7) / 8 octets */
    uint64_t pages;              /* IN: bits there */
    uint64_t rw_tables;          /* IN: caller's address of rw_max entries */
    uint32_t rw_max;             /* IN */
    uint32_t rw_nr;              /* OUT */
    uint32_t dirty_count;        /* OUT */
    uint32_t fault_count;        /* OUT */
    uint64_t pad;                /* IN: 0 */
};
MICA_ABI_SIZE(struct mica_domctl_logdirty_final, 48);
MICA_ABI_OFFSET(struct mica_domctl_logdirty_final, dirty_bitmap, 0);
MICA_ABI_OFFSET(struct mica_domctl_logdirty_final, pages, 8);
MICA_ABI_OFFSET(struct mica_domctl_logdirty_final, rw_tables, 16);
MICA_ABI_OFFSET(struct mica_domctl_logdirty_final, rw_max, 24);
MICA_ABI_OFFSET(struct mica_domctl_logdirty_final, rw_nr, 28);
MICA_ABI_OFFSET(struct mica_domctl_logdirty_final, dirty_count, 32);
MICA_ABI_OFFSET(struct mica_domctl_logdirty_final, fault_count, 36);
MICA_ABI_OFFSET(struct mica_domctl_logdirty_final, pad, 40);

/*
 * The page-table frames of a domain that does not run (paused by the
 * toolstack, or shut down, e.g. suspended for a save or the last round of
 * a migration), from the hypervisor's own knowledge of their types: what
 * getpageframeinfo3 would answer L1TAB..L4TAB (with LPINTAB) for, without
 * the toolstack asking about every frame of the domain.  vmctl migrate's
 * table check (docs/migration.md) takes the tables to read again from it.
 *
 * tables: the caller's array of max entries, filled in the order of the
 * frames (by MFN).  type: the XEN_DOMCTL_PFINFO_* value getpageframeinfo3
 * gives the frame: L1TAB..L4TAB, LPINTAB added when pinned; a table not
 * (or only partly) validated and not pinned is plain memory there and is
 * not listed.  pfn: the frame's M2P entry as the domain set it
 * (INVALID_M2P_ENTRY, ~0, if none).  nr: how many tables the domain has,
 * also when that is more than max.
 *
 * One walk of the host's frame table, not preempted (as log-dirty's
 * walks, docs/migration.md).  The domain must not run, else -EBUSY.
 * Errors: -EINVAL for the caller itself or non-zero pad; -ENOSPC when
 * the domain has more than max tables (the first max are written, nr
 * says how many there are: ask again with room for nr); -ESRCH for a
 * dying domain; -EFAULT for an unwritable array (entries before it may
 * be written).
 */
#define MICA_DOMCTL_list_tables  0x4d04

struct mica_table_frame {
    uint64_t mfn;
    uint64_t pfn;                /* M2P: the domain's PFN for mfn */
    uint32_t type;               /* XEN_DOMCTL_PFINFO_L1TAB..L4TAB | LPINTAB */
    uint32_t pad;                /* 0 */
};
MICA_ABI_SIZE(struct mica_table_frame, 24);
MICA_ABI_OFFSET(struct mica_table_frame, mfn, 0);
MICA_ABI_OFFSET(struct mica_table_frame, pfn, 8);
MICA_ABI_OFFSET(struct mica_table_frame, type, 16);
MICA_ABI_OFFSET(struct mica_table_frame, pad, 20);

struct mica_domctl_list_tables {
    uint64_t tables;             /* IN: caller's address of max entries */
    uint32_t max;                /* IN */
    uint32_t nr;                 /* OUT: the domain's tables, even beyond max */
    uint64_t pad;                /* IN: 0 */
};
MICA_ABI_SIZE(struct mica_domctl_list_tables, 24);
MICA_ABI_OFFSET(struct mica_domctl_list_tables, tables, 0);
MICA_ABI_OFFSET(struct mica_domctl_list_tables, max, 8);
MICA_ABI_OFFSET(struct mica_domctl_list_tables, nr, 12);
MICA_ABI_OFFSET(struct mica_domctl_list_tables, pad, 16);

#endif
