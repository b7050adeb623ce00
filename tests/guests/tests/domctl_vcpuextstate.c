/*
 * domctl get/setvcpuextstate, dom0 as the toolstack (Xen 4.17's layout:
 * XCR0, XCR0_ACCUM, then the XSAVE area in the standard format).  The
 * size query (size and mask 0) gives the feature mask and the largest
 * size; a new domain's vCPU reads back XCR0 and XCR0_ACCUM 0 and no
 * area (16 octets); an AVX state set (XMM0, the upper
 * half of YMM0, XCR0 x87|SSE|AVX) reads back as set.  Refused, nothing
 * changed: a size below the two words or beyond the largest, XCR0 with
 * no XCR0_ACCUM, XCR0 outside XCR0_ACCUM, XCR0 without x87, AVX without
 * SSE, XSTATE_BV outside XCR0_ACCUM, a size that is not XCR0_ACCUM's
 * (-EINVAL); a compacted area (-EOPNOTSUPP); reserved header octets
 * (-EIO); a get with the wrong mask or too small a buffer (-EINVAL).
 * A bad vCPU and an unknown domain get -ESRCH, our own running vCPU
 * -EINVAL.  xcr0 = xcr0_accum = 0 with no area is accepted and changes
 * nothing.
 */
#include "toolstack.h"

#define X87 1ULL
#define SSE 2ULL
#define YMM 4ULL
#define HDR 16
#define XMM0 (HDR + 160)
#define MXCSR (HDR + 24)
#define BV (HDR + 512)
#define XCOMP (HDR + 520)
#define YMM0_HI (HDR + 576)

static uint8_t buf[4096] __attribute__((aligned(64)));
static uint8_t saved[4096];
static uint64_t got_size, got_mask;

static long extstate(uint32_t cmd, domid_t dom, uint32_t vcpu, uint64_t mask, uint64_t size,
                     void *b)
{
    memset(&ts_op, 0, sizeof(ts_op));
    ts_op.u.vcpuextstate.vcpu = vcpu;
    ts_op.u.vcpuextstate.xfeature_mask = mask;
    ts_op.u.vcpuextstate.size = size;
    ts_op.u.vcpuextstate.buffer = (uint64_t)(uintptr_t)b;
    long rc = ts_domctl(cmd, dom);
    got_size = ts_op.u.vcpuextstate.size;
    got_mask = ts_op.u.vcpuextstate.xfeature_mask;
    return rc;
}

static uint64_t word(const uint8_t *b, unsigned off)
{
    uint64_t v;
    memcpy(&v, b + off, 8);
    return v;
}

static void put(uint8_t *b, unsigned off, uint64_t v)
{
    memcpy(b + off, &v, 8);
}

enum result test_main(void)
{
    REQUIRE_EQ(traps_install(), 0);
    map_shared_info();
    uint64_t free_before = physinfo_free_pages();
    REQUIRE_EQ(ts_create(), 0);
    domid_t id = ts_op.domain;
    printk("created d%u\n", id);

    /* ---- the size query ---- */
    CHECK_EQ(extstate(XEN_DOMCTL_getvcpuextstate, id, 0, 0, 0, buf), 0);
    uint64_t mask = got_mask, max = got_size;
    printk("xfeature_mask %#lx, largest size %lu\n", (unsigned long)mask, (unsigned long)max);
    if (!(mask & YMM)) {
        CHECK_EQ(ts_destroy(id), 0);
        printk("no AVX offered to guests: nothing to test beyond the query\n");
        return RESULT_SKIP;
    }
    CHECK_EQ(mask & (X87 | SSE), X87 | SSE);
    CHECK(max >= HDR + 832 && max <= sizeof(buf), "largest size %lu", (unsigned long)max);
    CHECK_EQ(extstate(XEN_DOMCTL_getvcpuextstate, id, 0, 0, 0, NULL), 0);
    CHECK_EQ(got_size, max);

    /* ---- a new vCPU: no XSAVE state yet (XCR0 and XCR0_ACCUM 0, no area) ---- */
    memset(buf, 0xee, sizeof(buf));
    CHECK_EQ(extstate(XEN_DOMCTL_getvcpuextstate, id, 0, mask, max, buf), 0);
    CHECK_EQ(got_size, HDR);
    CHECK_EQ(word(buf, 0), 0);
    CHECK_EQ(word(buf, 8), 0);
    CHECK_EQ(buf[HDR], 0xee);                                    /* nothing beyond */
    CHECK_EQ(extstate(XEN_DOMCTL_getvcpuextstate, id, 0, mask & ~YMM, max, buf), -XEN_EINVAL);

