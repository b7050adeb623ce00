/*
 * (Mica only: Xen has no way to start a second domain at boot;
 * tests/long_op_vcpu.c makes the same check with two vCPUs of one domain,
 * on Xen 4.17 too.)  On one CPU, a domain in the longest hypercalls a
 * guest can ask for must not stop another domain: one kernel, two roles
 * chosen by start_info, the calls and the judging in tests/long_ops.h.
 *
 *   hostile (domain 1, unprivileged): prepares everything, says "ready",
 *     and on "start" issues the calls (long_ops_run), recording their
 *     windows in a page it grants to dom0; then says "done".
 *   observer (dom0): wakes on a 1 ms timer from "start" to "done"
 *     (observe), maps domain 1's page and judges every call (judge).
 *
 * run-multi-domain boots it with guest_loglvl=all, so that both console
 * writes of the unprivileged domain go out at line speed instead of being
 * suppressed after the rate limit's burst.
 */
#include "../tests/long_ops.h"
#include <public/domctl.h>

#define WAIT_NS   600000000000UL     /* the slowest TCG host */
#define SHARE_REF 8
#define AT        20    /* dom0: where domain 1's page is mapped */

static evtchn_port_t port;

static enum result hostile(void)
{
    REQUIRE_EQ(gnt_init(), 0);
    share = (struct share *)pool_page(P_SHARE);
    memset(share, 0, sizeof(*share));
    prepare();
    gnt_grant(SHARE_REF, 0, pool_mfn(P_SHARE), GTF_permit_access | GTF_readonly);

    REQUIRE_EQ(evtchn_bind_peer(0, 1, 10000000000UL, &port), 0);
    printk("hostile: %u trees of %u tables, %lu spare frames, ready\n", PIN_TREES, PIN_TABLES,
           (unsigned long)nr_extents);
    CHECK_EQ(evtchn_send(port), 0);                 /* ready */
    if (!evt_wait_count(port, 1, WAIT_NS)) {
        printk("hostile: no start from dom0\n");
        return RESULT_FAILURE;
    }

    long_ops_run();
    CHECK_EQ(share->errors, 0);
    CHECK_EQ(evtchn_send(port), 0);                 /* done */
    return check_failures ? RESULT_FAILURE : RESULT_SUCCESS;
}

static uint64_t observe_end;

static bool hostile_done(void)
{
    return READ_ONCE(evt_counts[port]) >= 2 || system_time_ns() > observe_end;
}

static enum result observer(void)
{
    struct evtchn_alloc_unbound a = { .dom = DOMID_SELF, .remote_dom = 1 };
    evtchn_port_t tport;
    struct xen_domctl op;

    /* Progress can only come from preemption if both domains share one CPU. */
    REQUIRE(physinfo_nr_cpus() == 1, "%u CPUs: this test needs one", physinfo_nr_cpus());
    REQUIRE_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &a), 0);
    port = a.port;
    REQUIRE_EQ(evtchn_bind_virq(VIRQ_TIMER, 0, &tport), 0);
    if (!evt_wait_count(port, 1, WAIT_NS)) {
        printk("observer: domain 1 never said it was ready\n");
        return RESULT_FAILURE;
    }
    CHECK_EQ(evtchn_send(port), 0);                 /* start */
    observe_end = system_time_ns() + WAIT_NS;
    observe(vcpu0, hostile_done);
    printk("observer: %u wake-ups, %u timer events\n", nr_samples, evt_counts[tport]);
    REQUIRE(evt_counts[port] >= 2, "domain 1 never said it was done");

    uint32_t h;
    uint64_t bus;
    REQUIRE_EQ(gnt_map((uint64_t)pool[AT], GNTMAP_host_map | GNTMAP_readonly, SHARE_REF, 1, &h, &bus),
               GNTST_okay);
    const struct share *sh = (const struct share *)pool[AT];
    REQUIRE_EQ(sh->magic, SHARE_MAGIC);
    REQUIRE(sh->nr <= MAX_WINDOWS, "%u windows", sh->nr);
    judge(sh);
    domain_wait_shutdown(&op, 1, WAIT_NS);
    if (check_failures)
        return RESULT_FAILURE;
    printk("observer: kept running through every long call of domain 1\n");
    return RESULT_SUCCESS;
}

enum result test_main(void)
{
    REQUIRE_EQ(traps_install(), 0);
    REQUIRE_EQ(events_init(), 0);
    events_enable();
    return (start_info->flags & SIF_INITDOMAIN) ? observer() : hostile();
}
