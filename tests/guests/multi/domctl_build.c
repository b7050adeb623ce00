/*
 * (Mica only: MICA_DOMCTL_build_pv is Mica's own domctl; Xen builds
 * guests in its toolstack.)
 * A domain built by dom0 through the build domctl, with one kernel in
 * two roles chosen by start_info's flags:
 *
 *   builder (dom0): gets this same ELF as its initrd and hands it to
 *     MICA_DOMCTL_build_pv.  First the hostile calls, each on a fresh
 *     domain, each of which must fail with the right error and leave no
 *     domain and no memory behind: a garbage image, a truncated image,
 *     more memory than exists, more than max_mem, unreadable kernel and
 *     command-line pointers, a pointer into Mica, bad lengths, bad ports.
 *     Then a real build: createdomain, max_mem, two unbound ports (as xl
 *     makes them), build; building again (paused, then running) is
 *     refused and leaves the domain alone.  dom0 binds the console port,
 *     unpauses, waits for the guest's event and its poweroff through
 *     getdomaininfo, destroys it, and free memory must be exactly back.
 *   guest (domain N): checks what the builder gave it (no privilege, the
 *     console and xenstore pages in its own zeroed memory, the ports, its
 *     command line), signals the console port and powers off.
 *
 * The builder's result line is the test's result.
 */
#include "guest.h"
#include <public/domctl.h>
#include <public/mica_domctl.h>
#include <public/sysctl.h>

#define GUEST_MEM_KB   (16 * 1024)
#define GUEST_CMDLINE  "role=guest hello from dom0"
#define WAIT_NS        20000000000UL

static struct xen_domctl op;
static uint8_t garbage[8192];

static long domctl(uint32_t cmd, domid_t dom) { return domctl_call(&op, cmd, dom); }

/* The domain's info if it exists (getdomaininfo answers the next one up). */
static bool domain_info(domid_t id, struct xen_domctl_getdomaininfo *out)
{
    memset(&op, 0, sizeof(op));
    if (domctl(XEN_DOMCTL_getdomaininfo, id) || op.domain != id)
        return false;
    *out = op.u.getdomaininfo;
    return true;
}

static bool exists(domid_t id)
{
    struct xen_domctl_getdomaininfo info;
    return domain_info(id, &info);
}

struct fresh {
    domid_t id;
    evtchn_port_t console_port, store_port;
};

/* A domain as the toolstack prepares it for building. */
static struct fresh make_domain(uint64_t max_kb)
{
    struct fresh f;

    f.id = domain_create_small(&op);
    memset(&op, 0, sizeof(op));
    op.u.max_mem.max_memkb = max_kb;
    REQUIRE_EQ(domctl(XEN_DOMCTL_max_mem, f.id), 0);
    f.console_port = port_for_domain(f.id);
    f.store_port = port_for_domain(f.id);
    return f;
}

static const void *image;
static uint64_t image_len;

/* The arguments of a good build of f; tests spoil one field at a time. */
static struct mica_domctl_build_pv good_args(const struct fresh *f)
{
    return (struct mica_domctl_build_pv){
        .kernel = (uint64_t)image, .kernel_len = image_len,
        .cmdline = (uint64_t)GUEST_CMDLINE, .cmdline_len = sizeof(GUEST_CMDLINE) - 1,
        .mem_kb = GUEST_MEM_KB,
        .console_port = f->console_port, .store_port = f->store_port,
    };
}

static long build(domid_t id, const struct mica_domctl_build_pv *a)
{
    memset(&op, 0, sizeof(op));
    memcpy(op.u.pad, a, sizeof(*a));
    return domctl(MICA_DOMCTL_build_pv, id);
}

/* One hostile build on a fresh domain: refused, and nothing left behind. */
static void hostile(const char *what, struct mica_domctl_build_pv a, uint64_t max_kb,
                    long want, uint64_t free0)
{
    struct fresh f = make_domain(max_kb);
    long rc;

    a.console_port = a.console_port == 0xffff ? 0xffff : f.console_port;
    a.store_port = a.store_port == 0xfffe ? f.console_port : f.store_port;
    rc = build(f.id, &a);
    printk("builder: %s: %ld\n", what, rc);
    CHECK_EQ(rc, want);
    CHECK(!exists(f.id), "%s: domain %u still exists after a failed build", what, f.id);
    if (exists(f.id))
        domctl(XEN_DOMCTL_destroydomain, f.id);
    CHECK_EQ(physinfo_free_pages(), free0);
}

static volatile unsigned console_events;

static void count_console(evtchn_port_t port)
{
    (void)port;
    console_events++;
}

