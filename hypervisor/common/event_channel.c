/*
 * Event channels: ports and bindings, and the 2-level ABI's pending and
 * mask bitmaps; a domain that switched to the FIFO ABI has its pending
 * and mask state handled by event_fifo.c instead.
 *
 * Ports live in buckets of 64, allocated as a domain uses them, so an
 * idle domain costs one small table.  Port 0 is reserved; allocation
 * takes the lowest free port.  Raising a port follows the ABI's protocol
 * exactly (see deliver()): guests rely on the order in which the pending
 * bit, the selector bit and upcall_pending become visible.
 *
 * Locking: d->event_lock guards d's port table (every struct evtchn,
 * virq_port, the buckets).  An operation on two domains' ports
 * (bind_interdomain, closing an interdomain port) takes both locks, the
 * lower domain id first (lock_pair()).  Sending to a peer reads our own
 * port under our lock, lets go, then delivers under the peer's, checking
 * that its port still points back at us.  The shared_info bits are set
 * with atomic operations, as guests change them concurrently anyway.
 */
#include <asm/current.h>
#include <asm/guest_access.h>
#include <asm/pirq.h>
#include <mica/event.h>
#include <mica/event_fifo.h>
#include <mica/heap.h>
#include <mica/lib.h>
#include <mica/perfc.h>
#include <mica/sched.h>
#include <mica/unknown_op.h>
#include <public/errno.h>
#include <public/event_channel.h>

enum ecs { ECS_FREE, ECS_RESERVED, ECS_UNBOUND, ECS_INTERDOMAIN, ECS_PIRQ, ECS_VIRQ, ECS_IPI };

#define BUCKET_PORTS 64
#define NR_PORTS EVTCHN_2L_NR_CHANNELS
#define NR_BUCKETS (NR_PORTS / BUCKET_PORTS)
#define BITS_PER_WORD 64

struct evtchn {
    u8 state;               /* enum ecs */
    u8 notify_vcpu;
    u16 remote_dom;         /* UNBOUND: who may bind; INTERDOMAIN: peer */
    u32 remote_port;        /* INTERDOMAIN: peer port */
    u32 virq;               /* VIRQ: which; PIRQ: the pirq */
};

struct evtchn_table {
    struct evtchn *buckets[NR_BUCKETS];
    u32 virq_port[MAX_VIRT_CPUS][NR_VIRQS];     /* 0: not bound */
};

static bool virq_is_per_vcpu(unsigned virq)
{
    return virq == VIRQ_TIMER || virq == VIRQ_DEBUG || virq == VIRQ_XENOPROF ||
           virq == VIRQ_XENPMU;
}

/* Called with d->event_lock held. */
int evtchn_domain_init(struct domain *d)
{
    struct evtchn_table *t;

    if (d->evtchn)
        return 0;                   /* another vCPU made it first */
    t = xzalloc(sizeof(*t));

    if (!t)
        return -XEN_ENOMEM;
    t->buckets[0] = xzalloc(sizeof(struct evtchn) * BUCKET_PORTS);
    if (!t->buckets[0]) {
        xfree(t);
        return -XEN_ENOMEM;
    }
    t->buckets[0][0].state = ECS_RESERVED;
    d->evtchn = t;
    return 0;
}

static long evtchn_close(struct domain *d, u32 port);

void evtchn_domain_destroy(struct domain *d)
{
    struct evtchn_table *t;

    /*
     * Closed one by one first, while the table is still there: an
     * interdomain peer goes back to unbound, naming d, as on Xen; left
     * bound, a later domain with d's id would get its notifications.
     * d is dying, so nothing binds new ports meanwhile.
     */
    for (u32 p = 1; p < NR_PORTS; p++)
        if (evtchn_port_valid(d, p))
            evtchn_close(d, p);
    spin_lock(&d->event_lock);
    evtchn_fifo_destroy(d);
    t = d->evtchn;
    d->evtchn = NULL;
    spin_unlock(&d->event_lock);
    if (!t)
        return;
    for (unsigned b = 0; b < NR_BUCKETS; b++)
        xfree(t->buckets[b]);
    xfree(t);
}

