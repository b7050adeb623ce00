/*
 * Grant tables, versions 1 and 2 (grant_table_op, hypercall 20), following
 * Xen 4.17's behaviour for PV guests: the same checks in the same order,
 * the same GNTST_* status per operation and the same errno for the call.
 *
 * The shared entries are guest memory the granter may change at any
 * time.  In version 1 the only word Mica changes there is the
 * flags/domid word, with a bounded compare-and-exchange loop
 * (GTF_reading/GTF_writing go on only if the entry still permits access
 * to this domain).  In version 2 Mica writes only the status frames (one
 * grant_status_t per entry, Mica's frames the guest may map): the status
 * is set first, then the entry is read again, and the status undone if
 * the entry changed meanwhile.  The frame number (and a sub-page's
 * bounds) are read once, at the first pin, and kept in the active entry.
 *
 * Version 2 adds sub-page grants and transitive grants; both are for
 * copying only (map refuses them, as Xen does).  A transitive grant is
 * followed one level (the entry it names must be an ordinary grant to
 * the transitive granter); the two tables are never locked together:
 * the first is unlocked while the second is pinned, then locked again
 * and checked unchanged, else everything is undone and the copy restarts
 * (a continuation).  gt->v2_ops counts sub-page and transitive pins and
 * transitive pins under way: while any exists the table cannot go back
 * to version 1 (-EAGAIN), as on Xen.
 *
 * Changing the version (set_version) needs no pins on entries past the
 * 8 reserved ones (-EBUSY).  Going back to 1 gives the status frames
 * back to Mica's allocator only if the guest no longer maps any of them
 * (-EBUSY otherwise, nothing changed): a status frame is never freed
 * while the guest can still reach it (the XSA-255 class).
 *
 * Pins are counted per kind (host/device, read/write) in the granter's
 * active entry; the mapper keeps one maptrack record per mapping.
 * Locks (docs/smp.md): the granter's gt->lock guards its entries' pins
 * and status and is held across a map or unmap, PTE update included; the
 * mapper's maptrack_lock guards its handles and is taken inside a
 * granter's lock, so an unmap reads its record, locks the granter, and
 * reads the record again.  Tables are freed after an RCU grace period, so
 * a table pointer read under either lock stays valid (perhaps dead) until
 * the hypercall ends.  What touches frames and page tables is in
 * asm/grant_map.h.
 *
 * Not implemented, as Xen 4.17 can be configured: page transfer
 * (-EOPNOTSUPP, as Xen with gnttab=no-transfer), cache_flush (-ENOSYS).
 * dump_table is -ENOSYS on Xen 4.17 as well.  A domain whose
 * createdomain asked for max grant version 1 gets -ENOSYS from
 * set_version(2), as on Xen.
 */
#include <asm/current.h>
#include <asm/grant_map.h>
#include <asm/guest_access.h>
#include <asm/paging.h>
#include <mica/grant_table.h>
#include <mica/heap.h>
#include <mica/hypercall.h>
#include <mica/lib.h>
#include <mica/nospec.h>
#include <mica/percpu.h>
#include <mica/perfc.h>
#include <mica/page_alloc.h>
#include <mica/rcu.h>
#include <mica/spinlock.h>
#include <mica/unknown_op.h>
#include <public/errno.h>
#include <public/grant_table.h>

/* Active entries are indexed as v1 refs: 512 per shared frame in either version. */
#define ENTRIES_PER_FRAME  (PAGE_SIZE / sizeof(struct grant_entry_v1))
#define V2_PER_FRAME       (PAGE_SIZE / sizeof(union grant_entry_v2))
#define STATUS_PER_FRAME   (PAGE_SIZE / sizeof(grant_status_t))
/* Status frames for n shared frames of version 2 entries (8 for 64). */
#define STATUS_FRAMES(n)   (((n) * V2_PER_FRAME + STATUS_PER_FRAME - 1) / STATUS_PER_FRAME)
#define MAX_STATUS_FRAMES  STATUS_FRAMES(GRANT_MAX_FRAMES_DEFAULT)
#define MAPS_PER_FRAME     (PAGE_SIZE / sizeof(struct grant_map))
#define ACTIVE_ORDER       2            /* 512 active entries of 32 bytes */
#define MAPTRACK_DIR_ORDER 1            /* 1024 leaf pointers */
#define MAP_NONE           0xffffffffu
/* Xen's 8-bit pin counters refuse an increment once the top bit is set. */
#define PIN_LIMIT          128u
/* Xen's GNTTABOP_CONTINUATION_ARG_SHIFT: cmd bits above it are cache_flush's. */
#define CMD_ARG_SHIFT      12
/* copy_one(): a transitive grant changed while unlocked; run the op again. */
#define COPY_RESTART       1

enum pin_kind { PIN_HOST_W, PIN_HOST_R, PIN_DEV_W, PIN_DEV_R, PIN_KINDS };

struct grant_table;
struct grant_active {
    u8 pin[PIN_KINDS];
    domid_t domid;              /* the domain holding the pins */
    u8 sub_page;                /* pinned as a v2 sub-page or transitive grant: copy only */
    u8 _pad;
    mfn_t mfn;                  /* the frame, read from the entry at first pin */
    u16 start, length;          /* the bytes of mfn the pin covers */
    u32 trans_ref;              /* transitive: the ref pinned in trans_gt */
    struct grant_table *trans_gt; /* transitive: the original granter's table; else NULL */
};
_Static_assert(sizeof(struct grant_active) == 32, "active entries are packed 512 per 16 KiB");

struct grant_map {
    struct grant_table *rgt;    /* the granter's table (kept alive while pinned) */
    u32 ref;                    /* grant ref; the next free handle while free */
    u16 flags;                  /* GNTMAP_* still held; 0 = free */
    u16 _pad;
};
_Static_assert(sizeof(struct grant_map) == 16, "maptrack records are 16 bytes");

struct grant_table {
    spinlock_t lock;
    struct domain *d;           /* lock: NULL once the domain is gone */
    bool dead;                  /* lock */
    u8 version;                 /* lock: 1 or 2 */
    u8 max_version;             /* lock: from createdomain's grant_opts */
    u32 nr_frames, max_frames;  /* lock */
    u32 nr_status_frames;       /* lock: STATUS_FRAMES(nr_frames) in version 2, else 0 */
    u32 v2_ops;                 /* lock: sub-page/transitive pins, transitive pins under way */
    u32 max_maptrack;           /* maptrack_lock */
    mfn_t frames[GRANT_MAX_FRAMES_DEFAULT];                 /* lock */
    mfn_t status[MAX_STATUS_FRAMES];                        /* lock */
    struct grant_active *active[GRANT_MAX_FRAMES_DEFAULT];  /* lock, and the entries */
    u64 pins;                   /* lock: pins on this table's entries, by anyone */

    /* This domain's mappings of others' grants. */
    spinlock_t maptrack_lock;
    struct grant_map **maptrack;    /* maptrack_lock, and the records */
    u32 maptrack_frames;            /* maptrack_lock */
    u32 map_free;                   /* maptrack_lock */
    struct rcu_head rcu;
};

/* ---- Mica's own pages for grant bookkeeping ---- */

static void *mica_pages(unsigned order)
{
    mfn_t mfn = alloc_frames(&host_frames, order);

    if (mfn == INVALID_MFN)
        return NULL;
    for (unsigned i = 0; i < (1u << order); i++)
        mfn_to_page(&host_frames, mfn + i)->owner = PAGE_OWNER_MICA;
    memset(maddr_to_virt(mfn << PAGE_SHIFT), 0, PAGE_SIZE << order);
    return maddr_to_virt(mfn << PAGE_SHIFT);
}

static void mica_pages_free(void *va, unsigned order)
{
    mfn_t mfn;

    if (!va)
        return;
    mfn = virt_to_maddr(va) >> PAGE_SHIFT;
    for (unsigned i = 0; i < (1u << order); i++)
        mfn_to_page(&host_frames, mfn + i)->owner = PAGE_OWNER_NONE;
    free_frames(&host_frames, mfn, order);
}

/* ---- tables ---- */

