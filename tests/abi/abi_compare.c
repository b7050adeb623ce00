/*
 * Differential ABI test: compare the value of every constant, struct size
 * and member offset in Mica's public headers with Xen's.  One result line
 * per item; any difference, or an item present on one side only, fails.
 */
#include <stdio.h>
#include <string.h>

#include "abi_table.h"

static const struct abi_item *find(const struct abi_item *tab, unsigned n,
                                   const char *name)
{
    for (unsigned i = 0; i < n; i++)
        if (tab[i].name && strcmp(tab[i].name, name) == 0)
            return &tab[i];
    return NULL;
}

static void print_name(const char *name)
{
    for (const char *p = name; *p; p++)
        putchar(*p == ' ' ? '_' : *p);
}

/* Returns the number of failures; prints results when `verbose`. */
static unsigned compare(const struct abi_item *ours, unsigned n_ours,
                        const struct abi_item *xen, unsigned n_xen, int verbose)
{
    unsigned failed = 0;

    for (unsigned i = 0; i < n_ours; i++) {
        const struct abi_item *o = &ours[i];
        const struct abi_item *x;

        if (o->problem) {
            failed++;
            if (verbose)
                printf("FAIL: abi/header-rules %s\n", o->problem);
            continue;
        }
        x = find(xen, n_xen, o->name);
        if (!x) {
            failed++;
            if (verbose) {
                printf("FAIL: abi/");
                print_name(o->name);
                printf(" defined by Mica (%#llx) but missing from Xen's table\n",
                       o->value);
            }
        } else if (x->value != o->value) {
            failed++;
            if (verbose) {
                printf("FAIL: abi/");
                print_name(o->name);
                printf(" Mica has %#llx (%llu), Xen has %#llx (%llu)\n",
                       o->value, o->value, x->value, x->value);
            }
        } else if (verbose) {
            printf("PASS: abi/");
            print_name(o->name);
            printf("\n");
        }
    }
    for (unsigned i = 0; i < n_xen; i++) {
        if (xen[i].problem || find(ours, n_ours, xen[i].name))
            continue;
        failed++;
        if (verbose) {
            printf("FAIL: abi/");
            print_name(xen[i].name);
            printf(" in Xen's table (%#llx) but missing from Mica's\n", xen[i].value);
        }
    }
    return failed;
}

/* The comparison must notice a changed value and a missing entry. */
static int self_check(void)
{
    static const struct abi_item a[] = {
        { "const/A", 1, 0 }, { "const/B", 2, 0 }, { "const/C", 3, 0 },
    };
    static const struct abi_item b_same[] = {
        { "const/C", 3, 0 }, { "const/A", 1, 0 }, { "const/B", 2, 0 },
    };
    static const struct abi_item b_diff[] = {
        { "const/A", 1, 0 }, { "const/B", 5, 0 }, { "const/C", 3, 0 },
    };
    static const struct abi_item b_short[] = {
        { "const/A", 1, 0 }, { "const/B", 2, 0 },
    };
    static const struct abi_item b_extra[] = {
        { "const/A", 1, 0 }, { "const/B", 2, 0 }, { "const/C", 3, 0 },
        { "const/D", 4, 0 },
    };
    static const struct abi_item a_problem[] = {
        { "const/A", 1, 0 }, { "header-rules", 0, "struct x has no size" },
    };
    return compare(a, 3, b_same, 3, 0) == 0 &&
           compare(a, 3, b_diff, 3, 0) == 1 &&
           compare(a, 3, b_short, 2, 0) == 1 &&
           compare(a, 3, b_extra, 4, 0) == 1 &&
           compare(a_problem, 2, a, 3, 0) == 3;
}

int main(void)
{
    unsigned failed;

    if (self_check()) {
        printf("PASS: abi/self-check-detects-differences\n");
    } else {
        printf("FAIL: abi/self-check-detects-differences the comparison missed a planted difference\n");
        return 1;
    }
    /* Both tables come from one list; a near-empty list means the
     * generator found nothing, which must not pass quietly. */
    if (abi_xen_count < 500) {
        printf("FAIL: abi/table-size only %u items listed from the headers\n",
               abi_xen_count);
        return 1;
    }
    failed = compare(abi_ours_items, abi_ours_count, abi_xen_items, abi_xen_count, 1);
    fprintf(stderr, "%u items compared, %u differences\n", abi_ours_count, failed);
    return failed ? 1 : 0;
}
