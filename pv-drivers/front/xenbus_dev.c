/* A front end's xenbus directory and states (see xenbus_dev.h). */
#include "xenbus_dev.h"

#include <stdarg.h>

#include <pv/xenbus.h>
#include "pv_wait.h"
#include "xenbus.h"

static int node(char *buf, size_t len, const char *dir, const char *name)
{
    return snprintk(buf, len, "%s/%s", dir, name) >= (int)len ? -1 : 0;
}

int xenbus_dev_find(struct xenbus_dev *d, const char *type, const char *devid,
                    unsigned wait_s, char *err, size_t errlen)
{
    uint64_t deadline = pv_deadline_s(wait_s);
    char dir[32], list[128], p[96];
    int n;

    memset(d, 0, sizeof(*d));
    snprintk(dir, sizeof(dir), "device/%s", type);
    if (xs_watch("device", "dev")) {
        snprintk(err, errlen, "watch on device/: %s", xs_error());
        return -1;
    }
    for (;;) {
        n = xs_directory(dir, list, sizeof(list) - 1);
        if (n > 0) {
            list[n] = 0;
            const char *want = devid ? devid : list;
            for (const char *q = list; q < list + n; q += strlen(q) + 1)
                if (strcmp(q, want) == 0)
                    snprintk(d->fe, sizeof(d->fe), "%s/%s", dir, want);
            if (d->fe[0])
                break;
        }
        if (xs_wait_watch("dev", deadline)) {
            xs_unwatch("device", "dev");
            snprintk(err, errlen, "no %s/%s within %u s (is the device in the definition?)",
                     dir, devid ? devid : "*", wait_s);
            return -1;
        }
    }
    xs_unwatch("device", "dev");
    if (node(p, sizeof(p), d->fe, "backend") || xs_read(p, d->be, sizeof(d->be)) < 0) {
        snprintk(err, errlen, "%s: %s", p, xs_error());
        return -1;
    }
    if (node(p, sizeof(p), d->fe, "backend-id") || xs_read_ulong(p, &d->be_id) ||
        d->be_id >= DOMID_FIRST_RESERVED) {
        snprintk(err, errlen, "%s: %s", p, xs_error());
        return -1;
    }
    return 0;
}

int xenbus_dev_read_fe(const struct xenbus_dev *d, const char *name, char *buf, size_t len)
{
    char p[96];

    return node(p, sizeof(p), d->fe, name) ? -1 : xs_read(p, buf, len);
}

int xenbus_dev_read_be_ulong(const struct xenbus_dev *d, const char *name, unsigned long *v)
{
    char p[128];

    return node(p, sizeof(p), d->be, name) ? -1 : xs_read_ulong(p, v);
}

int xenbus_dev_write_fe(const struct xenbus_dev *d, const char *name, const char *fmt, ...)
{
    char p[96], value[64];
    va_list ap;

    va_start(ap, fmt);
    vsnprintk(value, sizeof(value), fmt, ap);
    va_end(ap);
    return node(p, sizeof(p), d->fe, name) ? -1 : xs_write(p, value);
}

int xenbus_dev_set_state(const struct xenbus_dev *d, unsigned long state)
{
    return xenbus_dev_write_fe(d, "state", "%lu", state);
}

int xenbus_dev_wait_be_state(const struct xenbus_dev *d, unsigned long state, uint64_t deadline)
{
    char p[128];

    return node(p, sizeof(p), d->be, "state") ? -1 : xs_wait_ulong(p, state, deadline);
}

int xenbus_dev_close(const struct xenbus_dev *d, uint64_t deadline)
{
    /* Linux's back ends answer our Closing with Closing and let go of the
     * rings (going Closed) only once we are Closed. */
    if (xenbus_dev_set_state(d, XenbusStateClosing) ||
        xenbus_dev_wait_be_state(d, XenbusStateClosing, deadline) ||
        xenbus_dev_set_state(d, XenbusStateClosed) ||
        xenbus_dev_wait_be_state(d, XenbusStateClosed, deadline))
        return -1;
    return 0;
}
