/*
 * event_channel_op (32) bookkeeping: alloc_unbound, bind_ipi, bind_virq,
 * status, bind_vcpu, close, lowest-free allocation, and every sub-op fed
 * bad ports, bad vCPUs, bad domains, bad pointers and unknown commands.
 */
#include "guest.h"

static long op(int cmd, void *arg) { return HYPERVISOR_event_channel_op(cmd, arg); }

enum result test_main(void)
{
    struct evtchn_status st;
    evtchn_port_t a, b, ipi, virq, p;

    REQUIRE_EQ(traps_install(), 0);

    /* Port 0 is reserved; allocation starts at 1, lowest free first. */
    CHECK_EQ(evtchn_status(0, &st), 0);
    CHECK_EQ(st.status, EVTCHNSTAT_closed);
    REQUIRE_EQ(evtchn_alloc_unbound_self(&a), 0);
    CHECK_EQ(a, 1);
    REQUIRE_EQ(evtchn_alloc_unbound_self(&b), 0);
    CHECK_EQ(b, 2);
    CHECK_EQ(evtchn_status(a, &st), 0);
    CHECK_EQ(st.status, EVTCHNSTAT_unbound);
    CHECK_EQ(st.u.unbound.dom, 0);       /* remote DOMID_SELF means us, dom0 */
    CHECK_EQ(st.vcpu, 0);

    REQUIRE_EQ(evtchn_bind_ipi(0, &ipi), 0);
    CHECK_EQ(ipi, 3);
    CHECK_EQ(evtchn_status(ipi, &st), 0);
    CHECK_EQ(st.status, EVTCHNSTAT_ipi);
    CHECK_EQ(st.vcpu, 0);

    REQUIRE_EQ(evtchn_bind_virq(VIRQ_TIMER, 0, &virq), 0);
    CHECK_EQ(virq, 4);
    CHECK_EQ(evtchn_status(virq, &st), 0);
    CHECK_EQ(st.status, EVTCHNSTAT_virq);
    CHECK_EQ(st.u.virq, VIRQ_TIMER);
    /* A VIRQ binds once per vCPU. */
    CHECK_EQ(evtchn_bind_virq(VIRQ_TIMER, 0, &p), -XEN_EEXIST);
    CHECK_EQ(evtchn_bind_virq(NR_VIRQS, 0, &p), -XEN_EINVAL);
    CHECK_EQ(evtchn_bind_virq(0xffffffff, 0, &p), -XEN_EINVAL);
    CHECK_EQ(evtchn_bind_virq(VIRQ_DEBUG, 1, &p), -XEN_ENOENT);
    CHECK_EQ(evtchn_bind_virq(VIRQ_DEBUG, 0xffffffff, &p), -XEN_ENOENT);
    /* A global VIRQ only binds on vCPU 0. */
    CHECK_EQ(evtchn_bind_virq(VIRQ_CONSOLE, 1, &p), -XEN_EINVAL);
    CHECK_EQ(evtchn_bind_ipi(1, &p), -XEN_ENOENT);
    CHECK_EQ(evtchn_bind_ipi(0xffffffff, &p), -XEN_ENOENT);

    /* close frees the port; the next allocation reuses the lowest. */
    CHECK_EQ(evtchn_close(a), 0);
    CHECK_EQ(evtchn_status(a, &st), 0);
    CHECK_EQ(st.status, EVTCHNSTAT_closed);
    CHECK_EQ(evtchn_close(a), -XEN_EINVAL);
    REQUIRE_EQ(evtchn_alloc_unbound_self(&p), 0);
    CHECK_EQ(p, a);

