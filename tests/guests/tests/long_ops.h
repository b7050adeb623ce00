/*
 * The longest calls a guest can ask for, and how to judge whether another
 * vCPU kept running through them: shared by multi/long_op_progress.c (two
 * domains, Mica only) and tests/long_op_vcpu.c (two vCPUs of one domain,
 * Mica and Xen 4.17).  On one CPU an observer can only run inside a call
 * if the hypervisor stops the call and continues it later.
 *
 *   hostile side: prepare() builds everything first (two page-table trees
 *     of PIN_TABLES frames each, two aliased 8 GiB request lists as
 *     multi/hostile_batch.c, a grant copy list, a 64 KiB text, the list of
 *     its spare frames); long_ops_run() then issues, one after the other,
 *       - the pin of each tree (L1 entries checked: about PIN_TABLES x 512),
 *       - one mmu_update of up to 2^29 requests, one mmuext_op of up to
 *         2^28 INVLPG_LOCAL ops, a multicall of 64 such mmu_update batches,
 *       - one grant-table copy batch of up to COPY_N page copies,
 *       - two console_io writes of 64 KiB,
 *       - memory_op decrease_reservation of every spare frame it has, and
 *         populate_physmap of as many, twice,
 *       - the unpin of each tree (its last type reference: every table
 *         de-validated, about PIN_TABLES x 512 L1 entries put),
 *     and records each call's start and end (system time) in *share.  The
 *     batches whose size is free are first grown until one call lasts at
 *     least TARGET_NS; then two calls of that size count.
 *   observer side: observe() blocks on a TICK_NS timer meanwhile and
 *     writes down the system time at every wake-up in samples[]; judge() then
 *     takes each call [s, e]: the largest stretch of it with no wake-up
 *     must be at most half of e - s.
 *
 * The threshold is the call's own duration in the same run, so a slow or
 * loaded host only lengthens both; without preemption the whole call is
 * one stretch.  A call shorter than JUDGE_MIN_NS proves nothing and is
 * "too short to judge"; a host stall longer than half a call could fail
 * one call, so each kind is issued twice and passes when one of the two
 * passes (a call that is not preempted fails every time).  Checked on
 * Mica: with hypercall_preempt_check() made to answer false, every kind
 * failed, each call one stretch of its whole length; with only
 * de-validation made non-preemptible (put_type's `preemptible` false),
 * only the unpins failed (260-305 ms calls, one 254-305 ms stretch each).
 */
#ifndef LONG_OPS_H
#define LONG_OPS_H

#define MMU_POOL_PAGES 24
#include "gnt_common.h"
#include <public/memory.h>

#define TICK_NS      1000000UL          /* the observer's timer: 1 ms */
#define JUDGE_MIN_NS 20000000UL         /* 20 ticks */
#define TARGET_NS    250000000UL

/* Pool pages (0 and 1 are the grant table). */
#define P_WIN     2     /* remapped onto each tree frame to fill it */
#define P_MARK    3     /* the page every L1 entry of the trees maps */
#define P_SHARE   4     /* the windows (granted to dom0 by long_op_progress) */
#define P_UDATA   5     /* aliased mmu_update requests */
#define P_UL1     6
#define P_UL2     7
#define P_UL3     8
#define P_XDATA   9     /* aliased mmuext_op requests */
#define P_XL1     10
#define P_XL2     11
#define P_XL3     12
#define P_SCRATCH 14    /* what the mmu_update requests write */
#define P_MC      15    /* the multicall list */
#define P_CSRC    16    /* grant copies from ... */
#define P_CDST    17    /* ... to */

#define L3_SLOTS  8
#define ALIAS_MAX ((uint64_t)L3_SLOTS << 26)   /* 2^29 requests of 16 bytes */
#define U_SLOT    2     /* our L4 slots for the two aliased lists */
#define X_SLOT    3
#define SLOT_VA(s) ((uint64_t)(s) << 39)

#define PIN_TREES  2
#define PIN_TABLES 2048
#define MC_N       64
#define COPY_N     32768
#define CONSOLE_LEN 65536
#define KERNEL_SLOT 511
#define TREE_SLOT  2

enum kind { K_PIN, K_MMU, K_MMUEXT, K_MULTICALL, K_GNTCOPY, K_CONSOLE, K_DECREASE, K_POPULATE,
            K_UNPIN, K_NR };
static const char *const kind_name[K_NR] = {
    "pin of a page-table tree", "mmu_update batch", "mmuext_op batch",
    "multicall of 64 mmu_update batches", "grant copy batch", "console_io write of 64 KiB",
    "memory_op decrease_reservation", "memory_op populate_physmap",
    "unpin of a page-table tree",
};

