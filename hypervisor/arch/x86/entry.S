/*
 * Exception and interrupt entry.  Each vector's stub makes the frame
 * uniform (a zero error code where the CPU pushes none, then the vector
 * number), then common code saves the general registers as a struct
 * cpu_regs and calls do_trap().
 */
#include <asm/regs.h>

/* Vectors for which the CPU pushes an error code. */
#define HAS_ERRCODE(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)

        .section .text.entry, "ax"

        .macro  vector_stub v
        .balign 16
vector_\v:
        .if !HAS_ERRCODE(\v)
        pushq   $0
        .endif
        pushq   $\v
        jmp     trap_common
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

        .globl  trap_common
trap_common:
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
        mov     %rsp, %rdi
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
        iretq

        /* Table of stub addresses for desc.c to build the IDT from. */
        .section .rodata
        .balign 8
        .globl  vector_stubs
vector_stubs:
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
