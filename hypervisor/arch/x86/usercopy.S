/*
 * Copies that may fault.  A fault inside a copy loop is redirected
 * (through the __ex_table entries below) to code returning the number of
 * bytes not copied.
 *
 * u64 raw_copy(void *dst, const void *src, u64 len): 0 when all copied.
 * Eight bytes at a time, then the rest one by one: a page is 512 steps
 * rather than 4096 (under QEMU's emulation each step of a rep prefix is
 * one instruction, which save and restore's frame copies pay per page).
 */
#include <asm/indirect_thunk.h>

        .section .text, "ax"
        .globl  raw_copy
raw_copy:
        mov     %rdx, %rcx
        shr     $3, %rcx
        and     $7, %edx
1:      rep movsq
        mov     %rdx, %rcx
2:      rep movsb
        xor     %eax, %eax
        RET
3:      lea     (%rdx,%rcx,8), %rax     /* quadwords left, and the tail */
        RET
4:      mov     %rcx, %rax
        RET

        .section __ex_table, "a"
        .balign 8
        .quad   1b, 3b
        .quad   2b, 4b

/*
 * int load_data_selector(unsigned which, u16 sel): loads DS (0), ES (1),
 * FS (2) or GS (3); returns 0, or 1 if the selector faulted, in which case
 * the null selector is loaded instead.
 */
        .section .text, "ax"
        .globl  load_data_selector
load_data_selector:
        xor     %eax, %eax
        cmp     $1, %edi
        je      11f
        cmp     $2, %edi
        je      12f
        cmp     $3, %edi
        je      13f
10:     mov     %esi, %ds
        RET
11:     mov     %esi, %es
        RET
12:     mov     %esi, %fs
        RET
13:     mov     %esi, %gs
        RET
19:     mov     $1, %eax
        xor     %esi, %esi
        cmp     $1, %edi
        je      21f
        cmp     $2, %edi
        je      22f
        cmp     $3, %edi
        je      23f
        mov     %esi, %ds
        RET
21:     mov     %esi, %es
        RET
22:     mov     %esi, %fs
        RET
23:     mov     %esi, %gs
        RET

        .section __ex_table, "a"
        .balign 8
        .quad   10b, 19b
        .quad   11b, 19b
        .quad   12b, 19b
        .quad   13b, 19b
