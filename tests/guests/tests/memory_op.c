/*
 * memory_op (12): what dom0 may learn about memory (reservation sizes,
 * the M2P's place and frames, the host memory map), growing its
 * reservation, and refusals (bad pointers, unknown sub-ops, PV-only rules).
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