static u32 nr_entries(const struct grant_table *gt)
{
    return gt->nr_frames * (evaluate_nospec(gt->version == 1) ? ENTRIES_PER_FRAME : V2_PER_FRAME);
}

/*
 * The accessors below take a reference the caller has checked against
 * nr_entries(); each clamps it again without a branch (mica/nospec.h), as
 * a guest chooses it.  The version decides an entry's layout, and the
 * guest can change it (set_version): a mispredicted version check would
 * read a v2 entry as v1 or the other way, so it is fenced
 * (evaluate_nospec(), as Xen does).
 */

/* Entry ref of a version 1 table. */
static struct grant_entry_v1 *shared_entry(const struct grant_table *gt, u32 ref)
{
    ref = array_index_nospec(ref, gt->nr_frames * ENTRIES_PER_FRAME);
    return (struct grant_entry_v1 *)gnt_frame_va(gt->frames[ref / ENTRIES_PER_FRAME]) +
           ref % ENTRIES_PER_FRAME;
}

/* Entry ref of a version 2 table. */
static union grant_entry_v2 *shared_entry_v2(const struct grant_table *gt, u32 ref)
{
    ref = array_index_nospec(ref, gt->nr_frames * V2_PER_FRAME);
    return (union grant_entry_v2 *)gnt_frame_va(gt->frames[ref / V2_PER_FRAME]) +
           ref % V2_PER_FRAME;
}

/* The flags/domid word of entry ref: the same place in both versions. */
static volatile u32 *entry_header(const struct grant_table *gt, u32 ref)
{
    if (evaluate_nospec(gt->version == 1))
        return (volatile u32 *)shared_entry(gt, ref);
    return (volatile u32 *)&shared_entry_v2(gt, ref)->hdr;
}

/* Where Mica sets GTF_reading/GTF_writing: the entry's flags (v1) or its status (v2). */
static u16 *status_entry(const struct grant_table *gt, u32 ref)
{
    if (evaluate_nospec(gt->version == 1))
        return &shared_entry(gt, ref)->flags;
    ref = array_index_nospec(ref, gt->nr_status_frames * STATUS_PER_FRAME);
    return (u16 *)gnt_frame_va(gt->status[ref / STATUS_PER_FRAME]) + ref % STATUS_PER_FRAME;
}

/*
 * The granted frame of entry ref.  The guest may rewrite its entry at
 * any time: the frame (and a sub-page's bounds) are read once.
 */
static mfn_t read_frame(const struct grant_table *gt, u32 ref)
{
    if (evaluate_nospec(gt->version == 1))
        return *(const volatile u32 *)&shared_entry(gt, ref)->frame;
    return *(const volatile u64 *)&shared_entry_v2(gt, ref)->full_page.frame;
}

static struct grant_active *active_entry(const struct grant_table *gt, u32 ref)
{
    ref = array_index_nospec(ref, gt->nr_frames * ENTRIES_PER_FRAME);
    return &gt->active[ref / ENTRIES_PER_FRAME][ref % ENTRIES_PER_FRAME];
}

static unsigned pins_total(const struct grant_active *a)
{
    return a->pin[PIN_HOST_W] + a->pin[PIN_HOST_R] + a->pin[PIN_DEV_W] + a->pin[PIN_DEV_R];
}

static bool pins_writable(const struct grant_active *a)
{
    return a->pin[PIN_HOST_W] || a->pin[PIN_DEV_W];
}

/*
 * A frame Mica allocated for gt's domain that the guest has never seen:
 * freeing it cannot fail.
 */
static void unseen_frame_free(mfn_t mfn)
{
    if (!gnt_shared_frame_free(mfn))
        printk("grant: a fresh grant frame %#llx was referenced: leaked\n",
               (unsigned long long)mfn);
}

/* In version 2, status frames for want shared frames.  Under gt->lock. */
static long populate_status(struct grant_table *gt, u32 want)
{
    u32 need = STATUS_FRAMES(want);

    while (gt->nr_status_frames < need) {
        mfn_t mfn = gnt_shared_frame_alloc(gt->d);

        if (mfn == INVALID_MFN)
            return -XEN_ENOMEM;
        gt->status[gt->nr_status_frames++] = mfn;
    }
    return 0;
}

/* Grows gt to want shared frames (and their status frames).  Under gt->lock. */
static long grow_table(struct grant_table *gt, u32 want)
{
    while (gt->nr_frames < want) {
        u32 i = gt->nr_frames, had_status = gt->nr_status_frames;
        struct grant_active *act;
        mfn_t mfn;

        if (gt->version == 2 && populate_status(gt, i + 1))
            goto fail;
        if (!(act = mica_pages(ACTIVE_ORDER)))
            goto fail;
        mfn = gnt_shared_frame_alloc(gt->d);
        if (mfn == INVALID_MFN) {
            mica_pages_free(act, ACTIVE_ORDER);
            goto fail;
        }
        gt->active[i] = act;
        gt->frames[i] = mfn;
        gt->nr_frames = i + 1;
        continue;
fail:
        /* Status frames only this frame needed: the guest cannot know them yet. */
        while (gt->nr_status_frames > had_status)
            unseen_frame_free(gt->status[--gt->nr_status_frames]);
        return -XEN_ENOMEM;
    }
    return 0;
}

long grant_table_create(struct domain *d)
{
    struct grant_table *gt = xzalloc(sizeof(*gt));

    if (!gt)
        return -XEN_ENOMEM;
    spin_lock_init(&gt->lock, "gt->lock", LOCK_ORDER_GRANT);
    spin_lock_init(&gt->maptrack_lock, "gt->maptrack_lock", LOCK_ORDER_MAPTRACK);
    gt->d = d;
    gt->version = 1;
    gt->max_version = GRANT_MAX_VERSION;
    gt->max_frames = GRANT_MAX_FRAMES_DEFAULT;
    gt->max_maptrack = MAPTRACK_MAX_FRAMES_DEFAULT;
    gt->map_free = MAP_NONE;
    d->grant = gt;
    if (grow_table(gt, GRANT_INITIAL_FRAMES)) {
        grant_domain_destroy(d);
        return -XEN_ENOMEM;
    }
    return 0;
}

long grant_table_set_limits(struct domain *d, s32 max_grant_frames, s32 max_maptrack_frames,
                            u32 max_version)
{
    u32 gf = max_grant_frames < 0 ? GRANT_MAX_FRAMES_DEFAULT : (u32)max_grant_frames;
    u32 mf = max_maptrack_frames < 0 ? MAPTRACK_MAX_FRAMES_DEFAULT : (u32)max_maptrack_frames;

    if (max_version < 1 || max_version > GRANT_MAX_VERSION)
        return -XEN_EINVAL;
    if (gf < GRANT_INITIAL_FRAMES || gf > GRANT_MAX_FRAMES_DEFAULT ||
        mf > MAPTRACK_MAX_FRAMES_DEFAULT)
        return -XEN_EINVAL;
    if (d) {
        struct grant_table *gt = d->grant;

        spin_lock(&gt->lock);
        gt->max_frames = gf;
        gt->max_version = (u8)max_version;
        spin_unlock(&gt->lock);
        spin_lock(&gt->maptrack_lock);
        gt->max_maptrack = mf;
        spin_unlock(&gt->maptrack_lock);
    }
    return 0;
}

static void free_table_rcu(struct rcu_head *head)
{
    struct grant_table *gt =
        (struct grant_table *)((char *)head - __builtin_offsetof(struct grant_table, rcu));

    for (u32 i = 0; i < gt->nr_frames; i++)
        mica_pages_free(gt->active[i], ACTIVE_ORDER);
    for (u32 i = 0; i < gt->maptrack_frames; i++)
        mica_pages_free(gt->maptrack[i], 0);
    mica_pages_free(gt->maptrack, MAPTRACK_DIR_ORDER);
    xfree(gt);
}

/* Other CPUs may hold gt, found under a lock, until their next quiescent point. */
static void free_table(struct grant_table *gt)
{
    call_rcu(&gt->rcu, free_table_rcu);
}

/*
 * Unlocks gt, then frees it if it is dead and unpinned: a dead granter's
 * table goes with the last pin on it.  Pins only drop to 0 once, under
 * the lock, and a dead table gains none, so one CPU alone sees it so.
 */
