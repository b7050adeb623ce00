/* Load generator for bench/xenstored-rps: N connections, each keeping D
 * requests in flight (alternating WRITE and READ of its own key), for a
 * fixed time; prints completed requests per second.  Informational only. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "xenstore_wire.h"

struct client {
    int fd;
    unsigned id;
    uint32_t next_req;
    unsigned inflight;
    uint8_t in[65536];
    size_t have;
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int send_request(struct client *c)
{
    char payload[64];
    uint32_t type = (c->next_req & 1) ? XSW_READ : XSW_WRITE;
    int n = snprintf(payload, sizeof(payload), "/bench/c%u/key", c->id) + 1;
    if (type == XSW_WRITE) {
        memcpy(payload + n, "value", 5);
        n += 5;
    }
    uint8_t msg[sizeof(struct xsw_header) + 64];
    struct xsw_header h = { type, c->next_req++, 0, (uint32_t)n };
    memcpy(msg, &h, sizeof(h));
    memcpy(msg + sizeof(h), payload, (size_t)n);
    size_t len = sizeof(h) + (size_t)n, off = 0;
    while (off < len) {
        ssize_t w = send(c->fd, msg + off, len - off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        off += (size_t)w;
    }
    c->inflight++;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: %s SOCKET CLIENTS DEPTH SECONDS\n", argv[0]);
        return 2;
    }
    const char *path = argv[1];
    unsigned nclients = (unsigned)atoi(argv[2]), depth = (unsigned)atoi(argv[3]);
    double seconds = atof(argv[4]);
    if (nclients == 0 || nclients > 256 || depth == 0 || depth > 64 || seconds <= 0) {
        fprintf(stderr, "xenstored-rps: 1..256 clients, depth 1..64, seconds > 0\n");
        return 2;
    }
    struct client *cs = calloc(nclients, sizeof(*cs));
    struct pollfd *pfds = calloc(nclients, sizeof(*pfds));
    if (!cs || !pfds)
        return 1;
    for (unsigned i = 0; i < nclients; i++) {
        struct sockaddr_un a = { .sun_family = AF_UNIX };
        snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
        cs[i].id = i;
        cs[i].fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (cs[i].fd < 0 || connect(cs[i].fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
            fprintf(stderr, "xenstored-rps: cannot connect to %s: %s\n", path, strerror(errno));
            return 1;
        }
        for (unsigned d = 0; d < depth; d++)
            if (send_request(&cs[i]) != 0)
                return 1;
    }

    unsigned long long done = 0, errors = 0;
    double start = now(), end = start + seconds;
    while (now() < end) {
        for (unsigned i = 0; i < nclients; i++)
            pfds[i] = (struct pollfd){ cs[i].fd, POLLIN, 0 };
        if (poll(pfds, nclients, 1000) < 0 && errno != EINTR)
            return 1;
        for (unsigned i = 0; i < nclients; i++) {
            if (!(pfds[i].revents & POLLIN))
                continue;
            struct client *c = &cs[i];
            ssize_t r = recv(c->fd, c->in + c->have, sizeof(c->in) - c->have, 0);
            if (r <= 0) {
                fprintf(stderr, "xenstored-rps: daemon closed a connection\n");
                return 1;
            }
            c->have += (size_t)r;
            size_t pos = 0;
            while (c->have - pos >= sizeof(struct xsw_header)) {
                struct xsw_header h;
                memcpy(&h, c->in + pos, sizeof(h));
                if (c->have - pos < sizeof(h) + h.len)
                    break;
                pos += sizeof(h) + h.len;
                done++;
                errors += h.type == XSW_ERROR;
                c->inflight--;
                if (send_request(c) != 0)
                    return 1;
            }
            memmove(c->in, c->in + pos, c->have - pos);
            c->have -= pos;
        }
    }
    double elapsed = now() - start;
    printf("xenstored-rps: %u clients x %u in flight, %.1f s: %llu requests, %.0f requests/s",
           nclients, depth, elapsed, done, (double)done / elapsed);
    if (errors)
        printf(" (%llu error replies)", errors);
    printf("\n");
    for (unsigned i = 0; i < nclients; i++)
        close(cs[i].fd);
    free(cs);
    free(pfds);
    return errors ? 1 : 0;
}
