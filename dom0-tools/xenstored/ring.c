#include "ring.h"

#include <string.h>

/* The guest may change its indexes at any moment: read each once, with
 * acquire ordering so the data it published is visible, and publish ours
 * with release ordering after the data is in place. */
static xsw_ring_idx load_idx(const xsw_ring_idx *p)
{
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void store_idx(xsw_ring_idx *p, xsw_ring_idx v)
{
    __atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static void mark_error(struct xsw_domain_interface *intf, uint32_t err)
{
    __atomic_store_n(&intf->error, err, __ATOMIC_RELEASE);
}

long xs_ring_read_requests(struct xsw_domain_interface *intf, void *dst, size_t max)
{
    xsw_ring_idx cons = intf->req_cons;        /* ours to write, stable */
    xsw_ring_idx prod = load_idx(&intf->req_prod);
    xsw_ring_idx avail = prod - cons;          /* free-running, wraps */
    if (avail > XSW_RING_SIZE) {
        mark_error(intf, XSW_ERROR_RINGIDX);
        return -1;
    }
    if (avail > max)
        avail = (xsw_ring_idx)max;
    size_t first = XSW_RING_SIZE - XSW_RING_MASK(cons);
    if (first > avail)
        first = avail;
    memcpy(dst, intf->req + XSW_RING_MASK(cons), first);
    memcpy((char *)dst + first, intf->req, avail - first);
    store_idx(&intf->req_cons, cons + avail);
    return (long)avail;
}

long xs_ring_write_responses(struct xsw_domain_interface *intf, const void *src, size_t len)
{
    xsw_ring_idx prod = intf->rsp_prod;
    xsw_ring_idx cons = load_idx(&intf->rsp_cons);
    xsw_ring_idx used = prod - cons;
    if (used > XSW_RING_SIZE) {
        mark_error(intf, XSW_ERROR_RINGIDX);
        return -1;
    }
    size_t space = XSW_RING_SIZE - used;
    if (space > len)
        space = len;
    size_t first = XSW_RING_SIZE - XSW_RING_MASK(prod);
    if (first > space)
        first = space;
    memcpy(intf->rsp + XSW_RING_MASK(prod), src, first);
    memcpy(intf->rsp, (const char *)src + first, space - first);
    store_idx(&intf->rsp_prod, prod + (xsw_ring_idx)space);
    return (long)space;
}

void xs_ring_advertise(struct xsw_domain_interface *intf)
{
    __atomic_or_fetch(&intf->server_features,
                      XSW_SERVER_FEATURE_RECONNECTION | XSW_SERVER_FEATURE_ERROR,
                      __ATOMIC_RELEASE);
}

bool xs_ring_handle_reconnect(struct xsw_domain_interface *intf)
{
    if (__atomic_load_n(&intf->connection, __ATOMIC_ACQUIRE) != XSW_RECONNECT)
        return false;
    intf->req_cons = intf->req_prod = 0;
    intf->rsp_cons = intf->rsp_prod = 0;
    mark_error(intf, XSW_ERROR_NONE);
    __atomic_store_n(&intf->connection, XSW_CONNECTED, __ATOMIC_RELEASE);
    return true;
}
