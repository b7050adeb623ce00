/*
 * x86's part of bounds-check hardening against speculation (Spectre v1,
 * bounds-check bypass; mica/nospec.h has the interface).
 */
#ifndef ASM_NOSPEC_H
#define ASM_NOSPEC_H

#include <mica/types.h>

/*
 * All ones when index < size, else 0, computed without a branch: CMP sets
 * the carry flag exactly when index < size (unsigned), and SBB of a
 * register from itself turns the carry into 0 or ~0.  A CPU that
 * mispredicts the caller's bounds check still computes this from the
 * real values, so the masked index cannot run past the array.
 */
static inline u64 arch_index_mask_nospec(u64 index, u64 size)
{
    u64 mask;

    __asm__("cmp %[size], %[index]\n\t"
            "sbb %[mask], %[mask]"
            : [mask] "=r"(mask)
            : [size] "rme"(size), [index] "r"(index)
            : "cc");
    return mask;
}

#endif
