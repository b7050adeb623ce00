/*
 * The daemon's half of a PV console page (Xen PV ABI io/console.h):
 * the guest writes its output into out[] and advances out_prod; we copy
 * it out and advance out_cons.  Keyboard input goes the other way through
 * in[] (we produce, the guest consumes).  The indexes are free-running
 * 32-bit counters; the guest may scribble on them at any time, so each is
 * read once and checked before use.
 */
#ifndef CONS_RING_H
#define CONS_RING_H

#include <stddef.h>
#include <stdint.h>

#define CONS_IN_SIZE  1024u
#define CONS_OUT_SIZE 2048u

struct cons_interface {
    char in[CONS_IN_SIZE];      /* daemon -> guest */
    char out[CONS_OUT_SIZE];    /* guest -> daemon */
    uint32_t in_cons, in_prod;
    uint32_t out_cons, out_prod;
};
_Static_assert(sizeof(struct cons_interface) == 3088, "xencons_interface size");
_Static_assert(__builtin_offsetof(struct cons_interface, out) == 1024, "out");
_Static_assert(__builtin_offsetof(struct cons_interface, in_cons) == 3072, "in_cons");
_Static_assert(__builtin_offsetof(struct cons_interface, out_prod) == 3084, "out_prod");

/* Copies up to max bytes of guest output to dst and frees their space.
 * Returns the count, or -1 if the guest's indexes claim more than the
 * ring holds (then nothing is taken; the caller stops serving it). */
long cons_ring_read_output(struct cons_interface *intf, void *dst, size_t max);

/* Puts as much of src into the input ring as fits; count, or -1 on
 * corrupt indexes as above. */
long cons_ring_write_input(struct cons_interface *intf, const void *src, size_t len);

/* Free bytes in the input ring now, or -1 on corrupt indexes. */
long cons_ring_input_space(struct cons_interface *intf);

#endif
