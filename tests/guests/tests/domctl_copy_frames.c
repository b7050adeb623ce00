/*
 * MICA_DOMCTL_copy_frames (public/mica_domctl.h), dom0 as the toolstack,
 * on a domain built from here (toolstack.h) whose L4 is pinned:
 *   - from the domain: a data frame, the pinned L4 (save reads page
 *     tables) and an unmapped frame come back as written; a batch of 256
 *     (one frame again and again) fills the buffer.
 *   - to the domain: a data frame takes the buffer; a frame typed as a
 *     page table (the pinned L4, its L1) is refused with -EPERM and done
 *     naming it, the frames before it in the batch written.
 *   - refused: a frame not the domain's (ours, its shared_info, no such
 *     frame) -EINVAL; more than 1024 -E2BIG; an unknown direction,
 *     non-zero pad, done beyond nr, our own domain -EINVAL; an unreadable
 *     frame array or an inaccessible buffer -EFAULT; the domain unpaused
 *     (it may run) -EBUSY; no such domain -ESRCH.
 *   - destroyed, every page comes back.
 * Xen 4.17 has no such operation: there the first call must fail, and
 * the test ends.
 */
#include "toolstack.h"
#include <public/mica_domctl.h>

#define NR 8            /* m[0..3] tables, m[4..6] mapped at VA 0, m[7] unmapped */
#define BIG 256

static uint64_t m[NR];
static uint64_t frames[1025];
static uint8_t buf[BIG][4096] __attribute__((aligned(4096)));

static long copy_frames(domid_t dom, const uint64_t *f, uint32_t nr, void *b, uint32_t dir,
                        uint32_t done, uint32_t pad, uint32_t *done_out)
{
    struct mica_domctl_copy_frames c = {
        .frames = (uint64_t)f, .buffer = (uint64_t)b, .nr = nr, .direction = dir,
        .done = done, .pad = pad,
    };
    memset(&ts_op, 0, sizeof(ts_op));
    memcpy(ts_op.u.pad, &c, sizeof(c));
    long rc = ts_domctl(MICA_DOMCTL_copy_frames, dom);
    memcpy(&c, ts_op.u.pad, sizeof(c));
    if (done_out)
        *done_out = c.done;
    return rc;
}

static void fill(void *p, uint64_t seed)
{
    uint64_t *q = p;
    for (unsigned i = 0; i < 512; i++)
        q[i] = seed * 0x9e3779b97f4a7c15ULL + i;
}

static bool filled(const void *p, uint64_t seed)
{
    const uint64_t *q = p;
    for (unsigned i = 0; i < 512; i++)
        if (q[i] != seed * 0x9e3779b97f4a7c15ULL + i)
            return false;
    return true;
}

enum result test_main(void)
{
    struct xen_domctl_getdomaininfo di = { 0 };
    uint32_t done = 0;

    REQUIRE_EQ(traps_install(), 0);
    map_shared_info();
    uint64_t free_before = physinfo_free_pages();
    domid_t id = 0;
    REQUIRE_EQ(ts_create_with_tables(&id, m, NR, NR - 1), 0);
    printk("created d%u\n", id);

    frames[0] = m[4];
    long rc = copy_frames(id, frames, 1, buf, MICA_COPY_FROM_DOMAIN, 0, 0, NULL);
    if (!ts_exact_memory()) {
        printk("not Mica: copy_frames answers %ld\n", rc);
        CHECK(rc < 0, "Xen 4.17 has no MICA_DOMCTL_copy_frames, yet it answered 0");
        CHECK_EQ(ts_destroy(id), 0);
        return RESULT_SUCCESS;
    }
    CHECK_EQ(rc, 0);

