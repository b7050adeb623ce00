/*
 * FIFO event channels (see mica/event_fifo.h), with Xen 4.17's
 * guest-visible rules:
 *
 * - Each port has an event word in a guest page of the event array
 *   (PENDING, MASKED, LINKED, BUSY bits and a 17-bit LINK); each vCPU
 *   has a control block in a guest page (READY bits, one HEAD per
 *   priority 0..15).  Mica keeps writable type references on those pages
 *   while it uses them.
 * - Raising a port sets PENDING; an unmasked port not yet LINKED is
 *   appended to its vCPU's queue for its priority: the old tail's LINK
 *   is set while the tail is still LINKED (the guest may unlink it at any
 *   time, so this is a compare-and-exchange), otherwise the queue was
 *   empty and HEAD is written.  A queue that was not READY becomes READY
 *   and the vCPU gets an upcall.
 * - A port raised before the array page holding its word exists is
 *   remembered and raised when the page arrives; switching from 2-level
 *   carries each port's pending bit over the same way.
 *
 * - Up to 2^17 ports (the LINK field's size), in an array of up to 128
 *   pages, as Xen 4.17; event_channel.c caps the ports at createdomain's
 *   max_evtchn_port.
 *
 * The per-port state (priority, the queue last appended to, a pending
 * raise waiting for its word) lives in the port's struct evtchn in
 * event_channel.c's buckets (struct evtchn_fifo_port), so it costs
 * nothing for ports a domain never uses.  d->event_lock guards
 * d->evtchn_fifo, that per-port state and everything here: every entry
 * point runs with it held (event_channel.c takes it).  The guest's own event words and control
 * blocks change under the guest's feet, hence the compare-and-exchange.
 */
#include <asm/paging.h>
#include <asm/pv.h>
#include <mica/event.h>
#include <mica/event_fifo.h>
#include <mica/heap.h>
#include <mica/lib.h>
#include <mica/nospec.h>
#include <public/errno.h>

#define WORDS_PER_PAGE  (PAGE_SIZE / sizeof(u32))
#define MAX_PORTS       EVTCHN_FIFO_NR_CHANNELS
#define MAX_ARRAY_PAGES (MAX_PORTS / WORDS_PER_PAGE)     /* 128, Xen's EVTCHN_FIFO_MAX_EVENT_ARRAY_PAGES */

_Static_assert(sizeof(struct evtchn_fifo_control_block) == 72, "control block size");

struct fifo_queue {
    u32 tail;                       /* last port appended; 0: none */
};

struct fifo_vcpu {
    struct evtchn_fifo_control_block *cb;   /* NULL: not initialised */
    u64 cb_mfn;
    struct fifo_queue q[EVTCHN_FIFO_MAX_QUEUES];
};

struct evtchn_fifo {
    volatile u32 *array[MAX_ARRAY_PAGES];
    u64 array_mfn[MAX_ARRAY_PAGES];
    u32 nr_words;                   /* ports with an event word */
    struct fifo_vcpu vcpu[MAX_VIRT_CPUS];
};

static volatile u32 *word_of(struct evtchn_fifo *f, u32 port)
{
    if (port >= f->nr_words)
        return NULL;
    port = array_index_nospec(port, f->nr_words);
    return &f->array[port / WORDS_PER_PAGE][port % WORDS_PER_PAGE];
}

static bool bit_test_and_set(volatile u32 *w, unsigned bit)
{
    return __atomic_fetch_or(w, 1u << bit, __ATOMIC_SEQ_CST) & (1u << bit);
}

static void bit_clear(volatile u32 *w, unsigned bit)
{
    __atomic_fetch_and(w, ~(1u << bit), __ATOMIC_SEQ_CST);
}

static bool bit_test(const volatile u32 *w, unsigned bit)
{
    return (*w >> bit) & 1;
}

/* Sets the tail's LINK to port if the tail is still LINKED. */
static bool link_after(volatile u32 *tail, u32 port)
{
    u32 old = *tail;

    for (;;) {
        if (!(old & (1u << EVTCHN_FIFO_LINKED)))
            return false;
        u32 new = (old & ~((1u << EVTCHN_FIFO_BUSY) | EVTCHN_FIFO_LINK_MASK)) | port;
        if (__atomic_compare_exchange_n(tail, &old, new, false, __ATOMIC_SEQ_CST,
                                        __ATOMIC_SEQ_CST))
            return true;
    }
}

