/*
 * L1TF rules for PV page tables: which CPUs are affected and with what
 * safe address, which non-present entries are unsafe, and the pv-l1tf
 * option's syntax (Xen 4.17's).
 * unit-sources: hypervisor/arch/x86/l1tf.c hypervisor/arch/x86/spec_opts.c hypervisor/common/cmdline.c tests/unit/log_capture.c
 */
#define UNIT_SUITE "l1tf"
#include "unit.h"

#include <mica/lib.h>
#include <asm/l1tf.h>

static struct l1tf_state state(bool intel, unsigned family, unsigned model, bool rdcl_no,
                               unsigned paddr, u64 mmap_end)
{
    struct l1tf_cpu c = { intel, family, model, rdcl_no, paddr, mmap_end, false };
    struct l1tf_state s;

    l1tf_compute(&c, &s);
    return s;
}

UNIT_TEST(amd_and_rdcl_no_unaffected)
{
    struct l1tf_state s = state(false, 0x17, 1, false, 48, 0);
    CHECK(!s.affected);
    CHECK_EQ(s.l1d_bits, 48u);
    CHECK_EQ(s.safe_maddr, 3ULL << 46);
    s = state(true, 6, 0x55, true, 46, 0);          /* Skylake X reporting RDCL_NO */
    CHECK(!s.affected);
    s = state(true, 6, 0x5c, false, 39, 0);         /* Goldmont */
    CHECK(!s.affected);
    s = state(true, 6, 0x57, false, 46, 0);         /* Knights Landing */
    CHECK(!s.affected);
}

UNIT_TEST(wider_l1d_makes_past_cpuid_width_safe)
{
    struct l1tf_state s = state(true, 6, 0x9e, false, 39, 0);     /* Kaby Lake desktop */
    CHECK(s.affected);
    CHECK_EQ(s.l1d_bits, 46u);
    CHECK_EQ(s.safe_maddr, 1ULL << 39);
    CHECK_EQ(s.addr_mask, ((1ULL << 46) - 1) & ~0xfffULL);
    s = state(true, 6, 0x2c, false, 40, 0);                       /* Westmere EP */
    CHECK_EQ(s.l1d_bits, 44u);
    CHECK_EQ(s.safe_maddr, 1ULL << 40);
}

UNIT_TEST(same_width_uses_top_quarter_and_memory_map_end)
{
    struct l1tf_state s = state(true, 6, 0x17, false, 38, 0);     /* Penryn */
    CHECK(s.affected);
    CHECK_EQ(s.l1d_bits, 38u);
    CHECK_EQ(s.safe_maddr, 3ULL << 36);
    s = state(true, 6, 0xaa, false, 40, 0);                       /* unknown: assumed affected */
    CHECK(s.affected);
    CHECK_EQ(s.safe_maddr, 3ULL << 38);
    /* QEMU's memory map ends with a reserved range up to 2^40. */
    s = state(false, 0xf, 0x6b, false, 40, 1ULL << 40);
    CHECK_EQ(s.safe_maddr, 1ULL << 40);
    s = state(false, 0xf, 0x6b, false, 40, (3ULL << 38) + 5);     /* rounded up to a page */
    CHECK_EQ(s.safe_maddr, (3ULL << 38) + 0x1000);
}

UNIT_TEST(which_entries_are_unsafe)
{
    struct l1tf_state s = state(true, 6, 0x55, false, 46, 0);     /* L1D 46 = CPUID 46 */
    const u64 rw_us = 0x6, pse = 0x80;

    CHECK(!l1tf_pte_unsafe(&s, 1, 0));
    CHECK(!l1tf_pte_unsafe(&s, 1, rw_us));                         /* frame 0 */
    CHECK(!l1tf_pte_unsafe(&s, 1, pse | rw_us));                   /* PSE means nothing in an L1 */
    CHECK(l1tf_pte_unsafe(&s, 2, pse));                            /* a superpage from frame 0 */
    CHECK(l1tf_pte_unsafe(&s, 4, pse));                            /* an L4 walked as an L3 */
    CHECK(l1tf_pte_unsafe(&s, 1, 0x1000 | rw_us));
    CHECK(l1tf_pte_unsafe(&s, 3, (0x12345ULL << 12) | rw_us));
    CHECK(l1tf_pte_unsafe(&s, 1, ((3ULL << 44) - 0x1000) | rw_us));  /* just below safe */
    CHECK(!l1tf_pte_unsafe(&s, 1, (3ULL << 44) | rw_us));          /* the safe address */
    CHECK(!l1tf_pte_unsafe(&s, 1, ~(0x12345ULL << 12) & 0x000ffffffffff000ULL));  /* Linux's inversion */
    CHECK(!l1tf_pte_unsafe(&s, 1, (1ULL << 51) | rw_us));          /* bits the L1D ignores */
    CHECK(!l1tf_pte_unsafe(&s, 1, 0x1000 | 1));                    /* present: validation's business */
}

static int parse(const char *v, int *h, int *u)
{
    char err[96] = "";
    int rc = l1tf_parse_option(v, h, u, err, sizeof(err));
    CHECK(rc == 0 || err[0]);
    return rc;
}

UNIT_TEST(option_syntax)
{
    int h = -1, u = -1;

    CHECK_EQ(parse(NULL, &h, &u), 0);
    CHECK(h == 1 && u == 1);
    CHECK_EQ(parse("no", &h, &u), 0);
    CHECK(h == 0 && u == 0);
    CHECK_EQ(parse("dom0", &h, &u), 0);
    CHECK(h == 1 && u == 0);
    CHECK_EQ(parse("no-dom0,domu=yes", &h, &u), 0);
    CHECK(h == 0 && u == 1);
    CHECK_EQ(parse("dom0=1,no-domu", &h, &u), 0);
    CHECK(h == 1 && u == 0);
    CHECK_EQ(parse("true,domu=off,", &h, &u), 0);
    CHECK(h == 1 && u == 0);
    /* A bad item is left out, the others apply (Xen's parse_pv_l1tf). */
    CHECK_EQ(parse("no-dom0,bogus,domu", &h, &u), 1);
    CHECK(h == 0 && u == 1);
    h = 1, u = 0;
    CHECK_EQ(parse("dom0=maybe", &h, &u), 1);
    CHECK_EQ(parse("no-dom0=1", &h, &u), 1);
    CHECK_EQ(parse("dom01", &h, &u), 1);
    CHECK_EQ(parse("domu=1xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", &h, &u), 1);
    CHECK(h == 1 && u == 0);
}

UNIT_MAIN()
