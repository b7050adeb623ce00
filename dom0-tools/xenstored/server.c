#define _GNU_SOURCE  /* accept4, ppoll */
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"

/* Stop reading a client whose replies pile up: it has to drain them first. */
#define OUT_HIGH_WATER (256 * 1024)
#define MAX_CLIENTS 1024

struct client {
    int fd;
    struct xs_conn *conn;
};

static int fill_addr(struct sockaddr_un *a, const char *path)
{
    memset(a, 0, sizeof(*a));
    a->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(a->sun_path))
        return -1;
    strcpy(a->sun_path, path);
    return 0;
}

bool xs_server_answering(const char *path)
{
    struct sockaddr_un addr;
    if (fill_addr(&addr, path) != 0)
        return false;
    int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe < 0)
        return false;
    bool live = connect(probe, (struct sockaddr *)&addr, sizeof(addr)) == 0;
    close(probe);
    return live;
}

int xs_server_make_parent(const char *path, char *why, size_t whysz)
{
    char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
    if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir)) {
        snprintf(why, whysz, "socket path %s is too long", path);
        return -1;
    }
    char *end = strrchr(dir, '/');
    if (!end || end == dir)
        return 0;
    *end = '\0';
    for (char *p = dir + 1; ; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
            snprintf(why, whysz, "cannot create %s for the socket: %s", dir, strerror(errno));
            return -1;
        }
        *p = c;
        if (!c)
            break;
    }
    return 0;
}

int xs_server_listen(const char *path, char *why, size_t whysz)
{
    struct sockaddr_un addr, tmp;
    char tmppath[sizeof(addr.sun_path)];
    if (fill_addr(&addr, path) != 0 ||
        snprintf(tmppath, sizeof(tmppath), "%s.%ld.tmp", path, (long)getpid()) >= (int)sizeof(tmppath) ||
        fill_addr(&tmp, tmppath) != 0) {
        snprintf(why, whysz, "socket path %s is too long", path);
        return -1;
    }

    struct stat st;
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            snprintf(why, whysz, "%s exists and is not a socket", path);
            return -1;
        }
        int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (probe >= 0 && connect(probe, (struct sockaddr *)&addr, sizeof(addr)) == 0) {
            close(probe);
            snprintf(why, whysz, "xenstored is already running: another one serves %s", path);
            return -1;
        }
        if (probe >= 0)
            close(probe);
    }

    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        snprintf(why, whysz, "socket: %s", strerror(errno));
        return -1;
    }
    unlink(tmppath);
    if (bind(fd, (struct sockaddr *)&tmp, sizeof(tmp)) != 0 ||
        chmod(tmppath, 0600) != 0 || listen(fd, 64) != 0 ||
        rename(tmppath, path) != 0) {
        snprintf(why, whysz, "cannot listen at %s: %s", path, strerror(errno));
        unlink(tmppath);
        close(fd);
        return -1;
    }
    return fd;
}

static void drop_client(struct client *clients, size_t *n, size_t i)
{
    xs_trace("client %u disconnected", clients[i].conn->id);
    close(clients[i].fd);
    xs_conn_free(clients[i].conn);
    clients[i] = clients[--*n];
}

/* Returns -1 if the client is gone. */
static int flush_client(struct client *cl)
{
    struct xs_buf *out = &cl->conn->out;
    while (xs_buf_pending(out) > 0) {
        ssize_t n = send(cl->fd, xs_buf_front(out), xs_buf_pending(out),
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return 0;
            if (errno == EINTR)
                continue;
            return -1;
        }
        xs_buf_consume(out, (size_t)n);
    }
    return 0;
}

static void accept_clients(struct xs_daemon *d, int listen_fd, struct client *clients,
                           size_t *n)
{
    for (;;) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0)
            return;
        if (*n >= MAX_CLIENTS) {
            xs_log("too many socket clients; refusing one");
            close(fd);
            continue;
        }
        struct xs_conn *c = xs_conn_new(d, 0, true);
        if (!c) {
            close(fd);
            continue;
        }
        clients[*n].fd = fd;
        clients[*n].conn = c;
        (*n)++;
        xs_trace("client %u connected", c->id);
    }
}

int xs_server_run(struct xs_daemon *d, int listen_fd, volatile sig_atomic_t *stop,
                  const sigset_t *wait_mask, const struct xs_server_hook *hook)
{
    struct client *clients = calloc(MAX_CLIENTS, sizeof(*clients));
    /* Slot 0 the listener, then clients, then the hook's fd. */
    struct pollfd *pfds = calloc(MAX_CLIENTS + 2, sizeof(*pfds));
    size_t nclients = 0;
    int rc = 0;
    if (!clients || !pfds) {
        xs_log("out of memory");
        free(clients);
        free(pfds);
        return -1;
    }

    while (!*stop) {
        pfds[0].fd = listen_fd;
        pfds[0].events = POLLIN;
        for (size_t i = 0; i < nclients; i++) {
            pfds[i + 1].fd = clients[i].fd;
            pfds[i + 1].events = 0;
            if (xs_buf_pending(&clients[i].conn->out) < OUT_HIGH_WATER)
                pfds[i + 1].events |= POLLIN;
            if (xs_buf_pending(&clients[i].conn->out) > 0)
                pfds[i + 1].events |= POLLOUT;
        }
        size_t polled = nclients;
        nfds_t nfds = polled + 1;
        if (hook && hook->fd >= 0) {
            pfds[nfds].fd = hook->fd;
            pfds[nfds].events = POLLIN;
            pfds[nfds].revents = 0;
            nfds++;
        }
        int r = ppoll(pfds, nfds, NULL, wait_mask);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            xs_log("poll: %s", strerror(errno));
            rc = -1;
            break;
        }

        /* Domains first: what they ask may fire watches for clients. */
        if (hook && hook->fd >= 0 && (pfds[polled + 1].revents & POLLIN) && hook->ready)
            hook->ready(hook->ctx);

        /* Walk backwards: dropping a client moves the last one into its
         * slot, which has then already been handled. */
        for (size_t i = polled; i-- > 0;) {
            short re = pfds[i + 1].revents;
            if (!re)
                continue;
            struct client *cl = &clients[i];
            bool gone = false;
            if (re & POLLIN) {
                uint8_t buf[16384];
                ssize_t n = recv(cl->fd, buf, sizeof(buf), MSG_DONTWAIT);
                if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
                    gone = true;
                else if (n > 0 && xs_conn_feed(cl->conn, buf, (size_t)n) != 0)
                    gone = true;
            } else if (re & (POLLHUP | POLLERR | POLLNVAL)) {
                gone = true;
            }
            if (!gone && flush_client(cl) != 0)
                gone = true;
            if (gone)
                drop_client(clients, &nclients, i);
        }
        /* Watch events caused by one client land in others' queues. */
        for (size_t i = nclients; i-- > 0;)
            if (xs_buf_pending(&clients[i].conn->out) > 0 && flush_client(&clients[i]) != 0)
                drop_client(clients, &nclients, i);

        if (pfds[0].revents & POLLIN)
            accept_clients(d, listen_fd, clients, &nclients);
        if (hook && hook->after)
            hook->after(hook->ctx);
    }

    while (nclients > 0)
        drop_client(clients, &nclients, nclients - 1);
    free(clients);
    free(pfds);
    return rc;
}