    /* bind_vcpu: fine for an unbound port on vCPU 0, refused for IPIs and
     * per-vCPU VIRQs, and for vCPUs that do not exist. */
    struct evtchn_bind_vcpu bv = { .port = b, .vcpu = 0 };
    CHECK_EQ(op(EVTCHNOP_bind_vcpu, &bv), 0);
    bv.vcpu = 1;
    CHECK_EQ(op(EVTCHNOP_bind_vcpu, &bv), -XEN_ENOENT);
    bv = (struct evtchn_bind_vcpu){ .port = ipi, .vcpu = 0 };
    CHECK_EQ(op(EVTCHNOP_bind_vcpu, &bv), -XEN_EINVAL);
    bv = (struct evtchn_bind_vcpu){ .port = virq, .vcpu = 0 };
    CHECK_EQ(op(EVTCHNOP_bind_vcpu, &bv), -XEN_EINVAL);
    bv = (struct evtchn_bind_vcpu){ .port = 4000, .vcpu = 0 };
    CHECK_EQ(op(EVTCHNOP_bind_vcpu, &bv), -XEN_EINVAL);

    /* Ports out of range or not in use, for every sub-op taking a port. */
    static const evtchn_port_t bad[] = { 0, 100, 1023, 1024, 4095, 4096, 0x80000000, 0xffffffff };
    for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
        long rs = evtchn_send(bad[i]), rc = evtchn_close(bad[i]), ru = evtchn_unmask(bad[i]);
        if (rs != -XEN_EINVAL || rc != -XEN_EINVAL)
            check_failed(__FILE__, __LINE__, "port %#x: send %ld close %ld", bad[i], rs, rc);
        /*
         * A free port inside the 2-level range may be reported closed or
         * refused (Xen refuses ports beyond the bucket of ports it has
         * set up so far); beyond the range it must be refused.
         */
        long rst = evtchn_status(bad[i], &st);
        bool in_range = bad[i] < EVTCHN_2L_NR_CHANNELS;
        if (in_range ? !(rst == -XEN_EINVAL || (rst == 0 && st.status == EVTCHNSTAT_closed))
                     : rst != -XEN_EINVAL)
            check_failed(__FILE__, __LINE__, "port %#x: status %ld (%u)", bad[i], rst, st.status);
        if (in_range ? !(ru == 0 || ru == -XEN_EINVAL) : ru != -XEN_EINVAL)
            check_failed(__FILE__, __LINE__, "port %#x: unmask %ld", bad[i], ru);
    }
    /* Sending on an unbound port is accepted and goes nowhere. */
    CHECK_EQ(evtchn_send(b), 0);

    /* Nonexistent domains.  (A nonexistent remote_dom for alloc_unbound
     * is accepted by Xen: it only records who may bind later.) */
    struct evtchn_alloc_unbound au = { .dom = 0x7000, .remote_dom = DOMID_SELF };
    CHECK_EQ(op(EVTCHNOP_alloc_unbound, &au), -XEN_ESRCH);
    struct evtchn_bind_interdomain bi = { .remote_dom = DOMID_SELF, .remote_port = 1000 };
    CHECK_EQ(op(EVTCHNOP_bind_interdomain, &bi), -XEN_EINVAL);
    bi = (struct evtchn_bind_interdomain){ .remote_dom = 0x7000, .remote_port = 1 };
    CHECK_EQ(op(EVTCHNOP_bind_interdomain, &bi), -XEN_ESRCH);

    /* Bad argument pointers and unknown commands. */
    CHECK_EQ(op(EVTCHNOP_alloc_unbound, (void *)0x1000), -XEN_EFAULT);
    CHECK_EQ(op(EVTCHNOP_status, (void *)0x0000800000000000UL), -XEN_EFAULT);
    CHECK_EQ(op(EVTCHNOP_send, (void *)(HYPERVISOR_VIRT_START + 0x30000000000UL)), -XEN_EFAULT);
    CHECK_EQ(op(100, &bv), -XEN_ENOSYS);
    CHECK_EQ(op(0x7fffffff, &bv), -XEN_ENOSYS);
    return RESULT_SUCCESS;
}
