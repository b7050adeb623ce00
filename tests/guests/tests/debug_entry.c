/*
 * A data breakpoint that fires inside the hypervisor's SYSCALL entry,
 * before it has switched stacks (XSA-260 class).
 *
 * MOV SS holds off debug exceptions until the next instruction has run.
 * If that instruction is SYSCALL, the #DB armed by the MOV SS's memory
 * read is taken on the first instruction of the hypervisor's entry, in
 * ring 0 but still on the guest's RSP.  Without an IST stack for #DB the
 * CPU pushes the exception frame onto the guest's stack and the handler
 * runs there, finding its per-CPU state (which vCPU is running) from a
 * stack the guest owns.  This kernel runs the sequence on a stack block of
 * its own, aligned as the hypervisor's per-CPU stacks are and zero at the
 * top, so a handler that trusts RSP finds no vCPU there.
 *
 * Under QEMU's TCG the hole stays closed from the guest's side: TCG
 * reports the data breakpoint at once (before the SYSCALL), and holds off
 * TF after MOV SS but then steps with the flags SYSCALL masked, so the
 * #DB never reaches the entry; this kernel passed on Mica before its #DB
 * got an IST stack.  The boot test db-foreign (selftest=db-foreign) raises
 * the #DB on a foreign stack from inside Mica instead, and fails without
 * the IST stack.  On hardware this kernel is the XSA-260 reproducer.
 *
 * What must hold: the hypervisor survives, the hypercall made by that
 * SYSCALL completes with its normal result, and the guest's stack below
 * RSP is not written by ring 0.  Xen 4.17 ignores a #DB taken in its own
 * context (it logs "Hit #DB in Xen context"); Mica hands the guest's own
 * breakpoint to the guest once the hypercall is done.  Either is accepted,
 * and a #DB the guest receives must be the one it asked for: DR6.B0, at
 * the instruction after the SYSCALL, on the stack it was running on.
 */
#include "guest.h"

#define DR7_L0          0x1UL
#define DR7_RW0_RW      (3UL << 16)     /* break on data reads or writes */
#define DR7_LEN0_2      (1UL << 18)
#define DR6_B0          0x1UL
#define RFLAGS_TF       0x100UL
#define HV_AREA_START   0xffff800000000000UL    /* reserved for the hypervisor by the ABI */
#define HV_AREA_END     0xffff880000000000UL

#define BLOCK_SIZE      0x10000         /* covers a 32 KiB or 64 KiB per-CPU stack layout */
#define PATTERN         0x5aUL
#define WATCH_BYTES     1024            /* checked below the RSP of the SYSCALL */

static uint8_t stack_block[BLOCK_SIZE] __attribute__((aligned(BLOCK_SIZE)));
static volatile uint16_t ss_sel __attribute__((aligned(8)));
extern char seq_start[], seq_syscall[], seq_end[];

static volatile unsigned db_count, db_stray;
static volatile uint64_t db_rsp_bad;

/* Every #DB the guest gets must be its own: in the sequence, on its stack. */
static bool db_hook(struct regs *r)
{
    db_count++;
    printk("  #DB at %#lx (syscall at %#lx)\n", r->rip, (uint64_t)seq_syscall);
    if (r->rip < (uint64_t)seq_start || r->rip > (uint64_t)seq_end) {
        db_stray++;
        printk("  #DB at %#lx, outside the sequence\n", r->rip);
    }
    r->rflags &= ~RFLAGS_TF;
    return true;
}

/*
 * On the given stack: optionally TF, then MOV SS from the watched word,
 * then xen_version(XENVER_version) by SYSCALL.
 */
