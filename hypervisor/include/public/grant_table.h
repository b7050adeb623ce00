/*
 * Mica guest ABI: grant tables, versions 1 and 2 (grant_table_op, hypercall
 * 20).  A domain's grant table is an array of grant_entry_v1 (or, after
 * GNTTABOP_set_version 2, of grant_entry_v2) in frames it gets from
 * GNTTABOP_setup_table; it writes an entry to let another domain map
 * or copy one of its frames.
 */
#ifndef MICA_PUBLIC_GRANT_TABLE_H
#define MICA_PUBLIC_GRANT_TABLE_H

#include <public/xen.h>

typedef uint32_t grant_ref_t;
typedef uint32_t grant_handle_t;

struct grant_entry_v1 {
    uint16_t flags;              /* GTF_*; written last by the granter */
    domid_t  domid;              /* who may use the grant */
    uint32_t frame;              /* granted frame (an MFN for PV) */
};
XEN_ABI_SIZE(struct grant_entry_v1, 8);
XEN_ABI_OFFSET(struct grant_entry_v1, flags, 0);
XEN_ABI_OFFSET(struct grant_entry_v1, domid, 2);
XEN_ABI_OFFSET(struct grant_entry_v1, frame, 4);

/*
 * Version 2 (GNTTABOP_set_version): 16-byte entries, and the flags the
 * hypervisor sets (GTF_reading, GTF_writing) move out of the entry into
 * separate status frames, one grant_status_t per entry
 * (GNTTABOP_get_status_frames lists them).
 */
struct grant_entry_header {
    uint16_t flags;              /* GTF_* other than reading/writing */
    domid_t  domid;
};
XEN_ABI_SIZE(struct grant_entry_header, 4);
XEN_ABI_OFFSET(struct grant_entry_header, flags, 0);
XEN_ABI_OFFSET(struct grant_entry_header, domid, 2);

union grant_entry_v2 {
    struct grant_entry_header hdr;
    /* GTF_permit_access without GTF_sub_page (or GTF_accept_transfer). */
    struct {
        struct grant_entry_header hdr;
        uint32_t pad0;
        uint64_t frame;
    } full_page;
    /* GTF_permit_access with GTF_sub_page: bytes [page_off, page_off+length). */
    struct {
        struct grant_entry_header hdr;
        uint16_t page_off;
        uint16_t length;
        uint64_t frame;
    } sub_page;
    /* GTF_transitive: the grant gref of trans_domid, for copying only. */
    struct {
        struct grant_entry_header hdr;
        domid_t  trans_domid;
        uint16_t pad0;
        grant_ref_t gref;
    } transitive;
    uint32_t __spacer[4];
};
XEN_ABI_SIZE(union grant_entry_v2, 16);
XEN_ABI_OFFSET(union grant_entry_v2, hdr, 0);
XEN_ABI_OFFSET(union grant_entry_v2, full_page.hdr, 0);
XEN_ABI_OFFSET(union grant_entry_v2, full_page.pad0, 4);
XEN_ABI_OFFSET(union grant_entry_v2, full_page.frame, 8);
XEN_ABI_OFFSET(union grant_entry_v2, sub_page.page_off, 4);
XEN_ABI_OFFSET(union grant_entry_v2, sub_page.length, 6);
XEN_ABI_OFFSET(union grant_entry_v2, sub_page.frame, 8);
XEN_ABI_OFFSET(union grant_entry_v2, transitive.trans_domid, 4);
XEN_ABI_OFFSET(union grant_entry_v2, transitive.pad0, 6);
XEN_ABI_OFFSET(union grant_entry_v2, transitive.gref, 8);

typedef uint16_t grant_status_t;

/* The first entries are reserved for the toolstack. */
#define GNTTAB_NR_RESERVED_ENTRIES  8
#define GNTTAB_RESERVED_CONSOLE     0
#define GNTTAB_RESERVED_XENSTORE    1

