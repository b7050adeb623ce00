/*
 * (Mica only: dom0 builds the fuzzer with MICA_DOMCTL_build_pv.)
 * The hostile-guest hypercall fuzzer, one kernel in two roles chosen by
 * start_info's flags (docs/fuzzing.md):
 *
 *   watcher (dom0): for each seed in seed..seed+runs-1, builds this same
 *     ELF (its initrd) as an unprivileged domain with "role=fuzz seed=S
 *     iterations=M", waits until it powers off or is crashed by Mica
 *     (both are fine: crashing a misbehaving guest is Mica's right),
 *     destroys it, and requires physinfo's free pages to be exactly what
 *     they were before the build.  A domain that neither ends nor is ended
 *     in the time allowed is a failure (Mica stalled it or lost it).
 *   fuzzer (domU): issues `iterations` hypercalls drawn from its own
 *     splitmix64 stream, seeded by `seed`: every hypercall number Mica
 *     dispatches and some it does not, sub-op numbers over each op's whole
 *     range and past it, arguments biased to edges (2^31, 2^32, limits of
 *     ports and grant refs), pointers into Mica's range, the direct map,
 *     non-canonical, unaligned, unmapped, into our own (read-only) page
 *     tables; argument structures either random or a valid one with a few
 *     fields flipped.  It prints the seed and every 1000th call; with
 *     trace=K it prints every call from the K-th on, to pin down a crash.
 *
 * What a guest can do to stall only itself is left out on purpose: it
 * would make the watcher's timeout meaningless.  SCHEDOP_block, shutdown
 * and an endless poll are turned into a yield or a short poll, VCPUOP_down
 * of vCPU 0 into is_up, and iret (which consumes our stack) is not called.
 * The watcher's result line is the test's.
 */
#include "guest.h"
#include <public/domctl.h>
#include <public/mica_domctl.h>
#include <public/sysctl.h>
#include <public/memory.h>
#include <public/grant_table.h>

#define FUZZ_MEM_KB   (8 * 1024)
#define WAIT_NS       60000000000UL  /* per seed; the longest run takes ~10 s */
#define ARENA_PAGES   24
#define SLOTS         8              /* argument pages (multicall entries) */

/* ---------------------------------------------------------------- PRNG */

static uint64_t rng_state;

/* splitmix64: one 64-bit state, every seed a full-period stream. */
static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15UL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9UL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebUL;
    return z ^ (z >> 31);
}
static uint64_t below(uint64_t n) { return n ? rnd() % n : 0; }
static bool chance(unsigned one_in) { return below(one_in) == 0; }

/* ------------------------------------------------------------ the arena */

/* Pages whose contents nothing depends on: argument buffers and the pages
 * whose mappings, types and frames the fuzzer plays with. */
static uint8_t arena[ARENA_PAGES + 2][4096] __attribute__((aligned(4096), section(".bss.page_aligned")));
/* After the arena: a page of multicall lists, then an unmapped guard page,
 * so that a list "longer" than ours runs into a fault, not into our data. */
#define MC_PAGE    ARENA_PAGES
#define GUARD_PAGE (ARENA_PAGES + 1)
static uint64_t arena_mfn[ARENA_PAGES];
/* Machine addresses of the L1 entries that map the play pages (the
 * arena past the argument slots): mmu_update's favourite targets. */
static uint64_t arena_pte_ma[ARENA_PAGES];
static uint64_t l4mfn, unmapped_va, pt_base;   /* read once at the start */

static const uint64_t edge_ints[] = {
    0, 1, 2, 3, 7, 8, 15, 16, 31, 32, 63, 64, 127, 128, 255, 256, 511, 512, 1023,
    1024, 1025, 4095, 4096, 4097, 0x7fff, 0x8000, 0xfffe, 0xffff, 0x10000,
    0x7ffffffe, 0x7fffffff, 0x80000000, 0x80000001, 0xfffffffe, 0xffffffff,
    0x100000000UL, 0x100000001UL, 0x7fffffffffffffffUL, 0x8000000000000000UL,
    0xfffffffffffffffeUL, 0xffffffffffffffffUL, 0x7ff0, 0x7ff1, 0xfff0,
};

