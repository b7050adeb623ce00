/*
 * Exception and interrupt entry.  Each vector's stub makes the frame
 * uniform (a zero error code where the CPU pushes none, then the vector
 * number), then common code saves the general registers as a struct
 * cpu_regs and calls do_trap().
 */
#include <asm/current.h>
#include <asm/regs.h>
#include <asm/spec_entry.h>

/* Vectors for which the CPU pushes an error code. */
#define HAS_ERRCODE(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)
/* Vectors on an IST stack that can interrupt a guest (#DF cannot return). */
#define IST_FROM_GUEST(v) ((v) == 1 || (v) == 2 || (v) == 18)

        .section .text.entry, "ax"

/* The general registers, pushed as the start of a struct cpu_regs. */
        .macro  SAVE_ALL
        pushq   %rdi
        pushq   %rsi
        pushq   %rdx
        pushq   %rcx
        pushq   %rax
        pushq   %r8
        pushq   %r9
        pushq   %r10
        pushq   %r11
        pushq   %rbx
        pushq   %rbp
        pushq   %r12
        pushq   %r13
        pushq   %r14
        pushq   %r15
        cld
        .endm

/*
 * XPTI (asm/xpti.h): while this CPU's xen_cr3 is set, load it (Mica's
 * full tables) and then clear it, in that order: an NMI in between finds
 * xen_cr3 still naming the tables in CR3.  Leaves the address of the
 * CPU's stack top (cpu_info's end, less one) in \top and what xen_cr3 held
 * in \val.  Without XPTI xen_cr3 is always 0: one branch.
 */
        .macro  XPTI_LOAD_XEN_CR3 top, val
        mov     %rsp, \top
        or      $(STACK_SIZE - 1), \top
        mov     CPU_INFO_XEN_CR3 + 1 - CPU_INFO_SIZE(\top), \val
        test    \val, \val
        jz      .Lxpti_loaded\@
        mov     \val, %cr3
        movq    $0, CPU_INFO_XEN_CR3 + 1 - CPU_INFO_SIZE(\top)
.Lxpti_loaded\@:
        .endm

        .macro  vector_stub v
        .balign 16
vector_\v:
        .if !HAS_ERRCODE(\v)
        pushq   $0
        .endif
        pushq   $\v
        .if IST_FROM_GUEST(\v)
        jmp     ist_common
        .else
        jmp     trap_common
        .endif
        .endm

        .altmacro
        .macro  all_stubs from, to
        vector_stub \from
        .if \to-\from
        all_stubs %(\from+1), \to
        .endif
        .endm

        all_stubs 0, 63
        all_stubs 64, 127
        all_stubs 128, 191
        all_stubs 192, 255
        /* Back to plain macros: with .altmacro a "%reg" macro argument is evaluated. */
        .noaltmacro

/*
 * #DB, NMI and #MC run on IST stacks inside the CPU's stack block, so the
 * handler finds this CPU's state from its own RSP whatever RSP it
 * interrupted (a guest's, on the first instructions of the SYSCALL entry).
 * One that interrupted a guest is moved to the guest frame slot at the top
 * of the primary stack, where every entry from ring 3 lands: C code finds
 * it there, and may switch vCPUs, which it cannot do on an IST stack.
 *
 * One that interrupted Mica overwrites the RSB itself: it may have come
 * in the first instructions of an entry from a guest, before trap_common
 * overwrote the RSB the guest left (asm/spec_entry.h).
 */
ist_common:
        testb   $3, 24(%rsp)                    /* CS of the interrupted context */
        jnz     1f
        pushq   %rax
        pushq   %rcx
        RSB_OVERWRITE
        popq    %rcx
        popq    %rax
        SAVE_ALL
        /*
         * XPTI: this may have struck while the CPU ran on its root page
         * table (the first instructions of an entry, before trap_common
         * loaded Mica's full tables, or the last of an exit, after
         * restore_all loaded the root table), where no C code can run.
         * While xen_cr3 is set, load it (the full tables; loading it when
         * they are already in CR3 is harmless) and clear it for as long
         * as this handler runs, so that a fault inside the handler does
         * not take it for its own; on the way out put back both xen_cr3
         * and the CR3 found here, xen_cr3 first (a #MC in between then
         * finds xen_cr3 naming the tables in CR3).  Callee-saved
         * registers carry them across do_trap (the interrupted values
         * are in the frame): %r12 the CR3, %r13 xen_cr3, %rbx the CPU's
         * stack top.
         */
        mov     %cr3, %r12
        XPTI_LOAD_XEN_CR3 %rbx, %r13
        mov     %rsp, %rdi
        call    do_trap
        mov     %r13, CPU_INFO_XEN_CR3 + 1 - CPU_INFO_SIZE(%rbx)
        mov     %cr3, %rax
        cmp     %rax, %r12
        je      restore_all
        mov     %r12, %cr3
        jmp     restore_all
