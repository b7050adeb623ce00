/*
 * multicall (13): a batch runs every entry and stores each result, a
 * failing entry does not stop the batch, nesting is refused per entry,
 * and bad list addresses are refused with -EFAULT.
 */
#include "guest.h"

static struct multicall_entry mc[8];
static char bad_buffer_dummy;

static void set(struct multicall_entry *e, uint64_t op, uint64_t a0, uint64_t a1, uint64_t a2)
{
    memset(e, 0, sizeof(*e));
    e->op = op;
    e->result = 0xa5a5a5a5a5a5a5a5UL;
    e->args[0] = a0;
    e->args[1] = a1;
    e->args[2] = a2;
}

enum result test_main(void)
{
    static const char line[] = "multicall: written from inside a batch\n";
    static struct evtchn_alloc_unbound au;
    long ver;

    REQUIRE_EQ(traps_install(), 0);
    ver = HYPERVISOR_xen_version(XENVER_version, NULL);
    (void)bad_buffer_dummy;

    au = (struct evtchn_alloc_unbound){ .dom = DOMID_SELF, .remote_dom = DOMID_SELF, .port = 0 };
    set(&mc[0], __HYPERVISOR_xen_version, XENVER_version, 0, 0);
    set(&mc[1], __HYPERVISOR_xen_version, XENVER_pagesize, 0, 0);
    set(&mc[2], 200, 0, 0, 0);                                   /* no such hypercall */
    set(&mc[3], __HYPERVISOR_console_io, CONSOLEIO_write, sizeof(line) - 1, (uint64_t)line);
    set(&mc[4], __HYPERVISOR_multicall, (uint64_t)&mc[0], 1, 0); /* nested */
    set(&mc[5], __HYPERVISOR_xen_version, XENVER_extraversion, 0x1000, 0); /* bad buffer */
    set(&mc[6], __HYPERVISOR_event_channel_op, EVTCHNOP_alloc_unbound, (uint64_t)&au, 0);
    set(&mc[7], __HYPERVISOR_xen_version, XENVER_version, 0, 0);

    CHECK_EQ(HYPERVISOR_multicall(mc, 8), 0);
    CHECK_EQ(mc[0].result, ver);
    CHECK_EQ(mc[1].result, 4096);
    CHECK_EQ(mc[2].result, -XEN_ENOSYS);
    CHECK_EQ(mc[3].result, 0);
    CHECK_EQ(mc[4].result, -XEN_EINVAL);
    CHECK_EQ(mc[5].result, -XEN_EFAULT);
    CHECK_EQ(mc[6].result, 0);
    CHECK(au.port > 0, "alloc_unbound inside the batch gave port %u", au.port);
    CHECK_EQ(mc[7].result, ver);
    /* The batch really ran: the port is allocated. */
    struct evtchn_status st;
    CHECK_EQ(evtchn_status(au.port, &st), 0);
    CHECK_EQ(st.status, EVTCHNSTAT_unbound);

    /* The op is a full word: a number with high bits set is unknown. */
    set(&mc[0], (1UL << 32) | __HYPERVISOR_xen_version, XENVER_version, 0, 0);
    CHECK_EQ(HYPERVISOR_multicall(mc, 1), 0);
    CHECK_EQ(mc[0].result, -XEN_ENOSYS);

    /* Empty batches. */
    CHECK_EQ(HYPERVISOR_multicall(mc, 0), 0);
    CHECK_EQ(HYPERVISOR_multicall(NULL, 0), 0);

    /* Bad lists. */
    CHECK_EQ(HYPERVISOR_multicall((void *)0x1000, 1), -XEN_EFAULT);
    CHECK_EQ(HYPERVISOR_multicall((void *)(HYPERVISOR_VIRT_START + 0x30000000000UL), 4), -XEN_EFAULT);
    CHECK_EQ(HYPERVISOR_multicall((void *)0x0000800000000000UL, 1), -XEN_EFAULT);
    CHECK_EQ(HYPERVISOR_multicall((void *)0x1000, 0x7fffffff), -XEN_EFAULT);

    /* A list whose second entry lies beyond the mapped region: the first
     * runs, then the batch fails. */
    struct multicall_entry *edge = (struct multicall_entry *)(bootstrap_end() - sizeof(*edge));
    set(edge, __HYPERVISOR_xen_version, XENVER_pagesize, 0, 0);
    CHECK_EQ(HYPERVISOR_multicall(edge, 2), -XEN_EFAULT);
    CHECK_EQ(edge->result, 4096);
    return RESULT_SUCCESS;
}
