#include "cons_ring.h"

#include <string.h>

/* Acquire on the guest's index so its data is seen; release on ours so
 * the guest sees our data (or our freed space) before the index moves. */
static uint32_t load(const uint32_t *p)
{
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void publish(uint32_t *p, uint32_t v)
{
    __atomic_store_n(p, v, __ATOMIC_RELEASE);
}

long cons_ring_read_output(struct cons_interface *intf, void *dst, size_t max)
{
    uint32_t cons = load(&intf->out_cons);
    uint32_t prod = load(&intf->out_prod);
    uint32_t avail = prod - cons;

    if (avail > CONS_OUT_SIZE)
        return -1;
    if (avail > max)
        avail = (uint32_t)max;
    for (uint32_t done = 0; done < avail;) {
        uint32_t at = (cons + done) & (CONS_OUT_SIZE - 1);
        uint32_t n = CONS_OUT_SIZE - at;
        if (n > avail - done)
            n = avail - done;
        memcpy((char *)dst + done, intf->out + at, n);
        done += n;
    }
    publish(&intf->out_cons, cons + avail);
    return avail;
}

long cons_ring_write_input(struct cons_interface *intf, const void *src, size_t len)
{
    uint32_t cons = load(&intf->in_cons);
    uint32_t prod = load(&intf->in_prod);
    uint32_t used = prod - cons, space;

    if (used > CONS_IN_SIZE)
        return -1;
    space = CONS_IN_SIZE - used;
    if (space > len)
        space = (uint32_t)len;
    for (uint32_t done = 0; done < space;) {
        uint32_t at = (prod + done) & (CONS_IN_SIZE - 1);
        uint32_t n = CONS_IN_SIZE - at;
        if (n > space - done)
            n = space - done;
        memcpy(intf->in + at, (const char *)src + done, n);
        done += n;
    }
    publish(&intf->in_prod, prod + space);
    return space;
}

long cons_ring_input_space(struct cons_interface *intf)
{
    uint32_t used = load(&intf->in_prod) - load(&intf->in_cons);

    return used > CONS_IN_SIZE ? -1 : (long)(CONS_IN_SIZE - used);
}
