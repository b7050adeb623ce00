/*
 * Grant tables, version 1 (grant_table_op, hypercall 20), following Xen
 * 4.17's behaviour for PV guests: the same checks in the same order, the
 * same GNTST_* status per operation and the same errno for the call.
 *
 * The shared entries are guest memory the granter may change at any
 * time.  The only word Mica changes there is the flags/domid word, with
 * a bounded compare-and-exchange loop (GTF_reading/GTF_writing go on
 * only if the entry still permits access to this domain); the frame
 * number is read once, at the first pin, and kept in the active entry.
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
 * Not implemented, as Xen 4.17 can be configured: version 2 (set_version
 * answers -ENOSYS, as Xen does when a domain's max version is 1), page
 * transfer (-EOPNOTSUPP, as Xen with gnttab=no-transfer), cache_flush
 * (-ENOSYS).  dump_table is -ENOSYS on Xen 4.17 as well.
 */
#include <asm/current.h>
#include <asm/grant_map.h>
#include <asm/guest_access.h>
#include <asm/paging.h>
#include <mica/grant_table.h>
#include <mica/heap.h>
#include <mica/hypercall.h>
#include <mica/lib.h>
#include <mica/page_alloc.h>
#include <mica/rcu.h>
#include <mica/spinlock.h>
#include <mica/unknown_op.h>
#include <public/errno.h>
#include <public/grant_table.h>

extern struct frame_pool host_frames;

#define ENTRIES_PER_FRAME  (PAGE_SIZE / sizeof(struct grant_entry_v1))
#define MAPS_PER_FRAME     (PAGE_SIZE / sizeof(struct grant_map))
#define ACTIVE_ORDER       1            /* 512 active entries of 16 bytes */
#define MAPTRACK_DIR_ORDER 1            /* 1024 leaf pointers */
#define MAP_NONE           0xffffffffu
/* Xen's 8-bit pin counters refuse an increment once the top bit is set. */
#define PIN_LIMIT          128u
/* Xen's GNTTABOP_CONTINUATION_ARG_SHIFT: cmd bits above it are cache_flush's. */
#define CMD_ARG_SHIFT      12

enum pin_kind { PIN_HOST_W, PIN_HOST_R, PIN_DEV_W, PIN_DEV_R, PIN_KINDS };

struct grant_active {
    u8 pin[PIN_KINDS];
    domid_t domid;              /* the domain holding the pins */
    u16 _pad;
    mfn_t mfn;                  /* the frame, read from the entry at first pin */
};
_Static_assert(sizeof(struct grant_active) == 16, "active entries are packed 512 per 8 KiB");

struct grant_table;
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
    u32 nr_frames, max_frames;  /* lock */
    u32 max_maptrack;           /* maptrack_lock */
    mfn_t frames[GRANT_MAX_FRAMES_DEFAULT];                 /* lock */
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
    return gt->nr_frames * ENTRIES_PER_FRAME;
}

static struct grant_entry_v1 *shared_entry(const struct grant_table *gt, u32 ref)
{
    return (struct grant_entry_v1 *)gnt_frame_va(gt->frames[ref / ENTRIES_PER_FRAME]) +
           ref % ENTRIES_PER_FRAME;
}

/* The guest may rewrite its entry at any time: the frame is read once. */
static mfn_t read_frame(const struct grant_entry_v1 *e)
{
    return *(const volatile u32 *)&e->frame;
}

