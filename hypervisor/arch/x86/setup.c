/*
 * start_mica(): from the first C instruction to the end of boot.
 *
 * Order matters: exceptions are caught before anything can fault; the
 * boot information and command line are read before the console starts
 * (so `console=` and `com1=` take effect and nothing printed earlier is
 * lost); memory comes before ACPI (tables may need mappings); time before
 * the banner (which reports it).
 */
#include <asm/current.h>
#include <asm/desc.h>
#include <asm/io.h>
#include <asm/ipi.h>
#include <asm/iomem.h>
#include <asm/ioapic.h>
#include <asm/lapic.h>
#include <asm/m2p.h>
#include <asm/layout.h>
#include <asm/paging.h>
#include <asm/power.h>
#include <asm/platform_op.h>
#include <asm/pv.h>
#include <asm/sections.h>
#include <asm/smp.h>
#include <asm/spec_ctrl.h>
#include <asm/time.h>
#include <asm/uart.h>
#include <asm/xpti.h>
#include <mica/acpi.h>
#include <mica/bootinfo.h>
#include <mica/console.h>
#include <mica/heap.h>
#include <mica/lib.h>
#include <mica/memrange.h>
#include <mica/page_alloc.h>
#include <mica/param.h>
#include <mica/sched.h>
#include <mica/selftest.h>
#include <asm/traps.h>
#include <mica/version.h>

#define MAX_USABLE_RANGES (BOOT_MAX_MMAP + BOOT_MAX_MODULES + 8)

static struct boot_info boot_info;
static struct acpi_info acpi;
static struct mem_range usable[MAX_USABLE_RANGES];
static size_t nr_usable;
struct frame_pool host_frames;
static u64 boot_start_tsc;

const struct boot_info *boot_info_get(void)
{
    return &boot_info;
}

const char *boot_cmdline(void)
{
    return boot_info.cmdline;
}

static paddr_t image_start(void)
{
    return MICA_LOAD_PHYS;
}

static paddr_t image_end(void)
{
    return virt_to_maddr(__image_end);
}

static void __noreturn boot_fail(const char *why)
{
    uart_console_start();
    pr_err("Mica cannot boot: %s\n", why);
    machine_crash_stop();
}

static const char *mem_type_name(u32 type)
{
    switch (type) {
    case MEM_AVAILABLE: return "usable";
    case MEM_RESERVED: return "reserved";
    case MEM_ACPI_RECLAIMABLE: return "ACPI data";
    case MEM_ACPI_NVS: return "ACPI NVS";
    case MEM_BAD: return "unusable";
    default: return "other";
    }
}

static paddr_t alloc_pt_frame(void)
{
    mfn_t mfn = alloc_frames(&host_frames, 0);

    return mfn == INVALID_MFN ? 0 : mfn << PAGE_SHIFT;
}

/*
 * Usable RAM = available map entries minus what must survive: the first
 * MiB (firmware data, future AP trampolines), Mica itself, and the
 * modules.  The boot information was copied out by the parser, so its
 * frames are free to reuse.  From what is left come the frame table and
 * the heap; the rest goes to the frame allocator.
 */
static void memory_init(void)
{
    struct mem_range avail[BOOT_MAX_MMAP], reserved[BOOT_MAX_MODULES + 2];
    size_t n_avail = 0, n_reserved = 0;
    u64 top = 0, table_bytes, heap_bytes = MiB(CONFIG_HEAP_SIZE_MB);
    u64 table_pa, heap_pa;
    mfn_t nr_frames;

    for (unsigned i = 0; i < boot_info.nr_mmap; i++) {
        const struct boot_mmap_entry *e = &boot_info.mmap[i];
        u64 end = MIN(e->addr + e->len, directmap_end());
        if (e->type != MEM_AVAILABLE || end <= e->addr)
            continue;
        avail[n_avail++] = (struct mem_range){ e->addr, end };
    }
    reserved[n_reserved++] = (struct mem_range){ 0, MiB(1) };
    reserved[n_reserved++] = (struct mem_range){ image_start(), image_end() };
    for (unsigned i = 0; i < boot_info.nr_modules; i++)
        reserved[n_reserved++] = (struct mem_range){ boot_info.modules[i].start,
                                                     ALIGN_UP(boot_info.modules[i].end, PAGE_SIZE) };

    if (memrange_build_usable(usable, &nr_usable, ARRAY_SIZE(usable),
                              avail, n_avail, reserved, n_reserved) != MEMRANGE_OK)
        boot_fail("the memory map is too fragmented to describe");
    if (nr_usable == 0)
        boot_fail("no usable RAM is left after Mica and its modules");
    top = usable[nr_usable - 1].end;

    nr_frames = top >> PAGE_SHIFT;
    table_bytes = ALIGN_UP(nr_frames * sizeof(struct page_info), PAGE_SIZE);
    if (memrange_carve(usable, &nr_usable, ARRAY_SIZE(usable), table_bytes,
                       PAGE_SIZE, MEMRANGE_NO_LIMIT, &table_pa) != MEMRANGE_OK)
        boot_fail("not enough contiguous RAM for the frame table");
    if (memrange_carve(usable, &nr_usable, ARRAY_SIZE(usable), heap_bytes,
                       PAGE_SIZE, MEMRANGE_NO_LIMIT, &heap_pa) != MEMRANGE_OK)
        boot_fail("not enough contiguous RAM for the heap (CONFIG_HEAP_SIZE_MB)");

    frame_pool_init(&host_frames, maddr_to_virt(table_pa), nr_frames);
    for (size_t i = 0; i < nr_usable; i++)
        frame_pool_add_free(&host_frames, usable[i].start >> PAGE_SHIFT,
                            usable[i].end >> PAGE_SHIFT);
    heap_init(maddr_to_virt(heap_pa), heap_bytes);
    paging_use_frame_allocator(alloc_pt_frame);
    m2p_init(nr_frames);
#ifdef CONFIG_DEBUG
    if (frame_pool_check(&host_frames) != FRAME_OK)
        panic("frame allocator inconsistent right after boot\n");
#endif
}

