/*
 * Micro-benchmark kernel for bench/hypercall-cycles: guest TSC cycles per
 * null hypercall (xen_version(XENVER_version)) and per event-channel send
 * to a masked IPI port of its own.  Prints "BENCH <name> <cycles>" lines,
 * the best of several batches (least disturbed by the host).
 */
#include "guest.h"

#define BATCHES 7
#define PER_BATCH 20000

static uint64_t null_batch(void)
{
    uint64_t t0 = rdtsc();
    for (int i = 0; i < PER_BATCH; i++)
        HYPERVISOR_xen_version(XENVER_version, NULL);
    return (rdtsc() - t0) / PER_BATCH;
}

static evtchn_port_t ipi;

static uint64_t send_batch(void)
{
    uint64_t t0 = rdtsc();
    for (int i = 0; i < PER_BATCH; i++) {
        /* Clear the pending bit so every send takes the full delivery path. */
        sync_clear_bit(ipi, shared->evtchn_pending);
        evtchn_send(ipi);
    }
    return (rdtsc() - t0) / PER_BATCH;
}

enum result test_main(void)
{
    REQUIRE_EQ(traps_install(), 0);
    REQUIRE_EQ(events_init(), 0);
    map_shared_info();
    REQUIRE_EQ(evtchn_bind_ipi(0, &ipi), 0);
    sync_set_bit(ipi, shared->evtchn_mask);     /* no upcalls: measure the send */
    printk("BENCH null_hypercall %lu\n", best_of(BATCHES, null_batch));
    printk("BENCH evtchn_send_self %lu\n", best_of(BATCHES, send_batch));
    return RESULT_SUCCESS;
}
