/*
 * Entry from a multiboot2 loader (GRUB): 32-bit protected mode, paging
 * off, EAX = multiboot2 magic, EBX = physical address of the boot
 * information.  This file gets the CPU into long mode on a temporary page
 * table and jumps to start_mica() at Mica's linked (high) address.
 *
 * The temporary page table maps the first 4 GiB three times with 2 MiB
 * pages: identity (to survive turning paging on), at DIRECTMAP_VIRT_START
 * (the direct map, so C can reach the boot information and modules),
 * and the first 1 GiB at MICA_VIRT_START (the image).  paging_init()
 * replaces it with the real one.
 */
#include <asm/current.h>
#include <asm/layout.h>

#define MB2_HEADER_MAGIC   0xe85250d6
#define MB2_LOADER_MAGIC   0x36d76289
#define MB2_ARCH_I386      0
#define MB2_TAG_END        0
#define MB2_TAG_MODULE_ALIGN 6

#define PHYS(sym)          ((sym) - MICA_VIRT_START)

#define PTE_P    0x001
#define PTE_RW   0x002
#define PTE_PS   0x080
#define CR4_PAE  0x020
#define CR0_PG   0x80000000
#define CR0_WP   0x00010000
#define MSR_EFER 0xc0000080
#define EFER_LME 0x100
#define EFER_NXE 0x800

        .section .text.boot.header, "a"
        .balign 8
mb2_header:
        .long MB2_HEADER_MAGIC
        .long MB2_ARCH_I386
        .long mb2_header_end - mb2_header
        .long -(MB2_HEADER_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
        /* Page-aligned modules: the dom0 builder maps them by frame. */
        .balign 8
        .short MB2_TAG_MODULE_ALIGN, 0
        .long 8
        .balign 8
        .short MB2_TAG_END, 0
        .long 8
mb2_header_end:

        .section .text.boot, "ax"
        .code32
        .globl start32
start32:
        cli
        cld
        mov     %eax, %edi                      /* magic, kept for C */
        mov     %ebx, %esi                      /* boot information */
        mov     $PHYS(boot_stack_top), %esp           /* scratch until long mode */

        cmp     $MB2_LOADER_MAGIC, %edi
        jne     .Lnot_multiboot2

        /* Long mode must exist (CPUID 0x80000001 EDX bit 29). */
        mov     $0x80000000, %eax
        cpuid
        cmp     $0x80000001, %eax
        jb      .Lno_long_mode
        mov     $0x80000001, %eax
        cpuid
        bt      $29, %edx
        jnc     .Lno_long_mode
        mov     %edx, %ebp                      /* bit 20: NX */

        /* Zero .bss: the page tables below live there. */
        mov     %edi, %ebx
        xor     %eax, %eax
        mov     $PHYS(__bss_start), %edi
        mov     $PHYS(__bss_end), %ecx
        sub     %edi, %ecx
        rep stosb
        mov     %ebx, %edi

        /* Four page directories of 2 MiB pages covering 0-4 GiB. */
        mov     $PHYS(boot_l2), %edx
        xor     %ecx, %ecx
1:      mov     %ecx, %eax
        shl     $21, %eax
        or      $(PTE_P | PTE_RW | PTE_PS), %eax
        mov     %eax, (%edx, %ecx, 8)
        mov     %ecx, %eax
        shr     $11, %eax                       /* high dword: (i << 21) >> 32 */
        mov     %eax, 4(%edx, %ecx, 8)
        inc     %ecx
        cmp     $2048, %ecx
        jb      1b

        /* L3s: identity and direct map use all four, the image the first. */
        xor     %ecx, %ecx
2:      mov     %ecx, %eax
        shl     $12, %eax
        add     $(PHYS(boot_l2) + PTE_P + PTE_RW), %eax
        mov     %eax, PHYS(boot_l3_ident)(, %ecx, 8)
        mov     %eax, PHYS(boot_l3_direct)(, %ecx, 8)
        inc     %ecx
        cmp     $4, %ecx
        jb      2b
        movl    $(PHYS(boot_l2) + PTE_P + PTE_RW), PHYS(boot_l3_image) + 8 * L3_SLOT(MICA_VIRT_START)

        movl    $(PHYS(boot_l3_ident) + PTE_P + PTE_RW), PHYS(boot_l4)
        movl    $(PHYS(boot_l3_image) + PTE_P + PTE_RW), PHYS(boot_l4) + 8 * L4_SLOT(MICA_VIRT_START)
        movl    $(PHYS(boot_l3_direct) + PTE_P + PTE_RW), PHYS(boot_l4) + 8 * L4_SLOT(DIRECTMAP_VIRT_START)

        mov     %cr4, %eax
        or      $CR4_PAE, %eax
        mov     %eax, %cr4
        mov     $PHYS(boot_l4), %eax
        mov     %eax, %cr3

        mov     $MSR_EFER, %ecx
        rdmsr
        or      $EFER_LME, %eax
        bt      $20, %ebp
        jnc     3f
        or      $EFER_NXE, %eax
3:      wrmsr

        mov     %cr0, %eax
        or      $(CR0_PG | CR0_WP), %eax
        mov     %eax, %cr0

        lgdt    boot_gdt_descr
        ljmp    $0x08, $start64_low

        /* Nothing works yet but the UART: say why we stop, then stop. */
.Lnot_multiboot2:
        mov     $msg_not_mb2, %esi
        jmp     .Lfail
.Lno_long_mode:
        mov     $msg_no_lm, %esi
.Lfail:
        mov     $0x3f8, %dx
4:      lodsb
        test    %al, %al
        jz      5f
        out     %al, %dx
        jmp     4b
5:      hlt
        jmp     5b

        .code64
start64_low:
        movabs  $start64, %rax
        jmp     *%rax

        .section .data.boot, "a"
        .balign 8
boot_gdt:
        .quad 0
        .quad 0x00af9a000000ffff                /* 0x08: 64-bit ring-0 code */
        .quad 0x00cf92000000ffff                /* 0x10: ring-0 data */
boot_gdt_end:
boot_gdt_descr:
        .short boot_gdt_end - boot_gdt - 1
        .long boot_gdt
msg_not_mb2:
        .asciz "Mica: not started by a multiboot2 loader (bad magic in EAX); boot Mica with GRUB's 'multiboot2' command.\r\n"
msg_no_lm:
        .asciz "Mica: this CPU has no 64-bit long mode; Mica needs an x86-64 CPU.\r\n"

        /* From here on we run at the linked address. */
        .section .text.entry, "ax"
start64:
        mov     $0x10, %eax
        mov     %eax, %ds
        mov     %eax, %es
        mov     %eax, %ss
        xor     %eax, %eax
        mov     %eax, %fs
        mov     %eax, %gs
        /* CPU 0's stack for good, with its struct cpu_info at the top. */
        lea     boot_stack + STACK_SIZE - CPU_INFO_SIZE(%rip), %rsp
        xor     %ebp, %ebp                      /* ends stack traces */
        /* edi = magic, esi = boot information (physical): start_mica(magic, info) */
        mov     %edi, %edi
        mov     %esi, %esi
        call    start_mica
6:      hlt
        jmp     6b

        .section .bss.page_aligned, "aw", @nobits
        .balign 4096
        .globl boot_l4
boot_l4:        .skip 4096
boot_l3_ident:  .skip 4096
boot_l3_image:  .skip 4096
boot_l3_direct: .skip 4096
boot_l2:        .skip 4 * 4096
        .balign STACK_SIZE
        .globl boot_stack
boot_stack:     .skip STACK_SIZE
boot_stack_top:
