/*
 * libmica over a fake privcmd transport: what each wrapper sends (op,
 * interface version, command, arguments), how results and errors come
 * back, and that bad arguments never reach the hypervisor.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domctl.h"
#include "domctl_save.h"
#include "evtchn.h"
#include "privcmd.h"
#include <public/event_channel.h>
#include <public/memory.h>
#include <public/sched.h>

static int failures;
#define CHECK(c, ...) do { if (!(c)) { failures++; printf("FAIL: libmica: %s:%d: ", __FILE__, __LINE__); \
        printf(__VA_ARGS__); printf("\n"); } } while (0)

/* The fake hypervisor: records the last call, answers with `answer`. */
static struct {
    unsigned calls;
    struct mica_privcmd_hypercall last;
    struct xen_domctl domctl;
    struct xen_sysctl sysctl;
    long answer;
    void (*edit)(struct mica_privcmd_hypercall *h);
} fake;

static long fake_hypercall(struct mica_hv *hv, const struct mica_privcmd_hypercall *h)
{
    (void)hv;
    fake.calls++;
    fake.last = *h;
    if (h->op == __HYPERVISOR_domctl)
        memcpy(&fake.domctl, (void *)(uintptr_t)h->arg[0], sizeof(fake.domctl));
    if (h->op == __HYPERVISOR_sysctl)
        memcpy(&fake.sysctl, (void *)(uintptr_t)h->arg[0], sizeof(fake.sysctl));
    if (fake.edit)
        fake.edit((struct mica_privcmd_hypercall *)h);
    return fake.answer;
}

static struct mica_hv hv = { .fd = -1, .hypercall = fake_hypercall };

static void reset(long answer)
{
    memset(&fake, 0, sizeof(fake));
    fake.answer = answer;
}

/* What XENMEM_set_memory_map was given, read while the call lasts. */
static struct {
    uint16_t domid;
    uint32_t nr;
    struct e820entry ram;
} memmap_seen;

static void check_memmap(struct mica_privcmd_hypercall *h)
{
    const struct xen_foreign_memory_map *m = (const void *)(uintptr_t)h->arg[1];
    memmap_seen.domid = m->domid;
    memmap_seen.nr = m->map.nr_entries;
    memcpy(&memmap_seen.ram, (const void *)(uintptr_t)m->map.buffer, sizeof(memmap_seen.ram));
}

static void answer_create(struct mica_privcmd_hypercall *h)
{
    ((struct xen_domctl *)(uintptr_t)h->arg[0])->domain = 7;
}

static void answer_info_other(struct mica_privcmd_hypercall *h)
{
    struct xen_domctl *op = (struct xen_domctl *)(uintptr_t)h->arg[0];
    op->domain = 9;                 /* the next domain up answered */
    op->u.getdomaininfo.domain = 9;
}

static void answer_sched(struct mica_privcmd_hypercall *h)
{
    struct xen_domctl *op = (struct xen_domctl *)(uintptr_t)h->arg[0];
    op->u.scheduler_op.u.credit.weight = 512;
    op->u.scheduler_op.u.credit.cap = 50;
}

static void answer_list_overflow(struct mica_privcmd_hypercall *h)
{
    ((struct xen_sysctl *)(uintptr_t)h->arg[0])->u.getdomaininfolist.num_domains = 99;
}

static void answer_build(struct mica_privcmd_hypercall *h)
{
    struct xen_domctl *op = (struct xen_domctl *)(uintptr_t)h->arg[0];
    struct mica_domctl_build_pv a;
    memcpy(&a, op->u.pad, sizeof(a));
    a.console_mfn = 0x1234;
    a.store_mfn = 0x1233;
    a.nr_pages = a.mem_kb / 4;
    memcpy(op->u.pad, &a, sizeof(a));
}

static void answer_port(struct mica_privcmd_hypercall *h)
{
    ((struct evtchn_alloc_unbound *)(uintptr_t)h->arg[1])->port = 5;
}

