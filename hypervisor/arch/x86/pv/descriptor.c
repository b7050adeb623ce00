/*
 * Guest GDTs (see asm/descriptor.h).
 *
 * The CPU reads a running vCPU's GDT through a 64 KiB view in the
 * per-domain area: pages 0-13 map the guest's GDT frames read-only (or a
 * shared zero page, whose empty descriptors fault as they should), page
 * 14 maps this CPU's page of Mica descriptors, so selectors 0xe000 and up
 * (Mica's and the flat ring-3 ones) work whatever the guest installs.
 * Frames become GDT frames only as type seg_desc, which the reference
 * counts keep free of writable mappings, and every descriptor is checked
 * first: no descriptor a guest can install reaches ring 0.
 */
#include <asm/current.h>
#include <asm/desc.h>
#include <asm/descriptor.h>
#include <asm/guest_access.h>
#include <asm/io.h>
#include <asm/layout.h>
#include <asm/paging.h>
#include <asm/pv_mm.h>
#include <mica/lib.h>
#include <mica/page_alloc.h>
#include <public/errno.h>

#define DESC_P          (1ULL << 47)
#define DESC_S          (1ULL << 44)
#define DESC_DPL_SHIFT  45
#define DESC_TYPE_SHIFT 40
#define SYS_CALL_GATE   0xc
#define GDT_PAGES       16
#define GDT_GUEST_PAGES 14

static mfn_t zero_frame = INVALID_MFN;

static mfn_t alloc_zeroed(void)
{
    mfn_t mfn = alloc_frames(&host_frames, 0);

    if (mfn != INVALID_MFN) {
        memset(maddr_to_virt(mfn << PAGE_SHIFT), 0, PAGE_SIZE);
        mfn_to_page(&host_frames, mfn)->owner = PAGE_OWNER_MICA;
    }
    return mfn;
}

/*
 * The descriptor rules of the PV ABI: not-present descriptors as they
 * are; code and data with DPL raised to 3; of system descriptors only
 * call gates (forced to DPL 0 so that using one traps to Mica, the
 * original DPL kept in the target selector's RPL) and the zero upper
 * halves of 16-byte gates.  Returns false for anything else.
 */
static bool check_descriptor(u64 *desc)
{
    u64 d = *desc;
    unsigned type = (d >> DESC_TYPE_SHIFT) & 0xf, dpl = (d >> DESC_DPL_SHIFT) & 3;

    if (!(d & DESC_P))
        return true;
    if (d & DESC_S) {
        *desc = d | (3ULL << DESC_DPL_SHIFT);
        return true;
    }
    if (type == 0)
        return true;
    if (type != SYS_CALL_GATE)
        return false;
    {
        u16 sel = (u16)(d >> 16);
        /* A guest GDT entry, the flat kernel code selector, or the LDT. */
        if (!((sel & 4) || (sel >> 3) < GUEST_GDT_MAX_ENTRIES || (sel | 3) == RING3_CS64))
            return false;
        if (d & (0xffULL << 32))        /* parameter count must be 0 in 64-bit mode */
            return false;
        sel = (u16)((sel & ~3u) | dpl);
        d &= ~((3ULL << DESC_DPL_SHIFT) | (0xffffULL << 16));
        *desc = d | ((u64)sel << 16);
    }
    return true;
}

long pv_validate_descriptor_page(mfn_t mfn)
{
    u64 *page = maddr_to_virt(mfn << PAGE_SHIFT);

    for (unsigned i = 0; i < 512; i++) {
        u64 d = *(volatile u64 *)&page[i];      /* read once */
        if (!check_descriptor(&d))
            return -XEN_EINVAL;
        page[i] = d;
    }
    return 0;
}

static u64 *gdt_view_l1e(const struct domain *d, unsigned vcpu, unsigned page)
{
    u64 va = PERDOMAIN_VIRT_START + vcpu * PERDOMAIN_VCPU_STRIDE + (u64)page * PAGE_SIZE;
    u64 *l1 = d->arch.perdomain_l1[vcpu / 16];

    return l1 ? &l1[L1_SLOT(va)] : NULL;
}

u64 *pv_perdomain_l1e(const struct domain *d, unsigned vcpu, unsigned page)
{
    return gdt_view_l1e(d, vcpu, page);
}

static u64 gdt_view_va(unsigned vcpu)
{
    return PERDOMAIN_VIRT_START + vcpu * PERDOMAIN_VCPU_STRIDE;
}

