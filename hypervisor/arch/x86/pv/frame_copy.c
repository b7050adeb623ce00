/*
 * MICA_DOMCTL_copy_frames: the toolstack's save and restore copy a
 * paused domain's frames to or from a buffer of its own with one call per
 * batch, instead of mapping each frame into dom0 (every PTE of such a
 * mapping set and cleared through Mica) and copying there.
 *
 * Each frame is checked as the domain's and held with a general reference
 * for its copy.  Reading takes any frame of the domain, page tables
 * included (save canonicalises them).  Writing takes a writable type
 * reference, as a writable mapping would: a frame in use as a page table
 * or descriptor page is refused, so a validated table is never changed
 * behind the validation.
 */
#include <asm/guest_access.h>
#include <asm/logdirty.h>
#include <asm/paging.h>
#include <asm/pv_frame_info.h>
#include <asm/pv_mm.h>
#include <mica/hypercall.h>
#include <public/errno.h>
#include <public/mica_domctl.h>

/* Frames between two looks at whether the CPU is wanted elsewhere. */
#define COPY_PREEMPT_EVERY 64

static long copy_one(struct domain *d, mfn_t mfn, u64 va, bool to_domain)
{
    struct page_info *pg;
    void *frame;
    long rc = 0;

    /* shared_info is Mica's page to the toolstack (getpageframeinfo3: XTAB). */
    if (mfn == d->shared_info_mfn)
        return -XEN_EINVAL;
    pg = pv_frame(mfn);
    if (!get_page(pg, d))
        return -XEN_EINVAL;
    frame = maddr_to_virt(mfn << PAGE_SHIFT);
    if (!to_domain) {
        if (copy_to_guest(va, frame, PAGE_SIZE))
            rc = -XEN_EFAULT;
    } else if (get_page_type(pg, PGT_WRITABLE)) {
        rc = -XEN_EPERM;
    } else {
        if (copy_from_guest(frame, va, PAGE_SIZE))
            rc = -XEN_EFAULT;
        else
            pv_mark_dirty(d, mfn);
        put_page_type(pg);
    }
    put_page(pg);
    return rc;
}

long pv_copy_frames(struct domain *self, struct domain *d, struct mica_domctl_copy_frames *c)
{
    bool to_domain = c->direction == MICA_COPY_TO_DOMAIN;

    if (d == self)
        return -XEN_EINVAL;
    if (c->direction != MICA_COPY_FROM_DOMAIN && !to_domain)
        return -XEN_EINVAL;
    if (c->pad)
        return -XEN_EINVAL;
    if (c->nr > MICA_COPY_FRAMES_MAX)
        return -XEN_E2BIG;
    if (c->done > c->nr)
        return -XEN_EINVAL;
    /* Its vCPUs must not run: paused by the toolstack, or shut down. */
    if (!d->controller_pause_count && !d->is_shutdown)
        return -XEN_EBUSY;
    for (u32 i = c->done; i < c->nr; i++) {
        u64 mfn;
        long rc;

        if (i > c->done && (i - c->done) % COPY_PREEMPT_EVERY == 0 &&
            hypercall_preempt_check()) {
            c->done = i;
            hypercall_continue_unchanged();
            return HYPERCALL_CONTINUE;
        }
        if (copy_from_guest(&mfn, c->frames + (u64)i * sizeof(u64), sizeof(mfn))) {
            c->done = i;
            return -XEN_EFAULT;
        }
        rc = copy_one(d, mfn, c->buffer + (u64)i * PAGE_SIZE, to_domain);
        if (rc) {
            c->done = i;
            return rc;
        }
    }
    c->done = c->nr;
    return 0;
}