/* Both domains' event locks, lower id first (one lock when a == b). */
static void lock_pair(struct domain *a, struct domain *b)
{
    if (a == b) {
        spin_lock(&a->event_lock);
    } else if (a->domid < b->domid) {
        spin_lock(&a->event_lock);
        spin_lock_nested(&b->event_lock, 1);
    } else {
        spin_lock(&b->event_lock);
        spin_lock_nested(&a->event_lock, 1);
    }
}

static void unlock_pair(struct domain *a, struct domain *b)
{
    if (a != b)
        spin_unlock(&b->event_lock);
    spin_unlock(&a->event_lock);
}

static struct evtchn *port_ptr(struct domain *d, u32 port)
{
    if (!d->evtchn || port >= NR_PORTS || !d->evtchn->buckets[port / BUCKET_PORTS])
        return NULL;
    return &d->evtchn->buckets[port / BUCKET_PORTS][port % BUCKET_PORTS];
}

bool evtchn_port_valid_locked(struct domain *d, u32 port)
{
    struct evtchn *c = port_ptr(d, port);
    return c && c->state != ECS_FREE && c->state != ECS_RESERVED;
}

bool evtchn_port_valid(struct domain *d, u32 port)
{
    bool ok;

    spin_lock(&d->event_lock);
    ok = evtchn_port_valid_locked(d, port);
    spin_unlock(&d->event_lock);
    return ok;
}

bool evtchn_port_unbound_for(struct domain *d, u32 port, domid_t remote)
{
    struct evtchn *c;
    bool ok;

    spin_lock(&d->event_lock);
    c = d->evtchn ? port_ptr(d, port) : NULL;
    ok = c && c->state == ECS_UNBOUND && c->remote_dom == remote;
    spin_unlock(&d->event_lock);
    return ok;
}

static int alloc_port(struct domain *d, u32 *out)
{
    for (u32 b = 0; b < NR_BUCKETS; b++) {
        if (!d->evtchn->buckets[b]) {
            d->evtchn->buckets[b] = xzalloc(sizeof(struct evtchn) * BUCKET_PORTS);
            if (!d->evtchn->buckets[b])
                return -XEN_ENOMEM;
        }
        for (u32 i = 0; i < BUCKET_PORTS; i++) {
            if (d->evtchn->buckets[b][i].state == ECS_FREE) {
                *out = b * BUCKET_PORTS + i;
                evtchn_fifo_port_init(d, *out);
                return 0;
            }
        }
    }
    return -XEN_ENOSPC;
}

static bool test_and_set(volatile u64 *word, unsigned bit)
{
    u8 old;
    __asm__ volatile("lock btsq %2, %0; setc %1" : "+m"(*word), "=q"(old) : "Ir"((u64)bit) : "memory");
    return old;
}

static bool test_and_clear(volatile u64 *word, unsigned bit)
{
    u8 old;
    __asm__ volatile("lock btrq %2, %0; setc %1" : "+m"(*word), "=q"(old) : "Ir"((u64)bit) : "memory");
    return old;
}

static bool test_bit(const volatile u64 *word, unsigned bit)
{
    return (*word >> bit) & 1;
}

void evtchn_mark_events_pending(struct vcpu *v)
{
    if (!__atomic_exchange_n(&v->vcpu_info->evtchn_upcall_pending, 1, __ATOMIC_SEQ_CST))
        vcpu_wake(v);
}

/* Steps 2 onward of the delivery protocol: selector, upcall flag, kick. */
static void mark_upcall(struct vcpu *v, u32 port)
{
    struct vcpu_info *vi = v->vcpu_info;

    if (!test_and_set((volatile u64 *)&vi->evtchn_pending_sel, port / BITS_PER_WORD))
        evtchn_mark_events_pending(v);
}

