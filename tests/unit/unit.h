/*
 * Minimal host unit-test framework for Mica.
 *
 * A test file defines cases with UNIT_TEST(name) and ends with
 * UNIT_MAIN().  Each case prints "PASS: <file>/<case>" or
 * "FAIL: <file>/<case>: <check> at line N", the protocol that
 * scripts/run-tests totals.  A failed check ends its case, not the run.
 */
#ifndef MICA_TESTS_UNIT_H
#define MICA_TESTS_UNIT_H

#include <setjmp.h>
#include <stdio.h>
#include <string.h>

struct unit_case {
    const char *name;
    void (*fn)(void);
};

#define UNIT_MAX_CASES 256
extern struct unit_case unit_cases[UNIT_MAX_CASES];
extern unsigned unit_ncases;
extern jmp_buf unit_abort;
extern const char *unit_failed_check;
extern int unit_failed_line;

#define UNIT_TEST(name)                                                      \
    static void name(void);                                                  \
    __attribute__((constructor)) static void register_##name(void)           \
    {                                                                        \
        if (unit_ncases < UNIT_MAX_CASES)                                    \
            unit_cases[unit_ncases++] = (struct unit_case){ #name, name };   \
    }                                                                        \
    static void name(void)

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            unit_failed_check = #cond;                                       \
            unit_failed_line = __LINE__;                                     \
            longjmp(unit_abort, 1);                                          \
        }                                                                    \
    } while (0)

#define CHECK_EQ(a, b)                                                       \
    do {                                                                     \
        unsigned long long check_a_ = (unsigned long long)(a);               \
        unsigned long long check_b_ = (unsigned long long)(b);               \
        if (check_a_ != check_b_) {                                          \
            fprintf(stderr, "  %s = %#llx, %s = %#llx\n", #a, check_a_, #b,  \
                    check_b_);                                               \
            CHECK((a) == (b));                                               \
        }                                                                    \
    } while (0)

#define CHECK_STR(hay, needle) CHECK(strstr((hay), (needle)) != NULL)

/* Runs one case; a failed CHECK longjmps back here.  Returns 0 if it passed. */
static inline int unit_run_case(const struct unit_case *c)
{
    if (setjmp(unit_abort) == 0) {
        c->fn();
        return 0;
    }
    return 1;
}

#define UNIT_MAIN()                                                          \
    struct unit_case unit_cases[UNIT_MAX_CASES];                             \
    unsigned unit_ncases;                                                    \
    jmp_buf unit_abort;                                                      \
    const char *unit_failed_check;                                           \
    int unit_failed_line;                                                    \
    int main(void)                                                           \
    {                                                                        \
        unsigned failures = 0;                                               \
        for (unsigned i = 0; i < unit_ncases; i++) {                         \
            if (unit_run_case(&unit_cases[i]) == 0) {                        \
                printf("PASS: %s/%s\n", UNIT_SUITE, unit_cases[i].name);     \
            } else {                                                         \
                failures++;                                                  \
                printf("FAIL: %s/%s: %s at line %d\n", UNIT_SUITE,           \
                       unit_cases[i].name, unit_failed_check,                \
                       unit_failed_line);                                    \
            }                                                                \
            fflush(stdout);                                                  \
        }                                                                    \
        return failures ? 1 : 0;                                             \
    }

#endif