    REQUIRE_EQ(ts_map_foreign(0, m[4], true, id), 0);
    fill(pool[0], 4);
    REQUIRE_EQ(ts_unmap_foreign(0), 0);
    REQUIRE_EQ(ts_map_foreign(0, m[7], true, id), 0);
    fill(pool[0], 7);
    REQUIRE_EQ(ts_unmap_foreign(0), 0);
    REQUIRE_EQ(ts_ext(MMUEXT_PIN_L4_TABLE, m[0], id), 0);
    REQUIRE_EQ(ts_info(id, &di), 0);
    CHECK(di.flags & XEN_DOMINF_paused, "a new domain is paused: flags %#x", di.flags);
    uint64_t shinfo = di.shared_info_frame;

    /* ---- from the domain ---- */
    frames[0] = m[4];
    frames[1] = m[0];
    frames[2] = m[7];
    memset(buf, 0xa5, 3 * 4096);
    CHECK_EQ(copy_frames(id, frames, 3, buf, MICA_COPY_FROM_DOMAIN, 0, 0, &done), 0);
    CHECK_EQ(done, 3);
    CHECK(filled(buf[0], 4), "data frame m[4] read back wrong");
    CHECK_EQ(((uint64_t *)buf[1])[0] & PTE_ADDR, m[1] << 12);    /* the L4's entry 0 */
    CHECK_EQ(((uint64_t *)buf[1])[1], 0);
    CHECK(filled(buf[2], 7), "unmapped frame m[7] read back wrong");
    for (unsigned i = 0; i < BIG; i++)
        frames[i] = m[7];
    memset(buf, 0, sizeof(buf));
    CHECK_EQ(copy_frames(id, frames, BIG, buf, MICA_COPY_FROM_DOMAIN, 0, 0, &done), 0);
    CHECK_EQ(done, BIG);
    unsigned bad = 0;
    for (unsigned i = 0; i < BIG; i++)
        bad += !filled(buf[i], 7);
    CHECK(bad == 0, "%u of %u pages of the big batch wrong", bad, BIG);
    /* done = nr: nothing left to do. */
    memset(buf, 0, 4096);
    CHECK_EQ(copy_frames(id, frames, 1, buf, MICA_COPY_FROM_DOMAIN, 1, 0, &done), 0);
    CHECK_EQ(((uint64_t *)buf[0])[0], 0);

    /* ---- to the domain ---- */
    frames[0] = m[5];
    fill(buf[0], 5);
    CHECK_EQ(copy_frames(id, frames, 1, buf, MICA_COPY_TO_DOMAIN, 0, 0, &done), 0);
    REQUIRE_EQ(ts_map_foreign(0, m[5], false, id), 0);
    CHECK(filled(pool[0], 5), "m[5] does not hold what was copied in");
    REQUIRE_EQ(ts_unmap_foreign(0), 0);
    /* A typed page table: refused, the frame before it written. */
    frames[0] = m[6];
    frames[1] = m[0];
    fill(buf[0], 6);
    fill(buf[1], 99);
    CHECK_EQ(copy_frames(id, frames, 2, buf, MICA_COPY_TO_DOMAIN, 0, 0, &done), -XEN_EPERM);
    CHECK_EQ(done, 1);
    REQUIRE_EQ(ts_map_foreign(0, m[6], false, id), 0);
    CHECK(filled(pool[0], 6), "m[6], before the refused frame, was not written");
    REQUIRE_EQ(ts_unmap_foreign(0), 0);
    frames[0] = m[3];                                /* the L1 under the pinned L4 */
    CHECK_EQ(copy_frames(id, frames, 1, buf, MICA_COPY_TO_DOMAIN, 0, 0, &done), -XEN_EPERM);
    CHECK_EQ(done, 0);
    frames[0] = m[0];
    CHECK_EQ(copy_frames(id, frames, 1, buf, MICA_COPY_FROM_DOMAIN, 0, 0, NULL), 0);
    CHECK_EQ(((uint64_t *)buf[0])[0] & PTE_ADDR, m[1] << 12);    /* the L4 is unchanged */
    CHECK_EQ(((uint64_t *)buf[0])[1], 0);

