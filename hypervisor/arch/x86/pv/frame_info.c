/*
 * XEN_DOMCTL_getpageframeinfo3 with Xen 4.17's semantics: a frame that
 * is not the domain's (free, another domain's, Mica's own, the shared_info
 * page, which Xen keeps on its own heap) is XTAB; otherwise its table
 * level, with LPINTAB when pinned; data and descriptor frames are NOTAB.
 * A general reference is held while the frame is looked at.
 */
#include <asm/guest_access.h>
#include <asm/m2p.h>
#include <asm/pv_frame_info.h>
#include <asm/pv_mm.h>
#include <public/domctl.h>
#include <mica/page_alloc.h>
#include <public/errno.h>

/* Xen refuses bigger batches; libxc asks for at most 1024. */
#define PFINFO_MAX_BATCH 1024

static u64 frame_type(struct domain *d, u64 mfn)
{
    struct page_info *pg;
    u64 type = XEN_DOMCTL_PFINFO_NOTAB;

    if (mfn == d->shared_info_mfn)
        return XEN_DOMCTL_PFINFO_XTAB;
    pg = pv_frame(mfn);
    if (!get_page(pg, d))
        return XEN_DOMCTL_PFINFO_XTAB;
    switch (page_type(pg)) {
    case PGT_L1: type = XEN_DOMCTL_PFINFO_L1TAB; break;
    case PGT_L2: type = XEN_DOMCTL_PFINFO_L2TAB; break;
    case PGT_L3: type = XEN_DOMCTL_PFINFO_L3TAB; break;
    case PGT_L4: type = XEN_DOMCTL_PFINFO_L4TAB; break;
    }
    if (pg->type_info & PGT_PINNED)
        type |= XEN_DOMCTL_PFINFO_LPINTAB;
    /* As Xen: a table not (yet) validated, partly validated ones
       included, is plain memory to the toolstack. */
    else if (!(pg->type_info & PGT_VALIDATED))
        type = XEN_DOMCTL_PFINFO_NOTAB;
    put_page(pg);
    return type;
}

/* Entries copied in and out per copy: one copy each way per 64 frames,
   not two per frame (a migration's table check asks for every PFN of
   the guest during its downtime). */
#define PFINFO_CHUNK 64

long pv_getpageframeinfo3(struct domain *d, u64 num, u64 array)
{
    u64 buf[PFINFO_CHUNK];

    if (num > PFINFO_MAX_BATCH)
        return -XEN_E2BIG;
    for (u64 i = 0; i < num; i += PFINFO_CHUNK) {
        u64 n = num - i < PFINFO_CHUNK ? num - i : PFINFO_CHUNK;

        if (copy_from_guest(buf, array + i * sizeof(u64), n * sizeof(u64)))
            return -XEN_EFAULT;
        for (u64 k = 0; k < n; k++)
            buf[k] = frame_type(d, buf[k]);
        if (copy_to_guest(array + i * sizeof(u64), buf, n * sizeof(u64)))
            return -XEN_EFAULT;
    }
    return 0;
}

/* Entries gathered on the stack between two copies to the caller. */
#define LIST_CHUNK 32

/*
 * MICA_DOMCTL_list_tables.  Mica keeps no list of a domain's frames, so
 * this walks the host's frame table, the owner compared first (most
 * frames are other domains' or free).  The domain does not run, so its
 * tables' types cannot change under the walk; a type read racily would
 * at worst be one getpageframeinfo3 could equally have answered.
 * Nothing is held while copying out: the copy may fault.
 */
long pv_list_tables(struct domain *self, struct domain *d, struct mica_domctl_list_tables *l)
{
    struct mica_table_frame buf[LIST_CHUNK];
    struct page_info *table = host_frames.table, *end = table + host_frames.nr_frames;
    u32 found = 0, out = 0, n = 0;

    if (d == self || l->pad)
        return -XEN_EINVAL;
    if (d->is_dying)
        return -XEN_ESRCH;
    if (!d->controller_pause_count && !d->is_shutdown)
        return -XEN_EBUSY;
    l->nr = 0;
    for (struct page_info *pg = frames_next_owned(table, end, d->domid); pg < end;
         pg = frames_next_owned(pg + 1, end, d->domid)) {
        mfn_t m = (mfn_t)(pg - table);
        u64 ti;
        u32 type;

        if (page_state(pg) != PGS_ALLOCATED)
            continue;
        ti = READ_ONCE(pg->type_info);
        switch (ti & PGT_TYPE_MASK) {
        case PGT_L1: type = XEN_DOMCTL_PFINFO_L1TAB; break;
        case PGT_L2: type = XEN_DOMCTL_PFINFO_L2TAB; break;
        case PGT_L3: type = XEN_DOMCTL_PFINFO_L3TAB; break;
        case PGT_L4: type = XEN_DOMCTL_PFINFO_L4TAB; break;
        default: continue;
        }
        /* As frame_type(): pinned, or else validated. */
        if (ti & PGT_PINNED)
            type |= XEN_DOMCTL_PFINFO_LPINTAB;
        else if (!(ti & PGT_VALIDATED))
            continue;
        if (m == d->shared_info_mfn)
            continue;
        found++;
        if (found > l->max)
            continue;
        buf[n].mfn = m;
        buf[n].pfn = m2p_get(m);
        buf[n].type = type;
        buf[n].pad = 0;
        if (++n == LIST_CHUNK) {
            if (copy_to_guest(l->tables + (u64)out * sizeof(buf[0]), buf, sizeof(buf)))
                return -XEN_EFAULT;
            out += n;
            n = 0;
        }
    }
    if (n && copy_to_guest(l->tables + (u64)out * sizeof(buf[0]), buf, n * sizeof(buf[0])))
        return -XEN_EFAULT;
    l->nr = found;
    return found > l->max ? -XEN_ENOSPC : 0;
}
