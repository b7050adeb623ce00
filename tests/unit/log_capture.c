/* printk() for host unit tests; see log_capture.h. */
#include <stdarg.h>
#include <stdio.h>
#include <mica/lib.h>
#include "log_capture.h"

char logbuf[1 << 16];
unsigned log_errors, log_warnings;
static size_t loglen;

static void logv(const char *fmt, va_list ap)
{
    va_list cp;

    va_copy(cp, ap);
    vfprintf(stderr, fmt, ap);
    if (loglen < sizeof(logbuf) - 1) {
        int n = vsnprintf(logbuf + loglen, sizeof(logbuf) - loglen, fmt, cp);
        if (n > 0)
            loglen = MIN(loglen + (size_t)n, sizeof(logbuf) - 1);
    }
    va_end(cp);
}

void printk(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    logv(fmt, ap);
    va_end(ap);
}

void printk_level(enum log_level level, const char *fmt, ...)
{
    va_list ap;

    if (level == LOG_ERR)
        log_errors++;
    if (level <= LOG_WARN)
        log_warnings++;
    va_start(ap, fmt);
    logv(fmt, ap);
    va_end(ap);
}

void log_clear(void)
{
    loglen = 0;
    logbuf[0] = '\0';
    log_errors = log_warnings = 0;
}