static void answer_ext(struct mica_privcmd_hypercall *h)
{
    struct xen_domctl *op = (struct xen_domctl *)(uintptr_t)h->arg[0];
    op->u.ext_vcpucontext.size = 64;
    op->u.ext_vcpucontext.syscall32_callback_eip = 0x1234;
}

static void answer_extstate(struct mica_privcmd_hypercall *h)
{
    struct xen_domctl *op = (struct xen_domctl *)(uintptr_t)h->arg[0];
    op->u.vcpuextstate.xfeature_mask = 7;
    op->u.vcpuextstate.size = 848;
}

/* copy_frames refuses the frame at index 5 of the batch it is given. */
static void answer_copy_stopped(struct mica_privcmd_hypercall *h)
{
    struct xen_domctl *op = (struct xen_domctl *)(uintptr_t)h->arg[0];
    struct mica_domctl_copy_frames c;
    memcpy(&c, op->u.pad, sizeof(c));
    c.done = 5;
    memcpy(op->u.pad, &c, sizeof(c));
}

/* MICA_DOMCTL_copy_frames: batches, direction, addresses, where it stopped. */
static void check_copy_frames(void)
{
    static uint64_t mfns[2500];
    struct mica_domctl_copy_frames c;
    size_t stopped = 99;
    uint8_t *buf = mica_frame_buffer_alloc(3);

    CHECK(buf != NULL, "frame buffer: %s", strerror(errno));
    if (!buf)
        return;
    CHECK(buf[0] == 0 && buf[3 * 4096 - 1] == 0, "a fresh buffer reads zeros");
    reset(0);
    CHECK(mica_frames_copy(&hv, 3, mfns, 2500, buf, false, &stopped) == 0 && fake.calls == 3 &&
          stopped == 0, "copy in batches of 1024: %u calls", fake.calls);
    memcpy(&c, fake.domctl.u.pad, sizeof(c));
    CHECK(fake.domctl.cmd == MICA_DOMCTL_copy_frames && fake.domctl.domain == 3 &&
          c.nr == 2500 - 2048 && c.direction == MICA_COPY_FROM_DOMAIN && c.done == 0 &&
          c.pad == 0 && c.frames == (uint64_t)(uintptr_t)(mfns + 2048) &&
          c.buffer == (uint64_t)(uintptr_t)(buf + 2048 * 4096ul), "the last batch's arguments");
    reset(0);
    CHECK(mica_frames_copy(&hv, 3, mfns, 7, buf, true, NULL) == 0 && fake.calls == 1, "to domain");
    memcpy(&c, fake.domctl.u.pad, sizeof(c));
    CHECK(c.direction == MICA_COPY_TO_DOMAIN && c.nr == 7, "to domain: direction and count");
    reset(-EPERM);
    fake.edit = answer_copy_stopped;
    CHECK(mica_frames_copy(&hv, 3, mfns, 2500, buf, true, &stopped) == -EPERM &&
          fake.calls == 1 && stopped == 5, "a refusal says where: %zu", stopped);
    reset(0);
    CHECK(mica_frames_copy(&hv, 0, mfns, 1, buf, false, &stopped) == -EINVAL && fake.calls == 0,
          "dom0's own frames");
    CHECK(mica_frames_copy(&hv, 3, NULL, 1, buf, false, NULL) == -EINVAL && fake.calls == 0,
          "no MFN array");
    CHECK(mica_frames_copy(&hv, 3, mfns, 1, NULL, false, NULL) == -EINVAL && fake.calls == 0,
          "no buffer");
    CHECK(mica_frames_copy(&hv, 3, mfns, 0, buf, false, NULL) == 0 && fake.calls == 0,
          "no frames");
    mica_frame_buffer_free(buf, 3);
    CHECK(mica_frame_buffer_alloc(0) == NULL && errno == EINVAL, "an empty buffer");
}

