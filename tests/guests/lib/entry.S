/*
 * Exception, event and failsafe entry points registered with the
 * hypervisor, and the way back through the iret hypercall.
 *
 * A bounce frame holds RCX and R11 below what a hardware frame would hold
 * (the hypervisor returns with SYSRET, which destroys both), so every stub
 * first pops them; what is left looks like a hardware frame, with or
 * without an error code.  Stubs then push a dummy error code where the CPU
 * has none, so that trap_common sees one layout, struct regs in guest.h.
 */
#define HYPERCALL_IRET_SLOT (23 * 32)

.macro TRAP_NOERR vec
    .globl trap_entry_\vec
trap_entry_\vec:
    popq %rcx
    popq %r11
    pushq $0
    pushq $\vec
    jmp trap_common
.endm

.macro TRAP_ERR vec
    .globl trap_entry_\vec
trap_entry_\vec:
    popq %rcx
    popq %r11
    pushq $\vec
    jmp trap_common
.endm

    .text
    TRAP_NOERR 0
    TRAP_NOERR 1
    TRAP_NOERR 2
    TRAP_NOERR 3
    TRAP_NOERR 4
    TRAP_NOERR 5
    TRAP_NOERR 6
    TRAP_NOERR 7
    TRAP_ERR   8
    TRAP_NOERR 9
    TRAP_ERR   10
    TRAP_ERR   11
    TRAP_ERR   12
    TRAP_ERR   13
    TRAP_ERR   14
    TRAP_NOERR 15
    TRAP_NOERR 16
    TRAP_ERR   17
    TRAP_NOERR 18
    TRAP_NOERR 19
    TRAP_NOERR 20
    TRAP_ERR   21
    /* Software interrupt vector used by the trap tests (INT n delivery). */
    TRAP_NOERR 0x80

    /* Event upcalls: no error code; vector 256 tells them apart. */
    .globl event_entry
event_entry:
    popq %rcx
    popq %r11
    pushq $0
    pushq $256
    jmp trap_common

    /*
     * SYSCALL from guest user mode: the frame is an ordinary one (RIP =
     * user return address); vector 257.
     */
    .globl syscall_entry
syscall_entry:
    popq %rcx
    popq %r11
    pushq $0
    pushq $257
    jmp trap_common

    /*
     * Failsafe: the frame has DS/ES/FS/GS between R11 and RIP.  Nothing
     * here loads segment selectors, so reaching it is always an error;
     * drop the four selectors and report it as vector 258.
     */
    .globl failsafe_entry
failsafe_entry:
    popq %rcx
    popq %r11
    addq $32, %rsp
    pushq $0
    pushq $258
    jmp trap_common

trap_common:
    pushq %rax
    pushq %rbx
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %rbp
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    cld
    movq %rsp, %rdi
    call trap_dispatch
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rbp
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rbx
    popq %rax
    addq $16, %rsp              /* vector, error code */
    /*
     * Now RIP, CS, RFLAGS, RSP, SS: push flags = 0 (return with IRET
     * semantics, restoring RCX/R11) and let the iret stub push RCX, R11
     * and RAX to complete struct iret_context.
     */
    pushq $0
    jmp hypercall_page + HYPERCALL_IRET_SLOT

    /*
     * A secondary vCPU's first instruction (see smp_fill_context): RDI is
     * the C function, RSI and RDX its two arguments; it must not return.
     */
    .globl smp_secondary_entry
smp_secondary_entry:
    andq $-16, %rsp
    movq %rdi, %rax
    movq %rsi, %rdi
    movq %rdx, %rsi
    call *%rax
    ud2