static const uint64_t hostile_ptrs[] = {
    0xffff800000000000UL, 0xffff800000001000UL, 0xffff820000000000UL,
    0xffff82d080000000UL, 0xffff830000000000UL, 0xffff830000100000UL,
    0xffff830001000000UL, 0xffff87fffffff000UL, 0xffff87fffffffff8UL,
    0xffff87ffffffffffUL, 0x0000800000000000UL, 0x00007ffffffffff8UL,
    0x8000000000000000UL, 0xfffeffffffffffffUL, 0x0000000000001000UL,
    0xfffffffffffff000UL, 0xffffffffffffffffUL, 0,
};

static uint64_t edge(void) { return edge_ints[below(ARRAY_SIZE(edge_ints))]; }

/* A guest pointer: hostile, unmapped, our own page tables, unaligned or
 * straddling the arena's end, or a plain good one into the arena. */
static uint64_t pointer(unsigned slot)
{
    uint64_t good = (uint64_t)arena[slot % ARENA_PAGES];

    switch (below(10)) {
    case 0: return hostile_ptrs[below(ARRAY_SIZE(hostile_ptrs))];
    case 1: return hostile_ptrs[below(ARRAY_SIZE(hostile_ptrs))] + (below(64) << 12) + below(8);
    case 2: return unmapped_va + (below(16) << 12) + below(4096);
    case 3: return pt_base + (below(4) << 12) + below(4096) * chance(2);
    case 4: return (uint64_t)arena[GUARD_PAGE] - 1 - below(64);   /* runs into the guard */
    case 5: return good + 1 + below(7);
    default: return good;
    }
}

/* An MFN: ours (arena, our L4), Mica's and other domains' (low, high),
 * or edges. */
static uint64_t frame(void)
{
    switch (below(6)) {
    case 0: case 1: return arena_mfn[below(ARENA_PAGES)];
    case 2: return below(4) ? edge() : l4mfn;
    case 3: return below(0x10000);
    default: return edge() & 0xfffffffffUL;
    }
}

static uint64_t value(unsigned slot)
{
    switch (below(8)) {
    case 0: case 1: return edge();
    case 2: return pointer(slot);
    case 3: return frame();
    case 4: return (frame() << 12) | below(0x1000) | (chance(4) ? 1UL << 63 : 0);
    case 5: return edge() + below(3) - 1;
    default: return rnd() >> below(64);
    }
}

/* ---------------------------------------------- argument structures */

/* Fills slot's page with either random words or copies of one valid
 * structure for op, then flips a few fields of it. */
static void fill_arg(unsigned slot, unsigned op)
{
    uint64_t *w = (uint64_t *)arena[slot];
    unsigned n = 512;

    if (chance(3)) {
        for (unsigned i = 0; i < n; i++)
            w[i] = chance(3) ? value(slot) : rnd() & (chance(2) ? 0xff : 0xffffffff);
        return;
    }
    memset(w, 0, 4096);
    for (unsigned i = 0; i < 8; i++) {
        uint64_t *e = w + i * 8;        /* 64-byte records: fits every template */
        uint64_t pool = arena_mfn[SLOTS + below(ARENA_PAGES - SLOTS)];
        switch (op) {
        case __HYPERVISOR_mmu_update:
            /* 16-byte requests: the first 16 of the page */
            w[i * 2] = chance(4) ? (arena_mfn[SLOTS + below(ARENA_PAGES - SLOTS)] << 12) + below(512) * 8
                                 : arena_pte_ma[SLOTS + below(ARENA_PAGES - SLOTS)] | below(3);
            w[i * 2 + 1] = (pool << 12) | PTE_P | PTE_A | (chance(2) ? PTE_RW : 0);
            w[16 + i * 2] = chance(2) ? w[i * 2] : (l4mfn << 12) + below(512) * 8;
            w[17 + i * 2] = w[i * 2 + 1];
            break;
        case __HYPERVISOR_mmuext_op:
            e[0] = below(22);
            e[1] = chance(2) ? pool : (uint64_t)arena[SLOTS + below(ARENA_PAGES - SLOTS)];
            e[2] = below(4) ? 1 : (uint64_t)arena[0];
            break;
        case __HYPERVISOR_memory_op:
            e[0] = (uint64_t)arena[SLOTS + below(4)];   /* extent_start */
            e[1] = below(16);                          /* nr_extents */
            e[2] = below(3);                           /* extent_order, mem_flags */
            e[3] = DOMID_SELF;
            break;
        case __HYPERVISOR_grant_table_op:
            e[0] = (uint64_t)arena[SLOTS + below(ARENA_PAGES - SLOTS)];
            e[1] = GNTMAP_host_map | (below(8) << 32);  /* flags, ref */
            e[2] = chance(2) ? DOMID_SELF : 0;
            e[3] = pool << 12;
            break;
        case __HYPERVISOR_event_channel_op:
            e[0] = (uint64_t)(chance(2) ? DOMID_SELF : 0) | ((uint64_t)below(32) << 32);
            e[1] = below(64);
            break;
        default:
            e[0] = below(64);
            e[1] = (uint64_t)arena[slot];
            e[2] = below(16);
            break;
        }
    }
    for (unsigned k = 1 + below(4); k; k--) {
        unsigned i = below(64);
        switch (below(4)) {
        case 0: w[i] = value(slot); break;
        case 1: w[i] ^= 1UL << below(64); break;
        case 2: ((uint32_t *)w)[below(128)] = (uint32_t)edge(); break;
        default: ((uint16_t *)w)[below(256)] = (uint16_t)(edge() + below(3) - 1); break;
        }
    }
}

