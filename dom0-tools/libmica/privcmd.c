/* /dev/xen/privcmd (see privcmd.h). */
#include "privcmd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

static long ioctl_hypercall(struct mica_hv *hv, const struct mica_privcmd_hypercall *h)
{
    long rc = ioctl(hv->fd, MICA_IOCTL_PRIVCMD_HYPERCALL, h);
    return rc < 0 ? -errno : rc;
}

int mica_hv_open(struct mica_hv *hv, const char *path)
{
    hv->fd = open(path ? path : MICA_PRIVCMD_PATH, O_RDWR | O_CLOEXEC);
    hv->hypercall = ioctl_hypercall;
    hv->test_ctx = NULL;
    return hv->fd < 0 ? -errno : 0;
}

void mica_hv_close(struct mica_hv *hv)
{
    if (hv->fd >= 0)
        close(hv->fd);
    hv->fd = -1;
}

long mica_hypercall(struct mica_hv *hv, unsigned op, uint64_t a0, uint64_t a1, uint64_t a2)
{
    struct mica_privcmd_hypercall h = { .op = op, .arg = { a0, a1, a2, 0, 0 } };

    if (!hv || !hv->hypercall)
        return -EBADF;
    return hv->hypercall(hv, &h);
}

static void *map_foreign(struct mica_hv *hv, uint16_t dom, const uint64_t *mfns, size_t n,
                         int *errs, int *rc, int prot)
{
    struct mica_privcmd_mmapbatch_v2 b;
    size_t len = n * (size_t)sysconf(_SC_PAGESIZE);
    int *own = NULL;
    void *addr;

    if (!hv || hv->fd < 0 || !mfns || n == 0 || n > (1u << 20)) {
        *rc = -EINVAL;
        return NULL;
    }
    if (!errs && !(errs = own = calloc(n, sizeof(*errs)))) {
        *rc = -ENOMEM;
        return NULL;
    }
    /* privcmd fills a shared mapping of its own file with the frames. */
    addr = mmap(NULL, len, prot, MAP_SHARED, hv->fd, 0);
    if (addr == MAP_FAILED) {
        *rc = -errno;
        free(own);
        return NULL;
    }
    b = (struct mica_privcmd_mmapbatch_v2){ .num = (uint32_t)n, .dom = dom,
                                            .addr = (uint64_t)(uintptr_t)addr,
                                            .arr = (uint64_t)(uintptr_t)mfns,
                                            .err = (uint64_t)(uintptr_t)errs };
    if (ioctl(hv->fd, MICA_IOCTL_PRIVCMD_MMAPBATCH_V2, &b) < 0) {
        /* ENOENT: some frames were paged out; for Mica any failure is fatal. */
        *rc = -errno;
        munmap(addr, len);
        free(own);
        return NULL;
    }
    /* Version 2 reports per-frame failures only in errs[], with success
     * from the ioctl: a frame that did not map would fault on first touch. */
    for (size_t i = 0; i < n; i++)
        if (errs[i]) {
            *rc = errs[i] < 0 ? errs[i] : -EFAULT;
            munmap(addr, len);
            free(own);
            return NULL;
        }
    free(own);
    *rc = 0;
    return addr;
}

void *mica_map_foreign(struct mica_hv *hv, uint16_t dom, const uint64_t *mfns, size_t n,
                       int *errs, int *rc)
{
    return map_foreign(hv, dom, mfns, n, errs, rc, PROT_READ | PROT_WRITE);
}

void *mica_map_foreign_ro(struct mica_hv *hv, uint16_t dom, const uint64_t *mfns, size_t n,
                          int *errs, int *rc)
{
    return map_foreign(hv, dom, mfns, n, errs, rc, PROT_READ);
}

void mica_unmap_foreign(void *addr, size_t n)
{
    if (addr)
        munmap(addr, n * (size_t)sysconf(_SC_PAGESIZE));
}