1:      pushq   %rax
        pushq   %rcx
        mov     %rsp, %rax
        or      $(STACK_SIZE - 1), %rax
        mov     CPU_INFO_RSP0 + 1 - CPU_INFO_SIZE(%rax), %rax
        sub     $(REGS_SIZE - REGS_VECTOR), %rax /* vector, error code, rip, cs, rflags, rsp, ss */
        mov     16(%rsp), %rcx
        mov     %rcx, 0(%rax)
        mov     24(%rsp), %rcx
        mov     %rcx, 8(%rax)
        mov     32(%rsp), %rcx
        mov     %rcx, 16(%rax)
        mov     40(%rsp), %rcx
        mov     %rcx, 24(%rax)
        mov     48(%rsp), %rcx
        mov     %rcx, 32(%rax)
        mov     56(%rsp), %rcx
        mov     %rcx, 40(%rax)
        mov     64(%rsp), %rcx
        mov     %rcx, 48(%rax)
        mov     %rsp, %rcx
        mov     %rax, %rsp
        mov     8(%rcx), %rax
        mov     (%rcx), %rcx
        jmp     trap_common

        .globl  trap_common
trap_common:
        SAVE_ALL
        /*
         * XPTI: a guest ran on the root page table, which maps nothing of
         * Mica but this code, the CPU's stack block and its descriptor
         * tables: load the full tables before anything else.  Entries
         * from ring 0 check too: the IRETQ of an exit may fault on a
         * guest's selectors after the switch (pv_return_fault).
         */
        XPTI_LOAD_XEN_CR3 %rcx, %rax
        /*
         * From a guest (SYSCALL and SYSENTER come here too, and the IST
         * vectors that struck a guest): no RET before the RSB holds only
         * Mica's entries (asm/spec_entry.h).
         */
        testb   $3, REGS_CS(%rsp)
        jz      1f
        RSB_OVERWRITE
        mov     %rsp, %rdi
        call    do_trap
        /*
         * Back to the guest: an entry from ring 3 always returns there
         * (pv_exit_to_guest() sees to it; a vCPU switch only changes whose
         * frame it is), through the guest frame at the start of struct
         * cpu_info, which %rsp points to.  pv_enter_frame() comes here too.
         * XPTI: pv_cr3 is the root page table the guest runs on
         * (xpti_prepare_exit() filled its guest slots just now, with
         * interrupts off); record the full tables for the next entry
         * first (an NMI from here on loads them), then switch.  From here
         * to the IRETQ only this code and this stack are touched, and the
         * root table maps both.  Without XPTI pv_cr3 is 0: one branch.
         */
        .globl  restore_guest
restore_guest:
        mov     CPU_INFO_PV_CR3(%rsp), %rax
        test    %rax, %rax
        jz      restore_all
        mov     %cr3, %rcx
        mov     %rcx, CPU_INFO_XEN_CR3(%rsp)
        mov     %rax, %cr3
        jmp     restore_all
1:      mov     %rsp, %rdi
        call    do_trap
        .globl  restore_all
restore_all:
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %rbp
        popq    %rbx
        popq    %r11
        popq    %r10
        popq    %r9
        popq    %r8
        popq    %rax
        popq    %rcx
        popq    %rdx
        popq    %rsi
        popq    %rdi
        add     $16, %rsp                       /* vector, error code */
        /* Faults here when a guest pulled its CS or SS descriptor (pv_return_fault). */
        .globl  restore_all_iret
restore_all_iret:
        iretq

        /* Table of stub addresses for desc.c to build the IDT from. */
        .section .rodata
        .balign 8
        .globl  vector_stubs
vector_stubs:
        .altmacro
        .macro  stub_addrs from, to
        .quad   vector_\from
        .if \to-\from
        stub_addrs %(\from+1), \to
        .endif
        .endm
        stub_addrs 0, 63
        stub_addrs 64, 127
        stub_addrs 128, 191
        stub_addrs 192, 255