/* list_tables: the fake domain has 5 tables; short room gets -ENOSPC and the count. */
static void answer_tables(struct mica_privcmd_hypercall *h)
{
    struct xen_domctl *op = (struct xen_domctl *)(uintptr_t)h->arg[0];
    struct mica_domctl_list_tables l;
    memcpy(&l, op->u.pad, sizeof(l));
    struct mica_table_frame *t = (void *)(uintptr_t)l.tables;
    for (uint32_t i = 0; i < 5 && i < l.max; i++)
        t[i] = (struct mica_table_frame){ .mfn = 0x100 + i, .pfn = i, .type = 1u << 28 };
    l.nr = 5;
    fake.answer = l.max < 5 ? -ENOSPC : 0;
    memcpy(op->u.pad, &l, sizeof(l));
}

/* A broken answer: -ENOSPC without a count above the room given. */
static void answer_tables_short(struct mica_privcmd_hypercall *h)
{
    struct xen_domctl *op = (struct xen_domctl *)(uintptr_t)h->arg[0];
    struct mica_domctl_list_tables l;
    memcpy(&l, op->u.pad, sizeof(l));
    l.nr = l.max;
    memcpy(op->u.pad, &l, sizeof(l));
}

static void check_list_tables(void)
{
    struct mica_table_frame *t = NULL;
    struct mica_domctl_list_tables l;
    uint32_t nr = 99;

    reset(0);
    fake.edit = answer_tables;
    CHECK(mica_domain_tables(&hv, 3, 8, &t, &nr) == 0 && fake.calls == 1 && nr == 5 && t &&
          t[4].mfn == 0x104 && t[4].pfn == 4, "list_tables with room: %u calls, %u tables",
          fake.calls, nr);
    memcpy(&l, fake.domctl.u.pad, sizeof(l));
    CHECK(fake.domctl.cmd == MICA_DOMCTL_list_tables && fake.domctl.domain == 3 && l.max == 8 &&
          l.pad == 0, "list_tables arguments");
    free(t);
    reset(0);
    fake.edit = answer_tables;
    CHECK(mica_domain_tables(&hv, 3, 2, &t, &nr) == 0 && fake.calls == 2 && nr == 5 && t &&
          t[0].mfn == 0x100, "list_tables asks again with room: %u calls", fake.calls);
    memcpy(&l, fake.domctl.u.pad, sizeof(l));
    CHECK(l.max == 5, "the second ask has room for the count: %u", l.max);
    free(t);
    reset(-ENOSPC);
    fake.edit = answer_tables_short;
    CHECK(mica_domain_tables(&hv, 3, 2, &t, &nr) == -EIO && fake.calls == 1 && !t && nr == 0,
          "an -ENOSPC without a bigger count is not asked again");
    reset(-ENOSYS);
    CHECK(mica_domain_tables(&hv, 3, 2, &t, &nr) == -ENOSYS && !t, "an older hypervisor");
    reset(0);
    CHECK(mica_domain_tables(&hv, 0, 2, &t, &nr) == -EINVAL && fake.calls == 0, "dom0");
}

/* vcpuextstate: the query, a get with a buffer, a set. */
static void check_extstate_domctls(void)
{
    static uint64_t buf[128];
    uint64_t mask = 0, size = 0, used = 0;

    reset(0);
    fake.edit = answer_extstate;
    CHECK(mica_vcpu_extstate_query(&hv, 3, 1, &mask, &size) == 0 && mask == 7 && size == 848 &&
          fake.domctl.cmd == XEN_DOMCTL_getvcpuextstate && fake.domctl.u.vcpuextstate.vcpu == 1 &&
          fake.domctl.u.vcpuextstate.size == 0 && fake.domctl.u.vcpuextstate.buffer == 0,
          "extstate query");
    reset(0);
    fake.edit = answer_extstate;
    CHECK(mica_vcpu_extstate_get(&hv, 3, 0, 7, buf, sizeof(buf), &used) == 0 && used == 848 &&
          fake.domctl.u.vcpuextstate.xfeature_mask == 7 &&
          fake.domctl.u.vcpuextstate.size == sizeof(buf) &&
          fake.domctl.u.vcpuextstate.buffer == (uint64_t)(uintptr_t)buf, "extstate get");
    reset(0);
    fake.edit = answer_extstate;
    CHECK(mica_vcpu_extstate_get(&hv, 3, 0, 7, buf, 64, &used) == -EIO,
          "extstate get: an answer longer than the buffer");
    reset(0);
    CHECK(mica_vcpu_extstate_set(&hv, 3, 2, buf, 848) == 0 &&
          fake.domctl.cmd == XEN_DOMCTL_setvcpuextstate && fake.domctl.u.vcpuextstate.vcpu == 2 &&
          fake.domctl.u.vcpuextstate.size == 848, "extstate set");
    reset(0);
    CHECK(mica_vcpu_extstate_set(&hv, 3, 0, buf, 8) == -EINVAL && fake.calls == 0,
          "extstate set below 16 octets");
    reset(-EINVAL);
    CHECK(mica_vcpu_extstate_set(&hv, 3, 0, buf, 848) == -EINVAL, "extstate refusal passes");
}

