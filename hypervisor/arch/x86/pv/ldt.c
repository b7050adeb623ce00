/*
 * Guest LDTs (see asm/ldt.h).
 *
 * Lazy mapping is what makes Mica answer as Xen does: SET_LDT never looks
 * at the pages, so it succeeds for an LDT that is still writable or holds
 * a bad descriptor, and the guest learns about it (a #PF at its own LDT
 * address) only when a selector with the TI bit is used.  A page mapped
 * into the view holds a general and a seg_desc type reference on its
 * frame until the LDT changes or the vCPU goes; as on Xen 4.17, dropping
 * the guest's own read-only mapping of it does not release it, so the
 * frame cannot become writable while it backs a loaded LDT.
 *
 * The CPU sets descriptors' accessed bits, so the view maps the frames
 * writable: the guest itself cannot write them, its mappings are read-only.
 */
#include <asm/desc.h>
#include <asm/descriptor.h>
#include <asm/io.h>
#include <asm/layout.h>
#include <asm/ldt.h>
#include <asm/paging.h>
#include <asm/pv_mm.h>
#include <mica/lib.h>
#include <public/errno.h>


#define LDT_VIEW_FIRST_PAGE 16u
#define DESC_TYPE_LDT       0x2ULL
#define DESC_P              (1ULL << 47)
/* Xen's __addr_ok(): below the canonical hole, or above the hypervisor's range. */
#define GUEST_LOW_END       0x0000800000000000ULL

static u64 ldt_view_va(const struct vcpu *v)
{
    return PERDOMAIN_VIRT_START + v->vcpu_id * PERDOMAIN_VCPU_STRIDE +
           (u64)LDT_VIEW_FIRST_PAGE * PAGE_SIZE;
}

static u64 *view_l1e(const struct vcpu *v, unsigned page)
{
    return pv_perdomain_l1e(v->domain, v->vcpu_id, LDT_VIEW_FIRST_PAGE + page);
}

bool pv_destroy_ldt(struct vcpu *v)
{
    bool any = false;

    for (unsigned i = 0; i < LDT_VIEW_PAGES; i++) {
        u64 *e = view_l1e(v, i);

        if (!v->arch.ldt_frames[i])
            continue;
        if (e)
            *e = 0;
        __asm__ volatile("invlpg (%0)" :: "r"(ldt_view_va(v) + i * PAGE_SIZE) : "memory");
        put_page_and_type(pv_frame(v->arch.ldt_frames[i]));
        v->arch.ldt_frames[i] = 0;
        any = true;
    }
    return any;
}

void pv_load_ldt(const struct vcpu *v)
{
    u64 *gdt = this_cpu_gdt_page();
    unsigned i = (LDT_SELECTOR - FIRST_RESERVED_GDT_BYTE) >> 3;
    u64 base, limit;

    if (!v || !v->arch.ldt_ents || !v->domain->arch.perdomain_l4e) {
        __asm__ volatile("lldt %w0" :: "r"(0));
        return;
    }
    base = ldt_view_va(v);
    limit = (u64)v->arch.ldt_ents * 8 - 1;
    gdt[i] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (DESC_TYPE_LDT << 40) | DESC_P |
             (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
    gdt[i + 1] = base >> 32;
    __asm__ volatile("lldt %w0" :: "r"(LDT_SELECTOR));
}

long pv_set_ldt(struct vcpu *v, u64 linear, u32 ents)
{
    u64 base = ents ? linear : 0;

    if ((base & (PAGE_SIZE - 1)) || ents > LDT_MAX_ENTRIES ||
        (base >= GUEST_LOW_END && base < HYPERVISOR_VIRT_END))
        return -XEN_EINVAL;
    if (!v->domain->arch.perdomain_l4e)
        return ents ? -XEN_ENOSYS : 0;   /* a domain made without its per-domain area */
    if (v->arch.ldt_ents == ents && v->arch.ldt_base == base)
        return 0;
    pv_destroy_ldt(v);
    v->arch.ldt_base = base;
    v->arch.ldt_ents = ents;
    pv_load_ldt(v);
    return 0;
}

/* Maps page `page` of v's LDT from the guest's kernel tables, if it may be one. */
static bool map_ldt_page(struct vcpu *v, unsigned page)
{
    u64 linear = v->arch.ldt_base + (u64)page * PAGE_SIZE, pte;
    struct page_info *pg;
    u64 *e = view_l1e(v, page);
    mfn_t l1;

    if (!e || !is_canonical(linear))
        return false;
    l1 = pt_find_l1(v, linear, true);
    if (l1 == INVALID_MFN)
        return false;
    pte = ((volatile u64 *)maddr_to_virt(l1 << PAGE_SHIFT))[L1_SLOT(linear)];
    if (!(pte & PTE_P))
        return false;
    pg = pv_frame((pte & PTE_ADDR_MASK) >> PAGE_SHIFT);
    if (!pg || get_page_and_type(pg, v->domain, PGT_SEG_DESC))
        return false;
    v->arch.ldt_frames[page] = pv_frame_mfn(pg);
    *e = (pv_frame_mfn(pg) << PAGE_SHIFT) | PTE_P | PTE_RW | PTE_A | PTE_D | paging_nx_flag();
    __asm__ volatile("invlpg (%0)" :: "r"(ldt_view_va(v) + (u64)page * PAGE_SIZE) : "memory");
    return true;
}

enum pv_ldt_fault pv_ldt_fault(struct vcpu *v, u64 addr, u64 *cr2, u32 *error)
{
    u64 view, offset;
    unsigned page;

    if (!v || !v->arch.ldt_ents)
        return PV_LDT_NOT_LDT;
    view = ldt_view_va(v);
    if (addr < view || addr >= view + (u64)LDT_VIEW_PAGES * PAGE_SIZE)
        return PV_LDT_NOT_LDT;
    offset = addr - view;
    page = (unsigned)(offset >> PAGE_SHIFT);
    /* The CPU checks the limit first; a mapped page faults for other reasons. */
    if (offset >= (u64)v->arch.ldt_ents * 8 || v->arch.ldt_frames[page])
        return PV_LDT_NOT_LDT;
    if (map_ldt_page(v, page))
        return PV_LDT_MAPPED;
    if (!is_canonical(v->arch.ldt_base + offset)) {
        /* The selector's index and TI bit, as the CPU would report it. */
        *error = (u32)((offset & ~3ULL) | 4);
        return PV_LDT_GUEST_GP;
    }
    *cr2 = v->arch.ldt_base + offset;
    return PV_LDT_GUEST_PF;
}
