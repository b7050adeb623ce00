/*
 * XPTI: the per-CPU root page tables and their guest slots (asm/xpti.h).
 */
#include <asm/atomic.h>
#include <asm/current.h>
#include <asm/desc.h>
#include <asm/io.h>
#include <asm/ipi.h>
#include <asm/layout.h>
#include <asm/paging.h>
#include <asm/sections.h>
#include <asm/smp.h>
#include <asm/spec_ctrl.h>
#include <asm/xpti.h>
#include <mica/domain.h>
#include <mica/lib.h>
#include <mica/sched.h>

#define CR4_PGE (1ULL << 7)

/*
 * Each CPU's root page table (its L4), built by the boot CPU before the
 * CPU runs; afterwards only that CPU writes its guest slots, with
 * interrupts off.  NULL while no domain kind uses XPTI.
 */
static u64 *root_pgt[NR_CPUS];

/* Mica's slots a guest must see: the read-only M2P and the per-domain area. */
#define SLOT_M2P        L4_SLOT(HYPERVISOR_AREA_START)
#define SLOT_PERDOMAIN  L4_SLOT(PERDOMAIN_VIRT_START)
#define SLOT_MICA_FIRST L4_SLOT(HYPERVISOR_AREA_START)
#define SLOT_MICA_END   (L4_SLOT(HYPERVISOR_AREA_END - 1) + 1)

static bool clone_range(u64 *l4, const void *start, u64 len)
{
    u64 va = ALIGN_DOWN((u64)(uintptr_t)start, PAGE_SIZE);
    u64 end = ALIGN_UP((u64)(uintptr_t)start + len, PAGE_SIZE);

    for (; va < end; va += PAGE_SIZE)
        if (!paging_clone_page(l4, va))
            return false;
    return true;
}

bool xpti_cpu_setup(unsigned cpu, const u8 *stack_block)
{
    const void *gdt, *tss, *idt;
    u64 *l4;

    if (!spec_xpti_any())
        return true;
    desc_cpu_pages(cpu, &gdt, &tss, &idt);
    l4 = paging_new_table();
    /*
     * The clones live in slots 261 and up (image, direct map), never in
     * the slots copied from the guest's L4 (0-255, 272-511, 256, 260).
     */
    if (!clone_range(l4, __entry_start, (u64)(__entry_end - __entry_start)) ||
        !clone_range(l4, stack_block, STACK_SIZE) ||
        !clone_range(l4, gdt, PAGE_SIZE) || !clone_range(l4, tss, PAGE_SIZE) ||
        !clone_range(l4, idt, PAGE_SIZE)) {
        pr_err("XPTI: CPU %u's root page table: a page it needs is not mapped\n", cpu);
        return false;
    }
    /* The exit's copy would overwrite a clone anywhere else. */
    for (unsigned s = 0; s < 512; s++)
        ASSERT(!(l4[s] & PTE_P) || (s >= SLOT_MICA_FIRST && s < SLOT_MICA_END &&
                                    s != SLOT_M2P && s != SLOT_PERDOMAIN));
    root_pgt[cpu] = l4;
    return true;
}

void xpti_prepare_exit(void)
{
    struct cpu_info *ci = get_cpu_info();
    u64 *root = root_pgt[ci->processor_id];
    u64 cr3 = read_cr3() & PTE_ADDR_MASK;

    ASSERT(root);
    if (ci->root_pgt_changed || ci->root_src != cr3) {
        const u64 *l4 = maddr_to_virt(cr3);

        /* Interrupts are off: no IPI can ask for a copy between these lines and the exit. */
        ci->root_pgt_changed = 0;
        memcpy(root, l4, SLOT_MICA_FIRST * sizeof(u64));
        memcpy(root + SLOT_MICA_END, l4 + SLOT_MICA_END, (512 - SLOT_MICA_END) * sizeof(u64));
        root[SLOT_M2P] = l4[SLOT_M2P];
        root[SLOT_PERDOMAIN] = l4[SLOT_PERDOMAIN];
        ci->root_src = cr3;
    }
    ci->pv_cr3 = virt_to_maddr(root);
}

void xpti_context_switch(const struct vcpu *next)
{
    struct cpu_info *ci = get_cpu_info();
    u64 cr4;

    ci->pv_cr3 = 0;
    ci->root_pgt_changed = 1;
    if (!next)
        return;
    cr4 = read_cr4();
    if (next->domain->arch.xpti ? (cr4 & CR4_PGE) : !(cr4 & CR4_PGE))
        write_cr4(cr4 ^ CR4_PGE);       /* either way the whole TLB goes */
}

static void mark_changed(void *arg)
{
    (void)arg;
    get_cpu_info()->root_pgt_changed = 1;
}

void xpti_l4_written(const struct domain *d)
{
    cpumask_t others;

    if (!d->arch.xpti)
        return;
    get_cpu_info()->root_pgt_changed = 1;
    /*
     * The entry's store before the mask's load (a store may pass a later
     * load): a CPU that sets its bit afterwards (a locked operation, in
     * arch_context_switch(), before it loads d's tables and copies them
     * on its exit) then reads the new entry, one that set it before is
     * in the mask (as flush_tlb_domain()).
     */
    smp_mb();
    cpumask_copy(&others, &d->arch.dirty_cpumask);
    __cpumask_clear_cpu(smp_processor_id(), &others);
    /*
     * A CPU answers in Mica's code and runs the exit (and its copy)
     * before any more guest code, so once all have answered none runs
     * d on the old entry: only then may the caller drop what it named.
     */
    if (!cpumask_empty(&others))
        on_selected_cpus(&others, mark_changed, NULL);
}
