/* device-mapper through its ioctls (dmdev.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <linux/dm-ioctl.h>

#include "dmdev.h"

#define DM_CONTROL "/dev/mapper/control"
#define DM_BUF 16384

_Static_assert(sizeof(struct dm_ioctl) == 312, "struct dm_ioctl as linux/dm-ioctl.h has it");
_Static_assert(sizeof(struct dm_target_spec) == 40, "struct dm_target_spec");

static int failf(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int failf(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

bool dm_available(void)
{
    int fd = open(DM_CONTROL, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return false;
    close(fd);
    return true;
}

/* One ioctl with a header (and what follows it in buf). */
static int dm_call(unsigned long req, const char *name, void *buf, uint32_t flags)
{
    struct dm_ioctl *io = buf;
    io->version[0] = DM_VERSION_MAJOR;
    io->version[1] = 0;
    io->version[2] = 0;
    io->data_size = DM_BUF;
    if (!io->data_start)
        io->data_start = sizeof(*io);
    io->flags = flags;
    if (name)
        snprintf(io->name, sizeof(io->name), "%s", name);
    int fd = open(DM_CONTROL, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = ioctl(fd, req, io) < 0 ? -errno : 0;
    close(fd);
    return rc;
}

static void *new_buf(void)
{
    return calloc(1, DM_BUF);
}

/* The header, then one target spec and its parameters. */
static int put_table(void *buf, uint64_t sectors, const char *type, const char *params)
{
    struct dm_ioctl *io = buf;
    struct dm_target_spec *t = (struct dm_target_spec *)((char *)buf + sizeof(*io));
    size_t room = DM_BUF - sizeof(*io) - sizeof(*t);
    if (strlen(params) + 1 > room || strlen(type) >= sizeof(t->target_type))
        return -E2BIG;
    io->data_start = sizeof(*io);
    io->target_count = 1;
    t->sector_start = 0;
    t->length = sectors;
    snprintf(t->target_type, sizeof(t->target_type), "%s", type);
    strcpy((char *)(t + 1), params);
    t->next = 0;
    return 0;
}

int dm_create(const char *name, uint64_t sectors, const char *type, const char *params,
              dev_t *rdev, char *err, size_t errlen)
{
    void *buf = new_buf();
    if (!buf)
        return failf(err, errlen, -ENOMEM, "out of memory");
    int rc = dm_call(DM_DEV_CREATE, name, buf, 0);
    if (rc) {
        free(buf);
        return failf(err, errlen, rc, "creating the device-mapper device %s failed: %s", name,
                     strerror(-rc));
    }
    memset(buf, 0, DM_BUF);
    if ((rc = put_table(buf, sectors, type, params)) ||
        (rc = dm_call(DM_TABLE_LOAD, name, buf, 0))) {
        failf(err, errlen, rc, "loading the table '%s %s' into %s failed: %s", type, params,
              name, strerror(-rc));
        dm_remove(name);
        free(buf);
        return rc;
    }
    memset(buf, 0, DM_BUF);
    if ((rc = dm_call(DM_DEV_SUSPEND, name, buf, 0))) {
        failf(err, errlen, rc, "activating %s failed: %s", name, strerror(-rc));
        dm_remove(name);
        free(buf);
        return rc;
    }
    *rdev = (dev_t)((struct dm_ioctl *)buf)->dev;
    free(buf);
    return 0;
}

int dm_reload(const char *name, uint64_t sectors, const char *type, const char *params,
              char *err, size_t errlen)
{
    void *buf = new_buf();
    if (!buf)
        return failf(err, errlen, -ENOMEM, "out of memory");
    int rc = put_table(buf, sectors, type, params);
    if (!rc)
        rc = dm_call(DM_TABLE_LOAD, name, buf, 0);
    if (rc) {
        free(buf);
        return failf(err, errlen, rc, "loading the table '%s %s' into %s failed: %s", type,
                     params, name, strerror(-rc));
    }
    memset(buf, 0, DM_BUF);
    rc = dm_call(DM_DEV_SUSPEND, name, buf, 0);
    free(buf);
    if (rc) {
        /* Drop the table that did not go live. */
        void *b2 = new_buf();
        if (b2)
            dm_call(DM_TABLE_CLEAR, name, b2, 0);
        free(b2);
        return failf(err, errlen, rc, "switching %s to '%s' failed: %s", name, type,
                     strerror(-rc));
    }
    return 0;
}

int dm_suspend(const char *name, char *err, size_t errlen)
{
    void *buf = new_buf();
    if (!buf)
        return failf(err, errlen, -ENOMEM, "out of memory");
    int rc = dm_call(DM_DEV_SUSPEND, name, buf, DM_SUSPEND_FLAG);
    free(buf);
    return rc ? failf(err, errlen, rc, "suspending %s failed: %s", name, strerror(-rc)) : 0;
}

int dm_resume(const char *name, char *err, size_t errlen)
{
    void *buf = new_buf();
    if (!buf)
        return failf(err, errlen, -ENOMEM, "out of memory");
    int rc = dm_call(DM_DEV_SUSPEND, name, buf, 0);
    free(buf);
    return rc ? failf(err, errlen, rc, "resuming %s failed: %s", name, strerror(-rc)) : 0;
}

int dm_remove(const char *name)
{
    void *buf = new_buf();
    if (!buf)
        return -ENOMEM;
    int rc = dm_call(DM_DEV_REMOVE, name, buf, 0);
    if (rc == -EBUSY) {
        memset(buf, 0, DM_BUF);
        rc = dm_call(DM_DEV_REMOVE, name, buf, DM_DEFERRED_REMOVE);
    }
    free(buf);
    return rc;
}

int dm_status(const char *name, bool table, char *out, size_t outlen, uint64_t *sectors)
{
    void *buf = new_buf();
    if (!buf)
        return -ENOMEM;
    int rc = dm_call(DM_TABLE_STATUS, name, buf, table ? DM_STATUS_TABLE_FLAG : 0);
    struct dm_ioctl *io = buf;
    if (!rc && (io->flags & DM_BUFFER_FULL_FLAG))
        rc = -E2BIG;
    if (!rc && io->target_count != 1)
        rc = -ENODATA;
    if (!rc) {
        struct dm_target_spec *t = (struct dm_target_spec *)((char *)buf + io->data_start);
        if ((char *)(t + 1) >= (char *)buf + DM_BUF) {
            rc = -EPROTO;
        } else {
            ((char *)buf)[DM_BUF - 1] = 0;
            snprintf(out, outlen, "%s %s", t->target_type, (char *)(t + 1));
            if (sectors)
                *sectors = t->length;
        }
    }
    free(buf);
    return rc;
}

int dm_devno(const char *name, dev_t *rdev)
{
    void *buf = new_buf();
    if (!buf)
        return -ENOMEM;
    int rc = dm_call(DM_DEV_STATUS, name, buf, 0);
    if (!rc)
        *rdev = (dev_t)((struct dm_ioctl *)buf)->dev;
    free(buf);
    return rc;
}

void dm_name_for_loop(const char *loopdev, char name[64])
{
    const char *base = strrchr(loopdev, '/');
    snprintf(name, 64, "mica-%s", base ? base + 1 : loopdev);
}
