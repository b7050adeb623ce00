/*
 * A small xenstore client for dom0 tools (vmctl, the console daemon):
 * one unix-socket connection to xenstored, requests answered in order,
 * watch events that arrive in between kept for mica_xs_event().
 *
 * Every call returns 0 (or a count) or -errno; an error reply from the
 * daemon arrives as the errno it names (xenstore_wire.h's table).
 */
#ifndef MICA_XS_H
#define MICA_XS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MICA_XS_DEFAULT_PATH "/var/run/xenstored/socket"

struct mica_xs_event;

struct mica_xs {
    int fd;
    uint32_t next_req;
    struct mica_xs_event *events, **events_tail;
};

/* The socket libxenstore would use: $XENSTORED_PATH, else
 * $XENSTORED_RUNDIR/socket, else MICA_XS_DEFAULT_PATH. */
const char *mica_xs_socket_path(void);

/* path NULL: mica_xs_socket_path(). */
int mica_xs_open(struct mica_xs *xs, const char *path);
void mica_xs_close(struct mica_xs *xs);

/* One request; payload is the whole body.  On success *reply (if asked
 * for) is a malloc'd, NUL-terminated copy of the reply body. */
int mica_xs_request(struct mica_xs *xs, uint32_t type, uint32_t tx, const void *payload,
                    size_t len, char **reply, size_t *reply_len);

int mica_xs_read(struct mica_xs *xs, uint32_t tx, const char *path, char **value);
int mica_xs_write(struct mica_xs *xs, uint32_t tx, const char *path, const char *value);
int mica_xs_mkdir(struct mica_xs *xs, uint32_t tx, const char *path);
int mica_xs_rm(struct mica_xs *xs, uint32_t tx, const char *path);
/* perms: permission strings ("n0", "r5"), the first naming the owner. */
int mica_xs_set_perms(struct mica_xs *xs, uint32_t tx, const char *path,
                      const char *const *perms, size_t n);
/* Child names, NUL-separated in *names (malloc'd); count or -errno. */
int mica_xs_directory(struct mica_xs *xs, uint32_t tx, const char *path, char **names,
                      size_t *len);
int mica_xs_tx_start(struct mica_xs *xs, uint32_t *tx);
/* commit false: abort.  -EAGAIN: a conflict, nothing applied. */
int mica_xs_tx_end(struct mica_xs *xs, uint32_t tx, bool commit);

int mica_xs_introduce(struct mica_xs *xs, uint32_t domid, uint64_t mfn, uint32_t port);
int mica_xs_release(struct mica_xs *xs, uint32_t domid);
/* 1 introduced, 0 not, or -errno. */
int mica_xs_is_introduced(struct mica_xs *xs, uint32_t domid);

int mica_xs_watch(struct mica_xs *xs, const char *path, const char *token);
/* Removes the watch set with the same path and token; -ENOENT if none. */
int mica_xs_unwatch(struct mica_xs *xs, const char *path, const char *token);

/* The next watch event: one kept from earlier, else one read from the
 * socket if wait is true or bytes are ready.  1 with *path and *token
 * malloc'd, 0 if none is ready, -errno (-EPIPE: xenstored went away). */
int mica_xs_event(struct mica_xs *xs, bool wait, char **path, char **token);
/* Whether an event is already kept (poll the fd only if not). */
bool mica_xs_event_pending(const struct mica_xs *xs);

#endif