static const void *acpi_map(paddr_t pa, size_t len, void *ctx)
{
    return ioremap_cached(pa, len);
}

static void acpi_init(void)
{
    int rc = acpi_parse(boot_info.rsdp_len ? boot_info.rsdp : NULL,
                        boot_info.rsdp_len, acpi_map, NULL, &acpi);

    if (rc != ACPI_OK)
        pr_warn("ACPI tables unusable (error %d): one CPU assumed, no ACPI power off\n", rc);
    power_init(rc == ACPI_OK ? &acpi : NULL);
    platform_op_init(rc == ACPI_OK ? &acpi : NULL);
    /* Device registers Mica programs: dom0 may look, not touch. */
    iomem_reserve_for_mica(acpi.have_madt ? acpi.lapic_addr : 0xfee00000ULL);
    for (unsigned i = 0; rc == ACPI_OK && i < acpi.nioapics; i++)
        iomem_reserve_for_mica(acpi.ioapics[i].address);
    if (rc == ACPI_OK && acpi.have_hpet)
        iomem_reserve_for_mica(acpi.hpet_addr);
}

/*
 * Proves the timer interrupt path end to end before anything relies on it.
 * The interrupt is due after 1 ms; the wait allows 10 s because under an
 * emulator on a busy host the CPU can be starved for a second or more, and
 * a hypervisor that boots late is better than one that panics on a slow
 * host.  A late interrupt is reported, a missing one is fatal.
 */
#define TIMER_CHECK_DUE_NS   1000000ULL
#define TIMER_CHECK_LATE_NS  1000000000ULL
#define TIMER_CHECK_LIMIT_NS 10000000000ULL

static void check_timer_interrupt(void)
{
    u64 before = lapic_timer_interrupts(), start = now_ns(), waited;

    lapic_timer_oneshot(TIMER_CHECK_DUE_NS);
    /* Spin rather than halt: a halt after a missed interrupt would never end. */
    local_irq_enable();
    while (lapic_timer_interrupts() == before && now_ns() - start < TIMER_CHECK_LIMIT_NS)
        cpu_relax();
    local_irq_disable();
    waited = now_ns() - start;
    if (lapic_timer_interrupts() == before)
        panic("local APIC timer interrupt never arrived (waited %llu s)\n",
              (unsigned long long)(TIMER_CHECK_LIMIT_NS / 1000000000ULL));
    if (waited > TIMER_CHECK_LATE_NS)
        pr_warn("Timer: the 1 ms one-shot LAPIC timer interrupt came only after %llu ms"
                " (a starved CPU under an emulator?)\n", (unsigned long long)(waited / 1000000));
    printk("Timer: 1 ms one-shot LAPIC timer interrupt arrived after %llu us\n",
           (unsigned long long)(waited / 1000));
}

