/* PV disks and network interfaces of a domain (see devices.h, docs/devices.md). */
#include "devices.h"
#include "dmdev.h"
#include "nbd.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

/* xenbus states (Xen's public/io/xenbus.h). */
#define XB_INITIALISING "1"
#define XB_CONNECTED 4
#define XB_CLOSING "5"
#define XB_CLOSED 6

/* What libxl writes as "script"; netback refuses a vif without one (it
   hands it to udev), and vmctl does that script's work itself. */
#define BLOCK_SCRIPT "/etc/xen/scripts/block"
#define VIF_SCRIPT "/etc/xen/scripts/vif-bridge"
/* xc_domain_get_native_protocol() of a 64-bit PV domain. */
#define PROTOCOL_X86_64 "x86_64-abi"
/* How long netback may take to make vifD.N after the nodes appear. */
#define VIF_APPEAR_MS 30000
/* How long a released loop device may stay held by a closing blkback. */
#define LOOP_RELEASE_MS 5000

int devices_failf(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return rc;
}

void devices_sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* ---- names and numbers ---- */

long devices_vbd_number(const char *target)
{
    /* Xen's encoding (docs/misc/vbd-interface.txt): the letters are a
       bijective base-26 disk index; disks 0-15 use the xvd major 202 with
       16 minors each, the rest the extended form 1<<28 | index<<8. */
    if (strncmp(target, "xvd", 3) != 0)
        return -1;
    const char *p = target + 3;
    long index = -1;
    size_t n = 0;
    for (; *p; p++, n++) {
        if (*p < 'a' || *p > 'z' || n >= 3)
            return -1;
        index = (index + 1) * 26 + (*p - 'a');
    }
    if (n == 0)
        return -1;
    return index < 16 ? (202L << 8) | (index << 4) : (1L << 28) | (index << 8);
}

static void format_mac(const uint8_t mac[6], char out[18])
{
    snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
             mac[5]);
}

void devices_pick_macs(struct domain_config *cfg)
{
    for (size_t i = 0; i < cfg->n_nics; i++) {
        struct domcfg_nic *nic = &cfg->nics[i];
        if (nic->has_mac)
            continue;
        uint8_t r[3] = { 0 };
        if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
            unsigned v = (unsigned)time(NULL) ^ (unsigned)getpid() ^ (unsigned)(i * 7919);
            r[0] = (uint8_t)v, r[1] = (uint8_t)(v >> 8), r[2] = (uint8_t)(v >> 16);
        }
        /* Xen's OUI, as libxl picks them. */
        nic->mac[0] = 0x00, nic->mac[1] = 0x16, nic->mac[2] = 0x3e;
        nic->mac[3] = r[0] & 0x7f, nic->mac[4] = r[1], nic->mac[5] = r[2];
        nic->has_mac = true;
    }
}

static void backend_dir(char *buf, size_t len, const char *kind, uint32_t domid, unsigned devid)
{
    snprintf(buf, len, "/local/domain/0/backend/%s/%u/%u", kind, domid, devid);
}

static void frontend_dir(char *buf, size_t len, const char *kind, uint32_t domid, unsigned devid)
{
    snprintf(buf, len, "/local/domain/%u/device/%s/%u", domid, kind, devid);
}

static const char *kind_name(enum devices_kind k)
{
    return k == DEVICES_VBD ? "vbd" : "vif";
}

/* ---- xenstore helpers ---- */

char *devices_read_at(struct mica_xs *xs, const char *dir, const char *name)
{
    char path[256], *v = NULL;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (mica_xs_read(xs, 0, path, &v) != 0)
        return NULL;
    return v;
}

int devices_each_number(struct mica_xs *xs, const char *path,
                        void (*fn)(void *ctx, unsigned n), void *ctx)
{
    char *names = NULL;
    size_t len = 0;
    int count = mica_xs_directory(xs, 0, path, &names, &len);
    if (count < 0)
        return count;
    for (size_t off = 0; off < len;) {
        const char *name = names + off;
        char *end;
        unsigned long n = strtoul(name, &end, 10);
        if (*name && !*end)
            fn(ctx, (unsigned)n);
        off += strlen(name) + 1;
    }
    free(names);
    return 0;
}

struct writer {
    struct mica_xs *xs;
    uint32_t tx;
    int rc;
    char *err;
    size_t errlen;
};

static void put(struct writer *w, const char *dir, const char *name, const char *value)
{
    char path[256];
    if (w->rc)
        return;
    snprintf(path, sizeof(path), "%s%s%s", dir, *name ? "/" : "", name);
    int rc = mica_xs_write(w->xs, w->tx, path, value);
    if (rc) {
        w->rc = rc;
        snprintf(w->err, w->errlen, "xenstore write %s failed: %s", path, strerror(-rc));
    }
}

static void putu(struct writer *w, const char *dir, const char *name, unsigned long v)
{
    char buf[24];
    snprintf(buf, sizeof(buf), "%lu", v);
    put(w, dir, name, buf);
}