static void table_unlock(struct grant_table *gt)
{
    bool unused = gt->dead && !gt->pins;

    spin_unlock(&gt->lock);
    if (unused)
        free_table(gt);
}

/* d's table, NULL once d's teardown has detached it. */
static struct grant_table *live_table(const struct domain *d)
{
    return READ_ONCE(d->grant);
}

/* ---- the status protocol ---- */

/*
 * Whether an entry's flags let ldomid use it: GTF_permit_access (with
 * GTF_sub_page clear for a mapping), or in version 2 GTF_transitive for
 * a copy; and the entry names ldomid.
 */
static bool entry_permits(u32 word, bool v2, bool mapping, domid_t ldomid)
{
    u16 flags = (u16)word, mask = GTF_type_mask | (mapping ? GTF_sub_page : 0);

    if ((u16)(word >> 16) != ldomid)
        return false;
    return (flags & mask) == GTF_permit_access ||
           (v2 && !mapping && (flags & mask) == GTF_transitive);
}

/*
 * Version 2: the status is set first, then the entry read again; if it
 * no longer allows what was set, the status is undone.
 */
static int set_status_v2(struct grant_table *gt, u32 ref, bool pinned, bool readonly,
                         bool mapping, domid_t ldomid)
{
    volatile u32 *word = entry_header(gt, ref);
    u16 *status = status_entry(gt, ref);
    u32 cur = *word;

    if (!pinned && !entry_permits(cur, true, mapping, ldomid))
        return GNTST_general_error;
    if (!readonly && (cur & GTF_readonly))
        return GNTST_general_error;
    __atomic_fetch_or(status, (u16)(readonly ? GTF_reading : GTF_reading | GTF_writing),
                      __ATOMIC_SEQ_CST);
    cur = *word;
    if (!pinned) {
        if (!entry_permits(cur, true, mapping, ldomid) || (!readonly && (cur & GTF_readonly))) {
            __atomic_fetch_and(status, (u16)~(GTF_reading | GTF_writing), __ATOMIC_SEQ_CST);
            return GNTST_general_error;
        }
    } else if (cur & GTF_readonly) {
        __atomic_fetch_and(status, (u16)~GTF_writing, __ATOMIC_SEQ_CST);
        return GNTST_general_error;
    }
    return GNTST_okay;
}

/*
 * Marks entry ref in use for reading (and writing unless readonly) by
 * ldomid.  Unless already pinned, the entry must permit access to
 * ldomid (with GTF_sub_page clear for a mapping).  Version 1: the guest
 * may change the word under us: retried at most four times, then
 * refused.
 */
static int set_status(struct grant_table *gt, u32 ref, bool pinned, bool readonly,
                      bool mapping, domid_t ldomid)
{
    volatile u32 *word = entry_header(gt, ref);
    u32 cur;

    if (gt->version == 2)
        return set_status_v2(gt, ref, pinned, readonly, mapping, ldomid);
    cur = *word;
    for (unsigned tries = 0;; tries++) {
        u16 flags = (u16)cur;
        u32 want, prev;

        if (!pinned && !entry_permits(cur, false, mapping, ldomid))
            return GNTST_general_error;
        want = cur | GTF_reading;
        if (!readonly) {
            want |= GTF_writing;
            if (flags & GTF_readonly)
                return GNTST_general_error;
        }
        prev = __sync_val_compare_and_swap(word, cur, want);
        if (prev == cur)
            return GNTST_okay;
        if (tries == 4)
            return GNTST_general_error;
        cur = prev;
    }
}

/* Clears what the remaining pins no longer justify. */
static void reduce_status(struct grant_table *gt, u32 ref, const struct grant_active *act,
                          bool readonly)
{
    u16 clear = pins_total(act) ? 0 : GTF_reading;

    if (!readonly && !pins_writable(act))
        clear |= GTF_writing;
    if (clear && !gt->dead)
        __atomic_fetch_and(status_entry(gt, ref), (u16)~clear, __ATOMIC_SEQ_CST);
}

/* ---- maptrack ---- */

static u32 get_handle_locked(struct grant_table *lgt)
{
    u32 h;

    if (lgt->map_free == MAP_NONE) {
        struct grant_map *leaf;
        u32 base = lgt->maptrack_frames * MAPS_PER_FRAME;

        if (lgt->maptrack_frames >= lgt->max_maptrack)
            return MAP_NONE;
        if (!lgt->maptrack && !(lgt->maptrack = mica_pages(MAPTRACK_DIR_ORDER)))
            return MAP_NONE;
        if (!(leaf = mica_pages(0)))
            return MAP_NONE;
        for (u32 i = 0; i < MAPS_PER_FRAME; i++)
            leaf[i].ref = i + 1 < MAPS_PER_FRAME ? base + i + 1 : MAP_NONE;
        lgt->maptrack[lgt->maptrack_frames++] = leaf;
        lgt->map_free = base;
    }
    h = lgt->map_free;
    lgt->map_free = lgt->maptrack[h / MAPS_PER_FRAME][h % MAPS_PER_FRAME].ref;
    return h;
}

static u32 get_handle(struct grant_table *lgt)
{
    u32 h;

    spin_lock(&lgt->maptrack_lock);
    h = get_handle_locked(lgt);
    spin_unlock(&lgt->maptrack_lock);
    return h;
}

static struct grant_map *map_entry(struct grant_table *lgt, u32 h)
{
    ASSERT_SPIN_LOCKED(&lgt->maptrack_lock);
    if (h >= lgt->maptrack_frames * MAPS_PER_FRAME)
        return NULL;
    h = array_index_nospec(h, lgt->maptrack_frames * MAPS_PER_FRAME);
    return &lgt->maptrack[h / MAPS_PER_FRAME][h % MAPS_PER_FRAME];
}

static void put_handle_locked(struct grant_table *lgt, u32 h)
{
    struct grant_map *m = map_entry(lgt, h);

    m->flags = 0;
    m->rgt = NULL;
    m->ref = lgt->map_free;
    lgt->map_free = h;
}

static void put_handle(struct grant_table *lgt, u32 h)
{
    spin_lock(&lgt->maptrack_lock);
    put_handle_locked(lgt, h);
    spin_unlock(&lgt->maptrack_lock);
}

/* ---- map ---- */

