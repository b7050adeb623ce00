/*
 * An interdomain event channel whose peer domain is destroyed.  dom0
 * binds a port to an unbound port it opened in a domain it created, then
 * destroys that domain.  dom0's port must become unbound, still naming
 * the dead domain (as Xen 4.17 leaves it), and must stay so when a new
 * domain is created with the same id: otherwise the new domain would
 * receive dom0's notifications on a port it never opened, and dom0 would
 * believe it is connected to it.
 */
#include "toolstack.h"
#include <public/event_channel.h>

static long evtchn_op(int cmd, void *arg)
{
    return HYPERVISOR_event_channel_op(cmd, arg);
}

static long status_of(domid_t dom, evtchn_port_t port, struct evtchn_status *st)
{
    memset(st, 0, sizeof(*st));
    st->dom = dom;
    st->port = port;
    return evtchn_op(EVTCHNOP_status, st);
}

enum result test_main(void)
{
    struct evtchn_alloc_unbound au;
    struct evtchn_bind_interdomain bi;
    struct evtchn_status st;
    domid_t x;
    long rc;

    REQUIRE_EQ(traps_install(), 0);
    REQUIRE_EQ(events_init(), 0);
    REQUIRE_EQ(ts_create(), 0);
    x = ts_op.domain;
    printk("created d%u\n", x);

    au = (struct evtchn_alloc_unbound){ .dom = x, .remote_dom = DOMID_SELF };
    REQUIRE_EQ(evtchn_op(EVTCHNOP_alloc_unbound, &au), 0);
    bi = (struct evtchn_bind_interdomain){ .remote_dom = x, .remote_port = au.port };
    REQUIRE_EQ(evtchn_op(EVTCHNOP_bind_interdomain, &bi), 0);
    REQUIRE_EQ(status_of(DOMID_SELF, bi.local_port, &st), 0);
    CHECK_EQ(st.status, EVTCHNSTAT_interdomain);
    CHECK_EQ(st.u.interdomain.dom, x);
    CHECK_EQ(st.u.interdomain.port, au.port);
    printk("port %u bound to d%u port %u\n", bi.local_port, x, au.port);

    REQUIRE_EQ(ts_destroy(x), 0);
    REQUIRE(TS_SETTLE(ts_gone(x)), "d%u still there", x);
    REQUIRE_EQ(status_of(DOMID_SELF, bi.local_port, &st), 0);
    printk("after destroy: status %u, dom %u\n", st.status, st.u.unbound.dom);
    CHECK_EQ(st.status, EVTCHNSTAT_unbound);
    CHECK_EQ(st.u.unbound.dom, x);

    /* A new domain under the same id is not our peer. */
    rc = TS_SETTLE(ts_create_id(x) == 0) ? 0 : -1;
    REQUIRE_EQ(rc, 0);
    REQUIRE_EQ(ts_op.domain, x);
    CHECK_EQ(evtchn_send(bi.local_port), 0);        /* unbound: dropped */
    REQUIRE_EQ(status_of(DOMID_SELF, bi.local_port, &st), 0);
    CHECK_EQ(st.status, EVTCHNSTAT_unbound);
    rc = status_of(x, au.port, &st);
    printk("new d%u port %u: rc %ld status %u\n", x, au.port, rc, st.status);
    CHECK(rc == -XEN_EINVAL || (rc == 0 && st.status == EVTCHNSTAT_closed),
          "the new domain's port %u: rc %ld status %u", au.port, rc, st.status);
    CHECK_EQ(evtchn_close(bi.local_port), 0);
    CHECK_EQ(ts_destroy(x), 0);
    return check_failures ? RESULT_FAILURE : RESULT_SUCCESS;
}
