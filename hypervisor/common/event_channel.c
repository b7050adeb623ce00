/*
 * Event channels: ports and bindings, and the 2-level ABI's pending and
 * mask bitmaps; a domain that switched to the FIFO ABI has its pending
 * and mask state handled by event_fifo.c instead.
 *
 * Ports live in buckets of 64, allocated as a domain uses them, so an
 * idle domain costs one small table; 64 bucket pointers make a group
 * (4096 ports), and the table holds one pointer per group: 32 groups
 * cover the FIFO ABI's 2^17 ports.  Buckets are added from port 0 up
 * (allocation takes the lowest free port), only when a port is bound
 * (never on delivery), and are freed with the domain only.  A port below
 * t->nr_ports has its bucket.  The ports a domain may use stop at its
 * createdomain max_evtchn_port and at its ABI's size (4096 for 2-level,
 * 2^17 for FIFO), as on Xen 4.17: past it binding answers -ENOSPC.
 * Port 0 is reserved.  Raising a port follows the ABI's protocol
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
#include <mica/hypercall.h>
#include <mica/lib.h>
#include <mica/nospec.h>
#include <mica/perfc.h>
#include <mica/sched.h>
#include <mica/unknown_op.h>
#include <public/errno.h>
#include <public/event_channel.h>

enum ecs { ECS_FREE, ECS_RESERVED, ECS_UNBOUND, ECS_INTERDOMAIN, ECS_PIRQ, ECS_VIRQ, ECS_IPI };

#define BUCKET_PORTS 64
#define GROUP_BUCKETS 64
#define GROUP_PORTS (BUCKET_PORTS * GROUP_BUCKETS)
#define MAX_PORTS EVTCHN_FIFO_NR_CHANNELS
#define NR_GROUPS (MAX_PORTS / GROUP_PORTS)
#define BITS_PER_WORD 64
/* Ports closed between two preemption checks (teardown, EVTCHNOP_reset). */
#define CLOSE_BATCH 256

struct evtchn {
    u8 state;               /* enum ecs */
    u8 notify_vcpu;
    u16 remote_dom;         /* UNBOUND: who may bind; INTERDOMAIN: peer */
    u32 remote_port;        /* INTERDOMAIN: peer port */
    u32 virq;               /* VIRQ: which; PIRQ: the pirq */
    struct evtchn_fifo_port fifo;   /* event_fifo.c's, kept across close */
};
_Static_assert(sizeof(struct evtchn) == 16, "struct evtchn: 4 per 64-byte line");

/* All guarded by the owning domain's event_lock. */
struct evtchn_table {
    struct evtchn **groups[NR_GROUPS];          /* each GROUP_BUCKETS bucket pointers */
    u32 nr_ports;               /* ports with a bucket: [0, nr_ports) */
    u32 nr_open;                /* ports neither free nor reserved */
    u32 free_hint;              /* every port below it is in use */
    u32 close_next;             /* where teardown / EVTCHNOP_reset goes on */
    u32 virq_port[MAX_VIRT_CPUS][NR_VIRQS];     /* 0: not bound */
};

static bool virq_is_per_vcpu(unsigned virq)
{
    return virq == VIRQ_TIMER || virq == VIRQ_DEBUG || virq == VIRQ_XENOPROF ||
           virq == VIRQ_XENPMU;
}

static int add_bucket(struct domain *d);

/* Called with d->event_lock held. */
int evtchn_domain_init(struct domain *d)
{
    struct evtchn_table *t;

    if (d->evtchn)
        return 0;                   /* another vCPU made it first */
    t = xzalloc(sizeof(*t));

    if (!t)
        return -XEN_ENOMEM;
    d->evtchn = t;
    if (add_bucket(d)) {
        d->evtchn = NULL;
        xfree(t);
        return -XEN_ENOMEM;
    }
    t->groups[0][0][0].state = ECS_RESERVED;
    t->free_hint = 1;
    return 0;
}

static long evtchn_close(struct domain *d, u32 port);

/*
 * Closes d's ports, port 1 up; with preemptible, gives the CPU back
 * every CLOSE_BATCH ports when asked (HYPERCALL_CONTINUE, the place kept
 * in close_next, 0 meaning no pass under way).  0 when a pass reached
 * the end of the table (or the table went: a reset by another domain
 * while d's teardown freed it).  Called without d->event_lock
 * (evtchn_close() takes it, and the peer's).
 */
static long close_all_ports(struct domain *d, bool preemptible)
{
    for (;;) {
        u32 p, end;

        spin_lock(&d->event_lock);
        if (!d->evtchn) {
            spin_unlock(&d->event_lock);
            return 0;
        }
        p = d->evtchn->close_next;
        if (p < 1)
            p = 1;
        end = d->evtchn->nr_ports;
        if (p >= end)
            d->evtchn->close_next = 0;
        spin_unlock(&d->event_lock);
        if (p >= end)
            return 0;
        for (u32 n = 0; p < end && n < CLOSE_BATCH; p++, n++)
            if (evtchn_port_valid(d, p))
                evtchn_close(d, p);
        spin_lock(&d->event_lock);
        if (d->evtchn)
            d->evtchn->close_next = p;
        spin_unlock(&d->event_lock);
        if (p < end && preemptible && hypercall_preempt_check())
            return HYPERCALL_CONTINUE;
    }
}

