/* The server's half of the shared xenstore ring page: copying requests
 * out and responses in, never trusting the guest-written indexes.  Works
 * on any memory holding the page layout, so it is tested on a plain
 * buffer; mapping a real domain's page is the domain transport's job. */
#ifndef XS_RING_H
#define XS_RING_H

#include <stdbool.h>
#include <stddef.h>

#include "xenstore_wire.h"

/* Copies up to max request bytes out of the ring and frees their space.
 * Returns the byte count, or -1 if the guest's indexes claim more than a
 * ring's worth of data (the page is then marked XSW_ERROR_RINGIDX). */
long xs_ring_read_requests(struct xsw_domain_interface *intf, void *dst, size_t max);

/* Copies as much of src into the response ring as fits.  Returns the byte
 * count, or -1 on corrupt indexes as above. */
long xs_ring_write_responses(struct xsw_domain_interface *intf, const void *src, size_t len);

/* Prepares a fresh page for a newly introduced domain's first contact:
 * advertises what we support and leaves the guest's indexes alone. */
void xs_ring_advertise(struct xsw_domain_interface *intf);

/* Handles a guest's reconnect request (connection == XSW_RECONNECT):
 * drops everything in flight and reports the ring usable again.  Returns
 * true if a reset happened (the caller must forget the connection's
 * partial messages, watches and transactions and notify the guest). */
bool xs_ring_handle_reconnect(struct xsw_domain_interface *intf);

#endif
