/* xenstore client over the daemon's unix socket (see xs.h). */
#include "xs.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "xenstore_wire.h"

struct mica_xs_event {
    char *path, *token;
    struct mica_xs_event *next;
};

const char *mica_xs_socket_path(void)
{
    static char buf[512];
    const char *p = getenv("XENSTORED_PATH");
    if (p && *p)
        return p;
    p = getenv("XENSTORED_RUNDIR");
    if (p && *p && snprintf(buf, sizeof(buf), "%s/socket", p) < (int)sizeof(buf))
        return buf;
    return MICA_XS_DEFAULT_PATH;
}

int mica_xs_open(struct mica_xs *xs, const char *path)
{
    struct sockaddr_un a;

    memset(xs, 0, sizeof(*xs));
    xs->fd = -1;
    xs->events_tail = &xs->events;
    if (!path)
        path = mica_xs_socket_path();
    memset(&a, 0, sizeof(a));
    a.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(a.sun_path))
        return -ENAMETOOLONG;
    strcpy(a.sun_path, path);
    xs->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (xs->fd < 0)
        return -errno;
    if (connect(xs->fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        int e = errno;
        close(xs->fd);
        xs->fd = -1;
        return -e;
    }
    xs->next_req = 1;
    return 0;
}

void mica_xs_close(struct mica_xs *xs)
{
    while (xs->events) {
        struct mica_xs_event *e = xs->events;
        xs->events = e->next;
        free(e->path);
        free(e->token);
        free(e);
    }
    xs->events_tail = &xs->events;
    if (xs->fd >= 0)
        close(xs->fd);
    xs->fd = -1;
}

static int send_all(int fd, const void *p, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno == ECONNRESET ? -EPIPE : -errno;
        }
        p = (const char *)p + n;
        len -= (size_t)n;
    }
    return 0;
}

static int recv_all(int fd, void *p, size_t len)
{
    while (len > 0) {
        ssize_t n = recv(fd, p, len, 0);
        if (n == 0)
            return -EPIPE;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno == ECONNRESET ? -EPIPE : -errno;
        }
        p = (char *)p + n;
        len -= (size_t)n;
    }
    return 0;
}

/* One whole message off the socket; *body malloc'd and NUL-terminated. */
static int read_msg(struct mica_xs *xs, struct xsw_header *h, char **body)
{
    int rc = recv_all(xs->fd, h, sizeof(*h));
    if (rc)
        return rc;
    if (h->len > XSW_PAYLOAD_MAX)
        return -EPROTO;
    *body = malloc(h->len + 1);
    if (!*body)
        return -ENOMEM;
    if ((rc = recv_all(xs->fd, *body, h->len))) {
        free(*body);
        *body = NULL;
        return rc;
    }
    (*body)[h->len] = 0;
    return 0;
}

/* Keeps a watch event (path NUL token NUL) for mica_xs_event(). */
static int keep_event(struct mica_xs *xs, char *body, size_t len)
{
    size_t plen = strnlen(body, len);
    struct mica_xs_event *e;

    if (plen >= len)
        return -EPROTO;
    e = calloc(1, sizeof(*e));
    if (!e || !(e->path = strdup(body)) || !(e->token = strdup(body + plen + 1))) {
        if (e)
            free(e->path);
        free(e);
        return -ENOMEM;
    }
    *xs->events_tail = e;
    xs->events_tail = &e->next;
    return 0;
}

static int errno_from_name(const char *name)
{
#define X(e) if (strcmp(name, #e) == 0) return e;
    XSW_ERRNO_NAMES(X)
#undef X
    return EIO;
}

int mica_xs_request(struct mica_xs *xs, uint32_t type, uint32_t tx, const void *payload,
                    size_t len, char **reply, size_t *reply_len)
{
    struct xsw_header h = { type, xs->next_req++, tx, (uint32_t)len };
    int rc;

    if (reply)
        *reply = NULL;
    if (xs->fd < 0)
        return -EBADF;
    if (len > XSW_PAYLOAD_MAX)
        return -E2BIG;
    if ((rc = send_all(xs->fd, &h, sizeof(h))) || (rc = send_all(xs->fd, payload, len)))
        return rc;
    for (;;) {
        struct xsw_header r;
        char *body;
        if ((rc = read_msg(xs, &r, &body)))
            return rc;
        if (r.type == XSW_WATCH_EVENT) {
            rc = keep_event(xs, body, r.len);
            free(body);
            if (rc)
                return rc;
            continue;
        }
        if (r.req_id != h.req_id) {
            free(body);
            return -EPROTO;
        }
        if (r.type == XSW_ERROR) {
            rc = -errno_from_name(body);
            free(body);
            return rc;
        }
        if (r.type != type) {
            free(body);
            return -EPROTO;
        }
        if (reply_len)
            *reply_len = r.len;
        if (reply)
            *reply = body;
        else
            free(body);
        return 0;
    }
}

/* Joins NUL-terminated strings into one payload. */
static size_t join(char *buf, size_t cap, const char *const *parts, size_t n, bool last_nul)
{
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(parts[i]) + (i + 1 < n || last_nul ? 1 : 0);
        if (off + l > cap)
            return (size_t)-1;
        memcpy(buf + off, parts[i], l);
        off += l;
    }
    return off;
}

static int simple(struct mica_xs *xs, uint32_t type, uint32_t tx, const char *const *parts,
                  size_t n, char **reply)
{
    char buf[XSW_PAYLOAD_MAX];
    size_t len = join(buf, sizeof(buf), parts, n, true);
    if (len == (size_t)-1)
        return -E2BIG;
    return mica_xs_request(xs, type, tx, buf, len, reply, NULL);
}