/* grant_entry_v1.flags: type in bits 0-1 ... */
#define GTF_invalid          0U
#define GTF_permit_access    1U
#define GTF_accept_transfer  2U
#define GTF_transitive       3U
#define GTF_type_mask        3U
/* ... then sub-flags.  [G] = set by the granter, [H] = by the hypervisor. */
#define _GTF_readonly        2
#define GTF_readonly         (1U << 2)   /* [G] map read-only */
#define _GTF_reading         3
#define GTF_reading          (1U << 3)   /* [H] in use for reading */
#define _GTF_writing         4
#define GTF_writing          (1U << 4)   /* [H] in use for writing */
#define _GTF_PWT             5
#define GTF_PWT              (1U << 5)
#define _GTF_PCD             6
#define GTF_PCD              (1U << 6)
#define _GTF_PAT             7
#define GTF_PAT              (1U << 7)
#define _GTF_sub_page        8
#define GTF_sub_page         (1U << 8)
/* For GTF_accept_transfer entries. */
#define _GTF_transfer_committed  2
#define GTF_transfer_committed   (1U << 2)
#define _GTF_transfer_completed  3
#define GTF_transfer_completed   (1U << 3)

/* Sub-ops. */
#define GNTTABOP_map_grant_ref       0
#define GNTTABOP_unmap_grant_ref     1
#define GNTTABOP_setup_table         2
#define GNTTABOP_dump_table          3
#define GNTTABOP_transfer            4
#define GNTTABOP_copy                5
#define GNTTABOP_query_size          6
#define GNTTABOP_unmap_and_replace   7
#define GNTTABOP_set_version         8
#define GNTTABOP_get_status_frames   9
#define GNTTABOP_get_version        10
#define GNTTABOP_swap_grant_ref     11
#define GNTTABOP_cache_flush        12

/* map_grant_ref / unmap flags. */
#define _GNTMAP_device_map       0
#define GNTMAP_device_map        (1 << 0)
#define _GNTMAP_host_map         1
#define GNTMAP_host_map          (1 << 1)
#define _GNTMAP_readonly         2
#define GNTMAP_readonly          (1 << 2)
#define _GNTMAP_application_map  3
#define GNTMAP_application_map   (1 << 3)
#define _GNTMAP_contains_pte     4
#define GNTMAP_contains_pte      (1 << 4)
/* Bits 16 and up go into the PTE's available bits. */
#define _GNTMAP_guest_avail0     16
#define GNTMAP_guest_avail_mask  0xFFFF0000U

/* Per-op status values (the hypercall itself returns 0 or -errno). */
#define GNTST_okay               0
#define GNTST_general_error      (-1)
#define GNTST_bad_domain         (-2)
#define GNTST_bad_gntref         (-3)
#define GNTST_bad_handle         (-4)
#define GNTST_bad_virt_addr      (-5)
#define GNTST_bad_dev_addr       (-6)
#define GNTST_no_device_space    (-7)
#define GNTST_permission_denied  (-8)
#define GNTST_bad_page           (-9)
#define GNTST_bad_copy_arg       (-10)
#define GNTST_address_too_big    (-11)
#define GNTST_eagain             (-12)
#define GNTST_no_space           (-13)

struct gnttab_map_grant_ref {
    uint64_t host_addr;          /* IN: VA, or MA of a PTE (contains_pte) */
    uint32_t flags;              /* IN: GNTMAP_* */
    grant_ref_t ref;             /* IN */
    domid_t  dom;                /* IN: granting domain */
    int16_t  status;             /* OUT: GNTST_* */
    grant_handle_t handle;       /* OUT: for unmap */
    uint64_t dev_bus_addr;       /* OUT: machine address of the frame */
};
XEN_ABI_SIZE(struct gnttab_map_grant_ref, 32);
XEN_ABI_OFFSET(struct gnttab_map_grant_ref, host_addr, 0);
XEN_ABI_OFFSET(struct gnttab_map_grant_ref, flags, 8);
XEN_ABI_OFFSET(struct gnttab_map_grant_ref, ref, 12);
XEN_ABI_OFFSET(struct gnttab_map_grant_ref, dom, 16);
XEN_ABI_OFFSET(struct gnttab_map_grant_ref, status, 18);
XEN_ABI_OFFSET(struct gnttab_map_grant_ref, handle, 20);
XEN_ABI_OFFSET(struct gnttab_map_grant_ref, dev_bus_addr, 24);

