/* The register frame entry.S builds for every exception and interrupt. */
#ifndef ASM_REGS_H
#define ASM_REGS_H

#define REGS_R15     0
#define REGS_VECTOR  120
#define REGS_CS      144
#define REGS_SIZE    176

/* Vector field of a frame built by the SYSCALL entry (not a real vector). */
#define SYSCALL_VECTOR 0x100
/* ... and by the SYSENTER entry. */
#define SYSENTER_VECTOR 0x101

#ifndef __ASSEMBLY__
#include <mica/types.h>

struct cpu_regs {
    u64 r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8;
    u64 rax, rcx, rdx, rsi, rdi;
    u64 vector;
    u64 error_code;
    /* pushed by the CPU */
    u64 rip, cs, rflags, rsp, ss;
};
_Static_assert(__builtin_offsetof(struct cpu_regs, vector) == REGS_VECTOR, "regs layout");
_Static_assert(__builtin_offsetof(struct cpu_regs, cs) == REGS_CS, "regs layout");
_Static_assert(sizeof(struct cpu_regs) == REGS_SIZE, "regs size");
#endif

#endif
