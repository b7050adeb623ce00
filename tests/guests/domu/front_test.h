/*
 * What the front-end test kernels of tests/guests/domu share: PASS/FAIL
 * lines named pvfront-<mode>-<step>, the mode from the command line, and
 * the two ways to end: power off when every check passed, crash when one
 * failed (or when the mode crashes on purpose), so that dom0 reads the
 * outcome from vmctl's monitor log.
 */
#ifndef MICA_DOMU_FRONT_TEST_H
#define MICA_DOMU_FRONT_TEST_H

#include "guest.h"

static char mode[16];

static void result(bool ok, const char *step, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void result(bool ok, const char *step, const char *fmt, ...)
{
    char msg[200];
    va_list ap;

    va_start(ap, fmt);
    vsnprintk(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    printk("%s: pvfront-%s-%s: %s\n", ok ? "PASS" : "FAIL", mode, step, msg);
    if (!ok)
        check_failures++;
}

/* The word after key= on the command line into buf ("" if absent). */
static void cmdline_word(const char *key, char *buf, size_t len)
{
    const char *m = strstr(start_info->cmd_line, key);
    size_t i = 0;

    if (m)
        for (m += strlen(key); *m && *m != ' ' && i + 1 < len; m++)
            buf[i++] = *m;
    buf[i] = 0;
}

static void __attribute__((noreturn)) crash_now(void)
{
    struct sched_shutdown sd = { .reason = SHUTDOWN_crash };

    printk("Test result: %s\n", check_failures ? "FAILURE" : "SUCCESS");
    HYPERVISOR_sched_op(SCHEDOP_shutdown, &sd);
    error_exit("SCHEDOP_shutdown(crash) returned");
}

/* Powers off if every check passed, crashes otherwise. */
static void __attribute__((noreturn)) front_test_end(void)
{
    if (check_failures)
        crash_now();
    finish(RESULT_SUCCESS);
}

/* Traps and events (upcalls stay masked: the front ends poll), and the mode. */
static void front_test_start(void)
{
    REQUIRE_EQ(traps_install(), 0);
    REQUIRE_EQ(events_init(), 0);
    cmdline_word("mode=", mode, sizeof(mode));
    if (!mode[0])
        error_exit("no mode= on the command line \"%s\"", start_info->cmd_line);
}

#endif