#define MAX_WINDOWS 100
/* One call: judged 0 while a batch is being grown; size is the call's own
 * measure (tree number, requests, copies << 16 | bytes, bytes, extents). */
struct window {
    uint32_t kind, judged;
    uint64_t start, end, size;
};
struct share {
    uint64_t magic;
    uint32_t nr, errors;
    struct window w[MAX_WINDOWS];
};
_Static_assert(sizeof(struct share) <= 4096, "the windows fit one page");
#define SHARE_MAGIC 0x6c6f6e676f707321UL

/* ------------------------------------------------------------------ */
/* The hostile side                                                    */

static struct gnttab_copy copies[COPY_N];
static char console_buf[CONSOLE_LEN];
static uint64_t extents[32768];
static uint64_t first_pfn, nr_extents;
static struct share *share;

static void record(enum kind k, bool judged, uint64_t start, uint64_t end, uint64_t size)
{
    if (share->nr == MAX_WINDOWS) {
        share->errors++;
        return;
    }
    share->w[share->nr++] = (struct window){ .kind = k, .judged = judged, .start = start,
                                             .end = end, .size = size };
}

/* Our L4 slot s maps 8 GiB of page data, 4 KiB repeated (hostile_batch's list). */
static void alias(unsigned slot, unsigned data, unsigned l1, unsigned l2, unsigned l3)
{
    for (unsigned i = 0; i < 512; i++) {
        pool_page(l1)[i] = (pool_mfn(data) << 12) | PTE_P | PTE_US | PTE_A;
        pool_page(l2)[i] = (pool_mfn(l1) << 12) | PTE_P | PTE_RW | PTE_US | PTE_A;
        pool_page(l3)[i] = i < L3_SLOTS ? (pool_mfn(l2) << 12) | PTE_P | PTE_RW | PTE_US | PTE_A : 0;
    }
    REQUIRE_EQ(pool_ro(l1), 0);
    REQUIRE_EQ(pool_ro(l2), 0);
    REQUIRE_EQ(pool_ro(l3), 0);
    REQUIRE_EQ(mmu1((l4_mfn() << 12) + slot * 8, (pool_mfn(l3) << 12) | PTE_P | PTE_RW | PTE_US | PTE_A), 0);
}

/* Trees: frame roles per tree as mmu_pin_preempt: L4, L3, the L2s, the L1s. */
static uint64_t nr_l2, nr_l1;
static uint64_t tree_mfn(unsigned t, uint64_t n) { return pfn_to_mfn(first_pfn + t * PIN_TABLES + n); }

static void fill(uint64_t mfn, uint64_t first, uint64_t count, uint64_t (*entry)(unsigned, uint64_t),
                 unsigned t)
{
    uint64_t *w = pool_page(P_WIN);

    REQUIRE_EQ(map_mfn(w, mfn, PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D), 0);
    memset(w, 0, 4096);
    for (uint64_t i = 0; i < count; i++)
        w[i] = entry(t, first + i);
}

#define TABLE_FLAGS (PTE_P | PTE_RW | PTE_US | PTE_A)
static uint64_t mark_entry(unsigned t, uint64_t i) { (void)t; (void)i; return (pool_mfn(P_MARK) << 12) | PTE_P | PTE_US | PTE_A; }
static uint64_t l1_entry(unsigned t, uint64_t k) { return (tree_mfn(t, 2 + nr_l2 + k) << 12) | TABLE_FLAGS; }
static uint64_t l2_entry(unsigned t, uint64_t j) { return (tree_mfn(t, 2 + j) << 12) | TABLE_FLAGS; }

static void build_tree(unsigned t)
{
    const uint64_t *boot = (const uint64_t *)start_info->pt_base;

    for (uint64_t k = 0; k < nr_l1; k++)
        fill(tree_mfn(t, 2 + nr_l2 + k), 0, 512, mark_entry, t);
    for (uint64_t j = 0; j < nr_l2; j++) {
        uint64_t first = j * 512, n = nr_l1 - first < 512 ? nr_l1 - first : 512;
        fill(tree_mfn(t, 2 + j), first, n, l1_entry, t);
    }
    fill(tree_mfn(t, 1), 0, nr_l2, l2_entry, t);
    fill(tree_mfn(t, 0), 0, 0, NULL, t);
    pool_page(P_WIN)[KERNEL_SLOT] = boot[KERNEL_SLOT];
    pool_page(P_WIN)[TREE_SLOT] = (tree_mfn(t, 1) << 12) | TABLE_FLAGS;
    REQUIRE_EQ(pool_rw(P_WIN), 0);      /* the window back on its own frame */
}