struct gnttab_unmap_grant_ref {
    uint64_t host_addr;
    uint64_t dev_bus_addr;
    grant_handle_t handle;
    int16_t  status;             /* OUT */
    uint16_t _pad;
};
XEN_ABI_SIZE(struct gnttab_unmap_grant_ref, 24);
XEN_ABI_OFFSET(struct gnttab_unmap_grant_ref, host_addr, 0);
XEN_ABI_OFFSET(struct gnttab_unmap_grant_ref, dev_bus_addr, 8);
XEN_ABI_OFFSET(struct gnttab_unmap_grant_ref, handle, 16);
XEN_ABI_OFFSET(struct gnttab_unmap_grant_ref, status, 20);
MICA_ABI_OFFSET(struct gnttab_unmap_grant_ref, _pad, 22);

struct gnttab_setup_table {
    domid_t  dom;                /* IN */
    uint16_t _pad0;
    uint32_t nr_frames;          /* IN */
    int16_t  status;             /* OUT */
    uint16_t _pad1[3];
    xen_guest_handle_t frame_list; /* OUT: VA of xen_pfn_t[nr_frames] */
};
XEN_ABI_SIZE(struct gnttab_setup_table, 24);
XEN_ABI_OFFSET(struct gnttab_setup_table, dom, 0);
MICA_ABI_OFFSET(struct gnttab_setup_table, _pad0, 2);
XEN_ABI_OFFSET(struct gnttab_setup_table, nr_frames, 4);
XEN_ABI_OFFSET(struct gnttab_setup_table, status, 8);
MICA_ABI_OFFSET(struct gnttab_setup_table, _pad1, 10);
XEN_ABI_OFFSET(struct gnttab_setup_table, frame_list, 16);

struct gnttab_dump_table {
    domid_t dom;
    int16_t status;
};
XEN_ABI_SIZE(struct gnttab_dump_table, 4);
XEN_ABI_OFFSET(struct gnttab_dump_table, dom, 0);
XEN_ABI_OFFSET(struct gnttab_dump_table, status, 2);

struct gnttab_transfer {
    xen_pfn_t mfn;
    domid_t  domid;
    uint16_t _pad0;
    grant_ref_t ref;
    int16_t  status;
    uint16_t _pad1[3];
};
XEN_ABI_SIZE(struct gnttab_transfer, 24);
XEN_ABI_OFFSET(struct gnttab_transfer, mfn, 0);
XEN_ABI_OFFSET(struct gnttab_transfer, domid, 8);
MICA_ABI_OFFSET(struct gnttab_transfer, _pad0, 10);
XEN_ABI_OFFSET(struct gnttab_transfer, ref, 12);
XEN_ABI_OFFSET(struct gnttab_transfer, status, 16);
MICA_ABI_OFFSET(struct gnttab_transfer, _pad1, 18);

/* copy: each side is a grant ref or a local frame. */
#define _GNTCOPY_source_gref  0
#define GNTCOPY_source_gref   (1 << 0)
#define _GNTCOPY_dest_gref    1
#define GNTCOPY_dest_gref     (1 << 1)

struct gnttab_copy_ptr {
    union {
        grant_ref_t ref;
        xen_pfn_t   gmfn;
    } u;
    domid_t  domid;
    uint16_t offset;
    uint32_t _pad;
};
XEN_ABI_SIZE(struct gnttab_copy_ptr, 16);
XEN_ABI_OFFSET(struct gnttab_copy_ptr, u, 0);
XEN_ABI_OFFSET(struct gnttab_copy_ptr, u.ref, 0);
XEN_ABI_OFFSET(struct gnttab_copy_ptr, u.gmfn, 0);
XEN_ABI_OFFSET(struct gnttab_copy_ptr, domid, 8);
XEN_ABI_OFFSET(struct gnttab_copy_ptr, offset, 10);
MICA_ABI_OFFSET(struct gnttab_copy_ptr, _pad, 12);

