/*
 * The iret hypercall (23), entered by jumping to its hypercall-page slot
 * with struct iret_context on the stack: RIP, RSP, RAX restored; RCX and
 * R11 restored unless VGCF_in_syscall; the upcall mask follows RFLAGS.IF.
 */
#include "guest.h"

uint64_t iret_out[4];   /* rax, rcx, r11, rsp after the return */

static void do_iret(uint64_t rflags, uint64_t flags, uint64_t *new_rsp)
{
    __asm__ volatile(
        "movq %%rsp, %%r12\n\t"
        "leaq -512(%%rsp), %%rbx\n\t"
        "andq $-16, %%rbx\n\t"
        "movq %%rbx, (%[nrsp])\n\t"
        "pushq $0xe02b\n\t"                 /* ss */
        "pushq %%rbx\n\t"                   /* rsp */
        "pushq %[rfl]\n\t"                  /* rflags */
        "pushq $0xe030\n\t"                 /* cs: kernel (RPL 0) */
        "leaq 1f(%%rip), %%rax\n\t"
        "pushq %%rax\n\t"                   /* rip */
        "pushq %[flags]\n\t"
        "movq $0x1111, %%rax\n\t"
        "movq $0x2222, %%rcx\n\t"
        "movq $0x3333, %%r11\n\t"
        "jmp hypercall_page + 23 * 32\n"
        "1:\n\t"
        "movq %%rax, iret_out(%%rip)\n\t"
        "movq %%rcx, iret_out + 8(%%rip)\n\t"
        "movq %%r11, iret_out + 16(%%rip)\n\t"
        "movq %%rsp, iret_out + 24(%%rip)\n\t"
        "movq %%r12, %%rsp"
        :
        : [rfl] "r"(rflags), [flags] "r"(flags), [nrsp] "r"(new_rsp)
        : "rax", "rbx", "rcx", "r11", "r12", "memory", "cc");
}


enum result test_main(void)
{
    uint64_t rsp;

    REQUIRE_EQ(traps_install(), 0);
    map_shared_info();

    /* IRET semantics, IF clear: events stay masked. */
    memset(iret_out, 0, sizeof(iret_out));
    do_iret(0x002, 0, &rsp);
    CHECK_EQ(iret_out[0], 0x1111);
    CHECK_EQ(iret_out[1], 0x2222);
    CHECK_EQ(iret_out[2], 0x3333);
    CHECK_EQ(iret_out[3], rsp);
    CHECK_EQ(vcpu0->evtchn_upcall_mask, 1);

    /* IF set: the return unmasks events (nothing is pending, no callback). */
    do_iret(0x202, 0, &rsp);
    CHECK_EQ(iret_out[0], 0x1111);
    CHECK_EQ(vcpu0->evtchn_upcall_mask, 0);
    CHECK_EQ(iret_out[3], rsp);

    /* IF clear again masks them. */
    do_iret(0x002, 0, &rsp);
    CHECK_EQ(vcpu0->evtchn_upcall_mask, 1);

    /* SYSRET semantics: RCX and R11 are not restored (SYSRET owns them). */
    do_iret(0x002, VGCF_in_syscall, &rsp);
    CHECK_EQ(iret_out[0], 0x1111);
    CHECK(iret_out[1] != 0x2222, "rcx restored despite VGCF_in_syscall");
    CHECK(iret_out[2] != 0x3333, "r11 restored despite VGCF_in_syscall");
    CHECK_EQ(iret_out[3], rsp);

    /* The hardware flags the guest may not own are not taken from the frame. */
    uint64_t fl;
    do_iret(0x3002 | (1UL << 17), 0, &rsp);     /* IOPL 3, VM */
    __asm__ volatile("pushfq; popq %0" : "=r"(fl));
    CHECK_EQ(fl & (0x3000 | (1UL << 17)), 0);
    CHECK(fl & 0x200, "rflags %#lx: interrupts off after iret", fl);

    /* Returns through the iret path many times without leaking anything. */
    for (int i = 0; i < 2000; i++)
        do_iret(0x002, 0, &rsp);
    CHECK_EQ(iret_out[0], 0x1111);
    return RESULT_SUCCESS;
}