static struct grant_active *active_entry(const struct grant_table *gt, u32 ref)
{
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

static long grow_table(struct grant_table *gt, u32 want)
{
    while (gt->nr_frames < want) {
        u32 i = gt->nr_frames;
        struct grant_active *act = mica_pages(ACTIVE_ORDER);
        mfn_t mfn;

        if (!act)
            return -XEN_ENOMEM;
        mfn = gnt_shared_frame_alloc(gt->d);
        if (mfn == INVALID_MFN) {
            mica_pages_free(act, ACTIVE_ORDER);
            return -XEN_ENOMEM;
        }
        gt->active[i] = act;
        gt->frames[i] = mfn;
        gt->nr_frames = i + 1;
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

long grant_table_set_limits(struct domain *d, s32 max_grant_frames, s32 max_maptrack_frames)
{
    u32 gf = max_grant_frames < 0 ? GRANT_MAX_FRAMES_DEFAULT : (u32)max_grant_frames;
    u32 mf = max_maptrack_frames < 0 ? MAPTRACK_MAX_FRAMES_DEFAULT : (u32)max_maptrack_frames;

    if (gf < GRANT_INITIAL_FRAMES || gf > GRANT_MAX_FRAMES_DEFAULT ||
        mf > MAPTRACK_MAX_FRAMES_DEFAULT)
        return -XEN_EINVAL;
    if (d) {
        struct grant_table *gt = d->grant;

        spin_lock(&gt->lock);
        gt->max_frames = gf;
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

/* ---- the shared entry's flags (the v1 status protocol) ---- */

/*
 * Marks entry ref in use for reading (and writing unless readonly) by
 * ldomid.  Unless already pinned, the entry must permit access to
 * ldomid (with GTF_sub_page clear for a mapping).  The guest may change
 * the word under us: retried at most four times, then refused.
 */
static int set_status(struct grant_table *gt, u32 ref, bool pinned, bool readonly,
                      bool mapping, domid_t ldomid)
{
    volatile u32 *word = (volatile u32 *)shared_entry(gt, ref);
    u16 mask = GTF_type_mask | (mapping ? GTF_sub_page : 0);
    u32 cur = *word;

    for (unsigned tries = 0;; tries++) {
        u16 flags = (u16)cur, domid = (u16)(cur >> 16);
        u32 want, prev;

        if (!pinned && ((flags & mask) != GTF_permit_access || domid != ldomid))
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
        __atomic_fetch_and(&shared_entry(gt, ref)->flags, (u16)~clear, __ATOMIC_SEQ_CST);
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
    if (before && (act->domid != ld->domid || (dev && act->pin[kdev] >= PIN_LIMIT) ||
                   (host && act->pin[khost] >= PIN_LIMIT))) {
        rc = GNTST_general_error;
        goto out_unlock;
    }
    if (!before || (!ro && !pins_writable(act))) {
        if ((rc = set_status(rgt, ref, before, ro, true, ld->domid)) != GNTST_okay)
            goto out_unlock;
        if (!before) {
            mfn = read_frame(shared_entry(rgt, ref));
            if (!gnt_frame_owned_by(rd, mfn)) {
                rc = GNTST_bad_page;
                reduce_status(rgt, ref, act, ro);
                goto out_unlock;
            }
            act->domid = ld->domid;
            act->mfn = mfn;
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

struct unmap_req {
    u64 host_addr, dev_bus_addr, new_addr;
    u32 handle;
};

/* Under the granter's lock and lgt's maptrack lock, for a record in use. */
static s16 unmap_locked(struct vcpu *v, struct grant_table *lgt, struct grant_map *m,
                        const struct unmap_req *r)
{
    struct grant_table *rgt = m->rgt;
    u32 ref = m->ref;
    u16 flags = m->flags, done = 0;
    bool ro = flags & GNTMAP_readonly;
    struct grant_active *act = active_entry(rgt, ref);
    mfn_t mfn = act->mfn;

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
    if (!done)
        return GNTST_okay;

    /* No stale translation may outlive the references below. */
    if (done & GNTMAP_host_map)
        gnt_flush_tlb(v->domain);
    if (done & GNTMAP_device_map)
        gnt_frame_put(mfn, !ro);
    if (done & GNTMAP_host_map)
        gnt_frame_put(mfn, !ro);
    if (done & GNTMAP_device_map) {
        act->pin[ro ? PIN_DEV_R : PIN_DEV_W]--;
        rgt->pins--;
    }
    if (done & GNTMAP_host_map) {
        act->pin[ro ? PIN_HOST_R : PIN_HOST_W]--;
        rgt->pins--;
    }
    reduce_status(rgt, ref, act, ro);
    return GNTST_okay;
}

/*
 * The granter's lock comes before the maptrack lock: the record is read,
 * the granter locked, and the record read again, since another vCPU of
 * ours may have unmapped it meanwhile (the table stays valid: tables are
 * freed after a grace period).
 */
static s16 unmap_one(struct vcpu *v, const struct unmap_req *r)
{
    struct grant_table *lgt = v->domain->grant, *rgt;
    struct grant_map *m;
    s16 rc = GNTST_bad_handle;

    spin_lock(&lgt->maptrack_lock);
    m = map_entry(lgt, r->handle);
    rgt = m && m->flags ? m->rgt : NULL;
    spin_unlock(&lgt->maptrack_lock);
    if (!rgt)
        return GNTST_bad_handle;
    spin_lock(&rgt->lock);
    spin_lock(&lgt->maptrack_lock);
    if (m->flags && m->rgt == rgt)
        rc = unmap_locked(v, lgt, m, r);
    spin_unlock(&lgt->maptrack_lock);
    table_unlock(rgt);
    return rc;
}

/* ---- copy ---- */

struct copy_buf {
    struct domain *d;
    struct grant_table *gt;     /* set when claimed by grant ref */
    u32 ref;
    mfn_t mfn;
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

/* Under gt->lock. */
static int acquire_locked(struct copy_buf *b, struct grant_table *gt, u32 ref, domid_t ldomid)
{
    bool ro = !b->writable;
    enum pin_kind k = ro ? PIN_HOST_R : PIN_HOST_W;
    struct grant_active *act;
    unsigned before;
    int rc;

    if (ref >= nr_entries(gt))
        return GNTST_bad_gntref;
    act = active_entry(gt, ref);
    before = pins_total(act);
    if (before && (act->domid != ldomid || act->pin[k] >= PIN_LIMIT))
        return GNTST_general_error;
    if (!before || (!ro && !pins_writable(act))) {
        mfn_t mfn;

        if ((rc = set_status(gt, ref, before, ro, false, ldomid)) != GNTST_okay)
            return rc;
        mfn = read_frame(shared_entry(gt, ref));
        if (!gnt_frame_owned_by(b->d, mfn)) {
            reduce_status(gt, ref, act, ro);
            return GNTST_bad_page;
        }
        if (!before) {
            act->domid = ldomid;
            act->mfn = mfn;
        } else if (mfn != act->mfn) {
            /* The entry now names another frame than the pinned one (XSA-500). */
            reduce_status(gt, ref, act, ro);
            return GNTST_general_error;
        }
    } else if (!gnt_frame_owned_by(b->d, act->mfn)) {
        return GNTST_bad_domain;
    }
    if ((rc = gnt_frame_get(b->d, act->mfn, false)) != GNTST_okay) {
        reduce_status(gt, ref, act, ro);
        return rc;
    }
    act->pin[k]++;
    gt->pins++;
    b->gt = gt;
    b->ref = ref;
    b->mfn = act->mfn;
    return GNTST_okay;
}

static int acquire_for_copy(struct copy_buf *b, u32 ref, domid_t ldomid)
{
    struct grant_table *gt = live_table(b->d);
    int rc;

    if (!gt)
        return GNTST_bad_domain;
    spin_lock(&gt->lock);
    rc = gt->dead ? GNTST_bad_domain : acquire_locked(b, gt, ref, ldomid);
    spin_unlock(&gt->lock);
    return rc;
}

static void copy_release(struct copy_buf *b)
{
    if (!b->claimed)
        return;
    gnt_frame_put(b->mfn, b->typed);
    if (b->gt) {
        struct grant_active *act;

        spin_lock(&b->gt->lock);
        act = active_entry(b->gt, b->ref);
        act->pin[b->writable ? PIN_HOST_W : PIN_HOST_R]--;
        b->gt->pins--;
        reduce_status(b->gt, b->ref, act, !b->writable);
        table_unlock(b->gt);
    }
    b->claimed = b->typed = false;
}

static int copy_claim(struct copy_buf *b, const struct gnttab_copy_ptr *p, bool is_gref,
                      domid_t ldomid)
{
    int rc;

    if (is_gref) {
        if ((rc = acquire_for_copy(b, p->u.ref, ldomid)) != GNTST_okay)
            return rc;
    } else {
        mfn_t mfn = p->u.gmfn;          /* PV: a frame number is the machine frame */
        if ((rc = gnt_frame_get(b->d, mfn, false)) != GNTST_okay)
            return rc;
        b->gt = NULL;
        b->mfn = mfn;
    }
    b->claimed = true;
    if (b->writable) {
        /* A frame that is a page table cannot be written, even by copy. */
        if (gnt_frame_get(b->d, b->mfn, true) != GNTST_okay)
            return GNTST_general_error;
        gnt_frame_put(b->mfn, false);   /* one general reference is enough */
        b->typed = true;
    }
    return GNTST_okay;
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
    memmove((u8 *)gnt_frame_va(dst.mfn) + op->dest.offset,
            (const u8 *)gnt_frame_va(src.mfn) + op->source.offset, op->len);
    rc = GNTST_okay;
out:
    copy_release(&dst);
    copy_release(&src);
    return (s16)rc;
}

/* ---- swap ---- */

static s16 swap_locked(struct grant_table *gt, u32 a, u32 b)
{
    struct grant_entry_v1 *ea, *eb, t;

    if (a >= nr_entries(gt) || b >= nr_entries(gt))
        return GNTST_bad_gntref;
    if (pins_total(active_entry(gt, a)) || pins_total(active_entry(gt, b)))
        return GNTST_general_error;
    if (a == b)
        return GNTST_okay;
    ea = shared_entry(gt, a);
    eb = shared_entry(gt, b);
    t = *ea;
    *ea = *eb;
    *eb = t;
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
    if (d != cur && !cur->is_privileged) {
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

static long set_version(struct domain *cur, u64 uop)
{
    struct gnttab_set_version op;
    long rc = 0;

    if (copy_from_guest(&op, uop, sizeof(op)))
        return -XEN_EFAULT;
    if (op.version != 1 && op.version != 2)
        rc = -XEN_EINVAL;
    else if (op.version == 2)
        rc = -XEN_ENOSYS;           /* Mica's maximum version is 1 */
    (void)cur;
    op.version = 1;                 /* the version in force */
    if (copy_to_guest(uop, &op, sizeof(op)))
        rc = -XEN_EFAULT;
    return rc;
}

static long get_version(struct domain *cur, u64 uop)
{
    struct gnttab_get_version op;
    struct domain *d;
    int status;

    if (copy_from_guest(&op, uop, sizeof(op)))
        return -XEN_EFAULT;
    d = op.dom == DOMID_SELF ? cur : domain_by_id(op.dom);
    if (!d)
        return -XEN_ESRCH;
    if (!target_domain(cur, op.dom, &status))
        return -XEN_EPERM;
    op.version = 1;
    if (copy_to_guest(uop + __builtin_offsetof(struct gnttab_get_version, version),
                      &op.version, sizeof(op.version)))
        return -XEN_EFAULT;
    return 0;
}

static long get_status_frames(struct domain *cur, u64 uop, u64 count)
{
    struct gnttab_get_status_frames op;
    int status = GNTST_okay;

    if (count != 1)
        return -XEN_EINVAL;
    if (copy_from_guest(&op, uop, sizeof(op)))
        return -XEN_EFAULT;
    if (!array_start_ok(op.frame_list, op.nr_frames))
        return -XEN_EFAULT;
    /* Version 1 has no status frames: asking for any is an error. */
    if (target_domain(cur, op.dom, &status) && op.nr_frames)
        status = GNTST_general_error;
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

/* One element of a batch: read it, do it, write back what Xen writes back. */
static long batch_one(struct vcpu *v, unsigned cmd, u64 at)
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
        map_one(v, &u.map);
        return copy_to_guest(at, &u.map, size) ? -XEN_EFAULT : 0;
    case GNTTABOP_unmap_grant_ref:
        r.host_addr = u.unmap.host_addr;
        r.dev_bus_addr = u.unmap.dev_bus_addr;
        r.handle = u.unmap.handle;
        st = unmap_one(v, &r);
        st_at = at + __builtin_offsetof(struct gnttab_unmap_grant_ref, status);
        break;
    case GNTTABOP_unmap_and_replace:
        r.host_addr = u.repl.host_addr;
        r.new_addr = u.repl.new_addr;
        r.handle = u.repl.handle;
        st = unmap_one(v, &r);
        st_at = at + __builtin_offsetof(struct gnttab_unmap_and_replace, status);
        break;
    case GNTTABOP_copy:
        st = copy_one(v->domain, &u.copy);
        st_at = at + __builtin_offsetof(struct gnttab_copy, status);
        break;
    default:    /* swap */
        st = swap_one(v->domain->grant, u.swap.ref_a, u.swap.ref_b);
        st_at = at + __builtin_offsetof(struct gnttab_swap_grant_ref, status);
        break;
    }
    return copy_to_guest(st_at, &st, sizeof(st)) ? -XEN_EFAULT : 0;
}

static long run_batch(struct vcpu *v, unsigned cmd, u64 uop, u32 count)
{
    size_t size = op_size(cmd);
    long rc;

    if (!array_start_ok(uop, count))
        return -XEN_EFAULT;
    for (u32 i = 0; i < count; i++) {
        if (i && hypercall_preempt_check()) {
            hypercall_continue_args(cmd, uop + (u64)i * size, count - i);
            return HYPERCALL_CONTINUE;
        }
        if ((rc = batch_one(v, cmd, uop + (u64)i * size)))
            return rc;
    }
    return 0;
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
