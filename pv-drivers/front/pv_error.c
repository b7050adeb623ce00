/* Error text for the PV front ends (see pv_error.h). */
#include "pv_error.h"

#include <stdarg.h>

int pv_fail(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintk(buf, len, fmt, ap);
    va_end(ap);
    return -1;
}
