/*
 * The guest console's thresholds (`guest_loglvl=`, Xen 4.17's syntax and
 * meaning) and its per-domain rate limit (Xen's printk_ratelimit bucket).
 * unit-sources: hypervisor/common/console_limit.c
 */
#define UNIT_SUITE "console_limit"
#include "unit.h"

#include <mica/console_limit.h>

static struct loglvl_thresh parsed(const char *s, int *rc)
{
    struct loglvl_thresh t = { 9, 9 };
    *rc = loglvl_thresh_parse(s, &t);
    return t;
}

UNIT_TEST(parse_xen_syntax)
{
    int rc;
    struct loglvl_thresh t = parsed("all", &rc);
    CHECK_EQ(rc, 0);
    CHECK_EQ(t.lower, 4);
    CHECK_EQ(t.upper, 4);
    t = parsed("none/warning", &rc);            /* Xen's release default */
    CHECK_EQ(rc, 0);
    CHECK_EQ(t.lower, 0);
    CHECK_EQ(t.upper, 2);
    t = parsed("info/debug", &rc);
    CHECK_EQ(rc, 0);
    CHECK_EQ(t.lower, 3);
    CHECK_EQ(t.upper, 4);
    t = parsed("error/none", &rc);              /* upper raised to lower */
    CHECK_EQ(rc, 0);
    CHECK_EQ(t.lower, 1);
    CHECK_EQ(t.upper, 1);
    t = parsed("bogus", &rc);                   /* Xen: warning, and trailing text refused */
    CHECK_EQ(rc, -1);
    CHECK_EQ(t.lower, 2);
    t = parsed("info/allx", &rc);
    CHECK_EQ(rc, -1);
    t = parsed("", &rc);
    CHECK_EQ(rc, 0);                            /* Xen: empty is warning */
    CHECK_EQ(t.lower, 2);
    CHECK_EQ(loglvl_thresh_parse(NULL, &t), -1);
    CHECK(!strcmp(loglvl_thresh_name(0), "none"));
    CHECK(!strcmp(loglvl_thresh_name(4), "all"));
}

UNIT_TEST(thresholds_decide_before_the_bucket)
{
    struct line_bucket b = { 0 };
    struct loglvl_thresh all = { 4, 4 }, none = { 0, 2 }, limited = { 0, 4 };
    u64 lost;

    for (int i = 0; i < 1000; i++)
        CHECK_EQ(line_bucket_check(&b, &all, GUEST_CONSOLE_LEVEL, 0, 100, 5, &lost), LINE_PRINT);
    CHECK_EQ(line_bucket_check(&b, &none, GUEST_CONSOLE_LEVEL, 0, 100, 5, &lost), LINE_NEVER);
    CHECK_EQ(b.suppressed, 0u);
    CHECK_EQ(line_bucket_check(&b, &limited, GUEST_CONSOLE_LEVEL, 0, 100, 5, &lost), LINE_PRINT);
}

UNIT_TEST(burst_then_one_per_interval)
{
    struct line_bucket b = { 0 };
    struct loglvl_thresh t = { 0, 4 };
    u64 lost, now = 123456, printed = 0;

    /* A fresh bucket holds a full burst. */
    for (int i = 0; i < 5; i++)
        CHECK_EQ(line_bucket_check(&b, &t, 3, now, 100, 5, &lost), LINE_PRINT);
    for (int i = 0; i < 7; i++)
        CHECK_EQ(line_bucket_check(&b, &t, 3, now, 100, 5, &lost), LINE_DROP);
    CHECK_EQ(b.suppressed, 7u);
    /* 99 ms later: still nothing; at 100 ms one line, reporting the 8 lost. */
    CHECK_EQ(line_bucket_check(&b, &t, 3, now + 99, 100, 5, &lost), LINE_DROP);
    CHECK_EQ(line_bucket_check(&b, &t, 3, now + 100, 100, 5, &lost), LINE_PRINT);
    CHECK_EQ(lost, 8u);
    CHECK_EQ(b.suppressed, 0u);
    /* A long silence saves up at most a burst. */
    now += 1000000;
    for (int i = 0; i < 20; i++)
        printed += line_bucket_check(&b, &t, 3, now, 100, 5, &lost) == LINE_PRINT;
    CHECK_EQ(printed, 5u);
    /* Flooding for 10 s prints at most the burst plus one per interval. */
    printed = 0;
    for (u64 ms = 0; ms < 10000; ms++)
        for (int k = 0; k < 3; k++)
            printed += line_bucket_check(&b, &t, 3, now + 1 + ms, 100, 5, &lost) == LINE_PRINT;
    CHECK(printed <= 5 + 10000 / 100 + 1);
    CHECK(printed >= 10000 / 100 - 1);
    /* Time going backwards (another CPU's clock read) adds nothing. */
    struct line_bucket c = { 0 };
    for (int i = 0; i < 5; i++)
        line_bucket_check(&c, &t, 3, 5000, 100, 5, &lost);
    CHECK_EQ(line_bucket_check(&c, &t, 3, 1000, 100, 5, &lost), LINE_DROP);
    CHECK_EQ(line_bucket_check(&c, &t, 3, 5099, 100, 5, &lost), LINE_DROP);
    CHECK_EQ(line_bucket_check(&c, &t, 3, 5100, 100, 5, &lost), LINE_PRINT);
}

UNIT_MAIN()
