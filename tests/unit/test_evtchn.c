/*
 * Tests of the event channel port table and FIFO state (docs/pv-domains.md,
 * "FIFO event channels"): ports in buckets added on demand, the limits
 * (2-level 4096, FIFO 2^17, createdomain's max_evtchn_port), FIFO per-port
 * state kept in the buckets (priorities and queues past 4096), the close
 * loops of EVTCHNOP_reset and of teardown giving the CPU back, and every
 * bucket freed with the domain (LeakSanitizer checks that).
 *
 * event_channel.c is included below rather than named here, so that the
 * test's current_vcpu() replaces the one that reads the CPU's stack.
 * unit-sources: hypervisor/common/event_fifo.c tests/unit/log_capture.c
 * unit-includes: hypervisor/common/event_channel.c
 */
#define UNIT_SUITE "evtchn"
#include "unit.h"

#include <stdint.h>
#include <stdlib.h>

/* The hypercall's vCPU, in place of asm/current.h's (which reads the CPU's stack). */
#include <asm/current.h>
static struct vcpu *test_current;
static inline struct vcpu *test_current_vcpu(void) { return test_current; }
#define current_vcpu test_current_vcpu

#include "../../hypervisor/common/event_channel.c"

#include <asm/paging.h>

/* ---- what event_channel.c and event_fifo.c call, for one host thread ---- */

int copy_from_guest(void *dst, u64 guest_va, size_t len)
{
    memcpy(dst, (const void *)(uintptr_t)guest_va, len);
    return 0;
}

int copy_to_guest(u64 guest_va, const void *src, size_t len)
{
    memcpy((void *)(uintptr_t)guest_va, src, len);
    return 0;
}

#define NR_TEST_DOMS 8
static struct domain *doms[NR_TEST_DOMS];

struct domain *domain_by_id(domid_t id)
{
    for (unsigned i = 0; i < NR_TEST_DOMS; i++)
        if (doms[i] && doms[i]->domid == id && !doms[i]->is_dying)
            return doms[i];
    return NULL;
}

static int writable_refs;
long domain_writable_frame(struct domain *d, u64 mfn)
{
    (void)d;
    (void)mfn;
    writable_refs++;
    return 0;
}
void domain_put_writable_frame(struct domain *d, u64 mfn)
{
    (void)d;
    (void)mfn;
    writable_refs--;
}

long pirq_bind(struct domain *d, u32 pirq, u32 port)
{
    (void)d; (void)pirq; (void)port;
    return -XEN_EINVAL;
}
void pirq_unbind(struct domain *d, u32 pirq) { (void)d; (void)pirq; }
void sched_guest_notify_begin(void) {}
void sched_guest_notify_end(void) {}
static int wakes;
void vcpu_wake(struct vcpu *v) { (void)v; wakes++; }
long unknown_op(u64 nr, u32 sub) { (void)nr; (void)sub; return -XEN_ENOSYS; }
void *xzalloc(size_t size) { return calloc(1, size); }
void xfree(void *p) { free(p); }

/* Preemption: "yes" every preempt_every-th question (0: never). */
static unsigned preempt_every, preempt_asked, continued;
bool hypercall_preempt_check(void)
{
    return preempt_every && ++preempt_asked % preempt_every == 0;
}
void hypercall_continue_unchanged(void) { continued++; }

/* ---- a domain with one vCPU and its shared_info ---- */

static struct shared_info *new_shared(void)
{
    struct shared_info *s = aligned_alloc(4096, 4096);
    memset(s, 0, 4096);
    return s;
}

static struct domain *new_domain(domid_t id, u32 max_evtchn_port)
{
    struct domain *d = calloc(1, sizeof(*d));
    struct vcpu *v = calloc(1, sizeof(*v));

    d->domid = id;
    d->max_vcpus = 1;
    d->max_evtchn_port = max_evtchn_port;
    d->shared_info = new_shared();
    d->vcpus[0] = v;
    v->domain = d;
    v->vcpu_info = &d->shared_info->vcpu_info[0];
    for (unsigned i = 0; i < NR_TEST_DOMS; i++)
        if (!doms[i]) {
            doms[i] = d;
            break;
        }
    return d;
}

static void free_domain(struct domain *d)
{
    d->is_dying = true;
    while (evtchn_domain_destroy(d, true))
        ;
    for (unsigned i = 0; i < NR_TEST_DOMS; i++)
        if (doms[i] == d)
            doms[i] = NULL;
    free(d->shared_info);
    free(d->vcpus[0]);
    free(d);
}

/* The frame number whose direct-map address is p (see maddr_to_virt()). */
static u64 gfn_of(void *p)
{
    return ((u64)(uintptr_t)p - DIRECTMAP_VIRT_START) >> PAGE_SHIFT;
}

static long op(struct domain *d, int cmd, void *arg)
{
    test_current = d->vcpus[0];
    return do_event_channel_op(cmd, (u64)(uintptr_t)arg);
}

static long bind_ipi(struct domain *d, u32 *port)
{
    struct evtchn_bind_ipi b = { .vcpu = 0 };
    long rc = op(d, EVTCHNOP_bind_ipi, &b);
    *port = b.port;
    return rc;
}

static long send(struct domain *d, u32 port)
{
    struct evtchn_send s = { .port = port };
    return op(d, EVTCHNOP_send, &s);
}

static long close_port(struct domain *d, u32 port)
{
    struct evtchn_close c = { .port = port };
    return op(d, EVTCHNOP_close, &c);
}

static long reset(struct domain *d)
{
    struct evtchn_reset r = { .dom = DOMID_SELF };
    return op(d, EVTCHNOP_reset, &r);
}

/* Binds IPIs until one fails; returns the last port bound, *rc the failure. */
static u32 fill(struct domain *d, long *rc)
{
    u32 p, last = 0;

    while (!(*rc = bind_ipi(d, &p))) {
        CHECK(p > last);
        last = p;
    }
    return last;
}

UNIT_TEST(two_level_stops_at_4096)
{
    struct domain *d = new_domain(1, ~0u);
    long rc;

    CHECK_EQ(fill(d, &rc), EVTCHN_2L_NR_CHANNELS - 1);
    CHECK_EQ(rc, -XEN_ENOSPC);
    CHECK_EQ(d->evtchn->nr_ports, EVTCHN_2L_NR_CHANNELS);
    CHECK_EQ(d->evtchn->nr_open, EVTCHN_2L_NR_CHANNELS - 1);
    /* A port closed in the middle is the next one bound. */
    CHECK_EQ(close_port(d, 1000), 0);
    u32 p;
    CHECK_EQ(bind_ipi(d, &p), 0);
    CHECK_EQ(p, 1000);
    CHECK_EQ(bind_ipi(d, &p), -XEN_ENOSPC);
    /* No bucket past the limit: those ports are refused (Xen: not valid). */
    struct evtchn_status st = { .dom = DOMID_SELF, .port = 4095 };
    CHECK_EQ(op(d, EVTCHNOP_status, &st), 0);
    CHECK_EQ(st.status, EVTCHNSTAT_ipi);
    st.port = 4096;
    CHECK_EQ(op(d, EVTCHNOP_status, &st), -XEN_EINVAL);
    st.port = EVTCHN_FIFO_NR_CHANNELS;
    CHECK_EQ(op(d, EVTCHNOP_status, &st), -XEN_EINVAL);
    CHECK_EQ(send(d, 4096), -XEN_EINVAL);
    struct evtchn_unmask um = { .port = 4096 };
    CHECK_EQ(op(d, EVTCHNOP_unmask, &um), -XEN_EINVAL);
    CHECK_EQ(reset(d), 0);
    CHECK_EQ(d->evtchn->nr_open, 0);
    free_domain(d);
}

UNIT_TEST(max_evtchn_port_caps_the_table)
{
    struct domain *d = new_domain(2, 100);
    long rc;

    CHECK_EQ(fill(d, &rc), 100);
    CHECK_EQ(rc, -XEN_ENOSPC);
    CHECK_EQ(d->evtchn->nr_ports, 128);         /* two buckets, no more */
    free_domain(d);

    d = new_domain(3, 0);                       /* port 0 only: reserved */
    u32 p;
    CHECK_EQ(bind_ipi(d, &p), -XEN_ENOSPC);
    free_domain(d);
}

