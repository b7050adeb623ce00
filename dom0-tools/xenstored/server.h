/* The unix-socket front end: dom0 tools connect here and are treated as
 * privileged dom0 clients. */
#ifndef XS_SERVER_H
#define XS_SERVER_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "daemon.h"

/* Binds and listens at path.  The socket is bound under a temporary name
 * and renamed into place, so a client that sees the path can connect.
 * A stale socket nobody listens on is replaced; a live one is an error.
 * Returns the listening fd, or -1 with a reason. */
int xs_server_listen(const char *path, char *why, size_t whysz);

/* Is a daemon answering at path (a second xenstored must not start)? */
bool xs_server_answering(const char *path);

/* Creates the directories above path (mode 0755) that are missing, as a
 * missing /var/run/xenstored must not stop the daemon.  -1 with a reason. */
int xs_server_make_parent(const char *path, char *why, size_t whysz);

/* Serves until *stop becomes non-zero (set from a signal handler; the
 * handled signals must be blocked by the caller, they are only let in
 * while waiting).  Returns 0, or -1 on a fatal error. */
struct xs_server_hook {
    int fd;                          /* polled for input; -1: none */
    void (*ready)(void *ctx);        /* fd is readable */
    void (*after)(void *ctx);        /* after every round of work */
    void *ctx;
};

/* hook (may be NULL): the domain transport's event fd and pump. */
int xs_server_run(struct xs_daemon *d, int listen_fd, volatile sig_atomic_t *stop,
                  const sigset_t *wait_mask, const struct xs_server_hook *hook);

#endif
