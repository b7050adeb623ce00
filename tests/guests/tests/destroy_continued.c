/*
 * XEN_DOMCTL_destroydomain continued part way (docs/hypercalls.md): dom0,
 * as a toolstack, creates a domain with 256 frames and destroys it with an
 * event left pending and unmasked behind the hypervisor's back.  The
 * teardown's first preemption check then stops it (Xen: domain_kill's
 * -ERESTART) and the domctl is continued: the upcall arrives on the
 * domctl's SYSCALL with the same argument, the re-issued call finds the
 * dying domain and finishes it, answering 0, and every frame comes back.
 */
#include "toolstack.h"

#define FRAMES 256

static evtchn_port_t ipi;
static uint64_t mfns[FRAMES];
static struct { unsigned upcalls; uint64_t rip, rdi; } seen;

void evtchn_do_upcall(struct regs *r);

static bool upcall_hook(struct regs *r)
{
    if (!seen.upcalls++) {
        seen.rip = r->rip;
        seen.rdi = r->rdi;
    }
    evtchn_do_upcall(r);
    return true;
}

enum result test_main(void)
{
    REQUIRE_EQ(traps_install(), 0);
    REQUIRE_EQ(events_init(), 0);
    REQUIRE_EQ(evtchn_bind_ipi(0, &ipi), 0);
    trap_hooks[VEC_EVENT] = upcall_hook;
    events_enable();

    uint64_t before = physinfo_free_pages();
    REQUIRE_EQ(ts_create(), 0);
    domid_t id = ts_op.domain;
    REQUIRE_EQ(ts_max_mem(id, 2 * FRAMES), 0);
    REQUIRE_EQ(ts_populate(id, mfns, FRAMES), FRAMES);

    /* An event pending and unmasked, without the hypervisor having been told. */
    events_disable();
    REQUIRE_EQ(evtchn_send(ipi), 0);
    barrier();
    WRITE_ONCE(vcpu0->evtchn_upcall_mask, 0);
    barrier();
    CHECK_EQ(ts_destroy(id), 0);
    events_disable();

    uint64_t stub = (uint64_t)hypercall_page + __HYPERVISOR_domctl * 32;
    CHECK_EQ(seen.upcalls, 1);
    CHECK(seen.rip >= stub && seen.rip + 2 <= stub + 32,
          "upcall at rip %#lx, not in the domctl stub", seen.rip);
    if (seen.rip >= stub && seen.rip + 2 <= stub + 32)
        CHECK(((const uint8_t *)seen.rip)[0] == 0x0f && ((const uint8_t *)seen.rip)[1] == 0x05,
              "rip %#lx is not on a SYSCALL", seen.rip);
    CHECK_EQ(seen.rdi, (uint64_t)&ts_op);
    CHECK(TS_SETTLE(ts_gone(id)), "domain %u still there", id);
    CHECK(ts_memory_back(before), "free pages %lu, %lu before", physinfo_free_pages(), before);
    /* Gone for good: a second destroy names no domain. */
    CHECK_EQ(ts_destroy(id), -XEN_ESRCH);
    return RESULT_SUCCESS;
}