static void prepare(void)
{
    first_pfn = va_to_pfn((void *)bootstrap_end());
    REQUIRE(first_pfn + PIN_TREES * PIN_TABLES + 1024 < start_info->nr_pages,
            "only %lu frames past the bootstrap region",
            (unsigned long)(start_info->nr_pages - first_pfn));
    nr_l2 = (PIN_TABLES - 2 + 512) / 513;
    nr_l1 = PIN_TABLES - 2 - nr_l2;
    for (unsigned t = 0; t < PIN_TREES; t++)
        build_tree(t);
    /* The rest of our spare frames go back and come again (memory_op). */
    nr_extents = start_info->nr_pages - first_pfn - PIN_TREES * PIN_TABLES;
    if (nr_extents > sizeof(extents) / sizeof(extents[0]))
        nr_extents = sizeof(extents) / sizeof(extents[0]);
    for (uint64_t i = 0; i < nr_extents; i++)
        extents[i] = pfn_to_mfn(first_pfn + PIN_TREES * PIN_TABLES + i);

    struct mmu_update *u = (struct mmu_update *)pool_page(P_UDATA);
    for (unsigned i = 0; i < 4096 / sizeof(*u); i++)
        u[i] = (struct mmu_update){ .ptr = (pool_mfn(P_SCRATCH) << 12) + 8, .val = 42 };
    alias(U_SLOT, P_UDATA, P_UL1, P_UL2, P_UL3);
    /* Every word 7: at any 8-byte multiple a 24-byte entry is {INVLPG_LOCAL, 7, 7}. */
    for (unsigned i = 0; i < 512; i++)
        pool_page(P_XDATA)[i] = MMUEXT_INVLPG_LOCAL;
    alias(X_SLOT, P_XDATA, P_XL1, P_XL2, P_XL3);

    for (unsigned i = 0; i < 512; i++)
        pool_page(P_CSRC)[i] = 0x5a5a000000000000UL | i;
    for (unsigned i = 0; i < CONSOLE_LEN; i++)
        console_buf[i] = i % 128 == 127 ? '\n' : "long console_io write "[i % 128 % 22];
}

static long mmu_batch(uint64_t n)
{
    unsigned done = 0;
    long rc = HYPERVISOR_mmu_update((struct mmu_update *)SLOT_VA(U_SLOT), (unsigned)n, &done, DOMID_SELF);

    return rc ? rc : done == n ? 0 : -1000;
}

static long mmuext_batch(uint64_t n)
{
    unsigned done = 0;
    long rc = HYPERVISOR_mmuext_op((struct mmuext_op *)SLOT_VA(X_SLOT), (unsigned)n, &done, DOMID_SELF);

    return rc ? rc : done == n ? 0 : -1000;
}

static long multicall_batch(uint64_t n)
{
    struct multicall_entry *mc = (struct multicall_entry *)pool_page(P_MC);

    for (unsigned i = 0; i < MC_N; i++)
        mc[i] = (struct multicall_entry){ .op = __HYPERVISOR_mmu_update, .result = 1,
                                          .args = { SLOT_VA(U_SLOT), n, 0, DOMID_SELF } };
    long rc = HYPERVISOR_multicall(mc, MC_N);
    for (unsigned i = 0; i < MC_N && !rc; i++)
        if (mc[i].result)
            rc = -2000 - (long)i;
    return rc;
}

/* n copies of len bytes from one of our pages to another: size is n << 16 | len. */
static long gntcopy_batch(uint64_t size)
{
    unsigned n = (unsigned)(size >> 16), len = (unsigned)(size & 0xffff);

    for (unsigned i = 0; i < n; i++)
        copies[i] = (struct gnttab_copy){
            .source = { .u.gmfn = pool_mfn(P_CSRC), .domid = DOMID_SELF, .offset = 0 },
            .dest = { .u.gmfn = pool_mfn(P_CDST), .domid = DOMID_SELF, .offset = 0 },
            .len = (uint16_t)len, .status = 99 };
    long rc = gntop(GNTTABOP_copy, copies, n);
    for (unsigned i = 0; i < n && !rc; i++)
        if (copies[i].status != GNTST_okay)
            rc = -3000 + copies[i].status;
    return rc;
}

typedef long (*batch_fn)(uint64_t size);

