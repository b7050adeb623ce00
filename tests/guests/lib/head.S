/*
 * Entry point, Xen ELF notes and the hypercall page of every test kernel.
 *
 * Notes: only what a PV64 kernel needs to be accepted by a dom0 builder.
 * No FEATURES note: these kernels never write page tables or descriptor
 * tables directly (they use update_va_mapping / update_descriptor) and are
 * not auto-translated, so they require nothing; a required feature the
 * hypervisor lacked would only make the load fail.  No SUPPORTED_FEATURES
 * note either: its presence without XENFEAT_dom0 makes Xen refuse to build
 * dom0.  GUEST_OS is not "linux", so LOADER must say "generic".
 */
#define NOTE_NUM(type, value)                         \
    .balign 4;                                        \
    .long 4; .long 8; .long type;                     \
    .asciz "Xen"; .balign 4; .quad value; .balign 4

#define NOTE_STR(type, str)                           \
    .balign 4;                                        \
    .long 4; .long 72f - 71f; .long type;             \
    .asciz "Xen"; .balign 4;                          \
71: .asciz str;                                       \
72: .balign 4

#define XEN_ELFNOTE_ENTRY           1
#define XEN_ELFNOTE_HYPERCALL_PAGE  2
#define XEN_ELFNOTE_VIRT_BASE       3
#define XEN_ELFNOTE_PADDR_OFFSET    4
#define XEN_ELFNOTE_XEN_VERSION     5
#define XEN_ELFNOTE_GUEST_OS        6
#define XEN_ELFNOTE_GUEST_VERSION   7
#define XEN_ELFNOTE_LOADER          8

    .section .note.Xen, "a", @note
    NOTE_STR(XEN_ELFNOTE_GUEST_OS, "mica-test-guest")
    NOTE_STR(XEN_ELFNOTE_GUEST_VERSION, "1")
    NOTE_STR(XEN_ELFNOTE_XEN_VERSION, "xen-3.0")
    NOTE_STR(XEN_ELFNOTE_LOADER, "generic")
    NOTE_NUM(XEN_ELFNOTE_VIRT_BASE, 0xffffffff80000000)
    NOTE_NUM(XEN_ELFNOTE_PADDR_OFFSET, 0)
    NOTE_NUM(XEN_ELFNOTE_ENTRY, _start)
    NOTE_NUM(XEN_ELFNOTE_HYPERCALL_PAGE, hypercall_page)

    .section .text.head, "ax"
    .code64
    .globl _start
_start:
    /*
     * Keep the registers exactly as the hypervisor left them, so that the
     * start-of-day test can check them; only then move to our own, larger
     * stack (the boot stack is one page and belongs to the bootstrap
     * layout being tested).
     */
    movq %rax, boot_regs +  0(%rip)
    movq %rbx, boot_regs +  8(%rip)
    movq %rcx, boot_regs + 16(%rip)
    movq %rdx, boot_regs + 24(%rip)
    movq %rsi, boot_regs + 32(%rip)
    movq %rdi, boot_regs + 40(%rip)
    movq %rbp, boot_regs + 48(%rip)
    movq %rsp, boot_regs + 56(%rip)
    movq %r8,  boot_regs + 64(%rip)
    movq %r9,  boot_regs + 72(%rip)
    movq %r10, boot_regs + 80(%rip)
    movq %r11, boot_regs + 88(%rip)
    movq %r12, boot_regs + 96(%rip)
    movq %r13, boot_regs + 104(%rip)
    movq %r14, boot_regs + 112(%rip)
    movq %r15, boot_regs + 120(%rip)
    pushfq
    popq boot_regs + 128(%rip)
    movw %cs, boot_regs + 136(%rip)
    movw %ss, boot_regs + 138(%rip)
    movw %ds, boot_regs + 140(%rip)
    movw %es, boot_regs + 142(%rip)
    movw %fs, boot_regs + 144(%rip)
    movw %gs, boot_regs + 146(%rip)

    leaq guest_stack_top(%rip), %rsp
    movq %rsi, %rdi
    call guest_start
    ud2

    /* Filled by the hypervisor; int3 so that a page left unwritten traps. */
    .section .text.hypercall_page, "ax"
    .balign 4096
    .globl hypercall_page
hypercall_page:
    .fill 4096, 1, 0xcc

    .section .bss.page_aligned, "aw", @nobits
    .balign 4096
    .globl guest_stack, guest_stack_top
guest_stack:
    .skip 4 * 4096
guest_stack_top:
