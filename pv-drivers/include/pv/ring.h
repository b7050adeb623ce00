/*
 * Shared request/response rings of the Xen PV split-driver protocols
 * (blkif, netif), in Mica's own terms.
 *
 * ABI facts (Xen 4.17 public/io/ring.h): a ring is one or more shared
 * pages that start with four 32-bit free-running indices and 48 bytes the
 * protocols leave alone, followed by an array of slots, each a union of
 * the protocol's request and response.  The number of slots is the
 * largest power of two that fits.  The front end produces requests
 * (req_prod) and consumes responses; the back end the other way round.
 * Indices only grow and wrap at 2^32; slot = index & (slots - 1).  The
 * *_event fields say "notify me when the producer passes this index", so
 * a producer sends an event only when its push crossed the peer's mark.
 *
 * The shared page is written by the other side at any time, so every read
 * of a peer-owned index goes through a volatile access and is checked
 * before use: a back end must never trust req_prod to be within one ring
 * of what it has answered (pv_back_ring_requests_pending clamps it), and
 * a front end must not trust rsp_prod beyond what it asked for.
 *
 * Used by Mica's test front ends (freestanding) and by host code, so only
 * <stdint.h>, <stddef.h> and compiler builtins.
 */
#ifndef MICA_PV_RING_H
#define MICA_PV_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <public/xen.h>          /* XEN_ABI_SIZE / XEN_ABI_OFFSET */

#if !defined(__x86_64__)
#error "pv/ring.h: barriers are written for x86-64 (Mica's only architecture)"
#endif

typedef uint32_t pv_ring_idx_t;

/* x86-64 keeps stores in order and loads in order, so the producer's
 * "slots before index" and the consumer's "index before slots" only need
 * the compiler held back; a store followed by a load of another location
 * (publish index, then read the peer's event mark) needs a real fence. */
#define pv_wmb()  __asm__ volatile("" ::: "memory")
#define pv_rmb()  __asm__ volatile("" ::: "memory")
#define pv_mb()   __asm__ volatile("lock addl $0, -8(%%rsp)" ::: "memory", "cc")

/* The first 64 bytes of every shared ring page. */
struct pv_sring_hdr {
    pv_ring_idx_t req_prod;      /* written by the front end */
    pv_ring_idx_t req_event;     /* front end: back end wants an event when req_prod passes this */
    pv_ring_idx_t rsp_prod;      /* written by the back end */
    pv_ring_idx_t rsp_event;     /* back end: front end wants an event when rsp_prod passes this */
    uint8_t unused[48];          /* protocol-private in Xen's history; kept zero */
};
MICA_ABI_SIZE(struct pv_sring_hdr, 64);
MICA_ABI_OFFSET(struct pv_sring_hdr, req_prod, 0);
MICA_ABI_OFFSET(struct pv_sring_hdr, req_event, 4);
MICA_ABI_OFFSET(struct pv_sring_hdr, rsp_prod, 8);
MICA_ABI_OFFSET(struct pv_sring_hdr, rsp_event, 12);
MICA_ABI_OFFSET(struct pv_sring_hdr, unused, 16);

/* The same as a constant expression, for rings whose size is known at
 * compile time (up to 65536 slots). */
#define PV_POW2_FLOOR_(n, b) (n) >= (1u << (b)) ? (1u << (b)) :
#define PV_RING_SLOTS(ring_bytes, entry_size)                                  \
    PV_RING_SLOTS_N_(((ring_bytes) - sizeof(struct pv_sring_hdr)) / (entry_size))
#define PV_RING_SLOTS_N_(n)                                                    \
    (PV_POW2_FLOOR_(n, 16) PV_POW2_FLOOR_(n, 15) PV_POW2_FLOOR_(n, 14)         \
     PV_POW2_FLOOR_(n, 13) PV_POW2_FLOOR_(n, 12) PV_POW2_FLOOR_(n, 11)         \
     PV_POW2_FLOOR_(n, 10) PV_POW2_FLOOR_(n, 9) PV_POW2_FLOOR_(n, 8)           \
     PV_POW2_FLOOR_(n, 7) PV_POW2_FLOOR_(n, 6) PV_POW2_FLOOR_(n, 5)            \
     PV_POW2_FLOOR_(n, 4) PV_POW2_FLOOR_(n, 3) PV_POW2_FLOOR_(n, 2)            \
     PV_POW2_FLOOR_(n, 1) PV_POW2_FLOOR_(n, 0) 0u)

/* Slots in a ring of ring_bytes (header included) with entry_size slots:
 * the largest power of two that fits, 0 if not even one does. */
static inline unsigned pv_ring_slots(size_t ring_bytes, size_t entry_size)
{
    size_t n;

    if (ring_bytes <= sizeof(struct pv_sring_hdr) || entry_size == 0)
        return 0;
    n = (ring_bytes - sizeof(struct pv_sring_hdr)) / entry_size;
    if (n == 0)
        return 0;
    while (n & (n - 1))
        n &= n - 1;            /* clear low bits until one is left */
    return (unsigned)n;
}

static inline pv_ring_idx_t pv_ring_read_idx(const pv_ring_idx_t *p)
{
    return *(const volatile pv_ring_idx_t *)p;
}

static inline void pv_ring_write_idx(pv_ring_idx_t *p, pv_ring_idx_t v)
{
    *(volatile pv_ring_idx_t *)p = v;
}

/* A fresh shared ring: nothing produced, each side wants an event for the
 * first item (index 1). */
static inline void pv_sring_init(struct pv_sring_hdr *s)
{
    pv_ring_write_idx(&s->req_prod, 0);
    pv_ring_write_idx(&s->rsp_prod, 0);
    pv_ring_write_idx(&s->req_event, 1);
    pv_ring_write_idx(&s->rsp_event, 1);
    for (unsigned i = 0; i < sizeof(s->unused); i++)
        s->unused[i] = 0;
}

/* True when moving a producer index from old_prod to new_prod passed the
 * peer's event mark (all arithmetic modulo 2^32). */
static inline bool pv_ring_crossed(pv_ring_idx_t old_prod, pv_ring_idx_t new_prod,
                                   pv_ring_idx_t event)
{
    return (pv_ring_idx_t)(new_prod - event) < (pv_ring_idx_t)(new_prod - old_prod);
}

/* ---- Front end's private view -------------------------------------- */

struct pv_front_ring {
    struct pv_sring_hdr *sring;
    unsigned slots;
    pv_ring_idx_t req_prod_pvt;  /* requests written, not yet all published */
    pv_ring_idx_t rsp_cons;      /* responses consumed */
};
MICA_ABI_SIZE(struct pv_front_ring, 24);
MICA_ABI_OFFSET(struct pv_front_ring, sring, 0);
MICA_ABI_OFFSET(struct pv_front_ring, slots, 8);
MICA_ABI_OFFSET(struct pv_front_ring, req_prod_pvt, 12);
MICA_ABI_OFFSET(struct pv_front_ring, rsp_cons, 16);

static inline void pv_front_ring_init(struct pv_front_ring *r, struct pv_sring_hdr *s,
                                      unsigned slots)
{
    r->sring = s;
    r->slots = slots;
    r->req_prod_pvt = 0;
    r->rsp_cons = 0;
}

static inline unsigned pv_ring_slot(unsigned slots, pv_ring_idx_t idx)
{
    return idx & (slots - 1);
}

/* Slots the front end may still fill before a response frees one. */
static inline unsigned pv_front_ring_free(const struct pv_front_ring *r)
{
    return r->slots - (r->req_prod_pvt - r->rsp_cons);
}

/* Publishes the requests written so far; true if the back end asked to be
 * notified of them. */
static inline bool pv_front_ring_push(struct pv_front_ring *r)
{
    pv_ring_idx_t old = pv_ring_read_idx(&r->sring->req_prod);
    pv_ring_idx_t new = r->req_prod_pvt;

    pv_wmb();                    /* slots visible before the index */
    pv_ring_write_idx(&r->sring->req_prod, new);
    pv_mb();                     /* index visible before reading the mark */
    return pv_ring_crossed(old, new, pv_ring_read_idx(&r->sring->req_event));
}

/* Responses published and not yet consumed.  A back end that publishes
 * more than we have outstanding is broken; the count is clamped to what
 * we asked for so a hostile back end cannot walk us off our own state. */
static inline unsigned pv_front_ring_responses(const struct pv_front_ring *r)
{
    pv_ring_idx_t avail = pv_ring_read_idx(&r->sring->rsp_prod) - r->rsp_cons;
    pv_ring_idx_t asked = r->req_prod_pvt - r->rsp_cons;

    pv_rmb();                    /* index read before the slots */
    return avail < asked ? avail : asked;
}

/* Before sleeping: ask for an event at the next response, then look again
 * so a response that raced with the request is not missed.  True if
 * responses are waiting. */
static inline bool pv_front_ring_arm(struct pv_front_ring *r)
{
    if (pv_front_ring_responses(r))
        return true;
    pv_ring_write_idx(&r->sring->rsp_event, r->rsp_cons + 1);
    pv_mb();
    return pv_front_ring_responses(r) != 0;
}

/* ---- Back end's private view --------------------------------------- */

struct pv_back_ring {
    struct pv_sring_hdr *sring;
    unsigned slots;
    pv_ring_idx_t rsp_prod_pvt;  /* responses written, not yet all published */
    pv_ring_idx_t req_cons;      /* requests consumed */
};
MICA_ABI_SIZE(struct pv_back_ring, 24);
MICA_ABI_OFFSET(struct pv_back_ring, sring, 0);
MICA_ABI_OFFSET(struct pv_back_ring, slots, 8);
MICA_ABI_OFFSET(struct pv_back_ring, rsp_prod_pvt, 12);
MICA_ABI_OFFSET(struct pv_back_ring, req_cons, 16);

static inline void pv_back_ring_init(struct pv_back_ring *r, struct pv_sring_hdr *s,
                                     unsigned slots)
{
    r->sring = s;
    r->slots = slots;
    r->rsp_prod_pvt = 0;
    r->req_cons = 0;
}

/* True if the front end's req_prod claims more outstanding requests than
 * the ring holds: the front end is broken or hostile. */
static inline bool pv_back_ring_overflowed(const struct pv_back_ring *r)
{
    pv_ring_idx_t prod = pv_ring_read_idx(&r->sring->req_prod);

    return (pv_ring_idx_t)(prod - r->rsp_prod_pvt) > r->slots;
}

/* Requests the back end may consume now: what was published, but never
 * more than the free response space, so a bogus req_prod cannot make it
 * read slots it has not answered. */
static inline unsigned pv_back_ring_requests_pending(const struct pv_back_ring *r)
{
    pv_ring_idx_t published = pv_ring_read_idx(&r->sring->req_prod) - r->req_cons;
    pv_ring_idx_t room = r->slots - (r->req_cons - r->rsp_prod_pvt);

    pv_rmb();
    return published < room ? published : room;
}

/* Publishes the responses written so far; true if the front end asked to
 * be notified. */
static inline bool pv_back_ring_push(struct pv_back_ring *r)
{
    pv_ring_idx_t old = pv_ring_read_idx(&r->sring->rsp_prod);
    pv_ring_idx_t new = r->rsp_prod_pvt;

    pv_wmb();
    pv_ring_write_idx(&r->sring->rsp_prod, new);
    pv_mb();
    return pv_ring_crossed(old, new, pv_ring_read_idx(&r->sring->rsp_event));
}

#endif
