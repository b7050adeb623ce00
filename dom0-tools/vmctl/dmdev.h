/*
 * A small device-mapper client over /dev/mapper/control (the kernel's
 * ioctl interface, linux/dm-ioctl.h), for what vmctl needs:
 *
 * - every read-write raw image file a domain uses is served to blkback
 *   through a dm-linear device "mica-loopN" over its loop device /dev/loopN
 *   (devices.c), so that the table can be switched while the guest runs;
 * - vmctl migrate --copy-storage switches it to a dm-mirror whose second
 *   leg is the destination's copy, waits for the mirror to be in sync, and
 *   suspends it (which waits for every write in flight) for the last step
 *   (copystore.c, docs/migration.md).
 *
 * Every function answers 0 or -errno, with a sentence in err where it
 * takes one.
 */
#ifndef VMCTL_DMDEV_H
#define VMCTL_DMDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Whether device-mapper can be used here (/dev/mapper/control opens). */
bool dm_available(void);

/* Creates NAME with one target "TYPE PARAMS" over [0, sectors) and
   activates it; *rdev its device number. */
int dm_create(const char *name, uint64_t sectors, const char *type, const char *params,
              dev_t *rdev, char *err, size_t errlen);

/* Loads a new one-target table into NAME and activates it (the kernel
   suspends the device, waiting for I/O in flight, swaps, resumes). */
int dm_reload(const char *name, uint64_t sectors, const char *type, const char *params,
              char *err, size_t errlen);

/* Suspends NAME (queued I/O waits; every bio in flight completes first). */
int dm_suspend(const char *name, char *err, size_t errlen);
/* Resumes NAME (with an inactive table loaded: that one becomes live). */
int dm_resume(const char *name, char *err, size_t errlen);

/* Removes NAME; deferred (done when the last opener closes) if it is still
   open.  -ENXIO when there is no such device. */
int dm_remove(const char *name);

/* The status line of NAME's (one) target, or its table line with
   table=true; *sectors its length. -ENXIO: no such device. */
int dm_status(const char *name, bool table, char *out, size_t outlen, uint64_t *sectors);

/* The dm device number of NAME. */
int dm_devno(const char *name, dev_t *rdev);

/* The name vmctl gives the dm-linear device over /dev/loopN: "mica-loopN". */
void dm_name_for_loop(const char *loopdev, char name[64]);

#endif
