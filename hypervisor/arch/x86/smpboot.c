/*
 * Secondary CPU bring-up (see asm/smp.h).
 *
 * The boot CPU starts the others one at a time: it gives each its own
 * stack (struct cpu_info on top, processor_id set), GDT page, TSS and IST
 * stacks, then sends INIT, waits 10 ms, and sends two startup IPIs 200 us
 * apart (the sequence Intel's SDM, vol. 3 "MP initialization", and Xen
 * use).  The AP runs trampoline.S to long mode, loads its own tables,
 * copies the boot CPU's control registers and MSRs, enables its LAPIC and
 * reports online.  A CPU that has not called in within AP_CALLIN_MS is
 * reported and skipped; its stack slot is cleared first, so if it wakes
 * up later it parks instead of running on memory that is not its own.
 *
 * Everything the APs need is allocated here, on the boot CPU, before
 * the AP runs: the heap has no lock of its own.
 */
#include <asm/current.h>
#include <asm/desc.h>
#include <asm/io.h>
#include <asm/lapic.h>
#include <asm/paging.h>
#include <asm/pv.h>
#include <asm/smp.h>
#include <asm/time.h>
#include <asm/trampoline.h>
#include <asm/xpti.h>
#include <mica/context.h>
#include <mica/heap.h>
#include <mica/lib.h>
#include <mica/param.h>
#include <mica/percpu.h>
#include <mica/rcu.h>
#include <mica/sched.h>

#define AP_CALLIN_MS       5000    /* from the startup IPIs to the AP's first C */
#define AP_ONLINE_MS       5000    /* from there to online */
#define TRAMPOLINE_PAGES   4       /* code and data, then its L4, L3, L2 */
#define LOW_MEMORY_END     0x100000
#define MSR_EFER           0xc0000080
#define MSR_PAT            0x00000277
#define EFER_LMA           (1ULL << 10)

void ap_start_c(void);

enum cpu_boot_state {
    CPU_ABSENT,         /* not listed, not enabled, or beyond maxcpus= */
    CPU_BOOTING,        /* startup IPIs sent, waiting for the AP */
    CPU_CALLED_IN,      /* the AP runs Mica's C code */
    CPU_ONLINE,
    CPU_GAVE_UP,        /* did not call in in time: left alone for good */
};

u64 ap_stack_top[256];
cpumask_t cpu_online_map;

/* State changes by compare-and-swap: the boot CPU may give up on an AP
 * at the moment the AP calls in, and exactly one of the two must win. */
static u8 boot_state[CONFIG_MAX_CPUS];
static u32 apic_of_cpu[CONFIG_MAX_CPUS];      /* written before the AP starts */
static unsigned nr_online = 1;
static unsigned highest_cpu;
static u32 topo_threads_per_core = 1, topo_cores_per_socket = 1;
static unsigned topo_smt_shift, topo_pkg_shift;   /* from CPUID 0xb; 0 without it */

/* The boot CPU's settings every AP copies; written before any AP starts. */
static u64 bsp_cr0, bsp_cr4, bsp_efer, bsp_pat;

/* maxcpus= (Xen's spelling): how many CPUs to run, the boot CPU included. */
static u64 max_cpus_wanted = ~0ULL;

static int parse_maxcpus(const char *value, char *err, size_t errlen)
{
    const char *end;
    u64 n;

    if (!value || parse_uint(value, &end, &n) || *end) {
        snprintf(err, errlen, "needs a CPU count, like maxcpus=2 (all CPUs are started)");
        return 1;
    }
    max_cpus_wanted = n;
    return 0;
}
custom_param("maxcpus", parse_maxcpus);

unsigned num_online_cpus(void)
{
    return __atomic_load_n(&nr_online, __ATOMIC_ACQUIRE);
}

unsigned smp_max_cpu_id(void)
{
    return highest_cpu;
}

u32 cpu_apic_id(unsigned cpu)
{
    return apic_of_cpu[cpu];
}

u32 cpu_thread_id(unsigned cpu)
{
    return apic_of_cpu[cpu] & ((1u << topo_smt_shift) - 1);
}