    /* ---- an AVX state in and out ---- */
    memset(saved, 0, sizeof(saved));
    put(saved, 0, X87 | SSE | YMM);
    put(saved, 8, X87 | SSE | YMM);
    saved[HDR] = 0x7f;
    saved[HDR + 1] = 0x03;
    put(saved, MXCSR, 0x1f80);
    for (unsigned i = 0; i < 16; i++) {
        saved[XMM0 + i] = (uint8_t)(0x10 + i);
        saved[YMM0_HI + i] = (uint8_t)(0xa0 + i);
    }
    put(saved, BV, X87 | SSE | YMM);
    memcpy(buf, saved, HDR + 832);
    CHECK_EQ(extstate(XEN_DOMCTL_setvcpuextstate, id, 0, 0, HDR + 832, buf), 0);
    memset(buf, 0, sizeof(buf));
    CHECK_EQ(extstate(XEN_DOMCTL_getvcpuextstate, id, 0, mask, max, buf), 0);
    CHECK_EQ(got_size, HDR + 832);
    CHECK_EQ(word(buf, 0), X87 | SSE | YMM);
    CHECK_EQ(word(buf, 8), X87 | SSE | YMM);
    CHECK_EQ(word(buf, BV) & (X87 | SSE | YMM), X87 | SSE | YMM);
    CHECK(memcmp(buf + XMM0, saved + XMM0, 16) == 0, "XMM0 differs");
    CHECK(memcmp(buf + YMM0_HI, saved + YMM0_HI, 16) == 0, "upper YMM0 differs");
    /* A buffer too small for XCR0_ACCUM's area, or the wrong mask. */
    CHECK_EQ(extstate(XEN_DOMCTL_getvcpuextstate, id, 0, mask, HDR + 576, buf), -XEN_EINVAL);
    CHECK_EQ(extstate(XEN_DOMCTL_getvcpuextstate, id, 0, mask & ~YMM, max, buf), -XEN_EINVAL);

    /* ---- refused sets, nothing changed ---- */
    struct { const char *what; unsigned off; uint64_t val; uint64_t size; long rc; } bad[] = {
        { "size below the two words", 0, X87 | SSE | YMM, HDR - 8, -XEN_EINVAL },
        { "size beyond the largest", 0, X87 | SSE | YMM, 4096, -XEN_EINVAL },
        { "XCR0 outside XCR0_ACCUM", 8, X87, HDR + 576, -XEN_EINVAL },
        { "XCR0 without x87", 0, SSE | YMM, HDR + 832, -XEN_EINVAL },
        { "AVX without SSE", 0, X87 | YMM, HDR + 832, -XEN_EINVAL },
        { "XSTATE_BV outside XCR0_ACCUM", BV, X87 | SSE | YMM | 8, HDR + 832, -XEN_EINVAL },
        { "size not XCR0_ACCUM's", 0, X87 | SSE | YMM, HDR + 576, -XEN_EINVAL },
        { "compacted area", XCOMP, (1ULL << 63) | 7, HDR + 832, -XEN_EOPNOTSUPP },
        { "reserved header octets", XCOMP + 8, 1, HDR + 832, -XEN_EIO },
    };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memcpy(buf, saved, HDR + 832);
        put(buf, 0, X87 | SSE);          /* a change that would show */
        put(buf, bad[i].off, bad[i].val);
        long rc = extstate(XEN_DOMCTL_setvcpuextstate, id, 0, 0, bad[i].size, buf);
        CHECK(rc == bad[i].rc, "%s: rc %ld, want %ld", bad[i].what, rc, bad[i].rc);
    }
    memset(buf, 0, HDR);
    put(buf, 0, X87 | SSE);                                      /* XCR0 with no XCR0_ACCUM */
    CHECK_EQ(extstate(XEN_DOMCTL_setvcpuextstate, id, 0, 0, HDR, buf), -XEN_EINVAL);
    memset(buf, 0, HDR);                                         /* "never used": accepted */
    CHECK_EQ(extstate(XEN_DOMCTL_setvcpuextstate, id, 0, 0, HDR, buf), 0);
    memset(buf, 0, sizeof(buf));
    CHECK_EQ(extstate(XEN_DOMCTL_getvcpuextstate, id, 0, mask, max, buf), 0);
    CHECK_EQ(word(buf, 0), X87 | SSE | YMM);
    CHECK(memcmp(buf + YMM0_HI, saved + YMM0_HI, 16) == 0, "upper YMM0 changed");

    /* ---- bad vCPU, our own vCPU, unknown domain ---- */
    CHECK_EQ(extstate(XEN_DOMCTL_getvcpuextstate, id, 1, mask, max, buf), -XEN_ESRCH);
    CHECK_EQ(extstate(XEN_DOMCTL_setvcpuextstate, id, 1, 0, HDR + 832, saved), -XEN_ESRCH);
    CHECK_EQ(extstate(XEN_DOMCTL_getvcpuextstate, 0, 0, mask, max, buf), -XEN_EINVAL);
    CHECK_EQ(extstate(XEN_DOMCTL_getvcpuextstate, 0x7000, 0, mask, max, buf), -XEN_ESRCH);

    CHECK_EQ(ts_destroy(id), 0);
    CHECK(TS_SETTLE(ts_gone(id)), "d%u still there after destroydomain", id);
    CHECK(ts_memory_back(free_before), "free pages %lu, before %lu", physinfo_free_pages(),
          free_before);
    return RESULT_SUCCESS;
}
