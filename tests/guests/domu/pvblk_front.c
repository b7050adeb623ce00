/*
 * A PV block front end as a domU test kernel, created by vmctl in dom0
 * with a <disk> whose back end is Linux's xen-blkback.  The command line
 * picks what it does (mode=...):
 *
 *   xenbus    no disk needed: the xenbus client against dom0's xenstored
 *             (read our name, write/read/list a node, a watch's first
 *             and change events, ENOENT for a missing node).
 *   io        connect, write a pattern dom0 can find in the image file
 *             (sectors 0..63 and the last sector), read it back, compare,
 *             close cleanly: the well-behaved front end.
 *   badgref   requests naming a reference we never granted and one past
 *             our table: each must be answered BLKIF_RSP_ERROR, and good
 *             I/O must work afterwards.
 *   range     reads starting at, and running over, the end of the disk,
 *             and at sector 2^63: errors, then good I/O.
 *   segs      read requests with 0, 12 and 255 segments and a segment
 *             whose last sector comes before its first: errors, then
 *             good I/O.
 *   ringidx   publishes req_prod 1000 past what was answered: the back end
 *             must stop serving this ring (Linux logs "bogus ring
 *             requests") and never answer; the kernel then crashes itself
 *             so the toolstack destroys it.
 *   flood     4096 one-sector reads, the ring kept full: every one answered.
 *   crash     fills the ring with reads and crashes without waiting: the
 *             domain is destroyed with requests in flight.
 *
 * A kernel whose checks failed crashes (SHUTDOWN_crash) instead of powering
 * off, so dom0 tells the outcome from vmctl's monitor log too.
 * Each step prints PASS:/FAIL: lines prefixed pvfront-<mode>- on Mica's
 * console; the verdict line is the library's "Test result:".  Modes that
 * keep a working ring also write the verdict to the disk's second-last
 * sector, "MICA-PVBLK-RESULT <mode> SUCCESS" (or FAILURE <n>), for dom0
 * to read from the image.  Data pattern: every 512-byte sector starts
 * "MICA-PVBLK s=<sector>" and is filled with bytes (sector * 7 + offset)
 * & 0xff after it.
 */
#include "guest.h"

#include "blkfront.h"
#include "gnttab.h"
#include "pv_wait.h"
#include "xenbus.h"

#include "front_test.h"

#define IO_SECTORS    64u     /* the pattern dom0 looks for: 8 pages, 8 segments */
#define BUF_SECTORS   (8u * BLKIF_MAX_SEGMENTS_PER_REQUEST)   /* the most one request moves */
#define CONNECT_WAIT_S 60
#define REPLY_S       30

static uint8_t wbuf[BUF_SECTORS * 512] __attribute__((aligned(4096), section(".bss.page_aligned")));
static uint8_t rbuf[BUF_SECTORS * 512] __attribute__((aligned(4096), section(".bss.page_aligned")));
static struct blkfront disk;

static void fill_sector(uint8_t *p, uint64_t sector)
{
    int n = snprintk((char *)p, 32, "MICA-PVBLK s=%lu", sector);

    for (unsigned i = (unsigned)n; i < 512; i++)
        p[i] = (uint8_t)(sector * 7 + i);
}

/* Writes the pattern to nsect sectors from `first` and reads it back. */
static bool write_read(uint64_t first, unsigned nsect, const char *step)
{
    int rc;

    for (unsigned s = 0; s < nsect; s++)
        fill_sector(wbuf + s * 512, first + s);
    rc = blkfront_rw(&disk, BLKIF_OP_WRITE, first, wbuf, nsect);
    if (rc != BLKIF_RSP_OKAY) {
        result(false, step, "write of %u sectors at %lu: status %d %s", nsect, first, rc,
               rc == -100 ? blkfront_error() : "");
        return false;
    }
    memset(rbuf, 0xee, nsect * 512);
    rc = blkfront_rw(&disk, BLKIF_OP_READ, first, rbuf, nsect);
    if (rc != BLKIF_RSP_OKAY) {
        result(false, step, "read of %u sectors at %lu: status %d %s", nsect, first, rc,
               rc == -100 ? blkfront_error() : "");
        return false;
    }
    for (unsigned s = 0; s < nsect; s++)
        if (memcmp(wbuf + s * 512, rbuf + s * 512, 512)) {
            result(false, step, "sector %lu read back differs from what was written", first + s);
            return false;
        }
    result(true, step, "%u sectors at %lu written and read back", nsect, first);
    return true;
}

