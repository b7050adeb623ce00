/*
 * Speculation safety on entry to Mica from a PV guest, for entry.S.
 *
 * RSB_OVERWRITE fills the return stack buffer (Intel's RSB, AMD's RAS)
 * with 32 entries that predict an int3 in Mica.  While a guest ran, it
 * filled the RSB with return addresses of its own; a RET in Mica that
 * finds no entry of Mica's own (Mica returns from frames it did not
 * enter through a call, and deep call chains underflow the RSB) would be
 * predicted to one of those, speculatively running guest-chosen code at
 * Mica's privilege.  32 calls: at least as many entries as the RSBs of
 * current x86 cores hold (16 or 32).  Xen skips this only when it runs
 * with SMEP, no 32-bit PV guests and a full-width RSB (a prediction into
 * guest pages then faults); Mica does not use SMEP, so it always needs it.
 *
 * Clobbers %rax and %rcx; %rsp ends where it started but the calls use
 * 256 bytes below it.  Each use is listed in section __rsb_sites so that
 * `spec-ctrl=rsb=0` can make it jump over itself at boot (spec_ctrl.c),
 * hence the 8-byte alignment (one aligned 8-byte store patches it) and the
length limit of a 2-byte jump, which spec_ctrl.c checks at boot.
 */
#ifndef ASM_SPEC_ENTRY_H
#define ASM_SPEC_ENTRY_H

#ifdef __ASSEMBLY__
.macro RSB_OVERWRITE
        .balign 8
.Lrsb_site\@:
        mov     $16, %ecx
        mov     %rsp, %rax
.Lrsb_loop\@:
        call    .Lrsb_a\@
        int3                            /* what each entry predicts: a stop */
.Lrsb_a\@:
        call    .Lrsb_b\@
        int3
.Lrsb_b\@:
        sub     $1, %ecx
        jnz     .Lrsb_loop\@
        mov     %rax, %rsp              /* drop the 32 return addresses */
.Lrsb_end\@:
        .pushsection __rsb_sites, "a"
        .balign 8
        .quad   .Lrsb_site\@
        .quad   .Lrsb_end\@ - .Lrsb_site\@
        .popsection
.endm
#endif

#endif