static enum result builder(void)
{
    struct fresh dummy = { 0 };
    struct mica_domctl_build_pv a;
    struct xen_domctl_getdomaininfo info;
    struct evtchn_bind_interdomain bind;
    uint64_t free0, end;
    struct fresh f;

    image = (const void *)start_info->mod_start;
    image_len = start_info->mod_len;
    REQUIRE(image && image_len, "needs this kernel's ELF as its initrd module");
    free0 = physinfo_free_pages();
    printk("builder: %lu free pages; guest image %lu bytes\n", free0, image_len);

    memset(garbage, 0x5a, sizeof(garbage));
    a = good_args(&dummy);
    a.kernel = (uint64_t)garbage;
    a.kernel_len = sizeof(garbage);
    hostile("garbage image", a, GUEST_MEM_KB, -XEN_EINVAL, free0);
    a = good_args(&dummy);
    a.kernel_len = 4096;        /* the headers, not the segments they describe */
    hostile("truncated image", a, GUEST_MEM_KB, -XEN_EINVAL, free0);
    a = good_args(&dummy);
    a.mem_kb = 64ULL << 20;     /* 64 GiB: far more than the machine has */
    hostile("too much memory", a, a.mem_kb, -XEN_ENOMEM, free0);
    a = good_args(&dummy);
    hostile("more than max_mem", a, GUEST_MEM_KB / 2, -XEN_EINVAL, free0);
    a = good_args(&dummy);
    a.kernel = 0xdead0000;      /* nothing mapped there */
    hostile("unmapped kernel pointer", a, GUEST_MEM_KB, -XEN_EFAULT, free0);
    a = good_args(&dummy);
    a.kernel = 0xffff830000000000UL;    /* Mica's own address space */
    hostile("kernel pointer into Mica", a, GUEST_MEM_KB, -XEN_EFAULT, free0);
    a = good_args(&dummy);
    a.cmdline = 0xdead0000;
    hostile("unmapped cmdline pointer", a, GUEST_MEM_KB, -XEN_EFAULT, free0);
    a = good_args(&dummy);
    a.kernel_len = 0;
    hostile("empty kernel", a, GUEST_MEM_KB, -XEN_EINVAL, free0);
    a = good_args(&dummy);
    a.kernel_len = MICA_BUILD_KERNEL_MAX + 1;
    hostile("oversized kernel", a, GUEST_MEM_KB, -XEN_EINVAL, free0);
    a = good_args(&dummy);
    a.cmdline_len = MAX_GUEST_CMDLINE;
    hostile("oversized cmdline", a, GUEST_MEM_KB, -XEN_EINVAL, free0);
    a = good_args(&dummy);
    a.console_port = 0xffff;    /* hostile() keeps it: not a port of the domain */
    hostile("bad console port", a, GUEST_MEM_KB, -XEN_EINVAL, free0);
    a = good_args(&dummy);
    a.store_port = 0xfffe;      /* hostile() makes it the console port again */
    hostile("same port twice", a, GUEST_MEM_KB, -XEN_EINVAL, free0);

    /* Not for dom0 itself, nor for a domain that does not exist. */
    a = good_args(&dummy);
    CHECK_EQ(build(0, &a), -XEN_EINVAL);
    CHECK_EQ(build(4000, &a), -XEN_ESRCH);
    CHECK_EQ(physinfo_free_pages(), free0);

    /* The real thing. */
    f = make_domain(GUEST_MEM_KB);
    a = good_args(&f);
    REQUIRE_EQ(build(f.id, &a), 0);
    memcpy(&a, op.u.pad, sizeof(a));
    printk("builder: d%u built: %lu pages, console mfn %#lx, store mfn %#lx\n", f.id,
           a.nr_pages, a.console_mfn, a.store_mfn);
    CHECK_EQ(a.nr_pages, GUEST_MEM_KB / 4);
    CHECK(a.console_mfn && a.store_mfn && a.console_mfn != a.store_mfn, "ring frames");
    REQUIRE(domain_info(f.id, &info), "the built domain is gone");
    CHECK(info.flags & XEN_DOMINF_paused, "a built domain stays paused");
    CHECK_EQ(info.tot_pages, GUEST_MEM_KB / 4);
    /* Its memory, plus Mica's own per-domain frames (shared_info, tables). */
    CHECK(free0 - physinfo_free_pages() >= GUEST_MEM_KB / 4 && free0 - physinfo_free_pages() <= GUEST_MEM_KB / 4 + 16,
          "%lu pages in use after building %u", free0 - physinfo_free_pages(), GUEST_MEM_KB / 4);

    /* Built once only: refused, and the domain is left as it was. */
    a = good_args(&f);
    CHECK_EQ(build(f.id, &a), -XEN_EEXIST);
    CHECK(exists(f.id), "building twice destroyed the domain");

