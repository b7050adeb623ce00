/* The domctls behind save and restore (see domctl_save.h). */
#include "domctl_save.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/*
 * Mica copies to and from these buffers in this process's memory with
 * the hypercall: they must be resident (a never-touched page of .bss or
 * the heap is not, and the copy would fail with -EFAULT), so each call
 * holds them locked, as the build call does with its images.
 */
static int locked_domctl(struct mica_hv *hv, struct xen_domctl *op, uint32_t cmd,
                         uint16_t domid, const void *buf, size_t len)
{
    mlock(buf, len);
    int rc = mica_domctl(hv, op, cmd, domid);
    munlock(buf, len);
    return rc;
}

/* A frame's octets in a copy_frames buffer. */
#define FRAME_SIZE 4096u

/* Xen's limit per getpageframeinfo3 call. */
#define FRAME_TYPES_BATCH 1024

int mica_domain_resume(struct mica_hv *hv, uint16_t domid)
{
    struct xen_domctl op;

    if (domid == 0)
        return -EINVAL;
    memset(&op, 0, sizeof(op));
    return mica_domctl(hv, &op, XEN_DOMCTL_resumedomain, domid);
}

int mica_domain_frame_types(struct mica_hv *hv, uint16_t domid, uint64_t *frames, size_t n)
{
    struct xen_domctl op;

    if (n && !frames)
        return -EINVAL;
    for (size_t done = 0; done < n; done += FRAME_TYPES_BATCH) {
        size_t k = n - done < FRAME_TYPES_BATCH ? n - done : FRAME_TYPES_BATCH;
        memset(&op, 0, sizeof(op));
        op.u.getpageframeinfo3.num = k;
        op.u.getpageframeinfo3.array = (uint64_t)(uintptr_t)(frames + done);
        int rc = locked_domctl(hv, &op, XEN_DOMCTL_getpageframeinfo3, domid, frames + done,
                               k * sizeof(*frames));
        if (rc)
            return rc;
    }
    return 0;
}

int mica_frames_copy(struct mica_hv *hv, uint16_t domid, const uint64_t *mfns, size_t n,
                     void *buf, bool to_domain, size_t *stopped)
{
    struct mica_domctl_copy_frames c;
    struct xen_domctl op;

    if (stopped)
        *stopped = 0;
    if (domid == 0 || (n && (!mfns || !buf)))
        return -EINVAL;
    for (size_t done = 0; done < n; done += MICA_COPY_FRAMES_MAX) {
        size_t k = n - done < MICA_COPY_FRAMES_MAX ? n - done : MICA_COPY_FRAMES_MAX;
        memset(&c, 0, sizeof(c));
        c.frames = (uint64_t)(uintptr_t)(mfns + done);
        c.buffer = (uint64_t)(uintptr_t)((uint8_t *)buf + done * FRAME_SIZE);
        c.nr = (uint32_t)k;
        c.direction = to_domain ? MICA_COPY_TO_DOMAIN : MICA_COPY_FROM_DOMAIN;
        memset(&op, 0, sizeof(op));
        memcpy(op.u.pad, &c, sizeof(c));
        /* The MFN array is the caller's (often its stack); buf is locked. */
        int rc = locked_domctl(hv, &op, MICA_DOMCTL_copy_frames, domid, mfns + done,
                               k * sizeof(*mfns));
        if (rc) {
            memcpy(&c, op.u.pad, sizeof(c));
            if (stopped)
                *stopped = done + (c.done < k ? c.done : k);
            return rc;
        }
    }
    return 0;
}

/* More tables than any domain's p2m could name: a count beyond is refused. */
#define TABLES_MAX (1u << 26)

int mica_domain_tables(struct mica_hv *hv, uint16_t domid, uint32_t guess,
                       struct mica_table_frame **tables, uint32_t *nr)
{
    struct mica_domctl_list_tables l;
    struct xen_domctl op;
    uint32_t max = guess ? guess : 1;
    int rc = -ENOSPC;

