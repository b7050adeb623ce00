/* xenstored: command line, start-up checks, daemonising, signals. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "domain_dev.h"
#include "domain_xen.h"
#include "log.h"
#include "server.h"

#define DEFAULT_SOCKET "/var/run/xenstored/socket"
#define DEFAULT_DEVDIR "/dev/xen"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

#define DEFAULT_XENFS "/proc/xen"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: xenstored [options]\n"
            "  -s, --socket PATH     unix socket for dom0 tools (default " DEFAULT_SOCKET ")\n"
            "  -D, --no-domains      serve only the socket; no domain rings\n"
            "  -F, --foreground      do not detach from the terminal\n"
            "  -p, --pid-file PATH   write the daemon's pid to PATH\n"
            "  -v, --verbose         trace every request on stderr\n"
            "      --xen-dev-dir DIR where to look for evtchn and privcmd (default "
            DEFAULT_DEVDIR ")\n"
            "      --xenfs-dir DIR   where dom0's own store page and port are (xsd_kva,\n"
            "                        xsd_port; default " DEFAULT_XENFS "); without them\n"
            "                        dom0's kernel (its PV back-ends) is not served\n"
            "  -h, --help            this text\n");
}

/* Written to a temporary name and renamed, so readers never see half. */
static int write_pid_file(const char *path)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid()) >= (int)sizeof(tmp))
        return -1;
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    int ok = fprintf(f, "%ld\n", (long)getpid()) > 0;
    ok &= fclose(f) == 0;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

static int daemonise(void)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid > 0)
        _exit(0);
    if (setsid() < 0)
        return -1;
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
        dup2(null, STDIN_FILENO);
        dup2(null, STDOUT_FILENO);
        /* stderr stays: it may be a log file the caller redirected. */
        if (null > STDERR_FILENO)
            close(null);
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *socket_path = DEFAULT_SOCKET, *pid_file = NULL, *devdir = DEFAULT_DEVDIR;
    const char *xenfs = DEFAULT_XENFS;
    bool no_domains = false, foreground = false;
    static const struct option longopts[] = {
        { "socket", required_argument, NULL, 's' },
        { "no-domains", no_argument, NULL, 'D' },
        { "foreground", no_argument, NULL, 'F' },
        { "pid-file", required_argument, NULL, 'p' },
        { "verbose", no_argument, NULL, 'v' },
        { "xen-dev-dir", required_argument, NULL, 'X' },
        { "xenfs-dir", required_argument, NULL, 'K' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int opt;
    while ((opt = getopt_long(argc, argv, "s:DFp:vh", longopts, NULL)) != -1) {
        switch (opt) {
        case 's': socket_path = optarg; break;
        case 'D': no_domains = true; break;
        case 'F': foreground = true; break;
        case 'p': pid_file = optarg; break;
        case 'v': xs_log_verbose = true; break;
        case 'X': devdir = optarg; break;
        case 'K': xenfs = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }
    /* Before anything touches the hypervisor: a second daemon would take
       dom0's store ring and event channel from the first. */
    if (xs_server_answering(socket_path)) {
        fprintf(stderr, "xenstored: already running: another xenstored serves %s\n", socket_path);
        return 1;
    }
    char mkwhy[512];
    if (xs_server_make_parent(socket_path, mkwhy, sizeof(mkwhy)) != 0) {
        fprintf(stderr, "xenstored: %s\n", mkwhy);
        return 1;
    }

    struct xs_daemon d;
    if (xs_daemon_init(&d) != 0) {
        fprintf(stderr, "xenstored: out of memory\n");
        return 1;
    }

    struct xs_xen xen = { .evtchn_fd = -1 };
    struct xs_server_hook hook = { .fd = -1 };
    if (!no_domains) {
        char why[512];
        if (xs_domain_devices_check(devdir, why, sizeof(why)) != 0 ||
            xs_xen_open(&xen, &d, devdir, why, sizeof(why)) != 0) {
            fprintf(stderr, "xenstored: cannot serve domains: %s.\n"
                            "xenstored: run with --no-domains to serve only local "
                            "socket clients.\n", why);
            xs_daemon_destroy(&d);
            return 1;
        }
        /* Xen's xenstored does the same at start (dom0_init); a dom0
           without xenfs still gets its tools and its domUs served. */
        if (xs_xen_serve_dom0(&xen, xenfs) != 0)
            xs_log("dom0's kernel is not served (no usable %s/xsd_kva and xsd_port): its "
                   "xenbus and PV back-ends stay idle", xenfs);
        hook = (struct xs_server_hook){ .fd = xen.evtchn_fd, .ready = xs_xen_events,
                                        .after = xs_xen_pump_all, .ctx = &xen };
    }

    char why[512];
    int lfd = xs_server_listen(socket_path, why, sizeof(why));
    if (lfd < 0) {
        fprintf(stderr, "xenstored: %s\n", why);
        if (!no_domains)
            xs_xen_close(&xen);
        xs_daemon_destroy(&d);
        return 1;
    }
    /* Listening before detaching: when the parent exits, clients can connect. */
    if (!foreground && daemonise() != 0) {
        fprintf(stderr, "xenstored: cannot detach: %s\n", strerror(errno));
        unlink(socket_path);
        return 1;
    }
    if (pid_file && (xs_server_make_parent(pid_file, mkwhy, sizeof(mkwhy)) != 0 ||
                     write_pid_file(pid_file) != 0)) {
        fprintf(stderr, "xenstored: cannot write pid file %s: %s\n", pid_file, strerror(errno));
        unlink(socket_path);
        return 1;
    }

    sigset_t block, wait_mask;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGHUP);
    sigprocmask(SIG_BLOCK, &block, &wait_mask);
    sigdelset(&wait_mask, SIGTERM);
    sigdelset(&wait_mask, SIGINT);
    sigdelset(&wait_mask, SIGHUP);
    struct sigaction sa = { .sa_handler = on_signal };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    xs_log("serving %s (%s)", socket_path,
           no_domains ? "no domains" : "and domains through privcmd and evtchn");
    int rc = xs_server_run(&d, lfd, &stop_requested, &wait_mask, no_domains ? NULL : &hook);
    close(lfd);
    unlink(socket_path);
    if (pid_file)
        unlink(pid_file);
    if (!no_domains)
        xs_xen_close(&xen);
    xs_daemon_destroy(&d);
    xs_log("stopped");
    return rc == 0 ? 0 : 1;
}
