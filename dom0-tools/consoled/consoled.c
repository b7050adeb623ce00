/*
 * micaconsoled: the PV console back end in dom0.
 *
 * It learns of domains from xenstore (@introduceDomain / @releaseDomain
 * watches, then /local/domain/N/console/{ring-ref,port} and name; vmctl
 * writes them before it introduces a domain, libxl (xl, libvirt) after,
 * so an introduced domain without them has its console directory
 * watched until they come), maps each console page
 * by MFN through privcmd, binds its event channel through /dev/xen/evtchn,
 * appends everything the guest writes to LOGDIR/<name>.log and relays it to
 * `vmctl console` clients on a unix socket and to a pseudo-terminal per
 * domain, whose slave it names in /local/domain/N/console/tty as Xen's
 * xenconsoled does (for `xl console` and libvirt); what clients type goes
 * into the guest's input ring.
 *
 * Client protocol (ours, vmctl is the only client): the client sends the
 * domain id in decimal and a newline; the daemon answers "OK\n" and then
 * relays raw bytes both ways, or "ERR sentence\n" and closes.  The
 * connection closes when the domain goes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cons_pty.h"
#include "cons_ring.h"
#include "evtchn.h"
#include "privcmd.h"
#include "xs.h"

#define DEFAULT_SOCKET "/run/mica/console.sock"
#define DEFAULT_LOGDIR "/var/log/mica/console"
#define DEFAULT_DEVDIR "/dev/xen"
#define MAX_CLIENTS 64
/* Output kept while no client is attached, as a pty keeps unread output
 * for `xl console`; the newest bytes win. */
#define UNREAD_MAX (64 * 1024)

struct dom {
    uint32_t domid;
    char name[64];
    struct cons_interface *intf;
    int local_port;
    int log_fd;
    bool broken;
    char *unread;              /* UNREAD_MAX bytes, the newest output */
    size_t unread_len;
    struct cons_pty pty;       /* master -1: none (its creation failed) */
    int pty_pfd;               /* its slot in this round's poll array, or -1 */
    struct dom *next;
};

struct client {
    int fd;
    uint32_t domid;
    bool attached;
    char line[16];
    size_t have;
};

static struct {
    struct mica_hv hv;
    struct mica_xs xs;
    int evtchn_fd;
    const char *logdir;
    struct dom *doms;
    struct client clients[MAX_CLIENTS];
    size_t nclients;
    /* Introduced domains whose console nodes are not there yet: their
     * /local/domain/N/console is watched. */
    uint32_t *waiting;
    size_t nwaiting, capwaiting;
    bool verbose;
} g;

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("micaconsoled: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static struct dom *find_dom(uint32_t domid)
{
    for (struct dom *d = g.doms; d; d = d->next)
        if (d->domid == domid)
            return d;
    return NULL;
}

static void drop_client(size_t i)
{
    close(g.clients[i].fd);
    g.clients[i] = g.clients[--g.nclients];
}

static void keep_unread(struct dom *d, const char *buf, size_t n)
{
    _Static_assert(CONS_OUT_SIZE <= UNREAD_MAX, "one drain fits the buffer");
    if (!d->unread || n > UNREAD_MAX)
        return;
    if (d->unread_len + n > UNREAD_MAX) {
        size_t drop = d->unread_len + n - UNREAD_MAX;
        memmove(d->unread, d->unread + drop, d->unread_len - drop);
        d->unread_len -= drop;
    }
    memcpy(d->unread + d->unread_len, buf, n);
    d->unread_len += n;
}

/* A pty for the domain and its slave's name in console/tty, as
 * xenconsoled does.  Without one the console is still logged and served
 * on the socket. */
static void pty_start(struct dom *d)
{
    char path[96];
    int rc = cons_pty_open(&d->pty);

    if (rc < 0) {
        say("domain %u: cannot make a pty for its console: %s (no console/tty)", d->domid,
            strerror(-rc));
        return;
    }
    snprintf(path, sizeof(path), "/local/domain/%u/console/tty", d->domid);
    rc = mica_xs_write(&g.xs, 0, path, d->pty.path);
    if (rc < 0) {
        say("domain %u: cannot write %s: %s (no pty for it)", d->domid, path, strerror(-rc));
        cons_pty_close(&d->pty);
    }
}

/* A pty whose master reports an error: closed and made again (a new
 * console/tty), as xenconsoled does for a live domain. */
static void pty_broken(struct dom *d, int err)
{
    say("domain %u: its pty %s broke (%s); making a new one", d->domid, d->pty.path,
        strerror(err));
    cons_pty_close(&d->pty);
    pty_start(d);
}

/* Guest output: to the log, then to every attached client (a client that
 * cannot take it now loses it; the log has everything), or, with none
 * attached, kept for the next one; and to the domain's pty. */
static void drain(struct dom *d)
{
    char buf[CONS_OUT_SIZE];
    long n;

    if (d->broken)
        return;
    while ((n = cons_ring_read_output(d->intf, buf, sizeof(buf))) > 0) {
        bool delivered = false;
        if (d->log_fd >= 0 && write(d->log_fd, buf, (size_t)n) != n)
            say("domain %u: writing its log failed: %s", d->domid, strerror(errno));
        for (size_t i = 0; i < g.nclients; i++)
            if (g.clients[i].attached && g.clients[i].domid == d->domid) {
                delivered = true;
                if (send(g.clients[i].fd, buf, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 &&
                    errno != EAGAIN)
                    shutdown(g.clients[i].fd, SHUT_RDWR);   /* dropped on its next poll */
            }
        if (!delivered)
            keep_unread(d, buf, (size_t)n);
        int rc = cons_pty_output(&d->pty, buf, (size_t)n);
        if (rc < 0)
            pty_broken(d, -rc);
        /* The guest may be waiting for room. */
        mica_evtchn_notify(g.evtchn_fd, (uint32_t)d->local_port);
    }
    if (n < 0) {
        say("domain %u: console ring indexes are corrupt; no longer serving it", d->domid);
        d->broken = true;
    }
}

static void safe_name(char *out, size_t len, const char *name, uint32_t domid)
{
    bool ok = *name && name[0] != '.';
    for (const char *p = name; *p && ok; p++)
        ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
             *p == '-' || *p == '_' || *p == '.';
    if (ok && strlen(name) < len)
        snprintf(out, len, "%s", name);
    else
        snprintf(out, len, "domain-%u", domid);
}

static int read_u64(uint32_t domid, const char *rel, uint64_t *v)
{
    char path[96], *s, *end;
    int rc;
    snprintf(path, sizeof(path), "/local/domain/%u/%s", domid, rel);
    if ((rc = mica_xs_read(&g.xs, 0, path, &s)))
        return rc;
    errno = 0;
    *v = strtoull(s, &end, 10);
    rc = (!*s || *end || errno) ? -EINVAL : 0;
    free(s);
    return rc;
}

static void attach(uint32_t domid)
{
    uint64_t mfn, port;
    char path[96], *name = NULL, logpath[512];
    int err = 0, rc;
    struct dom *d;

    if (read_u64(domid, "console/ring-ref", &mfn) || read_u64(domid, "console/port", &port))
        return;   /* no PV console (or not written yet): nothing to serve */
    d = calloc(1, sizeof(*d));
    if (!d)
        return;
    d->domid = domid;
    d->log_fd = -1;
    d->pty_pfd = -1;
    cons_pty_init(&d->pty);
    d->unread = malloc(UNREAD_MAX);   /* without it, only the log keeps early output */
    snprintf(path, sizeof(path), "/local/domain/%u/name", domid);
    mica_xs_read(&g.xs, 0, path, &name);
    safe_name(d->name, sizeof(d->name), name ? name : "", domid);
    free(name);
    d->intf = mica_map_foreign(&g.hv, (uint16_t)domid, &mfn, 1, &err, &rc);
    if (!d->intf) {
        say("domain %u: cannot map its console page (mfn %#llx): %s", domid,
            (unsigned long long)mfn, strerror(-rc));
        free(d->unread);
        free(d);
        return;
    }
    rc = mica_evtchn_bind_interdomain(g.evtchn_fd, domid, (uint32_t)port);
    if (rc < 0) {
        say("domain %u: cannot bind console event channel %llu: %s", domid,
            (unsigned long long)port, strerror(-rc));
        mica_unmap_foreign(d->intf, 1);
        free(d->unread);
        free(d);
        return;
    }
    d->local_port = rc;
    snprintf(logpath, sizeof(logpath), "%s/%s.log", g.logdir, d->name);
    d->log_fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (d->log_fd < 0)
        say("domain %u: cannot open %s: %s (output goes to clients only)", domid, logpath,
            strerror(errno));
    pty_start(d);
    d->next = g.doms;
    g.doms = d;
    say("domain %u (%s): console attached, logging to %s%s%s", domid, d->name, logpath,
        d->pty.master >= 0 ? ", pty " : "", d->pty.master >= 0 ? d->pty.path : "");
    drain(d);
}

static void detach(struct dom *d)
{
    drain(d);   /* its last words */
    for (size_t i = g.nclients; i-- > 0;)
        if (g.clients[i].attached && g.clients[i].domid == d->domid)
            drop_client(i);
    mica_evtchn_unbind(g.evtchn_fd, (uint32_t)d->local_port);
    /* Until this unmap Mica keeps a destroyed domain dying. */
    mica_unmap_foreign(d->intf, 1);
    if (d->log_fd >= 0)
        close(d->log_fd);
    free(d->unread);
    if (d->pty.dropped)
        say("domain %u: %llu bytes of output did not fit its pty (nobody read it)", d->domid,
            d->pty.dropped);
    cons_pty_close(&d->pty);
    say("domain %u (%s): console detached", d->domid, d->name);
    for (struct dom **pp = &g.doms; *pp; pp = &(*pp)->next)
        if (*pp == d) {
            *pp = d->next;
            break;
        }
    free(d);
}

static void console_dir(char *path, size_t len, uint32_t domid)
{
    snprintf(path, len, "/local/domain/%u/console", domid);
}

static bool is_waiting(uint32_t domid)
{
    for (size_t i = 0; i < g.nwaiting; i++)
        if (g.waiting[i] == domid)
            return true;
    return false;
}

/* Watches the console directory of an introduced domain that has no
 * console nodes yet: libxl writes them after it introduces the domain. */
static int wait_for_console(uint32_t domid)
{
    char path[64];
    int rc;

    if (is_waiting(domid))
        return 0;
    if (g.nwaiting == g.capwaiting) {
        size_t cap = g.capwaiting ? 2 * g.capwaiting : 16;
        uint32_t *w = realloc(g.waiting, cap * sizeof(*w));
        if (!w)
            return -ENOMEM;
        g.waiting = w;
        g.capwaiting = cap;
    }
    console_dir(path, sizeof(path), domid);
    if ((rc = mica_xs_watch(&g.xs, path, "console")) < 0)
        return rc;
    g.waiting[g.nwaiting++] = domid;
    return 0;
}

static int stop_waiting(size_t i)
{
    char path[64];
    int rc;

    console_dir(path, sizeof(path), g.waiting[i]);
    g.waiting[i] = g.waiting[--g.nwaiting];
    rc = mica_xs_unwatch(&g.xs, path, "console");
    return rc == -ENOENT ? 0 : rc;
}

/* After any introduce/release or console write: serve introduced domains
 * with console nodes, wait for those without, drop the rest. */
static int rescan(void)
{
    char *names = NULL;
    size_t len = 0;
    int n, rc;

    for (struct dom *d = g.doms, *next; d; d = next) {
        next = d->next;
        rc = mica_xs_is_introduced(&g.xs, d->domid);
        if (rc == 0)
            detach(d);
        else if (rc < 0)
            return rc;
    }
    for (size_t i = g.nwaiting; i-- > 0;) {
        rc = find_dom(g.waiting[i]) ? 0 : mica_xs_is_introduced(&g.xs, g.waiting[i]);
        if (rc < 0)
            return rc;
        if (rc == 0 && (rc = stop_waiting(i)) < 0)
            return rc;
    }
    n = mica_xs_directory(&g.xs, 0, "/local/domain", &names, &len);
    if (n == -ENOENT)
        return 0;
    if (n < 0)
        return n;
    for (size_t off = 0; off < len; off += strlen(names + off) + 1) {
        char *end;
        unsigned long id = strtoul(names + off, &end, 10);
        if (*end || id == 0 || id >= 0x7ff0 || find_dom((uint32_t)id))
            continue;
        if (mica_xs_is_introduced(&g.xs, (uint32_t)id) != 1)
            continue;
        attach((uint32_t)id);
        if (!find_dom((uint32_t)id) && (rc = wait_for_console((uint32_t)id)) < 0) {
            free(names);
            return rc;
        }
    }
    free(names);
    return 0;
}

static void client_input(size_t i)
{
    struct client *c = &g.clients[i];
    char buf[CONS_IN_SIZE];
    ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);

    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        drop_client(i);
        return;
    }
    if (n < 0)
        return;
    if (!c->attached) {
        /* The first line names the domain; nothing else may come first. */
        size_t k = 0;
        while (k < (size_t)n && buf[k] != '\n' && c->have < sizeof(c->line) - 1)
            c->line[c->have++] = buf[k++];
        if (k == (size_t)n)
            return;   /* the rest of the line later */
        c->line[c->have] = 0;
        char *end;
        unsigned long id = strtoul(c->line, &end, 10);
        struct dom *d = (k < (size_t)n && buf[k] == '\n' && !*end) ? find_dom((uint32_t)id) : NULL;
        if (!d) {
            char msg[128];
            int l = snprintf(msg, sizeof(msg), "ERR no console is served for domain '%s'\n",
                             c->line);
            if (send(c->fd, msg, (size_t)l, MSG_NOSIGNAL) < 0) {
                /* gone anyway */
            }
            drop_client(i);
            return;
        }
        c->domid = d->domid;
        c->attached = true;
        if (send(c->fd, "OK\n", 3, MSG_NOSIGNAL) < 0) {
            drop_client(i);
            return;
        }
        /* What the guest wrote while nobody listened, as a pty would keep it. */
        if (d->unread_len > 0) {
            if (send(c->fd, d->unread, d->unread_len, MSG_NOSIGNAL) < 0) {
                drop_client(i);
                return;
            }
            d->unread_len = 0;
        }
        memmove(buf, buf + k + 1, (size_t)n - k - 1);
        n -= (ssize_t)(k + 1);
    }
    struct dom *d = find_dom(c->domid);
    if (!d || d->broken || n == 0)
        return;
    /* What does not fit now is dropped, as a full UART would. */
    if (cons_ring_write_input(d->intf, buf, (size_t)n) > 0)
        mica_evtchn_notify(g.evtchn_fd, (uint32_t)d->local_port);
}

/* The domain's pty had poll events: keystrokes to the guest (as much as
 * its input ring has room for), pending output out. */
static void pty_events(struct dom *d, short revents)
{
    char buf[CONS_IN_SIZE];
    long space, n;
    int rc;

    if (revents & (POLLERR | POLLHUP | POLLNVAL)) {
        pty_broken(d, EIO);
        return;
    }
    if ((revents & POLLIN) && !d->broken && (space = cons_ring_input_space(d->intf)) > 0) {
        n = cons_pty_input(&d->pty, buf, (size_t)space < sizeof(buf) ? (size_t)space : sizeof(buf));
        if (n < 0) {
            pty_broken(d, (int)-n);
            return;
        }
        if (n > 0 && cons_ring_write_input(d->intf, buf, (size_t)n) > 0)
            mica_evtchn_notify(g.evtchn_fd, (uint32_t)d->local_port);
    }
    if ((revents & POLLOUT) && (rc = cons_pty_flush(&d->pty)) < 0)
        pty_broken(d, -rc);
}

static int listen_at(const char *path)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    char tmp[sizeof(a.sun_path)];
    int fd;

    if (strlen(path) >= sizeof(a.sun_path) ||
        snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid()) >= (int)sizeof(tmp)) {
        say("socket path %s is too long", path);
        return -1;
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    strcpy(a.sun_path, tmp);
    unlink(tmp);
    /* Bound under a temporary name and renamed: once the path exists it answers. */
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || chmod(tmp, 0600) < 0 ||
        listen(fd, 16) < 0 || rename(tmp, path) < 0) {
        say("cannot listen at %s: %s", path, strerror(errno));
        unlink(tmp);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static bool answering(const char *path)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof(a.sun_path))
        return false;
    strcpy(a.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    bool live = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    close(fd);
    return live;
}