/* One timed call; true when it succeeded. */
static bool timed(enum kind k, bool judged, batch_fn fn, uint64_t size, uint64_t *ns)
{
    uint64_t s = system_time_ns();
    long rc = fn(size);
    uint64_t e = system_time_ns();

    *ns = e - s;
    record(k, judged, s, e, size);
    if (rc) {
        printk("hostile: %s of size %#lx failed: %ld\n", kind_name[k], (unsigned long)size, rc);
        share->errors++;
        return false;
    }
    return true;
}

/* Grows size (up to max) until one call lasts TARGET_NS, then two calls count. */
static void grown(enum kind k, batch_fn fn, uint64_t size, uint64_t max, unsigned shift)
{
    uint64_t ns = 0;

    while (size < max) {
        if (!timed(k, false, fn, size, &ns))
            return;
        if (ns >= TARGET_NS)
            break;
        uint64_t factor = ns ? (2 * TARGET_NS) / ns + 1 : 16;
        if (factor > 16)
            factor = 16;
        size = ((size >> shift) * factor) << shift | (size & ((1UL << shift) - 1));
        if (size > max)
            size = max;
    }
    for (unsigned r = 0; r < 2; r++)
        if (!timed(k, true, fn, size, &ns))
            return;
    printk("hostile: %s: size %#lx, %lu ms\n", kind_name[k], (unsigned long)size,
           (unsigned long)(ns / 1000000));
}

static long pin_tree(uint64_t t)
{
    struct mmuext_op op = { .cmd = MMUEXT_PIN_L4_TABLE, .arg1.mfn = tree_mfn((unsigned)t, 0) };
    unsigned done = 0;
    long rc = HYPERVISOR_mmuext_op(&op, 1, &done, DOMID_SELF);

    return rc ? rc : done == 1 ? 0 : -1000;
}

/* Nothing else holds a type reference to the tree: the unpin de-validates all of it. */
static long unpin_tree(uint64_t t)
{
    struct mmuext_op op = { .cmd = MMUEXT_UNPIN_TABLE, .arg1.mfn = tree_mfn((unsigned)t, 0) };
    unsigned done = 0;
    long rc = HYPERVISOR_mmuext_op(&op, 1, &done, DOMID_SELF);

    return rc ? rc : done == 1 ? 0 : -1000;
}

static long console_write_64k(uint64_t len)
{
    return HYPERVISOR_console_io(CONSOLEIO_write, len, console_buf);
}

static long decrease(uint64_t n)
{
    struct xen_memory_reservation r = { .nr_extents = n, .domid = DOMID_SELF };

    r.extent_start = (uint64_t)extents;
    long rc = HYPERVISOR_memory_op(XENMEM_decrease_reservation, &r);
    return rc == (long)n ? 0 : rc < 0 ? rc : -4000 - rc;
}

/* The same PFNs again; the new frames' MFNs come back in extents[]. */
static long populate(uint64_t n)
{
    struct xen_memory_reservation r = { .nr_extents = n, .domid = DOMID_SELF };

    for (uint64_t i = 0; i < n; i++)
        extents[i] = first_pfn + PIN_TREES * PIN_TABLES + i;
    r.extent_start = (uint64_t)extents;
    long rc = HYPERVISOR_memory_op(XENMEM_populate_physmap, &r);
    return rc == (long)n ? 0 : rc < 0 ? rc : -4000 - rc;
}

/*
 * Issues every kind of long call, one after the other, recording each
 * one's start and end in share (which the caller has cleared; prepare()
 * ran before).
 */
static void long_ops_run(void)
{
    uint64_t ns;

    for (unsigned t = 0; t < PIN_TREES; t++)
        timed(K_PIN, true, pin_tree, t, &ns);
    printk("hostile: pinned %u tables in %lu ms\n", PIN_TABLES, (unsigned long)(ns / 1000000));
    grown(K_MMU, mmu_batch, 1UL << 14, ALIAS_MAX, 0);
    grown(K_MMUEXT, mmuext_batch, 1UL << 12, ALIAS_MAX / 2, 0);
    grown(K_MULTICALL, multicall_batch, 1UL << 8, ALIAS_MAX / MC_N, 0);
    grown(K_GNTCOPY, gntcopy_batch, (1UL << 26) | 8, ((uint64_t)COPY_N << 16) | 4096, 16);
    for (unsigned r = 0; r < 2; r++)
        timed(K_CONSOLE, true, console_write_64k, CONSOLE_LEN, &ns);
    for (unsigned r = 0; r < 2; r++) {
        timed(K_DECREASE, true, decrease, nr_extents, &ns);
        timed(K_POPULATE, true, populate, nr_extents, &ns);
    }
    printk("hostile: memory_op of %lu extents in %lu ms\n", (unsigned long)nr_extents,
           (unsigned long)(ns / 1000000));
    for (unsigned t = 0; t < PIN_TREES; t++)
        timed(K_UNPIN, true, unpin_tree, t, &ns);
    printk("hostile: unpinned %u tables in %lu ms\n", PIN_TABLES, (unsigned long)(ns / 1000000));
    share->magic = SHARE_MAGIC;
}

