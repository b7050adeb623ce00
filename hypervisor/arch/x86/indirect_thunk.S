/*
 * Indirect-branch thunks (Spectre v2, branch target injection).
 *
 * The hypervisor's C code is built with -mindirect-branch=thunk-extern
 * -mindirect-branch-register (hypervisor/build.mk): gcc turns every
 * `call *%reg` / `jmp *%reg` (function pointers, switch jump tables) into
 * a direct call or jump to __x86_indirect_thunk_<reg>, and these are the
 * thunks.  An indirect branch is predicted from the branch target buffer,
 * which a guest can train to send Mica's speculation to a gadget of the
 * guest's choosing; none is left in the image but the one in each thunk
 * (tests/host/spec/check-indirect-branches checks that).
 *
 * Three bodies, chosen once at boot with Xen's spelling
 * `spec-ctrl=bti-thunk=retpoline|lfence|jmp` (spec_ctrl.c):
 *  - retpoline (the default, the body assembled here): the call puts an
 *    entry in the return stack buffer that predicts the int3 after it,
 *    where speculation stops; architecturally the target replaces the
 *    return address on the stack and the ret goes there.  No prediction
 *    for the target ever comes from the branch target buffer.
 *  - lfence: `lfence; jmp *%reg` (the lfence waits until the register is
 *    final, so the window is short; XSA-398 says not enough on AMD).
 *  - jmp: a plain `jmp *%reg`, no protection, the least cost.
 * Mica has no alternatives patching, so the choice is made by copying the
 * chosen body (below, in thunk_bodies) over the start of each thunk, at
 * most 8 bytes with one aligned 8-byte store, before any other CPU runs
 * and before any guest exists.  Until then (and with retpoline, always)
 * the retpoline body runs, which is correct on every CPU.  A run-time test
 * of the choice inside the thunk would itself be a conditional branch a
 * guest could mistrain.
 *
 * The retpoline uses CALL/RET against a rewritten return address, which
 * a CET shadow stack would reject; Mica does not use CET (build.mk has
 * -fcf-protection=none).
 */

/*
 * The return thunk.  The C code is also built with
 * -mfunction-return=thunk-extern (hypervisor/build.mk), which makes gcc
 * end every function with `jmp __x86_return_thunk` instead of its own
 * `ret`, and the hand-written assembly does the same through RET
 * (asm/indirect_thunk.h).  The RETs left are this one and the
 * retpolines' (which return to a target they wrote, not to a caller), at
 * addresses chosen here, not wherever a function happens to end:
 *  - CPUs with the Indirect Target Selection bug (XSA-469) may predict a
 *    RET in the lower half of a 64-byte line from the branch target
 *    buffer, which a guest can train; this RET sits at the start of the
 *    upper half, like the indirect-branch thunks' branches.
 *  - Another return sequence (one that cannot be steered by a trained
 *    return predictor, as Retbleed and SRSO need on some CPUs) would go
 *    here and nowhere else.  Xen 4.17 has none: it answers Retbleed and
 *    SRSO with IBPB on entry, which Mica cannot use (docs/spec-ctrl.md).
 * It is an ordinary direct jump target in .text, mapped from the moment
 * head.S jumps to the linked address; nothing before that jump (the
 * 32-bit boot code, the AP trampoline) uses it or returns at all
 * (tests/host/spec/check-return-thunk checks both).
 */
        .section .text.indirect_thunk, "ax", @progbits
        .balign 64, 0xcc
        .fill   32, 1, 0xcc
        .globl  __x86_return_thunk
        .type   __x86_return_thunk, @function
__x86_return_thunk:
        ret
        int3                            /* stops straight-line speculation past the ret */
        .size   __x86_return_thunk, . - __x86_return_thunk

/* Each thunk's start is 8-byte aligned and at least 8 bytes long. */
.macro THUNK reg
        .section .text.indirect_thunk, "ax", @progbits
        /*
         * Indirect branches and RETs in the first half of a 64-byte line
         * are mispredicted on CPUs with the Indirect Target Selection bug;
         * each thunk starts half-way into a line of its own (int3 before
         * it), as Xen's do.
         */
        .balign 64, 0xcc
        .fill   32, 1, 0xcc
        .globl  __x86_indirect_thunk_\reg
        .type   __x86_indirect_thunk_\reg, @function
__x86_indirect_thunk_\reg:
        call    1f
        int3                            /* where the RSB's prediction lands */
1:      mov     %\reg, (%rsp)
        ret
        int3                            /* stops straight-line speculation past the ret */
        .size   __x86_indirect_thunk_\reg, . - __x86_indirect_thunk_\reg
        .if     . - __x86_indirect_thunk_\reg < 8
        .error  "a thunk shorter than the 8 bytes its patch writes"
        .endif
.endm

/*
 * The other bodies, 8 bytes each, padded with int3: struct thunk_body
 * (asm/indirect_thunk.h).
 */
.macro BODIES reg
        .section .rodata.thunk_bodies, "a", @progbits
        .balign 8
        .quad   __x86_indirect_thunk_\reg
2:      lfence
        jmp     *%\reg
        .if     . - 2b > 8
        .error  "lfence body longer than 8 bytes"
        .endif
        .fill   8 - (. - 2b), 1, 0xcc
3:      jmp     *%\reg
        .fill   8 - (. - 3b), 1, 0xcc
.endm

/* Every general register but %rsp, as gcc may name them. */
.irp reg, rax, rcx, rdx, rbx, rbp, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15
        THUNK   \reg
.endr

        .section .rodata.thunk_bodies, "a", @progbits
        .balign 8
        .globl  thunk_bodies
thunk_bodies:
.irp reg, rax, rcx, rdx, rbx, rbp, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15
        BODIES  \reg
.endr
        .globl  thunk_bodies_end
thunk_bodies_end:
