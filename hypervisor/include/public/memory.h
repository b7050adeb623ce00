/*
 * Mica guest ABI: memory_op (hypercall 12) sub-ops and arguments, plus the
 * E820 entry format XENMEM_memory_map hands out.
 */
#ifndef MICA_PUBLIC_MEMORY_H
#define MICA_PUBLIC_MEMORY_H

#include <public/xen.h>

#define XENMEM_increase_reservation      0   /* struct xen_memory_reservation */
#define XENMEM_decrease_reservation      1   /* struct xen_memory_reservation */
#define XENMEM_maximum_ram_page          2
#define XENMEM_current_reservation       3   /* domid_t */
#define XENMEM_maximum_reservation       4   /* domid_t */
#define XENMEM_machphys_mfn_list         5   /* struct xen_machphys_mfn_list */
#define XENMEM_populate_physmap          6   /* struct xen_memory_reservation */
#define XENMEM_add_to_physmap            7   /* struct xen_add_to_physmap */
#define XENMEM_memory_map                9   /* struct xen_memory_map */
#define XENMEM_machine_memory_map       10   /* struct xen_memory_map */
#define XENMEM_exchange                 11   /* struct xen_memory_exchange */
#define XENMEM_machphys_mapping         12   /* struct xen_machphys_mapping */
#define XENMEM_set_memory_map           13   /* struct xen_foreign_memory_map */
#define XENMEM_maximum_gpfn             14   /* domid_t */
#define XENMEM_remove_from_physmap      15   /* struct xen_remove_from_physmap */
#define XENMEM_set_pod_target           16
#define XENMEM_get_pod_target           17
/* Frames saved by and frames in Xen's memory sharing; no argument. */
#define XENMEM_get_sharing_freed_pages  18
#define XENMEM_get_sharing_shared_pages 19
#define XENMEM_add_to_physmap_batch     23
#define XENMEM_claim_pages              24
#define XENMEM_machphys_compat_mfn_list 25
#define XENMEM_get_vnumainfo            26
#define XENMEM_acquire_resource         28

/* xen_memory_reservation.mem_flags: bits 0-7 are the address width limit
 * (0 = none), bits 8-15 a NUMA node + 1, then these flags. */
#define XENMEMF_address_bits(x)     (x)
#define XENMEMF_get_address_bits(x) ((x) & 0xffu)
#define XENMEMF_node(n)             (((n) + 1) << 8)
#define XENMEMF_get_node(x)         ((((x) >> 8) - 1) & 0xffu)
#define XENMEMF_NO_NODE             0xffu   /* node bits 0: any node */
#define XENMEMF_MAX_NODES           64u     /* Xen 4.17 x86's MAX_NUMNODES */
#define XENMEMF_populate_on_demand  (1 << 16)
#define XENMEMF_exact_node_request  (1 << 17)
#define XENMEMF_vnode               (1 << 18)

struct xen_memory_reservation {
    xen_guest_handle_t extent_start; /* VA of xen_pfn_t[nr_extents] */
    xen_ulong_t nr_extents;
    uint32_t extent_order;           /* each extent is 2^order pages */
    uint32_t mem_flags;              /* XENMEMF_* */
    domid_t  domid;
    uint16_t _pad[3];
};
XEN_ABI_SIZE(struct xen_memory_reservation, 32);
XEN_ABI_OFFSET(struct xen_memory_reservation, extent_start, 0);
XEN_ABI_OFFSET(struct xen_memory_reservation, nr_extents, 8);
XEN_ABI_OFFSET(struct xen_memory_reservation, extent_order, 16);
XEN_ABI_OFFSET(struct xen_memory_reservation, mem_flags, 20);
XEN_ABI_OFFSET(struct xen_memory_reservation, domid, 24);
MICA_ABI_OFFSET(struct xen_memory_reservation, _pad, 26);

/* Trade `in` extents for `out` extents, all or nothing. */
struct xen_memory_exchange {
    struct xen_memory_reservation in;
    struct xen_memory_reservation out;
    xen_ulong_t nr_exchanged;        /* in-extents done; 0 on a first call, where to resume after */
};
XEN_ABI_SIZE(struct xen_memory_exchange, 72);
XEN_ABI_OFFSET(struct xen_memory_exchange, in, 0);
XEN_ABI_OFFSET(struct xen_memory_exchange, out, 32);
XEN_ABI_OFFSET(struct xen_memory_exchange, nr_exchanged, 64);

struct xen_memory_domain {
    domid_t domid;
};
XEN_ABI_SIZE(struct xen_memory_domain, 2);
XEN_ABI_OFFSET(struct xen_memory_domain, domid, 0);

struct xen_machphys_mfn_list {
    uint32_t max_extents;
    uint32_t _pad0;
    xen_guest_handle_t extent_start;
    uint32_t nr_extents;             /* OUT */
    uint32_t _pad1;
};
XEN_ABI_SIZE(struct xen_machphys_mfn_list, 24);
XEN_ABI_OFFSET(struct xen_machphys_mfn_list, max_extents, 0);
MICA_ABI_OFFSET(struct xen_machphys_mfn_list, _pad0, 4);
XEN_ABI_OFFSET(struct xen_machphys_mfn_list, extent_start, 8);
XEN_ABI_OFFSET(struct xen_machphys_mfn_list, nr_extents, 16);
MICA_ABI_OFFSET(struct xen_machphys_mfn_list, _pad1, 20);

/* Where the read-only machine-to-phys table is mapped for the guest. */
struct xen_machphys_mapping {
    xen_ulong_t v_start;
    xen_ulong_t v_end;
    xen_ulong_t max_mfn;
};
XEN_ABI_SIZE(struct xen_machphys_mapping, 24);
XEN_ABI_OFFSET(struct xen_machphys_mapping, v_start, 0);
XEN_ABI_OFFSET(struct xen_machphys_mapping, v_end, 8);
XEN_ABI_OFFSET(struct xen_machphys_mapping, max_mfn, 16);

