/*
 * Buddy frame allocator; page_alloc.h describes the zone layout.
 *
 * Invariants kept between calls:
 *  - a free block of order o starting at m is aligned (m % 2^o == 0), lies
 *    in the table, never starts at 0 unless o == 0, and sits on list
 *    head[zone_of(m)][o];
 *  - its first frame carries PGF_BUDDY_HEAD and order o, every frame of it
 *    has state PGS_FREE, and no other frame carries PGF_BUDDY_HEAD;
 *  - free_frames is the sum of the block sizes on the lists.
 */
#include <mica/types.h>
#include <mica/lib.h>
#include <mica/page_alloc.h>
#include <public/errno.h>

static unsigned zone_of(mfn_t mfn)
{
    return mfn == 0 ? 0 : 64 - (unsigned)__builtin_clzll(mfn);
}

static void list_push(struct frame_pool *p, mfn_t mfn, unsigned order)
{
    struct page_info *pg = &p->table[mfn];
    unsigned zone = zone_of(mfn);
    u32 old = p->head[zone][order];

    pg->state = PGS_FREE | PGF_BUDDY_HEAD;
    pg->order = (u8)order;
    pg->prev = PAGE_LIST_NONE;
    pg->next = old;
    if (old != PAGE_LIST_NONE)
        p->table[old].prev = (u32)mfn;
    p->head[zone][order] = (u32)mfn;
    p->zones_with_free[order] |= 1ULL << zone;
    p->free_blocks[order]++;
}

static void list_del(struct frame_pool *p, mfn_t mfn, unsigned order)
{
    struct page_info *pg = &p->table[mfn];
    unsigned zone = zone_of(mfn);

    if (pg->prev != PAGE_LIST_NONE)
        p->table[pg->prev].next = pg->next;
    else
        p->head[zone][order] = pg->next;
    if (pg->next != PAGE_LIST_NONE)
        p->table[pg->next].prev = pg->prev;
    if (p->head[zone][order] == PAGE_LIST_NONE)
        p->zones_with_free[order] &= ~(1ULL << zone);
    pg->next = pg->prev = PAGE_LIST_NONE;
    pg->state = PGS_FREE;
    p->free_blocks[order]--;
}

static void reset_frame(struct page_info *pg, unsigned state)
{
    pg->next = pg->prev = PAGE_LIST_NONE;
    pg->count_info = 0;
    pg->type_info = 0;
    pg->owner = PAGE_OWNER_NONE;
    pg->order = 0;
    pg->state = (u8)state;
}

/*
 * Puts the block [mfn, mfn + 2^order), already marked PGS_FREE frame by
 * frame, on the lists, merging it with free buddies as far as they go.
 * A merged block at frame 0 would straddle zones, so merging stops there.
 */
static void insert_free_block(struct frame_pool *p, mfn_t mfn, unsigned order)
{
    while (order < MAX_ORDER) {
        mfn_t size = (mfn_t)1 << order;
        mfn_t buddy = mfn ^ size;
        mfn_t merged = mfn & ~size;
        if (merged == 0 || buddy >= p->nr_frames)
            break;
        const struct page_info *bp = &p->table[buddy];
        if (bp->state != (PGS_FREE | PGF_BUDDY_HEAD) || bp->order != order)
            break;
        list_del(p, buddy, order);
        mfn = merged;
        order++;
    }
    list_push(p, mfn, order);
}

static void report_misuse(const struct frame_pool *p, const char *what,
                          mfn_t mfn, u64 count, int err)
{
    static const char *const why[] = {
        [-FRAME_E_RANGE] = "outside the frame table",
        [-FRAME_E_ALIGN] = "not aligned to its order",
        [-FRAME_E_ORDER] = "order too large",
        [-FRAME_E_STATE] = "frame in the wrong state",
    };
    const char *reason = (err < 0 && -err < (int)ARRAY_SIZE(why) && why[-err])
                         ? why[-err] : "?";
    if (p->panic_on_misuse)
        panic("frame pool: %s of %#llx frames at mfn %#llx refused: %s\n", what,
              (unsigned long long)count, (unsigned long long)mfn, reason);
    pr_err("frame pool: %s of %#llx frames at mfn %#llx refused: %s\n", what,
           (unsigned long long)count, (unsigned long long)mfn, reason);
}