/* ------------------------------------------------------------ one call */

struct call {
    uint64_t nr;
    uint64_t a[5];
};

/* The hypercalls Mica dispatches (hypervisor/arch/x86/pv/hypercall.c),
 * iret left out (see the header), plus numbers it must refuse. */
static const uint8_t known_ops[] = {
    __HYPERVISOR_set_trap_table, __HYPERVISOR_mmu_update, __HYPERVISOR_set_gdt,
    __HYPERVISOR_stack_switch, __HYPERVISOR_set_callbacks, __HYPERVISOR_fpu_taskswitch,
    __HYPERVISOR_sched_op_compat, __HYPERVISOR_platform_op, __HYPERVISOR_set_debugreg,
    __HYPERVISOR_get_debugreg, __HYPERVISOR_update_descriptor, __HYPERVISOR_memory_op,
    __HYPERVISOR_multicall, __HYPERVISOR_update_va_mapping, __HYPERVISOR_set_timer_op,
    __HYPERVISOR_event_channel_op_compat, __HYPERVISOR_xen_version, __HYPERVISOR_console_io,
    __HYPERVISOR_physdev_op_compat, __HYPERVISOR_grant_table_op, __HYPERVISOR_vm_assist,
    __HYPERVISOR_update_va_mapping_otherdomain, __HYPERVISOR_vcpu_op,
    __HYPERVISOR_set_segment_base, __HYPERVISOR_mmuext_op, __HYPERVISOR_xsm_op,
    __HYPERVISOR_nmi_op, __HYPERVISOR_sched_op, __HYPERVISOR_callback_op,
    __HYPERVISOR_xenoprof_op, __HYPERVISOR_event_channel_op, __HYPERVISOR_physdev_op,
    __HYPERVISOR_hvm_op, __HYPERVISOR_sysctl, __HYPERVISOR_domctl, __HYPERVISOR_kexec_op,
    __HYPERVISOR_tmem_op, __HYPERVISOR_argo_op, __HYPERVISOR_xenpmu_op, __HYPERVISOR_dm_op,
    __HYPERVISOR_hypfs_op, __HYPERVISOR_mca,
};

static unsigned pick_cmd(void)
{
    switch (below(6)) {
    case 0: return (unsigned)edge();
    case 1: return MICA_DOMCTL_FIRST + below(8);
    default: return below(below(2) ? 32 : 100);
    }
}

/* Turns what would stall only this domain into its harmless neighbour
 * (the header says why); everything else goes to Mica as drawn. */
static void tame(struct call *c, unsigned depth)
{
    uint64_t *arg = (uint64_t *)c->a[1];
    bool arg_ours = c->a[1] >= (uint64_t)arena[0] &&
                    c->a[1] + 32 <= (uint64_t)arena[ARENA_PAGES - 1] + 4096;

    switch (c->nr) {
    case __HYPERVISOR_sched_op:
    case __HYPERVISOR_sched_op_compat:
        if ((uint32_t)c->a[0] == SCHEDOP_block || (uint32_t)c->a[0] == SCHEDOP_shutdown)
            c->a[0] = SCHEDOP_yield;
        if ((uint32_t)c->a[0] == SCHEDOP_poll) {
            /* A short poll, never endless; in a multicall an earlier entry
             * could still rewrite the timeout, so none there. */
            if (arg_ours && !depth)
                arg[2] = system_time_ns() + 100000;
            else
                c->a[0] = SCHEDOP_yield;
        }
        if ((uint32_t)c->a[0] == SCHEDOP_watchdog && arg_ours)
            ((uint32_t *)arg)[1] = 0;                 /* no self-destruct timeout */
        break;
    case __HYPERVISOR_vcpu_op:
        if ((uint32_t)c->a[0] == VCPUOP_down && (uint32_t)c->a[1] == 0)
            c->a[0] = VCPUOP_is_up;
        break;
    case __HYPERVISOR_multicall:
        break;
    }
}