void smp_topology(u32 *threads_per_core, u32 *cores_per_socket)
{
    *threads_per_core = topo_threads_per_core;
    *cores_per_socket = topo_cores_per_socket;
}

/*
 * APIC ID bits that name the thread within a core and the core within
 * a package, from CPUID leaf 0xb.  Without that leaf each CPU counts as
 * a package of its own (one thread, one core), which is what Mica can
 * vouch for.
 */
static void topology_shifts(unsigned *smt_shift, unsigned *pkg_shift)
{
    u32 a, b, c, d, max_leaf;

    *smt_shift = *pkg_shift = 0;
    cpuid(0, 0, &max_leaf, &b, &c, &d);
    if (max_leaf < 0xb)
        return;
    for (u32 sub = 0; sub < 8; sub++) {
        cpuid(0xb, sub, &a, &b, &c, &d);
        unsigned type = (c >> 8) & 0xff;        /* 1: SMT, 2: core, 0: no more levels */
        if (type == 0)
            break;
        if (type == 1)
            *smt_shift = a & 0x1f;
        *pkg_shift = a & 0x1f;
    }
}

/*
 * A CPU's core within its package and its package, from its APIC ID, as
 * Xen's cputopoinfo reports them (cpu_core_id, phys_proc_id).
 */
void cpu_topology_ids(unsigned cpu, u32 *core, u32 *socket)
{
    u32 id = apic_of_cpu[cpu];
    u32 core_bits = topo_pkg_shift - topo_smt_shift;

    *core = (id >> topo_smt_shift) & ((1u << core_bits) - 1);
    *socket = id >> topo_pkg_shift;
}

/* Counts, among online CPUs, the threads of CPU 0's core and the cores of its package. */
static void compute_topology(void)
{
    unsigned smt_shift, pkg_shift, threads = 0, cores = 0;
    u32 me = apic_of_cpu[0];

    topology_shifts(&smt_shift, &pkg_shift);
    topo_smt_shift = smt_shift;
    topo_pkg_shift = pkg_shift;
    for (unsigned i = 0; i <= highest_cpu; i++) {
        u32 id = apic_of_cpu[i];
        bool new_core = true;

        if (!cpu_online(i) || (id >> pkg_shift) != (me >> pkg_shift))
            continue;
        if ((id >> smt_shift) == (me >> smt_shift))
            threads++;
        for (unsigned j = 0; j < i; j++)
            if (cpu_online(j) && (apic_of_cpu[j] >> smt_shift) == (id >> smt_shift))
                new_core = false;
        if (new_core)
            cores++;
    }
    topo_threads_per_core = threads ? threads : 1;
    topo_cores_per_socket = cores ? cores : 1;
}

/*
 * A free, page-aligned RAM area below 1 MiB for the trampoline, from the
 * top down; never page 0 (the real-mode interrupt table and BIOS data).
 * memory_init() keeps the first MiB out of the frame allocator, so nothing
 * else hands these pages out.
 */
static paddr_t find_trampoline_area(const struct boot_info *bi)
{
    const u64 size = TRAMPOLINE_PAGES * PAGE_SIZE;
    paddr_t best = 0;

    for (unsigned i = 0; i < bi->nr_mmap; i++) {
        const struct boot_mmap_entry *e = &bi->mmap[i];
        u64 start = ALIGN_UP(MAX(e->addr, (u64)PAGE_SIZE), PAGE_SIZE);
        u64 end = ALIGN_DOWN(MIN(e->addr + e->len, (u64)LOW_MEMORY_END), PAGE_SIZE);

        if (e->type != MEM_AVAILABLE || end < start + size)
            continue;
        if (end - size > best)
            best = end - size;
    }
    return best;
}

static void put32(u8 *blob, const char *field, u32 value)
{
    memcpy(blob + (field - trampoline_start), &value, sizeof(value));
}

/*
 * Copies the trampoline to pa and gives it page tables: Mica's L4 slots
 * as they are now (the upper half, shared below L4), with slot 0 mapping
 * the first 2 MiB one to one so the trampoline survives turning on paging.
 */