void frame_pool_init(struct frame_pool *p, struct page_info *table, mfn_t nr_frames)
{
    if (nr_frames >= PAGE_LIST_NONE) {
        pr_warn("frame pool: %#llx frames, only the first %#x can be managed\n",
                (unsigned long long)nr_frames, PAGE_LIST_NONE - 1);
        nr_frames = PAGE_LIST_NONE - 1;
    }
    p->table = table;
    p->nr_frames = nr_frames;
    p->free_frames = 0;
    p->total_frames = 0;
    p->outstanding_claims = 0;
    for (unsigned o = 0; o <= MAX_ORDER; o++) {
        p->free_blocks[o] = 0;
        p->zones_with_free[o] = 0;
        for (unsigned z = 0; z < FRAME_NR_ZONES; z++)
            p->head[z][o] = PAGE_LIST_NONE;
    }
#ifdef CONFIG_DEBUG
    p->panic_on_misuse = true;
#else
    p->panic_on_misuse = false;
#endif
    spin_lock_init(&p->lock, "frame_pool.lock", LOCK_ORDER_HEAP);
    for (mfn_t i = 0; i < nr_frames; i++) {
        reset_frame(&table[i], PGS_RESERVED);
        table[i].spare = 0;
    }
}

static int add_free_locked(struct frame_pool *p, mfn_t start, mfn_t end)
{
    int err = FRAME_OK;

    if (end < start || end > p->nr_frames) {
        err = FRAME_E_RANGE;
    } else {
        for (mfn_t i = start; i < end; i++) {
            if (p->table[i].state != PGS_RESERVED) {
                err = FRAME_E_STATE;
                start = i;          /* name the offending frame */
                break;
            }
        }
    }
    if (err != FRAME_OK) {
        report_misuse(p, "add", start, end - start, err);
        return err;
    }

    for (mfn_t i = start; i < end; i++)
        reset_frame(&p->table[i], PGS_FREE);

    /* Largest aligned blocks that fit; frame 0 only ever alone. */
    mfn_t m = start;
    while (m < end) {
        unsigned order = 0;
        if (m != 0) {
            order = MIN((unsigned)__builtin_ctzll(m), (unsigned)MAX_ORDER);
            while (m + ((mfn_t)1 << order) > end)
                order--;
        }
        insert_free_block(p, m, order);
        m += (mfn_t)1 << order;
    }
    p->free_frames += end - start;
    p->total_frames += end - start;
    return FRAME_OK;
}

int frame_pool_add_free(struct frame_pool *p, mfn_t start, mfn_t end)
{
    int err;

    spin_lock(&p->lock);
    err = add_free_locked(p, start, end);
    spin_unlock(&p->lock);
    return err;
}

/*
 * Takes the block at the head of head[zone][order] (or at `mfn` if given)
 * and splits it down to `want`, keeping the low part; the upper halves go
 * back on the lists.
 */
static mfn_t take_block(struct frame_pool *p, mfn_t mfn, unsigned order, unsigned want)
{
    list_del(p, mfn, order);
    while (order > want) {
        order--;
        list_push(p, mfn + ((mfn_t)1 << order), order);
    }
    mfn_t count = (mfn_t)1 << want;
    for (mfn_t i = mfn; i < mfn + count; i++)
        reset_frame(&p->table[i], PGS_ALLOCATED);
    p->table[mfn].order = (u8)want;   /* a hint for debugging only */
    p->free_frames -= count;
    return mfn;
}

/*
 * Highest zone within `zone_mask` holding a block of order >= want; takes
 * the smallest such block in it.  O(MAX_ORDER).
 */
static mfn_t alloc_in_zones(struct frame_pool *p, unsigned want, u64 zone_mask)
{
    u64 candidates = 0;
    for (unsigned o = want; o <= MAX_ORDER; o++)
        candidates |= p->zones_with_free[o];
    candidates &= zone_mask;
    if (candidates == 0)
        return INVALID_MFN;

    unsigned zone = 63 - (unsigned)__builtin_clzll(candidates);
    for (unsigned o = want; o <= MAX_ORDER; o++) {
        if (p->zones_with_free[o] & (1ULL << zone))
            return take_block(p, p->head[zone][o], o, want);
    }
    return INVALID_MFN;   /* unreachable: candidates said otherwise */
}

/*
 * Whether 2^order frames may go now (p->lock held): outside the claims,
 * or covered by the caller's own claim (claim NULL: it holds none).
 */
