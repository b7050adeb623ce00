/*
 * xenbus client of Mica's PV test kernels: requests over the domain's
 * xenstore ring (start_info's store page and port), one at a time.
 *
 * Paths without a leading '/' are relative to the domain's home
 * (/local/domain/<id>), as the store resolves them.  Watch events that
 * arrive while a reply is awaited are queued (a few) for xs_wait_watch.
 * Any call returns a negative value on failure and leaves the reason in
 * xs_error() (the store's errno name or a description of what went
 * wrong), so a test can print something useful.
 */
#ifndef MICA_PV_XENBUS_CLIENT_H
#define MICA_PV_XENBUS_CLIENT_H

#include "guest.h"

/* Maps the store ring; 0 or negative. */
int xs_init(void);

/* Reads path into buf (NUL-terminated); returns the value's length. */
int xs_read(const char *path, char *buf, size_t len);
/* Reads a decimal number. */
int xs_read_ulong(const char *path, unsigned long *v);
int xs_write(const char *path, const char *value);
int xs_printf(const char *path, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Children of path as NUL-separated names in buf; returns the byte count. */
int xs_directory(const char *path, char *buf, size_t len);
int xs_watch(const char *path, const char *token);
int xs_unwatch(const char *path, const char *token);
/* Waits until a watch event with this token arrives (or was queued). */
int xs_wait_watch(const char *token, uint64_t deadline);
/* Waits until the decimal number at path equals want (watching it). */
int xs_wait_ulong(const char *path, unsigned long want, uint64_t deadline);

const char *xs_error(void);

#endif
