/*
 * The guest console's thresholds and rate limit (mica/console_limit.h).
 * Pure logic: the caller brings the time and holds whatever lock guards
 * the bucket.
 */
#include <mica/console_limit.h>
#include <mica/lib.h>

static const char *const thresh_names[] = { "none", "error", "warning", "info", "all" };

const char *loglvl_thresh_name(u8 thresh)
{
    return thresh < ARRAY_SIZE(thresh_names) ? thresh_names[thresh] : "?";
}

/* One level word at *s; advances *s past it.  Unknown: warning, *s unmoved. */
static u8 parse_level(const char **s)
{
    static const struct { const char *word; u8 thresh; } words[] = {
        { "none", 0 }, { "error", 1 }, { "warning", 2 }, { "info", 3 },
        { "debug", 4 }, { "all", 4 },
    };

    for (unsigned i = 0; i < ARRAY_SIZE(words); i++) {
        size_t n = strlen(words[i].word);
        if (!strncmp(*s, words[i].word, n)) {
            *s += n;
            return words[i].thresh;
        }
    }
    return 2;
}

int loglvl_thresh_parse(const char *s, struct loglvl_thresh *t)
{
    if (!s)
        return -1;
    t->lower = t->upper = parse_level(&s);
    if (*s == '/') {
        s++;
        t->upper = parse_level(&s);
    }
    if (t->upper < t->lower)
        t->upper = t->lower;
    return *s ? -1 : 0;
}

enum line_verdict line_bucket_check(struct line_bucket *b, const struct loglvl_thresh *t,
                                    unsigned level, u64 now_ms, u32 interval_ms, u32 burst,
                                    u64 *lost)
{
    u64 cap = (u64)interval_ms * burst;

    *lost = 0;
    if (level >= t->upper)
        return LINE_NEVER;
    if (level >= t->lower) {
        if (!b->started) {
            b->started = true;
            b->tokens_ms = cap;
            b->last_ms = now_ms;
        } else if (now_ms > b->last_ms) {       /* an earlier time adds nothing */
            b->tokens_ms += now_ms - b->last_ms;
            b->last_ms = now_ms;
        }
        if (b->tokens_ms > cap)
            b->tokens_ms = cap;
        if (b->tokens_ms < interval_ms) {
            b->suppressed++;
            return LINE_DROP;
        }
        b->tokens_ms -= interval_ms;
    }
    *lost = b->suppressed;
    b->suppressed = 0;
    return LINE_PRINT;
}