static bool claims_allow(const struct frame_pool *p, unsigned order, const u64 *claim)
{
    u64 count = 1ULL << order;

    if (p->outstanding_claims + count <= p->free_frames)
        return true;
    return claim && *claim >= count;
}

mfn_t alloc_frames(struct frame_pool *p, unsigned order)
{
    mfn_t mfn = INVALID_MFN;

    if (order > MAX_ORDER)
        return INVALID_MFN;
    spin_lock(&p->lock);
    if (claims_allow(p, order, NULL))
        mfn = alloc_in_zones(p, order, ~0ULL);
    spin_unlock(&p->lock);
    return mfn;
}

static mfn_t alloc_below_locked(struct frame_pool *p, unsigned order, mfn_t limit)
{
    if (order > MAX_ORDER || limit == 0)
        return INVALID_MFN;

    /* Zones 0..top lie wholly below limit (zone z ends at 2^z). */
    unsigned top = 63 - (unsigned)__builtin_clzll(limit);
    u64 below_mask = top >= 63 ? ~0ULL : (1ULL << (top + 1)) - 1;
    mfn_t mfn = alloc_in_zones(p, order, below_mask);
    if (mfn != INVALID_MFN || (limit & (limit - 1)) == 0 || top + 1 >= FRAME_NR_ZONES)
        return mfn;

    /* Zone top+1 straddles limit: look for a block whose low end fits. */
    unsigned zone = top + 1;
    mfn_t count = (mfn_t)1 << order;
    for (unsigned o = order; o <= MAX_ORDER; o++) {
        for (u32 m = p->head[zone][o]; m != PAGE_LIST_NONE; m = p->table[m].next) {
            if (m + count <= limit)
                return take_block(p, m, o, order);
        }
    }
    return INVALID_MFN;
}

mfn_t alloc_frames_below(struct frame_pool *p, unsigned order, mfn_t limit)
{
    mfn_t mfn = INVALID_MFN;

    spin_lock(&p->lock);
    if (order <= MAX_ORDER && claims_allow(p, order, NULL))
        mfn = alloc_below_locked(p, order, limit);
    spin_unlock(&p->lock);
    return mfn;
}

mfn_t alloc_frames_claimed(struct frame_pool *p, unsigned order, mfn_t limit, u64 *claim)
{
    mfn_t mfn = INVALID_MFN;

    if (order > MAX_ORDER)
        return INVALID_MFN;
    spin_lock(&p->lock);
    if (claims_allow(p, order, claim)) {
        mfn = limit ? alloc_below_locked(p, order, limit) : alloc_in_zones(p, order, ~0ULL);
        if (mfn != INVALID_MFN && *claim) {
            u64 taken = MIN(*claim, 1ULL << order);

            *claim -= taken;
            p->outstanding_claims -= taken;
        }
    }
    spin_unlock(&p->lock);
    return mfn;
}

int frame_pool_claim(struct frame_pool *p, u64 *claim, u64 pages, u64 held, u64 max)
{
    int rc = 0;

    spin_lock(&p->lock);
    if (!pages) {
        p->outstanding_claims -= *claim;
        *claim = 0;
    } else if (*claim || pages <= held || pages > max) {
        rc = -XEN_EINVAL;
    } else if (pages - held > p->free_frames - MIN(p->outstanding_claims, p->free_frames)) {
        rc = -XEN_ENOMEM;
    } else {
        *claim = pages - held;
        p->outstanding_claims += *claim;
    }
    spin_unlock(&p->lock);
    return rc;
}

u64 frame_pool_claim_of(struct frame_pool *p, const u64 *claim)
{
    u64 v;

    spin_lock(&p->lock);
    v = *claim;
    spin_unlock(&p->lock);
    return v;
}

int frame_pool_check_free(const struct frame_pool *p, mfn_t mfn, unsigned order)
{
    if (order > MAX_ORDER)
        return FRAME_E_ORDER;
    mfn_t count = (mfn_t)1 << order;
    if (mfn >= p->nr_frames || count > p->nr_frames - mfn)
        return FRAME_E_RANGE;
    if (mfn & (count - 1))
        return FRAME_E_ALIGN;
    for (mfn_t i = mfn; i < mfn + count; i++) {
        if (page_state(&p->table[i]) != PGS_ALLOCATED)
            return FRAME_E_STATE;
    }
    return FRAME_OK;
}