/* Posts req as is (apart from its id) and expects one error response. */
static void expect_error(const struct blkif_request *req, const char *step, const char *what)
{
    struct blkif_response rsp;
    uint64_t id = blkfront_post(&disk, req);

    if (blkfront_next_response(&disk, &rsp, pv_deadline_s(REPLY_S)))
        result(false, step, "%s: %s", what, blkfront_error());
    else if (rsp.id != id)
        result(false, step, "%s: response for id %lu, expected %lu", what, rsp.id, id);
    else
        result(rsp.status == BLKIF_RSP_ERROR, step, "%s: status %d (BLKIF_RSP_ERROR is %d)",
               what, rsp.status, BLKIF_RSP_ERROR);
}

/* A one-segment read of sector `sector` through a page we really grant. */
static struct blkif_request one_read(uint64_t sector, int ref)
{
    struct blkif_request r = { .operation = BLKIF_OP_READ, .nr_segments = 1,
                               .sector_number = sector };
    r.seg[0] = (struct blkif_request_segment){ .gref = (grant_ref_t)ref, .first_sect = 0,
                                               .last_sect = 0 };
    return r;
}

static void mode_io(void)
{
    write_read(0, IO_SECTORS, "first64");
    write_read(disk.sectors - 1, 1, "last");
    /* 11 segments: the most one request carries. */
    write_read(IO_SECTORS, BUF_SECTORS, "again");
}

static void mode_badgref(void)
{
    struct blkif_request r = one_read(0, 300);   /* a reference never granted */

    expect_error(&r, "ungranted", "read through grant 300 (never granted)");
    r = one_read(0, 100000);                     /* past our one-frame table */
    expect_error(&r, "pasttable", "read through grant 100000 (past the table)");
    write_read(0, 8, "after");
}

static void mode_range(void)
{
    int ref = gnttab_grant_page((uint16_t)disk.dev.be_id, rbuf, false);
    struct blkif_request r;

    r = one_read(disk.sectors, ref);
    expect_error(&r, "atend", "read at sector == size");
    r = one_read(disk.sectors - 1, ref);
    r.seg[0].last_sect = 7;                      /* runs 7 sectors past the end */
    expect_error(&r, "overend", "read over the end");
    r = one_read(1ull << 63, ref);
    expect_error(&r, "huge", "read at sector 2^63");
    result(gnttab_end((unsigned)ref), "grant", "data grant released after the errors");
    write_read(0, 8, "after");
}

static void mode_segs(void)
{
    int ref = gnttab_grant_page((uint16_t)disk.dev.be_id, rbuf, false);
    struct blkif_request r = one_read(0, ref);

    r.nr_segments = 0;
    expect_error(&r, "zero", "read with 0 segments");
    for (unsigned i = 0; i < BLKIF_MAX_SEGMENTS_PER_REQUEST; i++)
        r.seg[i] = r.seg[0];
    r.nr_segments = BLKIF_MAX_SEGMENTS_PER_REQUEST + 1;
    expect_error(&r, "twelve", "read with 12 segments");
    r.nr_segments = 255;
    expect_error(&r, "max", "read with 255 segments");
    r = one_read(0, ref);
    r.seg[0].first_sect = 5;
    r.seg[0].last_sect = 2;
    expect_error(&r, "backwards", "segment with last_sect < first_sect");
    result(gnttab_end((unsigned)ref), "grant", "data grant released after the errors");
    write_read(0, 8, "after");
}

static void mode_ringidx(void)
{
    struct blkif_response rsp;

    write_read(0, 8, "before");
    blkfront_push_raw(&disk, disk.ring.rsp_cons + 1000);
    /* A well-behaved back end refuses the whole ring: nothing comes back. */
    bool answered = blkfront_next_response(&disk, &rsp, pv_deadline_s(10)) == 0;
    result(!answered, "halted", "req_prod pushed 1000 past the ring: %s",
           answered ? "the back end answered a request it should not have read" :
                      "no response, as expected");
}

static void mode_flood(void)
{
    enum { TOTAL = 4096 };
    int ref = gnttab_grant_page((uint16_t)disk.dev.be_id, rbuf, false);
    struct blkif_response rsp;
    unsigned posted = 0, answered = 0, bad = 0;

    while (answered < TOTAL) {
        while (posted < TOTAL && pv_front_ring_free(&disk.ring)) {
            struct blkif_request r = one_read(posted % IO_SECTORS, ref);
            blkfront_post(&disk, &r);
            posted++;
        }
        if (blkfront_next_response(&disk, &rsp, pv_deadline_s(REPLY_S))) {
            result(false, "all", "after %u of %u answers: %s", answered, TOTAL, blkfront_error());
            return;
        }
        answered++;
        bad += rsp.status != BLKIF_RSP_OKAY;
    }
    result(bad == 0, "all", "%u reads answered, %u not OKAY", answered, bad);
    result(gnttab_end((unsigned)ref), "grant", "data grant released after the flood");
    write_read(0, 8, "after");
}

