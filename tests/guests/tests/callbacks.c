/*
 * set_callbacks (4) and callback_op (30): registration of every callback
 * type, the refusals (unknown type, non-canonical address, unregistering
 * anything but NMI, bad pointers), and the event callback being the one
 * entered, with events masked, when an event is delivered.
 */
#include "guest.h"

extern char event_entry[], failsafe_entry[], syscall_entry[];

static volatile uint8_t mask_in_handler = 0xff;
static volatile uint64_t frame_cs;

static bool event_hook(struct regs *r)
{
    mask_in_handler = vcpu0->evtchn_upcall_mask;
    frame_cs = r->cs;
    /* Hand the rest to the framework's upcall handling. */
    trap_hooks[VEC_EVENT] = NULL;
    extern void evtchn_do_upcall(struct regs *r);
    evtchn_do_upcall(r);
    trap_hooks[VEC_EVENT] = event_hook;
    return true;
}

static long reg(uint16_t type, uint16_t flags, uint64_t addr)
{
    struct callback_register cb = { .type = type, .flags = flags, .address = addr };
    return HYPERVISOR_callback_op(CALLBACKOP_register, &cb);
}

static long unreg(uint16_t type)
{
    struct callback_unregister cb = { .type = type };
    return HYPERVISOR_callback_op(CALLBACKOP_unregister, &cb);
}

enum result test_main(void)
{
    REQUIRE_EQ(traps_install(), 0);
    map_shared_info();

    /* The legacy call sets event, failsafe and syscall at once. */
    CHECK_EQ(HYPERVISOR_set_callbacks((uint64_t)event_entry, (uint64_t)failsafe_entry,
                                      (uint64_t)syscall_entry), 0);
    /*
     * set_callbacks has no way to report which address it refused: it
     * returns 0 and keeps the old event callback (checked below, where
     * events are delivered to it).
     */
    CHECK_EQ(HYPERVISOR_set_callbacks(0x0000800000000000UL, (uint64_t)failsafe_entry,
                                      (uint64_t)syscall_entry), 0);

    CHECK_EQ(reg(CALLBACKTYPE_failsafe, CALLBACKF_mask_events, (uint64_t)failsafe_entry), 0);
    CHECK_EQ(reg(CALLBACKTYPE_syscall, CALLBACKF_mask_events, (uint64_t)syscall_entry), 0);
    CHECK_EQ(reg(CALLBACKTYPE_nmi, 0, (uint64_t)failsafe_entry), 0);
    CHECK_EQ(unreg(CALLBACKTYPE_nmi), 0);

    /* Refusals. */
    CHECK_EQ(reg(6, 0, (uint64_t)event_entry), -XEN_ENOSYS);
    CHECK_EQ(reg(100, 0, (uint64_t)event_entry), -XEN_ENOSYS);
    CHECK_EQ(reg(CALLBACKTYPE_event, 0, 0x0000800000000000UL), -XEN_EINVAL);
    CHECK_EQ(reg(CALLBACKTYPE_syscall, 0, 0xffff000000000000UL), -XEN_EINVAL);
    CHECK_EQ(unreg(CALLBACKTYPE_event), -XEN_EINVAL);
    CHECK_EQ(unreg(CALLBACKTYPE_failsafe), -XEN_EINVAL);
    CHECK_EQ(HYPERVISOR_callback_op(CALLBACKOP_register, (void *)0x1000), -XEN_EFAULT);
    CHECK_EQ(HYPERVISOR_callback_op(CALLBACKOP_unregister, (void *)0x1000), -XEN_EFAULT);
    CHECK_EQ(HYPERVISOR_callback_op(2, NULL), -XEN_ENOSYS);
    CHECK_EQ(HYPERVISOR_callback_op(-1, NULL), -XEN_ENOSYS);

    /* The event callback is still the one set first, and it runs with
     * events masked.  (events_init() would re-register it: not used.) */
    map_shared_info();
    trap_hooks[VEC_EVENT] = event_hook;
    evtchn_port_t port;
    REQUIRE_EQ(evtchn_bind_ipi(0, &port), 0);
    events_enable();
    CHECK_EQ(evtchn_send(port), 0);
    CHECK_EQ(evt_counts[port], 1);
    CHECK_EQ(mask_in_handler, 1);
    /* Interrupted with events enabled: saved mask 0 in the frame. */
    CHECK_EQ((frame_cs >> 32) & 0xff, 0);
    CHECK_EQ(frame_cs & 0xffff, FLAT_KERNEL_CS & ~3);
    /* And the return re-enabled them. */
    CHECK_EQ(vcpu0->evtchn_upcall_mask, 0);
    return RESULT_SUCCESS;
}
