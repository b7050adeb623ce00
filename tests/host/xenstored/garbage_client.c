/* Hostile and broken clients against a running xenstored: each must get
 * an error reply or be disconnected, and the daemon must keep serving a
 * well-behaved client throughout.  Starts and stops the daemon itself. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "xenstore_wire.h"

static pid_t daemon_pid;
static char sock_path[256], tmpdir[64];
static int failures;

static void on_alarm(int sig)
{
    (void)sig;
    static const char msg[] = "FAIL: xenstored/garbage/watchdog test took over 60 s\n";
    if (write(STDOUT_FILENO, msg, sizeof(msg) - 1) < 0) {}
    if (daemon_pid > 0)
        kill(daemon_pid, SIGKILL);
    _exit(1);
}

static void result(const char *name, bool ok, const char *why)
{
    if (ok) {
        printf("PASS: xenstored/garbage/%s\n", name);
    } else {
        printf("FAIL: xenstored/garbage/%s %s\n", name, why);
        failures++;
    }
    fflush(stdout);
}

static int connect_daemon(void)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    strcpy(a.sun_path, sock_path);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static bool send_all(int fd, const void *p, size_t len)
{
    const char *c = p;
    while (len) {
        ssize_t n = send(fd, c, len, MSG_NOSIGNAL);
        if (n <= 0)
            return false;
        c += n;
        len -= (size_t)n;
    }
    return true;
}

static bool send_msg(int fd, uint32_t type, uint32_t req, const void *p, uint32_t len)
{
    struct xsw_header h = { type, req, 0, len };
    return send_all(fd, &h, sizeof(h)) && send_all(fd, p, len);
}

/* Reads exactly len bytes within timeout_ms; 1 ok, 0 EOF, -1 timeout/error. */
static int recv_exact(int fd, void *p, size_t len, int timeout_ms)
{
    char *c = p;
    while (len) {
        struct pollfd pfd = { fd, POLLIN, 0 };
        if (poll(&pfd, 1, timeout_ms) <= 0)
            return -1;
        ssize_t n = recv(fd, c, len, 0);
        if (n == 0)
            return 0;
        if (n < 0)
            return -1;
        c += n;
        len -= (size_t)n;
    }
    return 1;
}

static int recv_msg(int fd, struct xsw_header *h, char *payload, int timeout_ms)
{
    int r = recv_exact(fd, h, sizeof(*h), timeout_ms);
    if (r != 1)
        return r;
    if (h->len > XSW_PAYLOAD_MAX)
        return -1;
    r = recv_exact(fd, payload, h->len, timeout_ms);
    if (r == 1)
        payload[h->len] = '\0';
    return r;
}

/* The daemon is still alive and serving: a write and read-back on fd. */
static bool serves(int fd, const char *tag)
{
    char path[64], payload[XSW_PAYLOAD_MAX + 1];
    int n = snprintf(path, sizeof(path), "/garbage/%s", tag);
    char req[128];
    memcpy(req, path, (size_t)n + 1);
    memcpy(req + n + 1, tag, strlen(tag));
    struct xsw_header h;
    if (!send_msg(fd, XSW_WRITE, 11, req, (uint32_t)(n + 1 + (int)strlen(tag))) ||
        recv_msg(fd, &h, payload, 3000) != 1 || h.type != XSW_WRITE || h.req_id != 11)
        return false;
    if (!send_msg(fd, XSW_READ, 12, path, (uint32_t)n + 1) ||
        recv_msg(fd, &h, payload, 3000) != 1 || h.type != XSW_READ)
        return false;
    return h.len == strlen(tag) && memcmp(payload, tag, h.len) == 0;
}

static bool daemon_alive(void)
{
    return waitpid(daemon_pid, NULL, WNOHANG) == 0;
}

static void check_still_serving(int good, const char *after)
{
    char name[96], why[128];
    snprintf(name, sizeof(name), "%s_daemon_survives", after);
    int fresh = connect_daemon();
    bool ok = daemon_alive() && serves(good, after) && fresh >= 0 && serves(fresh, "fresh");
    snprintf(why, sizeof(why), "daemon %s", daemon_alive() ? "up but not answering" : "died");
    result(name, ok, why);
    if (fresh >= 0)
        close(fresh);
}

/* Either an error reply with the request's id, or a disconnect. */
static bool error_or_closed(int fd, uint32_t req, const char *want)
{
    struct xsw_header h;
    char payload[XSW_PAYLOAD_MAX + 1];
    int r = recv_msg(fd, &h, payload, 3000);
    if (r == 0)
        return true;
    return r == 1 && h.type == XSW_ERROR && h.req_id == req &&
           (!want || strcmp(payload, want) == 0);
}

static void start_daemon(void)
{
    char self[PATH_MAX], bin[PATH_MAX + 32];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n < 0) {
        printf("FAIL: xenstored/garbage/start cannot find myself\n");
        exit(1);
    }
    self[n] = '\0';
    snprintf(bin, sizeof(bin), "%s/xenstored-san", dirname(self));
    strcpy(tmpdir, "/tmp/xenstored-garbage.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        printf("FAIL: xenstored/garbage/start mkdtemp: %s\n", strerror(errno));
        exit(1);
    }
    snprintf(sock_path, sizeof(sock_path), "%s/sock", tmpdir);
    daemon_pid = fork();
    if (daemon_pid == 0) {
        char log[128];
        snprintf(log, sizeof(log), "%s/daemon.log", tmpdir);
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0)
            dup2(fd, STDERR_FILENO);
        execl(bin, bin, "--socket", sock_path, "--no-domains", "--foreground", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 100; i++) {
        struct stat st;
        if (stat(sock_path, &st) == 0)
            return;
        if (!daemon_alive())
            break;
        usleep(100000);
    }
    printf("FAIL: xenstored/garbage/start daemon %s did not come up\n", bin);
    kill(daemon_pid, SIGKILL);
    exit(1);
}