static long movss_syscall(uint64_t rsp, uint64_t tf)
{
    long ret;
    uint64_t saved_rsp;

    __asm__ volatile("mov %%rsp, %[saved]\n\t"
                     "mov %[rsp], %%rsp\n\t"
                     "mov %[nr], %%eax\n\t"
                     "xor %%edi, %%edi\n\t"
                     "xor %%esi, %%esi\n\t"
                     "pushfq\n\t"
                     "or %[tf], (%%rsp)\n\t"
                     "seq_start:\n\t"
                     "popfq\n\t"
                     "mov %[sel], %%ss\n"
                     "seq_syscall:\n\t"
                     "syscall\n\t"
                     "nop\n\t"
                     "nop\n"
                     "seq_end:\n\t"
                     "mov %[saved], %%rsp"
                     : "=&a"(ret), [saved] "=&r"(saved_rsp)
                     : [rsp] "r"(rsp), [nr] "i"(__HYPERVISOR_xen_version), [sel] "m"(ss_sel),
                       [tf] "r"(tf)
                     : "rcx", "rdi", "rsi", "r11", "memory", "cc");
    return ret;
}

/* A ring-0 exception frame would hold a return address into the hypervisor. */
static unsigned hypervisor_words_below(uint64_t rsp)
{
    const uint64_t *p = (const uint64_t *)(rsp - WATCH_BYTES);
    unsigned n = 0;

    for (unsigned i = 0; i < WATCH_BYTES / 8; i++)
        if (p[i] >= HV_AREA_START && p[i] < HV_AREA_END) {
            printk("  hypervisor address %#lx at RSP-%lu\n", p[i], (unsigned long)(WATCH_BYTES - 8 * i));
            n++;
        }
    return n;
}

static void scenario(const char *what, uint64_t rsp, uint64_t tf, long expect)
{
    long got;
    uint64_t flags;

    printk("%s, then SYSCALL, on a stack with no per-CPU data\n", what);
    memset((void *)(rsp - WATCH_BYTES), PATTERN, WATCH_BYTES);
    db_count = db_stray = 0;
    got = movss_syscall(rsp, tf);
    __asm__ volatile("pushfq; pop %0" : "=r"(flags));
    printk("  survived: xen_version %#lx, %u #DB delivered to the guest\n", got, db_count);
    CHECK_EQ(got, expect);
    CHECK_EQ(db_stray, 0);
    CHECK_EQ(flags & RFLAGS_TF, 0);
    CHECK_EQ(hypervisor_words_below(rsp), 0);
}

enum result test_main(void)
{
    uint64_t top = (uint64_t)stack_block + BLOCK_SIZE;
    uint64_t rsp = top - BLOCK_SIZE / 2;     /* the top half, where cpu_info would be, stays zero */
    uint16_t ss;
    long expect;

    REQUIRE_EQ(traps_install(), 0);
    trap_hooks[1] = db_hook;
    expect = HYPERVISOR_xen_version(XENVER_version, NULL);
    REQUIRE(expect > 0, "xen_version: %ld", expect);

    __asm__ volatile("mov %%ss, %0" : "=r"(ss));
    ss_sel = ss;

    REQUIRE_EQ(HYPERVISOR_set_debugreg(0, (uint64_t)&ss_sel), 0);
    REQUIRE_EQ(HYPERVISOR_set_debugreg(7, DR7_L0 | DR7_RW0_RW | DR7_LEN0_2), 0);

    /* The breakpoint works at all: a plain read of the word is reported. */
    db_count = 0;
    (void)ss_sel;
    CHECK_EQ(db_count, 1);
    CHECK_EQ(HYPERVISOR_get_debugreg(6) & DR6_B0, DR6_B0);
    REQUIRE_EQ(HYPERVISOR_set_debugreg(6, 0), 0);

    /* The single step of a SYSCALL under MOV SS's shadow is the other way in. */
    scenario("data breakpoint on MOV SS", rsp, 0, expect);
    scenario("TF and data breakpoint on MOV SS", rsp, RFLAGS_TF, expect);
    REQUIRE_EQ(HYPERVISOR_set_debugreg(7, 0), 0);
    scenario("TF and MOV SS", rsp, RFLAGS_TF, expect);
    return check_failures ? RESULT_FAILURE : RESULT_SUCCESS;
}
