/*
 * console_io: the control domain's console on Mica's serial line.
 *
 * dom0's writes go out as it wrote them (no "(MICA)" prefix), so its
 * console reads as it would on bare metal, and reads hand it what the
 * serial line received.  Other domains may write too (Xen allows that
 * only in debug builds): their text is collected into whole lines and
 * shown as "(dN) line", so it is never mistaken for dom0's.  They may not
 * read.
 *
 * Those lines are Xen's guest-class debug messages: `guest_loglvl=` (Xen's
 * syntax) decides whether they are printed always, under a rate limit, or
 * never.  Mica's default is the rate limit, one bucket per domain
 * (mica/console_limit.h), so a domain that floods its console_io costs
 * the serial line a bounded share and the others nothing.
 */
#include <asm/current.h>
#include <asm/guest_access.h>
#include <asm/uart.h>
#include <asm/time.h>
#include <mica/console.h>
#include <mica/console_limit.h>
#include <mica/domain.h>
#include <mica/hypercall.h>
#include <mica/lib.h>
#include <mica/param.h>
#include <public/errno.h>
#include <public/xen.h>

#define CHUNK 128
/*
 * The serial line is polled: a write checks for due scheduling work
 * (hypercall_preempt_check) after every piece of this many bytes, so a
 * guest's long write holds the CPU for at most one piece past a tick
 * (about 3 ms at 115200 baud) before it is continued.
 */
#define WRITE_PIECE 32

/*
 * Mica's default is Xen's "none/all": every line rate-limited, none
 * dropped outright.  (Xen 4.17 refuses a domU's console_io in release
 * builds and prints everything in debug builds, "all".)
 */
static struct loglvl_thresh guest_thresh = { 0, LOGLVL_THRESH_ALL };

static int parse_guest_loglvl(const char *value, char *err, size_t errlen)
{
    struct loglvl_thresh t;

    if (loglvl_thresh_parse(value, &t)) {
        snprintf(err, errlen, "use <level>[/<rate-limited level>], levels none, error, "
                 "warning, info, debug, all");
        return -1;
    }
    guest_thresh = t;
    return 0;
}
custom_param("guest_loglvl", parse_guest_loglvl);

/*
 * The rate limit: a domain may print GUEST_LINE_BURST lines at once, then
 * one every GUEST_LINE_INTERVAL_MS (Xen: 10 at once, then one every 5 s,
 * for all guests and Xen's own guest-provoked messages together).  With
 * Mica's 120-character lines that is at most ~1.3 KB/s per domain, a
 * ninth of a 115200-baud line.
 */
#define GUEST_LINE_INTERVAL_MS 100
#define GUEST_LINE_BURST       100

static bool guest_line_allowed(struct domain *d)
{
    unsigned long flags;
    enum line_verdict v;
    u64 lost;

    spin_lock_irqsave(&d->console_rate_lock, flags);
    v = line_bucket_check(&d->console_rate, &guest_thresh, GUEST_CONSOLE_LEVEL,
                          now_ns() / 1000000, GUEST_LINE_INTERVAL_MS, GUEST_LINE_BURST, &lost);
    spin_unlock_irqrestore(&d->console_rate_lock, flags);
    if (v == LINE_PRINT && lost)
        printk("d%u: %llu console_io lines suppressed (guest_loglvl)\n", d->domid,
               (unsigned long long)lost);
    return v == LINE_PRINT;
}

#define REFUSAL_LINE_INTERVAL_MS 1000
#define REFUSAL_LINE_BURST       20

bool domain_refusal_log_allowed(struct domain *d)
{
    static const struct loglvl_thresh limited = { .lower = 0, .upper = LOGLVL_THRESH_ALL };
    unsigned long flags;
    enum line_verdict v;
    u64 lost;

    if (!d)
        return true;
    spin_lock_irqsave(&d->console_rate_lock, flags);
    v = line_bucket_check(&d->refusal_rate, &limited, 2, now_ns() / 1000000,
                          REFUSAL_LINE_INTERVAL_MS, REFUSAL_LINE_BURST, &lost);
    spin_unlock_irqrestore(&d->console_rate_lock, flags);
    if (v == LINE_PRINT && lost)
        printk("d%u: %llu lines about refused requests suppressed (rate limit)\n", d->domid,
               (unsigned long long)lost);
    return v == LINE_PRINT;
}

/*
 * One write, so one console_lock hold: with guests on several CPUs another
 * domain's output must not land in the middle of the line.
 */
static void guest_line_flush(struct domain *d)
{
    char line[16 + sizeof(d->console_line) + 1];
    size_t n;

    if (!guest_line_allowed(d)) {
        d->console_len = 0;
        return;
    }
    n = (size_t)snprintf(line, 16, "(d%u) ", d->domid);

    memcpy(line + n, d->console_line, d->console_len);
    n += d->console_len;
    line[n++] = '\n';
    console_guest_write(d->domid, line, n, false);
    d->console_len = 0;
}

static void unprivileged_write(struct domain *d, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '\n') {
            guest_line_flush(d);
            continue;
        }
        /* Control characters could rewrite the console's screen: show '.'. */
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            c = '.';
        d->console_line[d->console_len++] = c;
        if (d->console_len == sizeof(d->console_line))
            guest_line_flush(d);
    }
}

long do_console_io(int cmd, u64 count, u64 buf)
{
    struct domain *d = current_vcpu()->domain;
    char chunk[CHUNK];

    if (!is_control_domain(d) && cmd != CONSOLEIO_write)
        return cmd == CONSOLEIO_read ? -XEN_EPERM : -XEN_ENOSYS;
    switch (cmd) {
    case CONSOLEIO_write: {
        u64 done = 0;
        count = (u32)count;             /* the ABI's count is an unsigned int */
        while (done < count) {
            /*
             * A write that fits in one chunk goes out whole (one
             * console_lock hold); longer ones in pieces, and while a
             * piece leaves the line open the console holds other
             * output back until the write's end, so a line is not cut
             * by another CPU's output either way.
             */
            size_t n = count <= CHUNK ? (size_t)count : MIN((u64)WRITE_PIECE, count - done);
            if (done && hypercall_preempt_check()) {
                hypercall_continue_args((u64)cmd, count - done, buf + done);
                return HYPERCALL_CONTINUE;
            }
            if (copy_from_guest(chunk, buf + done, n))
                return -XEN_EFAULT;
            if (is_control_domain(d))
                console_guest_write(d->domid, chunk, n, done + n < count);
            else
                unprivileged_write(d, chunk, n);
            done += n;
        }
        return 0;
    }
    case CONSOLEIO_read: {
        size_t n;
        count = (u32)count;
        n = console_input_read(chunk, MIN((u64)CHUNK, count));
        if (n && copy_to_guest(buf, chunk, n))
            return -XEN_EFAULT;     /* those characters are lost, as on a bad read */
        return (long)n;
    }
    default:
        return -XEN_ENOSYS;
    }
}
