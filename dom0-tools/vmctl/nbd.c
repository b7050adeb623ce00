/* qcow2 disks through qemu-nbd (see nbd.h, docs/snapshots.md). */
#define _GNU_SOURCE
#include "nbd.h"
#include "devices.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Where qemu-nbd --connect puts its server socket (its default,
   /var/lock, may not exist in dom0). */
#define NBD_SOCKET_DIR "/run/mica/nbd"

/* How long qemu-nbd may take to connect, and to end after a disconnect. */
#define NBD_CONNECT_MS 10000
#define NBD_RELEASE_MS 5000
/* How long a closing blkback may keep requests in flight on the device. */
#define NBD_DRAIN_MS 2000

static const char *qemu_nbd(void)
{
    const char *p = getenv("MICA_QEMU_NBD");
    return p && *p ? p : "qemu-nbd";
}

bool nbd_is_node(const char *dev)
{
    return strncmp(dev, "/dev/nbd", 8) == 0 && dev[8] >= '0' && dev[8] <= '9';
}

static void sys_path(char *buf, size_t len, const char *dev, const char *attr)
{
    const char *base = strrchr(dev, '/');
    snprintf(buf, len, "/sys/block/%s%s%s", base ? base + 1 : dev, attr ? "/" : "", attr ? attr : "");
}

/* The pid of the qemu-nbd serving dev, 0 when none (not connected). */
static long served_by(const char *dev)
{
    char path[96], buf[32];
    sys_path(path, sizeof(path), dev, "pid");
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    long pid = 0;
    if (fgets(buf, sizeof(buf), f))
        pid = strtol(buf, NULL, 10);
    fclose(f);
    return pid > 0 ? pid : 0;
}

/* Runs qemu-nbd with args; its exit status (-1: could not run), what it
   said on stderr in msg.  qemu-nbd --connect returns once connected and
   leaves its server running in the background. */
static int run_qemu_nbd(char *const argv[], char *msg, size_t msglen)
{
    int p[2];
    msg[0] = '\0';
    if (pipe2(p, O_CLOEXEC) < 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        if (null >= 0) {
            dup2(null, 0);
            dup2(null, 1);
        }
        dup2(p[1], 2);
        execvp(argv[0], argv);
        fprintf(stderr, "cannot run %s: %s (Debian's qemu-utils)", argv[0], strerror(errno));
        _exit(127);
    }
    close(p[1]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    /* The background server may hold the pipe: take what is there. */
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    size_t got = 0;
    ssize_t n;
    while (got + 1 < msglen && (n = read(p[0], msg + got, msglen - 1 - got)) > 0)
        got += (size_t)n;
    msg[got] = '\0';
    while (got && (msg[got - 1] == '\n' || msg[got - 1] == ' '))
        msg[--got] = '\0';
    for (char *c = msg; *c; c++)
        if (*c == '\n')
            *c = ' ';
    close(p[0]);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int nbd_attach(const char *source, bool readonly, char dev[32], dev_t *rdev, char *err,
               size_t errlen)
{
    if (access("/sys/block/nbd0", F_OK) < 0)
        return devices_failf(err, errlen, -ENODEV, "no /dev/nbd0 for the qcow2 image %s: load dom0's "
                     "nbd module (modprobe nbd)", source);
    if (access(source, readonly ? R_OK : R_OK | W_OK) < 0)
        return devices_failf(err, errlen, -errno, "cannot open %s%s: %s", source,
                     readonly ? "" : " for writing", strerror(errno));
    if ((mkdir("/run/mica", 0755) < 0 && errno != EEXIST) ||
        (mkdir(NBD_SOCKET_DIR, 0700) < 0 && errno != EEXIST))
        return devices_failf(err, errlen, -errno, "cannot make %s for qemu-nbd: %s", NBD_SOCKET_DIR,
                     strerror(errno));
    char path[96], msg[400];
    int tries = 0;
    for (int n = 0; tries < 8; n++) {
        snprintf(dev, 32, "/dev/nbd%d", n);
        sys_path(path, sizeof(path), dev, NULL);
        if (access(path, F_OK) < 0)
            return devices_failf(err, errlen, -EBUSY, "no free nbd device for %s (all %d in use; "
                         "load nbd with a larger nbds_max)", source, n);
        if (served_by(dev))
            continue;
        tries++;
        char conn[48], sock[80];
        snprintf(conn, sizeof(conn), "--connect=%s", dev);
        snprintf(sock, sizeof(sock), "--socket=%s/%s.sock", NBD_SOCKET_DIR, dev + 5);
        char *argv[] = { (char *)qemu_nbd(), conn, sock, "--format=qcow2", "--cache=writeback",
                         readonly ? "--read-only" : (char *)source, readonly ? (char *)source : NULL,
                         NULL };
        int rc = run_qemu_nbd(argv, msg, sizeof(msg));
        if (rc != 0) {
            /* Another vmctl may have taken the device first: try the next. */
            if (served_by(dev) && rc > 0)
                continue;
            return devices_failf(err, errlen, -EIO, "qemu-nbd could not serve %s on %s: %s", source,
                         dev, msg[0] ? msg : rc == 127 ? "qemu-nbd is not installed" :
                         "it failed without saying why");
        }
        for (int waited = 0; !served_by(dev) && waited < NBD_CONNECT_MS; waited += 50)
            devices_sleep_ms(50);
        struct stat st;
        if (!served_by(dev) || stat(dev, &st) < 0 || !S_ISBLK(st.st_mode)) {
            nbd_release(dev);
            return devices_failf(err, errlen, -EIO, "qemu-nbd said it serves %s on %s, but the "
                         "device is not connected%s%s", source, dev, msg[0] ? ": " : "", msg);
        }
        *rdev = st.st_rdev;
        return 0;
    }
    return devices_failf(err, errlen, -EBUSY, "every free nbd device was taken before vmctl could use it");
}

/* Requests blkback has not finished yet ("0 0": none). */
static bool inflight(const char *dev)
{
    char path[96], buf[64];
    sys_path(path, sizeof(path), dev, "inflight");
    FILE *f = fopen(path, "re");
    if (!f)
        return false;
    unsigned long r = 0, w = 0;
    if (fgets(buf, sizeof(buf), f))
        sscanf(buf, "%lu %lu", &r, &w);
    fclose(f);
    return r || w;
}

int nbd_release(const char *dev)
{
    if (!nbd_is_node(dev))
        return -EINVAL;
    long pid = served_by(dev);
    if (!pid)
        return 0;
    for (int waited = 0; inflight(dev) && waited < NBD_DRAIN_MS; waited += 50)
        devices_sleep_ms(50);
    char msg[256];
    char *argv[] = { (char *)qemu_nbd(), "--disconnect", (char *)dev, NULL };
    int rc = run_qemu_nbd(argv, msg, sizeof(msg));
    if (rc != 0)
        fprintf(stderr, "vmctl: warning: qemu-nbd --disconnect %s: %s\n", dev,
                msg[0] ? msg : "failed");
    /* Gone means: the device is free and the server process has ended
       (having flushed the image). */
    char proc[32];
    snprintf(proc, sizeof(proc), "/proc/%ld", pid);
    int waited = 0;
    for (; (served_by(dev) || access(proc, F_OK) == 0) && waited < NBD_RELEASE_MS; waited += 50)
        devices_sleep_ms(50);
    if (served_by(dev) || access(proc, F_OK) == 0)
        return -EBUSY;
    return 0;
}
