/* /dev/xen/evtchn (see evtchn.h). */
#include "evtchn.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

int mica_evtchn_open(const char *path)
{
    int fd = open(path ? path : MICA_EVTCHN_PATH, O_RDWR | O_CLOEXEC | O_NONBLOCK);
    return fd < 0 ? -errno : fd;
}

static int call(int fd, unsigned long req, void *arg)
{
    int rc;

    if (fd < 0)
        return -EBADF;
    rc = ioctl(fd, req, arg);
    return rc < 0 ? -errno : rc;
}

int mica_evtchn_bind_interdomain(int fd, uint32_t dom, uint32_t port)
{
    struct mica_evtchn_bind_interdomain b = { dom, port };
    if (dom >= 0x7ff0)
        return -EINVAL;
    return call(fd, MICA_IOCTL_EVTCHN_BIND_INTERDOMAIN, &b);
}

int mica_evtchn_bind_virq(int fd, uint32_t virq)
{
    struct mica_evtchn_bind_virq b = { virq };
    return call(fd, MICA_IOCTL_EVTCHN_BIND_VIRQ, &b);
}

int mica_evtchn_unbind(int fd, uint32_t local_port)
{
    struct mica_evtchn_port p = { local_port };
    return call(fd, MICA_IOCTL_EVTCHN_UNBIND, &p);
}

int mica_evtchn_notify(int fd, uint32_t local_port)
{
    struct mica_evtchn_port p = { local_port };
    return call(fd, MICA_IOCTL_EVTCHN_NOTIFY, &p);
}

int mica_evtchn_pending(int fd)
{
    uint32_t port;
    ssize_t n;

    if (fd < 0)
        return -EBADF;
    n = read(fd, &port, sizeof(port));
    if (n < 0)
        return -errno;
    if (n != sizeof(port))
        return -EIO;
    return port > 0x7fffffffu ? -EIO : (int)port;
}

int mica_evtchn_unmask(int fd, uint32_t local_port)
{
    ssize_t n;

    if (fd < 0)
        return -EBADF;
    n = write(fd, &local_port, sizeof(local_port));
    if (n < 0)
        return -errno;
    return n == sizeof(local_port) ? 0 : -EIO;
}
