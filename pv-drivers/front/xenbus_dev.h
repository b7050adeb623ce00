/*
 * The xenbus side of a front end: finding our device directory, reading
 * where the back end is, and stepping through the connection states
 * (pv/xenbus.h).  Shared by blkfront and netfront.
 */
#ifndef MICA_PV_XENBUS_DEV_H
#define MICA_PV_XENBUS_DEV_H

#include "guest.h"

struct xenbus_dev {
    char fe[48];                /* ours, relative to our home: device/<type>/<id> */
    char be[96];                /* the back end's, absolute */
    unsigned long be_id;        /* the back end's domain */
};

/* Waits up to wait_s for device/<type>/<devid> (the first one if devid is
 * NULL) and reads its backend and backend-id.  0, or -1 with a message
 * written to err. */
int xenbus_dev_find(struct xenbus_dev *d, const char *type, const char *devid,
                    unsigned wait_s, char *err, size_t errlen);
/* Reads a node of our directory or the back end's. */
int xenbus_dev_read_fe(const struct xenbus_dev *d, const char *node, char *buf, size_t len);
int xenbus_dev_read_be_ulong(const struct xenbus_dev *d, const char *node, unsigned long *v);
int xenbus_dev_write_fe(const struct xenbus_dev *d, const char *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int xenbus_dev_set_state(const struct xenbus_dev *d, unsigned long state);
int xenbus_dev_wait_be_state(const struct xenbus_dev *d, unsigned long state, uint64_t deadline);
/* Closing, the back end's Closing, Closed, the back end's Closed: after
 * this the back end has let go of our rings. */
int xenbus_dev_close(const struct xenbus_dev *d, uint64_t deadline);

#endif
