/*
 * Secondary CPU start: the startup IPI leaves an AP in real mode at
 * CS:IP = (vector << 8):0.  smpboot.c copies the blob between
 * trampoline_start and trampoline_end to a free page below 1 MiB, fills
 * in its data words (physical addresses are only known then), and
 * points the AP at it.  The blob switches to protected mode, then to
 * long mode on page tables smpboot.c built next to it (Mica's upper
 * half plus an identity map of the first 2 MiB, so the instruction after
 * paging is turned on can still be fetched), and jumps to ap_start64 at
 * Mica's linked address.  Only position-independent code in the blob:
 * EBX holds its physical base from the first instructions on.
 */
#include <asm/current.h>

#define TOFF(sym)      ((sym) - trampoline_start)
#define TRAMP_CS32     0x08
#define TRAMP_DS       0x10
#define TRAMP_CS64     0x18
#define CR0_PE         0x00000001
#define CR0_WP         0x00010000
#define CR0_PG         0x80000000
#define CR4_PAE        0x20
#define MSR_EFER       0xc0000080

        .section .rodata.trampoline, "a"
        .balign 16
        .globl trampoline_start
trampoline_start:
        .code16
        cli
        cld
        xor     %ebx, %ebx
        mov     %cs, %bx
        mov     %bx, %ds
        shl     $4, %ebx                        /* physical base of the blob */
        lgdtl   TOFF(tramp_gdt_desc)
        mov     %cr0, %eax
        or      $CR0_PE, %eax
        mov     %eax, %cr0
        ljmpl   *TOFF(tramp_jump32)

        .code32
tramp32:
        mov     $TRAMP_DS, %eax
        mov     %eax, %ds
        mov     %eax, %es
        mov     %eax, %ss
        mov     %cr4, %eax
        or      $CR4_PAE, %eax
        mov     %eax, %cr4
        mov     TOFF(tramp_cr3)(%ebx), %eax
        mov     %eax, %cr3
        mov     $MSR_EFER, %ecx
        mov     TOFF(tramp_efer)(%ebx), %eax    /* LME, and NXE/SCE as on the boot CPU */
        xor     %edx, %edx
        wrmsr
        mov     %cr0, %eax
        or      $(CR0_PG | CR0_WP), %eax
        mov     %eax, %cr0
        ljmpl   *TOFF(tramp_jump64)(%ebx)   /* no stack here: a far jump, not a far return */

        .code64
tramp64:
        movabs  $ap_start64, %rax
        jmp     *%rax

        .balign 8
tramp_gdt:
        .quad 0
        .quad 0x00cf9a000000ffff                /* 0x08: flat 32-bit code */
        .quad 0x00cf92000000ffff                /* 0x10: flat data */
        .quad 0x00af9a000000ffff                /* 0x18: 64-bit code */
tramp_gdt_end:
        .globl tramp_gdt, tramp32, tramp64, tramp_gdt_desc, tramp_jump32, tramp_jump64
        .globl tramp_cr3, tramp_efer
tramp_gdt_desc:
        .short tramp_gdt_end - tramp_gdt - 1
        .long 0                                 /* base: filled in */
        .balign 4
tramp_jump32:
        .long 0                                 /* physical address of tramp32: filled in */
        .short TRAMP_CS32
        .balign 4
tramp_jump64:
        .long 0                                 /* physical address of tramp64: filled in */
        .short TRAMP_CS64
        .balign 4
tramp_cr3:
        .long 0                                 /* the blob's own L4, below 1 MiB */
tramp_efer:
        .long 0
        .globl trampoline_end
trampoline_end:

        /*
         * Long mode at Mica's address, still on the blob's page tables
         * and GDT.  Each AP finds its stack by its initial APIC ID (CPUID
         * leaf 1), so an AP that answers late, after the boot CPU gave
         * up on it and cleared its slot, parks instead of running on
         * another CPU's stack.
         */
        .text
        .code64
        .globl ap_start64
ap_start64:
        mov     $TRAMP_DS, %eax
        mov     %eax, %ds
        mov     %eax, %es
        mov     %eax, %ss
        mov     $1, %eax
        cpuid
        shr     $24, %ebx
        lea     ap_stack_top(%rip), %rax
        mov     (%rax, %rbx, 8), %rsp
        test    %rsp, %rsp
        jz      1f
        xor     %ebp, %ebp
        call    ap_start_c
1:      cli
        hlt
        jmp     1b