struct vcpu *evtchn_notify_vcpu(struct domain *d, u32 port)
{
    struct evtchn *c = port_ptr(d, port);

    if (!c || c->state == ECS_FREE || c->state == ECS_RESERVED || c->notify_vcpu >= d->max_vcpus)
        return NULL;
    return d->vcpus[c->notify_vcpu];
}

/* Called with d->event_lock held. */
static void deliver(struct domain *d, u32 port)
{
    struct shared_info *s = d->shared_info;
    struct evtchn *c = port_ptr(d, port);
    struct vcpu *v;

    if (!c || c->notify_vcpu >= d->max_vcpus)
        return;
    v = d->vcpus[c->notify_vcpu];
    if (d->evtchn_fifo) {
        if (evtchn_fifo_set_pending(d, v, port))
            return;
    } else {
        if (test_and_set((volatile u64 *)&s->evtchn_pending[port / BITS_PER_WORD],
                         port % BITS_PER_WORD))
            return;
        if (!test_bit(&s->evtchn_mask[port / BITS_PER_WORD], port % BITS_PER_WORD))
            mark_upcall(v, port);
    }
    /* A vCPU polling this port wakes even when the port is masked. */
    for (unsigned i = 0; v->polling && i < v->nr_poll_ports; i++)
        if (v->poll_ports[i] == port)
            vcpu_wake(v);
}

void evtchn_raise(struct domain *d, u32 port)
{
    spin_lock(&d->event_lock);
    deliver(d, port);
    spin_unlock(&d->event_lock);
}

bool evtchn_port_pending(struct domain *d, u32 port)
{
    if (d->evtchn_fifo)
        return port < NR_PORTS && evtchn_fifo_is_pending(d, port);
    return port < NR_PORTS &&
           test_bit(&d->shared_info->evtchn_pending[port / BITS_PER_WORD], port % BITS_PER_WORD);
}

bool event_pending(struct vcpu *v)
{
    return v->vcpu_info->evtchn_upcall_pending;
}

void send_guest_vcpu_virq(struct vcpu *v, unsigned virq)
{
    struct domain *d = v->domain;
    u32 port;

    if (virq >= NR_VIRQS)
        return;
    spin_lock(&d->event_lock);
    port = d->evtchn ? d->evtchn->virq_port[v->vcpu_id][virq] : 0;
    if (port)
        deliver(d, port);
    spin_unlock(&d->event_lock);
}

void send_guest_global_virq(struct domain *d, unsigned virq)
{
    u32 port;

    if (!d || virq >= NR_VIRQS)
        return;
    spin_lock(&d->event_lock);
    port = d->evtchn ? d->evtchn->virq_port[0][virq] : 0;
    if (port)
        deliver(d, port);
    spin_unlock(&d->event_lock);
}

static void free_port(struct domain *d, u32 port)
{
    struct evtchn *c = port_ptr(d, port);

    *c = (struct evtchn){ .state = ECS_FREE };
    if (d->evtchn_fifo) {
        evtchn_fifo_clear_pending(d, port);
        return;
    }
    test_and_clear((volatile u64 *)&d->shared_info->evtchn_pending[port / BITS_PER_WORD],
                   port % BITS_PER_WORD);
}

/*
 * Closes d's port; takes the locks itself.  An interdomain port needs
 * the peer's lock too: when the peer's id is lower, ours is dropped and
 * both are taken in order, and the port is looked at afresh.
 */
