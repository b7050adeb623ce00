/*
 * The `spec-ctrl=` option (Xen 4.17's x86 spelling): the thunk choice,
 * the PV RSB overwrite, branch hardening, the global negatives, Xen's
 * items Mica ignores, and bad items: left out while the option's other
 * items apply, as Xen 4.17's parse_spec_ctrl, with a message that says so.
 * unit-sources: hypervisor/arch/x86/spec_opts.c hypervisor/common/cmdline.c tests/unit/log_capture.c
 */
#define UNIT_SUITE "spec_opts"
#include "unit.h"
#include "log_capture.h"

#include <mica/lib.h>
#include <mica/param.h>
#include <asm/spec_opts.h>

static char err[PARAM_ERR_LEN];

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
    CHECK_EQ(parse("branch-harden=maybe", &o), 1);
    CHECK_STR(err, "branch-harden=maybe");
    CHECK_EQ(parse("no-branch-harden=1", &o), 1);
    CHECK_EQ(parse("branch-hardenx", &o), 1);
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
    CHECK_EQ(parse("yes", &o), 1);
    CHECK_STR(err, "negative");
    CHECK_EQ(parse("xen", &o), 1);
    CHECK_EQ(parse("xen=1", &o), 1);
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

/* As Xen 4.17: a bad item is left out, the option's other items apply, before and after it. */
UNIT_TEST(bad_item_left_out_others_apply)
{
    struct spec_opts o = fresh();

    CHECK_EQ(parse("rsb=0,bti-thunk=lfence", &o), 0);
    CHECK_EQ(parse("bti-thunk=jmp,bti-thunk=retpolin", &o), 1);
    CHECK_STR(err, "'bti-thunk=retpolin': want bti-thunk=retpoline, lfence or jmp");
    CHECK_STR(err, "that item is left out, the option's other items are taken (as Xen 4.17)");
    CHECK_EQ(o.thunk, BTI_THUNK_JMP);               /* the item before it */
    CHECK_EQ(parse("bogus=1,rsb=1", &o), 1);
    CHECK_STR(err, "'bogus=1' is not an item of spec-ctrl");
    CHECK_EQ(o.rsb_pv, 1);                          /* the item after it */
    CHECK_EQ(parse("branch-harden=0,rsb=maybe,yes,ibrs=0", &o), 2);
    CHECK_STR(err, "'rsb=maybe' is not rsb=<bool>");
    CHECK_STR(err, "and 1 more bad items; those are left out, the option's other items are taken");
    CHECK_EQ(o.branch_harden, 0);
    CHECK_EQ(o.rsb_pv, 1);
    CHECK_STR(o.ignored, "ibrs=0");
    /* An overlong item is a bad item like any other. */
    CHECK_EQ(parse("bti-thunk=lfence,rsb=1xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx,rsb=0", &o), 1);
    CHECK_STR(err, "'rsb=1xxxxxxxxxxxxxxxxxxx...' is not an item of spec-ctrl");
    CHECK_EQ(o.thunk, BTI_THUNK_LFENCE);
    CHECK_EQ(o.rsb_pv, 0);
}

UNIT_TEST(only_bad_items_change_nothing)
{
    struct spec_opts o = fresh(), before;

    CHECK_EQ(parse("rsb=0,bti-thunk=lfence", &o), 0);
    before = o;
    CHECK_EQ(parse("rsb=pv=maybe", &o), 1);
    CHECK_STR(err, "'rsb=pv=maybe' is not rsb=pv=<bool> or rsb=hvm=<bool>; no item of this option is taken");
    CHECK_EQ(parse("no-rsb=1,rsbx,ibpbx=0", &o), 3);   /* ibpbx: not Xen's either */
    CHECK_STR(err, "'no-rsb=1' is not an item of spec-ctrl");
    CHECK_STR(err, "and 2 more bad items");
    CHECK_STR(err, "no item of this option is taken");
    CHECK_EQ(parse("xen", &o), 1);
    CHECK(!memcmp(&o, &before, sizeof(o)));
    /* No value at all is refused outright. */
    CHECK_EQ(parse("", &o), -1);
    CHECK_EQ(parse(NULL, &o), -1);
    CHECK(!memcmp(&o, &before, sizeof(o)));
    /* Empty items are nothing, as on Xen. */
    CHECK_EQ(parse(",,bti-thunk=jmp,", &o), 0);
    CHECK_EQ(o.thunk, BTI_THUNK_JMP);
}

/* The boot log's line: what was left out and what was taken, not "the default". */
static struct spec_opts boot_opts;

static int parse_boot_spec_ctrl(const char *value, char *e, size_t elen)
{
    return spec_opts_parse(value, &boot_opts, e, elen);
}

UNIT_TEST(command_line_message)
{
    static const struct boot_param params[] = {
        { "spec-ctrl", PARAM_CUSTOM, NULL, 0, parse_boot_spec_ctrl },
    };

    boot_opts = fresh();
    log_clear();
    CHECK_EQ(cmdline_parse("spec-ctrl=rsb=0 spec-ctrl=bti-thunk=lfence,bogus,branch-harden=0", params, 1), 1);
    CHECK_EQ(boot_opts.rsb_pv, 0);                  /* the earlier option */
    CHECK_EQ(boot_opts.thunk, BTI_THUNK_LFENCE);    /* before the bad item */
    CHECK_EQ(boot_opts.branch_harden, 0);           /* after it */
    CHECK_STR(logbuf, "command line: option 'spec-ctrl=bti-thunk=lfence,bogus,branch-harden=0': "
                      "'bogus' is not an item of spec-ctrl (Xen 4.17's list); that item is left out, "
                      "the option's other items are taken (as Xen 4.17)\n");
    CHECK(!strstr(logbuf, "default"));
    CHECK(!strstr(logbuf, "ignored"));
    CHECK_EQ(log_errors, 1);
    /* Refused outright: the settings stay as the earlier options left them. */
    log_clear();
    CHECK_EQ(cmdline_parse("spec-ctrl", params, 1), 1);
    CHECK_STR(logbuf, "option 'spec-ctrl': wants a value");
    CHECK_STR(logbuf, "; ignored (the setting stays as it was)\n");
    CHECK_EQ(boot_opts.thunk, BTI_THUNK_LFENCE);
    CHECK_EQ(boot_opts.rsb_pv, 0);
}

UNIT_MAIN()
