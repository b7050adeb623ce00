/*
 * MICA_DOMCTL_build_pv: the domain builder behind a domctl.
 *
 * Mica already loads dom0 and boot-time guests (kernel_image: ELF,
 * bzImage, gzip/xz/LZ4, with fuzzed decompressors; then the PV start-of-
 * day layout).  The toolstack's guests go through that same code instead
 * of a second loader in dom0 plus Xen's foreign page-table construction
 * protocol (docs/toolstack.md says why).  dom0 hands over the images from
 * its own memory; they are copied once, with the fault-safe routines,
 * into frames set aside for the call and freed before it returns.
 *
 * A domain that is found fresh (created, never built) and then fails to
 * build for any reason is destroyed here: the toolstack never sees a
 * half-built domain.  A domain already built is refused and left alone.
 */
#include <asm/guest_access.h>
#include <asm/paging.h>
#include <asm/pv.h>
#include <mica/domain.h>
#include <mica/domctl_build.h>
#include <mica/event.h>
#include <mica/lib.h>
#include <mica/page_alloc.h>
#include <public/errno.h>
#include <public/mica_domctl.h>

_Static_assert(sizeof(struct mica_domctl_build_pv) <= sizeof(((struct xen_domctl *)0)->u.pad),
               "build_pv arguments fit struct xen_domctl's union");

/* Frames holding one copied-in image for the length of the call. */
struct staging {
    mfn_t mfn;
    unsigned order;
};

static unsigned order_for(u64 bytes)
{
    unsigned order = 0;

    while ((PAGE_SIZE << order) < bytes)
        order++;
    return order;
}

static long stage_in(struct staging *st, u64 src, u64 len)
{
    st->mfn = INVALID_MFN;
    if (!len)
        return 0;
    st->order = order_for(len);
    if (st->order > MAX_ORDER)
        return -XEN_ENOMEM;
    st->mfn = alloc_frames(&host_frames, st->order);
    if (st->mfn == INVALID_MFN)
        return -XEN_ENOMEM;
    if (copy_from_guest(maddr_to_virt(st->mfn << PAGE_SHIFT), src, len))
        return -XEN_EFAULT;
    return 0;
}

static void stage_free(struct staging *st)
{
    if (st->mfn == INVALID_MFN)
        return;
    /* The images may be private to the caller: nothing stays in free memory. */
    memset(maddr_to_virt(st->mfn << PAGE_SHIFT), 0, PAGE_SIZE << st->order);
    free_frames(&host_frames, st->mfn, st->order);
    st->mfn = INVALID_MFN;
}

/* Everything that can be checked before memory is touched. */
static long check_args(const struct domain *self, struct domain *d,
                       const struct mica_domctl_build_pv *a, u64 *pages)
{
    if (a->kernel_len == 0 || a->kernel_len > MICA_BUILD_KERNEL_MAX)
        return -XEN_EINVAL;
    if ((a->initrd_len == 0) != (a->initrd == 0) || a->initrd_len > MICA_BUILD_INITRD_MAX)
        return -XEN_EINVAL;
    if ((a->cmdline_len == 0) != (a->cmdline == 0) || a->cmdline_len >= MAX_GUEST_CMDLINE)
        return -XEN_EINVAL;
    if (a->mem_kb == 0 || a->mem_kb % (PAGE_SIZE >> 10))
        return -XEN_EINVAL;
    *pages = a->mem_kb / (PAGE_SIZE >> 10);
    /* max_mem first, as Xen's toolstack does; more than that is refused. */
    if (*pages > d->max_pages)
        return -XEN_EINVAL;
    if (*pages > frame_pool_free_count(&host_frames))
        return -XEN_ENOMEM;
    if (a->console_port == a->store_port ||
        !evtchn_port_unbound_for(d, a->console_port, self->domid) ||
        !evtchn_port_unbound_for(d, a->store_port, self->domid))
        return -XEN_EINVAL;
    return 0;
}

static long build(struct domain *self, struct domain *d, struct mica_domctl_build_pv *a)
{
    static char cmdline[MAX_GUEST_CMDLINE];     /* guarded by domctl_lock */
    struct staging kernel, initrd;
    struct pv_build_rings rings;
    u64 pages;
    long rc;

    kernel.mfn = initrd.mfn = INVALID_MFN;
    if ((rc = check_args(self, d, a, &pages)))
        return rc;
    memset(cmdline, 0, sizeof(cmdline));
    if (a->cmdline_len && copy_from_guest(cmdline, a->cmdline, a->cmdline_len))
        return -XEN_EFAULT;
    if ((rc = stage_in(&kernel, a->kernel, a->kernel_len)) ||
        (rc = stage_in(&initrd, a->initrd, a->initrd_len)))
        goto out;
    rings = (struct pv_build_rings){ .console_port = a->console_port,
                                     .store_port = a->store_port };
    rc = pv_build_domain(d, maddr_to_virt(kernel.mfn << PAGE_SHIFT), a->kernel_len,
                         a->initrd_len ? maddr_to_virt(initrd.mfn << PAGE_SHIFT) : NULL,
                         a->initrd_len, pages, cmdline, &rings);
    if (rc == 0) {
        a->console_mfn = rings.console_mfn;
        a->store_mfn = rings.store_mfn;
        a->nr_pages = pages;
    }
out:
    stage_free(&kernel);
    stage_free(&initrd);
    return rc;
}

long domctl_build_pv(struct domain *self, struct domain *d, struct xen_domctl *op)
{
    struct mica_domctl_build_pv a;
    long rc;

    if (evaluate_nospec(d == self) || is_control_domain(d))
        return -XEN_EINVAL;
    /* Built once: a built (or running) domain is refused and left as it is. */
    if (d->vcpus[0]->initialised || d->tot_pages)
        return -XEN_EEXIST;
    memcpy(&a, op->u.pad, sizeof(a));
    rc = build(self, d, &a);
    if (rc) {
        printk("d%u: build failed (%ld); the domain is destroyed\n", d->domid, rc);
        domain_destroy(d);
        return rc;
    }
    memcpy(op->u.pad, &a, sizeof(a));
    printk("d%u: built by d%u, %llu MiB; console mfn %#llx port %u, store mfn %#llx port %u\n",
           d->domid, self->domid, (unsigned long long)(a.nr_pages >> (20 - PAGE_SHIFT)),
           (unsigned long long)a.console_mfn, a.console_port,
           (unsigned long long)a.store_mfn, a.store_port);
    return 0;
}
