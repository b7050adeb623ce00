#include "fdio.h"

#include <errno.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

double fdio_now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int fdio_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0) {
            errno = EIO;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int fdio_read_line(int fd, char *buf, size_t len, int timeout_s, bool *timed_out)
{
    size_t n = 0;
    double end = fdio_now_s() + timeout_s;
    if (timed_out)
        *timed_out = false;
    if (len == 0)
        return 0;
    while (n + 1 < len) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int left = (int)((end - fdio_now_s()) * 1000);
        if (left <= 0) {
            if (timed_out)
                *timed_out = true;
            break;
        }
        int r = poll(&p, 1, left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            continue;
        char c;
        ssize_t got = read(fd, &c, 1);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        if (c == '\n') {
            buf[n] = 0;
            return 1;
        }
        buf[n++] = c;
    }
    buf[n] = 0;
    return 0;
}
