/*
 * Writable page tables: a guest kernel's plain store to one of its L1
 * tables (mapped read-only) is emulated and validated by the hypervisor;
 * an entry validation refuses, and any store to an L4, still fault.
 * (Xen 4.17 does this whether or not VMASST_TYPE_writable_pagetables is
 * enabled; stock Linux relies on it.)
 */
#include "guest.h"

static char scratch[4096] __attribute__((aligned(4096), section(".bss.page_aligned")));
uint64_t *wpt_slot;
uint64_t wpt_value;
uint64_t scratch_va;

#define STORE_PTE "movq wpt_slot(%%rip), %%rax; movq wpt_value(%%rip), %%rcx; 9990: movq %%rcx, (%%rax)"

enum result test_main(void)
{
    REQUIRE_EQ(traps_install(), 0);
    scratch[0] = 1;
    scratch_va = (uint64_t)scratch;
    wpt_slot = pte_slot(scratch_va);
    REQUIRE(wpt_slot != NULL, "no L1 entry for the scratch page");
    uint64_t orig = *wpt_slot;
    REQUIRE((orig & (PTE_P | PTE_RW)) == (PTE_P | PTE_RW), "scratch pte %#lx", orig);

    /* The table really is read-only to us... */
    uint64_t pte;
    REQUIRE(lookup_pte((uint64_t)wpt_slot & ~(PAGE_SIZE - 1), &pte), "L1 not mapped");
    CHECK_EQ(pte & PTE_RW, 0);

    /* ...yet a store clearing RW is emulated, and takes effect after a flush. */
    CHECK_EQ(HYPERVISOR_vm_assist(VMASST_CMD_enable, VMASST_TYPE_writable_pagetables), 0);
    wpt_value = orig & ~PTE_RW;
    CHECK_EQ(TRAP_PROBE(STORE_PTE), -1);
    CHECK_EQ(*wpt_slot & PTE_RW, 0);
    CHECK_EQ(*wpt_slot & ~(PTE_A | PTE_D), orig & ~(PTE_RW | PTE_A | PTE_D));
    CHECK_EQ(flush_va(scratch_va), 0);
    CHECK_EQ(TRAP_PROBE("movq scratch_va(%%rip), %%rax; 9990: movb $2, (%%rax)"), 14);
    CHECK_EQ(last_trap.error_code & 3, 3);
    CHECK_EQ(scratch[0], 1);

    /* Storing the writable entry back makes the page writable again. */
    wpt_value = orig;
    CHECK_EQ(TRAP_PROBE(STORE_PTE), -1);
    CHECK_EQ(flush_va(scratch_va), 0);
    CHECK_EQ(TRAP_PROBE("movq scratch_va(%%rip), %%rax; 9990: movb $2, (%%rax)"), -1);
    CHECK_EQ(scratch[0], 2);

    /* Entries validation refuses: a frame we do not own, a reserved bit
     * (PSE in an L1 is PAT, allowed only with I/O rights; use bit 51). */
    wpt_value = (0xfffffffUL << 12) | PTE_P | PTE_RW | PTE_A | PTE_D;
    CHECK_EQ(TRAP_PROBE(STORE_PTE), 14);
    wpt_value = orig | (1UL << 51);
    CHECK_EQ(TRAP_PROBE(STORE_PTE), 14);
    /* Writable mapping of one of our own page tables. */
    wpt_value = (va_to_mfn((void *)start_info->pt_base) << 12) | PTE_P | PTE_RW | PTE_A | PTE_D;
    CHECK_EQ(TRAP_PROBE(STORE_PTE), 14);
    CHECK_EQ(*wpt_slot, orig | (*wpt_slot & (PTE_A | PTE_D)));

    /* Stores to the L4 are never emulated. */
    wpt_slot = (uint64_t *)start_info->pt_base + 300;
    wpt_value = 0;
    CHECK_EQ(TRAP_PROBE(STORE_PTE), 14);
    return RESULT_SUCCESS;
}
