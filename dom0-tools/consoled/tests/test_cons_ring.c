/* Console ring logic on a plain buffer standing in for the guest's page. */
#define UNIT_SUITE "consoled/ring"
#include "unit.h"

#include <stdlib.h>

#include "cons_ring.h"

/* The guest's side, as hvc_xen drives it. */
static size_t guest_write(struct cons_interface *c, const void *data, size_t len)
{
    size_t sent = 0;
    const char *p = data;
    while (sent < len && c->out_prod - c->out_cons < CONS_OUT_SIZE)
        c->out[c->out_prod++ & (CONS_OUT_SIZE - 1)] = p[sent++];
    return sent;
}

static size_t guest_read(struct cons_interface *c, void *data, size_t max)
{
    size_t got = 0;
    char *p = data;
    while (got < max && c->in_cons != c->in_prod)
        p[got++] = c->in[c->in_cons++ & (CONS_IN_SIZE - 1)];
    return got;
}

UNIT_TEST(output_wraps_around_u32)
{
    struct cons_interface *c = calloc(1, sizeof(*c));
    char msg[1500], got[4096];
    c->out_cons = c->out_prod = 0xfffffc00u;
    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = (char)(i * 7);
    for (int round = 0; round < 7; round++) {
        CHECK(guest_write(c, msg, sizeof(msg)) == sizeof(msg));
        long n = cons_ring_read_output(c, got, sizeof(got));
        CHECK(n == (long)sizeof(msg));
        CHECK(memcmp(got, msg, sizeof(msg)) == 0);
        CHECK(c->out_cons == c->out_prod);
    }
    free(c);
}

UNIT_TEST(output_full_ring_and_partial_reads)
{
    struct cons_interface *c = calloc(1, sizeof(*c));
    char msg[CONS_OUT_SIZE + 10], got[CONS_OUT_SIZE];
    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = (char)i;
    CHECK(guest_write(c, msg, sizeof(msg)) == CONS_OUT_SIZE);   /* the rest does not fit */
    CHECK(cons_ring_read_output(c, got, 100) == 100);
    CHECK(memcmp(got, msg, 100) == 0);
    CHECK(cons_ring_read_output(c, got, sizeof(got)) == CONS_OUT_SIZE - 100);
    CHECK(memcmp(got, msg + 100, CONS_OUT_SIZE - 100) == 0);
    CHECK(cons_ring_read_output(c, got, sizeof(got)) == 0);
    free(c);
}

UNIT_TEST(output_corrupt_indexes_refused)
{
    struct cons_interface *c = calloc(1, sizeof(*c));
    char got[16];
    c->out_cons = 5;
    c->out_prod = 5 + CONS_OUT_SIZE + 1;            /* claims more than a ring */
    CHECK(cons_ring_read_output(c, got, sizeof(got)) == -1);
    CHECK(c->out_cons == 5);                         /* nothing taken */
    c->out_prod = 4;                                 /* behind the consumer */
    CHECK(cons_ring_read_output(c, got, sizeof(got)) == -1);
    c->out_prod = 5 + CONS_OUT_SIZE;                 /* exactly full is fine */
    CHECK(cons_ring_read_output(c, got, sizeof(got)) == (long)sizeof(got));
    free(c);
}

UNIT_TEST(input_fills_and_wraps)
{
    struct cons_interface *c = calloc(1, sizeof(*c));
    char msg[CONS_IN_SIZE + 300], got[CONS_IN_SIZE];
    c->in_cons = c->in_prod = 0xffffff00u;
    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = (char)(i ^ 0x5a);
    CHECK(cons_ring_write_input(c, msg, sizeof(msg)) == CONS_IN_SIZE);
    CHECK(cons_ring_write_input(c, msg, 1) == 0);    /* full */
    CHECK(guest_read(c, got, 200) == 200);
    CHECK(memcmp(got, msg, 200) == 0);
    CHECK(cons_ring_write_input(c, msg + CONS_IN_SIZE, 300) == 200);
    CHECK(guest_read(c, got, sizeof(got)) == CONS_IN_SIZE);
    CHECK(memcmp(got, msg + 200, CONS_IN_SIZE) == 0);
    free(c);
}

UNIT_TEST(input_corrupt_indexes_refused)
{
    struct cons_interface *c = calloc(1, sizeof(*c));
    c->in_cons = 100;
    c->in_prod = 100 + CONS_IN_SIZE + 1;
    CHECK(cons_ring_write_input(c, "x", 1) == -1);
    CHECK(c->in_prod == 100 + CONS_IN_SIZE + 1);      /* untouched */
    free(c);
}

UNIT_TEST(input_space)
{
    struct cons_interface *c = calloc(1, sizeof(*c));
    char got[1000] = { 0 };
    c->in_cons = c->in_prod = 0xffffff80u;
    CHECK(cons_ring_input_space(c) == CONS_IN_SIZE);
    CHECK(cons_ring_write_input(c, got, 1000) == 1000);       /* across the wrap */
    CHECK(cons_ring_input_space(c) == CONS_IN_SIZE - 1000);
    CHECK(guest_read(c, got, 300) == 300);
    CHECK(cons_ring_input_space(c) == CONS_IN_SIZE - 700);
    c->in_prod = c->in_cons + CONS_IN_SIZE + 1;               /* claims more than a ring */
    CHECK(cons_ring_input_space(c) == -1);
    free(c);
}

UNIT_MAIN()