long evtchn_domain_destroy(struct domain *d, bool preemptible)
{
    struct evtchn_table *t;

    if (!READ_ONCE(d->evtchn))
        return 0;
    /*
     * Closed one by one first, while the table is still there: an
     * interdomain peer goes back to unbound, naming d, as on Xen; left
     * bound, a later domain with d's id would get its notifications.
     * d is dying, so nothing binds new ports meanwhile.
     */
    if (close_all_ports(d, preemptible))
        return HYPERCALL_CONTINUE;
    spin_lock(&d->event_lock);
    if (d->evtchn->nr_open) {
        /*
         * A pass that started late (a reset preempted and never
         * continued left close_next behind): once more from port 1.
         */
        spin_unlock(&d->event_lock);
        if (close_all_ports(d, preemptible))
            return HYPERCALL_CONTINUE;
        spin_lock(&d->event_lock);
    }
    evtchn_fifo_destroy(d);
    t = d->evtchn;
    d->evtchn = NULL;
    spin_unlock(&d->event_lock);
    for (unsigned g = 0; g < NR_GROUPS; g++) {
        if (!t->groups[g])
            continue;
        for (unsigned b = 0; b < GROUP_BUCKETS; b++)
            xfree(t->groups[g][b]);
        xfree(t->groups[g]);
    }
    xfree(t);
    return 0;
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
    struct evtchn_table *t = d->evtchn;

    if (!t || port >= t->nr_ports)
        return NULL;
    port = array_index_nospec(port, t->nr_ports);
    return &t->groups[port / GROUP_PORTS][port / BUCKET_PORTS % GROUP_BUCKETS][port % BUCKET_PORTS];
}

struct evtchn_fifo_port *evtchn_fifo_port(struct domain *d, u32 port)
{
    struct evtchn *c = port_ptr(d, port);
    return c ? &c->fifo : NULL;
}