static int mkdirs(const char *dir)
{
    char tmp[512];
    snprintf(tmp, sizeof(tmp), "%s", dir);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(tmp, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: micaconsoled [options]\n"
            "  -s, --socket PATH     where 'vmctl console' connects (default " DEFAULT_SOCKET ")\n"
            "  -l, --log-dir DIR     guest output goes to DIR/NAME.log (default " DEFAULT_LOGDIR ")\n"
            "  -F, --foreground      do not detach from the terminal\n"
            "  -p, --pid-file PATH   write the daemon's pid to PATH\n"
            "      --xen-dev-dir DIR where privcmd and evtchn are (default " DEFAULT_DEVDIR ")\n"
            "  -h, --help            this text\n"
            "xenstored's socket is found as libxenstore finds it (XENSTORED_PATH).\n");
}

int main(int argc, char **argv)
{
    const char *sock = DEFAULT_SOCKET, *devdir = DEFAULT_DEVDIR, *pid_file = NULL;
    bool foreground = false;
    static const struct option longopts[] = {
        { "socket", required_argument, NULL, 's' },
        { "log-dir", required_argument, NULL, 'l' },
        { "foreground", no_argument, NULL, 'F' },
        { "pid-file", required_argument, NULL, 'p' },
        { "xen-dev-dir", required_argument, NULL, 'X' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    char path[4096];
    int opt, rc, lfd;

    g.logdir = DEFAULT_LOGDIR;
    while ((opt = getopt_long(argc, argv, "s:l:Fp:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 's': sock = optarg; break;
        case 'l': g.logdir = optarg; break;
        case 'F': foreground = true; break;
        case 'p': pid_file = optarg; break;
        case 'X': devdir = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }
    /* A second daemon would take the consoles' rings and the socket from
       the first: refuse before touching anything. */
    if (answering(sock)) {
        say("already running: another micaconsoled serves %s", sock);
        return 1;
    }

    snprintf(path, sizeof(path), "%s/privcmd", devdir);
    if ((rc = mica_hv_open(&g.hv, path)) < 0) {
        say("cannot open %s: %s (micaconsoled runs in dom0)", path, strerror(-rc));
        return 1;
    }
    snprintf(path, sizeof(path), "%s/evtchn", devdir);
    if ((g.evtchn_fd = mica_evtchn_open(path)) < 0) {
        say("cannot open %s: %s", path, strerror(-g.evtchn_fd));
        return 1;
    }
    if ((rc = mica_xs_open(&g.xs, NULL)) < 0) {
        say("cannot reach xenstored at %s: %s", mica_xs_socket_path(), strerror(-rc));
        return 1;
    }
    if (mkdirs(g.logdir) < 0) {
        say("cannot create %s: %s", g.logdir, strerror(errno));
        return 1;
    }
    snprintf(path, sizeof(path), "%s", sock);
    char *slash = strrchr(path, '/');
    if (slash && slash != path) {
        *slash = 0;
        mkdirs(path);
    }
    if ((lfd = listen_at(sock)) < 0)
        return 1;
    /* The initial events of both watches make the first scan. */
    if ((rc = mica_xs_watch(&g.xs, "@introduceDomain", "intro")) ||
        (rc = mica_xs_watch(&g.xs, "@releaseDomain", "release"))) {
        say("cannot watch xenstore: %s", strerror(-rc));
        unlink(sock);
        return 1;
    }
    if (!foreground) {
        pid_t pid = fork();
        if (pid < 0) {
            say("cannot detach: %s", strerror(errno));
            return 1;
        }
        if (pid > 0)
            _exit(0);
        setsid();
        int null = open("/dev/null", O_RDWR);
        if (null >= 0) {
            dup2(null, STDIN_FILENO);
            dup2(null, STDOUT_FILENO);
            if (null > STDERR_FILENO)
                close(null);
        }
    }
    if (pid_file) {
        snprintf(path, sizeof(path), "%s", pid_file);
        slash = strrchr(path, '/');
        if (slash && slash != path) {
            *slash = 0;
            mkdirs(path);
        }
        FILE *f = fopen(pid_file, "w");
        if (!f || fprintf(f, "%ld\n", (long)getpid()) < 0 || fclose(f) != 0) {
            say("cannot write %s", pid_file);
            unlink(sock);
            return 1;
        }
    }
    struct sigaction sa = { .sa_handler = on_signal };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    say("serving %s, logs in %s", sock, g.logdir);

    rc = 0;
    struct pollfd *p = NULL;
    size_t pcap = 0;
    while (!stop_requested) {
        size_t n = 0, want = 3 + g.nclients;
        char *wpath, *token;
        int e;

        /* Events kept while we were asking xenstored something come first. */
        bool scan = false;
        while ((e = mica_xs_event(&g.xs, false, &wpath, &token)) == 1) {
            free(wpath);
            free(token);
            scan = true;
        }
        if (e < 0) {
            say("xenstored went away (%s); stopping", strerror(-e));
            rc = 1;
            break;
        }
        if (scan && (e = rescan()) < 0) {
            say("xenstore scan failed: %s; stopping", strerror(-e));
            rc = 1;
            break;
        }
        if (mica_xs_event_pending(&g.xs))
            continue;

        for (struct dom *d = g.doms; d; d = d->next)
            want++;
        if (want > pcap) {
            struct pollfd *np = realloc(p, want * sizeof(*p));
            if (!np) {
                say("out of memory for %zu poll entries; stopping", want);
                rc = 1;
                break;
            }
            p = np;
            pcap = want;
        }
        p[n++] = (struct pollfd){ .fd = g.xs.fd, .events = POLLIN };
        p[n++] = (struct pollfd){ .fd = g.evtchn_fd, .events = POLLIN };
        p[n++] = (struct pollfd){ .fd = lfd, .events = POLLIN };
        for (size_t i = 0; i < g.nclients; i++)
            p[n++] = (struct pollfd){ .fd = g.clients[i].fd, .events = POLLIN };
        /* A pty is read only while the guest's input ring has room (the
         * guest's event after it consumes input brings us back here). */
        for (struct dom *d = g.doms; d; d = d->next) {
            short ev = 0;
            d->pty_pfd = -1;
            if (d->pty.master < 0)
                continue;
            if (!d->broken && cons_ring_input_space(d->intf) > 0)
                ev |= POLLIN;
            if (cons_pty_has_pending(&d->pty))
                ev |= POLLOUT;
            d->pty_pfd = (int)n;
            p[n++] = (struct pollfd){ .fd = d->pty.master, .events = ev };
        }
        if (poll(p, n, -1) < 0) {
            if (errno == EINTR)
                continue;
            say("poll: %s", strerror(errno));
            rc = 1;
            break;
        }
        if (p[1].revents & POLLIN) {
            int port;
            while ((port = mica_evtchn_pending(g.evtchn_fd)) >= 0) {
                for (struct dom *d = g.doms; d; d = d->next)
                    if (d->local_port == port)
                        drain(d);
                mica_evtchn_unmask(g.evtchn_fd, (uint32_t)port);
            }
        }
        /* Before the clients: a client's departure reorders them, not the ptys. */
        for (struct dom *d = g.doms; d; d = d->next)
            if (d->pty_pfd >= 0 && p[d->pty_pfd].fd == d->pty.master && p[d->pty_pfd].revents)
                pty_events(d, p[d->pty_pfd].revents);
        size_t polled = g.nclients;
        for (size_t i = polled; i-- > 0;)
            if (p[3 + i].revents)
                client_input(i);
        if (p[2].revents & POLLIN) {
            int fd;
            while ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
                if (g.nclients >= MAX_CLIENTS) {
                    close(fd);
                    continue;
                }
                g.clients[g.nclients++] = (struct client){ .fd = fd };
            }
        }
    }

    free(p);
    free(g.waiting);
    while (g.doms)
        detach(g.doms);
    while (g.nclients)
        drop_client(g.nclients - 1);
    close(lfd);
    unlink(sock);
    if (pid_file)
        unlink(pid_file);
    mica_xs_close(&g.xs);
    close(g.evtchn_fd);
    mica_hv_close(&g.hv);
    return rc;
}