static void free_mica_frame(mfn_t mfn)
{
    struct page_info *pg = mfn_to_page(&host_frames, mfn);

    pg->owner = PAGE_OWNER_NONE;
    pg->count_info = 0;
    pg->type_info = 0;
    free_frames(&host_frames, mfn, 0);
}

long pv_gdt_domain_init(struct domain *d)
{
    mfn_t l3, l2;
    u64 *l3v, *l2v;

    /* domctl createdomain made it already; the builder then finds it. */
    if (d->arch.perdomain_l4e)
        return 0;
    if (zero_frame == INVALID_MFN && (zero_frame = alloc_zeroed()) == INVALID_MFN)
        return -XEN_ENOMEM;
    l3 = alloc_zeroed();
    if (l3 == INVALID_MFN)
        return -XEN_ENOMEM;
    l2 = alloc_zeroed();
    if (l2 == INVALID_MFN) {
        free_mica_frame(l3);
        return -XEN_ENOMEM;
    }
    l3v = maddr_to_virt(l3 << PAGE_SHIFT);
    l2v = maddr_to_virt(l2 << PAGE_SHIFT);
    l3v[L3_SLOT(PERDOMAIN_VIRT_START)] = (l2 << PAGE_SHIFT) | PTE_P | PTE_RW | PTE_A;
    /* From here on pv_gdt_domain_destroy() finds everything through the L4 entry. */
    d->arch.perdomain_l4e = (l3 << PAGE_SHIFT) | PTE_P | PTE_RW | PTE_A;
    for (unsigned i = 0; i < 2 && i * 16 < d->max_vcpus; i++) {
        mfn_t l1 = alloc_zeroed();
        if (l1 == INVALID_MFN)
            return -XEN_ENOMEM;     /* the caller destroys d, and with it this area */
        d->arch.perdomain_l1[i] = maddr_to_virt(l1 << PAGE_SHIFT);
        l2v[L2_SLOT(PERDOMAIN_VIRT_START) + i] = (l1 << PAGE_SHIFT) | PTE_P | PTE_RW | PTE_A;
    }
    for (unsigned v = 0; v < d->max_vcpus; v++) {
        for (unsigned p = 0; p < GDT_GUEST_PAGES; p++)
            *gdt_view_l1e(d, v, p) = (zero_frame << PAGE_SHIFT) | PTE_P | PTE_A | paging_nx_flag();
        *gdt_view_l1e(d, v, GDT_GUEST_PAGES) =
            virt_to_maddr(this_cpu_gdt_page()) | PTE_P | PTE_RW | PTE_A | PTE_D | paging_nx_flag();
    }
    return 0;
}

/*
 * The per-domain area's own tables are Mica's frames (owner MICA), so the
 * owner walk of domain teardown does not see them: freed here.  The
 * frames the guest's GDT/LDT views point at are the guest's own.
 */
void pv_gdt_domain_destroy(struct domain *d)
{
    u64 *l3v;
    mfn_t l3, l2;

    if (!d->arch.perdomain_l4e)
        return;
    l3 = (d->arch.perdomain_l4e & PTE_ADDR_MASK) >> PAGE_SHIFT;
    l3v = maddr_to_virt(l3 << PAGE_SHIFT);
    l2 = (l3v[L3_SLOT(PERDOMAIN_VIRT_START)] & PTE_ADDR_MASK) >> PAGE_SHIFT;
    for (unsigned i = 0; i < 2; i++) {
        if (d->arch.perdomain_l1[i])
            free_mica_frame(virt_to_maddr(d->arch.perdomain_l1[i]) >> PAGE_SHIFT);
        d->arch.perdomain_l1[i] = NULL;
    }
    free_mica_frame(l2);
    free_mica_frame(l3);
    d->arch.perdomain_l4e = 0;
}

u64 pv_perdomain_l4e(const struct domain *d)
{
    return d ? d->arch.perdomain_l4e : 0;
}

struct desc_ptr {
    u16 limit;
    u64 base;
} __attribute__((packed));

void pv_load_gdt(const struct vcpu *v)
{
    struct desc_ptr p;

    if (v && v->domain->arch.perdomain_l4e) {
        /* The view's last page is Mica's GDT page of the CPU v runs on. */
        u64 *mica_page = gdt_view_l1e(v->domain, v->vcpu_id, GDT_GUEST_PAGES);
        u64 want = virt_to_maddr(this_cpu_gdt_page()) | PTE_P | PTE_RW | PTE_A | PTE_D |
                   paging_nx_flag();
        u64 va = gdt_view_va(v->vcpu_id) + GDT_GUEST_PAGES * PAGE_SIZE;

        if (mica_page && *mica_page != want) {
            *mica_page = want;
            __asm__ volatile("invlpg (%0)" :: "r"(va) : "memory");
        }
        p.base = gdt_view_va(v->vcpu_id);
    } else {
        p.base = (u64)(uintptr_t)this_cpu_gdt_page() - FIRST_RESERVED_GDT_BYTE;
    }
    p.limit = FIRST_RESERVED_GDT_BYTE + PAGE_SIZE - 1;
    __asm__ volatile("lgdt %0" :: "m"(p));
}

