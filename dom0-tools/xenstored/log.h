/* Diagnostics to stderr; verbose traces every request when enabled. */
#ifndef XS_LOG_H
#define XS_LOG_H

#include <stdbool.h>

extern bool xs_log_verbose;

void xs_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void xs_trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
