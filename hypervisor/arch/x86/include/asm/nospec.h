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

/*
 * A guest pointer for use after guest_range_ok() accepted it, safe should
 * the CPU run past that check (Xen's HARDEN_GUEST_ACCESS): below end (the
 * end of the hypervisor's area) bit 63 is cleared, which leaves a guest's
 * lower-half address as it was and makes any address inside the
 * hypervisor's area non-canonical, so a speculative access faults instead
 * of loading.  At or above end the pointer is kept.  No branch: CMP sets
 * the carry exactly when va >= end (end - 1 < va), and RCR moves the carry
 * into the top bit of an all-ones mask.
 */
static inline u64 arch_guest_va_nospec(u64 va, u64 end)
{
    u64 mask = ~0ULL, last = end - 1;

    __asm__("cmp %[va], %[last]\n\t"
            "rcr $1, %[mask]"
            : [mask] "+r"(mask)
            : [va] "r"(va), [last] "r"(last)
            : "cc");
    return va & mask;
}

#endif