#define XENMAPSPACE_shared_info    0
#define XENMAPSPACE_grant_table    1
#define XENMAPSPACE_gmfn           2
#define XENMAPSPACE_gmfn_range     3
#define XENMAPSPACE_gmfn_foreign   4
#define XENMAPSPACE_dev_mmio       5
#define XENMAPIDX_grant_table_status 0x80000000U

/* Translated guests only; PV guests are refused. */
struct xen_add_to_physmap {
    domid_t  domid;
    uint16_t size;                   /* gmfn_range: number of pages */
    uint32_t space;                  /* XENMAPSPACE_* */
    xen_ulong_t idx;
    xen_pfn_t gpfn;
};
XEN_ABI_SIZE(struct xen_add_to_physmap, 24);
XEN_ABI_OFFSET(struct xen_add_to_physmap, domid, 0);
XEN_ABI_OFFSET(struct xen_add_to_physmap, size, 2);
XEN_ABI_OFFSET(struct xen_add_to_physmap, space, 4);
XEN_ABI_OFFSET(struct xen_add_to_physmap, idx, 8);
XEN_ABI_OFFSET(struct xen_add_to_physmap, gpfn, 16);

struct xen_add_to_physmap_batch {
    domid_t  domid;
    uint16_t space;
    uint16_t size;
    union {
        domid_t  foreign_domid;
        uint16_t res0;
    } u;
    xen_guest_handle_t idxs;
    xen_guest_handle_t gpfns;
    xen_guest_handle_t errs;
};
XEN_ABI_SIZE(struct xen_add_to_physmap_batch, 32);
XEN_ABI_OFFSET(struct xen_add_to_physmap_batch, domid, 0);
XEN_ABI_OFFSET(struct xen_add_to_physmap_batch, space, 2);
XEN_ABI_OFFSET(struct xen_add_to_physmap_batch, size, 4);
XEN_ABI_OFFSET(struct xen_add_to_physmap_batch, u, 6);
XEN_ABI_OFFSET(struct xen_add_to_physmap_batch, u.foreign_domid, 6);
XEN_ABI_OFFSET(struct xen_add_to_physmap_batch, idxs, 8);
XEN_ABI_OFFSET(struct xen_add_to_physmap_batch, gpfns, 16);
XEN_ABI_OFFSET(struct xen_add_to_physmap_batch, errs, 24);

struct xen_remove_from_physmap {
    domid_t domid;
    uint16_t _pad[3];
    xen_pfn_t gpfn;
};
XEN_ABI_SIZE(struct xen_remove_from_physmap, 16);
XEN_ABI_OFFSET(struct xen_remove_from_physmap, domid, 0);
MICA_ABI_OFFSET(struct xen_remove_from_physmap, _pad, 2);
XEN_ABI_OFFSET(struct xen_remove_from_physmap, gpfn, 8);

/* XENMEM_memory_map / machine_memory_map: IN capacity, OUT count of
 * struct e820entry records written at `buffer`. */
struct xen_memory_map {
    uint32_t nr_entries;
    uint32_t _pad;
    xen_guest_handle_t buffer;
};
XEN_ABI_SIZE(struct xen_memory_map, 16);
XEN_ABI_OFFSET(struct xen_memory_map, nr_entries, 0);
MICA_ABI_OFFSET(struct xen_memory_map, _pad, 4);
XEN_ABI_OFFSET(struct xen_memory_map, buffer, 8);

struct xen_foreign_memory_map {
    domid_t domid;
    uint16_t _pad[3];
    struct xen_memory_map map;
};
XEN_ABI_SIZE(struct xen_foreign_memory_map, 24);
XEN_ABI_OFFSET(struct xen_foreign_memory_map, domid, 0);
MICA_ABI_OFFSET(struct xen_foreign_memory_map, _pad, 2);
XEN_ABI_OFFSET(struct xen_foreign_memory_map, map, 8);

struct xen_pod_target {
    uint64_t target_pages;
    uint64_t tot_pages;
    uint64_t pod_cache_pages;
    uint64_t pod_entries;
    domid_t  domid;
    uint16_t _pad[3];
};
XEN_ABI_SIZE(struct xen_pod_target, 40);
XEN_ABI_OFFSET(struct xen_pod_target, target_pages, 0);
XEN_ABI_OFFSET(struct xen_pod_target, tot_pages, 8);
XEN_ABI_OFFSET(struct xen_pod_target, pod_cache_pages, 16);
XEN_ABI_OFFSET(struct xen_pod_target, pod_entries, 24);
XEN_ABI_OFFSET(struct xen_pod_target, domid, 32);
MICA_ABI_OFFSET(struct xen_pod_target, _pad, 34);

/* One BIOS-style memory map record, 20 bytes, no padding.  Not part of
 * Xen's headers (the format is the PC firmware's); Mica-only. */
#define E820_RAM        1
#define E820_RESERVED   2
#define E820_ACPI       3
#define E820_NVS        4
#define E820_UNUSABLE   5

struct e820entry {
    uint64_t addr;
    uint64_t size;
    uint32_t type;                   /* E820_* */
} __attribute__((packed));
MICA_ABI_SIZE(struct e820entry, 20);
MICA_ABI_OFFSET(struct e820entry, addr, 0);
MICA_ABI_OFFSET(struct e820entry, size, 8);
MICA_ABI_OFFSET(struct e820entry, type, 16);

#endif /* MICA_PUBLIC_MEMORY_H */