u32 evtchn_table_ports(struct domain *d)
{
    return d->evtchn ? d->evtchn->nr_ports : 0;
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

/*
 * The number of ports d may use now: its ABI's (2-level 4096, FIFO 2^17)
 * capped by createdomain's max_evtchn_port, as Xen 4.17.
 */
static u32 port_limit(struct domain *d)
{
    u32 abi = d->evtchn_fifo ? EVTCHN_FIFO_NR_CHANNELS : EVTCHN_2L_NR_CHANNELS;

    return d->max_evtchn_port < abi - 1 ? d->max_evtchn_port + 1 : abi;
}

/* One more bucket at the end of d's table (and its group if new).  event_lock held. */
static int add_bucket(struct domain *d)
{
    struct evtchn_table *t = d->evtchn;
    u32 port = t->nr_ports;
    struct evtchn ***group = &t->groups[port / GROUP_PORTS];
    struct evtchn *b;
    bool new_group = false;

    if (port >= MAX_PORTS)
        return -XEN_ENOSPC;
    if (!*group) {
        *group = xzalloc(sizeof(struct evtchn *) * GROUP_BUCKETS);
        if (!*group)
            return -XEN_ENOMEM;
        new_group = true;
    }
    b = xzalloc(sizeof(struct evtchn) * BUCKET_PORTS);
    if (!b) {
        if (new_group) {
            xfree(*group);
            *group = NULL;
        }
        return -XEN_ENOMEM;
    }
    for (u32 i = 0; i < BUCKET_PORTS; i++)
        b[i].fifo.priority = EVTCHN_FIFO_PRIORITY_DEFAULT;
    (*group)[port / BUCKET_PORTS % GROUP_BUCKETS] = b;
    t->nr_ports = port + BUCKET_PORTS;
    return 0;
}

/* The lowest free port below d's limit, its bucket added if need be.  event_lock held. */
static int alloc_port(struct domain *d, u32 *out)
{
    struct evtchn_table *t = d->evtchn;
    u32 limit = port_limit(d);

    for (u32 port = t->free_hint; port < limit; port++) {
        struct evtchn *c;
        int rc;

        if (port >= t->nr_ports && (rc = add_bucket(d)))
            return rc;
        c = port_ptr(d, port);
        if (c->state != ECS_FREE) {
            t->free_hint = port + 1;
            continue;
        }
        c->fifo.priority = EVTCHN_FIFO_PRIORITY_DEFAULT;
        t->free_hint = port + 1;
        t->nr_open++;
        *out = port;
        return 0;
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

    if (!c || c->state == ECS_FREE || c->state == ECS_RESERVED)
        return NULL;
    return domain_vcpu(d, c->notify_vcpu);
}

/* Called with d->event_lock held. */
static void deliver(struct domain *d, u32 port)
{
    struct shared_info *s = d->shared_info;
    struct evtchn *c = port_ptr(d, port);
    struct vcpu *v;

    if (!c || !(v = domain_vcpu(d, c->notify_vcpu)))
        return;
    if (d->evtchn_fifo) {
        if (evtchn_fifo_set_pending(d, v, port))
            return;
    } else {
        if (port >= EVTCHN_2L_NR_CHANNELS)
            return;             /* no bit for it in 2-level */
        port = array_index_nospec(port, EVTCHN_2L_NR_CHANNELS);
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
        return port < MAX_PORTS && evtchn_fifo_is_pending(d, port);
    if (port >= EVTCHN_2L_NR_CHANNELS)
        return false;
    port = array_index_nospec(port, EVTCHN_2L_NR_CHANNELS);
    return test_bit(&d->shared_info->evtchn_pending[port / BITS_PER_WORD], port % BITS_PER_WORD);
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
    virq = array_index_nospec(virq, NR_VIRQS);
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
    virq = array_index_nospec(virq, NR_VIRQS);
    spin_lock(&d->event_lock);
    port = d->evtchn ? d->evtchn->virq_port[0][virq] : 0;
    if (port)
        deliver(d, port);
    spin_unlock(&d->event_lock);
}

static void free_port(struct domain *d, u32 port)
{
    struct evtchn *c = port_ptr(d, port);

    /* The FIFO state stays: the port may still be a queue's tail. */
    *c = (struct evtchn){ .state = ECS_FREE, .fifo = c->fifo };
    d->evtchn->nr_open--;
    if (port < d->evtchn->free_hint)
        d->evtchn->free_hint = port;
    if (d->evtchn_fifo) {
        evtchn_fifo_clear_pending(d, port);
        return;
    }
    if (port >= EVTCHN_2L_NR_CHANNELS)
        return;
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

static long evtchn_send(struct domain *d, u32 port)
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

/* Gives a newly allocated port its binding; its FIFO state stays. */
static void set_binding(struct evtchn *c, struct evtchn init)
{
    init.fifo = c->fifo;
    *c = init;
}

/* A new port of d in the given state; 0 or the allocation error. */
static long open_port(struct domain *d, struct evtchn init, u32 *port)
{
    long rc = alloc_port(d, port);

    if (!rc)
        set_binding(port_ptr(d, *port), init);
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
    return is_control_domain(self) ? domain_by_id(id) : NULL;
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
        set_binding(port_ptr(owner, port), (struct evtchn){
            .state = ECS_UNBOUND,
            .remote_dom = a.remote_dom == DOMID_SELF ? d->domid : a.remote_dom,
        });
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
        b.virq = array_index_nospec(b.virq, NR_VIRQS);
        b.vcpu = array_index_nospec(b.vcpu, d->max_vcpus);
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
        return evtchn_send(d, s.port);
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
        spin_lock(&td->event_lock);
        c = port_ptr(td, s.port);
        if (!c) {
            /* As Xen 4.17: a port past the buckets set up so far is refused. */
            spin_unlock(&td->event_lock);
            return -XEN_EINVAL;
        }
        memset(&s.u, 0, sizeof(s.u));
        s.vcpu = c->notify_vcpu;
        switch (c->state) {
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
        if (!c) {
            spin_unlock(&d->event_lock);
            return -XEN_EINVAL;
        }
        struct vcpu *nv = domain_vcpu(d, c->notify_vcpu);
        if (d->evtchn_fifo) {
            evtchn_fifo_unmask(d, nv, u.port);
            spin_unlock(&d->event_lock);
            return 0;
        }
        /* port_ptr() accepted it: below nr_ports, clamped to 2-level's range too. */
        u32 p = array_index_nospec(u.port, EVTCHN_2L_NR_CHANNELS);
        if (u.port < EVTCHN_2L_NR_CHANNELS &&
            test_and_clear((volatile u64 *)&s->evtchn_mask[p / BITS_PER_WORD], p % BITS_PER_WORD) &&
            test_bit(&s->evtchn_pending[p / BITS_PER_WORD], p % BITS_PER_WORD) && nv)
            mark_upcall(nv, p);
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
        /*
         * Port by port (evtchn_close() takes the locks, and the peer's,
         * itself), giving the CPU back between batches: the continuation
         * is the same call, which goes on from close_next.
         */
        if (close_all_ports(td, true)) {
            hypercall_continue_unchanged();
            return HYPERCALL_CONTINUE;
        }
        spin_lock(&td->event_lock);
        if (!td->evtchn) {
            rc = 0;             /* td died meanwhile: its teardown closed everything */
        } else if (td->evtchn->nr_open) {
            rc = -XEN_EAGAIN;   /* a port bound meanwhile (Xen 4.17 too) */
        } else {
            /* As on Xen, a reset goes back to the 2-level ABI. */
            evtchn_fifo_destroy(td);
            rc = 0;
        }
        spin_unlock(&td->event_lock);
        return rc;
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