/* getvcpuaffinity: Mica writes the hard mask into the caller's bitmap. */
static void answer_affinity(struct mica_privcmd_hypercall *h)
{
    struct xen_domctl *op = (struct xen_domctl *)(uintptr_t)h->arg[0];
    uint8_t *hard = (uint8_t *)(uintptr_t)op->u.vcpuaffinity.cpumap_hard.bitmap;
    hard[0] = 0x05;
}

static void answer_vcpuinfo(struct mica_privcmd_hypercall *h)
{
    struct xen_domctl *op = (struct xen_domctl *)(uintptr_t)h->arg[0];
    op->u.getvcpuinfo.cpu = 1;
    op->u.getvcpuinfo.running = 1;
    op->u.getvcpuinfo.cpu_time = 42;
}

/* vcpu-list and vcpu-pin's domctls. */
static void check_vcpu_domctls(void)
{
    struct xen_domctl_getvcpuinfo vi;
    uint8_t hard[2] = { 0 }, soft[2] = { 0 };

    reset(0);
    fake.edit = answer_vcpuinfo;
    CHECK(mica_vcpu_info(&hv, 3, 1, &vi) == 0 && fake.domctl.cmd == XEN_DOMCTL_getvcpuinfo &&
          fake.domctl.domain == 3 && fake.domctl.u.getvcpuinfo.vcpu == 1 && vi.cpu == 1 &&
          vi.running && vi.cpu_time == 42, "getvcpuinfo");
    reset(0);
    fake.edit = answer_affinity;
    CHECK(mica_vcpu_affinity_get(&hv, 3, 0, hard, soft, 2) == 0 &&
          fake.domctl.cmd == XEN_DOMCTL_getvcpuaffinity &&
          fake.domctl.u.vcpuaffinity.flags == (XEN_VCPUAFFINITY_HARD | XEN_VCPUAFFINITY_SOFT) &&
          fake.domctl.u.vcpuaffinity.cpumap_hard.nr_bits == 16 &&
          fake.domctl.u.vcpuaffinity.cpumap_soft.nr_bits == 16 && hard[0] == 0x05,
          "getvcpuaffinity");
    reset(0);
    hard[0] = 0x02;
    CHECK(mica_vcpu_affinity_set_hard(&hv, 3, 1, hard, 2) == 0 &&
          fake.domctl.cmd == XEN_DOMCTL_setvcpuaffinity &&
          fake.domctl.u.vcpuaffinity.flags == XEN_VCPUAFFINITY_HARD &&
          fake.domctl.u.vcpuaffinity.vcpu == 1 && fake.domctl.u.vcpuaffinity.cpumap_soft.bitmap == 0,
          "setvcpuaffinity hard only");
    reset(-EINVAL);
    CHECK(mica_vcpu_affinity_set_hard(&hv, 3, 0, hard, 2) == -EINVAL, "refusal passed on");
    reset(0);
    CHECK(mica_vcpu_affinity_set_hard(&hv, 3, 0, NULL, 2) == -EINVAL &&
          mica_vcpu_affinity_get(&hv, 3, 0, NULL, NULL, 2) == -EINVAL &&
          mica_vcpu_affinity_get(&hv, 3, 0, hard, NULL, 0) == -EINVAL &&
          mica_vcpu_affinity_get(&hv, DOMID_SELF, 0, hard, NULL, 2) == -EINVAL && fake.calls == 0,
          "bad affinity arguments never reach the hypervisor");
}

