/*
 * Rate-limited report of unimplemented hypercalls and sub-operations.
 *
 * Each distinct (domain, hypercall, sub-op) is reported once while it is
 * remembered; a guest that loops through unknown numbers fills the table
 * and then gets at most one line per second, so it cannot flood the
 * console.  unknown_op_lock guards the table and the flood counters; the
 * line is printed after it is dropped.
 */
#include <asm/current.h>
#include <asm/time.h>
#include <mica/domain.h>
#include <mica/lib.h>
#include <mica/spinlock.h>
#include <mica/unknown_op.h>
#include <public/errno.h>

#define SEEN_SLOTS  32
#define FLOOD_GAP_NS 1000000000ULL      /* one line a second once the table is full */

struct seen_op {
    u64 nr;
    u32 sub;
    domid_t domid;
    bool used;
};

static DEFINE_SPINLOCK(unknown_op_lock, LOCK_ORDER_UNKNOWN_OP);
/* unknown_op_lock guards these. */
static struct seen_op seen[SEEN_SLOTS];
static unsigned seen_count;
static u64 last_flood_line_ns;
static u64 suppressed;

static bool already_seen(domid_t domid, u64 nr, u32 sub)
{
    for (unsigned i = 0; i < seen_count; i++)
        if (seen[i].used && seen[i].domid == domid && seen[i].nr == nr && seen[i].sub == sub)
            return true;
    return false;
}

long unknown_op(u64 nr, u32 sub)
{
    domid_t domid = current_vcpu()->domain->domid;
    unsigned long flags;
    u64 now, unreported;

    spin_lock_irqsave(&unknown_op_lock, flags);
    if (already_seen(domid, nr, sub))
        goto quiet;
    if (seen_count < SEEN_SLOTS) {
        seen[seen_count++] = (struct seen_op){ nr, sub, domid, true };
    } else {
        now = now_ns();
        if (last_flood_line_ns && now - last_flood_line_ns < FLOOD_GAP_NS) {
            suppressed++;
            goto quiet;
        }
        last_flood_line_ns = now;
    }
    unreported = suppressed;
    suppressed = 0;
    spin_unlock_irqrestore(&unknown_op_lock, flags);

    if (sub == UNKNOWN_OP_NO_SUB)
        printk_level(LOG_WARN, "d%u: hypercall %llu not implemented: -ENOSYS (%llu unreported)\n",
                     domid, (unsigned long long)nr, (unsigned long long)unreported);
    else
        printk_level(LOG_WARN, "d%u: hypercall %llu sub-op %u not implemented: -ENOSYS"
                     " (%llu unreported)\n", domid, (unsigned long long)nr, sub,
                     (unsigned long long)unreported);
    return -XEN_ENOSYS;

quiet:
    spin_unlock_irqrestore(&unknown_op_lock, flags);
    return -XEN_ENOSYS;
}
