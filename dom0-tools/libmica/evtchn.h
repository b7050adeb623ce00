/*
 * /dev/xen/evtchn: event channels for dom0 userspace (xenstored, the
 * console daemon).  Each open file is its own set of bound ports; a
 * pending port is read as a 32-bit number and stays masked until written
 * back.  0 / port / -errno, as privcmd.h.
 */
#ifndef MICA_EVTCHN_H
#define MICA_EVTCHN_H

#include <stdint.h>

#define MICA_EVTCHN_PATH "/dev/xen/evtchn"

/* Linux include/uapi/xen/evtchn.h argument layouts. */
struct mica_evtchn_bind_virq { uint32_t virq; };
struct mica_evtchn_bind_interdomain { uint32_t remote_domain, remote_port; };
struct mica_evtchn_port { uint32_t port; };     /* unbind, notify */

#define MICA_IOCTL_EVTCHN_BIND_VIRQ \
    (((unsigned long)sizeof(struct mica_evtchn_bind_virq) << 16) | ('E' << 8) | 0)
#define MICA_IOCTL_EVTCHN_BIND_INTERDOMAIN \
    (((unsigned long)sizeof(struct mica_evtchn_bind_interdomain) << 16) | ('E' << 8) | 1)
#define MICA_IOCTL_EVTCHN_UNBIND \
    (((unsigned long)sizeof(struct mica_evtchn_port) << 16) | ('E' << 8) | 3)
#define MICA_IOCTL_EVTCHN_NOTIFY \
    (((unsigned long)sizeof(struct mica_evtchn_port) << 16) | ('E' << 8) | 4)

/* Opens path (MICA_EVTCHN_PATH if NULL) non-blocking; fd or -errno. */
int mica_evtchn_open(const char *path);
/* The local port bound to (dom, port), or -errno. */
int mica_evtchn_bind_interdomain(int fd, uint32_t dom, uint32_t port);
int mica_evtchn_bind_virq(int fd, uint32_t virq);
int mica_evtchn_unbind(int fd, uint32_t local_port);
int mica_evtchn_notify(int fd, uint32_t local_port);
/* The next pending local port, -EAGAIN if none, or -errno. */
int mica_evtchn_pending(int fd);
/* Unmasks local_port again after handling it. */
int mica_evtchn_unmask(int fd, uint32_t local_port);

#endif