/* ------------------------------------------------------------------ */
/* The observer side                                                   */

#define MAX_SAMPLES (1u << 18)
static uint64_t samples[MAX_SAMPLES];
static unsigned nr_samples;

/*
 * The observer's loop on the calling vCPU (vi its vcpu_info): wakes every
 * TICK_NS and writes down when, until done() says so or the timeline is
 * full.  A single-shot timer set again at every wake-up, as Linux does:
 * Xen's periodic timer runs only while its vCPU runs, so it never wakes a
 * blocked one.  Events are masked from setting the timer to blocking
 * (SCHEDOP_block unmasks them in the same step), or a timer that fired in
 * between would be taken by the upcall and the block never end.
 * VIRQ_TIMER must be bound for the calling vCPU.
 */
static void observe(volatile struct vcpu_info *vi, bool (*done)(void))
{
    while (!done() && nr_samples < MAX_SAMPLES) {
        WRITE_ONCE(vi->evtchn_upcall_mask, 1);
        barrier();
        HYPERVISOR_set_timer_op(system_time_ns() + TICK_NS);
        HYPERVISOR_sched_op(SCHEDOP_block, NULL);
        samples[nr_samples++] = system_time_ns();
    }
    HYPERVISOR_set_timer_op(0);
}

/*
 * The largest stretch of [s, e] without a wake-up of ours, where it
 * began (from s), and how many wake-ups there were.
 */
static uint64_t largest_gap(uint64_t s, uint64_t e, unsigned *wakes, uint64_t *at)
{
    uint64_t last = s, gap = 0;

    *wakes = 0;
    *at = 0;
    for (unsigned i = 0; i < nr_samples; i++) {
        uint64_t t = samples[i];
        if (t <= s || t >= e)
            continue;
        if (t - last > gap) {
            gap = t - last;
            *at = last - s;
        }
        last = t;
        ++*wakes;
    }
    if (e - last > gap) {
        gap = e - last;
        *at = last - s;
    }
    return gap;
}

/*
 * Judges every call in sh against the observer's timeline (samples[],
 * in order): prints one line a call and one "observer: ok:" line a kind
 * that passed; CHECK fails for a kind none of whose calls passed.
 */
static void judge(const struct share *sh)
{
    unsigned judged[K_NR] = { 0 }, passed[K_NR] = { 0 }, too_short[K_NR] = { 0 };

    for (unsigned i = 0; i < sh->nr; i++) {
        const struct window *w = &sh->w[i];
        if (!w->judged || w->kind >= K_NR || w->end < w->start)
            continue;
        uint64_t d = w->end - w->start;
        unsigned wakes;
        uint64_t at, gap = largest_gap(w->start, w->end, &wakes, &at);
        bool ok = d >= JUDGE_MIN_NS && 2 * gap <= d;
        printk("observer: %s (%#lx): %lu ms, woke %u times, largest gap %lu.%03lu ms "
               "at +%lu ms: %s\n",
               kind_name[w->kind], (unsigned long)w->size, (unsigned long)(d / 1000000), wakes,
               (unsigned long)(gap / 1000000), (unsigned long)(gap / 1000 % 1000),
               (unsigned long)(at / 1000000),
               d < JUDGE_MIN_NS ? "too short to judge" : ok ? "kept running" : "STALLED");
        judged[w->kind]++;
        passed[w->kind] += ok;
        too_short[w->kind] += d < JUDGE_MIN_NS;
    }
    for (unsigned k = 0; k < K_NR; k++) {
        CHECK(judged[k] > 0, "no %s to judge", kind_name[k]);
        /* Still a failure, but not called a stall: this host ran the call too fast to judge. */
        if (judged[k] && too_short[k] == judged[k])
            CHECK(passed[k] > 0, "every %s was too short to judge (under %lu ms)", kind_name[k],
                  JUDGE_MIN_NS / 1000000);
        else
            CHECK(passed[k] > 0, "the observer stalled during every %s", kind_name[k]);
        if (judged[k] && passed[k])
            printk("observer: ok: %s\n", kind_name[k]);
    }
}

#endif