static void draw(struct call *c, unsigned slot, unsigned depth);

/* A multicall list of up to 8 entries, each an ordinary draw of its own. */
static void draw_multicall(struct call *c, unsigned depth)
{
    struct multicall_entry *l = (struct multicall_entry *)arena[MC_PAGE] + (depth & 1) * 8;
    unsigned n = 1 + below(SLOTS - 1);     /* one argument page each */

    for (unsigned i = 0; i < n; i++) {
        struct call e;
        draw(&e, 1 + i % (SLOTS - 1), depth + 1);
        l[i].op = e.nr;
        l[i].result = rnd();
        for (unsigned j = 0; j < 5; j++)
            l[i].args[j] = e.a[j];
        l[i].args[5] = rnd();
    }
    /* A list of other words would be untamed calls (SCHEDOP_block among
     * them), so the other lists are ones Mica cannot read. */
    c->a[0] = chance(8) ? hostile_ptrs[below(ARRAY_SIZE(hostile_ptrs))] : (uint64_t)l;
    c->a[1] = chance(8) ? edge() : n;
}

static void draw(struct call *c, unsigned slot, unsigned depth)
{
    if (chance(40))
        c->nr = chance(2) ? 43 + below(90) : edge();
    else
        c->nr = known_ops[below(ARRAY_SIZE(known_ops))];
    if (c->nr == __HYPERVISOR_iret || (depth && c->nr == __HYPERVISOR_multicall))
        c->nr = __HYPERVISOR_xen_version;
    for (unsigned i = 0; i < 5; i++)
        c->a[i] = value(slot);

    switch (c->nr) {
    case __HYPERVISOR_multicall:
        draw_multicall(c, depth);
        return;
    case __HYPERVISOR_mmu_update:
    case __HYPERVISOR_mmuext_op:
        fill_arg(slot, (unsigned)c->nr);
        c->a[0] = chance(6) ? pointer(slot) : (uint64_t)arena[slot];
        c->a[1] = chance(4) ? edge() : 1 + below(8);
        c->a[2] = chance(2) ? 0 : pointer(slot) + 2048;
        c->a[3] = chance(3) ? edge() : DOMID_SELF;
        break;
    case __HYPERVISOR_update_va_mapping:
    case __HYPERVISOR_update_va_mapping_otherdomain:
        c->a[0] = chance(3) ? pointer(slot) : (uint64_t)arena[SLOTS + below(ARENA_PAGES - SLOTS)];
        if ((c->a[0] >= (uint64_t)arena[0] && c->a[0] < (uint64_t)arena[SLOTS]) ||
            (c->a[0] >= (uint64_t)arena[MC_PAGE] && c->a[0] < (uint64_t)arena[GUARD_PAGE + 1]))
            c->a[0] = (uint64_t)arena[SLOTS + below(ARENA_PAGES - SLOTS)];  /* not these */
        c->a[1] = chance(3) ? value(slot)
                            : (frame() << 12) | PTE_P | PTE_A | (chance(2) ? PTE_RW : 0) |
                              (chance(8) ? 1UL << 62 : 0) | (chance(8) ? 0x80 : 0);
        c->a[2] = chance(2) ? below(4) : value(slot);
        c->a[3] = chance(2) ? DOMID_SELF : edge();
        break;
    case __HYPERVISOR_memory_op:
    case __HYPERVISOR_grant_table_op:
    case __HYPERVISOR_event_channel_op:
    case __HYPERVISOR_event_channel_op_compat:
    case __HYPERVISOR_vcpu_op:
    case __HYPERVISOR_sched_op:
    case __HYPERVISOR_sched_op_compat:
    case __HYPERVISOR_physdev_op:
    case __HYPERVISOR_physdev_op_compat:
    case __HYPERVISOR_callback_op:
    case __HYPERVISOR_xen_version:
    case __HYPERVISOR_console_io:
    case __HYPERVISOR_vm_assist:
    case __HYPERVISOR_hvm_op:
    case __HYPERVISOR_xsm_op:
    case __HYPERVISOR_nmi_op:
    case __HYPERVISOR_xenpmu_op: {
        unsigned cmd = pick_cmd();
        fill_arg(slot, (unsigned)c->nr);
        c->a[0] = cmd;
        if (c->nr == __HYPERVISOR_vcpu_op) {
            c->a[1] = chance(3) ? edge() : below(2);
            c->a[2] = chance(5) ? pointer(slot) : (uint64_t)arena[slot];
        } else if (c->nr == __HYPERVISOR_console_io) {
            c->a[1] = chance(2) ? below(200) : edge();
            c->a[2] = chance(3) ? pointer(slot) : (uint64_t)arena[slot];
        } else {
            c->a[1] = chance(5) ? pointer(slot) : (uint64_t)arena[slot];
            c->a[2] = chance(2) ? 1 + below(8) : edge();
        }
        break;
    }
    case __HYPERVISOR_sysctl:
    case __HYPERVISOR_domctl:
    case __HYPERVISOR_platform_op: {
        fill_arg(slot, (unsigned)c->nr);
        uint32_t *w = (uint32_t *)arena[slot];
        w[0] = pick_cmd();
        if (!chance(4))
            w[1] = c->nr == __HYPERVISOR_domctl ? XEN_DOMCTL_INTERFACE_VERSION
                 : c->nr == __HYPERVISOR_sysctl ? XEN_SYSCTL_INTERFACE_VERSION : 0x03000001;
        if (c->nr == __HYPERVISOR_domctl && chance(2))
            w[2] = (uint32_t)below(3) | (chance(4) ? 0x7ff0 : 0);
        c->a[0] = chance(5) ? pointer(slot) : (uint64_t)arena[slot];
        break;
    }
    case __HYPERVISOR_set_trap_table:
    case __HYPERVISOR_set_gdt:
        fill_arg(slot, (unsigned)c->nr);
        c->a[0] = chance(2) ? pointer(slot) : (uint64_t)arena[slot];
        if (c->nr == __HYPERVISOR_set_gdt) {
            ((uint64_t *)arena[slot])[0] = frame();
            c->a[1] = chance(2) ? below(8193) : edge();
        }
        break;
    case __HYPERVISOR_update_descriptor:
        c->a[0] = chance(2) ? (frame() << 12) + below(512) * 8 : value(slot);
        break;
    case __HYPERVISOR_set_debugreg:
    case __HYPERVISOR_get_debugreg:
        c->a[0] = chance(2) ? below(8) : edge();
        break;
    case __HYPERVISOR_set_segment_base:
        c->a[0] = chance(2) ? below(5) : edge();
        break;
    default:
        break;
    }
    tame(c, depth);
}

