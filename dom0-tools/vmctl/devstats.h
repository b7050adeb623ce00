/*
 * What a running domain's PV disks and network interfaces have done, as
 * dom0's back-ends count it (vmctl domstats):
 *
 * - a disk: xen-blkback's counters of its vbd, summed over the vbd's rings,
 *   in /sys/bus/xen-backend/devices/vbd-DOMID-DEVID/statistics/ (rd_req,
 *   wr_req, f_req, rd_sect, wr_sect; a sector of the blkif protocol is
 *   always 512 bytes, whatever the disk's own sector size);
 * - an interface: the vif's counters in /sys/class/net/VIF/statistics/.
 *   They count what dom0's end of the vif sent and received, so the guest
 *   received what the vif transmitted: rx and tx are swapped here, as
 *   libvirt swaps them for a Xen vif, and the numbers read as the guest's.
 *
 * The devices are found under the domain's back-end directories in
 * xenstore (/local/domain/0/backend/{vbd,vif}/DOMID), so a disk or
 * interface hot-plugged by vmctl, xl or virsh is counted too.  sysroot
 * is "" on a real dom0; the tests point it at a directory that holds the
 * same files.
 */
#ifndef VMCTL_DEVSTATS_H
#define VMCTL_DEVSTATS_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xs.h"

struct devstats_disk {
    unsigned devid;            /* the vbd's handle (51712 for xvda) */
    char name[32];             /* "dev" of the back-end: xvda */
    char path[512];            /* "params": the image or device served */
    bool counted;              /* blkback's counters were readable */
    uint64_t rd_reqs, rd_bytes, wr_reqs, wr_bytes, fl_reqs;
};

struct devstats_nic {
    unsigned devid;            /* the vif's handle */
    char name[IFNAMSIZ];       /* dom0's interface: vifDOMID.DEVID or its vifname */
    char mac[18];
    bool counted;              /* the interface's counters were readable */
    /* the guest's view: rx is what the vif transmitted */
    uint64_t rx_bytes, rx_pkts, rx_errs, rx_drop;
    uint64_t tx_bytes, tx_pkts, tx_errs, tx_drop;
};

/* Every disk of domid, in handle order; *out malloc'd (NULL when none).
   0, or -errno when xenstore could not be read. */
int devstats_disks(struct mica_xs *xs, const char *sysroot, uint32_t domid,
                   struct devstats_disk **out, size_t *count);

/* Every network interface of domid, as above. */
int devstats_nics(struct mica_xs *xs, const char *sysroot, uint32_t domid,
                  struct devstats_nic **out, size_t *count);

#endif
