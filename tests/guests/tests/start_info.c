/*
 * The start-of-day contract for dom0: start_info contents, the registers
 * at entry and the bootstrap layout (kernel, p2m list, start_info, page
 * tables, boot stack, then padding up to a 4 MiB boundary with at least
 * 512 KiB to spare), checked against the page tables themselves.
 */
#include "guest.h"

#define KiB 1024UL
#define MiB (1024UL * 1024)

static uint64_t round_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

static uint64_t read_cr3(void)
{
    uint64_t v;
    /* Privileged: the hypervisor emulates it for a PV kernel. */
    __asm__ volatile("mov %%cr3, %0" : "=r"(v));
    return v;
}

enum result test_main(void)
{
    struct start_info *si = start_info;
    uint64_t si_va = (uint64_t)si;
    uint64_t pte;

    printk("nr_pages %lu shared_info %#lx flags %#x pt_base %#lx nr_pt_frames %lu\n",
           si->nr_pages, si->shared_info, si->flags, si->pt_base, si->nr_pt_frames);
    printk("mfn_list %#lx mod_start %#lx mod_len %lu console %#x/%#x\n",
           si->mfn_list, si->mod_start, si->mod_len, si->console.dom0.info_off,
           si->console.dom0.info_size);
    printk("entry: rsp %#lx rflags %#lx cs %#x ss %#x ds %#x es %#x fs %#x gs %#x\n",
           boot_regs.rsp, boot_regs.rflags, boot_regs.cs, boot_regs.ss, boot_regs.ds,
           boot_regs.es, boot_regs.fs, boot_regs.gs);

    /* Identity of the ABI and of the domain. */
    CHECK(!strncmp(si->magic, "xen-3.0-x86_64", sizeof(si->magic)), "magic is \"%.32s\"", si->magic);
    CHECK_EQ(si->flags & (SIF_PRIVILEGED | SIF_INITDOMAIN), SIF_PRIVILEGED | SIF_INITDOMAIN);
    CHECK_EQ(si->flags & (SIF_MULTIBOOT_MOD | SIF_MOD_START_PFN | SIF_VIRT_P2M_4TOOLS), 0);
    CHECK_EQ(si->nr_pages, cmdline_number("dom0_pages", 0));
    CHECK(strstr(si->cmd_line, "test=start_info") != NULL, "command line \"%s\"", si->cmd_line);
    CHECK_EQ(si->store_mfn, 0);
    CHECK_EQ(si->store_evtchn, 0);
    CHECK_EQ(si->mod_start, 0);
    CHECK_EQ(si->mod_len, 0);
    /* No INIT_P2M note: no p2m frames outside the region (Xen still
     * fills first_p2m_pfn, so only the count is meaningful). */
    CHECK_EQ(si->nr_p2m_frames, 0);
    CHECK(si->console.dom0.info_size == 0 ||
          (si->console.dom0.info_off >= sizeof(*si) &&
           si->console.dom0.info_off + si->console.dom0.info_size <= PAGE_SIZE),
          "dom0 console info %#x+%#x", si->console.dom0.info_off, si->console.dom0.info_size);

    /* Registers at entry. */
    CHECK_EQ(boot_regs.rsi, si_va);
    CHECK_EQ(boot_regs.cs, FLAT_KERNEL_CS);
    CHECK_EQ(boot_regs.ss, FLAT_KERNEL_SS);
    CHECK_EQ(boot_regs.ds, 0);
    CHECK_EQ(boot_regs.es, 0);
    CHECK_EQ(boot_regs.fs, 0);
    CHECK_EQ(boot_regs.gs, 0);
    /* The ABI promises zeroed general registers (RCX/R11 are SYSRET's). */
    uint64_t gpr_or = boot_regs.rax | boot_regs.rbx | boot_regs.rdx | boot_regs.rdi |
                      boot_regs.rbp | boot_regs.r8 | boot_regs.r9 | boot_regs.r10 |
                      boot_regs.r12 | boot_regs.r13 | boot_regs.r14 | boot_regs.r15;
    CHECK_EQ(gpr_or, 0);
    CHECK(boot_regs.rflags & 0x200, "rflags %#lx: interrupts off", boot_regs.rflags);
    CHECK_EQ(boot_regs.rflags & 0x3000, 0);        /* IOPL 0 */