static long issue(const struct call *c)
{
    if (c->nr < 128)
        return hypercall5((unsigned)c->nr, c->a[0], c->a[1], c->a[2], c->a[3], c->a[4]);
    return hypercall_raw(c->nr, c->a[0], c->a[1], c->a[2]);
}

/*
 * A fault of our own making (a call remapped a page we use, set a
 * breakpoint on our code, ...) would end the run early; so each call runs
 * under a jump buffer, and an exception abandons it and goes on with the
 * next call.  Events stay masked, so nothing else is left half done.
 */
/* Per hypercall number below 64: calls made, and how many returned >= 0
 * (the end-of-run table shows the fuzzer got past the argument checks). */
static uint32_t calls_made[64], calls_ok[64];

static void *recover_buf[5];
static unsigned long recoveries;
static uint64_t stuck_at = ~0UL;    /* the call whose recovery keeps faulting */
static unsigned stuck;

/* The argument and multicall pages mapped writable over their own
 * frames again, the guard unmapped again: mmu_update may have changed
 * any entry of the L1 table that maps them. */
static void repair(void)
{
    for (unsigned i = 0; i <= MC_PAGE; i++)
        if (i < SLOTS || i == MC_PAGE)
            map_mfn(arena[i], arena_mfn[i], PTE_P | PTE_RW | PTE_A | PTE_D);
    HYPERVISOR_update_va_mapping((uint64_t)arena[GUARD_PAGE], 0, UVMF_INVLPG);
}

static bool recover(struct regs *r)
{
    (void)r;
    recoveries++;
    __builtin_longjmp(recover_buf, 1);
}