bool evtchn_fifo_set_pending(struct domain *d, struct vcpu *v, u32 port)
{
    struct evtchn_fifo *f = d->evtchn_fifo;
    volatile u32 *w = word_of(f, port);
    struct fifo_vcpu *fv = &f->vcpu[v->vcpu_id];
    struct evtchn_fifo_port *fp = evtchn_fifo_port(d, port);
    u8 prio;
    struct fifo_queue *q, *old_q;
    bool was_pending, linked = true;

    if (!fp)
        return false;           /* not a port of d's table: cannot be bound */
    prio = fp->priority;
    q = &fv->q[prio];
    /* The queue a port was last appended to (a tail must be in it). */
    old_q = &f->vcpu[fp->last_vcpu].q[fp->last_priority];
    if (!w) {
        fp->saved_pending = 1;
        return false;
    }
    was_pending = bit_test_and_set(w, EVTCHN_FIFO_PENDING);
    /* The guest may not unmask before its control block exists: dropped. */
    if (!fv->cb)
        return was_pending;
    if (!bit_test(w, EVTCHN_FIFO_MASKED) && !bit_test_and_set(w, EVTCHN_FIFO_LINKED)) {
        /* As the tail of its old queue, it leaves that queue empty. */
        if (old_q->tail == port)
            old_q->tail = 0;
        fp->last_vcpu = (u8)v->vcpu_id;
        fp->last_priority = prio;
        linked = false;
        if (q->tail) {
            volatile u32 *tw = word_of(f, q->tail);
            linked = tw && link_after(tw, port);
        }
        if (!linked)
            __atomic_store_n(&fv->cb->head[prio], port, __ATOMIC_SEQ_CST);
        q->tail = port;
    }
    if (!linked && !bit_test_and_set((volatile u32 *)&fv->cb->ready, prio))
        evtchn_mark_events_pending(v);
    return was_pending;
}

void evtchn_fifo_clear_pending(struct domain *d, u32 port)
{
    volatile u32 *w = word_of(d->evtchn_fifo, port);
    struct evtchn_fifo_port *fp = evtchn_fifo_port(d, port);

    /* The guest unlinks and skips events that are no longer pending. */
    if (w)
        bit_clear(w, EVTCHN_FIFO_PENDING);
    if (fp)
        fp->saved_pending = 0;
}

bool evtchn_fifo_is_pending(struct domain *d, u32 port)
{
    volatile u32 *w = word_of(d->evtchn_fifo, port);

    return w && bit_test(w, EVTCHN_FIFO_PENDING);
}

void evtchn_fifo_unmask(struct domain *d, struct vcpu *v, u32 port)
{
    volatile u32 *w = word_of(d->evtchn_fifo, port);

    if (!w)
        return;
    bit_clear(w, EVTCHN_FIFO_MASKED);
    if (bit_test(w, EVTCHN_FIFO_PENDING) && v)
        evtchn_fifo_set_pending(d, v, port);
}

long evtchn_fifo_set_priority(struct domain *d, u32 port, u32 priority)
{
    if (!d->evtchn_fifo)
        return -XEN_ENOSYS;         /* 2-level has no priorities */
    if (priority > EVTCHN_FIFO_PRIORITY_MIN)
        return -XEN_EINVAL;
    /* Future events only: one already queued stays where it is. */
    struct evtchn_fifo_port *fp = evtchn_fifo_port(d, port);
    if (!fp)
        return -XEN_EINVAL;
    fp->priority = (u8)priority;
    return 0;
}

/* A page of d the guest names by frame number, writable; NULL if refused. */
static void *take_guest_page(struct domain *d, u64 gfn)
{
    if (domain_writable_frame(d, gfn))
        return NULL;
    return maddr_to_virt(gfn << PAGE_SHIFT);
}