static int free_locked(struct frame_pool *p, mfn_t mfn, unsigned order)
{
    int err = frame_pool_check_free(p, mfn, order);
    if (err != FRAME_OK) {
        report_misuse(p, "free", mfn, order <= 63 ? 1ULL << order : 0, err);
        return err;
    }
    mfn_t count = (mfn_t)1 << order;
    for (mfn_t i = mfn; i < mfn + count; i++)
        reset_frame(&p->table[i], PGS_FREE);
    insert_free_block(p, mfn, order);
    p->free_frames += count;
    return FRAME_OK;
}

int free_frames(struct frame_pool *p, mfn_t mfn, unsigned order)
{
    int err;

    spin_lock(&p->lock);
    err = free_locked(p, mfn, order);
    spin_unlock(&p->lock);
    return err;
}

#define CHECK_FAIL(...) do { pr_err("frame pool check: " __VA_ARGS__); return FRAME_E_CORRUPT; } while (0)

int frame_pool_check(const struct frame_pool *p)
{
    u64 listed_frames = 0;

    for (unsigned o = 0; o <= MAX_ORDER; o++) {
        u64 blocks = 0;
        mfn_t size = (mfn_t)1 << o;
        for (unsigned z = 0; z < FRAME_NR_ZONES; z++) {
            u32 prev = PAGE_LIST_NONE;
            u32 m = p->head[z][o];
            bool marked = (p->zones_with_free[o] >> z) & 1;
            if (marked != (m != PAGE_LIST_NONE))
                CHECK_FAIL("zone bitmap of order %u says %d for zone %u\n", o, marked, z);
            while (m != PAGE_LIST_NONE) {
                if (m >= p->nr_frames || size > p->nr_frames - m)
                    CHECK_FAIL("block %#x order %u outside the table\n", m, o);
                const struct page_info *pg = &p->table[m];
                if (pg->state != (PGS_FREE | PGF_BUDDY_HEAD) || pg->order != o)
                    CHECK_FAIL("block %#x on order-%u list has state %#x order %u\n",
                               m, o, pg->state, pg->order);
                if ((m & (size - 1)) || (m == 0 && o != 0) || zone_of(m) != z)
                    CHECK_FAIL("block %#x order %u misplaced (zone %u)\n", m, o, z);
                if (pg->prev != prev)
                    CHECK_FAIL("block %#x back link %#x, expected %#x\n", m, pg->prev, prev);
                for (mfn_t i = m + 1; i < m + size; i++) {
                    if (p->table[i].state != PGS_FREE)
                        CHECK_FAIL("frame %#llx inside free block %#x has state %#x\n",
                                   (unsigned long long)i, m, p->table[i].state);
                }
                /* More blocks than could exist means the list loops. */
                if (++blocks > p->nr_frames)
                    CHECK_FAIL("order-%u list of zone %u loops\n", o, z);
                listed_frames += size;
                prev = m;
                m = pg->next;
            }
        }
        if (blocks != p->free_blocks[o])
            CHECK_FAIL("order %u: %llu blocks listed, counter says %llu\n", o,
                       (unsigned long long)blocks, (unsigned long long)p->free_blocks[o]);
    }
    if (listed_frames != p->free_frames)
        CHECK_FAIL("%llu frames listed, counter says %llu\n",
                   (unsigned long long)listed_frames, (unsigned long long)p->free_frames);

    /* Frames marked free but on no list, or heads the lists do not know. */
    u64 free_seen = 0, managed_seen = 0;
    for (mfn_t i = 0; i < p->nr_frames; i++) {
        unsigned st = page_state(&p->table[i]);
        if (st == PGS_FREE)
            free_seen++;
        if (st == PGS_FREE || st == PGS_ALLOCATED)
            managed_seen++;
        if ((p->table[i].state & PGF_BUDDY_HEAD) && st != PGS_FREE)
            CHECK_FAIL("frame %#llx is a head but not free\n", (unsigned long long)i);
    }
    if (free_seen != p->free_frames)
        CHECK_FAIL("%llu frames in free state, counter says %llu\n",
                   (unsigned long long)free_seen, (unsigned long long)p->free_frames);
    if (managed_seen != p->total_frames)
        CHECK_FAIL("%llu frames managed, counter says %llu\n",
                   (unsigned long long)managed_seen, (unsigned long long)p->total_frames);
    return FRAME_OK;
}