    *tables = NULL;
    *nr = 0;
    if (domid == 0 || guess > TABLES_MAX)
        return -EINVAL;
    /* The domain does not run, so a second ask with room for its count
       gets them all; a third is never needed. */
    for (int tries = 0; tries < 2 && rc == -ENOSPC; tries++) {
        struct mica_table_frame *t = malloc((size_t)max * sizeof(*t));
        if (!t)
            return -ENOMEM;
        memset(&l, 0, sizeof(l));
        l.tables = (uint64_t)(uintptr_t)t;
        l.max = max;
        memset(&op, 0, sizeof(op));
        memcpy(op.u.pad, &l, sizeof(l));
        rc = locked_domctl(hv, &op, MICA_DOMCTL_list_tables, domid, t, (size_t)max * sizeof(*t));
        memcpy(&l, op.u.pad, sizeof(l));
        if (rc == 0 && l.nr <= max) {
            *tables = t;
            *nr = l.nr;
            return 0;
        }
        free(t);
        if (rc == 0)
            return -EIO;            /* more listed than there was room for */
        if (rc == -ENOSPC) {
            if (l.nr <= max || l.nr > TABLES_MAX)
                return -EIO;        /* short, yet no bigger count to ask for */
            max = l.nr;
        }
    }
    return rc;
}

