/*
 * array_index_nospec(): the masked index is the index when it is in
 * range and 0 when it is not, at every boundary and for every width of
 * index the hypervisor passes it (u32 ports and refs, unsigned vCPU ids,
 * u64 hypercall numbers).  Whether a CPU's speculation obeys the mask is
 * not something a test can see; that the mask is right is.
 * (No sources: the code under test is the header itself.)
 */
#define UNIT_SUITE "nospec"
#include "unit.h"

#include <asm/nospec.h>
#include <mica/nospec.h>

UNIT_TEST(in_range_index_kept)
{
    CHECK_EQ(array_index_nospec(0u, 1u), 0u);
    CHECK_EQ(array_index_nospec(5u, 6u), 5u);
    CHECK_EQ(array_index_nospec(4095u, 4096u), 4095u);
    CHECK_EQ(array_index_nospec((u64)0xfffffffffffffffeULL, (u64)0xffffffffffffffffULL),
             (u64)0xfffffffffffffffeULL);
}

UNIT_TEST(out_of_range_index_becomes_zero)
{
    CHECK_EQ(array_index_nospec(1u, 1u), 0u);
    CHECK_EQ(array_index_nospec(6u, 6u), 0u);
    CHECK_EQ(array_index_nospec(4096u, 4096u), 0u);
    CHECK_EQ(array_index_nospec(0xffffffffu, 4096u), 0u);
    CHECK_EQ(array_index_nospec(7u, 0u), 0u);       /* an empty array */
    CHECK_EQ(array_index_nospec((u64)1 << 63, (u64)64), 0u);
}

UNIT_TEST(width_and_type_kept)
{
    u32 port = 1023;
    u64 nr = 40;
    unsigned vcpu = 31;
    CHECK(sizeof(array_index_nospec(port, 1024u)) == sizeof(u32));
    CHECK_EQ(array_index_nospec(port, 1024u), 1023u);
    CHECK_EQ(array_index_nospec(nr, 41), 40u);
    CHECK_EQ(array_index_nospec(vcpu, 32u), 31u);
    /* A u32 index against a u64 size compares in 64 bits. */
    CHECK_EQ(array_index_nospec(port, (u64)1 << 32), 1023u);
}

/* Every index below a size is kept, every one at or above it dropped. */
UNIT_TEST(exhaustive_small_sizes)
{
    for (u32 size = 0; size < 70; size++)
        for (u32 i = 0; i < 140; i++)
            CHECK_EQ(array_index_nospec(i, size), i < size ? i : 0u);
}

/*
 * Guest pointers (asm/nospec.h, copy_to/from_guest): below the end of
 * Mica's area bit 63 goes, so the area's addresses turn non-canonical and
 * a guest's lower half stays as it is; at and above the end nothing
 * changes.  The end is Mica's (and Xen's) 0xffff880000000000.
 */
#define AREA_START 0xffff800000000000ULL
#define AREA_END   0xffff880000000000ULL

static int canonical(u64 va)
{
    return va < (1ULL << 47) || va >= AREA_START;
}

UNIT_TEST(guest_pointer_lower_half_kept)
{
    CHECK_EQ(arch_guest_va_nospec(0, AREA_END), 0u);
    CHECK_EQ(arch_guest_va_nospec(0x400000, AREA_END), 0x400000u);
    CHECK_EQ(arch_guest_va_nospec((1ULL << 47) - 1, AREA_END), (1ULL << 47) - 1);
}

UNIT_TEST(guest_pointer_above_area_kept)
{
    CHECK_EQ(arch_guest_va_nospec(AREA_END, AREA_END), AREA_END);
    CHECK_EQ(arch_guest_va_nospec(0xffffffff80000000ULL, AREA_END), 0xffffffff80000000ULL);
    CHECK_EQ(arch_guest_va_nospec(~0ULL, AREA_END), ~0ULL);
}

UNIT_TEST(guest_pointer_into_area_made_noncanonical)
{
    const u64 inside[] = { AREA_START, AREA_START + 0x1234000, 0xffff830000000000ULL,
                           AREA_END - 1 };
    for (unsigned i = 0; i < sizeof(inside) / sizeof(inside[0]); i++) {
        u64 masked = arch_guest_va_nospec(inside[i], AREA_END);
        CHECK_EQ(masked, inside[i] & ~(1ULL << 63));
        CHECK(!canonical(masked));
    }
}

UNIT_MAIN()