int mica_xs_read(struct mica_xs *xs, uint32_t tx, const char *path, char **value)
{
    return simple(xs, XSW_READ, tx, &path, 1, value);
}

int mica_xs_write(struct mica_xs *xs, uint32_t tx, const char *path, const char *value)
{
    const char *parts[] = { path, value };
    char buf[XSW_PAYLOAD_MAX];
    /* The value is raw bytes after the path's NUL, without its own NUL. */
    size_t len = join(buf, sizeof(buf), parts, 2, false);
    if (len == (size_t)-1)
        return -E2BIG;
    return mica_xs_request(xs, XSW_WRITE, tx, buf, len, NULL, NULL);
}

int mica_xs_mkdir(struct mica_xs *xs, uint32_t tx, const char *path)
{
    return simple(xs, XSW_MKDIR, tx, &path, 1, NULL);
}

int mica_xs_rm(struct mica_xs *xs, uint32_t tx, const char *path)
{
    return simple(xs, XSW_RM, tx, &path, 1, NULL);
}

int mica_xs_set_perms(struct mica_xs *xs, uint32_t tx, const char *path,
                      const char *const *perms, size_t n)
{
    const char *parts[8];
    if (n == 0 || n + 1 > sizeof(parts) / sizeof(parts[0]))
        return -EINVAL;
    parts[0] = path;
    memcpy(parts + 1, perms, n * sizeof(*perms));
    return simple(xs, XSW_SET_PERMS, tx, parts, n + 1, NULL);
}

int mica_xs_directory(struct mica_xs *xs, uint32_t tx, const char *path, char **names,
                      size_t *len)
{
    char buf[XSW_PAYLOAD_MAX];
    size_t l = strlen(path) + 1;
    int rc, count = 0;

    if (l > sizeof(buf))
        return -E2BIG;
    memcpy(buf, path, l);
    rc = mica_xs_request(xs, XSW_DIRECTORY, tx, buf, l, names, len);
    if (rc)
        return rc;
    for (size_t i = 0; i < *len; i++)
        count += (*names)[i] == 0;
    return count;
}

int mica_xs_tx_start(struct mica_xs *xs, uint32_t *tx)
{
    char *reply;
    int rc = mica_xs_request(xs, XSW_TRANSACTION_START, 0, "", 1, &reply, NULL);
    if (rc)
        return rc;
    *tx = (uint32_t)strtoul(reply, NULL, 10);
    free(reply);
    return *tx ? 0 : -EPROTO;
}

int mica_xs_tx_end(struct mica_xs *xs, uint32_t tx, bool commit)
{
    return mica_xs_request(xs, XSW_TRANSACTION_END, tx, commit ? "T" : "F", 2, NULL, NULL);
}

int mica_xs_introduce(struct mica_xs *xs, uint32_t domid, uint64_t mfn, uint32_t port)
{
    char a[16], b[24], c[16];
    const char *parts[] = { a, b, c };
    snprintf(a, sizeof(a), "%u", domid);
    snprintf(b, sizeof(b), "%llu", (unsigned long long)mfn);
    snprintf(c, sizeof(c), "%u", port);
    return simple(xs, XSW_INTRODUCE, 0, parts, 3, NULL);
}

int mica_xs_release(struct mica_xs *xs, uint32_t domid)
{
    char a[16];
    const char *p = a;
    snprintf(a, sizeof(a), "%u", domid);
    return simple(xs, XSW_RELEASE, 0, &p, 1, NULL);
}

int mica_xs_is_introduced(struct mica_xs *xs, uint32_t domid)
{
    char a[16], *reply;
    const char *p = a;
    int rc;
    snprintf(a, sizeof(a), "%u", domid);
    if ((rc = simple(xs, XSW_IS_DOMAIN_INTRODUCED, 0, &p, 1, &reply)))
        return rc;
    rc = strcmp(reply, "T") == 0;
    free(reply);
    return rc;
}

int mica_xs_watch(struct mica_xs *xs, const char *path, const char *token)
{
    const char *parts[] = { path, token };
    return simple(xs, XSW_WATCH, 0, parts, 2, NULL);
}

int mica_xs_unwatch(struct mica_xs *xs, const char *path, const char *token)
{
    const char *parts[] = { path, token };
    return simple(xs, XSW_UNWATCH, 0, parts, 2, NULL);
}

bool mica_xs_event_pending(const struct mica_xs *xs)
{
    return xs->events != NULL;
}

int mica_xs_event(struct mica_xs *xs, bool wait, char **path, char **token)
{
    while (!xs->events) {
        struct pollfd p = { .fd = xs->fd, .events = POLLIN };
        struct xsw_header h;
        char *body;
        int rc;

        if (xs->fd < 0)
            return -EBADF;
        rc = poll(&p, 1, wait ? -1 : 0);
        if (rc < 0)
            return errno == EINTR ? 0 : -errno;
        if (rc == 0)
            return 0;
        if ((rc = read_msg(xs, &h, &body)))
            return rc;
        /* Outside a request only events may arrive. */
        rc = h.type == XSW_WATCH_EVENT ? keep_event(xs, body, h.len) : -EPROTO;
        free(body);
        if (rc)
            return rc;
    }
    struct mica_xs_event *e = xs->events;
    xs->events = e->next;
    if (!xs->events)
        xs->events_tail = &xs->events;
    *path = e->path;
    *token = e->token;
    free(e);
    return 1;
}
