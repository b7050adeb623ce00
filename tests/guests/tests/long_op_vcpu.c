/*
 * (Booted with dom0_max_vcpus=2, on one CPU.)  The check of
 * multi/long_op_progress.c with two vCPUs of one domain, so that it runs
 * on Xen 4.17 as well: vCPU 0 issues the longest calls a guest can ask
 * for (tests/long_ops.h: tree pins, mmu_update, mmuext_op and multicall
 * batches, a grant copy batch, 64 KiB console_io writes,
 * decrease_reservation and populate_physmap), while vCPU 1 wakes on a
 * 1 ms timer of its own and writes down when.  On one CPU vCPU 1
 * can only wake up inside a call if the hypervisor stops the call and
 * continues it later; judge() wants no stretch of any call without a
 * wake-up longer than half the call.
 *
 * On more than one CPU the vCPUs could run side by side and the test
 * would prove nothing: it reports SKIP there (run-mica-enabled-smp2).
 */
#include "long_ops.h"
#include "race_common.h"

static volatile unsigned observing, stop, observed;

static bool stopped(void)
{
    return READ_ONCE(stop);
}

static void vcpu1_main(uint64_t a, uint64_t b)
{
    (void)a;
    (void)b;
    smp_events_enable();
    WRITE_ONCE(observing, 1);
    observe(&shared->vcpu_info[1], stopped);
    WRITE_ONCE(observed, 1);
    race_vcpu1_done();
}

enum result test_main(void)
{
    evtchn_port_t tport;

    REQUIRE_EQ(traps_install(), 0);
    REQUIRE_EQ(events_init(), 0);
    if (physinfo_nr_cpus() != 1) {
        printk("%u CPUs: the vCPUs could run side by side; this test needs one\n",
               physinfo_nr_cpus());
        return RESULT_SKIP;
    }
    REQUIRE_EQ(gnt_init(), 0);
    share = (struct share *)pool_page(P_SHARE);
    memset(share, 0, sizeof(*share));
    prepare();
    printk("hostile: %u trees of %u tables, %lu spare frames\n", PIN_TREES, PIN_TABLES,
           (unsigned long)nr_extents);
    /* vCPU 1's timer events go to vCPU 1's upcall. */
    REQUIRE_EQ(evtchn_bind_virq(VIRQ_TIMER, 1, &tport), 0);
    REQUIRE(tport < SMP_PORTS, "port %u", tport);
    smp_port_cpu[tport] = 1;
    REQUIRE_EQ(race_start_vcpu1(vcpu1_main), 0);
    REQUIRE(race_wait(&observing, 1), "vCPU 1 never started observing");

    long_ops_run();
    CHECK_EQ(share->errors, 0);
    WRITE_ONCE(stop, 1);
    bool ended = race_wait(&observed, 1);
    printk("observer: %u wake-ups, %u timer events\n", nr_samples, smp_evt_counts[1][tport]);
    if (!ended) {
        volatile struct vcpu_info *v1 = &shared->vcpu_info[1];
        printk("vCPU 1: pending %u mask %u, last wake-up %lu ms ago\n", v1->evtchn_upcall_pending,
               v1->evtchn_upcall_mask,
               nr_samples ? (unsigned long)((system_time_ns() - samples[nr_samples - 1]) / 1000000) : 0UL);
    }
    CHECK(nr_samples < MAX_SAMPLES, "the timeline filled up");
    judge(share);
    REQUIRE(ended, "vCPU 1 never stopped observing");
    if (check_failures)
        return RESULT_FAILURE;
    printk("observer: vCPU 1 kept running through every long call of vCPU 0\n");
    return RESULT_SUCCESS;
}