static void map_one(struct vcpu *v, struct gnttab_map_grant_ref *op)
{
    struct domain *ld = v->domain, *rd;
    struct grant_table *lgt = ld->grant, *rgt;
    struct grant_active *act;
    struct grant_map *m;
    bool ro = op->flags & GNTMAP_readonly;
    bool dev = op->flags & GNTMAP_device_map, host = op->flags & GNTMAP_host_map;
    enum pin_kind kdev = ro ? PIN_DEV_R : PIN_DEV_W, khost = ro ? PIN_HOST_R : PIN_HOST_W;
    bool dev_ref = false, host_ref = false;
    u32 handle, ref = op->ref;
    unsigned before;
    mfn_t mfn;
    int rc;

    if (!dev && !host) {
        op->status = GNTST_bad_gntref;
        return;
    }
    /* An exact id: DOMID_SELF names no domain here (as on Xen). */
    if (!(rd = domain_by_id(op->dom))) {
        op->status = GNTST_bad_domain;
        return;
    }
    if ((handle = get_handle(lgt)) == MAP_NONE) {
        op->status = GNTST_no_space;
        return;
    }
    if (!(rgt = live_table(rd))) {
        rc = GNTST_bad_domain;
        goto out_handle;
    }
    spin_lock(&rgt->lock);
    if (rgt->dead) {
        rc = GNTST_bad_domain;
        goto out_unlock;
    }
    if (ref >= nr_entries(rgt)) {
        rc = GNTST_bad_gntref;
        goto out_unlock;
    }
    act = active_entry(rgt, ref);
    before = pins_total(act);
    /* Sub-page and transitive pins are for copying: no mapping joins them. */
    if (before && (act->domid != ld->domid || (dev && act->pin[kdev] >= PIN_LIMIT) ||
                   (host && act->pin[khost] >= PIN_LIMIT) || act->sub_page)) {
        rc = GNTST_general_error;
        goto out_unlock;
    }
    if (!before || (!ro && !pins_writable(act))) {
        if ((rc = set_status(rgt, ref, before, ro, true, ld->domid)) != GNTST_okay)
            goto out_unlock;
        if (!before) {
            mfn = read_frame(rgt, ref);
            if (!gnt_frame_owned_by(rd, mfn)) {
                rc = GNTST_bad_page;
                reduce_status(rgt, ref, act, ro);
                goto out_unlock;
            }
            act->domid = ld->domid;
            act->mfn = mfn;
            act->sub_page = 0;
            act->start = 0;
            act->length = PAGE_SIZE;
            act->trans_gt = NULL;
        }
    }
    if (dev) {
        act->pin[kdev]++;
        rgt->pins++;
    }
    if (host) {
        act->pin[khost]++;
        rgt->pins++;
    }
    mfn = act->mfn;

    if (dev) {
        if ((rc = gnt_frame_get(rd, mfn, !ro)) != GNTST_okay)
            goto undo;
        dev_ref = true;
    }
    if (host) {
        if ((rc = gnt_frame_get(rd, mfn, !ro)) != GNTST_okay)
            goto undo;
        host_ref = true;
        if ((rc = gnt_pte_create(v, op->host_addr, mfn, op->flags)) != GNTST_okay)
            goto undo;
    }

    spin_lock(&lgt->maptrack_lock);
    m = map_entry(lgt, handle);
    m->rgt = rgt;
    m->ref = ref;
    m->flags = (u16)op->flags;
    spin_unlock(&lgt->maptrack_lock);
    spin_unlock(&rgt->lock);
    op->dev_bus_addr = mfn << PAGE_SHIFT;
    op->handle = handle;
    op->status = GNTST_okay;
    return;

undo:
    /* A frame the granter still owns but that cannot be pinned so. */
    if (rc == GNTST_bad_page)
        rc = GNTST_general_error;
    if (host_ref)
        gnt_frame_put(mfn, !ro);
    if (dev_ref)
        gnt_frame_put(mfn, !ro);
    if (dev) {
        act->pin[kdev]--;
        rgt->pins--;
    }
    if (host) {
        act->pin[khost]--;
        rgt->pins--;
    }
    reduce_status(rgt, ref, act, ro);
out_unlock:
    spin_unlock(&rgt->lock);
out_handle:
    put_handle(lgt, handle);
    op->status = (s16)rc;
}

/* ---- unmap ---- */

/*
 * An unmap happens in two steps, as on Xen: the mapping goes (PTE
 * cleared, maptrack record updated, status written back to the guest)
 * for up to UNMAP_BATCH elements of a call, then one TLB flush of every
 * CPU where the mapper's tables are loaded covers them all, and only then
 * are the frame references and pins dropped (unmap_complete()).  Until
 * then the pins keep the granter's active entry, its frame and its table
 * as they were, so nothing can reuse the frame while a stale translation
 * may still reach it.  Xen 4.17 flushes once per 32 unmaps the same way
 * (GNTTAB_UNMAP_BATCH_SIZE); Mica used to flush after every one, which
 * cost netback (batches of up to a ring's worth of unmaps) a full TLB
 * flush per packet fragment.
 */
#define UNMAP_BATCH 32

struct unmap_req {
    u64 host_addr, dev_bus_addr, new_addr;
    u32 handle;
};

/* What an unmap's first step let go of, for its second. */
struct unmap_done {
    struct grant_table *rgt;
    u32 ref;
    u16 done;                   /* GNTMAP_host_map and/or GNTMAP_device_map released */
    bool ro;
    mfn_t mfn;
};

/* The first steps of one call's unmaps since its last flush; the calling CPU's own. */
struct unmap_batch {
    unsigned n;
    struct unmap_done d[UNMAP_BATCH];
};

/*
 * Under the granter's lock and lgt's maptrack lock, for a record in use:
 * the first step.  *out says what the second must release (done 0:
 * nothing).
 */
static s16 unmap_locked(struct vcpu *v, struct grant_table *lgt, struct grant_map *m,
                        const struct unmap_req *r, struct unmap_done *out)
{
    struct grant_table *rgt = m->rgt;
    u32 ref = m->ref;
    u16 flags = m->flags, done = 0;
    bool ro = flags & GNTMAP_readonly;
    struct grant_active *act = active_entry(rgt, ref);
    mfn_t mfn = act->mfn;

    out->done = 0;

    if (r->dev_bus_addr && (flags & GNTMAP_device_map) &&
        r->dev_bus_addr != mfn << PAGE_SHIFT)
        return GNTST_bad_dev_addr;
    if (r->host_addr && (flags & GNTMAP_host_map)) {
        if (gnt_pte_destroy(v, r->host_addr, mfn, r->new_addr, flags) != GNTST_okay)
            return GNTST_general_error;
        m->flags &= (u16)~GNTMAP_host_map;
        done |= GNTMAP_host_map;
    }
    if (r->dev_bus_addr && (flags & GNTMAP_device_map)) {
        m->flags &= (u16)~GNTMAP_device_map;
        done |= GNTMAP_device_map;
    }
    if (!(m->flags & (GNTMAP_device_map | GNTMAP_host_map)))
        put_handle_locked(lgt, r->handle);
    *out = (struct unmap_done){ .rgt = rgt, .ref = ref, .done = done, .ro = ro, .mfn = mfn };
    return GNTST_okay;
}

/*
 * The second step, after the flush: the references and pins the first
 * step left in place go.  The pins kept rgt (perhaps dead by now) and
 * the active entry as they were.
 */
static void unmap_complete(const struct unmap_done *u)
{
    struct grant_table *rgt = u->rgt;
    struct grant_active *act;

    spin_lock(&rgt->lock);
    act = active_entry(rgt, u->ref);
    if (u->done & GNTMAP_device_map) {
        gnt_frame_put(u->mfn, !u->ro);
        act->pin[u->ro ? PIN_DEV_R : PIN_DEV_W]--;
        rgt->pins--;
    }
    if (u->done & GNTMAP_host_map) {
        gnt_frame_put(u->mfn, !u->ro);
        act->pin[u->ro ? PIN_HOST_R : PIN_HOST_W]--;
        rgt->pins--;
    }
    reduce_status(rgt, u->ref, act, u->ro);
    table_unlock(rgt);
}

/*
 * Ends the batch's first steps: one flush (if a host mapping went; no
 * stale translation may outlive the references), then the second steps.
 */
static void unmap_batch_finish(struct vcpu *v, struct unmap_batch *b)
{
    bool flush = false;

    for (unsigned i = 0; i < b->n; i++)
        if (b->d[i].done & GNTMAP_host_map)
            flush = true;
    if (flush) {
        perfc_inc(gnt_unmap_flush);
        gnt_flush_tlb(v->domain);
    }
    for (unsigned i = 0; i < b->n; i++)
        unmap_complete(&b->d[i]);
    b->n = 0;
}

/*
 * The granter's lock comes before the maptrack lock: the record is read,
 * the granter locked, and the record read again, since another vCPU of
 * ours may have unmapped it meanwhile (the table stays valid: tables are
 * freed after a grace period).
 */
static s16 unmap_one(struct vcpu *v, const struct unmap_req *r, struct unmap_batch *b)
{
    struct grant_table *lgt = v->domain->grant, *rgt;
    struct grant_map *m;
    s16 rc = GNTST_bad_handle;
    struct unmap_done out = { .done = 0 };

    spin_lock(&lgt->maptrack_lock);
    m = map_entry(lgt, r->handle);
    rgt = m && m->flags ? m->rgt : NULL;
    spin_unlock(&lgt->maptrack_lock);
    if (!rgt)
        return GNTST_bad_handle;
    spin_lock(&rgt->lock);
    spin_lock(&lgt->maptrack_lock);
    if (m->flags && m->rgt == rgt)
        rc = unmap_locked(v, lgt, m, r, &out);
    spin_unlock(&lgt->maptrack_lock);
    /* Not freed here: if it released anything, it holds pins until the second step. */
    table_unlock(rgt);
    if (out.done)
        b->d[b->n++] = out;
    return rc;
}