struct gnttab_copy {
    struct gnttab_copy_ptr source;
    struct gnttab_copy_ptr dest;
    uint16_t len;
    uint16_t flags;              /* GNTCOPY_* */
    int16_t  status;             /* OUT */
    uint16_t _pad;
};
XEN_ABI_SIZE(struct gnttab_copy, 40);
XEN_ABI_OFFSET(struct gnttab_copy, source, 0);
XEN_ABI_OFFSET(struct gnttab_copy, dest, 16);
XEN_ABI_OFFSET(struct gnttab_copy, len, 32);
XEN_ABI_OFFSET(struct gnttab_copy, flags, 34);
XEN_ABI_OFFSET(struct gnttab_copy, status, 36);
MICA_ABI_OFFSET(struct gnttab_copy, _pad, 38);

struct gnttab_query_size {
    domid_t  dom;                /* IN */
    uint16_t _pad0;
    uint32_t nr_frames;          /* OUT */
    uint32_t max_nr_frames;      /* OUT */
    int16_t  status;             /* OUT */
    uint16_t _pad1;
};
XEN_ABI_SIZE(struct gnttab_query_size, 16);
XEN_ABI_OFFSET(struct gnttab_query_size, dom, 0);
MICA_ABI_OFFSET(struct gnttab_query_size, _pad0, 2);
XEN_ABI_OFFSET(struct gnttab_query_size, nr_frames, 4);
XEN_ABI_OFFSET(struct gnttab_query_size, max_nr_frames, 8);
XEN_ABI_OFFSET(struct gnttab_query_size, status, 12);
MICA_ABI_OFFSET(struct gnttab_query_size, _pad1, 14);

struct gnttab_unmap_and_replace {
    uint64_t host_addr;
    uint64_t new_addr;
    grant_handle_t handle;
    int16_t  status;
    uint16_t _pad;
};
XEN_ABI_SIZE(struct gnttab_unmap_and_replace, 24);
XEN_ABI_OFFSET(struct gnttab_unmap_and_replace, host_addr, 0);
XEN_ABI_OFFSET(struct gnttab_unmap_and_replace, new_addr, 8);
XEN_ABI_OFFSET(struct gnttab_unmap_and_replace, handle, 16);
XEN_ABI_OFFSET(struct gnttab_unmap_and_replace, status, 20);
MICA_ABI_OFFSET(struct gnttab_unmap_and_replace, _pad, 22);

struct gnttab_set_version {
    uint32_t version;            /* IN: 1 or 2; OUT: version in force */
};
XEN_ABI_SIZE(struct gnttab_set_version, 4);
XEN_ABI_OFFSET(struct gnttab_set_version, version, 0);

struct gnttab_get_status_frames {
    uint32_t nr_frames;
    domid_t  dom;
    int16_t  status;
    xen_guest_handle_t frame_list;
};
XEN_ABI_SIZE(struct gnttab_get_status_frames, 16);
XEN_ABI_OFFSET(struct gnttab_get_status_frames, nr_frames, 0);
XEN_ABI_OFFSET(struct gnttab_get_status_frames, dom, 4);
XEN_ABI_OFFSET(struct gnttab_get_status_frames, status, 6);
XEN_ABI_OFFSET(struct gnttab_get_status_frames, frame_list, 8);

struct gnttab_get_version {
    domid_t  dom;
    uint16_t pad;
    uint32_t version;            /* OUT */
};
XEN_ABI_SIZE(struct gnttab_get_version, 8);
XEN_ABI_OFFSET(struct gnttab_get_version, dom, 0);
XEN_ABI_OFFSET(struct gnttab_get_version, pad, 2);
XEN_ABI_OFFSET(struct gnttab_get_version, version, 4);

struct gnttab_swap_grant_ref {
    grant_ref_t ref_a;
    grant_ref_t ref_b;
    int16_t  status;
    uint16_t _pad;
};
XEN_ABI_SIZE(struct gnttab_swap_grant_ref, 12);
XEN_ABI_OFFSET(struct gnttab_swap_grant_ref, ref_a, 0);
XEN_ABI_OFFSET(struct gnttab_swap_grant_ref, ref_b, 4);
XEN_ABI_OFFSET(struct gnttab_swap_grant_ref, status, 8);
MICA_ABI_OFFSET(struct gnttab_swap_grant_ref, _pad, 10);

#endif /* MICA_PUBLIC_GRANT_TABLE_H */