void *mica_frame_buffer_alloc(size_t pages)
{
    if (!pages || pages > SIZE_MAX / FRAME_SIZE) {
        errno = EINVAL;
        return NULL;
    }
    /* Locked, hence resident for the hypervisor's copies (MAP_LOCKED alone
       may leave pages out: mlock says whether all are in). */
    void *p = mmap(NULL, pages * FRAME_SIZE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    if (mlock(p, pages * FRAME_SIZE)) {
        int e = errno;
        munmap(p, pages * FRAME_SIZE);
        errno = e;
        return NULL;
    }
    return p;
}

void mica_frame_buffer_free(void *buf, size_t pages)
{
    if (buf)
        munmap(buf, pages * FRAME_SIZE);
}

int mica_logdirty(struct mica_hv *hv, uint16_t domid, uint32_t sop, uint32_t mode,
                  uint8_t *bitmap, uint64_t pages, struct xen_domctl_shadow_op_stats *stats)
{
    struct xen_domctl op;
    int rc;

    if (domid == 0 || (bitmap && !pages) || pages > (1ULL << 40))
        return -EINVAL;
    memset(&op, 0, sizeof(op));
    op.u.shadow_op.op = sop;
    op.u.shadow_op.mode = mode;
    op.u.shadow_op.dirty_bitmap = (uint64_t)(uintptr_t)bitmap;
    op.u.shadow_op.pages = pages;
    rc = locked_domctl(hv, &op, XEN_DOMCTL_shadow_op, domid, bitmap, bitmap ? (pages + 7) / 8 : 0);
    if (!rc && stats)
        *stats = op.u.shadow_op.stats;
    return rc;
}

int mica_logdirty_final(struct mica_hv *hv, uint16_t domid, uint8_t *bitmap, uint64_t pages,
                        struct mica_logdirty_rw *rw, uint32_t rw_max, uint32_t *rw_nr)
{
    struct mica_domctl_logdirty_final f;
    struct xen_domctl op;
    int rc;

    *rw_nr = 0;
    if (domid == 0 || (bitmap && !pages) || pages > (1ULL << 40) || (rw_max && !rw) ||
        rw_max > MICA_LOGDIRTY_RW_MAX)
        return -EINVAL;
    memset(&f, 0, sizeof(f));
    f.dirty_bitmap = (uint64_t)(uintptr_t)bitmap;
    f.pages = bitmap ? pages : 0;
    f.rw_tables = (uint64_t)(uintptr_t)rw;
    f.rw_max = rw_max;
    memset(&op, 0, sizeof(op));
    memcpy(op.u.pad, &f, sizeof(f));
    mlock(rw, (size_t)rw_max * sizeof(*rw));
    rc = locked_domctl(hv, &op, MICA_DOMCTL_logdirty_final, domid, bitmap,
                       bitmap ? (pages + 7) / 8 : 0);
    munlock(rw, (size_t)rw_max * sizeof(*rw));
    if (!rc) {
        memcpy(&f, op.u.pad, sizeof(f));
        *rw_nr = f.rw_nr <= rw_max ? f.rw_nr : rw_max;
    }
    return rc;
}

static int vcpu_context(struct mica_hv *hv, uint32_t cmd, uint16_t domid, uint32_t vcpu,
                        const void *c)
{
    struct xen_domctl op;

    if (!c || vcpu >= 32)
        return -EINVAL;
    memset(&op, 0, sizeof(op));
    op.u.vcpucontext.vcpu = vcpu;
    op.u.vcpucontext.ctxt = (uint64_t)(uintptr_t)c;
    return locked_domctl(hv, &op, cmd, domid, c, sizeof(struct vcpu_guest_context));
}

int mica_vcpu_context_get(struct mica_hv *hv, uint16_t domid, uint32_t vcpu,
                          struct vcpu_guest_context *c)
{
    return vcpu_context(hv, XEN_DOMCTL_getvcpucontext, domid, vcpu, c);
}

int mica_vcpu_context_set(struct mica_hv *hv, uint16_t domid, uint32_t vcpu,
                          const struct vcpu_guest_context *c)
{
    return vcpu_context(hv, XEN_DOMCTL_setvcpucontext, domid, vcpu, c);
}

int mica_vcpu_ext_context_get(struct mica_hv *hv, uint16_t domid, uint32_t vcpu,
                              struct xen_domctl_ext_vcpucontext *evc)
{
    struct xen_domctl op;
    int rc;

    if (!evc || vcpu >= 32)
        return -EINVAL;
    memset(&op, 0, sizeof(op));
    op.u.ext_vcpucontext.vcpu = vcpu;
    rc = mica_domctl(hv, &op, XEN_DOMCTL_get_ext_vcpucontext, domid);
    if (rc == 0)
        *evc = op.u.ext_vcpucontext;
    return rc;
}

int mica_vcpu_ext_context_set(struct mica_hv *hv, uint16_t domid, uint32_t vcpu,
                              const struct xen_domctl_ext_vcpucontext *evc)
{
    struct xen_domctl op;

    if (!evc || vcpu >= 32)
        return -EINVAL;
    memset(&op, 0, sizeof(op));
    op.u.ext_vcpucontext = *evc;
    op.u.ext_vcpucontext.vcpu = vcpu;
    op.u.ext_vcpucontext.size = sizeof(*evc);
    return mica_domctl(hv, &op, XEN_DOMCTL_set_ext_vcpucontext, domid);
}

int mica_vcpu_extstate_query(struct mica_hv *hv, uint16_t domid, uint32_t vcpu,
                             uint64_t *mask, uint64_t *size)
{
    struct xen_domctl op;
    int rc;

    if (!mask || !size || vcpu >= 32)
        return -EINVAL;
    memset(&op, 0, sizeof(op));
    op.u.vcpuextstate.vcpu = vcpu;
    rc = mica_domctl(hv, &op, XEN_DOMCTL_getvcpuextstate, domid);
    if (rc == 0) {
        *mask = op.u.vcpuextstate.xfeature_mask;
        *size = op.u.vcpuextstate.size;
    }
    return rc;
}

int mica_vcpu_extstate_get(struct mica_hv *hv, uint16_t domid, uint32_t vcpu, uint64_t mask,
                           void *buf, uint64_t cap, uint64_t *used)
{
    struct xen_domctl op;
    int rc;

    if (!buf || !cap || !used || vcpu >= 32)
        return -EINVAL;
    memset(&op, 0, sizeof(op));
    op.u.vcpuextstate.vcpu = vcpu;
    op.u.vcpuextstate.xfeature_mask = mask;
    op.u.vcpuextstate.size = cap;
    op.u.vcpuextstate.buffer = (uint64_t)(uintptr_t)buf;
    memset(buf, 0, cap);            /* resident before the hypercall writes it */
    rc = locked_domctl(hv, &op, XEN_DOMCTL_getvcpuextstate, domid, buf, cap);
    if (rc == 0) {
        if (op.u.vcpuextstate.size > cap)
            return -EIO;
        *used = op.u.vcpuextstate.size;
    }
    return rc;
}

int mica_vcpu_extstate_set(struct mica_hv *hv, uint16_t domid, uint32_t vcpu,
                           const void *buf, uint64_t size)
{
    struct xen_domctl op;

    if (!buf || size < 16 || vcpu >= 32)
        return -EINVAL;
    memset(&op, 0, sizeof(op));
    op.u.vcpuextstate.vcpu = vcpu;
    op.u.vcpuextstate.size = size;
    op.u.vcpuextstate.buffer = (uint64_t)(uintptr_t)buf;
    return locked_domctl(hv, &op, XEN_DOMCTL_setvcpuextstate, domid, buf, size);
}

int mica_vcpu_msrs_get(struct mica_hv *hv, uint16_t domid, uint32_t vcpu,
                       struct xen_domctl_vcpu_msr *msrs, uint32_t cap, uint32_t *count)
{
    struct xen_domctl op;
    int rc;

    if (!msrs || !cap || !count || vcpu >= 32)
        return -EINVAL;
    memset(&op, 0, sizeof(op));
    op.u.vcpu_msrs.vcpu = vcpu;
    op.u.vcpu_msrs.msr_count = cap;
    op.u.vcpu_msrs.msrs = (uint64_t)(uintptr_t)msrs;
    memset(msrs, 0, cap * sizeof(*msrs));   /* resident before the hypercall writes it */
    rc = locked_domctl(hv, &op, XEN_DOMCTL_get_vcpu_msrs, domid, msrs, cap * sizeof(*msrs));
    if (rc == 0) {
        if (op.u.vcpu_msrs.msr_count > cap)
            return -EIO;
        *count = op.u.vcpu_msrs.msr_count;
    }
    return rc;
}

int mica_vcpu_msrs_set(struct mica_hv *hv, uint16_t domid, uint32_t vcpu,
                       const struct xen_domctl_vcpu_msr *msrs, uint32_t count, uint32_t *bad)
{
    struct xen_domctl op;
    int rc;

    if (!msrs || !count || vcpu >= 32)
        return -EINVAL;
    memset(&op, 0, sizeof(op));
    op.u.vcpu_msrs.vcpu = vcpu;
    op.u.vcpu_msrs.msr_count = count;
    op.u.vcpu_msrs.msrs = (uint64_t)(uintptr_t)msrs;
    rc = locked_domctl(hv, &op, XEN_DOMCTL_set_vcpu_msrs, domid, msrs, count * sizeof(*msrs));
    if (rc == -EINVAL && bad)
        *bad = op.u.vcpu_msrs.msr_count;
    return rc;
}

int mica_domain_cpu_policy_set(struct mica_hv *hv, uint16_t domid,
                               const struct xen_cpuid_leaf *leaves, uint32_t nr_leaves,
                               const struct xen_msr_entry *msrs, uint32_t nr_msrs,
                               uint32_t *err_leaf, uint32_t *err_subleaf, uint32_t *err_msr)
{
    struct xen_domctl op;
    int rc;

    if ((nr_leaves && !leaves) || (nr_msrs && !msrs) || domid == 0)
        return -EINVAL;
    memset(&op, 0, sizeof(op));
    op.u.cpu_policy.nr_leaves = nr_leaves;
    op.u.cpu_policy.nr_msrs = nr_msrs;
    op.u.cpu_policy.leaves = (uint64_t)(uintptr_t)leaves;
    op.u.cpu_policy.msrs = (uint64_t)(uintptr_t)msrs;
    op.u.cpu_policy.err_leaf = op.u.cpu_policy.err_subleaf = op.u.cpu_policy.err_msr = ~0u;
    if (nr_msrs)
        mlock(msrs, nr_msrs * sizeof(*msrs));
    rc = locked_domctl(hv, &op, XEN_DOMCTL_set_cpu_policy, domid, leaves,
                       nr_leaves * sizeof(*leaves));
    if (nr_msrs)
        munlock(msrs, nr_msrs * sizeof(*msrs));
    if (err_leaf)
        *err_leaf = op.u.cpu_policy.err_leaf;
    if (err_subleaf)
        *err_subleaf = op.u.cpu_policy.err_subleaf;
    if (err_msr)
        *err_msr = op.u.cpu_policy.err_msr;
    return rc;
}
