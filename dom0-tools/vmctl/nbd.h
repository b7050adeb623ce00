/*
 * qcow2 disks through qemu-nbd (docs/snapshots.md): an image (with its
 * backing chain) is connected to a free /dev/nbdN by Debian's qemu-nbd,
 * and dom0's xen-blkback serves that block device as it serves a loop
 * device.  Releasing disconnects the device, which ends the qemu-nbd
 * process; nothing stays behind.
 */
#ifndef VMCTL_NBD_H
#define VMCTL_NBD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Connects source (format qcow2) to a free /dev/nbdN (read-only if asked);
   0 with the device's path and number, or -errno with a sentence in err. */
int nbd_attach(const char *source, bool readonly, char dev[32], dev_t *rdev, char *err,
               size_t errlen);

/* Whether dev is a /dev/nbdN path. */
bool nbd_is_node(const char *dev);

/* Disconnects dev and waits for its qemu-nbd to end: 0, -EBUSY when it
   did not within a few seconds, or -errno. */
int nbd_release(const char *dev);

#endif