void pv_drop_gdt(struct vcpu *v)
{
    if (!v->domain->arch.perdomain_l4e)
        return;
    for (unsigned i = 0; i < GDT_GUEST_PAGES; i++) {
        if (v->arch.gdt_frames[i]) {
            put_page_and_type(pv_frame(v->arch.gdt_frames[i]));
            v->arch.gdt_frames[i] = 0;
        }
        *gdt_view_l1e(v->domain, v->vcpu_id, i) = (zero_frame << PAGE_SHIFT) | PTE_P | PTE_A | paging_nx_flag();
        /*
         * The view is in every L4 of the domain, and only the caller's
         * domain changes its own vCPUs' views: the live mapping is here.
         */
        __asm__ volatile("invlpg (%0)" :: "r"(gdt_view_va(v->vcpu_id) + i * PAGE_SIZE) : "memory");
    }
    v->arch.gdt_ents = 0;
}

long pv_set_gdt(struct vcpu *v, const u64 *frames, u64 entries)
{
    struct domain *d = v->domain;
    unsigned nr, got = 0;
    long rc = 0;

    if (!d->arch.perdomain_l4e)
        return -XEN_ENOSYS;             /* a domain made without its per-domain area */
    if (entries > GUEST_GDT_MAX_ENTRIES)
        return -XEN_EINVAL;
    nr = (unsigned)((entries + 511) / 512);
    /* Take every new frame before letting go of the old ones: all or nothing. */
    for (; got < nr; got++) {
        struct page_info *pg = pv_frame(frames[got]);
        if (!pg || (rc = get_page_and_type(pg, d, PGT_SEG_DESC))) {
            rc = -XEN_EINVAL;
            break;
        }
    }
    if (rc) {
        while (got--)
            put_page_and_type(pv_frame(frames[got]));
        return rc;
    }
    pv_drop_gdt(v);
    for (unsigned i = 0; i < nr; i++) {
        v->arch.gdt_frames[i] = frames[i];
        *gdt_view_l1e(d, v->vcpu_id, i) = (frames[i] << PAGE_SHIFT) | PTE_P | PTE_A | paging_nx_flag();
        __asm__ volatile("invlpg (%0)" :: "r"(gdt_view_va(v->vcpu_id) + i * PAGE_SIZE) : "memory");
    }
    v->arch.gdt_ents = (unsigned)entries;
    return 0;
}

long do_set_gdt(u64 frame_list, u64 entries)
{
    u64 frames[GDT_GUEST_PAGES];

    if (entries > GUEST_GDT_MAX_ENTRIES)
        return -XEN_EINVAL;
    if (copy_from_guest(frames, frame_list, ((entries + 511) / 512) * sizeof(u64)))
        return -XEN_EFAULT;
    return pv_set_gdt(current_vcpu(), frames, entries);
}

long do_update_descriptor(u64 maddr, u64 desc)
{
    struct domain *d = current_vcpu()->domain;
    struct page_info *pg;
    u64 *slot;
    long rc;

    if (maddr & 7)
        return -XEN_EINVAL;
    pg = pv_frame(maddr >> PAGE_SHIFT);
    if (!pg || !get_page(pg, d))
        return -XEN_EINVAL;
    if (!check_descriptor(&desc)) {
        put_page(pg);
        return -XEN_EINVAL;
    }
    /* A live descriptor page takes it as is; otherwise it must be ordinary memory. */
    if (page_type(pg) == PGT_SEG_DESC && page_type_count(pg)) {
        rc = get_page_type(pg, PGT_SEG_DESC);
    } else {
        rc = get_page_type(pg, PGT_WRITABLE);
    }
    if (rc) {
        put_page(pg);
        return -XEN_EINVAL;
    }
    slot = (u64 *)((u8 *)maddr_to_virt(maddr & PAGE_MASK) + (maddr & ~PAGE_MASK));
    *(volatile u64 *)slot = desc;
    put_page_and_type(pg);
    return 0;
}