static void perms(struct writer *w, const char *path, const char *owner, const char *reader)
{
    const char *p[2] = { owner, reader };
    if (w->rc)
        return;
    int rc = mica_xs_set_perms(w->xs, w->tx, path, p, 2);
    if (rc) {
        w->rc = rc;
        snprintf(w->err, w->errlen, "xenstore set-perms %s failed: %s", path, strerror(-rc));
    }
}

/* ---- loop devices (what Xen's block script does with losetup) ---- */

/* Binds source to a free loop device (read-only if asked); 0 with the
   device's path and number, or -errno. */
static int loop_attach(const char *source, bool readonly, char dev[32], dev_t *rdev, char *err,
                       size_t errlen)
{
    int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
    if (ctl < 0)
        return devices_failf(err, errlen, -errno, "cannot open /dev/loop-control: %s (is the loop "
                     "module loaded in dom0?)", strerror(errno));
    int file = open(source, (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
    if (file < 0) {
        int e = errno;
        close(ctl);
        return devices_failf(err, errlen, -e, "cannot open %s%s: %s", source,
                     readonly ? "" : " for writing", strerror(e));
    }
    int rc = -EBUSY;
    /* Another process may take the free device first: ask again. */
    for (int tries = 0; tries < 8 && rc == -EBUSY; tries++) {
        int n = ioctl(ctl, LOOP_CTL_GET_FREE);
        if (n < 0) {
            rc = devices_failf(err, errlen, -errno, "no free loop device: %s", strerror(errno));
            break;
        }
        snprintf(dev, 32, "/dev/loop%d", n);
        int lfd = open(dev, O_RDWR | O_CLOEXEC);
        if (lfd < 0) {
            rc = devices_failf(err, errlen, -errno, "cannot open %s: %s", dev, strerror(errno));
            break;
        }
        if (ioctl(lfd, LOOP_SET_FD, file) < 0) {
            rc = errno == EBUSY ? -EBUSY
                                : devices_failf(err, errlen, -errno, "binding %s to %s failed: %s",
                                        source, dev, strerror(errno));
            close(lfd);
            continue;
        }
        struct loop_info64 info;
        memset(&info, 0, sizeof(info));
        snprintf((char *)info.lo_file_name, sizeof(info.lo_file_name), "%s", source);
        struct stat st;
        if (ioctl(lfd, LOOP_SET_STATUS64, &info) < 0 || fstat(lfd, &st) < 0) {
            rc = devices_failf(err, errlen, -errno, "setting up %s for %s failed: %s", dev, source,
                       strerror(errno));
            ioctl(lfd, LOOP_CLR_FD, 0);
        } else {
            *rdev = st.st_rdev;
            rc = 0;
        }
        close(lfd);
    }
    if (rc == -EBUSY)
        devices_failf(err, errlen, rc, "every free loop device was taken before vmctl could use it");
    close(file);
    close(ctl);
    return rc;
}

static bool loop_bound(const char *dev)
{
    char path[96];
    const char *base = strrchr(dev, '/');
    snprintf(path, sizeof(path), "/sys/block/%s/loop/backing_file", base ? base + 1 : dev);
    return access(path, F_OK) == 0;
}

/* Unbinds a loop device vmctl bound; one the back-end still holds is
   unbound by the kernel when it lets go (LOOP_CLR_FD then only marks it),
   which is waited for.  The dm-linear device over it (a read-write image,
   dm_over_loop) goes first: removed now, or when blkback closes it. */
static int loop_release(const char *dev)
{
    if (strncmp(dev, "/dev/loop", 9) != 0)
        return -EINVAL;
    char dmname[64];
    dm_name_for_loop(dev, dmname);
    if (dm_available())
        dm_remove(dmname);
    int fd = open(dev, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -errno;
    int rc = ioctl(fd, LOOP_CLR_FD, 0) < 0 && errno != ENXIO ? -errno : 0;
    close(fd);
    for (int waited = 0; rc == 0 && loop_bound(dev) && waited < LOOP_RELEASE_MS; waited += 50)
        devices_sleep_ms(50);
    if (rc == 0 && loop_bound(dev))
        rc = -EBUSY;
    return rc;
}

/* A read-write image's loop device is served through a dm-linear device
   "mica-loopN" over it (dmdev.h), so that vmctl migrate --copy-storage can
   switch the table to a mirror while the guest runs (docs/migration.md).
   Without device-mapper in dom0 the loop device is served as it is (and
   --copy-storage says so).  0 with *rdev and path, or -errno. */
static int dm_over_loop(const char *loopdev, dev_t loop_rdev, dev_t *rdev, char path[32],
                        char *err, size_t errlen)
{
    if (!dm_available())
        return 0;
    int fd = open(loopdev, O_RDONLY | O_CLOEXEC);
    uint64_t bytes = 0;
    if (fd < 0 || ioctl(fd, BLKGETSIZE64, &bytes) < 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return devices_failf(err, errlen, -e, "reading the size of %s failed: %s", loopdev,
                             strerror(e));
    }
    close(fd);
    if (bytes < 512)
        return 0;       /* nothing to map; blkback serves the empty loop device */
    char name[64], params[64], why[300];
    dm_name_for_loop(loopdev, name);
    dm_remove(name);    /* a stale one from a vmctl that died mid-way */
    snprintf(params, sizeof(params), "%u:%u 0", major(loop_rdev), minor(loop_rdev));
    dev_t d;
    int rc = dm_create(name, bytes / 512, "linear", params, &d, why, sizeof(why));
    if (rc)
        return devices_failf(err, errlen, rc, "%s", why);
    *rdev = d;
    snprintf(path, 32, "/dev/dm-%u", minor(d));
    return 0;
}

/* A loop device, or an nbd device serving a qcow2 image (nbd.c). */
static int node_release(const char *dev)
{
    return nbd_is_node(dev) ? nbd_release(dev) : loop_release(dev);
}

/* ---- network interfaces (what vif-bridge does with ip and brctl) ---- */

static bool is_bridge(const char *name)
{
    char path[128];
    if (!*name || strchr(name, '/') || strlen(name) >= IFNAMSIZ)
        return false;
    snprintf(path, sizeof(path), "/sys/class/net/%s/bridge", name);
    return access(path, F_OK) == 0;
}

static bool iface_exists(const char *name)
{
    char path[128];
    snprintf(path, sizeof(path), "/sys/class/net/%s", name);
    return access(path, F_OK) == 0;
}

static int iface_ioctl(unsigned long req, struct ifreq *ifr)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -errno;
    int rc = ioctl(s, req, ifr) < 0 ? -errno : 0;
    close(s);
    return rc;
}

static int iface_rename(const char *from, const char *to)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", from);
    snprintf(ifr.ifr_newname, IFNAMSIZ, "%s", to);
    return iface_ioctl(SIOCSIFNAME, &ifr);
}

static int iface_up(const char *name)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
    int rc = iface_ioctl(SIOCGIFFLAGS, &ifr);
    if (rc)
        return rc;
    ifr.ifr_flags |= IFF_UP;
    return iface_ioctl(SIOCSIFFLAGS, &ifr);
}