static u8 cb_page[4096] __attribute__((aligned(4096)));
static u32 event_array[EVTCHN_FIFO_NR_CHANNELS / 1024][1024] __attribute__((aligned(4096)));

static long fifo_on(struct domain *d, unsigned pages)
{
    struct evtchn_init_control ic = { .control_gfn = gfn_of(cb_page), .offset = 0, .vcpu = 0 };
    long rc = op(d, EVTCHNOP_init_control, &ic);

    for (unsigned i = 0; !rc && i < pages; i++) {
        struct evtchn_expand_array ea = { .array_gfn = gfn_of(event_array[i]) };
        rc = op(d, EVTCHNOP_expand_array, &ea);
    }
    return rc;
}

#define W(port) __atomic_load_n(&event_array[(port) / 1024][(port) % 1024], __ATOMIC_SEQ_CST)
#define PENDING (1u << EVTCHN_FIFO_PENDING)
#define LINKED  (1u << EVTCHN_FIFO_LINKED)

UNIT_TEST(fifo_goes_to_2_17)
{
    struct domain *d = new_domain(4, ~0u);
    struct evtchn_fifo_control_block *cb = (void *)cb_page;
    long rc;
    u32 p;

    memset(cb_page, 0, sizeof(cb_page));
    memset(event_array, 0, sizeof(event_array));
    CHECK_EQ(bind_ipi(d, &p), 0);
    CHECK_EQ(send(d, p), 0);                    /* pending under 2-level, carried over */
    CHECK_EQ(fifo_on(d, 0), 0);
    {
        struct evtchn_expand_array ea = { .array_gfn = gfn_of(event_array[0]) };
        CHECK_EQ(op(d, EVTCHNOP_expand_array, &ea), 0);
    }
    CHECK_EQ(W(p), PENDING | LINKED);
    CHECK_EQ(cb->head[EVTCHN_FIFO_PRIORITY_DEFAULT], p);

    /* Every port up to 2^17 - 1; the table grew bucket by bucket. */
    CHECK_EQ(fill(d, &rc), EVTCHN_FIFO_NR_CHANNELS - 1);
    CHECK_EQ(rc, -XEN_ENOSPC);
    CHECK_EQ(d->evtchn->nr_ports, EVTCHN_FIFO_NR_CHANNELS);

    /* Priorities and queues past 4096, with words in the first pages only. */
    struct evtchn_set_priority sp = { .port = 5000, .priority = 2 };
    CHECK_EQ(op(d, EVTCHNOP_set_priority, &sp), 0);
    sp.port = EVTCHN_FIFO_NR_CHANNELS;
    CHECK_EQ(op(d, EVTCHNOP_set_priority, &sp), -XEN_EINVAL);
    CHECK_EQ(send(d, 5000), 0);                 /* no word yet: remembered */
    CHECK_EQ(send(d, 5001), 0);
    CHECK_EQ(send(d, 131071), 0);
    for (unsigned i = 1; i < EVTCHN_FIFO_NR_CHANNELS / 1024; i++) {
        struct evtchn_expand_array ea = { .array_gfn = gfn_of(event_array[i]) };
        CHECK_EQ(op(d, EVTCHNOP_expand_array, &ea), 0);
    }
    {
        struct evtchn_expand_array ea = { .array_gfn = gfn_of(event_array[0]) };
        CHECK_EQ(op(d, EVTCHNOP_expand_array, &ea), -XEN_ENOSPC);
    }
    CHECK_EQ(W(5000), PENDING | LINKED);
    CHECK_EQ(cb->head[2], 5000);
    CHECK_EQ(W(5001), PENDING | LINKED | 131071);       /* 131071 after 5001 */
    CHECK_EQ(W(131071), PENDING | LINKED);
    CHECK_EQ(W(p) & EVTCHN_FIFO_LINK_MASK, 5001);       /* 5001 after p */
    CHECK(evtchn_port_pending(d, 131071));
    CHECK_EQ(close_port(d, 131071), 0);
    CHECK_EQ(W(131071), LINKED);
    CHECK(!evtchn_port_pending(d, 131071));

    /* Reset gives the CPU back part-way; continued, it closes everything. */
    preempt_every = 3;
    preempt_asked = continued = 0;
    while ((rc = reset(d)) == HYPERCALL_CONTINUE)
        ;
    preempt_every = 0;
    CHECK_EQ(rc, 0);
    CHECK(continued > 10);
    CHECK_EQ(d->evtchn->nr_open, 0);
    CHECK(!d->evtchn_fifo);
    CHECK_EQ(writable_refs, 0);                 /* pages let go */

    /* Back in 2-level: the big table stays, but ports stop at 4096 again. */
    CHECK_EQ(fill(d, &rc), EVTCHN_2L_NR_CHANNELS - 1);
    CHECK_EQ(rc, -XEN_ENOSPC);
    CHECK_EQ(send(d, 5000), -XEN_EINVAL);
    free_domain(d);
}

