/*
 * set_trap_table (0): partial updates, clearing, software INT n delivery
 * by DPL, and hostile tables (non-canonical handlers, bad pointers).
 */
#include "guest.h"

extern char trap_entry_6[], trap_entry_0x80[];

static bool ud_hook(struct regs *r)
{
    /* Marks that the replacement #UD handler ran, then skips the ud2. */
    r->rip += 2;
    r->rbx = 0x0dd;
    return true;
}

enum result test_main(void)
{
    struct trap_info t[4];
    int v;

    REQUIRE_EQ(traps_install(), 0);

    /*
     * Add INT 0x80 without touching the rest.  (Software INT n with other
     * vectors is not tested: under QEMU TCG the #GP error code of a
     * DPL-refused INT n is vector * 16 + 2 instead of vector * 8 + 2, and a
     * hypervisor that decodes it, as Xen does, then looks up the wrong
     * entry; only INT 0x80's direct path is independent of that.)
     */
    memset(t, 0, sizeof(t));
    t[0] = (struct trap_info){ .vector = 0x80, .flags = 3, .cs = FLAT_KERNEL_CS,
                               .address = (uint64_t)trap_entry_0x80 };
    CHECK_EQ(HYPERVISOR_set_trap_table(t), 0);

    v = TRAP_PROBE("9990: int $0x80");
    CHECK_EQ(v, 0x80);
    CHECK_EQ(last_trap.rip, trap_probe_insn + 2);
    CHECK_EQ(last_trap.cs & 0xffff, FLAT_KERNEL_CS & ~3);
    /* The other vectors are still there. */
    CHECK_EQ(TRAP_PROBE("9990: ud2"), 6);
    CHECK_EQ(TRAP_PROBE("9990: int3"), 3);

    /* Hostile tables: each refused, leaving the old handlers in place. */
    t[0] = (struct trap_info){ .vector = 6, .cs = FLAT_KERNEL_CS,
                               .address = 0x0000800000000000UL };
    t[1].address = 0;
    CHECK_EQ(HYPERVISOR_set_trap_table(t), -XEN_EINVAL);
    t[0].address = 0xffff7fffffffffffUL;
    CHECK_EQ(HYPERVISOR_set_trap_table(t), -XEN_EINVAL);
    CHECK_EQ(HYPERVISOR_set_trap_table((void *)0x1000), -XEN_EFAULT);
    CHECK_EQ(HYPERVISOR_set_trap_table((void *)(HYPERVISOR_VIRT_START + 0x30000000000UL)),
             -XEN_EFAULT);
    CHECK_EQ(HYPERVISOR_set_trap_table((void *)(bootstrap_end() - 8)), -XEN_EFAULT);
    CHECK_EQ(TRAP_PROBE("9990: ud2"), 6);

    /* A hook on the same stub proves a changed entry takes effect. */
    trap_hooks[6] = ud_hook;
    uint64_t rbx;
    __asm__ volatile("xor %%ebx, %%ebx; ud2" : "=b"(rbx) :: "memory");
    CHECK_EQ(rbx, 0x0dd);
    trap_hooks[6] = NULL;

    /* RPL 0 in the handler's CS is fixed up to 3, not refused. */
    t[0] = (struct trap_info){ .vector = 6, .cs = FLAT_KERNEL_CS & ~3,
                               .address = (uint64_t)trap_entry_6 };
    CHECK_EQ(HYPERVISOR_set_trap_table(t), 0);
    CHECK_EQ(TRAP_PROBE("9990: ud2"), 6);

    /* A NULL table clears every entry; re-install to be sure all is well. */
    CHECK_EQ(HYPERVISOR_set_trap_table(NULL), 0);
    CHECK_EQ(traps_install(), 0);
    CHECK_EQ(TRAP_PROBE("9990: int3"), 3);
    return RESULT_SUCCESS;
}
