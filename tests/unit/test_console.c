/*
 * Tests of the console's line keeping (common/console.c): a guest's write
 * that goes out in pieces keeps its line whole while Mica and other
 * domains print meanwhile; what waited follows on lines of its own; the
 * wait is bounded (buffer full, time, the machine stopping); Mica's
 * message after a guest's open line starts a line of its own.
 * unit-sources: hypervisor/common/console.c
 */
#define UNIT_SUITE "console"
#include "unit.h"

#include <mica/console.h>
#include <mica/hypercall.h>
#include <mica/lib.h>
#include <asm/guest_access.h>
#include <asm/time.h>

/* What the devices saw. */
static char out[1 << 16];
static size_t outlen;

static void dev_write(const char *s, size_t n)
{
    if (outlen + n < sizeof(out)) {
        memcpy(out + outlen, s, n);
        outlen += n;
        out[outlen] = 0;
    }
}

static struct console_device dev = { .name = "test", .write = dev_write };
static u64 fake_now;

/* Stubs for what console.c uses from elsewhere. */
u64 now_ns(void) { return fake_now; }
void lock_debug_stop(void) { }
int copy_to_guest(u64 guest_va, const void *src, size_t len)
{
    (void)guest_va; (void)src; (void)len;
    return -1;
}
void debug_key(char c) { (void)c; }

static void reset(void)
{
    static bool registered;

    console_end_hold();
    if (!registered) {
        console_register(&dev);
        registered = true;
    }
    printk("\n");               /* leave every test at a line start */
    outlen = 0;
    out[0] = 0;
}

UNIT_TEST(piece_holds_line)
{
    reset();
    /* dom0's long write, in pieces: Mica and d1 print in between. */
    console_guest_write(0, "dom0 says: aaaa", 15, true);
    printk("mica message\n");
    console_guest_write(1, "(d1) domU line\n", 15, false);
    console_guest_write(0, "bbbb", 4, true);
    console_guest_write(0, " end\n", 5, false);
    CHECK_STR(out, "dom0 says: aaaabbbb end\n(MICA) mica message\n(d1) domU line\n");
}

UNIT_TEST(open_line_at_end_of_write)
{
    reset();
    /* A write that ends with its line open (a prompt): what waited goes on a new line. */
    console_guest_write(0, "login", 5, true);
    printk("mica message\n");
    console_guest_write(0, ": ", 2, false);
    CHECK_STR(out, "login: \n(MICA) mica message\n");
    /* Then Mica again: still a line of its own, prefixed. */
    printk("another\n");
    CHECK_STR(out, "(MICA) mica message\n(MICA) another\n");
}

UNIT_TEST(mica_after_guest_partial_line)
{
    reset();
    console_guest_write(0, "prompt# ", 8, false);
    printk("mica\n");
    CHECK_STR(out, "prompt# \n(MICA) mica\n");
    /* dom0 continuing after Mica's line: on the next line, no newline of its own added. */
    console_guest_write(0, "ls\n", 3, false);
    CHECK_STR(out, "(MICA) mica\nls\n");
}

UNIT_TEST(same_guest_continues_its_line)
{
    reset();
    console_guest_write(0, "abc", 3, false);
    console_guest_write(0, "def\n", 4, false);
    CHECK_STR(out, "abcdef\n");
    CHECK(strstr(out, "abc\n") == NULL);
}

UNIT_TEST(hold_bounded_by_time)
{
    reset();
    fake_now = 1000;
    console_guest_write(0, "stalled", 7, true);
    printk("first\n");
    CHECK(strstr(out, "first") == NULL);        /* waits */
    fake_now += 300000000;                      /* the writer stalled for 300 ms */
    printk("second\n");
    CHECK_STR(out, "stalled\n(MICA) first\n(MICA) second\n");
    console_guest_write(0, " rest\n", 6, false);
    CHECK_STR(out, "(MICA) second\n rest\n");
}

UNIT_TEST(hold_bounded_by_size)
{
    char big[200];

    reset();
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    console_guest_write(0, "long", 4, true);
    for (unsigned i = 0; i < 20; i++)
        printk("%s\n", big);                    /* far more than the hold keeps */
    CHECK_STR(out, "long\n(MICA) xxx");
    console_guest_write(0, "er\n", 3, false);
}

UNIT_TEST(stop_releases)
{
    reset();
    console_guest_write(0, "dying", 5, true);
    printk("last words\n");
    CHECK(strstr(out, "last words") == NULL);
    console_end_hold();
    CHECK_STR(out, "dying\n(MICA) last words\n");
}

UNIT_MAIN()