/* ---- copy ---- */

/* One copy pin on a grant: the entry named, and for a transitive one the entry behind it. */
struct copy_pin {
    struct grant_table *gt;     /* the table named by the op */
    u32 ref;
    struct grant_table *tgt;    /* transitive: the original granter's table, else NULL */
    u32 tref;
    struct domain *owner;       /* who owns mfn (holds the frame reference) */
    mfn_t mfn;
    u16 start, len;             /* the bytes of mfn the grant covers */
};

struct copy_buf {
    struct domain *d;
    struct copy_pin pin;        /* pin.gt set when claimed by grant ref */
    mfn_t mfn;
    u16 start, len;
    bool writable;              /* the destination: a writing pin */
    bool claimed, typed;        /* holds a general (and a writable type) reference */
};

static int copy_lock(const struct gnttab_copy_ptr *p, bool is_gref, struct domain *cur,
                     struct copy_buf *b)
{
    /* Xen 4.17.7 answers a missing domain before a frame named for another one. */
    b->d = p->domid == DOMID_SELF ? cur : domain_by_id(p->domid);
    if (!b->d)
        return GNTST_bad_domain;
    if (p->domid != DOMID_SELF && !is_gref)
        return GNTST_permission_denied;     /* only our own frames by number */
    return GNTST_okay;
}

/* Drops one copy pin of entry ref in gt (locked): status, sub-page count. */
static void unpin_copy_locked(struct grant_table *gt, u32 ref, bool ro)
{
    struct grant_active *act = active_entry(gt, ref);

    act->pin[ro ? PIN_HOST_R : PIN_HOST_W]--;
    gt->pins--;
    reduce_status(gt, ref, act, ro);
    if (!pins_total(act) && act->sub_page)
        gt->v2_ops--;
}

/* Drops the pins acquire_for_copy() took (the caller drops the frame reference). */
static void release_copy_pin(struct copy_pin *p, bool ro)
{
    spin_lock(&p->gt->lock);
    unpin_copy_locked(p->gt, p->ref, ro);
    table_unlock(p->gt);
    if (p->tgt) {
        spin_lock(&p->tgt->lock);
        unpin_copy_locked(p->tgt, p->tref, ro);
        table_unlock(p->tgt);
    }
}

static int acquire_for_copy(struct domain *rd, u32 ref, domid_t ldomid, bool ro,
                            bool allow_transitive, struct copy_pin *out);

/*
 * A transitive entry (version 2, under gt->lock, which is dropped and
 * taken again): the entry it names is pinned for rd, then this one is
 * checked unchanged.  *relocked says the lock is held again on return.
 */
static int acquire_transitive(struct grant_table *gt, struct domain *rd, u32 ref,
                              domid_t ldomid, bool ro, bool allow_transitive,
                              struct copy_pin *out)
{
    enum pin_kind k = ro ? PIN_HOST_R : PIN_HOST_W;
    struct grant_active *act = active_entry(gt, ref);
    union grant_entry_v2 *e = shared_entry_v2(gt, ref);
    u8 old_pin[PIN_KINDS];
    struct copy_pin inner;
    struct domain *td;
    domid_t tdomid;
    u32 tref;
    int rc;

    memcpy(old_pin, act->pin, sizeof(old_pin));
    if ((!pins_total(act) || (!ro && !pins_writable(act))) &&
        (rc = set_status(gt, ref, pins_total(act), ro, false, ldomid)) != GNTST_okay)
        return rc;
    if (!allow_transitive) {
        reduce_status(gt, ref, act, ro);
        return GNTST_general_error;         /* one level only */
    }
    tdomid = *(volatile domid_t *)&e->transitive.trans_domid;
    tref = *(volatile u32 *)&e->transitive.gref;
    if (tdomid == rd->domid || !(td = domain_by_id(tdomid))) {
        reduce_status(gt, ref, act, ro);    /* not itself, and a domain that exists */
        return GNTST_general_error;
    }
    gt->v2_ops++;                           /* no version change meanwhile */
    spin_unlock(&gt->lock);

    rc = acquire_for_copy(td, tref, rd->domid, ro, false, &inner);

    spin_lock(&gt->lock);
    if (rc != GNTST_okay) {
        gt->v2_ops--;
        reduce_status(gt, ref, act, ro);
        return rc;
    }
    /* Unchanged while unlocked?  Otherwise undo all and run the op again. */
    if (gt->dead || gt->version != 2 || memcmp(old_pin, act->pin, sizeof(old_pin)) ||
        (pins_total(act) && (act->domid != ldomid || act->mfn != inner.mfn ||
                             act->start != inner.start || act->length != inner.len ||
                             act->trans_gt != inner.gt || act->trans_ref != inner.ref ||
                             !act->sub_page))) {
        spin_unlock(&gt->lock);
        gnt_frame_put(inner.mfn, false);
        release_copy_pin(&inner, ro);
        spin_lock(&gt->lock);
        gt->v2_ops--;
        reduce_status(gt, ref, act, ro);
        return COPY_RESTART;
    }
    if (!pins_total(act)) {
        act->domid = ldomid;
        act->mfn = inner.mfn;
        act->start = inner.start;
        act->length = inner.len;
        act->trans_gt = inner.gt;
        act->trans_ref = inner.ref;
        act->sub_page = 1;                  /* keeps mappings out; counted in v2_ops */
    } else {
        gt->v2_ops--;
    }
    act->pin[k]++;
    gt->pins++;
    *out = (struct copy_pin){ .gt = gt, .ref = ref, .tgt = inner.gt, .tref = inner.ref,
                              .owner = inner.owner, .mfn = inner.mfn,
                              .start = inner.start, .len = inner.len };
    return GNTST_okay;
}

/* An ordinary entry (either version), under gt->lock: pin, frame reference. */
static int acquire_direct(struct grant_table *gt, struct domain *rd, u32 ref, domid_t ldomid,
                          bool ro, struct copy_pin *out)
{
    enum pin_kind k = ro ? PIN_HOST_R : PIN_HOST_W;
    struct grant_active *act = active_entry(gt, ref);
    unsigned before = pins_total(act);
    int rc;

    if (!before || (!ro && !pins_writable(act))) {
        bool sub = false;
        u16 start = 0, len = PAGE_SIZE;
        mfn_t mfn;

        if ((rc = set_status(gt, ref, before, ro, false, ldomid)) != GNTST_okay)
            return rc;
        mfn = read_frame(gt, ref);
        if (gt->version == 2 && (*entry_header(gt, ref) & GTF_sub_page)) {
            union grant_entry_v2 *e = shared_entry_v2(gt, ref);

            sub = true;
            start = *(volatile u16 *)&e->sub_page.page_off;
            len = *(volatile u16 *)&e->sub_page.length;
        }
        if (!gnt_frame_owned_by(rd, mfn)) {
            reduce_status(gt, ref, act, ro);
            return GNTST_bad_page;
        }
        if (!before) {
            act->domid = ldomid;
            act->mfn = mfn;
            act->sub_page = sub;
            act->start = start;
            act->length = len;
            act->trans_gt = NULL;
            if (sub)
                gt->v2_ops++;
        } else if (mfn != act->mfn || act->trans_gt ||
                   (act->sub_page && (!sub || start != act->start || len != act->length))) {
            /* The entry now names another frame or range than the pinned one (XSA-500). */
            reduce_status(gt, ref, act, ro);
            return GNTST_general_error;
        }
    } else if (!gnt_frame_owned_by(rd, act->mfn)) {
        return GNTST_bad_domain;
    }
    if ((rc = gnt_frame_get(rd, act->mfn, false)) != GNTST_okay) {
        reduce_status(gt, ref, act, ro);
        return rc;
    }
    act->pin[k]++;
    gt->pins++;
    *out = (struct copy_pin){ .gt = gt, .ref = ref, .owner = rd, .mfn = act->mfn,
                              .start = act->start, .len = act->length };
    return GNTST_okay;
}

/*
 * One copy pin on rd's entry ref for ldomid, with a general reference on
 * the frame.  GNTST_* or COPY_RESTART.
 */