static long evtchn_close(struct domain *d, u32 port)
{
    struct domain *rd;
    struct evtchn *c;

    for (;;) {
        domid_t peer;

        spin_lock(&d->event_lock);
        c = port_ptr(d, port);
        if (!c || c->state == ECS_FREE || c->state == ECS_RESERVED) {
            spin_unlock(&d->event_lock);
            return -XEN_EINVAL;
        }
        rd = c->state == ECS_INTERDOMAIN ? domain_by_id(c->remote_dom) : NULL;
        if (!rd || rd == d) {
            rd = d;
            break;
        }
        if (d->domid < rd->domid) {
            spin_lock_nested(&rd->event_lock, 1);
            break;
        }
        peer = rd->domid;
        spin_unlock(&d->event_lock);
        lock_pair(d, rd);
        c = port_ptr(d, port);
        if (c && c->state == ECS_INTERDOMAIN && c->remote_dom == peer)
            break;
        unlock_pair(d, rd);             /* changed meanwhile: start over */
    }
    switch (c->state) {
    case ECS_VIRQ:
        for (unsigned v = 0; v < MAX_VIRT_CPUS; v++)
            if (d->evtchn->virq_port[v][c->virq] == port)
                d->evtchn->virq_port[v][c->virq] = 0;
        break;
    case ECS_PIRQ:
        pirq_unbind(d, c->virq);       /* the pirq number lives in .virq */
        break;
    case ECS_INTERDOMAIN: {
        struct evtchn *rc = port_ptr(rd, c->remote_port);
        /* The peer stays open, waiting for us to bind again. */
        if (rc && rc->state == ECS_INTERDOMAIN && rc->remote_dom == d->domid) {
            rc->state = ECS_UNBOUND;
            rc->remote_dom = d->domid;
        }
        break;
    }
    default:
        break;
    }
    free_port(d, port);
    unlock_pair(d, rd);
    return 0;
}

static long evtchn_send(struct domain *d, struct vcpu *cur, u32 port)
{
    struct evtchn *c, *rc;
    struct domain *rd;
    domid_t peer;
    u32 rport;

    perfc_inc(evtchn_send);
    spin_lock(&d->event_lock);
    c = port_ptr(d, port);
    if (!c) {
        spin_unlock(&d->event_lock);
        return -XEN_EINVAL;
    }
    switch (c->state) {
    case ECS_INTERDOMAIN:
        peer = c->remote_dom;
        rport = c->remote_port;
        if (peer != d->domid)
            break;
        /* A loopback pair: both ends are under the lock we hold. */
        rc = port_ptr(d, rport);
        if (rc && rc->state == ECS_INTERDOMAIN && rc->remote_dom == peer && rc->remote_port == port)
            deliver(d, rport);
        spin_unlock(&d->event_lock);
        return 0;
    case ECS_IPI:
        deliver(d, port);
        spin_unlock(&d->event_lock);
        return 0;
    case ECS_UNBOUND:
        spin_unlock(&d->event_lock);
        return 0;       /* nobody listening yet: dropped, as the ABI says */
    default:
        spin_unlock(&d->event_lock);
        return -XEN_EINVAL;
    }
    spin_unlock(&d->event_lock);
    perfc_inc(evtchn_send_remote);
    /* The peer's side, under its own lock only: does it still point back here? */
    rd = domain_by_id(peer);
    if (!rd)
        return 0;
    spin_lock(&rd->event_lock);
    rc = port_ptr(rd, rport);
    if (rc && rc->state == ECS_INTERDOMAIN && rc->remote_dom == d->domid && rc->remote_port == port) {
        sched_guest_notify_begin();     /* a vCPU it wakes here may wait for the sender */
        deliver(rd, rport);
        sched_guest_notify_end();
    }
    spin_unlock(&rd->event_lock);
    return 0;
}

/* A new port of d in the given state; 0 or the allocation error. */
static long open_port(struct domain *d, struct evtchn init, u32 *port)
{
    long rc = alloc_port(d, port);

    if (!rc)
        *port_ptr(d, *port) = init;
    return rc;
}

/*
 * Copies a bind result (already holding the new port) back to the guest;
 * if that fails the port is closed again, so nothing half-made stays.
 */
static long hand_back(struct domain *d, u32 port, u64 arg, const void *result, size_t len)
{
    if (copy_to_guest(arg, result, len)) {
        evtchn_close(d, port);
        return -XEN_EFAULT;
    }
    return 0;
}

