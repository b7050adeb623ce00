/*
 * Start of day and end of a test: the C entry from head.S, the result
 * line and the power-off request that must follow it.
 */
#include "guest.h"

struct boot_regs boot_regs;
struct start_info *start_info;
unsigned check_failures;

static const char *const result_names[] = {
    [RESULT_SUCCESS] = "SUCCESS",
    [RESULT_FAILURE] = "FAILURE",
    [RESULT_SKIP] = "SKIP",
    [RESULT_ERROR] = "ERROR",
};

void check_failed(const char *file, int line, const char *fmt, ...)
{
    static char msg[400];
    va_list ap;

    va_start(ap, fmt);
    vsnprintk(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    check_failures++;
    printk("check failed at %s:%d: %s\n", file, line, msg);
}

void finish(enum result r)
{
    struct sched_shutdown sd = { .reason = SHUTDOWN_poweroff };

    if (r == RESULT_SUCCESS && check_failures)
        r = RESULT_FAILURE;
    printk("Test result: %s\n", result_names[r]);
    HYPERVISOR_sched_op(SCHEDOP_shutdown, &sd);
    /*
     * Still here: the shutdown was refused.  Say so (after the result line,
     * so the runner sees both) and stay put rather than run on.
     */
    printk("sched_op(SCHEDOP_shutdown) returned\n");
    for (;;)
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
}

void error_exit(const char *fmt, ...)
{
    static char msg[400];
    va_list ap;

    va_start(ap, fmt);
    vsnprintk(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    printk("error: %s\n", msg);
    finish(RESULT_ERROR);
}

void guest_start(struct start_info *si);
void guest_start(struct start_info *si)
{
    start_info = si;
    printk("test kernel: start_info at %p, command line \"%s\"\n", (void *)si,
           si->cmd_line);
    finish(test_main());
}
