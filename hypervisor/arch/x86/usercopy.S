/*
 * Byte copies that may fault.  A fault inside the copy loop is redirected
 * (through the __ex_table entries below) to code returning the number of
 * bytes not copied.
 *
 * u64 raw_copy(void *dst, const void *src, u64 len): 0 when all copied.
 */
        .section .text, "ax"
        .globl  raw_copy
raw_copy:
        mov     %rdx, %rcx
1:      rep movsb
        xor     %eax, %eax
        ret
2:      mov     %rcx, %rax
        ret

        .section __ex_table, "a"
        .balign 8
        .quad   1b, 2b