int main(void)
{
    signal(SIGALRM, on_alarm);
    signal(SIGPIPE, SIG_IGN);
    alarm(60);
    start_daemon();

    int good = connect_daemon();
    result("good_client_connects", good >= 0 && serves(good, "first"), "no service at start");

    /* Pseudo-random bytes: whatever the header says, the daemon must not
     * fall over; it may answer errors or wait for more. */
    srand(12345);
    for (int round = 0; round < 20; round++) {
        int fd = connect_daemon();
        uint8_t junk[2000];
        for (size_t i = 0; i < sizeof(junk); i++)
            junk[i] = (uint8_t)rand();
        send_all(fd, junk, sizeof(junk));
        close(fd);
    }
    check_still_serving(good, "random_bytes");

    int fd = connect_daemon();
    struct xsw_header big = { XSW_WRITE, 5, 0, XSW_PAYLOAD_MAX + 1 };
    send_all(fd, &big, sizeof(big));
    struct xsw_header h;
    char payload[XSW_PAYLOAD_MAX + 1];
    result("oversized_length_disconnects", recv_msg(fd, &h, payload, 3000) == 0,
           "connection not closed");
    close(fd);
    big.len = 0xffffffffu;
    fd = connect_daemon();
    send_all(fd, &big, sizeof(big));
    result("huge_length_disconnects", recv_msg(fd, &h, payload, 3000) == 0,
           "connection not closed");
    close(fd);
    check_still_serving(good, "oversized");

    fd = connect_daemon();
    send_msg(fd, 999, 77, "", 0);
    result("unknown_type_enosys", error_or_closed(fd, 77, "ENOSYS"), "no ENOSYS reply");
    send_msg(fd, XSW_WATCH_EVENT, 78, "/a\0t\0", 5);
    result("client_sent_event_enosys", error_or_closed(fd, 78, "ENOSYS"), "no ENOSYS reply");
    send_msg(fd, XSW_ERROR, 79, "EINVAL\0", 7);
    result("client_sent_error_enosys", error_or_closed(fd, 79, "ENOSYS"), "no ENOSYS reply");
    send_msg(fd, XSW_READ, 80, "/no-terminator", 14);
    result("unterminated_path_einval", error_or_closed(fd, 80, "EINVAL"), "no EINVAL reply");
    send_msg(fd, XSW_READ, 81, "/bad path\0", 10);
    result("bad_path_einval", error_or_closed(fd, 81, "EINVAL"), "no EINVAL reply");
    send_msg(fd, XSW_READ, 82, "/garbage/x\0", 11);
    result("same_connection_still_answers", recv_msg(fd, &h, payload, 3000) == 1 &&
           h.req_id == 82, "no reply after errors");
    close(fd);

    fd = connect_daemon();
    send_all(fd, &big, 5);                      /* truncated header, then gone */
    close(fd);
    fd = connect_daemon();
    struct xsw_header part = { XSW_WRITE, 1, 0, 100 };
    send_all(fd, &part, sizeof(part));
    send_all(fd, "/garbage/partial", 10);       /* truncated payload */
    close(fd);
    check_still_serving(good, "truncated");

    /* A client that pipelines a flood and never reads the replies. */
    fd = connect_daemon();
    int flags = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    uint8_t one[sizeof(struct xsw_header) + 11];
    struct xsw_header rh = { XSW_READ, 1, 0, 11 };
    memcpy(one, &rh, sizeof(rh));
    memcpy(one + sizeof(rh), "/garbage/x\0", 11);
    time_t until = time(NULL) + 3;
    size_t sent = 0;
    while (time(NULL) < until && sent < 50u * 1024 * 1024) {
        ssize_t n = send(fd, one, sizeof(one), MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN)
                break;          /* the daemon stopped reading: back-pressure */
            break;
        }
        sent += (size_t)n;
    }
    result("flood_is_throttled", sent < 50u * 1024 * 1024, "daemon kept accepting input");
    check_still_serving(good, "flood");
    close(fd);

    /* Many connections at once, dropped together. */
    int many[200], opened = 0;
    for (int i = 0; i < 200; i++)
        if ((many[i] = connect_daemon()) >= 0)
            opened++;
    for (int i = 0; i < 200; i++)
        if (many[i] >= 0)
            close(many[i]);
    result("many_connections", opened == 200, "could not open 200 connections");
    check_still_serving(good, "many_connections");
    close(good);

    kill(daemon_pid, SIGTERM);
    int st = 0;
    bool exited = false;
    for (int i = 0; i < 100 && !exited; i++) {
        exited = waitpid(daemon_pid, &st, WNOHANG) == daemon_pid;
        if (!exited)
            usleep(100000);
    }
    if (!exited) {
        kill(daemon_pid, SIGKILL);
        waitpid(daemon_pid, &st, 0);
    }
    char why[128];
    snprintf(why, sizeof(why), "exit status %d (see %s/daemon.log)",
             WIFEXITED(st) ? WEXITSTATUS(st) : -1, tmpdir);
    bool clean = exited && WIFEXITED(st) && WEXITSTATUS(st) == 0;
    result("clean_shutdown", clean, why);
    if (clean) {
        char log[128];
        snprintf(log, sizeof(log), "%s/daemon.log", tmpdir);
        unlink(log);
        rmdir(tmpdir);
    }
    return failures ? 1 : 0;
}
