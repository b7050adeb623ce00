/*
 * A hypercall made by a SYSCALL in the last two bytes below the
 * canonical boundary (XSA-7 class): its return address, RCX, is
 * 0x0000800000000000, not canonical.  Returning there (SYSRET on Intel
 * would fault in ring 0 with the guest's RSP) must not hurt the
 * hypervisor; the guest gets #GP(0) through its trap table, as from any
 * jump to a non-canonical address, and nothing else happens to it.
 *
 * The page 0x00007ffffffff000 is mapped (tables built from pool pages,
 * hooked into L4 slot 255) with SYSCALL at its last two bytes.
 *
 * The IRET path too: the iret hypercall back to kernel mode with RIP
 * 0x0000800000000000 gets #GP(0) at that RIP on Xen 4.17 (its IRETQ
 * faults and the fault is the guest's); Mica crashed the domain there
 * until 2026-12.
 */
#define MMU_POOL_PAGES 8
#include "mmu_common.h"

#define TOP_PAGE   0x00007ffffffff000UL
#define SYSCALL_VA (TOP_PAGE + 0xffe)
#define NONCANON   0x0000800000000000UL
#define TABLE      (PTE_P | PTE_RW | PTE_US | PTE_A)
#define L3P 0
#define L2P 1
#define L1P 2
#define CODE 3

static volatile uint64_t gp_rip, gp_error, gp_cs;
static volatile unsigned gp_count;

static bool gp_hook(struct regs *r)
{
    gp_count++;
    gp_rip = r->rip;
    gp_error = r->error_code;
    gp_cs = r->cs;
    return false;       /* trap_resume takes us back */
}

static long syscall_at_top(void)
{
    long ret;

    __asm__ volatile("leaq 1f(%%rip), %%r11\n\t"
                     "movq %%r11, trap_resume(%%rip)\n\t"
                     "mov %[nr], %%eax\n\t"
                     "xor %%edi, %%edi\n\t"
                     "xor %%esi, %%esi\n\t"
                     "movabs %[at], %%rcx\n\t"
                     "jmp *%%rcx\n"
                     "1:\n\t"
                     "movq $0, trap_resume(%%rip)"
                     : "=a"(ret)
                     : [nr] "i"(__HYPERVISOR_xen_version), [at] "i"(SYSCALL_VA)
                     : "rcx", "rdx", "rdi", "rsi", "r11", "memory", "cc");
    return ret;
}

/* The iret hypercall back to kernel mode at a non-canonical RIP. */
static void iret_to_noncanon(void)
{
    __asm__ volatile("leaq 1f(%%rip), %%r11\n\t"
                     "movq %%r11, trap_resume(%%rip)\n\t"
                     "movq %%rsp, %%rdx\n\t"
                     "pushq %[ss]\n\t"                /* ss */
                     "pushq %%rdx\n\t"                /* rsp: where we are */
                     "pushq $0x2\n\t"                 /* rflags */
                     "pushq %[cs]\n\t"                /* cs: RPL 0 = kernel mode */
                     "movabs %[at], %%rax\n\t"
                     "pushq %%rax\n\t"                /* rip */
                     "pushq $0\n\t"                   /* flags */
                     "jmp hypercall_page + 23 * 32\n"
                     "1:\n\t"
                     "movq $0, trap_resume(%%rip)"
                     :
                     : [ss] "i"(FLAT_KERNEL_SS), [cs] "i"(FLAT_KERNEL_CS & ~3), [at] "i"(NONCANON)
                     : "rax", "rcx", "rdx", "r11", "memory", "cc");
}

enum result test_main(void)
{
    long expect, got;

    REQUIRE_EQ(traps_install(), 0);
    trap_hooks[13] = gp_hook;
    expect = HYPERVISOR_xen_version(XENVER_version, NULL);

    /* Tables bottom-up while still ordinary pages, then read-only, then hooked. */
    pool[CODE][0xffe] = 0x0f;
    pool[CODE][0xfff] = 0x05;                     /* syscall */
    pool_page(L1P)[511] = (pool_mfn(CODE) << 12) | PTE_P | PTE_US | PTE_A;
    pool_page(L2P)[511] = (pool_mfn(L1P) << 12) | TABLE;
    pool_page(L3P)[511] = (pool_mfn(L2P) << 12) | TABLE;
    REQUIRE_EQ(pool_ro(L3P), 0);
    REQUIRE_EQ(pool_ro(L2P), 0);
    REQUIRE_EQ(pool_ro(L1P), 0);
    REQUIRE_EQ(mmu1((l4_mfn() << 12) + 255 * 8, (pool_mfn(L3P) << 12) | TABLE), 0);
    CHECK_EQ(*(volatile uint16_t *)SYSCALL_VA, 0x050f);

    got = syscall_at_top();
    printk("SYSCALL at %#lx: #GP %u at rip %#lx (error %#lx, cs %#lx), rax %#lx\n",
           SYSCALL_VA, gp_count, gp_rip, gp_error, gp_cs, got);
    CHECK_EQ(gp_count, 1);
    CHECK_EQ(gp_error, 0);
    CHECK_EQ(gp_rip, NONCANON);
    CHECK_EQ(gp_cs & 0xffff, FLAT_KERNEL_CS & ~3);
    /* The hypercall itself was done. */
    CHECK_EQ(got, expect);

    REQUIRE_EQ(mmu1((l4_mfn() << 12) + 255 * 8, 0), 0);

    /* The IRET path: the iret hypercall to a non-canonical RIP in kernel mode. */
    gp_count = 0;
    gp_rip = gp_error = gp_cs = 0;
    iret_to_noncanon();
    printk("iret to %#lx: #GP %u at rip %#lx (error %#lx, cs %#lx)\n", NONCANON, gp_count,
           gp_rip, gp_error, gp_cs);
    CHECK_EQ(gp_count, 1);
    CHECK_EQ(gp_error, 0);
    CHECK_EQ(gp_rip, NONCANON);
    CHECK_EQ(gp_cs & 0xffff, FLAT_KERNEL_CS & ~3);
    return check_failures ? RESULT_FAILURE : RESULT_SUCCESS;
}
