/*
 * MOV to and from the debug registers in the guest kernel: emulated with
 * set_debugreg's checks and get_debugreg's values (Linux's native debug
 * register accessors use them).  A breakpoint set by MOV fires; DR4/DR5
 * read as DR6/DR7 (no CR4.DE); a hypervisor address in DR0, DR7 with
 * general detect or an I/O breakpoint are #GP(0) and leave the register
 * as it was, and so are upper halves of DR6/DR7 (set_debugreg: -EINVAL);
 * DR8 is #UD (get/set_debugreg: -ENODEV).
 */
#include "guest.h"

#define HV_ADDR   0xffff830000000000UL
#define DR7_L0_W4 0x000d0001UL      /* L0, write, 4 bytes */
#define DR7_GD    (1UL << 13)
#define DR7_IO    0x00020001UL      /* L0, RW0 = 2: I/O */

static volatile uint32_t watched __attribute__((aligned(8)));
static volatile unsigned db_count;
static uint64_t val;

static bool db_hook(struct regs *r)
{
    (void)r;
    db_count++;
    return true;
}

#define MOV_TO(dr)   TRAP_PROBE("movq val(%%rip), %%rax; 9990: mov %%rax, %%" dr)
#define MOV_FROM(dr) TRAP_PROBE("9990: mov %%" dr ", %%rax; movq %%rax, val(%%rip)")

enum result test_main(void)
{
    REQUIRE_EQ(traps_install(), 0);
    trap_hooks[1] = db_hook;

    val = (uint64_t)&watched;
    CHECK_EQ(MOV_TO("db0"), -1);
    CHECK_EQ(HYPERVISOR_get_debugreg(0), (long)&watched);
    val = 0;
    CHECK_EQ(MOV_FROM("db0"), -1);
    CHECK_EQ(val, (uint64_t)&watched);

    val = DR7_L0_W4;
    CHECK_EQ(MOV_TO("db7"), -1);
    val = 0;
    CHECK_EQ(MOV_FROM("db7"), -1);
    CHECK_EQ(val & 0xffff00ffUL, DR7_L0_W4);
    CHECK_EQ(HYPERVISOR_get_debugreg(7) & 0xffff00ffUL, DR7_L0_W4);
    val = 0;
    CHECK_EQ(MOV_FROM("db5"), -1);                  /* DR7's alias */
    CHECK_EQ(val & 0xffff00ffUL, DR7_L0_W4);

    db_count = 0;
    watched = 1;
    CHECK_EQ(db_count, 1);
    val = 0;
    CHECK_EQ(MOV_FROM("db6"), -1);
    CHECK_EQ(val & 1, 1);                           /* B0 */
    CHECK_EQ(HYPERVISOR_get_debugreg(6) & 1, 1);
    val = 0;
    CHECK_EQ(MOV_FROM("db4"), -1);                  /* DR6's alias */
    CHECK_EQ(val & 1, 1);
    val = 0xffff0ff0UL;
    CHECK_EQ(MOV_TO("db6"), -1);
    CHECK_EQ(HYPERVISOR_get_debugreg(6) & 0xf, 0);

    /* Refused values: #GP(0), the register unchanged. */
    val = HV_ADDR;
    CHECK_EQ(MOV_TO("db1"), 13);
    CHECK_EQ(last_trap.error_code, 0);
    CHECK_EQ(HYPERVISOR_get_debugreg(1), 0);
    val = DR7_L0_W4 | DR7_GD;
    CHECK_EQ(MOV_TO("db7"), 13);
    val = DR7_IO;
    CHECK_EQ(MOV_TO("db7"), 13);
    CHECK_EQ(HYPERVISOR_get_debugreg(7) & 0xffff00ffUL, DR7_L0_W4);
    /* The hypercalls agree: upper halves of DR6/DR7 refused, DR4/5 aliases, DR8 unknown. */
    CHECK_EQ(HYPERVISOR_set_debugreg(7, DR7_L0_W4 | (1UL << 32)), -XEN_EINVAL);
    CHECK_EQ(HYPERVISOR_set_debugreg(6, 1UL << 32), -XEN_EINVAL);
    CHECK_EQ(HYPERVISOR_get_debugreg(4), HYPERVISOR_get_debugreg(6));
    CHECK_EQ(HYPERVISOR_get_debugreg(5), HYPERVISOR_get_debugreg(7));
    CHECK_EQ(HYPERVISOR_get_debugreg(8), -XEN_ENODEV);
    CHECK_EQ(HYPERVISOR_set_debugreg(8, 0), -XEN_ENODEV);
    val = DR7_L0_W4 | (1UL << 32);
    CHECK_EQ(MOV_TO("db7"), 13);
    CHECK_EQ(HYPERVISOR_get_debugreg(7) & 0xffff00ffUL, DR7_L0_W4);
    /* DR8 does not exist. */
    CHECK_EQ(TRAP_PROBE("9990: .byte 0x44, 0x0f, 0x21, 0xc0"), 6);   /* mov %dr8, %rax */

    val = 0;
    CHECK_EQ(MOV_TO("db7"), -1);
    db_count = 0;
    watched = 2;
    CHECK_EQ(db_count, 0);
    return check_failures ? RESULT_FAILURE : RESULT_SUCCESS;
}
