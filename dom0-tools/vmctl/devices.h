/*
 * A domain's PV disks (vbd) and network interfaces (vif): the xenstore
 * nodes that dom0's Linux back-ends (xen-blkback, xen-netback) and the
 * guest's front-ends meet at, written as Xen 4.17's libxl writes them,
 * plus the work Xen's hotplug scripts (block, vif-bridge) do in dom0:
 * a loop device for an image file, the vif put on its bridge.  See
 * docs/devices.md for the layout and the handshake.
 *
 * Every call returns 0 or -errno with a sentence in err; a failure leaves
 * nothing of the device it was working on behind (nodes, loop device).
 */
#ifndef VMCTL_DEVICES_H
#define VMCTL_DEVICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domcfg.h"
#include "xs.h"

/* Xen's virtual-device number of an xvdX name (xvda = 51712), or -1 when
   the name is not xvd plus 1-3 lowercase letters. */
long devices_vbd_number(const char *target);

/* Where a definition came from, for messages ("debian.xml"). */
struct devices_origin {
    const char *file;
    /* A domain whose disks and MACs do not count as taken (a migration to
       the same host: the domain leaving hands them over). */
    bool skip_domain;
    uint32_t skip_domid;
};

/*
 * Before the domain exists: every <disk> and <interface> can be served
 * (a source that exists and, for rw, is not attached rw elsewhere; a
 * bridge that exists; a MAC no other domain uses; forms a back-end
 * serves).  Problems go to stderr as "FILE:LINE: sentence"; the count of
 * problems is returned (0: all fine).
 */
int devices_check(struct mica_xs *xs, const struct domain_config *cfg,
                  const struct devices_origin *origin);

/* Picks a MAC (00:16:3e:xx:xx:xx, as libxl) for every <interface> without
   one, so that a restart keeps it. */
void devices_pick_macs(struct domain_config *cfg);

/*
 * Attaches all of cfg's disks and interfaces to domid (before it is
 * unpaused): loop devices, all nodes in one transaction, then each vif
 * on its bridge.  On failure everything attached is detached again.
 */
int devices_attach_all(struct mica_xs *xs, uint32_t domid, const struct domain_config *cfg,
                       char *err, size_t errlen);

/* One disk or interface on a running domain (vmctl attach-disk / -interface). */
int devices_attach_disk(struct mica_xs *xs, uint32_t domid, const struct domcfg_disk *disk,
                        char *err, size_t errlen);
int devices_attach_nic(struct mica_xs *xs, uint32_t domid, const struct domcfg_nic *nic,
                       unsigned devid, char *err, size_t errlen);
/* The next free vif handle of domid. */
unsigned devices_next_vif(struct mica_xs *xs, uint32_t domid);

enum devices_kind { DEVICES_VBD, DEVICES_VIF };

/*
 * Detaches one device: online=0 and state=5 (Closing) on the back-end,
 * as libxl does, then up to wait_ms for the back-end to reach 6 (Closed);
 * after that (or at once with wait_ms 0) the nodes are removed anyway,
 * which makes the back-end let go.  Then the vif leaves its bridge and
 * the loop device is released.  -ENOENT if there is no such device.
 */
int devices_detach(struct mica_xs *xs, uint32_t domid, enum devices_kind kind, unsigned devid,
                   int wait_ms, char *err, size_t errlen);

/* Every device of domid, as above; then backend/{vbd,vif}/DOMID go.
   Problems are reported on stderr and do not stop the rest. */
void devices_detach_all(struct mica_xs *xs, uint32_t domid, int wait_ms);

/* The value of xenstore node dir/name (malloc'd), or NULL when it cannot be read. */
char *devices_read_at(struct mica_xs *xs, const char *dir, const char *name);

/* Calls fn for every child of the xenstore directory path whose name is a
   number (a domain ID or a device handle), in xenstored's order; 0, or
   -errno when the directory cannot be read. */
int devices_each_number(struct mica_xs *xs, const char *path,
                        void (*fn)(void *ctx, unsigned n), void *ctx);

/* The vif handle whose mac is MAC ("00:16:3e:..."), or -ENOENT. */
int devices_find_vif(struct mica_xs *xs, uint32_t domid, const char *mac);

/* Shared by the device back-end helpers (devices.c, nbd.c): format into
   err and return rc; sleep ms milliseconds (through signals). */
int devices_failf(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void devices_sleep_ms(int ms);

#endif
