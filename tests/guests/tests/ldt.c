/*
 * MMUEXT_SET_LDT with a real LDT: a data segment in our LDT, loaded with
 * a TI selector and used; the LDT page cannot be mapped writable while
 * it backs the loaded LDT, even after our own mapping of it is gone.  SET_LDT itself checks only the
 * address and count (Xen maps LDT pages when first touched): misaligned,
 * too many entries and non-canonical or hypervisor addresses are
 * -EINVAL; an LDT page mapped writable elsewhere, holding a bad
 * descriptor, or absent is the guest's #PF at its LDT address when a
 * selector is used, and one past the canonical boundary a #GP with the
 * selector.
 */
#include "mmu_common.h"

#define DATA_DESC 0x00cff2000000ffffUL      /* flat 4 GiB RW data, DPL 3 */
#define TSS_DESC  0x0000890000000067UL      /* a system descriptor no guest may have */
#define SEL1      0xfUL                     /* LDT index 1, RPL 3 */

static long set_ldt(uint64_t va, unsigned ents)
{
    struct mmuext_op op = { .cmd = MMUEXT_SET_LDT, .arg1.linear_addr = va, .arg2.nr_ents = ents };
    return HYPERVISOR_mmuext_op(&op, 1, NULL, DOMID_SELF);
}

uint64_t probe_sel;

static int load_es(uint64_t sel)
{
    probe_sel = sel;
    return TRAP_PROBE("movq probe_sel(%%rip), %%rax; 9990: mov %%eax, %%es");
}

static uint16_t read_es(void)
{
    uint16_t s;
    __asm__ volatile("mov %%es, %0" : "=r"(s));
    return s;
}

static void clear_es(void)
{
    __asm__ volatile("mov %0, %%es" :: "r"(0));
}

enum result test_main(void)
{
    uint32_t limit = 0;
    uint8_t zf = 0;

    REQUIRE_EQ(traps_install(), 0);
    REQUIRE(map_shared_info() != NULL, "shared_info");     /* for the #PF address */

    /* A real LDT: one data segment at index 1, index 2 not present. */
    memset(pool_page(0), 0, 4096);
    pool_page(0)[1] = DATA_DESC;
    pool_page(0)[2] = DATA_DESC & ~(1UL << 47);
    REQUIRE_EQ(pool_ro(0), 0);
    CHECK_EQ(set_ldt((uint64_t)pool[0], 3), 0);
    CHECK_EQ(load_es(SEL1), -1);
    CHECK_EQ(read_es(), SEL1);
    __asm__ volatile("lsl %2, %0; setz %1" : "=r"(limit), "=q"(zf) : "r"((uint32_t)SEL1));
    CHECK_EQ(zf, 1);
    CHECK_EQ(limit, 0xffffffffu);
    clear_es();
    CHECK_EQ(pool_page(0)[1] & ~(1UL << 40), DATA_DESC);    /* the CPU may set A */
    CHECK_EQ(load_es(0x17), 11);                    /* not present */
    CHECK_EQ(last_trap.error_code, 0x14);
    CHECK_EQ(load_es(0x1f), 13);                    /* past the limit */
    CHECK_EQ(last_trap.error_code, 0x1c);
    clear_es();

    /* In use as an LDT: no writable mapping, no plain write. */
    CHECK(pool_rw(0) < 0, "writable mapping of a live LDT page");
    CHECK(mmu1(pool_entry_ma(0, 3), 0) < 0, "mmu_update write to a live LDT page");
    /* Its read-only mapping gone, the LDT still holds it (Xen 4.17 too). */
    CHECK_EQ(map_mfn(pool[0], 0, 0), 0);
    CHECK_EQ(map_mfn(pool[0], pool_mfn(0), PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D), -XEN_EBUSY);
    CHECK_EQ(load_es(SEL1), -1);
    clear_es();
    CHECK_EQ(pool_ro(0), 0);

    /* SET_LDT's own checks. */
    CHECK_EQ(set_ldt((uint64_t)pool[0] + 8, 3), -XEN_EINVAL);
    CHECK_EQ(set_ldt((uint64_t)pool[0], 8193), -XEN_EINVAL);
    CHECK_EQ(set_ldt(0x0000800000000000UL, 1), -XEN_EINVAL);
    CHECK_EQ(set_ldt(0xffff800000000000UL, 1), -XEN_EINVAL);
    CHECK_EQ(set_ldt(0xffff87fffffff000UL, 1), -XEN_EINVAL);
    CHECK_EQ(set_ldt(0x1234, 0), 0);                /* no LDT: the address is ignored */
    CHECK_EQ(load_es(SEL1), 13);
    CHECK_EQ(last_trap.error_code, 0xc);
    CHECK_EQ(set_ldt((uint64_t)pool[0], 8192), 0);
    CHECK_EQ(load_es(SEL1), -1);
    clear_es();

    /* An LDT page mapped writable elsewhere: accepted, refused on use. */
    memset(pool_page(1), 0, 4096);
    pool_page(1)[1] = DATA_DESC;
    CHECK_EQ(set_ldt((uint64_t)pool[1], 2), 0);
    CHECK_EQ(load_es(SEL1), 14);
    CHECK_EQ(last_trap.cr2, (uint64_t)pool[1] + 8);
    clear_es();

    /* A bad descriptor in the LDT page: the same. */
    memset(pool_page(2), 0, 4096);
    pool_page(2)[1] = DATA_DESC;
    pool_page(2)[5] = TSS_DESC;
    REQUIRE_EQ(pool_ro(2), 0);
    CHECK_EQ(set_ldt((uint64_t)pool[2], 2), 0);
    CHECK_EQ(load_es(SEL1), 14);
    CHECK_EQ(last_trap.cr2, (uint64_t)pool[2] + 8);
    clear_es();
    CHECK_EQ(pool_rw(2), 0);                        /* it never became an LDT page */

    /* Unmapped, and running past the canonical boundary. */
    CHECK_EQ(set_ldt(0x00007ffffffff000UL, 1024), 0);
    CHECK_EQ(load_es(SEL1), 14);
    CHECK_EQ(last_trap.cr2, 0x00007ffffffff008UL);
    CHECK_EQ(load_es(0x1007), 13);
    CHECK_EQ(last_trap.error_code, 0x1004);
    clear_es();

    /* Back to no LDT. */
    CHECK_EQ(set_ldt(0, 0), 0);
    CHECK_EQ(load_es(SEL1), 13);
    CHECK_EQ(pool_rw(0), 0);
    return RESULT_SUCCESS;
}
