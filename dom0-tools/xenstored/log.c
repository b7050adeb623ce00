#include "log.h"

#include <stdarg.h>
#include <stdio.h>

bool xs_log_verbose;

static void emit(const char *fmt, va_list ap)
{
    fputs("xenstored: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void xs_log(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit(fmt, ap);
    va_end(ap);
}

void xs_trace(const char *fmt, ...)
{
    if (!xs_log_verbose)
        return;
    va_list ap;
    va_start(ap, fmt);
    emit(fmt, ap);
    va_end(ap);
}
