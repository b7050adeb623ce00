/*
 * The `xpti=` option (Xen 4.17's syntax: <bool>, dom0=<bool>,
 * domu=<bool>, default, in a comma list applied left to right) and its
 * default: on unless the CPU is not affected by Meltdown (AMD or Hygon,
 * or RDCL_NO) or `spec-ctrl=no` was given; a bad item is left out, the
 * others apply (as Xen).
 * unit-sources: hypervisor/arch/x86/spec_opts.c hypervisor/common/cmdline.c tests/unit/log_capture.c
 */
#define UNIT_SUITE "xpti_opts"
#include "unit.h"

#include <mica/lib.h>
#include <asm/spec_opts.h>

static char err[128];

static int parse(const char *v, int *h, int *u)
{
    err[0] = '\0';
    int rc = xpti_parse_option(v, h, u, err, sizeof(err));
    CHECK(rc == 0 || err[0]);
    return rc;
}

UNIT_TEST(booleans)
{
    static const struct { const char *v; int h, u; } cases[] = {
        { "1", 1, 1 }, { "0", 0, 0 }, { "on", 1, 1 }, { "no", 0, 0 }, { "true", 1, 1 },
        { "false", 0, 0 }, { "enable", 1, 1 }, { "disable", 0, 0 }, { "yes", 1, 1 }, { "off", 0, 0 },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int h = -1, u = -1;

        CHECK_EQ(parse(cases[i].v, &h, &u), 0);
        CHECK_EQ(h, cases[i].h);
        CHECK_EQ(u, cases[i].u);
    }
}

/* A bare `xpti` (no value) or `xpti=` means on, as Xen reads it. */
UNIT_TEST(bare_is_true)
{
    int h = -1, u = 0;

    CHECK_EQ(parse(NULL, &h, &u), 0);
    CHECK(h == 1 && u == 1);
    h = u = 0;
    CHECK_EQ(parse("", &h, &u), 0);
    CHECK(h == 1 && u == 1);
}

UNIT_TEST(per_domain_kind)
{
    int h = -1, u = -1;

    CHECK_EQ(parse("dom0=0,domu=1", &h, &u), 0);
    CHECK(h == 0 && u == 1);
    CHECK_EQ(parse("dom0=on", &h, &u), 0);
    CHECK(h == 1 && u == 1);                    /* only dom0's half changed */
    CHECK_EQ(parse("no-domu", &h, &u), 0);
    CHECK(h == 1 && u == 0);
    CHECK_EQ(parse("domu,no-dom0", &h, &u), 0);
    CHECK(h == 0 && u == 1);
    h = u = -1;
    CHECK_EQ(parse("domu=0", &h, &u), 0);
    CHECK(h == -1 && u == 0);                   /* dom0 keeps its default */
    /* Later items win; `default` returns both to "not given". */
    CHECK_EQ(parse("0,dom0=1", &h, &u), 0);
    CHECK(h == 1 && u == 0);
    CHECK_EQ(parse("1,default", &h, &u), 0);
    CHECK(h == -1 && u == -1);
    CHECK_EQ(parse("default,domu=1", &h, &u), 0);
    CHECK(h == -1 && u == 1);
}

UNIT_TEST(bad_items_left_out)
{
    int h = 0, u = 0;

    /* As Xen 4.17's parse_xpti: the bad item goes, the others apply. */
    CHECK_EQ(parse("dom0=1,bogus", &h, &u), 1);
    CHECK_STR(err, "'bogus' is not");
    CHECK_STR(err, "that item is left out, the option's other items are taken");
    CHECK(h == 1 && u == 0);
    CHECK_EQ(parse("bogus,domu=1,dom0=maybe", &h, &u), 2);
    CHECK_STR(err, "'bogus' is not");
    CHECK_STR(err, "and 1 more bad items");
    CHECK(h == 1 && u == 1);
    h = 1, u = 0;
    CHECK_EQ(parse("dom0=maybe", &h, &u), 1);
    CHECK_STR(err, "no item of this option is taken");
    CHECK_EQ(parse("no-dom0=1", &h, &u), 1);
    CHECK_EQ(parse("domux", &h, &u), 1);
    CHECK_EQ(parse("pcid", &h, &u), 1);          /* Xen's separate `pcid=` option */
    CHECK_EQ(parse("a-very-long-item-that-goes-on-and-on-and-on", &h, &u), 1);
    CHECK_STR(err, "'a-very-long-item-that-go...' is not");
    CHECK(h == 1 && u == 0);
    CHECK_EQ(parse("a-very-long-item-that-goes-on-and-on-and-on,no-dom0", &h, &u), 1);
    CHECK(h == 0 && u == 0);
}

/* pv-l1tf shares the list syntax, but `default` is xpti's alone (as on Xen). */
UNIT_TEST(default_only_for_xpti)
{
    int h = 0, u = 0;

    CHECK_EQ(spec_dom_list_parse("default", false, &h, &u, err, sizeof(err)), 1);
    CHECK(h == 0 && u == 0);
    CHECK_EQ(spec_dom_list_parse("default", true, &h, &u, err, sizeof(err)), 0);
    CHECK(h == -1 && u == -1);
}

UNIT_TEST(defaults)
{
    int h, u;

    /* Intel without RDCL_NO: affected, both on. */
    h = u = -1;
    xpti_resolve_default(false, false, false, &h, &u);
    CHECK(h == 1 && u == 1);
    /* AMD or Hygon (QEMU's TCG model here): not affected, both off. */
    h = u = -1;
    xpti_resolve_default(true, false, false, &h, &u);
    CHECK(h == 0 && u == 0);
    /* RDCL_NO: off. */
    h = u = -1;
    xpti_resolve_default(false, true, false, &h, &u);
    CHECK(h == 0 && u == 0);
    /* spec-ctrl=no turns off what xpti= left to the default only. */
    h = -1, u = 1;
    xpti_resolve_default(false, false, true, &h, &u);
    CHECK(h == 0 && u == 1);
    /* A given value always stands, also on an unaffected CPU. */
    h = 1, u = -1;
    xpti_resolve_default(true, false, false, &h, &u);
    CHECK(h == 1 && u == 0);
}

UNIT_MAIN()
