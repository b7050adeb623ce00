/*
 * mica-logdirty DOMID [ROUNDS [INTERVAL_MS]]
 *
 * Log-dirty rounds on a running domain, as a live migration's pre-copy
 * runs them (libxc: enable, CLEAN per round, OFF), without copying any
 * page: a test and diagnostic tool for docs/migration.md.  Prints one line
 * per round (dirty pages, faults Mica resolved, bits in the bitmap) and
 * exits 0 when every call succeeded, 1 otherwise.  Log-dirty is turned off
 * at the end whatever happened.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "domctl.h"
#include "domctl_save.h"
#include "privcmd.h"

static void print_usage(FILE *to)
{
    fprintf(to, "usage: mica-logdirty DOMID [ROUNDS [INTERVAL_MS]]\n"
                "  ROUNDS 1-100000 (default 10), INTERVAL_MS 0-60000 (default 100)\n");
}

static void usage(void)
{
    print_usage(stderr);
    exit(2);
}

static long number(const char *s, long lo, long hi, const char *what)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < lo || v > hi) {
        fprintf(stderr, "mica-logdirty: %s '%s' is not a number from %ld to %ld\n", what, s, lo, hi);
        usage();
    }
    return v;
}

static void sleep_ms(long ms)
{
    struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };

    while (nanosleep(&t, &t) && errno == EINTR)
        ;
}

int main(int argc, char **argv)
{
    struct xen_domctl_getdomaininfo info;
    struct xen_domctl_shadow_op_stats st;
    struct mica_hv hv;
    uint64_t pages, total = 0;
    uint8_t *bitmap;
    long domid, rounds = 10, interval = 100;
    int rc, failed = 0;

    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        print_usage(stdout);
        return 0;
    }
    if (argc < 2 || argc > 4)
        usage();
    domid = number(argv[1], 1, 0x7fef, "DOMID");
    if (argc > 2)
        rounds = number(argv[2], 1, 100000, "ROUNDS");
    if (argc > 3)
        interval = number(argv[3], 0, 60000, "INTERVAL_MS");
    if ((rc = mica_hv_open(&hv, NULL))) {
        fprintf(stderr, "mica-logdirty: cannot open privcmd: %s\n", strerror(-rc));
        return 1;
    }
    if ((rc = mica_domain_info(&hv, (uint16_t)domid, &info))) {
        fprintf(stderr, "mica-logdirty: no domain %ld: %s\n", domid, strerror(-rc));
        return 1;
    }
    /* One bit per PFN: the domain's size, with room for ballooned PFNs. */
    pages = (info.max_pages > info.tot_pages ? info.max_pages : info.tot_pages) + 1024;
    bitmap = calloc(1, (pages + 7) / 8);
    if (!bitmap) {
        fprintf(stderr, "mica-logdirty: no memory for a %llu-bit bitmap\n", (unsigned long long)pages);
        return 1;
    }
    /* As libxc: if enabling fails, it may be on already: off, then on again. */
    rc = mica_logdirty(&hv, (uint16_t)domid, XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY, 0, NULL, 0, NULL);
    if (rc) {
        mica_logdirty(&hv, (uint16_t)domid, XEN_DOMCTL_SHADOW_OP_OFF, 0, NULL, 0, NULL);
        rc = mica_logdirty(&hv, (uint16_t)domid, XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY, 0, NULL, 0,
                           NULL);
    }
    if (rc) {
        fprintf(stderr, "mica-logdirty: enabling log-dirty on domain %ld failed: %s\n", domid,
                strerror(-rc));
        return 1;
    }
    rc = mica_logdirty(&hv, (uint16_t)domid, XEN_DOMCTL_SHADOW_OP_CLEAN, 0, bitmap, pages, &st);
    if (rc) {
        fprintf(stderr, "mica-logdirty: first CLEAN failed: %s\n", strerror(-rc));
        failed = 1;
    }
    for (long r = 1; r <= rounds && !failed; r++) {
        uint64_t bits = 0;

        sleep_ms(interval);
        rc = mica_logdirty(&hv, (uint16_t)domid, XEN_DOMCTL_SHADOW_OP_CLEAN,
                           r == rounds ? XEN_DOMCTL_SHADOW_LOGDIRTY_FINAL : 0, bitmap, pages, &st);
        if (rc) {
            fprintf(stderr, "mica-logdirty: CLEAN of round %ld failed: %s\n", r, strerror(-rc));
            failed = 1;
            break;
        }
        for (uint64_t i = 0; i < (pages + 7) / 8; i++)
            bits += (uint64_t)__builtin_popcount(bitmap[i]);
        total += bits;
        printf("mica-logdirty: round %ld: dirty %u, faults %u, bits %llu\n", r, st.dirty_count,
               st.fault_count, (unsigned long long)bits);
        fflush(stdout);
    }
    rc = mica_logdirty(&hv, (uint16_t)domid, XEN_DOMCTL_SHADOW_OP_OFF, 0, NULL, 0, NULL);
    if (rc) {
        fprintf(stderr, "mica-logdirty: OFF failed: %s\n", strerror(-rc));
        failed = 1;
    }
    printf("mica-logdirty: domain %ld: %ld rounds, %llu dirty pages reported in all%s\n", domid,
           rounds, (unsigned long long)total, failed ? ", FAILED" : "");
    free(bitmap);
    mica_hv_close(&hv);
    return failed;
}
