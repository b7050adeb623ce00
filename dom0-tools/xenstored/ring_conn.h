/* Serves one domain connection over its ring page: moves request bytes
 * into the daemon and queued replies back out.  Event-channel kicks stay
 * with the caller, which is told whether the guest needs one. */
#ifndef XS_RING_CONN_H
#define XS_RING_CONN_H

#include "daemon.h"
#include "ring.h"

enum xs_pump_result {
    XS_PUMP_IDLE,        /* nothing moved */
    XS_PUMP_NOTIFY,      /* indexes moved: kick the guest's event channel */
    XS_PUMP_BROKEN,      /* corrupt ring or protocol violation: stop serving */
};

enum xs_pump_result xs_ring_conn_pump(struct xs_conn *c, struct xsw_domain_interface *intf);

#endif
