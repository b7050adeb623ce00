/*
 * memory_op (12): what dom0 may learn about memory (reservation sizes,
 * the M2P's place and frames, the host memory map), growing its
 * reservation, the guest memory map a toolstack sets (set_memory_map,
 * memory_map; here dom0's own, DOMID_SELF), and refusals (bad pointers,
 * unknown sub-ops, PV-only rules).
 */
#include "guest.h"
#include <public/memory.h>

enum result test_main(void)
{
    struct xen_memory_domain self = { .domid = DOMID_SELF };
    struct xen_machphys_mapping mm;
    static struct e820entry map[64];
    struct xen_memory_map mmap = { .nr_entries = 64, .buffer = (uint64_t)map };
    static uint64_t chunks[8];
    struct xen_machphys_mfn_list ml = { .max_extents = 8, .extent_start = (uint64_t)chunks };
    long cur, max, top;

    REQUIRE_EQ(traps_install(), 0);

    cur = HYPERVISOR_memory_op(XENMEM_current_reservation, &self);
    CHECK_EQ(cur, (long)start_info->nr_pages);
    max = HYPERVISOR_memory_op(XENMEM_maximum_reservation, &self);
    CHECK(max >= cur, "maximum reservation %ld below current %ld", max, cur);
    long maxgpfn = HYPERVISOR_memory_op(XENMEM_maximum_gpfn, &self);
    /* PV: whatever the guest put in shared_info->arch.max_pfn, minus one; 0 here. */
    CHECK_EQ(maxgpfn, 0);
    /* No memory sharing (Debian's Xen is built without it): both counts 0,
       not an error, as `xl info` expects. */
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_get_sharing_freed_pages, NULL), 0);
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_get_sharing_shared_pages, NULL), 0);
    top = HYPERVISOR_memory_op(XENMEM_maximum_ram_page, NULL);
    CHECK(top > (long)(start_info->shared_info >> 12), "maximum_ram_page %#lx below shared_info's frame", top);

    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_machphys_mapping, &mm), 0);
    CHECK_EQ(mm.v_start, MACH2PHYS_VIRT_START);
    CHECK(mm.v_end > mm.v_start && mm.v_end <= MACH2PHYS_VIRT_END, "machphys v_end %#lx", mm.v_end);
    CHECK(mm.max_mfn > 0, "max_mfn 0");

    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_machphys_mfn_list, &ml), 0);
    CHECK(ml.nr_extents >= 1 && ml.nr_extents <= 8, "%u M2P chunks", ml.nr_extents);
    CHECK(chunks[0] != 0, "first M2P chunk at mfn 0");

    /* The host map (dom0 only): some RAM above 1 MiB. */
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_machine_memory_map, &mmap), 0);
    bool ram = false;
    for (unsigned i = 0; i < mmap.nr_entries; i++)
        if (map[i].type == E820_RAM && map[i].addr + map[i].size > 0x100000)
            ram = true;
    CHECK(mmap.nr_entries > 0 && ram, "machine memory map has %u entries, RAM above 1 MiB: %d",
          mmap.nr_entries, ram);

    /*
     * The guest memory map (libxl's xc_domain_set_memmap_limit): none yet
     * (-ENOSYS, the guest then assumes nr_pages of RAM); set, read back
     * whole and cut to the reader's capacity; refused whole (too many
     * entries, unreadable entries: the old map stays); cleared by an empty one.
     */
    static struct e820entry gmap[4], got[4];
    struct xen_memory_map gm = { .nr_entries = 4, .buffer = (uint64_t)got };
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_memory_map, &gm), -XEN_ENOSYS);
    gmap[0] = (struct e820entry){ .addr = 0, .size = 0xa0000, .type = E820_RAM };
    gmap[1] = (struct e820entry){ .addr = 0x100000, .size = 0x7f00000, .type = E820_RAM };
    gmap[2] = (struct e820entry){ .addr = 0xfee00000, .size = 0x1000, .type = 2 };
    struct xen_foreign_memory_map fm = {
        .domid = DOMID_SELF, .map = { .nr_entries = 3, .buffer = (uint64_t)gmap },
    };
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_set_memory_map, &fm), 0);
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_memory_map, &gm), 0);
    CHECK_EQ(gm.nr_entries, 3);
    CHECK(memcmp(got, gmap, 3 * sizeof(got[0])) == 0, "memory_map gave back other entries");
    memset(got, 0x5a, sizeof(got));
    gm.nr_entries = 1;
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_memory_map, &gm), 0);
    CHECK_EQ(gm.nr_entries, 1);
    CHECK(memcmp(got, gmap, sizeof(got[0])) == 0 && got[1].type == 0x5a5a5a5a,
          "memory_map with room for 1 entry: entry 0 type %u, entry 1 type %#x",
          got[0].type, got[1].type);
    fm.map.nr_entries = 1025;       /* Xen's E820MAX is 1024 */
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_set_memory_map, &fm), -XEN_EINVAL);
    fm.map.nr_entries = 2;
    fm.map.buffer = 0x1000;
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_set_memory_map, &fm), -XEN_EFAULT);
    fm.domid = 0x7000;
    fm.map.buffer = (uint64_t)gmap;
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_set_memory_map, &fm), -XEN_ESRCH);
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_set_memory_map, (void *)0x1000), -XEN_EFAULT);
    gm.nr_entries = 4;
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_memory_map, &gm), 0);
    CHECK_EQ(gm.nr_entries, 3);      /* the refused calls changed nothing */
    gm.buffer = 0x1000;
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_memory_map, &gm), -XEN_EFAULT);
    gm.buffer = (uint64_t)got;
    fm.domid = DOMID_SELF;
    fm.map.nr_entries = 0;
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_set_memory_map, &fm), 0);
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_memory_map, &gm), -XEN_ENOSYS);

    /* Hostile: bad pointers, unknown domains, unknown sub-ops, HVM-only ops. */
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_current_reservation, (void *)0x1000), -XEN_EFAULT);
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_machphys_mapping, (void *)0x1000), -XEN_EFAULT);
    struct xen_memory_domain nobody = { .domid = 0x7000 };
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_current_reservation, &nobody), -XEN_ESRCH);
    CHECK_EQ(HYPERVISOR_memory_op(63, NULL), -XEN_ENOSYS);
    struct xen_memory_map bad = { .nr_entries = 64, .buffer = 0x1000 };
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_machine_memory_map, &bad), -XEN_EFAULT);
    static struct xen_add_to_physmap atp;
    atp.domid = DOMID_SELF;
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_add_to_physmap, &atp), -XEN_EACCES);
    return RESULT_SUCCESS;
}