static void trampoline_install(paddr_t pa)
{
    u8 *blob = maddr_to_virt(pa);
    u64 *l4 = maddr_to_virt(pa + PAGE_SIZE);
    u64 *l3 = maddr_to_virt(pa + 2 * PAGE_SIZE);
    u64 *l2 = maddr_to_virt(pa + 3 * PAGE_SIZE);
    size_t len = (size_t)(trampoline_end - trampoline_start);

    ASSERT(len <= PAGE_SIZE);
    memcpy(blob, trampoline_start, len);
    put32(blob, tramp_gdt_desc + 2, (u32)(pa + (u64)(tramp_gdt - trampoline_start)));
    put32(blob, tramp_jump32, (u32)(pa + (u64)(tramp32 - trampoline_start)));
    put32(blob, tramp_jump64, (u32)(pa + (u64)(tramp64 - trampoline_start)));
    put32(blob, tramp_cr3, (u32)(pa + PAGE_SIZE));
    put32(blob, tramp_efer, (u32)(bsp_efer & ~EFER_LMA));

    for (unsigned i = 0; i < 512; i++)
        l4[i] = idle_l4_entry(i);
    memset(l3, 0, PAGE_SIZE);
    memset(l2, 0, PAGE_SIZE);
    l4[0] = (pa + 2 * PAGE_SIZE) | PTE_P | PTE_RW;
    l3[0] = (pa + 3 * PAGE_SIZE) | PTE_P | PTE_RW;
    l2[0] = PTE_P | PTE_RW | PTE_PS;
}

/* Waits for CPU cpu to leave state `from`; false after ms milliseconds. */
static bool wait_while_state(unsigned cpu, u8 from, u64 ms)
{
    u64 start = now_ns();

    while (__atomic_load_n(&boot_state[cpu], __ATOMIC_ACQUIRE) == from)
        if (now_ns() - start > ms * 1000000ULL)
            return false;
        else
            cpu_relax();
    return true;
}