static int acquire_for_copy(struct domain *rd, u32 ref, domid_t ldomid, bool ro,
                            bool allow_transitive, struct copy_pin *out)
{
    struct grant_table *gt = live_table(rd);
    struct grant_active *act;
    int rc;

    if (!gt)
        return GNTST_bad_domain;
    spin_lock(&gt->lock);
    if (gt->dead) {
        rc = GNTST_bad_domain;
        goto out;
    }
    if (ref >= nr_entries(gt)) {
        rc = GNTST_bad_gntref;
        goto out;
    }
    act = active_entry(gt, ref);
    if (pins_total(act) &&
        (act->domid != ldomid || act->pin[ro ? PIN_HOST_R : PIN_HOST_W] >= PIN_LIMIT)) {
        rc = GNTST_general_error;
        goto out;
    }
    if (gt->version == 2 && (*entry_header(gt, ref) & GTF_type_mask) == GTF_transitive)
        rc = acquire_transitive(gt, rd, ref, ldomid, ro, allow_transitive, out);
    else
        rc = acquire_direct(gt, rd, ref, ldomid, ro, out);
out:
    /*
     * No pin of gt was dropped here: if it is dead and unpinned, whoever
     * made it so freed it (a transitive acquisition may see that happen).
     */
    spin_unlock(&gt->lock);
    return rc;
}

static void copy_release(struct copy_buf *b)
{
    if (!b->claimed)
        return;
    gnt_frame_put(b->mfn, b->typed);
    if (b->pin.gt)
        release_copy_pin(&b->pin, !b->writable);
    b->claimed = b->typed = false;
}

static int copy_claim(struct copy_buf *b, const struct gnttab_copy_ptr *p, bool is_gref,
                      domid_t ldomid)
{
    struct domain *owner = b->d;
    int rc;

    if (is_gref) {
        if ((rc = acquire_for_copy(b->d, p->u.ref, ldomid, !b->writable, true, &b->pin)) !=
            GNTST_okay)
            return rc;
        owner = b->pin.owner;
        b->mfn = b->pin.mfn;
        b->start = b->pin.start;
        b->len = b->pin.len;
    } else {
        mfn_t mfn = p->u.gmfn;          /* PV: a frame number is the machine frame */
        if ((rc = gnt_frame_get(b->d, mfn, false)) != GNTST_okay)
            return rc;
        b->pin.gt = NULL;
        b->mfn = mfn;
        b->start = 0;
        b->len = PAGE_SIZE;
    }
    b->claimed = true;
    if (b->writable) {
        /* A frame that is a page table cannot be written, even by copy. */
        if (gnt_frame_get(owner, b->mfn, true) != GNTST_okay)
            return GNTST_general_error;
        gnt_frame_put(b->mfn, false);   /* one general reference is enough */
        b->typed = true;
    }
    return GNTST_okay;
}

/* Whether [off, off + len) lies in the part of the frame b may reach. */
static bool copy_in_bounds(const struct copy_buf *b, u32 off, u32 len)
{
    return off >= b->start && off + len <= (u32)b->start + b->len;
}

static s16 copy_one(struct domain *ld, const struct gnttab_copy *op)
{
    struct copy_buf src = { .writable = false }, dst = { .writable = true };
    int rc;

    if ((rc = copy_lock(&op->source, op->flags & GNTCOPY_source_gref, ld, &src)) ||
        (rc = copy_lock(&op->dest, op->flags & GNTCOPY_dest_gref, ld, &dst)))
        return (s16)rc;
    if ((rc = copy_claim(&src, &op->source, op->flags & GNTCOPY_source_gref, ld->domid)))
        goto out;
    if ((rc = copy_claim(&dst, &op->dest, op->flags & GNTCOPY_dest_gref, ld->domid)))
        goto out;
    if ((u32)op->source.offset + op->len > PAGE_SIZE ||
        (u32)op->dest.offset + op->len > PAGE_SIZE) {
        rc = GNTST_bad_copy_arg;
        goto out;
    }
    /* A sub-page grant reaches only its bytes. */
    if (!copy_in_bounds(&src, op->source.offset, op->len) ||
        !copy_in_bounds(&dst, op->dest.offset, op->len)) {
        rc = GNTST_general_error;
        goto out;
    }
    memmove((u8 *)gnt_frame_va(dst.mfn) + op->dest.offset,
            (const u8 *)gnt_frame_va(src.mfn) + op->source.offset, op->len);
    rc = GNTST_okay;
out:
    copy_release(&dst);
    copy_release(&src);
    return (s16)rc;
}

/* ---- swap ---- */

/* Xen 4.17's order: bounds, the same ref (nothing to do), entries in use. */
static s16 swap_locked(struct grant_table *gt, u32 a, u32 b)
{
    if (a >= nr_entries(gt) || b >= nr_entries(gt))
        return GNTST_bad_gntref;
    if (a == b)
        return GNTST_okay;
    if (pins_total(active_entry(gt, a)) || pins_total(active_entry(gt, b)))
        return GNTST_eagain;
    if (gt->version == 1) {
        struct grant_entry_v1 *ea = shared_entry(gt, a), *eb = shared_entry(gt, b), t;

        t = *ea;
        *ea = *eb;
        *eb = t;
    } else {
        union grant_entry_v2 *ea = shared_entry_v2(gt, a), *eb = shared_entry_v2(gt, b), t;
        u16 *sa = status_entry(gt, a), *sb = status_entry(gt, b), st;

        t = *ea;
        *ea = *eb;
        *eb = t;
        st = *sa;
        *sa = *sb;
        *sb = st;
    }
    return GNTST_okay;
}

static s16 swap_one(struct grant_table *gt, u32 a, u32 b)
{
    s16 rc;

    spin_lock(&gt->lock);
    rc = swap_locked(gt, a, b);
    spin_unlock(&gt->lock);
    return rc;
}

/*
 * Xen checks only where a guest array starts (outside the hypervisor's
 * range), not where it ends: a long count over a short list runs until
 * an element cannot be read.  Mica answers the same.
 */
static bool array_start_ok(u64 va, u64 count)
{
    return !count || guest_range_ok(va, 1);
}

/* ---- single-structure operations ---- */

/* DOMID_SELF or a live domain; the caller itself or a privileged caller only. */
static struct domain *target_domain(struct domain *cur, domid_t id, int *status)
{
    struct domain *d = id == DOMID_SELF ? cur : domain_by_id(id);

    if (!d || !live_table(d)) {
        *status = GNTST_bad_domain;     /* a dying domain's table is gone */
        return NULL;
    }
    if (!evaluate_nospec(d == cur) && !is_control_domain(cur)) {
        *status = GNTST_permission_denied;
        return NULL;
    }
    return d;
}

static long setup_table(struct domain *cur, u64 uop, u64 count)
{
    struct gnttab_setup_table op;
    struct grant_table *gt;
    struct domain *d;
    int status = GNTST_okay;

    if (count != 1)
        return -XEN_EINVAL;
    if (copy_from_guest(&op, uop, sizeof(op)))
        return -XEN_EFAULT;
    if (!array_start_ok(op.frame_list, op.nr_frames))
        return -XEN_EFAULT;
    if (!(d = target_domain(cur, op.dom, &status)))
        goto out;
    gt = d->grant;
    spin_lock(&gt->lock);
    if (gt->dead || op.nr_frames > gt->max_frames ||
        (op.nr_frames > gt->nr_frames && grow_table(gt, op.nr_frames))) {
        status = gt->dead ? GNTST_bad_domain : GNTST_general_error;
        spin_unlock(&gt->lock);
        goto out;
    }
    /* Copies under the lock: they never sleep, and setup is rare. */
    for (u32 i = 0; i < op.nr_frames; i++) {
        xen_pfn_t f = gt->frames[i];
        if (copy_to_guest(op.frame_list + i * sizeof(f), &f, sizeof(f)))
            status = GNTST_bad_virt_addr;
    }
    spin_unlock(&gt->lock);
out:
    op.status = (s16)status;
    if (copy_to_guest(uop + __builtin_offsetof(struct gnttab_setup_table, status),
                      &op.status, sizeof(op.status)))
        return -XEN_EFAULT;
    return 0;
}

