/*
 * vmctl console: a client of micaconsoled's socket (dom0-tools/consoled).
 * Sends the domain id, then relays the terminal both ways; Ctrl-] (0x1d)
 * leaves, as with xl console.  With a terminal on stdin it is put in raw
 * mode for the session and restored after.  When stdin ends (not a
 * terminal) the output is still relayed until the domain's console goes.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "hv.h"
#include "fdio.h"

#define DEFAULT_CONSOLE_SOCKET "/run/mica/console.sock"
#define ESCAPE_CHAR 0x1d   /* Ctrl-] */

static const char *console_socket(void)
{
    const char *p = getenv("MICA_CONSOLE_SOCKET");
    return p && *p ? p : DEFAULT_CONSOLE_SOCKET;
}

/* The daemon's one-line answer, read byte by byte so nothing after it is lost. */
static int read_answer(int fd, char *buf, size_t len)
{
    size_t have = 0;
    while (have + 1 < len) {
        ssize_t n = read(fd, buf + have, 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        if (buf[have] == '\n')
            break;
        have++;
    }
    buf[have] = 0;
    return 0;
}

enum hv_status hv_console(struct hv *hv, uint32_t domid)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    const char *path = console_socket();
    char msg[512], answer[256];
    struct termios saved, raw;
    bool tty = isatty(STDIN_FILENO), stdin_open = true;
    enum hv_status st = HV_OK;
    int fd;

    if (strlen(path) >= sizeof(a.sun_path))
        return hv_fail(hv, HV_FAILED, "console socket path too long");
    strcpy(a.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        snprintf(msg, sizeof(msg), "cannot reach the console daemon at %s: %s (is "
                 "micaconsoled running in dom0?)", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return hv_fail(hv, HV_FAILED, msg);
    }
    snprintf(msg, sizeof(msg), "%u\n", domid);
    if (fdio_write_all(fd, msg, strlen(msg)) < 0 || read_answer(fd, answer, sizeof(answer)) < 0) {
        close(fd);
        return hv_fail(hv, HV_FAILED, "the console daemon closed the connection");
    }
    if (strcmp(answer, "OK") != 0) {
        snprintf(msg, sizeof(msg), "console daemon: %s",
                 strncmp(answer, "ERR ", 4) == 0 ? answer + 4 : answer);
        close(fd);
        return hv_fail(hv, HV_FAILED, msg);
    }
    if (tty) {
        fprintf(stderr, "Connected to domain %u's console; Ctrl-] leaves.\r\n", domid);
        tcgetattr(STDIN_FILENO, &saved);
        raw = saved;
        cfmakeraw(&raw);
        tcsetattr(STDIN_FILENO, TCSANOW, &raw);
    }
    for (;;) {
        struct pollfd p[2] = { { .fd = fd, .events = POLLIN },
                               { .fd = stdin_open ? STDIN_FILENO : -1, .events = POLLIN } };
        char buf[4096];
        ssize_t n;

        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[0].revents) {
            n = read(fd, buf, sizeof(buf));
            if (n <= 0)
                break;   /* the domain's console went away */
            if (fdio_write_all(STDOUT_FILENO, buf, (size_t)n) < 0)
                break;
        }
        if (p[1].revents) {
            n = read(STDIN_FILENO, buf, sizeof(buf));
            if (n <= 0) {
                stdin_open = false;
                continue;
            }
            char *esc = memchr(buf, ESCAPE_CHAR, (size_t)n);
            if (esc)
                n = esc - buf;
            if (n > 0 && fdio_write_all(fd, buf, (size_t)n) < 0)
                break;
            if (esc)
                break;
        }
    }
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSANOW, &saved);
        fprintf(stderr, "\n");
    }
    close(fd);
    return st;
}
