/* Serving real domains from dom0: each introduced domain's store page is
 * mapped through privcmd (foreign mapping of the MFN the toolstack gave in
 * INTRODUCE), its event channel bound through /dev/xen/evtchn, and its
 * ring pumped whenever it kicks us or we have something queued for it.
 * VIRQ_DOM_EXC plus getdomaininfo tell us of shutdowns and deaths. */
#ifndef XS_DOMAIN_XEN_H
#define XS_DOMAIN_XEN_H

#include <stddef.h>

#include "daemon.h"
#include "privcmd.h"

struct xs_xen {
    struct xs_daemon *d;
    struct mica_hv hv;
    int evtchn_fd;
    int virq_port;             /* local port of VIRQ_DOM_EXC */
    struct xs_domain_transport transport;
    char xenfs_dir[256];       /* where dom0's xsd_kva and xsd_port are */
};

/* Opens devdir/privcmd and devdir/evtchn, binds VIRQ_DOM_EXC and installs
 * itself as d's transport.  0, or -1 with a reason. */
int xs_xen_open(struct xs_xen *x, struct xs_daemon *d, const char *devdir, char *why,
                size_t whysz);
void xs_xen_close(struct xs_xen *x);

/* Serves dom0's own kernel (its xenbus: the PV back-ends, /proc/xen/xenbus)
 * on the page and port it made at boot, found in xenfs_dir ("/proc/xen"):
 * a privileged connection listed as domain 0.  0, or an errno (logged). */
int xs_xen_serve_dom0(struct xs_xen *x, const char *xenfs_dir);

/* The event-channel fd became readable: handles every pending port. */
void xs_xen_events(void *x);
/* Moves whatever is queued for or by each domain (after any request, a
 * watch may have fired towards a domain). */
void xs_xen_pump_all(void *x);

#endif
