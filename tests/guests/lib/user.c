/*
 * Guest user mode for test kernels: entering ring 3 through the iret
 * hypercall and coming back to the kernel for good (guest.h).
 *
 * user_mode_run() saves the callee-saved registers and the kernel RSP,
 * then has the iret hypercall (hypercall page slot 23) return to user
 * mode with Xen's frame: flags word 0, RIP, CS (RPL 3), RFLAGS (IF set:
 * events unmasked in user mode), RSP, SS.  A trap hook ends user mode
 * with user_mode_leave(), which points its frame at user_mode_resume in
 * kernel mode on the saved RSP; the registers come back and
 * user_mode_run() returns to its caller.  Before entering, the test must
 * have set its kernel stack (stack_switch) and a user L4
 * (MMUEXT_NEW_USER_BASEPTR) if the code it runs needs them.
 */
#include "guest.h"

/* The kernel RSP while user mode runs (one vCPU at a time uses this). */
uint64_t user_mode_kern_rsp;
extern char user_mode_resume[];

void __attribute__((noinline)) user_mode_run(uint64_t rip, uint64_t rsp, uint16_t cs)
{
    uint64_t ss = cs == FLAT_USER_CS32 ? FLAT_USER_SS32 : FLAT_USER_SS64;

    __asm__ volatile(
        "pushq %%rbp\n\t"
        "pushq %%rbx\n\t"
        "pushq %%r12\n\t"
        "pushq %%r13\n\t"
        "pushq %%r14\n\t"
        "pushq %%r15\n\t"
        "movq %%rsp, user_mode_kern_rsp(%%rip)\n\t"
        "pushq %[uss]\n\t"                   /* ss */
        "pushq %[usp]\n\t"                   /* rsp */
        "pushq $0x202\n\t"                   /* rflags */
        "pushq %[ucs]\n\t"                   /* cs: RPL 3 = user mode */
        "pushq %[uip]\n\t"                   /* rip */
        "pushq $0\n\t"                       /* flags */
        "jmp hypercall_page + 23 * 32\n"
        ".globl user_mode_resume\n"
        "user_mode_resume:\n\t"
        "movq user_mode_kern_rsp(%%rip), %%rsp\n\t"
        "popq %%r15\n\t"
        "popq %%r14\n\t"
        "popq %%r13\n\t"
        "popq %%r12\n\t"
        "popq %%rbx\n\t"
        "popq %%rbp\n\t"
        :
        : [usp] "r"(rsp), [uip] "r"(rip), [ucs] "r"((uint64_t)cs), [uss] "r"(ss)
        : "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory", "cc");
}

void user_mode_leave(struct regs *r)
{
    r->rip = (uint64_t)user_mode_resume;
    r->cs = FLAT_KERNEL_CS & ~3;
    r->rsp = user_mode_kern_rsp;
    r->ss = FLAT_KERNEL_SS;
    r->rflags = 0x002;
}