static struct domain *resolve_dom(domid_t id, struct domain *self)
{
    if (id == DOMID_SELF || id == self->domid)
        return self;
    return self->is_privileged ? domain_by_id(id) : NULL;
}

long do_event_channel_op(int cmd, u64 arg)
{
    struct vcpu *cur = current_vcpu();
    struct domain *d = cur->domain;
    long rc;

    spin_lock(&d->event_lock);
    rc = evtchn_domain_init(d);
    spin_unlock(&d->event_lock);
    if (rc)
        return rc;

    switch (cmd) {
    case EVTCHNOP_alloc_unbound: {
        struct evtchn_alloc_unbound a;
        struct domain *owner;
        u32 port;
        if (copy_from_guest(&a, arg, sizeof(a)))
            return -XEN_EFAULT;
        owner = resolve_dom(a.dom, d);
        if (!owner)
            return a.dom == DOMID_SELF || d->is_privileged ? -XEN_ESRCH : -XEN_EPERM;
        spin_lock(&owner->event_lock);
        if ((rc = evtchn_domain_init(owner)) || (rc = alloc_port(owner, &port))) {
            spin_unlock(&owner->event_lock);
            return rc;
        }
        *port_ptr(owner, port) = (struct evtchn){
            .state = ECS_UNBOUND,
            .remote_dom = a.remote_dom == DOMID_SELF ? d->domid : a.remote_dom,
        };
        spin_unlock(&owner->event_lock);
        a.port = port;
        if (copy_to_guest(arg, &a, sizeof(a))) {
            evtchn_close(owner, port);
            return -XEN_EFAULT;
        }
        return 0;
    }
    case EVTCHNOP_bind_interdomain: {
        struct evtchn_bind_interdomain b;
        struct domain *rd;
        struct evtchn *rc_;
        u32 port;
        if (copy_from_guest(&b, arg, sizeof(b)))
            return -XEN_EFAULT;
        rd = b.remote_dom == DOMID_SELF ? d : domain_by_id(b.remote_dom);
        if (!rd)
            return -XEN_ESRCH;
        lock_pair(d, rd);
        rc_ = port_ptr(rd, b.remote_port);
        if (!rc_ || rc_->state != ECS_UNBOUND || rc_->remote_dom != d->domid) {
            unlock_pair(d, rd);
            return -XEN_EINVAL;
        }
        if ((rc = open_port(d, (struct evtchn){ .state = ECS_INTERDOMAIN, .remote_dom = rd->domid,
                                                  .remote_port = b.remote_port }, &port))) {
            unlock_pair(d, rd);
            return rc;
        }
        rc_ = port_ptr(rd, b.remote_port);     /* alloc may have grown d's table */
        rc_->state = ECS_INTERDOMAIN;
        rc_->remote_dom = d->domid;
        rc_->remote_port = port;
        unlock_pair(d, rd);
        b.local_port = port;
        if ((rc = hand_back(d, port, arg, &b, sizeof(b))))
            return rc;
        /* The ABI raises the new local port at once, so no edge is missed. */
        evtchn_raise(d, port);
        return 0;
    }
    case EVTCHNOP_bind_virq: {
        struct evtchn_bind_virq b;
        u32 port;
        if (copy_from_guest(&b, arg, sizeof(b)))
            return -XEN_EFAULT;
        if (b.virq >= NR_VIRQS || (!virq_is_per_vcpu(b.virq) && b.vcpu != 0))
            return -XEN_EINVAL;
        if (b.vcpu >= d->max_vcpus)
            return -XEN_ENOENT;
        spin_lock(&d->event_lock);
        if (d->evtchn->virq_port[b.vcpu][b.virq])
            rc = -XEN_EEXIST;
        else if (!(rc = open_port(d, (struct evtchn){ .state = ECS_VIRQ, .virq = b.virq,
                                                        .notify_vcpu = (u8)b.vcpu }, &port)))
            d->evtchn->virq_port[b.vcpu][b.virq] = port;
        spin_unlock(&d->event_lock);
        if (rc)
            return rc;
        b.port = port;
        return hand_back(d, port, arg, &b, sizeof(b));
    }
    case EVTCHNOP_bind_ipi: {
        struct evtchn_bind_ipi b;
        u32 port;
        if (copy_from_guest(&b, arg, sizeof(b)))
            return -XEN_EFAULT;
        if (b.vcpu >= d->max_vcpus)
            return -XEN_ENOENT;
        spin_lock(&d->event_lock);
        rc = open_port(d, (struct evtchn){ .state = ECS_IPI, .notify_vcpu = (u8)b.vcpu }, &port);
        spin_unlock(&d->event_lock);
        if (rc)
            return rc;
        b.port = port;
        return hand_back(d, port, arg, &b, sizeof(b));
    }
    case EVTCHNOP_bind_pirq: {
        struct evtchn_bind_pirq b;
        u32 port;
        if (copy_from_guest(&b, arg, sizeof(b)))
            return -XEN_EFAULT;
        spin_lock(&d->event_lock);
        if (!(rc = open_port(d, (struct evtchn){ .state = ECS_PIRQ, .virq = b.pirq }, &port)) &&
            (rc = pirq_bind(d, b.pirq, port)))
            free_port(d, port);
        spin_unlock(&d->event_lock);
        if (rc)
            return rc;
        b.port = port;
        return hand_back(d, port, arg, &b, sizeof(b));
    }
    case EVTCHNOP_close: {
        struct evtchn_close c;
        if (copy_from_guest(&c, arg, sizeof(c)))
            return -XEN_EFAULT;
        return evtchn_close(d, c.port);
    }
    case EVTCHNOP_send: {
        struct evtchn_send s;
        if (copy_from_guest(&s, arg, sizeof(s)))
            return -XEN_EFAULT;
        return evtchn_send(d, cur, s.port);
    }
    case EVTCHNOP_status: {
        struct evtchn_status s;
        struct domain *td;
        struct evtchn *c;
        if (copy_from_guest(&s, arg, sizeof(s)))
            return -XEN_EFAULT;
        td = resolve_dom(s.dom, d);
        if (!td)
            return d->is_privileged ? -XEN_ESRCH : -XEN_EPERM;
        if (s.port >= NR_PORTS)
            return -XEN_EINVAL;
        spin_lock(&td->event_lock);
        c = port_ptr(td, s.port);
        memset(&s.u, 0, sizeof(s.u));
        s.vcpu = c ? c->notify_vcpu : 0;
        switch (c ? c->state : ECS_FREE) {
        case ECS_FREE:
        case ECS_RESERVED: s.status = EVTCHNSTAT_closed; break;
        case ECS_UNBOUND: s.status = EVTCHNSTAT_unbound; s.u.unbound.dom = c->remote_dom; break;
        case ECS_INTERDOMAIN:
            s.status = EVTCHNSTAT_interdomain;
            s.u.interdomain.dom = c->remote_dom;
            s.u.interdomain.port = c->remote_port;
            break;
        case ECS_PIRQ: s.status = EVTCHNSTAT_pirq; s.u.pirq = c->virq; break;
        case ECS_VIRQ: s.status = EVTCHNSTAT_virq; s.u.virq = c->virq; break;
        case ECS_IPI: s.status = EVTCHNSTAT_ipi; break;
        }
        spin_unlock(&td->event_lock);
        return copy_to_guest(arg, &s, sizeof(s)) ? -XEN_EFAULT : 0;
    }
    case EVTCHNOP_bind_vcpu: {
        struct evtchn_bind_vcpu b;
        struct evtchn *c;
        if (copy_from_guest(&b, arg, sizeof(b)))
            return -XEN_EFAULT;
        spin_lock(&d->event_lock);
        c = port_ptr(d, b.port);
        if (!c || c->state == ECS_FREE || c->state == ECS_RESERVED)
            rc = -XEN_EINVAL;
        else if (b.vcpu >= d->max_vcpus)
            rc = -XEN_ENOENT;
        else if (c->state == ECS_IPI || (c->state == ECS_VIRQ && virq_is_per_vcpu(c->virq)))
            rc = -XEN_EINVAL;
        else
            c->notify_vcpu = (u8)b.vcpu;
        spin_unlock(&d->event_lock);
        return rc;
    }
    case EVTCHNOP_unmask: {
        struct evtchn_unmask u;
        struct shared_info *s = d->shared_info;
        struct evtchn *c;
        if (copy_from_guest(&u, arg, sizeof(u)))
            return -XEN_EFAULT;
        spin_lock(&d->event_lock);
        c = port_ptr(d, u.port);
        if (!c || u.port >= NR_PORTS) {
            spin_unlock(&d->event_lock);
            return -XEN_EINVAL;
        }
        if (d->evtchn_fifo) {
            evtchn_fifo_unmask(d, c->notify_vcpu < d->max_vcpus ? d->vcpus[c->notify_vcpu]
                                                                : NULL, u.port);
            spin_unlock(&d->event_lock);
            return 0;
        }
        if (test_and_clear((volatile u64 *)&s->evtchn_mask[u.port / BITS_PER_WORD], u.port % BITS_PER_WORD) &&
            test_bit(&s->evtchn_pending[u.port / BITS_PER_WORD], u.port % BITS_PER_WORD) &&
            c->notify_vcpu < d->max_vcpus)
            mark_upcall(d->vcpus[c->notify_vcpu], u.port);
        spin_unlock(&d->event_lock);
        return 0;
    }
    case EVTCHNOP_reset: {
        struct evtchn_reset r;
        struct domain *td;
        if (copy_from_guest(&r, arg, sizeof(r)))
            return -XEN_EFAULT;
        td = resolve_dom(r.dom, d);
        if (!td)
            return d->is_privileged ? -XEN_ESRCH : -XEN_EPERM;
        if (!READ_ONCE(td->evtchn))
            return 0;
        /* Port by port: evtchn_close() takes the locks (and the peer's) itself. */
        for (u32 p = 1; p < NR_PORTS; p++)
            if (evtchn_port_valid(td, p))
                evtchn_close(td, p);
        /* As on Xen, a reset goes back to the 2-level ABI. */
        spin_lock(&td->event_lock);
        evtchn_fifo_destroy(td);
        spin_unlock(&td->event_lock);
        return 0;
    }
    case EVTCHNOP_init_control: {
        struct evtchn_init_control ic;
        if (copy_from_guest(&ic, arg, sizeof(ic)))
            return -XEN_EFAULT;
        spin_lock(&d->event_lock);
        rc = evtchn_fifo_init_control(d, &ic);
        spin_unlock(&d->event_lock);
        if (!rc && copy_to_guest(arg, &ic, sizeof(ic)))
            rc = -XEN_EFAULT;
        return rc;
    }
    case EVTCHNOP_expand_array: {
        struct evtchn_expand_array ea;
        if (copy_from_guest(&ea, arg, sizeof(ea)))
            return -XEN_EFAULT;
        spin_lock(&d->event_lock);
        rc = evtchn_fifo_expand_array(d, ea.array_gfn);
        spin_unlock(&d->event_lock);
        return rc;
    }
    case EVTCHNOP_set_priority: {
        struct evtchn_set_priority sp;
        if (copy_from_guest(&sp, arg, sizeof(sp)))
            return -XEN_EFAULT;
        /* Xen: any port inside the allocated table, bound or not. */
        spin_lock(&d->event_lock);
        rc = port_ptr(d, sp.port) ? evtchn_fifo_set_priority(d, sp.port, sp.priority)
                                  : -XEN_EINVAL;
        spin_unlock(&d->event_lock);
        return rc;
    }
    default:
        return unknown_op(__HYPERVISOR_event_channel_op, (u32)cmd);
    }
}
