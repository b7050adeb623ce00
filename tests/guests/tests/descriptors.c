/*
 * update_descriptor (10) and set_gdt (2): descriptors are checked (DPL
 * raised to 3, system descriptors other than call gates refused),
 * addresses must be aligned and in the caller's own ordinary or GDT
 * pages; a GDT frame must not be mapped writable; a loaded GDT works for
 * segment loads, and its not-present entries raise #NP.
 */
#include "guest.h"

static uint64_t gdt[512] __attribute__((aligned(4096), section(".bss.page_aligned")));

#define DATA_DPL3   0x00cff3000000ffffUL
#define DATA_DPL0   0x00cf93000000ffffUL
#define INT_GATE    0x00008e0000100000UL   /* 64-bit interrupt gate, P=1 */
#define TSS_DESC    0x0000890000000067UL
#define NOT_PRESENT 0x00cf73000000ffffUL   /* data, DPL 3, P=0 */

static long upd(uint64_t ma, uint64_t d) { return HYPERVISOR_update_descriptor(ma, d); }

enum result test_main(void)
{
    REQUIRE_EQ(traps_install(), 0);
    uint64_t mfn = va_to_mfn(gdt), ma = mfn << 12;

    /* Ordinary writable page of ours. */
    CHECK_EQ(upd(ma + 2 * 8, DATA_DPL3), 0);
    CHECK_EQ(gdt[2], DATA_DPL3);
    CHECK_EQ(upd(ma + 4 * 8, DATA_DPL0), 0);
    CHECK_EQ(gdt[4], DATA_DPL3);                 /* DPL raised to 3 */
    CHECK_EQ(upd(ma + 3 * 8, NOT_PRESENT), 0);
    CHECK_EQ(gdt[3], NOT_PRESENT);               /* not present: stored as is */

    /* Refused descriptors and addresses; nothing written. */
    CHECK_EQ(upd(ma + 5 * 8, INT_GATE), -XEN_EINVAL);
    CHECK_EQ(upd(ma + 5 * 8, TSS_DESC), -XEN_EINVAL);
    CHECK_EQ(gdt[5], 0);
    CHECK_EQ(upd(ma + 5 * 8 + 4, DATA_DPL3), -XEN_EINVAL);
    CHECK_EQ(upd(ma + 5 * 8 + 1, DATA_DPL3), -XEN_EINVAL);
    CHECK_EQ(upd(0xfffffffUL << 12, DATA_DPL3), -XEN_EINVAL);       /* not our frame */
    CHECK_EQ(upd(~0UL & ~7UL, DATA_DPL3), -XEN_EINVAL);
    CHECK_EQ(upd(va_to_mfn((void *)start_info->pt_base) << 12, DATA_DPL3), -XEN_EINVAL);
    CHECK_EQ(gdt[5], 0);

    /* set_gdt refusals. */
    uint64_t frames[16] = { mfn };
    CHECK_EQ(HYPERVISOR_set_gdt(frames, 7169), -XEN_EINVAL);
    CHECK_EQ(HYPERVISOR_set_gdt(frames, ~0UL), -XEN_EINVAL);
    CHECK_EQ(HYPERVISOR_set_gdt((void *)0x1000, 512), -XEN_EFAULT);
    CHECK_EQ(HYPERVISOR_set_gdt(frames, 512), -XEN_EINVAL);     /* still mapped writable */
    frames[0] = 0xfffffff;
    CHECK_EQ(HYPERVISOR_set_gdt(frames, 512), -XEN_EINVAL);     /* not ours */
    frames[0] = mfn;

    /* Map it read-only; then it can become the GDT. */
    CHECK_EQ(HYPERVISOR_update_va_mapping((uint64_t)gdt, ma | PTE_P | PTE_A, UVMF_INVLPG), 0);
    CHECK_EQ(HYPERVISOR_set_gdt(frames, 512), 0);
    /* ...and while it is one, it cannot be mapped writable again. */
    CHECK(HYPERVISOR_update_va_mapping((uint64_t)gdt, ma | PTE_P | PTE_RW | PTE_A | PTE_D,
                                       UVMF_INVLPG) < 0, "GDT page mapped writable");

    uint16_t sel;
    CHECK_EQ(TRAP_PROBE("mov $0x13, %%eax; 9990: mov %%eax, %%es"), -1);
    __asm__ volatile("mov %%es, %0" : "=r"(sel));
    CHECK_EQ(sel, 0x13);
    CHECK_EQ(TRAP_PROBE("mov $0x23, %%eax; 9990: mov %%eax, %%es"), -1);  /* the DPL 0 one, now 3 */
    /* Entry 3 is not present: #NP with the selector as error code. */
    CHECK_EQ(TRAP_PROBE("mov $0x1b, %%eax; 9990: mov %%eax, %%es"), 11);
    CHECK_EQ(last_trap.error_code & ~3UL, 0x18);
    /* Beyond the limit (entry 600 of a 512-entry GDT): #GP. */
    CHECK_EQ(TRAP_PROBE("mov $0x12c3, %%eax; 9990: mov %%eax, %%es"), 13);

    /* Updates to a live GDT page go through the same checks. */
    CHECK_EQ(upd(ma + 6 * 8, DATA_DPL3), 0);
    CHECK_EQ(gdt[6], DATA_DPL3);
    CHECK_EQ(upd(ma + 7 * 8, INT_GATE), -XEN_EINVAL);
    CHECK_EQ(TRAP_PROBE("mov $0x33, %%eax; 9990: mov %%eax, %%es"), -1);

    /* Flat selectors keep working whatever the guest's GDT holds. */
    CHECK_EQ(TRAP_PROBE("mov $0xe02b, %%eax; 9990: mov %%eax, %%es"), -1);
    __asm__ volatile("mov %0, %%es" :: "r"(0));
    return RESULT_SUCCESS;
}
