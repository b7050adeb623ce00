/*
 * Exceptions bounced to the handlers registered with set_trap_table:
 * #DE, #BP, #UD, #GP and #PF, with the frame the ABI describes (RIP, CS
 * with RPL cleared for kernel mode, saved upcall mask, RFLAGS.IF mirroring
 * it, interrupted RSP) and CR2 in vcpu_info.arch.cr2.
 */
#include "guest.h"

#define KERNEL_CS_RPL0 (FLAT_KERNEL_CS & ~3)

static void check_frame(const char *what, int vec, int want_vec, uint64_t want_rip)
{
    if (vec != want_vec) {
        check_failed(__FILE__, __LINE__, "%s: vector %d, expected %d", what, vec, want_vec);
        return;
    }
    if (last_trap.rip != want_rip)
        check_failed(__FILE__, __LINE__, "%s: rip %#lx, expected %#lx", what, last_trap.rip, want_rip);
    if ((last_trap.cs & 0xffff) != KERNEL_CS_RPL0)
        check_failed(__FILE__, __LINE__, "%s: cs %#lx", what, last_trap.cs);
    /* Events are masked in this test, so the saved mask is 1 and IF is 0. */
    if (((last_trap.cs >> 32) & 0xff) != 1 || (last_trap.rflags & 0x200))
        check_failed(__FILE__, __LINE__, "%s: saved mask %lu, rflags %#lx", what,
                     (last_trap.cs >> 32) & 0xff, last_trap.rflags);
    if (last_trap.rsp != trap_probe_rsp)
        check_failed(__FILE__, __LINE__, "%s: rsp %#lx, expected %#lx", what, last_trap.rsp,
                     trap_probe_rsp);
    if ((last_trap.ss & 0xffff) != FLAT_KERNEL_SS)
        check_failed(__FILE__, __LINE__, "%s: ss %#lx", what, last_trap.ss);
    if (last_trap.count != 1)
        check_failed(__FILE__, __LINE__, "%s: %u exceptions", what, last_trap.count);
}

uint64_t pf_target;

enum result test_main(void)
{
    int v;

    REQUIRE_EQ(traps_install(), 0);
    map_shared_info();

    v = TRAP_PROBE("xor %%edx, %%edx; mov $1, %%eax; xor %%ecx, %%ecx; 9990: divl %%ecx");
    check_frame("#DE", v, 0, trap_probe_insn);

    /* A trap: RIP is past the one-byte int3. */
    v = TRAP_PROBE("9990: int3");
    check_frame("#BP", v, 3, trap_probe_insn + 1);

    v = TRAP_PROBE("9990: ud2");
    check_frame("#UD", v, 6, trap_probe_insn);

    /* Non-canonical address: #GP(0). */
    v = TRAP_PROBE("movabs $0x0000800000000000, %%rax; 9990: movq (%%rax), %%rax");
    check_frame("#GP", v, 13, trap_probe_insn);
    CHECK_EQ(last_trap.error_code, 0);

    /* Read of an unmapped page: not-present, read, supervisor. */
    vcpu0->arch.cr2 = 0;
    v = TRAP_PROBE("mov $0x1008, %%eax; 9990: movq (%%rax), %%rax");
    check_frame("#PF read", v, 14, trap_probe_insn);
    CHECK_EQ(last_trap.error_code, 0);
    CHECK_EQ(last_trap.cr2, 0x1008);

    v = TRAP_PROBE("mov $0x2010, %%eax; 9990: movq %%rax, (%%rax)");
    check_frame("#PF write", v, 14, trap_probe_insn);
    CHECK_EQ(last_trap.error_code, 2);
    CHECK_EQ(last_trap.cr2, 0x2010);

    /* Write to a present read-only page (the bootstrap L4). */
    __asm__ volatile("" ::: "memory");
    pf_target = start_info->pt_base + 8 * 300;
    v = TRAP_PROBE("movq pf_target(%%rip), %%rax; 9990: movq (%%rax), %%rcx; movq %%rcx, (%%rax)");
    /* The read succeeds, the write faults one instruction later. */
    CHECK_EQ(v, 14);
    CHECK_EQ(last_trap.error_code & 7, 3);
    CHECK_EQ(last_trap.cr2, pf_target);

    /* A handler that runs many times keeps working (frames are not leaked). */
    for (int i = 0; i < 1000; i++)
        if (TRAP_PROBE("9990: ud2") != 6) {
            check_failed(__FILE__, __LINE__, "#UD %d not delivered", i);
            break;
        }
    CHECK_EQ(trap_counts[6], 1001);
    return RESULT_SUCCESS;
}
