/* vmctl migrate --copy-storage: local disks copied with the guest (copystore.h). */
#define _GNU_SOURCE
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/fs.h>
#include <linux/nbd.h>

#include "copystore.h"
#include "dmdev.h"
#include "fdio.h"
#include "store.h"

#define DISK_HELLO "MICA-DISK 1 ready"
#define REGISTRY_DIR "/run/mica/migrate-in"
/* The largest NBD request the server takes (the kernel's are far smaller). */
#define MAX_REQUEST (32u << 20)
/* The mirror's region: the unit it copies and tracks (sectors). */
#define REGION_SECTORS 1024u
/* A copy that makes no progress for this long has failed. */
#define STALL_S 180
/* The NBD device's I/O time-out: a destination that stops answering
   fails the leg (the guest's writes go on to the local image). */
#define NBD_TIMEOUT_S 60

_Static_assert(sizeof(struct nbd_request) == 28, "NBD request header");
_Static_assert(sizeof(struct nbd_reply) == 16, "NBD simple reply");

static int csfail(struct copystore *cs, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int csfail(struct copystore *cs, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cs->err, sizeof(cs->err), fmt, ap);
    va_end(ap);
    return -1;
}

static int failf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int failf(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* 1 read all, 0 end of file first, -1 error. */
static int read_all(int fd, void *buf, size_t len)
{
    char *p = buf;
    while (len) {
        ssize_t r = read(fd, p, len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            return 0;
        p += r;
        len -= (size_t)r;
    }
    return 1;
}

static char *xs_get(struct mica_xs *xs, const char *dir, const char *name)
{
    char path[256], *v = NULL;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return mica_xs_read(xs, 0, path, &v) == 0 ? v : NULL;
}

/* ---------------------------------------------------------------- sender */

static int plan_one(struct copystore *cs, struct mica_xs *xs, const char *be)
{
    char *dev = xs_get(xs, be, "dev"), *params = xs_get(xs, be, "params");
    char *mode = xs_get(xs, be, "mode"), *node = xs_get(xs, be, "node");
    int rc = -1;
    struct stat st;
    if (!dev || !params || !mode) {
        csfail(cs, "the disk at %s has no dev, params or mode node", be);
        goto out;
    }
    if (stat(params, &st) < 0) {
        csfail(cs, "disk %s: %s: %s", dev, params, strerror(errno));
        goto out;
    }
    if (S_ISBLK(st.st_mode)) {
        csfail(cs, "disk %s is the block device %s: --copy-storage copies image files only; "
               "put the device on storage both hosts reach (NBD, iSCSI) and migrate without "
               "--copy-storage, or copy its contents into an image file and use <disk "
               "type='file'>", dev, params);
        goto out;
    }
    if (!S_ISREG(st.st_mode) || !node || strncmp(node, "/dev/loop", 9) != 0) {
        csfail(cs, "disk %s (%s) is not a raw image file served through a loop device (a "
               "qcow2 image?): --copy-storage copies raw images only; convert it with "
               "'qemu-img convert -O raw' or put it on shared storage", dev, params);
        goto out;
    }
    struct cs_disk *d = realloc(cs->d, (cs->n + 1) * sizeof(*d));
    if (!d) {
        csfail(cs, "out of memory");
        goto out;
    }
    cs->d = d;
    d = &cs->d[cs->n];
    memset(d, 0, sizeof(*d));
    d->sock = d->nbd_fd = -1;
    snprintf(d->target, sizeof(d->target), "%s", dev);
    snprintf(d->path, sizeof(d->path), "%s", params);
    snprintf(d->loop, sizeof(d->loop), "%s", node);
    d->bytes = (uint64_t)st.st_size;
    d->readonly = strcmp(mode, "w") != 0;
    if (!d->readonly) {
        struct stat ls;
        char line[512];
        uint64_t sectors = 0;
        dm_name_for_loop(node, d->dmname);
        if (stat(node, &ls) < 0 || !S_ISBLK(ls.st_mode)) {
            csfail(cs, "disk %s: its loop device %s is gone", dev, node);
            goto out;
        }
        d->loop_rdev = ls.st_rdev;
        int r = dm_available() ? dm_status(d->dmname, true, line, sizeof(line), &sectors)
                               : -ENODEV;
        if (r) {
            csfail(cs, "disk %s (%s) is served without device-mapper (%s), so its writes "
                   "cannot be tracked while it is copied: restart the domain on a dom0 with "
                   "the dm-mod and dm-mirror modules, or migrate without --copy-storage",
                   dev, params, r == -ENODEV ? "no /dev/mapper/control" : strerror(-r));
            goto out;
        }
        if (strncmp(line, "linear ", 7) != 0) {
            csfail(cs, "disk %s: its device-mapper device %s has the table '%s', not the "
                   "linear one vmctl made (another migration copying it?)", dev, d->dmname,
                   line);
            goto out;
        }
        d->sectors = sectors;
        if (d->bytes < d->sectors * 512) {
            csfail(cs, "disk %s: %s is %" PRIu64 " bytes, smaller than its device (%" PRIu64
                   " sectors): it was truncated while attached", dev, params, d->bytes,
                   d->sectors);
            goto out;
        }
    }
    cs->n++;
    cs->total_bytes += d->bytes;
    rc = 0;
out:
    free(dev);
    free(params);
    free(mode);
    free(node);
    return rc;
}

int cs_refuse_shareable(const struct domain_config *cfg, char *err, size_t errlen)
{
    for (size_t i = 0; i < cfg->n_disks; i++) {
        const struct domcfg_disk *disk = &cfg->disks[i];
        if (disk->shareable)
            return failf(err, errlen, "disk %s (%s) is <shareable/>: other domains may write "
                         "it while it is copied, and the copy would miss their writes, so "
                         "--copy-storage does not copy it; put it on storage both hosts reach "
                         "(NBD, iSCSI, NFS) and migrate without --copy-storage, or, if no "
                         "other domain uses it, take <shareable/> out of the definition "
                         "('vmctl define')", disk->target, disk->source);
    }
    return 0;
}

/* The stored definition of NAME, if there is one that loads: what travels
   to the destination (MICA_DEFINITION) and what it attaches there. */
static int check_stored_definition(struct copystore *cs, const char *name)
{
    struct store st;
    if (store_init(&st) != 0)
        return 0;
    char *path = store_path(&st, name);
    struct domain_config cfg;
    struct domcfg_diags diags;
    int rc = 0;
    domcfg_diags_init(&diags, name);
    if (path && access(path, F_OK) == 0 &&
        domcfg_load_file(path, 0, &cfg, &diags, NULL) == DOMCFG_OK) {
        rc = cs_refuse_shareable(&cfg, cs->err, sizeof(cs->err));
        domcfg_free(&cfg);
    }
    domcfg_diags_free(&diags);
    free(path);
    store_fini(&st);
    return rc;
}

int cs_plan(struct copystore *cs, struct mica_xs *xs, uint32_t domid, const char *name)
{
    char path[96], *names = NULL;
    if (check_stored_definition(cs, name))
        return -1;
    size_t len = 0;
    snprintf(path, sizeof(path), "/local/domain/0/backend/vbd/%u", domid);
    int count = mica_xs_directory(xs, 0, path, &names, &len);
    if (count < 0 && count != -ENOENT)
        return csfail(cs, "reading %s failed: %s", path, strerror(-count));
    int rc = 0;
    for (size_t off = 0; count > 0 && off < len && !rc; off += strlen(names + off) + 1) {
        char be[160];
        snprintf(be, sizeof(be), "%s/%s", path, names + off);
        rc = plan_one(cs, xs, be);
    }
    free(names);
    return rc;
}

int cs_announce(struct copystore *cs, int fd)
{
    char line[64];
    for (size_t i = 0; i < cs->n; i++) {
        int n = snprintf(line, sizeof(line), "copy-disk %s %" PRIu64 "\n", cs->d[i].target,
                         cs->d[i].bytes);
        if (fdio_write_all(fd, line, (size_t)n))
            return csfail(cs, "the connection to the destination was lost");
    }
    if (fdio_write_all(fd, "copy-end\n", 9))
        return csfail(cs, "the connection to the destination was lost");
    return 0;
}

/* ssh DEST vmctl migrate-receive --token T --disk TARGET on a socketpair. */
static int spawn_disk_ssh(struct copystore *cs, struct cs_disk *d)
{
    int sv[2];
    char *cmdline = NULL;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
        return csfail(cs, "socketpair: %s", strerror(errno));
    if (asprintf(&cmdline, "exec %s %s vmctl migrate-receive --token %s --disk %s", cs->ssh,
                 cs->dest, cs->token, d->target) < 0) {
        close(sv[0]);
        close(sv[1]);
        return csfail(cs, "out of memory");
    }
    d->ssh = fork();
    if (d->ssh < 0) {
        d->ssh = 0;
        free(cmdline);
        close(sv[0]);
        close(sv[1]);
        return csfail(cs, "fork: %s", strerror(errno));
    }
    if (d->ssh == 0) {
        dup2(sv[1], 0);
        dup2(sv[1], 1);
        execl("/bin/sh", "sh", "-c", cmdline, (char *)NULL);
        _exit(127);
    }
    free(cmdline);
    close(sv[1]);
    d->sock = sv[0];
    char line[128], want[64];
    snprintf(want, sizeof(want), DISK_HELLO " %" PRIu64, d->bytes);
    if (fdio_read_line(d->sock, line, sizeof(line), 90, NULL) != 1 || strcmp(line, want) != 0)
        return csfail(cs, "the destination did not take the copy of disk %s (%s%s%s; its "
                      "messages, if any, are above)", d->target, line[0] ? "it said \"" : "",
                      line[0] ? line : "no answer", line[0] ? "\"" : "");
    return 0;
}

/* The end of an ssh: its exit status, or -1 (killed, or not within s). */
static int reap(pid_t *pid, int timeout_s)
{
    if (*pid <= 0)
        return -1;
    int st = 0;
    for (int waited = 0; waited <= timeout_s * 10; waited++) {
        pid_t r = waitpid(*pid, &st, WNOHANG);
        if (r == *pid) {
            *pid = 0;
            return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        }
        if (r < 0) {
            *pid = 0;
            return -1;
        }
        usleep(100 * 1000);
    }
    kill(*pid, SIGTERM);
    waitpid(*pid, &st, 0);
    *pid = 0;
    return -1;
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

/* Bytes [from, to) of the image, sent by vmctl itself as NBD writes on
   d->sock (all-zero MiB skipped: the new file reads as zeros there). */
static int copy_range(struct copystore *cs, struct cs_disk *d, uint64_t from, uint64_t to)
{
    const size_t chunk = 1u << 20;
    uint8_t *buf = malloc(chunk);
    int fd = open(d->path, O_RDONLY | O_CLOEXEC);
    int rc = -1;
    if (!buf || fd < 0) {
        csfail(cs, "reading %s: %s", d->path, buf ? strerror(errno) : "out of memory");
        goto out;
    }
    uint64_t handle = 0;
    for (uint64_t off = from; off < to; off += chunk) {
        size_t n = to - off < chunk ? (size_t)(to - off) : chunk;
        ssize_t got = pread(fd, buf, n, (off_t)off);
        if (got != (ssize_t)n) {
            csfail(cs, "reading %s at %" PRIu64 " failed: %s", d->path, off,
                   got < 0 ? strerror(errno) : "short read (did it shrink?)");
            goto out;
        }
        if (all_zero(buf, n))
            continue;
        struct nbd_request rq = { .magic = htobe32(NBD_REQUEST_MAGIC),
                                  .type = htobe32(NBD_CMD_WRITE),
                                  .from = htobe64(off), .len = htobe32((uint32_t)n) };
        handle++;
        memcpy(rq.handle, &handle, sizeof(rq.handle));
        struct nbd_reply rp;
        if (fdio_write_all(d->sock, &rq, sizeof(rq)) || fdio_write_all(d->sock, buf, n) ||
            read_all(d->sock, &rp, sizeof(rp)) != 1) {
            csfail(cs, "the copy of disk %s to the destination broke off at %" PRIu64
                   " of %" PRIu64 " bytes", d->target, off, d->bytes);
            goto out;
        }
        if (be32toh(rp.magic) != NBD_REPLY_MAGIC || rp.error) {
            csfail(cs, "the destination could not write disk %s at %" PRIu64 " (error %u)",
                   d->target, off, be32toh(rp.error));
            goto out;
        }
    }
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    free(buf);
    return rc;
}

/* The destination's leg, its disk complete, ends; 0 when it wrote the disk whole. */
static int await_destination(struct copystore *cs, struct cs_disk *d)
{
    int st = reap(&d->ssh, 120);
    if (st != 0)
        return csfail(cs, "the destination did not finish disk %s (exit %d; its messages "
                      "are above)", d->target, st);
    d->done = true;
    return 0;
}

/* A read-only image: sent once, whole, then the disconnect. */
static int copy_readonly(struct copystore *cs, struct cs_disk *d)
{
    if (copy_range(cs, d, 0, d->bytes))
        return -1;
    struct nbd_request disc = { .magic = htobe32(NBD_REQUEST_MAGIC),
                                .type = htobe32(NBD_CMD_DISC) };
    if (fdio_write_all(d->sock, &disc, sizeof(disc)))
        return csfail(cs, "the copy of disk %s to the destination broke off at its end",
                      d->target);
    shutdown(d->sock, SHUT_WR);
    return await_destination(cs, d);
}

/* A free /dev/nbdN whose socket is d->sock, served by a keeper process. */
static int nbd_connect(struct copystore *cs, struct cs_disk *d)
{
    int rc = -EBUSY;
    for (int i = 0; i < 128 && rc == -EBUSY; i++) {
        char sys[64], dev[32];
        snprintf(sys, sizeof(sys), "/sys/block/nbd%d", i);
        if (access(sys, F_OK) != 0)
            break;
        snprintf(sys, sizeof(sys), "/sys/block/nbd%d/pid", i);
        if (access(sys, F_OK) == 0)
            continue;
        snprintf(dev, sizeof(dev), "/dev/nbd%d", i);
        int fd = open(dev, O_RDWR | O_CLOEXEC);
        if (fd < 0)
            continue;
        if (ioctl(fd, NBD_SET_BLKSIZE, 512UL) < 0 || ioctl(fd, NBD_SET_SIZE, (unsigned long)d->bytes) < 0 ||
            ioctl(fd, NBD_SET_TIMEOUT, (unsigned long)NBD_TIMEOUT_S) < 0 ||
            /* Discards pass (blkback advertises them for a read-write
               disk; a mirror leg without them would fail the guest's). */
            ioctl(fd, NBD_SET_FLAGS, (unsigned long)(NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_TRIM)) < 0 ||
            ioctl(fd, NBD_SET_SOCK, (unsigned long)d->sock) < 0) {
            int e = errno;
            close(fd);
            if (e == EBUSY)
                continue;
            return csfail(cs, "setting up %s for disk %s failed: %s", dev, d->target,
                          strerror(e));
        }
        pid_t k = fork();
        if (k < 0) {
            ioctl(fd, NBD_CLEAR_SOCK);
            close(fd);
            return csfail(cs, "fork: %s", strerror(errno));
        }
        if (k == 0) {
            /* The kernel holds the socket now; this process only serves
               NBD_DO_IT until the disconnect. */
            signal(SIGTERM, SIG_DFL);
            close(d->sock);
            ioctl(fd, NBD_DO_IT);
            ioctl(fd, NBD_CLEAR_SOCK);
            _exit(0);
        }
        d->keeper = k;
        d->nbd_fd = fd;
        snprintf(d->nbd, sizeof(d->nbd), "%s", dev);
        close(d->sock);
        d->sock = -1;
        rc = 0;
    }
    if (rc)
        return csfail(cs, "no free NBD device in dom0 for disk %s (is the nbd module loaded?)",
                      d->target);
    /* Started once the kernel made its pid file. */
    char pidf[64];
    snprintf(pidf, sizeof(pidf), "/sys/block/%s/pid", d->nbd + 5);
    for (int n = 0; n < 100 && access(pidf, F_OK) != 0; n++)
        usleep(50 * 1000);
    if (access(pidf, F_OK) != 0)
        return csfail(cs, "%s did not start for disk %s", d->nbd, d->target);
    return 0;
}

static void nbd_disconnect(struct cs_disk *d)
{
    if (d->nbd_fd >= 0) {
        ioctl(d->nbd_fd, NBD_DISCONNECT);
        if (d->keeper > 0) {
            int st;
            for (int n = 0; n < 100 && waitpid(d->keeper, &st, WNOHANG) == 0; n++)
                usleep(50 * 1000);
            if (waitpid(d->keeper, &st, WNOHANG) == 0) {
                kill(d->keeper, SIGTERM);
                waitpid(d->keeper, &st, 0);
            }
            d->keeper = 0;
        }
        ioctl(d->nbd_fd, NBD_CLEAR_SOCK);
        close(d->nbd_fd);
        d->nbd_fd = -1;
    }
}

static void linear_params(const struct cs_disk *d, char *buf, size_t len)
{
    snprintf(buf, len, "%u:%u 0", major(d->loop_rdev), minor(d->loop_rdev));
}

static int start_mirror(struct copystore *cs, struct cs_disk *d)
{
    struct stat st;
    if (stat(d->nbd, &st) < 0)
        return csfail(cs, "%s: %s", d->nbd, strerror(errno));
    unsigned region = REGION_SECTORS;
    while (region > 2 && region > d->sectors)
        region /= 2;
    char params[160], why[400];
    snprintf(params, sizeof(params), "core 1 %u 2 %u:%u 0 %u:%u 0", region,
             major(d->loop_rdev), minor(d->loop_rdev), major(st.st_rdev), minor(st.st_rdev));
    if (dm_reload(d->dmname, d->sectors, "mirror", params, why, sizeof(why)))
        return csfail(cs, "disk %s: %s", d->target, why);
    d->mirrored = true;
    return 0;
}

/* The mirror's status: regions in sync, all, and whether a leg failed. */
static int mirror_state(struct copystore *cs, struct cs_disk *d, uint64_t *in_sync,
                        uint64_t *total)
{
    char line[512];
    int r = dm_status(d->dmname, false, line, sizeof(line), NULL);
    if (r)
        return csfail(cs, "reading the state of %s failed: %s", d->dmname, strerror(-r));
    /* "mirror 2 MAJ:MIN MAJ:MIN IN/TOTAL 1 HEALTH ..." */
    char *save = NULL, *tok = strtok_r(line, " ", &save);
    tok = strtok_r(NULL, " ", &save);
    int legs = tok ? atoi(tok) : 0;
    for (int i = 0; i < legs && tok; i++)
        tok = strtok_r(NULL, " ", &save);
    tok = tok ? strtok_r(NULL, " ", &save) : NULL;
    unsigned long long a, b;
    if (legs != 2 || !tok || sscanf(tok, "%llu/%llu", &a, &b) != 2)
        return csfail(cs, "the state of %s is not a two-leg mirror's", d->dmname);
    tok = strtok_r(NULL, " ", &save);
    char *health = tok ? strtok_r(NULL, " ", &save) : NULL;
    if (!health || strcmp(health, "AA") != 0)
        return csfail(cs, "the copy of disk %s failed (mirror health '%s': %s)", d->target,
                      health ? health : "?", health && health[0] == 'A'
                          ? "writing to the destination failed"
                          : "the local image failed");
    *in_sync = a;
    *total = b;
    return 0;
}

/* A mirrored disk's state, and whether its destination side still runs. */
static int disk_state(struct copystore *cs, struct cs_disk *d, uint64_t *in_sync,
                      uint64_t *total)
{
    if (mirror_state(cs, d, in_sync, total))
        return -1;
    int st;
    if (d->ssh > 0 && waitpid(d->ssh, &st, WNOHANG) == d->ssh) {
        d->ssh = 0;
        return csfail(cs, "the destination's side of the copy of disk %s ended (%s %d; its "
                      "messages, if any, are above)", d->target,
                      WIFEXITED(st) ? "exit" : "signal",
                      WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
    }
    return 0;
}

int cs_check(struct copystore *cs)
{
    for (size_t i = 0; i < cs->n; i++) {
        struct cs_disk *d = &cs->d[i];
        uint64_t a, b;
        if (!d->readonly && d->mirrored && disk_state(cs, d, &a, &b))
            return -1;
    }
    return 0;
}

/* What lies past the device's last whole sector (an image whose size is
   not a multiple of 512): the guest cannot reach it, so it is copied once,
   by vmctl, before the mirror starts. */
static int copy_tail(struct copystore *cs, struct cs_disk *d)
{
    uint64_t from = cs_tail_start(d->bytes, d->sectors);
    return from < d->bytes ? copy_range(cs, d, from, d->bytes) : 0;
}

uint64_t cs_tail_start(uint64_t bytes, uint64_t sectors)
{
    uint64_t dev = sectors * 512;
    return dev < bytes ? dev : bytes;
}

int cs_start(struct copystore *cs)
{
    for (size_t i = 0; i < cs->n; i++)
        if (spawn_disk_ssh(cs, &cs->d[i]))
            return -1;
    for (size_t i = 0; i < cs->n; i++)
        if (cs->d[i].readonly && copy_readonly(cs, &cs->d[i]))
            return -1;
    for (size_t i = 0; i < cs->n; i++) {
        struct cs_disk *d = &cs->d[i];
        if (!d->readonly && (copy_tail(cs, d) || nbd_connect(cs, d) || start_mirror(cs, d)))
            return -1;
    }
    /* Until every region is in sync on every disk. */
    uint64_t best = 0;
    double last_progress = fdio_now_s();
    for (;;) {
        uint64_t in = 0, all = 0;
        for (size_t i = 0; i < cs->n; i++) {
            struct cs_disk *d = &cs->d[i];
            if (d->readonly)
                continue;
            uint64_t a, b;
            if (disk_state(cs, d, &a, &b))
                return -1;
            in += a;
            all += b;
        }
        if (isatty(2) && all)
            fprintf(stderr, "\rMigrating: copying disks, %" PRIu64 " of %" PRIu64
                    " regions in sync   ", in, all);
        if (in == all)
            break;
        if (in > best) {
            best = in;
            last_progress = fdio_now_s();
        } else if (fdio_now_s() - last_progress > STALL_S) {
            return csfail(cs, "copying the disks made no progress for %d s (%" PRIu64 " of %"
                          PRIu64 " regions in sync)", STALL_S, in, all);
        }
        usleep(200 * 1000);
    }
    if (isatty(2))
        fputc('\n', stderr);
    return 0;
}

int cs_finish(struct copystore *cs)
{
    char why[400], params[64];
    for (size_t i = 0; i < cs->n; i++) {
        struct cs_disk *d = &cs->d[i];
        if (d->readonly || !d->mirrored)
            continue;
        /* Every write blkback had in flight completes on both legs. */
        if (dm_suspend(d->dmname, why, sizeof(why)))
            return csfail(cs, "disk %s: %s", d->target, why);
        d->dm_suspended = true;
        uint64_t a, b;
        if (mirror_state(cs, d, &a, &b))
            return -1;
        if (a != b)
            return csfail(cs, "disk %s: %" PRIu64 " of %" PRIu64 " regions in sync after the "
                          "last writes (a write to the destination failed)", d->target, a, b);
        /* Back to the local image alone (this resumes the device). */
        linear_params(d, params, sizeof(params));
        if (dm_reload(d->dmname, d->sectors, "linear", params, why, sizeof(why)))
            return csfail(cs, "disk %s: %s", d->target, why);
        d->mirrored = false;
        d->dm_suspended = false;
        nbd_disconnect(d);
        if (await_destination(cs, d))
            return -1;
    }
    return 0;
}

void cs_abort(struct copystore *cs)
{
    char why[400], params[64];
    for (size_t i = 0; i < cs->n; i++) {
        struct cs_disk *d = &cs->d[i];
        /* The NBD leg goes first: its requests in flight fail at once (the
           mirror completes the guest's writes from the local leg alone),
           so the table switch below never waits on a destination that
           stopped answering. */
        nbd_disconnect(d);
        if (d->mirrored) {
            linear_params(d, params, sizeof(params));
            if (dm_reload(d->dmname, d->sectors, "linear", params, why, sizeof(why)))
                fprintf(stderr, "vmctl migrate: warning: disk %s: %s\n", d->target, why);
            else
                d->mirrored = false;
        }
        if (d->dm_suspended && !dm_resume(d->dmname, why, sizeof(why)))
            d->dm_suspended = false;
        if (d->mirrored || d->dm_suspended)
            fprintf(stderr, "vmctl migrate: warning: the device-mapper device %s of disk %s "
                    "could not be put back (see 'dmsetup table %s')\n", d->dmname, d->target,
                    d->dmname);
        if (d->sock >= 0)
            close(d->sock);
        d->sock = -1;
        if (d->ssh > 0) {
            kill(d->ssh, SIGTERM);
            int st;
            waitpid(d->ssh, &st, 0);
            d->ssh = 0;
        }
    }
}

void cs_free(struct copystore *cs)
{
    free(cs->d);
    cs->d = NULL;
    cs->n = 0;
}

/* ---------------------------------------------------------------- receiver */

static bool target_ok(const char *t)
{
    return strlen(t) >= 4 && strlen(t) < 16 && strncmp(t, "xvd", 3) == 0 &&
           strspn(t + 3, "abcdefghijklmnopqrstuvwxyz") == strlen(t + 3);
}

int cs_recv_lines(struct cs_recv *v, int fd, char *err, size_t errlen)
{
    char line[128];
    for (;;) {
        if (fdio_read_line(fd, line, sizeof(line), 120, NULL) != 1)
            return failf(err, errlen, "the sender's list of disks to copy never ended");
        if (strcmp(line, "copy-end") == 0)
            return 0;
        char target[32];
        unsigned long long bytes;
        char extra;
        if (sscanf(line, "copy-disk %31s %llu %c", target, &bytes, &extra) != 2 ||
            !target_ok(target))
            return failf(err, errlen, "the sender sent \"%.100s\" where a disk to copy was due",
                         line);
        struct cs_in *d = realloc(v->d, (v->n + 1) * sizeof(*d));
        if (!d)
            return failf(err, errlen, "out of memory");
        v->d = d;
        memset(&v->d[v->n], 0, sizeof(*d));
        memcpy(v->d[v->n].target, target, strlen(target) + 1);   /* target_ok: < 16 */
        v->d[v->n].bytes = bytes;
        v->n++;
    }
}

int cs_recv_create(struct cs_recv *v, const struct domain_config *cfg, const char *token,
                   char *err, size_t errlen)
{
    if (!token || strspn(token, "0123456789abcdef") != strlen(token) || !token[0])
        return failf(err, errlen, "--copy-storage needs the sender's --token");
    /* Every disk named is a file disk of the definition; the checks first. */
    struct { unsigned long fsid; uint64_t need; } fs[16];
    size_t nfs = 0;
    for (size_t i = 0; i < v->n; i++) {
        const struct domcfg_disk *disk = NULL;
        for (size_t k = 0; k < cfg->n_disks; k++)
            if (strcmp(cfg->disks[k].target, v->d[i].target) == 0)
                disk = &cfg->disks[k];
        if (!disk || disk->type != DOMCFG_DISK_FILE)
            return failf(err, errlen, "disk %s to copy is not an image file in the domain's "
                         "definition", v->d[i].target);
        if (disk->shareable) {
            struct domain_config one = { .disks = (struct domcfg_disk *)disk, .n_disks = 1 };
            return cs_refuse_shareable(&one, err, errlen);
        }
        free(v->d[i].path);
        v->d[i].path = strdup(disk->source);
        if (!v->d[i].path)
            return failf(err, errlen, "out of memory");
        const char *path = v->d[i].path;
        struct stat st;
        if (lstat(path, &st) == 0)
            return failf(err, errlen, "%s already exists on this host (disk %s): vmctl migrate "
                         "--copy-storage creates the copy there and never overwrites a file; "
                         "remove or move it on this host first, or, if it is the same disk "
                         "on storage both hosts share, migrate without --copy-storage",
                         path, v->d[i].target);
        char dir[4096];
        snprintf(dir, sizeof(dir), "%s", path);
        char *dn = dirname(dir);
        struct statvfs vfs;
        if (statvfs(dn, &vfs) < 0)
            return failf(err, errlen, "the directory %s for disk %s cannot be used on this "
                         "host: %s (create it first)", dn, v->d[i].target, strerror(errno));
        size_t f = 0;
        while (f < nfs && fs[f].fsid != vfs.f_fsid)
            f++;
        if (f == nfs) {
            if (nfs == 16)
                return failf(err, errlen, "too many file systems");
            fs[nfs].fsid = vfs.f_fsid;
            fs[nfs++].need = 0;
        }
        fs[f].need += v->d[i].bytes;
        uint64_t avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
        if (avail < fs[f].need)
            return failf(err, errlen, "not enough space in %s on this host for disk %s: its "
                         "image needs %" PRIu64 " MiB%s, %" PRIu64 " MiB are free", dn,
                         v->d[i].target, (v->d[i].bytes + (1 << 20) - 1) >> 20,
                         fs[f].need > v->d[i].bytes ? " (with the other disks there)" : "",
                         avail >> 20);
    }
    /* The registry: what `--disk` may open. */
    mkdir("/run/mica", 0755);
    mkdir(REGISTRY_DIR, 0700);
    snprintf(v->registry, sizeof(v->registry), REGISTRY_DIR "/%s", token);
    FILE *reg = fopen(v->registry, "wx");
    if (!reg)
        return failf(err, errlen, "creating %s failed: %s", v->registry, strerror(errno));
    v->registry_made = true;
    for (size_t i = 0; i < v->n; i++) {
        int fd = open(v->d[i].path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0) {
            fclose(reg);
            return failf(err, errlen, "creating %s failed: %s", v->d[i].path, strerror(errno));
        }
        v->d[i].created = true;
        if (ftruncate(fd, (off_t)v->d[i].bytes) < 0) {
            int e = errno;
            close(fd);
            fclose(reg);
            return failf(err, errlen, "sizing %s failed: %s", v->d[i].path, strerror(e));
        }
        close(fd);
        fprintf(reg, "%s %" PRIu64 " %s\n", v->d[i].target, v->d[i].bytes, v->d[i].path);
    }
    if (fclose(reg) != 0)
        return failf(err, errlen, "writing %s failed", v->registry);
    return 0;
}

void cs_recv_undo(struct cs_recv *v)
{
    for (size_t i = 0; i < v->n; i++) {
        if (v->d[i].created && unlink(v->d[i].path) == 0)
            fprintf(stderr, "vmctl migrate-receive: removed the partial copy %s\n",
                    v->d[i].path);
        v->d[i].created = false;
    }
    cs_recv_done(v);
}

void cs_recv_done(struct cs_recv *v)
{
    if (v->registry_made)
        unlink(v->registry);
    v->registry_made = false;
    for (size_t i = 0; i < v->n; i++)
        free(v->d[i].path);
    free(v->d);
    v->d = NULL;
    v->n = 0;
}

/* The disk server (one per disk, its own ssh session). */
int cs_disk_server(const char *token, const char *target)
{
    char reg[160], line[4200], path[4096] = "";
    uint64_t bytes = 0;
    if (!token || !token[0] || strspn(token, "0123456789abcdef") != strlen(token) ||
        !target_ok(target)) {
        fprintf(stderr, "vmctl migrate-receive --disk: needs --token and a disk name\n");
        return 2;
    }
    snprintf(reg, sizeof(reg), REGISTRY_DIR "/%s", token);
    FILE *f = fopen(reg, "r");
    while (f && fgets(line, sizeof(line), f)) {
        char t[32];
        unsigned long long b;
        int at = 0;
        line[strcspn(line, "\n")] = 0;
        if (sscanf(line, "%31s %llu %n", t, &b, &at) == 2 && at > 0 && strcmp(t, target) == 0) {
            snprintf(path, sizeof(path), "%s", line + at);
            bytes = b;
        }
    }
    if (f)
        fclose(f);
    if (!path[0]) {
        fprintf(stderr, "vmctl migrate-receive --disk %s: no migration with this token is "
                "receiving that disk here\n", target);
        return 1;
    }
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "vmctl migrate-receive --disk %s: %s: %s\n", target, path,
                strerror(errno));
        return 1;
    }
    uint8_t *buf = malloc(MAX_REQUEST);
    if (!buf)
        return 1;
    char hello[64];
    int n = snprintf(hello, sizeof(hello), DISK_HELLO " %" PRIu64 "\n", bytes);
    if (fdio_write_all(1, hello, (size_t)n))
        return 1;
    for (;;) {
        struct nbd_request rq;
        int r = read_all(0, &rq, sizeof(rq));
        if (r != 1) {
            fprintf(stderr, "vmctl migrate-receive --disk %s: the sender went away before the "
                    "copy was complete\n", target);
            return 1;
        }
        uint32_t type = be32toh(rq.type) & 0xffff, len = be32toh(rq.len);
        uint64_t from = be64toh(rq.from);
        struct nbd_reply rp = { .magic = htobe32(NBD_REPLY_MAGIC) };
        memcpy(rp.handle, rq.handle, sizeof(rp.handle));
        if (be32toh(rq.magic) != NBD_REQUEST_MAGIC) {
            fprintf(stderr, "vmctl migrate-receive --disk %s: not an NBD request\n", target);
            return 1;
        }
        if (type == NBD_CMD_DISC) {
            if (fsync(fd) < 0) {
                fprintf(stderr, "vmctl migrate-receive --disk %s: fsync of %s failed: %s\n",
                        target, path, strerror(errno));
                return 1;
            }
            close(fd);
            return 0;
        }
        bool in_range = from <= bytes && len <= bytes - from && len <= MAX_REQUEST;
        if (type == NBD_CMD_WRITE) {
            if (len > MAX_REQUEST) {
                fprintf(stderr, "vmctl migrate-receive --disk %s: a write of %u bytes\n",
                        target, len);
                return 1;
            }
            if (read_all(0, buf, len) != 1)
                return 1;
            if (!in_range)
                rp.error = htobe32(EINVAL);
            else if (pwrite(fd, buf, len, (off_t)from) != (ssize_t)len)
                rp.error = htobe32(EIO);
            if (fdio_write_all(1, &rp, sizeof(rp)))
                return 1;
        } else if (type == NBD_CMD_READ) {
            if (!in_range || pread(fd, buf, len, (off_t)from) != (ssize_t)len) {
                rp.error = htobe32(in_range ? EIO : EINVAL);
                if (fdio_write_all(1, &rp, sizeof(rp)))
                    return 1;
            } else if (fdio_write_all(1, &rp, sizeof(rp)) || fdio_write_all(1, buf, len)) {
                return 1;
            }
        } else if (type == NBD_CMD_TRIM) {
            /* The range reads as zeros afterwards (the source's loop
               device punches holes for a discard too). */
            if (!in_range || (len && fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                                               (off_t)from, (off_t)len) < 0))
                rp.error = htobe32(in_range ? EIO : EINVAL);
            if (fdio_write_all(1, &rp, sizeof(rp)))
                return 1;
        } else if (type == NBD_CMD_FLUSH) {
            if (fdatasync(fd) < 0)
                rp.error = htobe32(EIO);
            if (fdio_write_all(1, &rp, sizeof(rp)))
                return 1;
        } else {
            rp.error = htobe32(EINVAL);
            if (fdio_write_all(1, &rp, sizeof(rp)))
                return 1;
        }
    }
}
