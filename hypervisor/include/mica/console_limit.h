/*
 * How much of an unprivileged domain's console_io output reaches Mica's
 * console (common/console_limit.c, docs/hypercalls.md "console_io").
 *
 * Xen 4.17's model: every message has a level and a class (Xen's own, or
 * guest-provoked); per class two thresholds decide.  A message of level L
 * is always printed when L < lower, printed subject to a rate limit when
 * lower <= L < upper, and dropped otherwise.  A domU's console_io line is
 * a guest-class debug message (Xen's XENLOG_G_DEBUG).  `guest_loglvl=`
 * sets the guest class's thresholds with Xen's syntax.
 *
 * The rate limit is Xen's token bucket (printk_ratelimit: tokens are
 * milliseconds, a message costs `interval_ms`, at most `burst` messages'
 * worth are saved up), kept per domain rather than once for the whole
 * host, so a domain that floods spends its own budget only.
 */
#ifndef MICA_CONSOLE_LIMIT_H
#define MICA_CONSOLE_LIMIT_H

#include <mica/types.h>

/* Thresholds as Xen numbers them: none 0, error 1, warning 2, info 3, debug/all 4. */
#define LOGLVL_THRESH_ALL   4
/* Levels of messages: error 0, warning 1, info 2, debug 3. */
#define GUEST_CONSOLE_LEVEL 3

struct loglvl_thresh {
    u8 lower, upper;
};

/*
 * `<level>[/<rate-limited level>]` with level none, error, warning, info,
 * debug or all; as Xen, an unknown word counts as warning, an upper below
 * the lower is raised to it.  Returns 0, or -1 when anything follows the
 * levels (the thresholds are still set from what was read, as on Xen).
 */
int loglvl_thresh_parse(const char *s, struct loglvl_thresh *t);

/* "none/warning" style, for the boot log. */
const char *loglvl_thresh_name(u8 thresh);

struct line_bucket {
    u64 tokens_ms;          /* saved-up budget, in milliseconds */
    u64 last_ms;            /* when tokens_ms was last brought up to date */
    u64 suppressed;         /* lines dropped since the last one printed */
    bool started;           /* false: full budget at the first line */
};

enum line_verdict {
    LINE_PRINT,             /* print it (after reporting `*lost` dropped lines, if any) */
    LINE_DROP,              /* rate limit: drop it, counted in suppressed */
    LINE_NEVER,             /* above the upper threshold: dropped, not counted */
};

/*
 * Decide on one line of level `level` at time `now_ms`.  On LINE_PRINT,
 * `*lost` is the number of lines the rate limit dropped since the last
 * printed one (then reset).  `burst` >= 1.
 */
enum line_verdict line_bucket_check(struct line_bucket *b, const struct loglvl_thresh *t,
                                    unsigned level, u64 now_ms, u32 interval_ms, u32 burst,
                                    u64 *lost);

#endif