UNIT_TEST(reset_refuses_when_a_port_comes_back)
{
    struct domain *d = new_domain(5, ~0u);
    long rc;
    u32 p;

    CHECK_EQ(fill(d, &rc), EVTCHN_2L_NR_CHANNELS - 1);
    /* Preempted once, then a port is bound below the cursor: -EAGAIN at the end. */
    preempt_every = 1;
    preempt_asked = continued = 0;
    CHECK_EQ(reset(d), HYPERCALL_CONTINUE);
    preempt_every = 0;
    CHECK_EQ(bind_ipi(d, &p), 0);
    CHECK_EQ(p, 1);
    CHECK_EQ(reset(d), -XEN_EAGAIN);
    CHECK_EQ(reset(d), 0);                      /* a fresh pass from port 1 */
    CHECK_EQ(d->evtchn->nr_open, 0);
    free_domain(d);
}

UNIT_TEST(teardown_preemptible_and_peers_unbound)
{
    struct domain *d = new_domain(6, ~0u), *peer = new_domain(7, ~0u);
    struct evtchn_alloc_unbound a = { .dom = DOMID_SELF, .remote_dom = 6 };
    struct evtchn_status st = { .dom = DOMID_SELF };
    long rc;
    unsigned rounds = 0;

    /* peer's port, bound by d: d's end past 4096 once d is FIFO. */
    CHECK_EQ(op(peer, EVTCHNOP_alloc_unbound, &a), 0);
    memset(cb_page, 0, sizeof(cb_page));
    memset(event_array, 0, sizeof(event_array));
    CHECK_EQ(fifo_on(d, 8), 0);
    while (d->evtchn->free_hint < 6000)
        CHECK_EQ(bind_ipi(d, &st.port), 0);
    struct evtchn_bind_interdomain bi = { .remote_dom = 7, .remote_port = a.port };
    CHECK_EQ(op(d, EVTCHNOP_bind_interdomain, &bi), 0);
    CHECK_EQ(bi.local_port, 6000);
    CHECK_EQ(send(peer, a.port), 0);
    CHECK_EQ(W(6000), PENDING | LINKED);

    /* Teardown in pieces; peer's end goes back to unbound, naming d. */
    d->is_dying = true;
    preempt_every = 2;
    preempt_asked = 0;
    while ((rc = evtchn_domain_destroy(d, true)) == HYPERCALL_CONTINUE)
        rounds++;
    preempt_every = 0;
    CHECK_EQ(rc, 0);
    CHECK(rounds > 5);
    CHECK(!d->evtchn);
    CHECK_EQ(writable_refs, 0);
    st.port = a.port;
    CHECK_EQ(op(peer, EVTCHNOP_status, &st), 0);
    CHECK_EQ(st.status, EVTCHNSTAT_unbound);
    CHECK_EQ(st.u.unbound.dom, 6);
    free_domain(d);
    free_domain(peer);
}

UNIT_MAIN()
