/*
 * /dev/xen/privcmd: hypercalls from dom0 userspace and mappings of other
 * domains' frames.
 *
 * Every call returns 0 (or a non-negative result) or -errno; Xen's error
 * numbers are Linux's on x86, so a hypervisor refusal arrives as the same
 * -errno the hypercall returned.  The transport is a function pointer so
 * that host tests can stand in for the device.
 */
#ifndef MICA_PRIVCMD_H
#define MICA_PRIVCMD_H

#include <stddef.h>
#include <stdint.h>

#define MICA_PRIVCMD_PATH "/dev/xen/privcmd"

/* Linux's struct privcmd_hypercall (include/uapi/xen/privcmd.h). */
struct mica_privcmd_hypercall {
    uint64_t op;
    uint64_t arg[5];
};

/* Linux's struct privcmd_mmapbatch_v2 (x86-64 layout). */
struct mica_privcmd_mmapbatch_v2 {
    uint32_t num;
    uint16_t dom;
    uint16_t _pad;
    uint64_t addr;
    uint64_t arr;        /* const xen_pfn_t * */
    uint64_t err;        /* int * */
};
_Static_assert(sizeof(struct mica_privcmd_hypercall) == 48, "privcmd_hypercall size");
_Static_assert(sizeof(struct mica_privcmd_mmapbatch_v2) == 32, "privcmd_mmapbatch_v2 size");
_Static_assert(__builtin_offsetof(struct mica_privcmd_mmapbatch_v2, addr) == 8, "mmapbatch addr");

/* _IOC(_IOC_NONE, 'P', nr, size): direction bits 0. */
#define MICA_IOC_NONE(type, nr, size) (((unsigned long)(size) << 16) | ((type) << 8) | (nr))
#define MICA_IOCTL_PRIVCMD_HYPERCALL \
    MICA_IOC_NONE('P', 0, sizeof(struct mica_privcmd_hypercall))
#define MICA_IOCTL_PRIVCMD_MMAPBATCH_V2 \
    MICA_IOC_NONE('P', 4, sizeof(struct mica_privcmd_mmapbatch_v2))

struct mica_hv;
/* Issues one hypercall; returns its result or -errno. */
typedef long (*mica_hypercall_fn)(struct mica_hv *hv, const struct mica_privcmd_hypercall *h);

struct mica_hv {
    int fd;                       /* privcmd, or -1 */
    mica_hypercall_fn hypercall;
    void *test_ctx;               /* for host tests' transports */
};

/* Opens path (MICA_PRIVCMD_PATH if NULL); 0 or -errno. */
int mica_hv_open(struct mica_hv *hv, const char *path);
void mica_hv_close(struct mica_hv *hv);

long mica_hypercall(struct mica_hv *hv, unsigned op, uint64_t a0, uint64_t a1, uint64_t a2);

/*
 * Maps n frames of domain dom, read-write, into this process; NULL on
 * failure with *rc = -errno (per-frame errors in errs[], may be NULL).
 * Needs Mica to accept mmu_update with a foreign domid from dom0.
 */
void *mica_map_foreign(struct mica_hv *hv, uint16_t dom, const uint64_t *mfns, size_t n,
                       int *errs, int *rc);
/* The same, read-only: what a save needs.  A writable mapping would take
   a writable type reference on each frame, which Mica (as Xen) refuses for
   page tables and descriptor pages and which would change the type of an
   unpinned table of a suspended guest. */
void *mica_map_foreign_ro(struct mica_hv *hv, uint16_t dom, const uint64_t *mfns, size_t n,
                          int *errs, int *rc);
void mica_unmap_foreign(void *addr, size_t n);

#endif