static long query_size(struct domain *cur, u64 uop, u64 count)
{
    struct gnttab_query_size op;
    struct domain *d;
    int status = GNTST_okay;

    if (count != 1)
        return -XEN_EINVAL;
    if (copy_from_guest(&op, uop, sizeof(op)))
        return -XEN_EFAULT;
    if ((d = target_domain(cur, op.dom, &status))) {
        struct grant_table *gt = d->grant;

        spin_lock(&gt->lock);
        op.nr_frames = gt->nr_frames;
        op.max_nr_frames = gt->max_frames;
        spin_unlock(&gt->lock);
    }
    op.status = (s16)status;
    return copy_to_guest(uop, &op, sizeof(op)) ? -XEN_EFAULT : 0;
}

/* Gives back all status frames, or none if the guest still maps one (-XEN_EBUSY). */
static long unpopulate_status(struct grant_table *gt)
{
    u32 i;

    for (i = 0; i < gt->nr_status_frames; i++)
        if (!gnt_shared_frame_reclaim(gt->status[i]))
            break;
    if (i < gt->nr_status_frames) {
        while (i--)
            gnt_shared_frame_unreclaim(gt->status[i]);
        return -XEN_EBUSY;
    }
    for (i = 0; i < gt->nr_status_frames; i++)
        gnt_shared_frame_reclaimed_free(gt->status[i]);
    gt->nr_status_frames = 0;
    return 0;
}

/*
 * Xen 4.17's rules: the reserved entries (the toolstack's console and
 * xenstore grants) may stay in use and keep their contents across the
 * change; every other entry must be unpinned, and is cleared.
 */
static long change_version(struct grant_table *gt, u32 to)
{
    struct grant_entry_v1 keep[GNTTAB_NR_RESERVED_ENTRIES];
    u32 n = nr_entries(gt);
    long rc;

    for (u32 i = GNTTAB_NR_RESERVED_ENTRIES; i < n; i++)
        if (pins_total(active_entry(gt, i)))
            return -XEN_EBUSY;
    if (gt->version == 1) {
        if ((rc = populate_status(gt, gt->nr_frames))) {
            /* Nothing changes: the frames allocated so far were never listed. */
            while (gt->nr_status_frames)
                unseen_frame_free(gt->status[--gt->nr_status_frames]);
            return rc;
        }
        memcpy(keep, shared_entry(gt, 0), sizeof(keep));
    } else {
        if (gt->v2_ops)
            return -XEN_EAGAIN;     /* sub-page or transitive grants in use */
        for (u32 i = 0; i < GNTTAB_NR_RESERVED_ENTRIES; i++) {
            union grant_entry_v2 *e = shared_entry_v2(gt, i);
            u16 type = e->hdr.flags & GTF_type_mask;

            /* What a v1 entry cannot say. */
            if (type == GTF_transitive || (type == GTF_permit_access && e->full_page.frame >> 32))
                return -XEN_ERANGE;
        }
        for (u32 i = 0; i < GNTTAB_NR_RESERVED_ENTRIES; i++) {
            union grant_entry_v2 *e = shared_entry_v2(gt, i);
            u16 flags = e->hdr.flags;

            if ((flags & GTF_type_mask) == GTF_permit_access)
                keep[i] = (struct grant_entry_v1){ .flags = flags | *status_entry(gt, i),
                                                   .domid = e->hdr.domid,
                                                   .frame = (u32)e->full_page.frame };
            else
                keep[i] = (struct grant_entry_v1){ 0 };
        }
        if ((rc = unpopulate_status(gt)))
            return rc;
    }
    for (u32 i = 0; i < gt->nr_frames; i++)
        memset(gnt_frame_va(gt->frames[i]), 0, PAGE_SIZE);
    gt->version = (u8)to;
    if (to == 1) {
        memcpy(shared_entry(gt, 0), keep, sizeof(keep));
    } else {
        for (u32 i = 0; i < GNTTAB_NR_RESERVED_ENTRIES; i++) {
            union grant_entry_v2 *e = shared_entry_v2(gt, i);

            *status_entry(gt, i) = keep[i].flags & (GTF_reading | GTF_writing);
            e->hdr.flags = keep[i].flags & (u16)~(GTF_reading | GTF_writing);
            e->hdr.domid = keep[i].domid;
            e->full_page.frame = keep[i].frame;
        }
    }
    return 0;
}

static long set_version(struct domain *cur, u64 uop)
{
    struct grant_table *gt = cur->grant;
    struct gnttab_set_version op;
    long rc;

    if (copy_from_guest(&op, uop, sizeof(op)))
        return -XEN_EFAULT;
    spin_lock(&gt->lock);
    if (op.version != 1 && op.version != 2)
        rc = -XEN_EINVAL;
    else if (op.version == 2 && gt->max_version == 1)
        rc = -XEN_ENOSYS;           /* as before set_version existed */
    else if (op.version == gt->version)
        rc = 0;
    else
        rc = change_version(gt, op.version);
    op.version = gt->version;       /* the version in force */
    spin_unlock(&gt->lock);
    if (copy_to_guest(uop, &op, sizeof(op)))
        rc = -XEN_EFAULT;
    return rc;
}

static long get_version(struct domain *cur, u64 uop)
{
    struct gnttab_get_version op;
    struct grant_table *gt;
    struct domain *d;
    int status;

    if (copy_from_guest(&op, uop, sizeof(op)))
        return -XEN_EFAULT;
    d = op.dom == DOMID_SELF ? cur : domain_by_id(op.dom);
    if (!d)
        return -XEN_ESRCH;
    if (!target_domain(cur, op.dom, &status))
        return -XEN_EPERM;
    if (!(gt = live_table(d)))
        return -XEN_ESRCH;
    spin_lock(&gt->lock);
    op.version = gt->version;
    spin_unlock(&gt->lock);
    if (copy_to_guest(uop + __builtin_offsetof(struct gnttab_get_version, version),
                      &op.version, sizeof(op.version)))
        return -XEN_EFAULT;
    return 0;
}

static long get_status_frames(struct domain *cur, u64 uop, u64 count)
{
    struct gnttab_get_status_frames op;
    struct grant_table *gt;
    struct domain *d;
    int status = GNTST_okay;

    if (count != 1)
        return -XEN_EINVAL;
    if (copy_from_guest(&op, uop, sizeof(op)))
        return -XEN_EFAULT;
    if (!array_start_ok(op.frame_list, op.nr_frames))
        return -XEN_EFAULT;
    if (!(d = target_domain(cur, op.dom, &status)))
        goto out;
    gt = d->grant;
    spin_lock(&gt->lock);
    /* Version 1 has none: asking for any is an error there. */
    if (gt->dead)
        status = GNTST_bad_domain;
    else if (op.nr_frames > gt->nr_status_frames)
        status = GNTST_general_error;
    for (u32 i = 0; status == GNTST_okay && i < op.nr_frames; i++) {
        u64 f = gt->status[i];
        if (copy_to_guest(op.frame_list + i * sizeof(f), &f, sizeof(f)))
            status = GNTST_bad_virt_addr;
    }
    spin_unlock(&gt->lock);
out:
    op.status = (s16)status;
    if (copy_to_guest(uop + __builtin_offsetof(struct gnttab_get_status_frames, status),
                      &op.status, sizeof(op.status)))
        return -XEN_EFAULT;
    return 0;
}

/* ---- batches ---- */

static size_t op_size(unsigned cmd)
{
    switch (cmd) {
    case GNTTABOP_map_grant_ref:     return sizeof(struct gnttab_map_grant_ref);
    case GNTTABOP_unmap_grant_ref:   return sizeof(struct gnttab_unmap_grant_ref);
    case GNTTABOP_unmap_and_replace: return sizeof(struct gnttab_unmap_and_replace);
    case GNTTABOP_copy:              return sizeof(struct gnttab_copy);
    case GNTTABOP_swap_grant_ref:    return sizeof(struct gnttab_swap_grant_ref);
    default:                         return 0;
    }
}

/*
 * One element of a batch: read it, do it, write back what Xen writes
 * back.  0, -errno, or COPY_RESTART (the element is to run again).
 */
