/*
 * Errors in Mica's PV front ends: each keeps its last error as text in a
 * buffer of its own, which the test kernel prints when a call fails.
 */
#ifndef MICA_PV_ERROR_H
#define MICA_PV_ERROR_H

#include "guest.h"

/* Formats into buf (truncated to len) and returns -1, for `return fail(...)`. */
int pv_fail(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
