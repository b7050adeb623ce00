/*
 * What indirect_thunk.S, the RSB_OVERWRITE sites (asm/spec_entry.h) and
 * the branch-hardening barriers (asm/nospec.h) export for spec_ctrl.c to
 * patch at boot; and, for assembly, RET through indirect_thunk.S's return
 * thunk.
 */
#ifndef ASM_INDIRECT_THUNK_H
#define ASM_INDIRECT_THUNK_H

#ifdef __ASSEMBLY__
/*
 * A function return in hand-written assembly: through the return thunk,
 * as gcc's -mfunction-return=thunk-extern does for C, so that no RET but
 * the thunk's own is left where a function happens to end.  Not for code
 * that runs before head.S jumps to the linked address (the thunk is not
 * reachable there); that code has no RET.
 */
#define RET jmp __x86_return_thunk
#else

#include <mica/types.h>

/* One thunk and the two bodies that can replace its retpoline. */
struct thunk_body {
    u64 thunk;          /* address of __x86_indirect_thunk_<reg> (8-byte aligned) */
    u8 lfence[8];       /* lfence; jmp *%reg; int3 padding */
    u8 jmp[8];          /* jmp *%reg; int3 padding */
};
_Static_assert(sizeof(struct thunk_body) == 24, "thunk_body layout (indirect_thunk.S)");

extern const struct thunk_body thunk_bodies[], thunk_bodies_end[];

/* One RSB_OVERWRITE sequence: 8-byte aligned, len bytes long. */
struct rsb_site {
    u64 addr;
    u64 len;
};
_Static_assert(sizeof(struct rsb_site) == 16, "rsb_site layout (asm/spec_entry.h)");

/* The linker collects them (mica.lds). */
extern const struct rsb_site __rsb_sites_start[], __rsb_sites_end[];

/* The address of each evaluate_nospec() LFENCE (asm/nospec.h), 4-byte aligned. */
extern const u64 __nospec_sites_start[], __nospec_sites_end[];

#endif /* __ASSEMBLY__ */

#endif