static long batch_one(struct vcpu *v, unsigned cmd, u64 at, struct unmap_batch *ub)
{
    union {
        struct gnttab_map_grant_ref map;
        struct gnttab_unmap_grant_ref unmap;
        struct gnttab_unmap_and_replace repl;
        struct gnttab_copy copy;
        struct gnttab_swap_grant_ref swap;
    } u;
    struct unmap_req r = { 0 };
    size_t size = op_size(cmd);
    s16 st;
    u64 st_at;

    if (copy_from_guest(&u, at, size))
        return -XEN_EFAULT;
    switch (cmd) {
    case GNTTABOP_map_grant_ref:
        perfc_inc(gnt_map);
        map_one(v, &u.map);
        return copy_to_guest(at, &u.map, size) ? -XEN_EFAULT : 0;
    case GNTTABOP_unmap_grant_ref:
        r.host_addr = u.unmap.host_addr;
        r.dev_bus_addr = u.unmap.dev_bus_addr;
        r.handle = u.unmap.handle;
        perfc_inc(gnt_unmap);
        st = unmap_one(v, &r, ub);
        st_at = at + __builtin_offsetof(struct gnttab_unmap_grant_ref, status);
        break;
    case GNTTABOP_unmap_and_replace:
        r.host_addr = u.repl.host_addr;
        r.new_addr = u.repl.new_addr;
        r.handle = u.repl.handle;
        perfc_inc(gnt_unmap);
        st = unmap_one(v, &r, ub);
        st_at = at + __builtin_offsetof(struct gnttab_unmap_and_replace, status);
        break;
    case GNTTABOP_copy:
        perfc_inc(gnt_copy);
        perfc_add(gnt_copy_bytes, u.copy.len);
        st = copy_one(v->domain, &u.copy);
        if (st == COPY_RESTART)
            return COPY_RESTART;        /* run again, nothing written back */
        st_at = at + __builtin_offsetof(struct gnttab_copy, status);
        break;
    default:    /* swap */
        st = swap_one(v->domain->grant, u.swap.ref_a, u.swap.ref_b);
        st_at = at + __builtin_offsetof(struct gnttab_swap_grant_ref, status);
        break;
    }
    return copy_to_guest(st_at, &st, sizeof(st)) ? -XEN_EFAULT : 0;
}

/*
 * Each CPU's unmap batch (a hypercall runs to its end, or to a
 * continuation, on one CPU; the batch is always finished before it
 * returns), kept off the hypervisor stack.
 */
static DEFINE_PER_CPU(struct unmap_batch, unmap_batches);

static long run_batch(struct vcpu *v, unsigned cmd, u64 uop, u32 count)
{
    struct unmap_batch *ub = &this_cpu(unmap_batches);
    size_t size = op_size(cmd);
    long rc = 0;

    if (!array_start_ok(uop, count))
        return -XEN_EFAULT;
    perfc_inc_idx(gnt_batch, cmd);
    ub->n = 0;
    for (u32 i = 0; i < count; i++) {
        if (ub->n == UNMAP_BATCH)
            unmap_batch_finish(v, ub);
        if (i && hypercall_preempt_check()) {
            hypercall_continue_args(cmd, uop + (u64)i * size, count - i);
            rc = HYPERCALL_CONTINUE;
            break;
        }
        if ((rc = batch_one(v, cmd, uop + (u64)i * size, ub)) == COPY_RESTART) {
            /* As Xen: a continuation that starts with this element. */
            hypercall_continue_args(cmd, uop + (u64)i * size, count - i);
            rc = HYPERCALL_CONTINUE;
            break;
        }
        if (rc)
            break;
    }
    /* Whatever ends the call (the end, an error, a continuation): the batch's second steps. */
    unmap_batch_finish(v, ub);
    return rc;
}

long do_grant_table_op(u64 cmd64, u64 uop, u64 count64)
{
    struct vcpu *v = current_vcpu();
    struct domain *cur = v->domain;
    unsigned cmd = (unsigned)cmd64;
    u32 count = (u32)count64;

    if ((s32)count < 0)
        return -XEN_EINVAL;
    if (cmd >> CMD_ARG_SHIFT)
        return -XEN_EINVAL;         /* continuation bits belong to cache_flush only */
    switch (cmd) {
    case GNTTABOP_map_grant_ref:
    case GNTTABOP_unmap_grant_ref:
    case GNTTABOP_unmap_and_replace:
    case GNTTABOP_copy:
    case GNTTABOP_swap_grant_ref:
        return run_batch(v, cmd, uop, count);
    case GNTTABOP_setup_table:
        return setup_table(cur, uop, count);
    case GNTTABOP_query_size:
        return query_size(cur, uop, count);
    case GNTTABOP_set_version:
        return set_version(cur, uop);
    case GNTTABOP_get_version:
        return get_version(cur, uop);
    case GNTTABOP_get_status_frames:
        return get_status_frames(cur, uop, count);
    case GNTTABOP_transfer:
        return -XEN_EOPNOTSUPP;     /* page transfer is not offered (Xen: gnttab=no-transfer) */
    default:
        return unknown_op(__HYPERVISOR_grant_table_op, cmd); /* dump_table (gone in 4.17), cache_flush */
    }
}

/* ---- domain death ---- */

/*
 * Releases d's mapping with handle h, if any.  The record is read, the
 * granter's table locked, and the record read again (lock order); the
 * table stays valid meanwhile, as tables are freed after a grace period.
 */
static void release_dead_mapping(struct grant_table *gt, u32 h)
{
    struct grant_table *rgt;
    struct grant_map *m;

    spin_lock(&gt->maptrack_lock);
    m = map_entry(gt, h);
    rgt = m->flags ? m->rgt : NULL;
    spin_unlock(&gt->maptrack_lock);
    if (!rgt)
        return;
    spin_lock(&rgt->lock);
    spin_lock(&gt->maptrack_lock);
    if (m->flags && m->rgt == rgt) {
        struct grant_active *act = active_entry(rgt, m->ref);
        bool ro = m->flags & GNTMAP_readonly;

        if (m->flags & GNTMAP_device_map) {
            gnt_frame_put(act->mfn, !ro);
            act->pin[ro ? PIN_DEV_R : PIN_DEV_W]--;
        }
        if (m->flags & GNTMAP_host_map)
            act->pin[ro ? PIN_HOST_R : PIN_HOST_W]--;
        reduce_status(rgt, m->ref, act, ro);
        rgt->pins -= ((m->flags & GNTMAP_device_map) ? 1 : 0) +
                     ((m->flags & GNTMAP_host_map) ? 1 : 0);
        m->flags = 0;
    }
    spin_unlock(&gt->maptrack_lock);
    /* d's own table is not dead yet: it is freed below, not here. */
    table_unlock(rgt);
}

void grant_domain_destroy(struct domain *d)
{
    struct grant_table *gt = d->grant;
    u32 nr_maps;
    bool unused;

    if (!gt)
        return;
    WRITE_ONCE(d->grant, NULL);

    /* The mappings d holds.  Host references belong to d's PTEs, which go with its tables. */
    spin_lock(&gt->maptrack_lock);
    nr_maps = gt->maptrack_frames * MAPS_PER_FRAME;
    spin_unlock(&gt->maptrack_lock);
    for (u32 h = 0; h < nr_maps; h++)
        release_dead_mapping(gt, h);

    /*
     * d's own table: its frames go with d's memory (the MM teardown holds
     * back, and d with them, any frame others still map); the table stays
     * while other domains pin its entries, so they can unmap.
     */
    spin_lock(&gt->lock);
    for (u32 i = 0; i < gt->nr_frames; i++)
        gnt_shared_frame_release(gt->frames[i]);
    for (u32 i = 0; i < gt->nr_status_frames; i++)
        gnt_shared_frame_release(gt->status[i]);
    gt->d = NULL;
    gt->dead = true;
    unused = !gt->pins;
    if (!unused)
        printk("d%u: grant table kept for %llu pins held by other domains\n", d->domid,
               (unsigned long long)gt->pins);
    spin_unlock(&gt->lock);
    if (unused)
        free_table(gt);
}
