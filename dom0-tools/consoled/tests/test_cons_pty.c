/* The console pty on the build host: what a client (xl console, libvirt)
 * reads and types on the slave, a full pty nobody reads, a client that
 * comes and goes. */
#define _GNU_SOURCE
#define UNIT_SUITE "consoled/pty"
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "cons_pty.h"

static int open_client(const struct cons_pty *p)
{
    return open(p->path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
}

/* Reads what the client has now (the daemon flushing its pending output
 * in between), up to max bytes. */
static size_t client_read_all(struct cons_pty *p, int fd, char *buf, size_t max)
{
    size_t got = 0;
    int idle = 0;
    while (got < max && idle < 50) {
        ssize_t n = read(fd, buf + got, max - got);
        if (n > 0) {
            got += (size_t)n;
            idle = 0;
        } else {
            idle++;
            usleep(2000);
        }
        CHECK(cons_pty_flush(p) == 0);
    }
    return got;
}

UNIT_TEST(open_names_a_raw_nonblocking_pty)
{
    struct cons_pty p;
    CHECK(cons_pty_open(&p) == 0);
    CHECK(strncmp(p.path, "/dev/pts/", 9) == 0);
    CHECK(fcntl(p.master, F_GETFL) & O_NONBLOCK);
    CHECK(p.pending_len == 0 && p.dropped == 0);
    cons_pty_close(&p);
    CHECK(p.master == -1 && p.slave == -1 && p.pending == NULL);
    cons_pty_close(&p);   /* twice is harmless */
}

UNIT_TEST(output_and_input_pass_unchanged)
{
    struct cons_pty p;
    char buf[256];
    CHECK(cons_pty_open(&p) == 0);
    int c = open_client(&p);
    CHECK(c >= 0);
    /* Raw: no CR added to LF on the way out, no CR turned into LF, no echo. */
    CHECK(cons_pty_output(&p, "boot\n\x01\xff", 7) == 0);
    CHECK(client_read_all(&p, c, buf, 7) == 7);
    CHECK(memcmp(buf, "boot\n\x01\xff", 7) == 0);
    CHECK(write(c, "ls\r\x1d", 4) == 4);
    usleep(20000);
    CHECK(cons_pty_input(&p, buf, sizeof(buf)) == 4);
    CHECK(memcmp(buf, "ls\r\x1d", 4) == 0);
    CHECK(cons_pty_input(&p, buf, sizeof(buf)) == 0);       /* nothing more, not an error */
    CHECK(client_read_all(&p, c, buf, sizeof(buf)) == 0);  /* no echo */
    /* Input is taken only up to what the caller has room for. */
    CHECK(write(c, "abcdef", 6) == 6);
    usleep(20000);
    CHECK(cons_pty_input(&p, buf, 2) == 2 && memcmp(buf, "ab", 2) == 0);
    CHECK(cons_pty_input(&p, buf, sizeof(buf)) == 4 && memcmp(buf, "cdef", 4) == 0);
    close(c);
    cons_pty_close(&p);
}

UNIT_TEST(client_comes_and_goes)
{
    struct cons_pty p;
    char buf[64];
    CHECK(cons_pty_open(&p) == 0);
    int c = open_client(&p);
    CHECK(c >= 0);
    close(c);
    /* The daemon's own slave keeps the master usable: no hang-up or error
     * for its poll (micaconsoled would make a new pty on one). */
    struct pollfd pf = { .fd = p.master, .events = POLLIN | POLLOUT };
    CHECK(poll(&pf, 1, 0) == 1);
    CHECK((pf.revents & (POLLHUP | POLLERR | POLLNVAL)) == 0);
    CHECK(cons_pty_output(&p, "after\n", 6) == 0);
    CHECK(cons_pty_input(&p, buf, sizeof(buf)) == 0);
    c = open_client(&p);
    CHECK(c >= 0);
    CHECK(client_read_all(&p, c, buf, 6) == 6 && memcmp(buf, "after\n", 6) == 0);
    close(c);
    cons_pty_close(&p);
}

/* True when got[0..n) is data[0..total) with some stretches left out:
 * every byte in order, none twice.  data is pseudo-random, so 32 bytes
 * name a place in it; a stretch that matches nowhere after the cursor
 * fails. */
static int is_data_in_order(const char *got, size_t n, const char *data, size_t total)
{
    const size_t key = 32;
    size_t d = 0, j = 0;
    while (j < n) {
        if (d < total && got[j] == data[d]) {
            j++;
            d++;
            continue;
        }
        size_t want = n - j < key ? n - j : key, next = d + 1;
        while (next + want <= total && memcmp(got + j, data + next, want) != 0)
            next++;
        if (next + want > total)
            return 0;
        d = next;
    }
    return 1;
}

UNIT_TEST(full_pty_keeps_the_newest_output)
{
    struct cons_pty p;
    const size_t total = 1 << 20;
    char *data = malloc(total), *got = malloc(total);
    uint32_t x = 2463534242u;
    CHECK(data && got);
    for (size_t i = 0; i < total; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        data[i] = (char)(x >> 24);
    }
    /* The check itself: stretches in order pass, out of order fail. */
    memcpy(got, data, 100);
    memcpy(got + 100, data + 5000, 100);
    CHECK(is_data_in_order(got, 200, data, total));
    memcpy(got, data + 5000, 100);
    memcpy(got + 100, data, 100);
    CHECK(!is_data_in_order(got, 200, data, total));
    CHECK(cons_pty_open(&p) == 0);
    /* Nobody reads: the guest's output must still be taken, in ring-sized
     * pieces.  The kernel moves what the master took on to the slave's
     * line discipline in its own time, so room can reappear mid-loop and
     * some middle stretches get through: only the order, the count and
     * the newest 64 KiB are fixed. */
    for (size_t off = 0; off < total; off += 2048)
        CHECK(cons_pty_output(&p, data + off, 2048) == 0);
    CHECK(p.pending_len == CONS_PTY_PENDING_MAX);
    CHECK(p.dropped > 0 && p.dropped < total);
    int c = open_client(&p);
    CHECK(c >= 0);
    size_t n = client_read_all(&p, c, got, total);
    CHECK_EQ(n, total - p.dropped);
    CHECK(n > CONS_PTY_PENDING_MAX);
    CHECK(memcmp(got + n - CONS_PTY_PENDING_MAX, data + total - CONS_PTY_PENDING_MAX,
                 CONS_PTY_PENDING_MAX) == 0);
    CHECK(is_data_in_order(got, n, data, total));
    CHECK(p.pending_len == 0);
    close(c);
    cons_pty_close(&p);
    free(data);
    free(got);
}

UNIT_MAIN()
