#include "domain_xen.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "domctl.h"
#include "evtchn.h"
#include "log.h"
#include "ring_conn.h"
#include <public/xen.h>

struct xen_dom {
    struct xsw_domain_interface *intf;
    int local_port;
    bool shutdown_seen;        /* @releaseDomain already fired for it */
    bool broken_logged;
    bool local;                /* dom0's own page, mapped from xenfs */
};

/* dom0's kernel made its xenstore page and port itself (XS_LOCAL); xenfs
 * shows them as xsd_kva (mmap it) and xsd_port, as Xen's xenstored reads
 * them.  Returns the mapped page or NULL with errno. */
static void *map_dom0_page(const char *xenfs, uint32_t *port)
{
    char path[512], buf[32];
    snprintf(path, sizeof(path), "%s/xsd_port", xenfs);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0) {
        errno = n == 0 ? EINVAL : errno;
        return NULL;
    }
    buf[n] = 0;
    char *end;
    unsigned long p = strtoul(buf, &end, 10);
    if (end == buf || p == 0 || p > UINT32_MAX) {
        errno = EINVAL;
        return NULL;
    }
    *port = (uint32_t)p;
    snprintf(path, sizeof(path), "%s/xsd_kva", xenfs);
    fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    void *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    int e = errno;
    close(fd);
    errno = e;
    return page == MAP_FAILED ? NULL : page;
}

static void pump_one(struct xs_xen *x, struct xs_domain *dom)
{
    struct xen_dom *xd = dom->transport_state;
    if (!xd || !dom->conn)
        return;
    switch (xs_ring_conn_pump(dom->conn, xd->intf)) {
    case XS_PUMP_NOTIFY:
        mica_evtchn_notify(x->evtchn_fd, (uint32_t)xd->local_port);
        break;
    case XS_PUMP_BROKEN:
        if (!xd->broken_logged)
            xs_log("domain %u: ring broken (error %u); waiting for it to reconnect",
                   dom->domid, xd->intf->error);
        xd->broken_logged = true;
        /* It may have set XSW_ERROR on the page: tell it. */
        mica_evtchn_notify(x->evtchn_fd, (uint32_t)xd->local_port);
        break;
    case XS_PUMP_IDLE:
        break;
    }
}

static void unmap_page(struct xen_dom *xd)
{
    if (xd->local)
        munmap(xd->intf, 4096);
    else
        mica_unmap_foreign(xd->intf, 1);
}

static int attach(struct xs_daemon *d, struct xs_domain *dom, void *ctx)
{
    struct xs_xen *x = ctx;
    struct xen_dom *xd;
    uint64_t mfn;
    int err = 0, rc;

    if (dom->domid != 0 && dom->gfn < 0)
        return EINVAL;
    mfn = (uint64_t)dom->gfn;
    xd = calloc(1, sizeof(*xd));
    if (!xd)
        return ENOMEM;
    if (dom->domid == 0) {
        xd->local = true;
        xd->intf = map_dom0_page(x->xenfs_dir, &dom->evtchn);
        if (!xd->intf) {
            xs_log("dom0: cannot map its kernel's store page from %s/xsd_kva: %s", x->xenfs_dir,
                   strerror(errno));
            free(xd);
            return EINVAL;
        }
    } else {
        xd->intf = mica_map_foreign(&x->hv, (uint16_t)dom->domid, &mfn, 1, &err, &rc);
    }
    if (!xd->intf) {
        xs_log("domain %u: cannot map its store page (mfn %#llx): %s", dom->domid,
               (unsigned long long)mfn, strerror(-rc));
        free(xd);
        return EINVAL;   /* what Xen's xenstored answers for an unmappable page */
    }
    rc = mica_evtchn_bind_interdomain(x->evtchn_fd, dom->domid, dom->evtchn);
    if (rc < 0) {
        xs_log("domain %u: cannot bind its event channel %u: %s", dom->domid, dom->evtchn,
               strerror(-rc));
        unmap_page(xd);
        free(xd);
        return EINVAL;
    }
    xd->local_port = rc;
    /* dom0's kernel is as privileged as dom0's tools on the socket. */
    dom->conn = xs_conn_new(d, dom->domid, dom->domid == 0);
    if (!dom->conn) {
        mica_evtchn_unbind(x->evtchn_fd, (uint32_t)xd->local_port);
        unmap_page(xd);
        free(xd);
        return ENOMEM;
    }
    dom->transport_state = xd;
    xs_ring_advertise(xd->intf);
    /* It may have queued requests before we looked (a Linux guest does
     * as soon as it boots): serve them and kick it once in any case. */
    pump_one(x, dom);
    mica_evtchn_notify(x->evtchn_fd, (uint32_t)xd->local_port);
    return 0;
}

static void detach(struct xs_daemon *d, struct xs_domain *dom, void *ctx)
{
    struct xs_xen *x = ctx;
    struct xen_dom *xd = dom->transport_state;
    (void)d;
    if (!xd)
        return;
    mica_evtchn_unbind(x->evtchn_fd, (uint32_t)xd->local_port);
    /* Until this unmap Mica keeps a destroyed domain's frames (dying). */
    unmap_page(xd);
    free(xd);
    dom->transport_state = NULL;
}