    /* ---- frames that are not the domain's ---- */
    uint64_t others[3] = { pool_mfn(0), shinfo, 0xfffffffUL };
    for (unsigned i = 0; i < 3; i++) {
        frames[0] = m[4];
        frames[1] = others[i];
        for (uint32_t dir = 0; dir < 2; dir++) {
            CHECK(copy_frames(id, frames, 2, buf, dir, 0, 0, &done) == -XEN_EINVAL && done == 1,
                  "frame %#lx, direction %u: not refused at index 1 (done %u)", others[i], dir,
                  done);
        }
    }

    /* ---- bad arguments ---- */
    frames[0] = m[4];
    CHECK_EQ(copy_frames(id, frames, 1025, buf, MICA_COPY_FROM_DOMAIN, 0, 0, NULL), -XEN_E2BIG);
    CHECK_EQ(copy_frames(id, frames, 1, buf, 2, 0, 0, NULL), -XEN_EINVAL);
    CHECK_EQ(copy_frames(id, frames, 1, buf, MICA_COPY_FROM_DOMAIN, 0, 1, NULL), -XEN_EINVAL);
    CHECK_EQ(copy_frames(id, frames, 1, buf, MICA_COPY_FROM_DOMAIN, 2, 0, NULL), -XEN_EINVAL);
    CHECK_EQ(copy_frames(0, frames, 1, buf, MICA_COPY_FROM_DOMAIN, 0, 0, NULL), -XEN_EINVAL);
    CHECK_EQ(copy_frames(0x7000, frames, 1, buf, MICA_COPY_FROM_DOMAIN, 0, 0, NULL),
             -XEN_ESRCH);
    CHECK_EQ(copy_frames(id, (uint64_t *)0x1000, 1, buf, MICA_COPY_FROM_DOMAIN, 0, 0, NULL),
             -XEN_EFAULT);
    CHECK_EQ(copy_frames(id, frames, 1, (void *)0x1000, MICA_COPY_FROM_DOMAIN, 0, 0, NULL),
             -XEN_EFAULT);
    CHECK_EQ(copy_frames(id, frames, 1, (void *)0x1000, MICA_COPY_TO_DOMAIN, 0, 0, NULL),
             -XEN_EFAULT);
    /* Mica's own memory is no buffer, either way. */
    CHECK_EQ(copy_frames(id, frames, 1, (void *)0xffff830000000000UL, MICA_COPY_FROM_DOMAIN, 0,
                         0, NULL), -XEN_EFAULT);
    CHECK_EQ(copy_frames(id, frames, 1, (void *)0xffff830000000000UL, MICA_COPY_TO_DOMAIN, 0,
                         0, NULL), -XEN_EFAULT);

    /* ---- a domain that may run ---- */
    memset(&ts_op, 0, sizeof(ts_op));
    REQUIRE_EQ(ts_domctl(XEN_DOMCTL_unpausedomain, id), 0);
    CHECK_EQ(copy_frames(id, frames, 1, buf, MICA_COPY_FROM_DOMAIN, 0, 0, NULL), -XEN_EBUSY);
    CHECK_EQ(copy_frames(id, frames, 1, buf, MICA_COPY_TO_DOMAIN, 0, 0, NULL), -XEN_EBUSY);
    memset(&ts_op, 0, sizeof(ts_op));
    REQUIRE_EQ(ts_domctl(XEN_DOMCTL_pausedomain, id), 0);
    CHECK_EQ(copy_frames(id, frames, 1, buf, MICA_COPY_FROM_DOMAIN, 0, 0, NULL), 0);

    CHECK_EQ(ts_destroy(id), 0);
    CHECK(TS_SETTLE(ts_gone(id)), "d%u still there after destroydomain", id);
    CHECK(ts_memory_back(free_before), "free pages %lu, before %lu", physinfo_free_pages(),
          free_before);
    return RESULT_SUCCESS;
}