static enum result fuzzer(void)
{
    uint64_t seed = cmdline_number("seed", 1);
    uint64_t iterations = cmdline_number("iterations", 10000);
    uint64_t trace = cmdline_number("trace", ~0UL);
    struct call c;

    rng_state = seed;
    for (unsigned i = 0; i < ARENA_PAGES; i++) {
        uint64_t *slot_va = pte_slot((uint64_t)arena[i]);
        arena_mfn[i] = va_to_mfn(arena[i]);
        REQUIRE(slot_va, "arena page %u has no L1 entry", i);
        arena_pte_ma[i] = (va_to_mfn(slot_va) << 12) | ((uint64_t)slot_va & 0xff8);
    }
    pt_base = start_info->pt_base;
    l4mfn = va_to_mfn((void *)pt_base);
    REQUIRE_EQ(HYPERVISOR_update_va_mapping((uint64_t)arena[GUARD_PAGE], 0, UVMF_INVLPG), 0);
    unmapped_va = bootstrap_end() + (64UL << 20);
    for (unsigned v = 0; v < 32; v++)
        trap_hooks[v] = recover;
    printk("fuzz: seed %lu, %lu iterations\n", seed, iterations);
    for (volatile uint64_t n = 0; n < iterations; n++) {
        if (__builtin_setjmp(recover_buf)) {
            /* Broken beyond repair (the exception comes back however we
             * mend things): say so by crashing, without printk, which may
             * be what faults. */
            if (n == stuck_at && ++stuck > 8) {
                struct sched_shutdown down = { .reason = SHUTDOWN_crash };
                HYPERVISOR_sched_op(SCHEDOP_shutdown, &down);
            }
            if (n != stuck_at)
                stuck_at = n, stuck = 0;
            printk("fuzz: call %lu: an exception in this domain; going on\n", n);
            HYPERVISOR_set_debugreg(7, 0);
            traps_install();
            repair();
            continue;
        }
        draw(&c, 0, 0);
        if (n % 1000 == 0 || n >= trace)
            printk("fuzz: call %lu: op %#lx (%#lx, %#lx, %#lx, %#lx, %#lx)\n", n, c.nr,
                   c.a[0], c.a[1], c.a[2], c.a[3], c.a[4]);
        uint64_t t0 = n >= trace ? system_time_ns() : 0;
        long rc = issue(&c);
        if (c.nr < 64) {
            calls_made[c.nr]++;
            calls_ok[c.nr] += rc >= 0;
        }
        /* Our own handlers back after a call that may have replaced them,
         * so the run goes on (what Mica does with the bad ones is tested
         * by then). */
        if (c.nr == __HYPERVISOR_set_trap_table || c.nr == __HYPERVISOR_multicall)
            traps_install();
        if (c.nr == __HYPERVISOR_set_callbacks || c.nr == __HYPERVISOR_callback_op ||
            c.nr == __HYPERVISOR_multicall)
            events_init();
        if (n >= trace)
            printk("fuzz: call %lu returned %ld after %lu us\n", n, rc,
                   (system_time_ns() - t0) / 1000);
    }
    for (unsigned i = 0; i < 64; i++)
        if (calls_made[i])
            printk("fuzz: op %u: %u calls, %u returned >= 0\n", i, calls_made[i], calls_ok[i]);
    printk("fuzz: seed %lu: all %lu calls made, %lu exceptions of our own survived\n", seed,
           iterations, recoveries);
    return RESULT_SUCCESS;
}

/* ------------------------------------------------------------ watcher */

static struct xen_domctl op;

static long domctl(uint32_t cmd, domid_t dom) { return domctl_call(&op, cmd, dom); }

static bool domain_info(domid_t id, struct xen_domctl_getdomaininfo *out)
{
    memset(&op, 0, sizeof(op));
    if (domctl(XEN_DOMCTL_getdomaininfo, id) || op.domain != id)
        return false;
    *out = op.u.getdomaininfo;
    return true;
}

/* Where a domain that did not end is: its state and vCPU 0's registers.
 * True when it is looping in its own code (a fault loop of its own making,
 * e.g. its #PF handler's page taken away), which is no failure of Mica's. */