    /* The region, packed in ABI order from VIRT_BASE. */
    uint64_t p2m_bytes = round_up(si->nr_pages * 8, PAGE_SIZE);
    CHECK_EQ(si->mfn_list, round_up((uint64_t)_image_end, PAGE_SIZE));
    CHECK_EQ(si_va, si->mfn_list + p2m_bytes);
    CHECK_EQ(si->pt_base, si_va + PAGE_SIZE);
    CHECK(si->nr_pt_frames >= 4 && si->nr_pt_frames < 64, "nr_pt_frames %lu", si->nr_pt_frames);
    uint64_t stack_page = si->pt_base + si->nr_pt_frames * PAGE_SIZE;
    CHECK_EQ(boot_regs.rsp, stack_page + PAGE_SIZE);
    uint64_t end = bootstrap_end();
    printk("bootstrap region ends at %#lx\n", end);
    CHECK_EQ(end & (4 * MiB - 1), 0);
    CHECK(end >= boot_regs.rsp + 512 * KiB, "end %#lx leaves less than 512 KiB after the stack", end);

    /* Page tables: the L4 is CR3, and every table is mapped read-only. */
    CHECK_EQ(read_cr3() >> 12, va_to_mfn((void *)si->pt_base));
    for (uint64_t i = 0; i < si->nr_pt_frames; i++) {
        uint64_t va = si->pt_base + i * PAGE_SIZE;
        REQUIRE(lookup_pte(va, &pte), "page table %#lx is not mapped", va);
        CHECK((pte & (PTE_P | PTE_RW)) == PTE_P, "page table at %#lx mapped with %#lx", va, pte);
    }
    /* Everything else in the region is mapped writable, to the p2m's frame. */
    for (uint64_t va = VIRT_BASE; va < end; va += PAGE_SIZE) {
        if (va >= si->pt_base && va < stack_page)
            continue;
        if (!lookup_pte(va, &pte) || (pte & (PTE_P | PTE_RW)) != (PTE_P | PTE_RW)) {
            check_failed(__FILE__, __LINE__, "%#lx not mapped writable (pte %#lx)", va, pte);
            break;
        }
        if ((pte >> 12 & 0xffffffffffUL) != va_to_mfn((void *)va)) {
            check_failed(__FILE__, __LINE__, "%#lx maps mfn %#lx, p2m says %#lx", va,
                         pte >> 12 & 0xffffffffffUL, va_to_mfn((void *)va));
            break;
        }
    }

    /* p2m and the read-only M2P agree for every page of the domain. */
    unsigned bad = 0;
    for (uint64_t pfn = 0; pfn < si->nr_pages; pfn++) {
        uint64_t mfn = pfn_to_mfn(pfn);
        if (m2p(mfn) != pfn && bad++ < 4)
            check_failed(__FILE__, __LINE__, "pfn %#lx -> mfn %#lx -> pfn %#lx", pfn, mfn, m2p(mfn));
    }

    /* shared_info: page aligned, events masked on every legacy vCPU slot. */
    CHECK_EQ(si->shared_info & (PAGE_SIZE - 1), 0);
    struct shared_info *s = map_shared_info();
    for (int i = 0; i < XEN_LEGACY_MAX_VCPUS; i++) {
        CHECK_EQ(s->vcpu_info[i].evtchn_upcall_mask, 1);
        CHECK_EQ(s->vcpu_info[i].evtchn_upcall_pending, 0);
    }
    for (int w = 0; w < 64; w++)
        CHECK_EQ(s->evtchn_pending[w], 0);
    return RESULT_SUCCESS;
}
