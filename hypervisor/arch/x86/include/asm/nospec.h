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

/*
 * A speculation barrier on one side of a guest-steered conditional branch
 * (Xen's HARDEN_BRANCH; mica/nospec.h's evaluate_nospec() puts one on each
 * side).  LFENCE does not let later instructions start before it
 * completes, so code after a mispredicted branch cannot load anything
 * before the branch resolves.  why only tells the two sides' asm apart,
 * so that the compiler does not merge them into one barrier ahead of the
 * branch, which would protect nothing.
 *
 * `spec-ctrl=branch-harden=0` must remove the cost, and Mica has no
 * alternatives patching: each LFENCE (3 bytes) is listed in section
 * __nospec_sites and replaced at boot by a 3-byte NOP (spec_ctrl.c), on
 * the boot CPU before the others start and before any guest exists.  A
 * run-time flag tested here would add a branch of its own to every site;
 * patching leaves either the barrier or nothing.  The .balign 4 (NOP
 * padding, executed) keeps each site inside one aligned 4-byte word so
 * that a single aligned store patches it: an NMI during the patching sees
 * the LFENCE or the NOP, never half of each.
 */
#ifdef MICA_HOST_TEST
/* Host unit tests patch nothing: a site list would only be a text relocation there. */
#define ARCH_NOSPEC_BARRIER(why) __asm__ __volatile__("lfence\t# " why ::: "memory")
#else
#define ARCH_NOSPEC_BARRIER(why)                                             \
    __asm__ __volatile__(".balign 4\n"                                       \
                         "1:\tlfence\t# " why "\n\t"                         \
                         ".pushsection __nospec_sites, \"a\"\n\t"             \
                         ".balign 8\n\t"                                     \
                         ".quad 1b\n\t"                                      \
                         ".popsection"                                       \
                         ::: "memory")
#endif

#endif
