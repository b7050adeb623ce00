/*
 * Small file-descriptor helpers that vmctl's commands share: a monotonic
 * clock in seconds, writing a whole buffer, and reading one line of a
 * line-based protocol (migrate's control channel, copy-storage's legs)
 * without taking anything past it.
 */
#ifndef VMCTL_FDIO_H
#define VMCTL_FDIO_H

#include <stdbool.h>
#include <stddef.h>

/* CLOCK_MONOTONIC in seconds. */
double fdio_now_s(void);

/* All of buf, through EINTR and short writes: 0, or -1 with errno set
   (EIO when the descriptor takes nothing). */
int fdio_write_all(int fd, const void *buf, size_t len);

/* One line from fd, read a byte at a time so that nothing past it is
   taken, within timeout_s; the newline is dropped and buf always ends
   with a NUL.  1: a line; 0: end of file, or the time-out (then
   *timed_out is set, when timed_out is not NULL), or the line did not
   fit; -1: poll failed (errno). */
int fdio_read_line(int fd, char *buf, size_t len, int timeout_s, bool *timed_out);

#endif
