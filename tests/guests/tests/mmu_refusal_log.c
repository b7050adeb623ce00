/*
 * Refused pins explain themselves: a table Mica will not validate and a
 * pin it refuses fail (-EINVAL; Xen gives -EBUSY for the first case
 * below), and on Mica the console ring
 * (XEN_SYSCTL_readconsole) then holds a line naming the table's frame, the
 * entry (slot and value) and the rule, and one naming the pin:
 *   - an L1 whose entry 5 maps a pinned L1 writable;
 *   - an L2 whose entry 7 has the superpage bit;
 *   - a pin of a frame mapped writable (its type is taken);
 * then 60 more refused pins: the lines about them are rate-limited (fewer
 * than 60 reach the ring).  On another hypervisor only the answers are
 * checked (its log says other things), and the test says so.
 * docs/migration.md ("When a pin fails").
 */
#include "mmu_common.h"
#include <public/sysctl.h>
#include <public/version.h>

#define PTE_PS_BIT 0x80UL

static struct xen_sysctl sop;
static char ring[32768];
static uint32_t ring_index;

static long sysctl(uint32_t cmd)
{
    sop.cmd = cmd;
    sop.interface_version = XEN_SYSCTL_INTERFACE_VERSION;
    return HC(__HYPERVISOR_sysctl, &sop, 0, 0);
}

/* What the ring got since the last call (incremental read). */
static uint32_t ring_new(void)
{
    memset(&sop, 0, sizeof(sop));
    sop.u.readconsole.incremental = 1;
    sop.u.readconsole.index = ring_index;
    sop.u.readconsole.buffer = (uint64_t)ring;
    sop.u.readconsole.count = sizeof(ring) - 1;
    if (sysctl(XEN_SYSCTL_readconsole))
        return 0;
    ring_index = sop.u.readconsole.index;
    ring[sop.u.readconsole.count] = 0;
    return sop.u.readconsole.count;
}

static unsigned count_of(const char *s, uint32_t n, const char *word)
{
    size_t w = strlen(word);
    unsigned c = 0;

    for (uint32_t i = 0; i + w <= n; i++)
        if (!memcmp(s + i, word, w))
            c++;
    return c;
}

static void hex(char *out, uint64_t v)
{
    char tmp[20];
    int n = 0;

    do {
        tmp[n++] = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v);
    *out++ = '0';
    *out++ = 'x';
    while (n)
        *out++ = tmp[--n];
    *out = 0;
}

/* want = a then b. */
static void join(char *want, const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);

    memcpy(want, a, la);
    memcpy(want + la, b, lb + 1);
}

static bool on_mica(void)
{
    static char extra[16];

    if (HYPERVISOR_xen_version(XENVER_extraversion, extra) < 0)
        return false;
    extra[sizeof(extra) - 1] = 0;
    return count_of(extra, (uint32_t)strlen(extra), "mica") > 0;
}

enum result test_main(void)
{
    char want[96], mfn[24];
    uint32_t n;
    bool mica = on_mica();

    REQUIRE_EQ(traps_install(), 0);
    if (mica)
        ring_new();                 /* from here on, only what follows */

    /* Page 1: an empty L1, pinned (our own mapping read-only first). */
    memset(pool_page(1), 0, 4096);
    REQUIRE_EQ(pool_ro(1), 0);
    REQUIRE_EQ(ext1(MMUEXT_PIN_L1_TABLE, pool_mfn(1)), 0);
    /* Page 0: an L1 whose entry 5 maps page 1 writable. */
    memset(pool_page(0), 0, 4096);
    pool_page(0)[5] = (pool_mfn(1) << 12) | PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D;
    REQUIRE_EQ(pool_ro(0), 0);
    {
        /* Xen 4.17 passes on its L1 check's -EBUSY; Mica answers -EINVAL for every refused pin. */
        long rc = ext1(MMUEXT_PIN_L1_TABLE, pool_mfn(0));
        CHECK(rc == -XEN_EINVAL || rc == -XEN_EBUSY, "pin: %ld", rc);
    }
    if (mica) {
        n = ring_new();
        hex(mfn, pool_mfn(0));
        join(want, "L1 table at frame ", mfn);
        CHECK(count_of(ring, n, want) == 1, "no line about %s in: %s", want, ring);
        CHECK(count_of(ring, n, "refused: entry 5 = ") == 1, "no entry 5 in: %s", ring);
        CHECK(count_of(ring, n, "an L1 table with 1 type reference, pinned writable") == 1,
              "no rule in: %s", ring);
        join(want, "pinning frame ", mfn);
        CHECK(count_of(ring, n, want) == 1 &&
              count_of(ring, n, "an entry was refused (the line before says which") == 1,
              "no pin line in: %s", ring);
    }

    /* Page 2: an L2 whose entry 7 asks for a superpage. */
    memset(pool_page(2), 0, 4096);
    pool_page(2)[7] = (pool_mfn(3) << 12) | PTE_P | PTE_RW | PTE_US | PTE_PS_BIT;
    REQUIRE_EQ(pool_ro(2), 0);
    CHECK_EQ(ext1(MMUEXT_PIN_L2_TABLE, pool_mfn(2)), -XEN_EINVAL);
    if (mica) {
        n = ring_new();
        CHECK(count_of(ring, n, "refused: entry 7 = ") == 1 &&
              count_of(ring, n, "has bits 0x80 no L2 entry may have") == 1,
              "no superpage line in: %s", ring);
    }

    /* Page 3 stays mapped writable: its type is taken. */
    memset(pool_page(3), 0, 4096);
    REQUIRE_EQ(pool_rw(3), 0);
    CHECK_EQ(ext1(MMUEXT_PIN_L1_TABLE, pool_mfn(3)), -XEN_EINVAL);
    if (mica) {
        n = ring_new();
        CHECK(count_of(ring, n, "writable with 1 type reference") == 1 &&
              count_of(ring, n, "it has another type") == 1, "no type line in: %s", ring);
    }

    /* Many refusals at once: the lines about them are rate-limited. */
    for (unsigned i = 0; i < 60; i++)
        CHECK_EQ(ext1(MMUEXT_PIN_L1_TABLE, pool_mfn(3)), -XEN_EINVAL);
    if (mica) {
        unsigned lines;
        n = ring_new();
        lines = count_of(ring, n, "it has another type");
        printk("60 refused pins: %u lines about them\n", lines);
        CHECK(lines >= 1 && lines < 60, "%u lines for 60 refused pins", lines);
    } else {
        printk("not Mica: only the answers were checked, not the log lines\n");
    }

    /* Clean up: page 1 unpinned, everything writable again. */
    CHECK_EQ(ext1(MMUEXT_UNPIN_TABLE, pool_mfn(1)), 0);
    CHECK_EQ(pool_rw(0), 0);
    CHECK_EQ(pool_rw(1), 0);
    CHECK_EQ(pool_rw(2), 0);
    return RESULT_SUCCESS;
}