/* The save/restore domctls (domctl_save.h). */
static void check_save_domctls(void)
{
    static uint64_t frames[2500];
    static struct vcpu_guest_context ctx;
    struct xen_domctl_ext_vcpucontext evc;

    reset(0);
    CHECK(mica_domain_resume(&hv, 3) == 0 && fake.domctl.cmd == XEN_DOMCTL_resumedomain &&
          fake.domctl.domain == 3, "resume");
    reset(0);
    CHECK(mica_domain_resume(&hv, 0) == -EINVAL && fake.calls == 0, "resuming dom0");
    CHECK(mica_domain_resume(&hv, DOMID_SELF) == -EINVAL && fake.calls == 0, "resume DOMID_SELF");

    reset(0);
    CHECK(mica_domain_frame_types(&hv, 3, frames, 2500) == 0 && fake.calls == 3 &&
          fake.domctl.cmd == XEN_DOMCTL_getpageframeinfo3 &&
          fake.domctl.u.getpageframeinfo3.num == 2500 - 2048 &&
          fake.domctl.u.getpageframeinfo3.array == (uint64_t)(uintptr_t)(frames + 2048),
          "frame types in batches of 1024: %u calls", fake.calls);
    reset(-E2BIG);
    CHECK(mica_domain_frame_types(&hv, 3, frames, 2500) == -E2BIG && fake.calls == 1,
          "frame types stop at the first error");
    reset(0);
    CHECK(mica_domain_frame_types(&hv, 3, frames, 0) == 0 && fake.calls == 0, "no frames");
    CHECK(mica_domain_frame_types(&hv, 3, NULL, 1) == -EINVAL && fake.calls == 0, "no array");

    reset(0);
    CHECK(mica_vcpu_context_get(&hv, 3, 1, &ctx) == 0 &&
          fake.domctl.cmd == XEN_DOMCTL_getvcpucontext && fake.domctl.u.vcpucontext.vcpu == 1 &&
          fake.domctl.u.vcpucontext.ctxt == (uint64_t)(uintptr_t)&ctx, "get context");
    CHECK(mica_vcpu_context_set(&hv, 3, 0, &ctx) == 0 &&
          fake.domctl.cmd == XEN_DOMCTL_setvcpucontext, "set context");
    reset(0);
    CHECK(mica_vcpu_context_get(&hv, 3, 32, &ctx) == -EINVAL && fake.calls == 0, "vcpu 32");
    CHECK(mica_vcpu_context_set(&hv, 3, 0, NULL) == -EINVAL && fake.calls == 0, "no context");

    reset(0);
    fake.edit = answer_ext;
    memset(&evc, 0, sizeof(evc));
    CHECK(mica_vcpu_ext_context_get(&hv, 3, 0, &evc) == 0 &&
          fake.domctl.cmd == XEN_DOMCTL_get_ext_vcpucontext && evc.size == 64 &&
          evc.syscall32_callback_eip == 0x1234, "get ext context");
    reset(0);
    CHECK(mica_vcpu_ext_context_set(&hv, 3, 1, &evc) == 0 &&
          fake.domctl.cmd == XEN_DOMCTL_set_ext_vcpucontext &&
          fake.domctl.u.ext_vcpucontext.vcpu == 1 && fake.domctl.u.ext_vcpucontext.size == 64 &&
          fake.domctl.u.ext_vcpucontext.syscall32_callback_eip == 0x1234, "set ext context");
    reset(-ESRCH);
    CHECK(mica_vcpu_ext_context_get(&hv, 3, 0, &evc) == -ESRCH, "ext -ESRCH passes through");
    check_extstate_domctls();
    check_copy_frames();
    check_list_tables();
}