static bool xs_step(int rc, const char *step, const char *what)
{
    result(rc >= 0, step, "%s%s%s", what, rc < 0 ? ": " : "", rc < 0 ? xs_error() : "");
    return rc >= 0;
}

static void mode_xenbus(void)
{
    char buf[64];
    int n;

    if (!xs_step(xs_init(), "init", "store ring mapped"))
        return;
    n = xs_read("name", buf, sizeof(buf));
    if (xs_step(n, "read", "read our name"))
        result(strcmp(buf, "pvf-xenbus") == 0, "name", "name is \"%s\"", buf);
    xs_step(xs_write("data/pvfront", "one"), "write", "wrote data/pvfront");
    n = xs_read("data/pvfront", buf, sizeof(buf));
    result(n == 3 && strcmp(buf, "one") == 0, "readback", "read back \"%s\" (%d bytes)",
           n >= 0 ? buf : xs_error(), n);
    n = xs_directory("data", buf, sizeof(buf));
    bool listed = false;
    for (int i = 0; n > 0 && i < n; i += (int)strnlen(buf + i, (size_t)(n - i)) + 1)
        listed |= strcmp(buf + i, "pvfront") == 0;
    result(listed, "directory", "data/ lists pvfront (%d bytes)", n);
    if (xs_step(xs_watch("data/pvfront", "t1"), "watch", "watch set")) {
        xs_step(xs_wait_watch("t1", pv_deadline_s(10)), "watch-first", "first event on setting it");
        xs_step(xs_write("data/pvfront", "two"), "write2", "wrote data/pvfront again");
        xs_step(xs_wait_watch("t1", pv_deadline_s(10)), "watch-change", "event for the change");
        xs_step(xs_unwatch("data/pvfront", "t1"), "unwatch", "watch removed");
    }
    n = xs_read("data/no-such-node", buf, sizeof(buf));
    result(n < 0 && strcmp(xs_error(), "ENOENT") == 0, "enoent", "missing node: %s",
           n < 0 ? xs_error() : "read succeeded");
}

static void mode_crash(void)
{
    int ref = gnttab_grant_page((uint16_t)disk.dev.be_id, rbuf, false);
    unsigned n = 0;

    while (pv_front_ring_free(&disk.ring)) {
        struct blkif_request r = one_read(n * 8, ref);
        blkfront_post(&disk, &r);
        n++;
    }
    result(true, "posted", "%u reads in flight, crashing now", n);
    crash_now();
}

enum result test_main(void)
{
    front_test_start();
    if (!strcmp(mode, "xenbus")) {
        mode_xenbus();
        front_test_end();
    }

    if (blkfront_connect(&disk, NULL, CONNECT_WAIT_S)) {
        result(false, "connect", "%s", blkfront_error());
        crash_now();
    }
    result(disk.sectors >= IO_SECTORS + BUF_SECTORS + 1 && disk.sector_size >= 512, "connect",
           "%s via %s (d%lu): %lu sectors of %lu bytes, info %#lx, ring ref %d port %u",
           disk.dev.fe, disk.dev.be, disk.dev.be_id, disk.sectors, disk.sector_size, disk.info,
           disk.ring_ref, disk.port);
    if (check_failures)
        crash_now();

    if (!strcmp(mode, "io"))
        mode_io();
    else if (!strcmp(mode, "badgref"))
        mode_badgref();
    else if (!strcmp(mode, "range"))
        mode_range();
    else if (!strcmp(mode, "segs"))
        mode_segs();
    else if (!strcmp(mode, "flood"))
        mode_flood();
    else if (!strcmp(mode, "ringidx")) {
        mode_ringidx();
        crash_now();
    } else if (!strcmp(mode, "crash"))
        mode_crash();
    else
        error_exit("unknown mode \"%s\" (io badgref range segs ringidx flood crash)", mode);

    /* The verdict where dom0 can read it. */
    memset(wbuf, 0, 512);
    int n = snprintk((char *)wbuf, 64, "MICA-PVBLK-RESULT %s %s", mode,
                     check_failures ? "FAILURE" : "SUCCESS");
    if (check_failures)
        snprintk((char *)wbuf + n, 16, " %u", check_failures);
    int rc = blkfront_rw(&disk, BLKIF_OP_WRITE, disk.sectors - 2, wbuf, 1);
    result(rc == BLKIF_RSP_OKAY, "verdict", "written to sector %lu: status %d",
           disk.sectors - 2, rc);

    if (blkfront_close(&disk, REPLY_S))
        result(false, "close", "%s", blkfront_error());
    else
        result(gnttab_in_use() == 0, "close", "closed; %u grants still in use", gnttab_in_use());
    front_test_end();
}