    bind = (struct evtchn_bind_interdomain){ .remote_dom = f.id, .remote_port = f.console_port };
    REQUIRE_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_bind_interdomain, &bind), 0);
    evt_handlers[bind.local_port] = count_console;
    memset(&op, 0, sizeof(op));
    REQUIRE_EQ(domctl(XEN_DOMCTL_unpausedomain, f.id), 0);
    a = good_args(&f);
    CHECK_EQ(build(f.id, &a), -XEN_EEXIST);
    CHECK(exists(f.id), "building a running domain destroyed it");

    end = system_time_ns() + WAIT_NS;
    for (;;) {
        REQUIRE(domain_info(f.id, &info), "the guest vanished");
        if (info.flags & XEN_DOMINF_shutdown)
            break;
        if (system_time_ns() > end) {
            printk("builder: the guest did not shut down in 20 s\n");
            return RESULT_FAILURE;
        }
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    }
    CHECK_EQ((info.flags >> XEN_DOMINF_shutdownshift) & XEN_DOMINF_shutdownmask,
             SHUTDOWN_poweroff);
    CHECK(console_events >= 1, "no event from the guest on its console port");
    printk("builder: the guest ran and powered off (%u console events)\n", console_events);

    memset(&op, 0, sizeof(op));
    CHECK_EQ(domctl(XEN_DOMCTL_destroydomain, f.id), 0);
    CHECK(!exists(f.id), "destroyed domain still listed");
    CHECK_EQ(evtchn_close(bind.local_port), 0);
    CHECK_EQ(physinfo_free_pages(), free0);
    printk("builder: free pages back to %lu\n", physinfo_free_pages());
    return RESULT_SUCCESS;
}

/* Zero apart from [skip, skip + skip_len) (bytes, 8-byte aligned). */
static bool page_is_zero_except(uint64_t mfn, unsigned skip, unsigned skip_len)
{
    uint64_t pfn = m2p(mfn);
    const uint64_t *p;

    if (pfn >= start_info->nr_pages || pfn_to_mfn(pfn) != mfn)
        return false;
    p = (const uint64_t *)(VIRT_BASE + pfn * PAGE_SIZE);
    if ((uint64_t)p >= bootstrap_end())
        return false;
    for (unsigned i = 0; i < PAGE_SIZE / 8; i++)
        if (p[i] && !(i * 8 >= skip && i * 8 < skip + skip_len))
            return false;
    return true;
}

/* Handed to set_gdt and kept at poweroff: destruction must let it go. */
static uint64_t guest_gdt[512] __attribute__((aligned(4096), section(".bss.page_aligned")));

static enum result guest(void)
{
    const struct start_info *si = start_info;

    printk("guest: flags %#x, store mfn %#lx port %u, console mfn %#lx port %u, cmdline \"%s\"\n",
           si->flags, si->store_mfn, si->store_evtchn, si->console.domU.mfn,
           si->console.domU.evtchn, si->cmd_line);
    CHECK_EQ(si->flags & (SIF_PRIVILEGED | SIF_INITDOMAIN), 0);
    CHECK_EQ(si->nr_pages, GUEST_MEM_KB / 4);
    CHECK(strcmp(si->cmd_line, GUEST_CMDLINE) == 0, "command line");
    CHECK(si->store_evtchn && si->console.domU.evtchn &&
          si->store_evtchn != si->console.domU.evtchn, "ports");
    /* A xenstored that has been told of us (vmctl in dom0) may already have
     * set server_features (offset 2064, with connection after it), as Xen's
     * does on introduction; everything else is still zero. */
    CHECK(page_is_zero_except(si->store_mfn, 2064, 8),
          "xenstore page is not a zeroed page of this domain");
    CHECK(page_is_zero_except(si->console.domU.mfn, 0, 0),
          "console page is not a zeroed page of this domain");
    uint64_t gdt_frame = va_to_mfn(guest_gdt);
    CHECK_EQ(HYPERVISOR_update_va_mapping((uint64_t)guest_gdt,
                                          (gdt_frame << 12) | PTE_P | PTE_A, UVMF_INVLPG), 0);
    CHECK_EQ(HYPERVISOR_set_gdt(&gdt_frame, 512), 0);
    CHECK_EQ(evtchn_send(si->console.domU.evtchn), 0);
    return check_failures ? RESULT_FAILURE : RESULT_SUCCESS;
}

enum result test_main(void)
{
    REQUIRE_EQ(traps_install(), 0);
    REQUIRE_EQ(events_init(), 0);
    events_enable();
    return (start_info->flags & SIF_INITDOMAIN) ? builder() : guest();
}