int main(void)
{
    uint8_t uuid[16] = { 1, 2, 3 };
    uint16_t id = 0;
    struct xen_domctl_getdomaininfo info, list[4];
    static const char kernel[4096] = "\177ELF";
    struct mica_build b;
    int rc;

    /* createdomain: version, command, config; the id comes back. */
    reset(0);
    fake.edit = answer_create;
    rc = mica_domain_create(&hv, 1, uuid, &id);
    CHECK(rc == 0 && id == 7, "create rc %d id %u", rc, id);
    CHECK(fake.last.op == __HYPERVISOR_domctl, "create op %llu", (unsigned long long)fake.last.op);
    CHECK(fake.domctl.cmd == XEN_DOMCTL_createdomain &&
          fake.domctl.interface_version == XEN_DOMCTL_INTERFACE_VERSION, "create header");
    CHECK(fake.domctl.u.createdomain.max_vcpus == 1 &&
          fake.domctl.u.createdomain.grant_opts == XEN_DOMCTL_GRANT_version(2) &&
          fake.domctl.u.createdomain.handle[2] == 3, "create config");
    CHECK(fake.domctl.u.createdomain.max_evtchn_port == 1023 &&
          fake.domctl.u.createdomain.max_grant_frames == 32, "create: xl's default limits");
    /* A definition's <mica:limits> reach createdomain; 0 keeps a default. */
    reset(0);
    fake.edit = answer_create;
    id = 0;
    const struct mica_domain_limits lim = { .max_grant_frames = 64, .max_evtchn_port = 0 };
    CHECK(mica_domain_create_limited(&hv, 2, NULL, &lim, &id) == 0, "create with limits");
    CHECK(fake.domctl.u.createdomain.max_grant_frames == 64 &&
          fake.domctl.u.createdomain.max_evtchn_port == 1023, "limits: frames given, port default");
    const struct mica_domain_limits lim2 = { .max_evtchn_port = 131071 };
    CHECK(mica_domain_create_limited(&hv, 2, NULL, &lim2, &id) == 0 &&
          fake.domctl.u.createdomain.max_evtchn_port == 131071 &&
          fake.domctl.u.createdomain.max_grant_frames == 32, "limits: port given, frames default");
    /* Refusals come back as the hypervisor's -errno. */
    reset(-EEXIST);
    id = 5;
    CHECK(mica_domain_create(&hv, 1, NULL, &id) == -EEXIST && id == 5, "create -EEXIST");
    reset(0);
    id = 0;
    CHECK(mica_domain_create(&hv, 0, NULL, &id) == -EINVAL && fake.calls == 0, "0 vcpus");
    CHECK(mica_domain_create(&hv, 33, NULL, &id) == -EINVAL && fake.calls == 0, "33 vcpus");
    id = DOMID_SELF;
    CHECK(mica_domain_create(&hv, 1, NULL, &id) == -EINVAL && fake.calls == 0, "reserved id");

    /* Simple commands. */
    reset(0);
    CHECK(mica_domain_pause(&hv, 3) == 0 && fake.domctl.cmd == XEN_DOMCTL_pausedomain &&
          fake.domctl.domain == 3, "pause");
    CHECK(mica_domain_unpause(&hv, 3) == 0 && fake.domctl.cmd == XEN_DOMCTL_unpausedomain, "unpause");
    CHECK(mica_domain_destroy(&hv, 3) == 0 && fake.domctl.cmd == XEN_DOMCTL_destroydomain, "destroy");
    CHECK(mica_domain_max_mem(&hv, 3, 65536) == 0 && fake.domctl.cmd == XEN_DOMCTL_max_mem &&
          fake.domctl.u.max_mem.max_memkb == 65536, "max_mem");
    /* set_memmap_limit: XENMEM_set_memory_map, one RAM entry from 0. */
    reset(0);
    fake.edit = check_memmap;
    CHECK(mica_domain_set_memmap_limit(&hv, 3, 163840) == 0 && fake.calls == 1 &&
          fake.last.op == __HYPERVISOR_memory_op && fake.last.arg[0] == XENMEM_set_memory_map &&
          memmap_seen.domid == 3 && memmap_seen.nr == 1 && memmap_seen.ram.addr == 0 &&
          memmap_seen.ram.size == 163840ull << 10 && memmap_seen.ram.type == E820_RAM,
          "set_memmap_limit");
    reset(0);
    CHECK(mica_domain_set_memmap_limit(&hv, 3, 0) == -EINVAL &&
          mica_domain_set_memmap_limit(&hv, DOMID_SELF, 1024) == -EINVAL && fake.calls == 0,
          "set_memmap_limit refuses 0 KiB and DOMID_SELF");
    reset(0);
    CHECK(mica_domain_destroy(&hv, 0) == -EINVAL && fake.calls == 0, "destroying dom0");
    CHECK(mica_domain_pause(&hv, DOMID_SELF) == -EINVAL && fake.calls == 0, "pause DOMID_SELF");
    reset(-ESRCH);
    CHECK(mica_domain_destroy(&hv, 4) == -ESRCH, "destroy -ESRCH");

    /* getdomaininfo: another domain's answer is "no such domain". */
    reset(0);
    fake.edit = answer_info_other;
    CHECK(mica_domain_info(&hv, 8, &info) == -ESRCH, "info of a missing id");
    reset(0);
    CHECK(mica_domain_info(&hv, 0, &info) == 0 && fake.domctl.cmd == XEN_DOMCTL_getdomaininfo, "info dom0");

    /* scheduler_op: credit's layout, get reads back, set passes "keep" through. */
    reset(0);
    fake.edit = answer_sched;
    uint16_t weight = 0, cap = 0;
    CHECK(mica_domain_sched_get(&hv, 3, &weight, &cap) == 0 && weight == 512 && cap == 50 &&
          fake.domctl.cmd == XEN_DOMCTL_scheduler_op && fake.domctl.domain == 3 &&
          fake.domctl.u.scheduler_op.sched_id == XEN_SCHEDULER_CREDIT &&
          fake.domctl.u.scheduler_op.cmd == XEN_DOMCTL_SCHEDOP_getinfo, "sched get");
    reset(0);
    CHECK(mica_domain_sched_set(&hv, 3, 0, 20) == 0 &&
          fake.domctl.u.scheduler_op.cmd == XEN_DOMCTL_SCHEDOP_putinfo &&
          fake.domctl.u.scheduler_op.u.credit.weight == 0 &&
          fake.domctl.u.scheduler_op.u.credit.cap == 20, "sched set");
    reset(-EINVAL);
    CHECK(mica_domain_sched_get(&hv, 3, &weight, &cap) == -EINVAL && weight == 512,
          "sched get failure leaves the outputs alone");
    reset(0);
    CHECK(mica_domain_sched_set(&hv, DOMID_SELF, 1, 1) == -EINVAL && fake.calls == 0,
          "sched set DOMID_SELF");

    /* getdomaininfolist: never more records than room. */
    reset(0);
    CHECK(mica_domain_list(&hv, 0, list, 4) == 0 && fake.sysctl.cmd == XEN_SYSCTL_getdomaininfolist &&
          fake.sysctl.interface_version == XEN_SYSCTL_INTERFACE_VERSION &&
          fake.sysctl.u.getdomaininfolist.max_domains == 4, "list");
    fake.edit = answer_list_overflow;
    CHECK(mica_domain_list(&hv, 0, list, 4) == -EIO, "list overflow is an error");
    reset(0);
    CHECK(mica_domain_list(&hv, 0, list, 0) == -EINVAL && fake.calls == 0, "list of 0");

    /* Shutdown and ports. */
    reset(0);
    CHECK(mica_domain_shutdown(&hv, 2, SHUTDOWN_reboot) == 0 &&
          fake.last.op == __HYPERVISOR_sched_op && fake.last.arg[0] == SCHEDOP_remote_shutdown,
          "remote shutdown");
    CHECK(mica_domain_shutdown(&hv, 2, 99) == -EINVAL && fake.calls == 1, "bad reason");
    reset(0);
    fake.edit = answer_port;
    CHECK(mica_evtchn_alloc_unbound(&hv, 2, 0) == 5 &&
          fake.last.op == __HYPERVISOR_event_channel_op &&
          fake.last.arg[0] == EVTCHNOP_alloc_unbound, "alloc_unbound");

    /* The build domctl: arguments packed into xen_domctl.u, results back. */
    reset(0);
    fake.edit = answer_build;
    memset(&b, 0, sizeof(b));
    b.kernel = kernel;
    b.kernel_len = sizeof(kernel);
    b.cmdline = "console=hvc0";
    b.mem_kb = 32768;
    b.console_port = 1;
    b.store_port = 2;
    rc = mica_domain_build(&hv, 4, &b);
    CHECK(rc == 0 && fake.domctl.cmd == MICA_DOMCTL_build_pv && fake.domctl.domain == 4, "build rc %d", rc);
    {
        struct mica_domctl_build_pv a;
        memcpy(&a, fake.domctl.u.pad, sizeof(a));
        CHECK(a.kernel == (uintptr_t)kernel && a.kernel_len == sizeof(kernel) &&
              a.cmdline_len == strlen("console=hvc0") && a.mem_kb == 32768 &&
              a.console_port == 1 && a.store_port == 2 && a.initrd == 0, "build arguments");
    }
    CHECK(b.console_mfn == 0x1234 && b.store_mfn == 0x1233 && b.nr_pages == 8192, "build results");
    reset(0);
    b.mem_kb = 32767;
    CHECK(mica_domain_build(&hv, 4, &b) == -EINVAL && fake.calls == 0, "mem not in pages");
    b.mem_kb = 32768;
    b.store_port = 1;
    CHECK(mica_domain_build(&hv, 4, &b) == -EINVAL && fake.calls == 0, "same port twice");
    b.store_port = 2;
    b.initrd_len = 10;
    CHECK(mica_domain_build(&hv, 4, &b) == -EINVAL && fake.calls == 0, "initrd length without initrd");
    b.initrd_len = 0;
    CHECK(mica_domain_build(&hv, 0, &b) == -EINVAL && fake.calls == 0, "building dom0");
    reset(-ENOMEM);
    CHECK(mica_domain_build(&hv, 4, &b) == -ENOMEM, "build -ENOMEM passes through");

    check_save_domctls();
    check_vcpu_domctls();

    /* Devices that are not there, and closed descriptors. */
    {
        struct mica_hv real;
        int errs[1];
        uint64_t mfn = 1;
        CHECK(mica_hv_open(&real, "/nonexistent/privcmd") == -ENOENT, "open missing privcmd");
        CHECK(mica_map_foreign(&real, 1, &mfn, 1, errs, &rc) == NULL && rc == -EINVAL, "map without fd");
        CHECK(mica_evtchn_open("/nonexistent/evtchn") == -ENOENT, "open missing evtchn");
        CHECK(mica_evtchn_notify(-1, 1) == -EBADF && mica_evtchn_pending(-1) == -EBADF, "evtchn bad fd");
        CHECK(mica_evtchn_bind_interdomain(-1, DOMID_SELF, 1) == -EINVAL, "bind to a reserved id");
    }
    /* The ioctl numbers are Linux's _IOC(_IOC_NONE, type, nr, size). */
    CHECK(MICA_IOCTL_PRIVCMD_HYPERCALL == 0x305000, "IOCTL_PRIVCMD_HYPERCALL %#lx",
          (unsigned long)MICA_IOCTL_PRIVCMD_HYPERCALL);
    CHECK(MICA_IOCTL_PRIVCMD_MMAPBATCH_V2 == 0x205004, "IOCTL_PRIVCMD_MMAPBATCH_V2");
    CHECK(MICA_IOCTL_EVTCHN_BIND_INTERDOMAIN == 0x84501, "IOCTL_EVTCHN_BIND_INTERDOMAIN");
    CHECK(MICA_IOCTL_EVTCHN_NOTIFY == 0x44504, "IOCTL_EVTCHN_NOTIFY");

    if (!failures)
        printf("PASS: libmica: wrappers, argument checks and error mapping\n");
    return failures ? 1 : 0;
}
