/*
 * The `spec-ctrl=` option (Xen 4.17's x86 spelling): the thunk choice,
 * the PV RSB overwrite, branch hardening, the global negatives, Xen's
 * items Mica ignores,
 * and bad input leaving the settings as they were.
 * unit-sources: hypervisor/arch/x86/spec_opts.c hypervisor/common/cmdline.c tests/unit/log_capture.c
 */
#define UNIT_SUITE "spec_opts"
#include "unit.h"

#include <mica/lib.h>
#include <asm/spec_opts.h>

static char err[128];

static struct spec_opts fresh(void)
{
    struct spec_opts o = { .thunk = BTI_THUNK_DEFAULT, .rsb_pv = -1, .branch_harden = -1 };
    return o;
}

static int parse(const char *v, struct spec_opts *o)
{
    err[0] = '\0';
    return spec_opts_parse(v, o, err, sizeof(err));
}

UNIT_TEST(bti_thunk)
{
    struct spec_opts o = fresh();

    CHECK_EQ(parse("bti-thunk=lfence", &o), 0);
    CHECK_EQ(o.thunk, BTI_THUNK_LFENCE);
    CHECK_EQ(o.rsb_pv, -1);
    CHECK_EQ(parse("bti-thunk=jmp", &o), 0);
    CHECK_EQ(o.thunk, BTI_THUNK_JMP);
    CHECK_EQ(parse("bti-thunk=retpoline", &o), 0);
    CHECK_EQ(o.thunk, BTI_THUNK_RETPOLINE);
    CHECK(!strcmp(bti_thunk_name(BTI_THUNK_LFENCE), "LFENCE"));
    CHECK(!strcmp(bti_thunk_name(BTI_THUNK_RETPOLINE), "RETPOLINE"));
    CHECK(!strcmp(bti_thunk_name(BTI_THUNK_JMP), "JMP"));
}

UNIT_TEST(rsb_spellings)
{
    static const struct { const char *v; int rsb_pv; } cases[] = {
        { "rsb=0", 0 }, { "rsb", 1 }, { "no-rsb", 0 }, { "rsb=pv=on", 1 },
        { "no-pv", 0 }, { "pv=yes", 1 },
    };
    struct spec_opts o = fresh();

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        CHECK_EQ(parse(cases[i].v, &o), 0);
        CHECK_EQ(o.rsb_pv, cases[i].rsb_pv);
    }
    /* HVM's half changes nothing (no HVM guests) and is reported. */
    CHECK_EQ(parse("rsb=hvm=0", &o), 0);
    CHECK_EQ(o.rsb_pv, 1);
    CHECK(!strcmp(o.ignored, "rsb=hvm=0"));
    CHECK_EQ(o.thunk, BTI_THUNK_DEFAULT);
}

UNIT_TEST(branch_harden)
{
    static const struct { const char *v; int bh; } cases[] = {
        { "branch-harden=0", 0 }, { "branch-harden", 1 }, { "no-branch-harden", 0 },
        { "branch-harden=on", 1 }, { "branch-harden=false", 0 }, { "branch-harden=yes", 1 },
    };
    struct spec_opts o = fresh();

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        CHECK_EQ(parse(cases[i].v, &o), 0);
        CHECK_EQ(o.branch_harden, cases[i].bh);
    }
    /* Its own setting only: not ignored, the thunk and RSB untouched. */
    CHECK_EQ(o.thunk, BTI_THUNK_DEFAULT);
    CHECK_EQ(o.rsb_pv, -1);
    CHECK(!strcmp(o.ignored, ""));
    CHECK_EQ(parse("branch-harden=maybe", &o), -1);
    CHECK_STR(err, "branch-harden=maybe");
    CHECK_EQ(parse("no-branch-harden=1", &o), -1);
    CHECK_EQ(parse("branch-hardenx", &o), -1);
    CHECK_EQ(o.branch_harden, 1);
}