static void print_banner(void)
{
    char uart[64];
    u64 ram = 0;
    struct heap_stats heap;

    printk("Mica %s: an x86-64 paravirtualizing hypervisor\n", MICA_VERSION_STRING);
    printk("Built with gcc %s\n", __VERSION__);
    printk("Boot loader: %s\n", boot_info.loader_name);
    printk("Command line: %s\n", boot_info.cmdline);
    uart_describe(uart, sizeof(uart));
    printk("Console: %s (%s), loglvl %d\n",
           console_wanted("com1") ? "com1" : "none", uart, console_loglevel());
    printk("Memory map%s:\n", boot_info.mmap_from_meminfo ? " (from basic meminfo)" : "");
    for (unsigned i = 0; i < boot_info.nr_mmap; i++) {
        const struct boot_mmap_entry *e = &boot_info.mmap[i];
        printk("  %016llx - %016llx (%s)\n", (unsigned long long)e->addr,
               (unsigned long long)(e->addr + e->len), mem_type_name(e->type));
        if (e->type == MEM_AVAILABLE)
            ram += e->len;
    }
    printk("Memory: %llu MiB RAM, %llu MiB free for guests (%llu frames), "
           "frame table %llu KiB, heap %u MiB\n",
           (unsigned long long)(ram >> 20),
           (unsigned long long)(frame_pool_free_count(&host_frames) >> (20 - PAGE_SHIFT)),
           (unsigned long long)frame_pool_free_count(&host_frames),
           (unsigned long long)(host_frames.nr_frames * sizeof(struct page_info) >> 10),
           CONFIG_HEAP_SIZE_MB);
    xheap_stats(&heap);
    printk("Heap: %zu KiB, %zu KiB free, largest allocation possible %zu KiB\n",
           heap.total >> 10, heap.free >> 10, heap.largest_alloc >> 10);
    printk("Mica image: %#llx - %#llx\n", (unsigned long long)image_start(),
           (unsigned long long)image_end());
    printk("Modules: %u\n", boot_info.nr_modules);
    for (unsigned i = 0; i < boot_info.nr_modules; i++) {
        const struct boot_module *m = &boot_info.modules[i];
        printk("  module %u: %#llx - %#llx (%llu KiB) cmdline \"%s\"\n", i,
               (unsigned long long)m->start, (unsigned long long)m->end,
               (unsigned long long)((m->end - m->start + 1023) >> 10), m->cmdline);
    }
    acpi_print_summary(&acpi);
    printk("CPUs: %u found (%u usable up to CONFIG_MAX_CPUS=%d); booted on APIC ID %u\n",
           acpi.have_madt ? acpi.ncpus + acpi.ncpus_dropped : 1,
           acpi.have_madt ? acpi.ncpus : 1, CONFIG_MAX_CPUS, lapic_id());
    printk("Time: TSC %llu.%03llu MHz, LAPIC timer %u ticks/ms, both calibrated against the %s\n",
           (unsigned long long)(tsc_khz() / 1000), (unsigned long long)(tsc_khz() % 1000),
           lapic_timer_ticks_per_ms(), time_reference_name());
}

void start_mica(u32 magic, u32 info_pa);
void start_mica(u32 magic, u32 info_pa)
{
    const void *info = maddr_to_virt(info_pa);
    int rc;

    boot_start_tsc = rdtsc();
    desc_init_boot_cpu();

    if (magic != MB2_BOOTLOADER_MAGIC)
        boot_fail("not started by a multiboot2 loader");
    rc = mb2_parse(info, MB2_INFO_MAX, info_pa, image_start(), image_end(), &boot_info);
    cmdline_parse_builtin(boot_info.cmdline);
    uart_console_start();
    if (rc)
        boot_fail("the boot information from the loader is unusable (see above)");

    paging_init(&boot_info);
    iomem_init(&boot_info);
    spec_ctrl_init(&boot_info);
    memory_init();
    acpi_init();

    pic_disable();
    ioapic_init(acpi.have_madt ? &acpi : NULL);
    time_init(acpi.have_hpet ? acpi.hpet_addr : 0);
    lapic_init();
    nmi_init();
    uart_input_start();         /* routes through the I/O APIC to this CPU's LAPIC */

    print_banner();
    check_timer_interrupt();
    printk("Boot took %llu ms of Mica's own time\n",
           (unsigned long long)((rdtsc() - boot_start_tsc) / (tsc_khz() ? tsc_khz() : 1)));
    printk("Mica is up.\n");

    selftest_run();
    pv_cpu_init();
    /* The boot CPU's stack block is where its struct cpu_info sits. */
    if (!xpti_cpu_setup(0, (const u8 *)get_cpu_info() + CPU_INFO_SIZE - STACK_SIZE))
        panic("XPTI (xpti=) is on but the boot CPU has no root page table\n");
    smp_boot_cpus(&acpi, &boot_info);
    smp_ipi_boot_check();
    selftest_run_smp();
    sched_init();

    if (boot_info.nr_modules == 0) {
        printk("No dom0 kernel given (no multiboot2 module): nothing to run, powering off.\n");
        machine_power_off();
    }
    if (!pv_build_boot_domains(&boot_info))
        boot_fail("dom0 could not be built (see above)");
    printk("Starting dom0\n");
    sched_start();
}
