#define _GNU_SOURCE
#include "cons_pty.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

void cons_pty_init(struct cons_pty *p)
{
    memset(p, 0, sizeof(*p));
    p->master = p->slave = -1;
}

void cons_pty_close(struct cons_pty *p)
{
    if (p->master >= 0)
        close(p->master);
    if (p->slave >= 0)
        close(p->slave);
    free(p->pending);
    cons_pty_init(p);
}

int cons_pty_open(struct cons_pty *p)
{
    struct termios t;
    int err;

    cons_pty_init(p);
    p->pending = malloc(CONS_PTY_PENDING_MAX);
    if (!p->pending)
        return -ENOMEM;
    p->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (p->master < 0 || grantpt(p->master) < 0 || unlockpt(p->master) < 0 ||
        ptsname_r(p->master, p->path, sizeof(p->path)) != 0)
        goto fail;
    p->slave = open(p->path, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (p->slave < 0 || tcgetattr(p->slave, &t) < 0)
        goto fail;
    cfmakeraw(&t);
    if (tcsetattr(p->slave, TCSANOW, &t) < 0 ||
        fcntl(p->master, F_SETFL, fcntl(p->master, F_GETFL) | O_NONBLOCK) < 0)
        goto fail;
    return 0;
fail:
    err = errno ? errno : EIO;
    cons_pty_close(p);
    return -err;
}

/* Appends to pending; the oldest bytes go when it would overflow. */
static void queue(struct cons_pty *p, const char *buf, size_t n)
{
    if (n >= CONS_PTY_PENDING_MAX) {
        p->dropped += p->pending_len + (n - CONS_PTY_PENDING_MAX);
        memcpy(p->pending, buf + (n - CONS_PTY_PENDING_MAX), CONS_PTY_PENDING_MAX);
        p->pending_len = CONS_PTY_PENDING_MAX;
        return;
    }
    if (p->pending_len + n > CONS_PTY_PENDING_MAX) {
        size_t drop = p->pending_len + n - CONS_PTY_PENDING_MAX;
        memmove(p->pending, p->pending + drop, p->pending_len - drop);
        p->pending_len -= drop;
        p->dropped += drop;
    }
    memcpy(p->pending + p->pending_len, buf, n);
    p->pending_len += n;
}

int cons_pty_flush(struct cons_pty *p)
{
    if (p->master < 0)
        return 0;
    while (p->pending_len > 0) {
        ssize_t w = write(p->master, p->pending, p->pending_len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return 0;
            return -errno;
        }
        if (w == 0)
            return 0;
        memmove(p->pending, p->pending + w, p->pending_len - (size_t)w);
        p->pending_len -= (size_t)w;
    }
    return 0;
}

int cons_pty_output(struct cons_pty *p, const char *buf, size_t n)
{
    if (p->master < 0 || n == 0)
        return 0;
    /* Straight to the pty when nothing waits; the rest queues. */
    while (p->pending_len == 0 && n > 0) {
        ssize_t w = write(p->master, buf, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
            return -errno;
        if (w <= 0)
            break;
        buf += w;
        n -= (size_t)w;
    }
    if (n > 0)
        queue(p, buf, n);
    return cons_pty_flush(p);
}

long cons_pty_input(struct cons_pty *p, char *buf, size_t max)
{
    ssize_t n;

    if (p->master < 0 || max == 0)
        return 0;
    do
        n = read(p->master, buf, max);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -errno;
    return n;
}