static bool start_cpu(unsigned cpu, u32 apic_id, paddr_t trampoline)
{
    u8 *stack = xmalloc_aligned(STACK_SIZE, STACK_SIZE);
    struct cpu_info *ci;
    u8 booting = CPU_BOOTING;

    if (!stack || !desc_alloc_cpu(cpu, stack) || percpu_area_init(cpu)) {
        xfree(stack);
        pr_err("SMP: no heap left for CPU %u's stack and tables; it stays offline\n", cpu);
        return false;
    }
    if (!xpti_cpu_setup(cpu, stack)) {
        pr_err("SMP: CPU %u stays offline: no XPTI root page table for it\n", cpu);
        return false;
    }
    ci = (struct cpu_info *)(stack + STACK_SIZE - CPU_INFO_SIZE);
    memset(ci, 0, sizeof(*ci));
    ci->processor_id = cpu;
    apic_of_cpu[cpu] = apic_id;
    __atomic_store_n(&boot_state[cpu], CPU_BOOTING, __ATOMIC_RELEASE);
    __atomic_store_n(&ap_stack_top[apic_id], (u64)(uintptr_t)ci, __ATOMIC_RELEASE);

    if (!lapic_send_init(apic_id)) {
        pr_err("SMP: the INIT IPI to APIC ID %u was never delivered\n", apic_id);
    } else {
        mdelay(10);
        for (unsigned i = 0; i < 2 && boot_state[cpu] == CPU_BOOTING; i++) {
            if (!lapic_send_startup(apic_id, trampoline))
                pr_err("SMP: a startup IPI to APIC ID %u was never delivered\n", apic_id);
            udelay(200);
        }
    }

    if (!wait_while_state(cpu, CPU_BOOTING, AP_CALLIN_MS) &&
        __atomic_compare_exchange_n(&boot_state[cpu], &booting, CPU_GAVE_UP, false,
                                    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        /* Its stack and tables stay allocated: a late AP may still touch them. */
        __atomic_store_n(&ap_stack_top[apic_id], 0, __ATOMIC_RELEASE);
        pr_err("SMP: CPU %u (APIC ID %u) did not answer within %u ms; skipped\n",
               cpu, apic_id, AP_CALLIN_MS);
        return false;
    }
    if (!wait_while_state(cpu, CPU_CALLED_IN, AP_ONLINE_MS)) {
        pr_err("SMP: CPU %u (APIC ID %u) started but did not finish its set-up within %u ms; "
               "left offline\n", cpu, apic_id, AP_ONLINE_MS);
        return false;
    }
    cpumask_set_cpu(cpu, &cpu_online_map);
    __atomic_fetch_add(&nr_online, 1, __ATOMIC_ACQ_REL);
    return true;
}

/* The AP's first C code, on its own stack, still on the trampoline's tables. */
void ap_start_c(void)
{
    unsigned cpu = smp_processor_id();
    u8 booting = CPU_BOOTING;

    if (!__atomic_compare_exchange_n(&boot_state[cpu], &booting, CPU_CALLED_IN, false,
                                     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return;                 /* the boot CPU gave up on us: ap_start64 parks */

    desc_init_secondary_cpu();
    write_cr3(idle_cr3);
    write_cr0(bsp_cr0);
    write_cr4(bsp_cr4);
    wrmsr(MSR_EFER, bsp_efer);
    wrmsr(MSR_PAT, bsp_pat);
    lapic_enable_this_cpu();
    pv_cpu_init();
    rcu_cpu_online(cpu);        /* before any hypercall: grace periods wait for it */
    __atomic_store_n(&boot_state[cpu], CPU_ONLINE, __ATOMIC_RELEASE);
    sched_start_secondary();
}

unsigned smp_boot_cpus(const struct acpi_info *acpi, const struct boot_info *bi)
{
    u32 me = lapic_id();
    unsigned limit = CONFIG_MAX_CPUS, cpu = 1, listed = 0;
    paddr_t trampoline = 0;

    apic_of_cpu[0] = me;
    boot_state[0] = CPU_ONLINE;
    cpumask_set_cpu(0, &cpu_online_map);
    if (max_cpus_wanted == 0) {
        /* Xen reads maxcpus=0 as "no limit" (set_nr_cpu_ids() in its setup.c). */
        pr_warn("SMP: maxcpus=0 sets no limit, as on Xen: starting every CPU the MADT "
                "lists (maxcpus=1 runs the boot CPU only)\n");
    } else if (max_cpus_wanted < limit) {
        limit = (unsigned)max_cpus_wanted;
    }

    bsp_cr0 = read_cr0();
    bsp_cr4 = read_cr4();
    bsp_efer = rdmsr(MSR_EFER);
    bsp_pat = rdmsr(MSR_PAT);

    for (unsigned i = 0; acpi && acpi->have_madt && i < acpi->ncpus; i++) {
        const struct acpi_cpu *c = &acpi->cpus[i];

        if (!c->enabled || c->apic_id == me)
            continue;
        listed++;
        if (cpu >= limit)
            continue;
        if (c->apic_id >= ARRAY_SIZE(ap_stack_top)) {
            pr_warn("SMP: CPU with APIC ID %u needs x2APIC mode, which Mica does not use; "
                    "skipped\n", c->apic_id);
            continue;
        }
        if (!trampoline) {
            trampoline = find_trampoline_area(bi);
            if (!trampoline) {
                pr_err("SMP: no free %u KiB below 1 MiB for the AP start code; "
                       "running on the boot CPU only\n", TRAMPOLINE_PAGES * 4);
                break;
            }
            trampoline_install(trampoline);
        }
        highest_cpu = cpu;
        start_cpu(cpu, c->apic_id, trampoline);
        cpu++;
    }
    compute_topology();
    printk("SMP: %u CPU%s online (%u listed enabled in the MADT%s)\n", nr_online,
           nr_online == 1 ? "" : "s", listed + 1,
           listed + 1 > limit ? ", the rest left out by maxcpus=" : "");
    return nr_online;
}