UNIT_TEST(global_negatives)
{
    struct spec_opts o = fresh();

    CHECK_EQ(parse("no", &o), 0);
    CHECK_EQ(o.thunk, BTI_THUNK_JMP);
    CHECK_EQ(o.rsb_pv, 0);
    CHECK_EQ(o.branch_harden, 0);
    CHECK(o.all_off);
    o = fresh();
    CHECK_EQ(parse("no-xen", &o), 0);
    CHECK_EQ(o.thunk, BTI_THUNK_JMP);
    CHECK_EQ(o.rsb_pv, 0);
    CHECK_EQ(o.branch_harden, 0);
    CHECK(!o.all_off);
    o = fresh();
    CHECK_EQ(parse("no,branch-harden", &o), 0);     /* as on Xen: later items win */
    CHECK_EQ(o.branch_harden, 1);
    o = fresh();
    CHECK_EQ(parse("xen=0,rsb", &o), 0);            /* later items win */
    CHECK_EQ(o.thunk, BTI_THUNK_JMP);
    CHECK_EQ(o.rsb_pv, 1);
    /* Positive global booleans are invalid, as on Xen. */
    CHECK_EQ(parse("yes", &o), -1);
    CHECK_STR(err, "negative");
    CHECK_EQ(parse("xen", &o), -1);
    CHECK_EQ(parse("xen=1", &o), -1);
}

/* The parity options bench/guest_bench.py gives Xen: Mica's share applies. */
UNIT_TEST(xen_items_ignored)
{
    struct spec_opts o = fresh();

    CHECK_EQ(parse("msr-sc=0,verw=0,ibpb-entry=0,bhb-entry=0,ibrs=0,ibpb=0,rsb=pv=1,bti-thunk=lfence", &o), 0);
    CHECK_EQ(o.thunk, BTI_THUNK_LFENCE);
    CHECK_EQ(o.rsb_pv, 1);
    CHECK(!strcmp(o.ignored, "msr-sc=0,verw=0,ibpb-entry=0,bhb-entry=0,ibrs=0,ibpb=0"));
    CHECK_EQ(parse("ssbd=0,psfd=0,branch-harden=1,gds-mit=0,div-scrub=0,bhi-dis-s=0,bp-spec-reduce=0,eager-fpu=1", &o), 0);
    CHECK_STR(o.ignored, "ibpb=0,ssbd=0,psfd=0,gds-mit=0");
    CHECK(!strstr(o.ignored, "branch-harden"));
    CHECK_EQ(o.branch_harden, 1);
    CHECK(strlen(o.ignored) < sizeof(o.ignored));
}

UNIT_TEST(bad_input_changes_nothing)
{
    struct spec_opts o = fresh(), before;

    CHECK_EQ(parse("rsb=0,bti-thunk=lfence", &o), 0);
    before = o;
    CHECK_EQ(parse("bti-thunk=jmp,bti-thunk=retpolin", &o), -1);
    CHECK_STR(err, "retpolin");
    CHECK_EQ(parse("rsb=1,bogus=1", &o), -1);
    CHECK_STR(err, "bogus");
    CHECK_EQ(parse("rsb=maybe", &o), -1);
    CHECK_EQ(parse("rsb=pv=maybe", &o), -1);
    CHECK_EQ(parse("no-rsb=1", &o), -1);
    CHECK_EQ(parse("rsbx", &o), -1);
    CHECK_EQ(parse("ibpbx=0", &o), -1);            /* not Xen's either */
    CHECK_EQ(parse("", &o), -1);
    CHECK_EQ(parse(NULL, &o), -1);
    CHECK_EQ(parse("bti-thunk=lfence,rsb=1xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", &o), -1);
    CHECK(!memcmp(&o, &before, sizeof(o)));
    CHECK_EQ(o.thunk, BTI_THUNK_LFENCE);
    CHECK_EQ(o.rsb_pv, 0);
    /* Empty items are nothing, as on Xen. */
    CHECK_EQ(parse(",,bti-thunk=jmp,", &o), 0);
    CHECK_EQ(o.thunk, BTI_THUNK_JMP);
}

UNIT_MAIN()