static bool report_stuck(domid_t id, const struct xen_domctl_getdomaininfo *info)
{
    static struct vcpu_guest_context ctx;

    printk("watcher: d%u flags %#x, cpu time %lu ns\n", id, info->flags, info->cpu_time);
    memset(&op, 0, sizeof(op));
    op.u.vcpucontext.vcpu = 0;
    op.u.vcpucontext.ctxt = (uint64_t)&ctx;
    if (domctl(XEN_DOMCTL_pausedomain, id) == 0) {
        memset(&op, 0, sizeof(op));
        op.u.vcpucontext.ctxt = (uint64_t)&ctx;
        if (domctl(XEN_DOMCTL_getvcpucontext, id) == 0) {
            printk("watcher: d%u vCPU 0 at rip %#lx rsp %#lx rax %#lx flags %#lx\n", id,
                   ctx.user_regs.rip, ctx.user_regs.rsp, ctx.user_regs.rax, ctx.flags);
            return ctx.user_regs.rip >= VIRT_BASE && ctx.user_regs.rip < bootstrap_end();
        }
    }
    return false;
}

/* Builds, runs and destroys one fuzzer domain; false on a failure. */
static bool run_seed(uint64_t seed, uint64_t iterations)
{
    static char cmdline[128];
    struct xen_domctl_getdomaininfo info;
    uint64_t free0 = physinfo_free_pages(), end;
    domid_t id;

    id = domain_create_small(&op);
    snprintk(cmdline, sizeof(cmdline), "role=fuzz seed=%lu iterations=%lu trace=%lu", seed,
             iterations, cmdline_number("trace", ~0UL));
    /* max_mem leaves it room to grow a little. */
    domain_build_from_module(&op, id, cmdline, FUZZ_MEM_KB, FUZZ_MEM_KB + 1024);
    memset(&op, 0, sizeof(op));
    REQUIRE_EQ(domctl(XEN_DOMCTL_unpausedomain, id), 0);

    end = system_time_ns() + WAIT_NS;
    for (;;) {
        if (!domain_info(id, &info)) {
            printk("watcher: seed %lu: d%u vanished without being destroyed\n", seed, id);
            return false;
        }
        if (info.flags & XEN_DOMINF_shutdown)
            break;
        if (system_time_ns() > end) {
            printk("watcher: seed %lu: d%u neither finished nor was ended in %lu s\n", seed, id,
                   WAIT_NS / 1000000000);
            bool own_loop = report_stuck(id, &info);
            memset(&op, 0, sizeof(op));
            REQUIRE_EQ(domctl(XEN_DOMCTL_destroydomain, id), 0);
            uint64_t free1 = physinfo_free_pages();
            printk("watcher: seed %lu: d%u %s; destroyed; free pages %lu, %lu before\n", seed, id,
                   own_loop ? "loops in its own code (a stall of its own)" : "is stuck in Mica",
                   free1, free0);
            return own_loop && free1 == free0;
        }
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    }
    unsigned reason = (info.flags >> XEN_DOMINF_shutdownshift) & XEN_DOMINF_shutdownmask;
    memset(&op, 0, sizeof(op));
    REQUIRE_EQ(domctl(XEN_DOMCTL_destroydomain, id), 0);
    uint64_t free1 = physinfo_free_pages();
    /* Any reason is fine: SCHEDOP_shutdown_code may have changed it. */
    printk("watcher: seed %lu: d%u %s (reason %u); destroyed; free pages %lu, %lu before\n",
           seed, id, reason == SHUTDOWN_crash ? "crashed (by Mica, or gave up)" : "shut down", reason,
           free1, free0);
    return free1 == free0;
}

static enum result watcher(void)
{
    uint64_t seed = cmdline_number("seed", 1);
    uint64_t runs = cmdline_number("runs", 1);
    uint64_t iterations = cmdline_number("iterations", 10000);
    unsigned bad = 0;

    REQUIRE(start_info->mod_start && start_info->mod_len,
            "needs this kernel's ELF as its initrd module");
    for (uint64_t s = seed; s < seed + runs; s++)
        if (!run_seed(s, iterations)) {
            printk("watcher: FAILED seed %lu\n", s);
            bad++;
        }
    printk("watcher: %lu seeds from %lu, %u failed\n", runs, seed, bad);
    return bad ? RESULT_FAILURE : RESULT_SUCCESS;
}

enum result test_main(void)
{
    REQUIRE_EQ(traps_install(), 0);
    REQUIRE_EQ(events_init(), 0);
    return (start_info->flags & SIF_INITDOMAIN) ? watcher() : fuzzer();
}