int xs_xen_open(struct xs_xen *x, struct xs_daemon *d, const char *devdir, char *why,
                size_t whysz)
{
    char path[4096];
    int rc;

    memset(x, 0, sizeof(*x));
    x->d = d;
    x->evtchn_fd = -1;
    snprintf(path, sizeof(path), "%s/privcmd", devdir);
    if ((rc = mica_hv_open(&x->hv, path)) < 0) {
        snprintf(why, whysz, "cannot open %s: %s", path, strerror(-rc));
        return -1;
    }
    snprintf(path, sizeof(path), "%s/evtchn", devdir);
    if ((rc = mica_evtchn_open(path)) < 0) {
        snprintf(why, whysz, "cannot open %s: %s", path, strerror(-rc));
        mica_hv_close(&x->hv);
        return -1;
    }
    x->evtchn_fd = rc;
    if ((rc = mica_evtchn_bind_virq(x->evtchn_fd, VIRQ_DOM_EXC)) < 0) {
        snprintf(why, whysz, "cannot bind VIRQ_DOM_EXC through %s: %s (is another "
                 "xenstored running?)", path, strerror(-rc));
        xs_xen_close(x);
        return -1;
    }
    x->virq_port = rc;
    x->transport.attach = attach;
    x->transport.detach = detach;
    x->transport.ctx = x;
    d->transport = &x->transport;
    return 0;
}

int xs_xen_serve_dom0(struct xs_xen *x, const char *xenfs_dir)
{
    struct xs_daemon *d = x->d;
    struct xs_domain *dom = calloc(1, sizeof(*dom));
    if (!dom)
        return ENOMEM;
    snprintf(x->xenfs_dir, sizeof(x->xenfs_dir), "%s", xenfs_dir);
    dom->domid = 0;
    dom->gfn = -1;
    dom->target = XS_NO_TARGET;
    int err = attach(d, dom, x);
    if (err) {
        free(dom);
        return err;
    }
    dom->next = d->domains;
    d->domains = dom;
    xs_log("dom0: serving its kernel's xenbus (event channel %u)", dom->evtchn);
    return 0;
}

void xs_xen_close(struct xs_xen *x)
{
    if (x->d && x->d->transport == &x->transport) {
        /* Domains still introduced keep their rings until we exit; let go. */
        for (struct xs_domain *dom = x->d->domains; dom; dom = dom->next)
            detach(x->d, dom, x);
        x->d->transport = NULL;
    }
    if (x->evtchn_fd >= 0)
        close(x->evtchn_fd);
    x->evtchn_fd = -1;
    mica_hv_close(&x->hv);
}

/* A domain shut down, died or is dying: as Xen's xenstored, fire
 * @releaseDomain for a shutdown (once) and forget dead or dying ones. */
static void check_domains(struct xs_xen *x)
{
    struct xs_daemon *d = x->d;
    bool fire = false;
    struct xs_domain *dom = d->domains;

    while (dom) {
        struct xs_domain *next = dom->next;
        struct xen_domctl_getdomaininfo info;
        struct xen_dom *xd = dom->transport_state;
        int rc = mica_domain_info(&x->hv, (uint16_t)dom->domid, &info);

        if (rc == -ESRCH || (rc == 0 && (info.flags & XEN_DOMINF_dying))) {
            xs_log("domain %u is %s; releasing it", dom->domid, rc ? "gone" : "dying");
            xs_daemon_release_domain(d, dom->domid);
            fire = true;
        } else if (rc == 0 && (info.flags & XEN_DOMINF_shutdown) && xd && !xd->shutdown_seen) {
            xs_log("domain %u shut down", dom->domid);
            xd->shutdown_seen = true;
            fire = true;
        } else if (rc < 0 && rc != -ESRCH) {
            xs_log("getdomaininfo for domain %u failed: %s", dom->domid, strerror(-rc));
        }
        dom = next;
    }
    if (fire)
        xs_daemon_fire(d, "@releaseDomain", &d->special_release, false);
}

void xs_xen_events(void *ctx)
{
    struct xs_xen *x = ctx;
    for (;;) {
        int port = mica_evtchn_pending(x->evtchn_fd);
        if (port < 0) {
            if (port != -EAGAIN && port != -EINTR)
                xs_log("reading %s: %s", MICA_EVTCHN_PATH, strerror(-port));
            break;
        }
        if (port == x->virq_port) {
            check_domains(x);
        } else {
            for (struct xs_domain *dom = x->d->domains; dom; dom = dom->next) {
                struct xen_dom *xd = dom->transport_state;
                if (xd && xd->local_port == port) {
                    pump_one(x, dom);
                    break;
                }
            }
        }
        mica_evtchn_unmask(x->evtchn_fd, (uint32_t)port);
    }
}

void xs_xen_pump_all(void *ctx)
{
    struct xs_xen *x = ctx;
    /* Replies to one domain may fire watches for others: go round until
     * nothing moves (bounded, a busy guest is served again next time). */
    for (int round = 0; round < 4; round++) {
        bool any = false;
        for (struct xs_domain *dom = x->d->domains; dom; dom = dom->next) {
            struct xen_dom *xd = dom->transport_state;
            if (!xd || !dom->conn)
                continue;
            if (xs_buf_pending(&dom->conn->out) > 0) {
                pump_one(x, dom);
                any |= xs_buf_pending(&dom->conn->out) == 0;
            }
        }
        if (!any)
            break;
    }
}