static int bridge_port(const char *bridge, const char *iface, bool add)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", bridge);
    ifr.ifr_ifindex = (int)if_nametoindex(iface);
    if (!ifr.ifr_ifindex)
        return -ENODEV;
    return iface_ioctl(add ? SIOCBRADDIF : SIOCBRDELIF, &ifr);
}

/* ---- who uses what ---- */

struct scan {
    struct mica_xs *xs;
    const char *kind;
    unsigned domid;
    /* vbd: the source being checked */
    struct stat want;
    bool want_rw;
    bool found;
    unsigned other;
    char other_mode[4];
    /* vif: the MAC being checked */
    const char *mac;
    /* domid + 1 of a domain not to look at, or 0 */
    unsigned long skip;
};

static bool same_object(const struct stat *a, const struct stat *b)
{
    if (S_ISBLK(a->st_mode) && S_ISBLK(b->st_mode))
        return a->st_rdev == b->st_rdev;
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

static void scan_device(void *ctx, unsigned devid)
{
    struct scan *s = ctx;
    char dir[128];
    backend_dir(dir, sizeof(dir), s->kind, s->domid, devid);
    if (s->mac) {
        char *mac = devices_read_at(s->xs, dir, "mac");
        if (mac && strcasecmp(mac, s->mac) == 0 && !s->found) {
            s->found = true;
            s->other = s->domid;
        }
        free(mac);
        return;
    }
    char *params = devices_read_at(s->xs, dir, "params");
    char *mode = devices_read_at(s->xs, dir, "mode");
    struct stat st;
    if (params && mode && stat(params, &st) == 0 && same_object(&st, &s->want) &&
        (s->want_rw || strcmp(mode, "w") == 0) && !s->found) {
        s->found = true;
        s->other = s->domid;
        snprintf(s->other_mode, sizeof(s->other_mode), "%s", mode);
    }
    free(params);
    free(mode);
}

static void scan_domain(void *ctx, unsigned domid)
{
    struct scan *s = ctx;
    char path[96];
    if (s->skip && domid + 1ul == s->skip)
        return;
    s->domid = domid;
    snprintf(path, sizeof(path), "/local/domain/0/backend/%s/%u", s->kind, domid);
    devices_each_number(s->xs, path, scan_device, s);
}

static void scan_all(struct scan *s)
{
    char path[96];
    snprintf(path, sizeof(path), "/local/domain/0/backend/%s", s->kind);
    devices_each_number(s->xs, path, scan_domain, s);
}

/* Name of a running domain for messages. */
static void domain_label(struct mica_xs *xs, unsigned domid, char *buf, size_t len)
{
    char path[64], *name = NULL;
    snprintf(path, sizeof(path), "/local/domain/%u/name", domid);
    if (mica_xs_read(xs, 0, path, &name) == 0 && *name)
        snprintf(buf, len, "domain %u '%s'", domid, name);
    else
        snprintf(buf, len, "domain %u", domid);
    free(name);
}

/* A disk's problem as a sentence, or 0. */
static int check_disk(struct mica_xs *xs, const struct domcfg_disk *d, unsigned long skip,
                      char *err, size_t errlen)
{
    struct stat st;
    if (devices_vbd_number(d->target) < 0)
        return devices_failf(err, errlen, -EINVAL, "<target dev='%s'> is not a Xen PV disk name; use "
                     "xvd followed by 1 to 3 letters (xvda, xvdb, ..., xvdaa)", d->target);
    if (stat(d->source, &st) < 0)
        return devices_failf(err, errlen, -errno, "the disk source %s cannot be used: %s", d->source,
                     strerror(errno));
    if (d->type == DOMCFG_DISK_FILE && !S_ISREG(st.st_mode))
        return devices_failf(err, errlen, -EINVAL, "the disk source %s is not a regular file; for a "
                     "block device write <disk type='block'> with <source dev=...>", d->source);
    if (d->type == DOMCFG_DISK_BLOCK && !S_ISBLK(st.st_mode))
        return devices_failf(err, errlen, -EINVAL, "the disk source %s is not a block device; for an "
                     "image file write <disk type='file'> with <source file=...>", d->source);
    bool rw = !d->readonly && !d->cdrom;
    if (access(d->source, rw ? R_OK | W_OK : R_OK) < 0)
        return devices_failf(err, errlen, -errno, "the disk source %s cannot be opened%s: %s",
                     d->source, rw ? " for writing (add <readonly/> if it is meant read-only)"
                                   : "", strerror(errno));
    if (d->shareable)
        return 0;
    struct scan s = { .xs = xs, .kind = "vbd", .want = st, .want_rw = rw, .skip = skip };
    scan_all(&s);
    if (s.found) {
        char who[96];
        domain_label(xs, s.other, who, sizeof(who));
        return devices_failf(err, errlen, -EBUSY, "the disk source %s is already attached %s to %s; "
                     "a disk may be shared only read-only by all (<readonly/>) or with "
                     "<shareable/>", d->source, strcmp(s.other_mode, "w") == 0 ? "read-write"
                                                                              : "read-only",
                     who);
    }
    return 0;
}

static int check_nic(struct mica_xs *xs, const struct domcfg_nic *n, unsigned long skip,
                     char *err, size_t errlen)
{
    if (n->type == DOMCFG_NIC_ETHERNET)
        return devices_failf(err, errlen, -EINVAL, "<interface type='ethernet'> (a routed vif) is "
                     "not served by vmctl; use <interface type='bridge'> with <source "
                     "bridge='...'/>");
    if (!is_bridge(n->bridge))
        return devices_failf(err, errlen, -ENODEV, "the bridge '%s' does not exist in dom0 (make it "
                     "with 'ip link add %s type bridge' or 'brctl addbr %s')", n->bridge,
                     n->bridge, n->bridge);
    if (n->target_dev && iface_exists(n->target_dev))
        return devices_failf(err, errlen, -EEXIST, "<target dev='%s'>: dom0 already has an interface "
                     "of that name", n->target_dev);
    if (n->has_mac) {
        char mac[18];
        format_mac(n->mac, mac);
        struct scan s = { .xs = xs, .kind = "vif", .mac = mac, .skip = skip };
        scan_all(&s);
        if (s.found) {
            char who[96];
            domain_label(xs, s.other, who, sizeof(who));
            return devices_failf(err, errlen, -EEXIST, "the MAC address %s is already used by %s; "
                         "give this interface another <mac address=...> or leave it out", mac,
                         who);
        }
    }
    return 0;
}

int devices_check(struct mica_xs *xs, const struct domain_config *cfg,
                  const struct devices_origin *origin)
{
    char err[512];
    int bad = 0;
    unsigned long skip = origin->skip_domain ? origin->skip_domid + 1ul : 0;
    for (size_t i = 0; i < cfg->n_disks; i++) {
        if (check_disk(xs, &cfg->disks[i], skip, err, sizeof(err))) {
            fprintf(stderr, "%s:%d: %s\n", origin->file, cfg->disks[i].line, err);
            bad++;
        }
    }
    for (size_t i = 0; i < cfg->n_nics; i++) {
        if (check_nic(xs, &cfg->nics[i], skip, err, sizeof(err))) {
            fprintf(stderr, "%s:%d: %s\n", origin->file, cfg->nics[i].line, err);
            bad++;
        }
    }
    return bad;
}

/* ---- attaching ---- */

/* What a disk needs in dom0 before its nodes are written. */
struct vbd_prep {
    long devid;
    char node[32];      /* loop or nbd device vmctl bound, "" for a block device */
    char path[32];      /* what blkback opens when it is not node: the dm device */
    dev_t rdev;
};

static int vbd_prepare(const struct domcfg_disk *d, struct vbd_prep *p, char *err,
                       size_t errlen)
{
    struct stat st;
    memset(p, 0, sizeof(*p));
    p->devid = devices_vbd_number(d->target);
    if (p->devid < 0)
        return devices_failf(err, errlen, -EINVAL, "'%s' is not a Xen PV disk name (xvda, xvdb, ...)",
                     d->target);
    if (d->format == DOMCFG_FORMAT_QCOW2)
        return nbd_attach(d->source, d->readonly || d->cdrom, p->node, &p->rdev, err, errlen);
    if (d->type == DOMCFG_DISK_BLOCK) {
        if (stat(d->source, &st) < 0 || !S_ISBLK(st.st_mode))
            return devices_failf(err, errlen, -ENODEV, "%s is not a block device", d->source);
        p->rdev = st.st_rdev;
        return 0;
    }
    bool ro = d->readonly || d->cdrom;
    int rc = loop_attach(d->source, ro, p->node, &p->rdev, err, errlen);
    if (rc || ro)
        return rc;
    if ((rc = dm_over_loop(p->node, p->rdev, &p->rdev, p->path, err, errlen))) {
        loop_release(p->node);
        p->node[0] = 0;
    }
    return rc;
}

static void vbd_write(struct writer *w, uint32_t domid, const struct domcfg_disk *d,
                      const struct vbd_prep *p)
{
    char be[128], fe[128], owner_fe[16], reader_fe[16], buf[32];
    backend_dir(be, sizeof(be), "vbd", domid, (unsigned)p->devid);
    frontend_dir(fe, sizeof(fe), "vbd", domid, (unsigned)p->devid);
    snprintf(owner_fe, sizeof(owner_fe), "n%u", domid);
    snprintf(reader_fe, sizeof(reader_fe), "r%u", domid);
    bool rw = !d->readonly && !d->cdrom;

    /* The guest owns its front-end directory and dom0 reads it; dom0 owns
       the back-end and the guest reads it (libxl__device_generic_add). */
    put(w, fe, "", "");
    perms(w, fe, owner_fe, "r0");
    put(w, fe, "backend", be);
    put(w, fe, "backend-id", "0");
    put(w, fe, "state", XB_INITIALISING);
    putu(w, fe, "virtual-device", (unsigned long)p->devid);
    put(w, fe, "device-type", d->cdrom ? "cdrom" : "disk");
    put(w, fe, "trusted", "1");
    put(w, fe, "protocol", PROTOCOL_X86_64);

    put(w, be, "", "");
    perms(w, be, "n0", reader_fe);
    put(w, be, "frontend", fe);
    put(w, be, "params", d->source);
    put(w, be, "script", BLOCK_SCRIPT);
    putu(w, be, "frontend-id", domid);
    put(w, be, "online", "1");
    put(w, be, "removable", "0");
    put(w, be, "bootable", "1");
    put(w, be, "state", XB_INITIALISING);
    put(w, be, "dev", d->target);
    put(w, be, "type", "phy");
    put(w, be, "mode", rw ? "w" : "r");
    put(w, be, "device-type", d->cdrom ? "cdrom" : "disk");
    put(w, be, "discard-enable", rw ? "1" : "0");
    /* The block script's results: blkback opens physical-device (major:
       minor in hex) once it appears. */
    snprintf(buf, sizeof(buf), "%x:%x", major(p->rdev), minor(p->rdev));
    put(w, be, "physical-device", buf);
    put(w, be, "physical-device-path", p->path[0] ? p->path : p->node[0] ? p->node : d->source);
    if (p->node[0])
        put(w, be, "node", p->node);
    put(w, be, "hotplug-status", "connected");
}

static void vif_write(struct writer *w, uint32_t domid, const struct domcfg_nic *n,
                      unsigned devid)
{
    char be[128], fe[128], owner_fe[16], reader_fe[16], mac[18];
    backend_dir(be, sizeof(be), "vif", domid, devid);
    frontend_dir(fe, sizeof(fe), "vif", domid, devid);
    snprintf(owner_fe, sizeof(owner_fe), "n%u", domid);
    snprintf(reader_fe, sizeof(reader_fe), "r%u", domid);
    format_mac(n->mac, mac);

    put(w, fe, "", "");
    perms(w, fe, owner_fe, "r0");
    put(w, fe, "backend", be);
    put(w, fe, "backend-id", "0");
    put(w, fe, "state", XB_INITIALISING);
    putu(w, fe, "handle", devid);
    put(w, fe, "mac", mac);
    put(w, fe, "trusted", "1");
    /* libxl's "read-only front-end" entry: dom0 owns it, the guest reads. */
    put(w, fe, "mtu", "1500");
    if (!w->rc) {
        char path[160];
        snprintf(path, sizeof(path), "%s/mtu", fe);
        perms(w, path, "n0", reader_fe);
    }

    put(w, be, "", "");
    perms(w, be, "n0", reader_fe);
    put(w, be, "frontend", fe);
    putu(w, be, "frontend-id", domid);
    put(w, be, "online", "1");
    put(w, be, "state", XB_INITIALISING);
    put(w, be, "script", VIF_SCRIPT);
    if (n->target_dev)
        put(w, be, "vifname", n->target_dev);
    put(w, be, "mac", mac);
    put(w, be, "bridge", n->bridge);
    putu(w, be, "handle", devid);
    put(w, be, "type", "vif");
    /* Present and empty: netback then waits for "connected", which vmctl
       writes once the vif is on its bridge. */
    put(w, be, "hotplug-status", "");
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* What netback wrote with xenbus_dev_fatal() for this back-end, if anything
   ("error/backend/vif/D/N/error" under dom0's home), or NULL. */
static char *backend_fatal(struct mica_xs *xs, uint32_t domid, unsigned devid)
{
    char dir[160];
    snprintf(dir, sizeof(dir), "/local/domain/0/error/backend/vif/%u/%u", domid, devid);
    return devices_read_at(xs, dir, "error");
}

/* Waits until the kernel finds the network interface by name.  netback
   registers vifD.N in its probe; register_netdevice() adds the sysfs
   entry (and sends the "add" uevent) before it puts the device on the
   list that name lookups search, so /sys/class/net/NAME can exist while
   SIOCGIFFLAGS on NAME still fails with ENODEV.  Xen's hotplug scripts
   never see that window: they run on netback's "online" uevent, sent after
   register_netdev() has returned.  Here the name lookup (SIOCGIFINDEX,
   through if_nametoindex) is the test.  Gives up early if netback reported
   a fatal error for the back-end. */
static int vif_wait(struct mica_xs *xs, uint32_t domid, unsigned devid, const char *name,
                    char *err, size_t errlen)
{
    long long deadline = now_ms() + VIF_APPEAR_MS;
    for (unsigned polls = 0;; polls++) {
        if (if_nametoindex(name))
            return 0;
        if (polls % 25 == 24) {
            char *fatal = backend_fatal(xs, domid, devid);
            if (fatal) {
                int rc = devices_failf(err, errlen, -EIO, "dom0's netback gave up on the "
                                       "back-end of %s: %s", name, fatal);
                free(fatal);
                return rc;
            }
        }
        if (now_ms() >= deadline)
            break;
        devices_sleep_ms(20);
    }
    return devices_failf(err, errlen, -ETIMEDOUT, "dom0's netback made no interface %s within "
                         "%d s (is the xen-netback module loaded in dom0? is dom0 short of "
                         "memory?)", name, VIF_APPEAR_MS / 1000);
}

/* Sets IFF_UP; an ENODEV (the name not yet, or no longer, found) is retried
   until the deadline of vif_wait. */
static int iface_up_wait(const char *name)
{
    long long deadline = now_ms() + VIF_APPEAR_MS;
    int rc;
    while ((rc = iface_up(name)) == -ENODEV && now_ms() < deadline)
        devices_sleep_ms(20);
    return rc;
}

/* netback makes vifDOMID.HANDLE when it sees the nodes; vmctl then does
   vif-bridge's part: rename (<target dev>), up, onto the bridge. */
static int vif_plug(struct mica_xs *xs, uint32_t domid, const struct domcfg_nic *n,
                    unsigned devid, char *err, size_t errlen)
{
    char made[IFNAMSIZ], be[128], path[160];
    snprintf(made, sizeof(made), "vif%u.%u", domid, devid);
    const char *name = made;
    int rc;
    if ((rc = vif_wait(xs, domid, devid, made, err, errlen)))
        return rc;
    if (n->target_dev) {
        if ((rc = iface_rename(made, n->target_dev)))
            return devices_failf(err, errlen, rc, "renaming %s to %s failed: %s", made, n->target_dev,
                         strerror(-rc));
        name = n->target_dev;
    }
    if ((rc = iface_up_wait(name)))
        return devices_failf(err, errlen, rc, "bringing %s up failed: %s", name, strerror(-rc));
    if ((rc = bridge_port(n->bridge, name, true)))
        return devices_failf(err, errlen, rc, "adding %s to bridge %s failed: %s", name, n->bridge,
                     strerror(-rc));
    backend_dir(be, sizeof(be), "vif", domid, devid);
    snprintf(path, sizeof(path), "%s/hotplug-status", be);
    if ((rc = mica_xs_write(xs, 0, path, "connected"))) {
        bridge_port(n->bridge, name, false);
        return devices_failf(err, errlen, rc, "xenstore write %s failed: %s", path, strerror(-rc));
    }
    return 0;
}

/* Writes the nodes of the disks in preps and the nics from first_nic on
   (handles first_nic..), in one transaction, retried on conflict. */
static int write_devices(struct mica_xs *xs, uint32_t domid, const struct domcfg_disk *disks,
                         const struct vbd_prep *preps, size_t n_disks,
                         const struct domcfg_nic *nics, size_t n_nics, unsigned first_handle,
                         char *err, size_t errlen)
{
    int rc = -EAGAIN;
    for (int tries = 0; tries < 5 && rc == -EAGAIN; tries++) {
        struct writer w = { .xs = xs, .err = err, .errlen = errlen };
        if ((rc = mica_xs_tx_start(xs, &w.tx)))
            return devices_failf(err, errlen, rc, "xenstore transaction start failed: %s",
                         strerror(-rc));
        for (size_t i = 0; i < n_disks; i++) {
            char be[128];
            char *old;
            backend_dir(be, sizeof(be), "vbd", domid, (unsigned)preps[i].devid);
            if ((old = devices_read_at(xs, be, "frontend"))) {
                free(old);
                w.rc = devices_failf(err, errlen, -EEXIST, "the domain already has a disk %s",
                             disks[i].target);
            }
            vbd_write(&w, domid, &disks[i], &preps[i]);
        }
        for (size_t i = 0; i < n_nics; i++)
            vif_write(&w, domid, &nics[i], first_handle + (unsigned)i);
        if (w.rc) {
            mica_xs_tx_end(xs, w.tx, false);
            return w.rc;
        }
        rc = mica_xs_tx_end(xs, w.tx, true);
    }
    if (rc == -EAGAIN)
        return devices_failf(err, errlen, rc, "xenstore transaction kept conflicting; gave up");
    if (rc)
        return devices_failf(err, errlen, rc, "xenstore transaction commit failed: %s", strerror(-rc));
    return 0;
}

int devices_attach_all(struct mica_xs *xs, uint32_t domid, const struct domain_config *cfg,
                       char *err, size_t errlen)
{
    struct vbd_prep *preps = calloc(cfg->n_disks ? cfg->n_disks : 1, sizeof(*preps));
    size_t prepared = 0;
    int rc = 0;
    if (!preps)
        return devices_failf(err, errlen, -ENOMEM, "out of memory");
    for (; prepared < cfg->n_disks && !rc; prepared++) {
        char why[400];
        if ((rc = vbd_prepare(&cfg->disks[prepared], &preps[prepared], why, sizeof(why))))
            devices_failf(err, errlen, rc, "disk %s: %s", cfg->disks[prepared].target, why);
    }
    if (rc) {
        prepared--;
        goto undo_loops;
    }
    rc = write_devices(xs, domid, cfg->disks, preps, cfg->n_disks, cfg->nics, cfg->n_nics, 0,
                       err, errlen);
    if (rc)
        goto undo_loops;
    for (size_t i = 0; i < cfg->n_nics && !rc; i++) {
        char why[400];
        if ((rc = vif_plug(xs, domid, &cfg->nics[i], (unsigned)i, why, sizeof(why))))
            devices_failf(err, errlen, rc, "interface %u (line %d): %s", (unsigned)i,
                  cfg->nics[i].line, why);
    }
    if (rc)
        devices_detach_all(xs, domid, 0);
    free(preps);
    return rc;
undo_loops:
    for (size_t i = 0; i < prepared; i++)
        if (preps[i].node[0])
            node_release(preps[i].node);
    free(preps);
    return rc;
}

int devices_attach_disk(struct mica_xs *xs, uint32_t domid, const struct domcfg_disk *disk,
                        char *err, size_t errlen)
{
    struct vbd_prep prep;
    int rc = check_disk(xs, disk, 0, err, errlen);
    if (rc)
        return rc;
    if ((rc = vbd_prepare(disk, &prep, err, errlen)))
        return rc;
    rc = write_devices(xs, domid, disk, &prep, 1, NULL, 0, 0, err, errlen);
    if (rc && prep.node[0])
        node_release(prep.node);
    return rc;
}

struct max_handle {
    unsigned next;
};

static void note_handle(void *ctx, unsigned devid)
{
    struct max_handle *m = ctx;
    if (devid + 1 > m->next)
        m->next = devid + 1;
}

unsigned devices_next_vif(struct mica_xs *xs, uint32_t domid)
{
    char path[96];
    struct max_handle m = { 0 };
    snprintf(path, sizeof(path), "/local/domain/0/backend/vif/%u", domid);
    devices_each_number(xs, path, note_handle, &m);
    return m.next;
}

int devices_attach_nic(struct mica_xs *xs, uint32_t domid, const struct domcfg_nic *nic,
                       unsigned devid, char *err, size_t errlen)
{
    int rc = check_nic(xs, nic, 0, err, errlen);
    if (rc)
        return rc;
    if ((rc = write_devices(xs, domid, NULL, NULL, 0, nic, 1, devid, err, errlen)))
        return rc;
    char why[400];
    if ((rc = vif_plug(xs, domid, nic, devid, why, sizeof(why)))) {
        devices_failf(err, errlen, rc, "%s", why);
        devices_detach(xs, domid, DEVICES_VIF, devid, 0, why, sizeof(why));
    }
    return rc;
}

/* ---- detaching ---- */

static int state_of(struct mica_xs *xs, const char *be)
{
    char *v = devices_read_at(xs, be, "state");
    int s = v ? atoi(v) : -1;
    free(v);
    return s;
}

int devices_detach(struct mica_xs *xs, uint32_t domid, enum devices_kind kind, unsigned devid,
                   int wait_ms, char *err, size_t errlen)
{
    const char *k = kind_name(kind);
    char be[128], fe[128], path[160];
    backend_dir(be, sizeof(be), k, domid, devid);
    frontend_dir(fe, sizeof(fe), k, domid, devid);
    char *fe_named = devices_read_at(xs, be, "frontend");
    if (!fe_named)
        return devices_failf(err, errlen, -ENOENT, "domain %u has no %s %u", domid, k, devid);
    free(fe_named);
    char *node = devices_read_at(xs, be, "node");
    char *bridge = devices_read_at(xs, be, "bridge");
    char *vifname = devices_read_at(xs, be, "vifname");

    /* libxl's handshake: a connected back-end is told to close and given
       time to reach Closed with its front-end; online=0 makes it go away
       afterwards instead of waiting for a reconnect. */
    if (state_of(xs, be) == XB_CONNECTED) {
        uint32_t tx;
        if (mica_xs_tx_start(xs, &tx) == 0) {
            snprintf(path, sizeof(path), "%s/online", be);
            mica_xs_write(xs, tx, path, "0");
            snprintf(path, sizeof(path), "%s/state", be);
            mica_xs_write(xs, tx, path, XB_CLOSING);
            mica_xs_tx_end(xs, tx, true);
        }
        for (int waited = 0; waited < wait_ms && state_of(xs, be) != XB_CLOSED; waited += 50)
            devices_sleep_ms(50);
    } else {
        snprintf(path, sizeof(path), "%s/online", be);
        mica_xs_write(xs, 0, path, "0");
    }
    int rc = 0;
    if (kind == DEVICES_VIF && bridge) {
        char name[IFNAMSIZ];
        snprintf(name, sizeof(name), "%s", vifname ? vifname : "");
        if (!vifname)
            snprintf(name, sizeof(name), "vif%u.%u", domid, devid);
        if (iface_exists(name) && is_bridge(bridge))
            bridge_port(bridge, name, false);
    }
    /* Removing the back-end directory makes the back-end let go of the
       guest's grants and of the device (forced, if it did not close). */
    int rm_fe = mica_xs_rm(xs, 0, fe);
    int rm_be = mica_xs_rm(xs, 0, be);
    if (rm_be && rm_be != -ENOENT)
        rc = devices_failf(err, errlen, rm_be, "xenstore rm %s failed: %s", be, strerror(-rm_be));
    else if (rm_fe && rm_fe != -ENOENT)
        rc = devices_failf(err, errlen, rm_fe, "xenstore rm %s failed: %s", fe, strerror(-rm_fe));
    if (node) {
        int lrc = node_release(node);
        if (lrc && !rc)
            rc = devices_failf(err, errlen, lrc, "releasing %s failed: %s", node, strerror(-lrc));
    }
    free(node);
    free(bridge);
    free(vifname);
    return rc;
}

struct detach_all {
    struct mica_xs *xs;
    uint32_t domid;
    enum devices_kind kind;
    int wait_ms;
};

static void detach_one(void *ctx, unsigned devid)
{
    struct detach_all *d = ctx;
    char err[512];
    if (devices_detach(d->xs, d->domid, d->kind, devid, d->wait_ms, err, sizeof(err)))
        fprintf(stderr, "vmctl: warning: detaching %s %u of domain %u: %s\n",
                kind_name(d->kind), devid, d->domid, err);
}

void devices_detach_all(struct mica_xs *xs, uint32_t domid, int wait_ms)
{
    for (int k = DEVICES_VBD; k <= DEVICES_VIF; k++) {
        struct detach_all d = { .xs = xs, .domid = domid, .kind = (enum devices_kind)k,
                                .wait_ms = wait_ms };
        char path[96];
        snprintf(path, sizeof(path), "/local/domain/0/backend/%s/%u", kind_name(d.kind), domid);
        devices_each_number(xs, path, detach_one, &d);
        int rc = mica_xs_rm(xs, 0, path);
        if (rc && rc != -ENOENT)
            fprintf(stderr, "vmctl: warning: xenstore rm %s failed: %s\n", path,
                    strerror(-rc));
    }
}

int devices_find_vif(struct mica_xs *xs, uint32_t domid, const char *mac)
{
    char path[96], *names = NULL;
    size_t len = 0;
    snprintf(path, sizeof(path), "/local/domain/0/backend/vif/%u", domid);
    if (mica_xs_directory(xs, 0, path, &names, &len) < 0)
        return -ENOENT;
    int found = -ENOENT;
    for (size_t off = 0; off < len && found < 0; off += strlen(names + off) + 1) {
        char dir[128];
        snprintf(dir, sizeof(dir), "%s/%s", path, names + off);
        char *m = devices_read_at(xs, dir, "mac");
        if (m && strcasecmp(m, mac) == 0)
            found = atoi(names + off);
        free(m);
    }
    free(names);
    return found;
}