static void reraise_saved(struct domain *d, u32 from, u32 to)
{
    u32 end = evtchn_table_ports(d);

    /* Ports past the table were never bound, so never raised. */
    for (u32 port = from; port < to && port < end; port++) {
        struct evtchn_fifo_port *fp = evtchn_fifo_port(d, port);
        if (!fp->saved_pending)
            continue;
        fp->saved_pending = 0;
        struct vcpu *v = evtchn_notify_vcpu(d, port);
        if (v)
            evtchn_fifo_set_pending(d, v, port);
    }
}

static long map_control_block(struct domain *d, struct vcpu *v, u64 gfn, u32 offset)
{
    struct fifo_vcpu *fv = &d->evtchn_fifo->vcpu[v->vcpu_id];
    u8 *page;

    if (fv->cb)
        return -XEN_EINVAL;
    page = take_guest_page(d, gfn);
    if (!page)
        return -XEN_EINVAL;
    fv->cb = (struct evtchn_fifo_control_block *)(page + offset);
    fv->cb_mfn = gfn;
    return 0;
}

long evtchn_fifo_init_control(struct domain *d, struct evtchn_init_control *ic)
{
    struct vcpu *v;
    long rc;

    ic->link_bits = EVTCHN_FIFO_LINK_BITS;
    if (!(v = domain_vcpu(d, ic->vcpu)))
        return -XEN_ENOENT;
    /* Within one page, 8-byte aligned. */
    if (ic->offset > PAGE_SIZE - sizeof(struct evtchn_fifo_control_block) || (ic->offset & 7))
        return -XEN_EINVAL;
    if (d->evtchn_fifo)
        return map_control_block(d, v, ic->control_gfn, ic->offset);

    /* The first control block switches d to FIFO. */
    d->evtchn_fifo = xzalloc(sizeof(*d->evtchn_fifo));
    if (!d->evtchn_fifo)
        return -XEN_ENOMEM;
    if ((rc = map_control_block(d, v, ic->control_gfn, ic->offset))) {
        evtchn_fifo_destroy(d);
        return rc;
    }
    /*
     * Ports bound under 2-level keep their pending state, at default
     * priority; the table's ports only (the rest have no state yet).
     * A table left bigger than 4096 by an earlier FIFO spell (reset back
     * to 2-level) has nothing open past 4096: reset closed it all.
     */
    for (u32 port = 0, end = evtchn_table_ports(d); port < end; port++) {
        struct evtchn_fifo_port *fp = evtchn_fifo_port(d, port);
        *fp = (struct evtchn_fifo_port){ .priority = EVTCHN_FIFO_PRIORITY_DEFAULT };
        if (port < EVTCHN_2L_NR_CHANNELS && evtchn_port_valid_locked(d, port) &&
            (d->shared_info->evtchn_pending[port / 64] >> (port % 64) & 1))
            fp->saved_pending = 1;
    }
    return 0;
}

long evtchn_fifo_expand_array(struct domain *d, u64 array_gfn)
{
    struct evtchn_fifo *f = d->evtchn_fifo;
    u32 slot, from;
    void *page;

    if (!f)
        return -XEN_EOPNOTSUPP;
    slot = f->nr_words / WORDS_PER_PAGE;
    if (slot >= MAX_ARRAY_PAGES)
        return -XEN_ENOSPC;
    page = take_guest_page(d, array_gfn);
    if (!page)
        return -XEN_EINVAL;
    f->array[slot] = page;
    f->array_mfn[slot] = array_gfn;
    from = f->nr_words;
    f->nr_words += WORDS_PER_PAGE;
    reraise_saved(d, from, f->nr_words);
    return 0;
}

void evtchn_fifo_destroy(struct domain *d)
{
    struct evtchn_fifo *f = d->evtchn_fifo;

    if (!f)
        return;
    for (unsigned i = 0; i < MAX_VIRT_CPUS; i++)
        if (f->vcpu[i].cb)
            domain_put_writable_frame(d, f->vcpu[i].cb_mfn);
    for (unsigned i = 0; i < MAX_ARRAY_PAGES; i++)
        if (f->array[i])
            domain_put_writable_frame(d, f->array_mfn[i]);
    xfree(f);
    d->evtchn_fifo = NULL;
}
