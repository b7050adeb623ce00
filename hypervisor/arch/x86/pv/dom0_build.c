/*
 * Building PV domains: dom0 and "domU" modules at boot, and later ones
 * for the toolstack's build domctl (common/domctl_build.c).  Dom0 comes
 * from the first multiboot module,
 * following the Xen x86-64 PV start-of-day layout so that unmodified PV
 * kernels boot:
 *
 *   VIRT_BASE ... kernel image (from its ELF PT_LOADs)
 *                 initrd (second module), unless the kernel asks for it
 *                   by frame number (MOD_START_PFN note)
 *                 p2m list: u64[nr_pages], pfn -> mfn, unless the kernel
 *                   names its own address for it (INIT_P2M note, below)
 *                 start_info page
 *                 bootstrap page tables (mapped read-only)
 *                 boot stack page
 *                 padding: >= 512 KiB, end rounded up to 4 MiB
 *
 * The whole region maps VA = VIRT_BASE + pfn * 4 KiB.  Frames come from
 * the frame allocator in as few extents as possible; each is zeroed
 * before the guest sees it.
 *
 * With an INIT_P2M note (Linux asks for 0x8000000000) the p2m list is not
 * in the region: its frames take the pfns after the region (and after an
 * initrd passed by frame number), first the list itself, then the L3, L2
 * and L1 tables that map it at the note's address, hung off the same L4.
 * start_info's first_p2m_pfn/nr_p2m_frames name those pfns, so the guest
 * can tell them from free memory; mfn_list is the note's address.  Xen
 * 4.17 does the same in both of its builders (its dom0 builder may use
 * 2 MiB/1 GiB pages for a big list; Mica maps it with 4 KiB pages).  A
 * domU's note is used only below VIRT_BASE, as Xen's toolstack builder
 * does; above, the list stays in the region.
 */
#include <asm/current.h>
#include <asm/descriptor.h>
#include <asm/desc.h>
#include <asm/layout.h>
#include <asm/m2p.h>
#include <asm/paging.h>
#include <asm/pv.h>
#include <asm/pv_mm.h>
#include <mica/bootinfo.h>
#include <mica/domain.h>
#include <mica/elf_pv.h>
#include <mica/event.h>
#include <mica/kernel_image.h>
#include <mica/lib.h>
#include <mica/page_alloc.h>
#include <mica/param.h>
#include <mica/sched.h>
#include <public/errno.h>
#include <public/xen.h>

#define MAX_EXTENTS 256
#define DEFAULT_DOM0_MEM MiB(512)
#define MIN_DOM0_MEM MiB(16)
#define PADDING_MIN KiB(512)
#define REGION_ALIGN MiB(4)

#define GUEST_L1_FLAGS (PTE_P | PTE_RW | PTE_A | PTE_US)
#define GUEST_TABLE_FLAGS (PTE_P | PTE_RW | PTE_A | PTE_D | PTE_US)

static u64 opt_dom0_mem;

/* `dom0_mem=<size>[,max:<size>]`; the max part is accepted and not used yet. */
static int parse_dom0_mem(const char *value, char *err, size_t errlen)
{
    char first[32];
    const char *comma;
    size_t n;
    u64 v;

    if (!value)
        goto bad;
    comma = strchr(value, ',');
    n = comma ? (size_t)(comma - value) : strlen(value);
    if (n == 0 || n >= sizeof(first))
        goto bad;
    memcpy(first, value, n);
    first[n] = '\0';
    if (parse_size(first, &v) || v < MIN_DOM0_MEM)
        goto bad;
    opt_dom0_mem = v;
    return 0;
bad:
    snprintf(err, errlen, "needs a size of at least 16M, like dom0_mem=512M");
    return -1;
}
custom_param("dom0_mem", parse_dom0_mem);

/*
 * `dom0_max_vcpus=<n>` or `dom0_max_vcpus=<min>-<max>` (either side may
 * be left out), Xen's spelling and meaning: dom0 gets as many vCPUs as
 * there are physical CPUs, but at least <min> and at most <max>; <n>
 * alone means exactly n.  Mica runs on one physical CPU today, so the
 * default is 1 and more vCPUs share it through the scheduler.
 */
static u64 opt_dom0_vcpus_min = 1, opt_dom0_vcpus_max = ~0ULL;
#define HOST_CPUS 1

static int parse_dom0_max_vcpus(const char *value, char *err, size_t errlen)
{
    const char *s = value;
    u64 lo = 1, hi = ~0ULL;

    if (!s || !*s)
        goto bad;
    if (*s == '-') {
        if (parse_uint(s + 1, &s, &hi))
            goto bad;
    } else {
        if (parse_uint(s, &s, &lo))
            goto bad;
        if (lo == 0)
            lo = 1;
        if (!*s)
            hi = lo;
        else if (*s++ == '-' && *s && parse_uint(s, &s, &hi))
            goto bad;
    }
    if (*s)
        goto bad;
    opt_dom0_vcpus_min = lo;
    opt_dom0_vcpus_max = hi;
    return 0;
bad:
    snprintf(err, errlen, "needs a count or a range, like dom0_max_vcpus=2 or dom0_max_vcpus=1-4");
    return -1;
}
custom_param("dom0_max_vcpus", parse_dom0_max_vcpus);

static unsigned dom0_vcpus(void)
{
    u64 n = HOST_CPUS;

    if (n < opt_dom0_vcpus_min)
        n = opt_dom0_vcpus_min;
    if (n > opt_dom0_vcpus_max)
        n = opt_dom0_vcpus_max;
    if (n > MAX_VIRT_CPUS) {
        pr_warn("dom0_max_vcpus: %llu vCPUs asked for, %u is the most a PV domain can have\n",
                (unsigned long long)n, MAX_VIRT_CPUS);
        n = MAX_VIRT_CPUS;
    }
    return n ? (unsigned)n : 1;
}

struct extent {
    mfn_t mfn;
    u64 count;
};

/* Frames set aside for page tables: pfns [pfn, pfn + nr), used in order. */
struct table_pool {
    u64 pfn, nr, used;
};

struct builder {
    struct domain *d;
    struct extent ext[MAX_EXTENTS];
    unsigned nr_ext;
    u64 nr_pages;
    u64 v_start, v_end;
    struct table_pool pt;           /* the region's tables, L4 first */
    struct table_pool p2m_pt;       /* INIT_P2M: the tables mapping the p2m list */
};

static mfn_t pfn_to_mfn(const struct builder *b, u64 pfn)
{
    for (unsigned i = 0; i < b->nr_ext; i++) {
        if (pfn < b->ext[i].count)
            return b->ext[i].mfn + pfn;
        pfn -= b->ext[i].count;
    }
    return INVALID_MFN;
}

static void *pfn_to_virt(const struct builder *b, u64 pfn)
{
    return maddr_to_virt(pfn_to_mfn(b, pfn) << PAGE_SHIFT);
}

static int allocate_memory(struct builder *b)
{
    u64 left = b->nr_pages;

    while (left) {
        unsigned order = MAX_ORDER;
        mfn_t mfn = INVALID_MFN;

        while ((1ULL << order) > left)
            order--;
        for (;; order--) {
            mfn = alloc_frames(&host_frames, order);
            if (mfn != INVALID_MFN || order == 0)
                break;
        }
        if (mfn == INVALID_MFN || b->nr_ext == MAX_EXTENTS) {
            pr_err("d%u: cannot allocate %llu more frames\n", b->d->domid, (unsigned long long)left);
            return -XEN_ENOMEM;
        }
        for (u64 i = 0; i < (1ULL << order); i++) {
            struct page_info *pg = mfn_to_page(&host_frames, mfn + i);
            pg->owner = b->d->domid;
            pg->count_info = 1;
            memset(maddr_to_virt((mfn + i) << PAGE_SHIFT), 0, PAGE_SIZE);
        }
        if (b->nr_ext && b->ext[b->nr_ext - 1].mfn + b->ext[b->nr_ext - 1].count == mfn)
            b->ext[b->nr_ext - 1].count += 1ULL << order;
        else
            b->ext[b->nr_ext++] = (struct extent){ mfn, 1ULL << order };
        left -= 1ULL << order;
    }
    b->d->tot_pages = b->nr_pages;
    /*
     * As on Xen, dom0 may grow without limit (dom0_mem's max: part is not
     * yet honoured).  A domU built by the build domctl keeps the ceiling
     * its toolstack set with max_mem (at least nr_pages, build_pv checks):
     * a domain that boots with <currentMemory> below <memory> may balloon
     * up to <memory>, as on Xen.  One never given a ceiling gets nr_pages.
     */
    if (b->d->is_privileged)
        b->d->max_pages = 0xffffffffULL;
    else if (b->d->max_pages < b->nr_pages)
        b->d->max_pages = b->nr_pages;
    return 0;
}

/* Page-table pages needed to map [start, end): one L4, then per level. */
static u64 count_tables(u64 start, u64 end)
{
    u64 last = end - 1;

    return 1 + ((last >> 39) - (start >> 39) + 1) + ((last >> 30) - (start >> 30) + 1) +
           ((last >> 21) - (start >> 21) + 1);
}

/*
 * Tables needed to map [start, end) that the region's tree [r_start,
 * r_end) does not have already (the L4 is always shared).
 */
static u64 count_extra_tables(u64 start, u64 end, u64 r_start, u64 r_end)
{
    u64 n = 0;

    for (unsigned shift = 39; shift >= 21; shift -= 9) {
        u64 a = start >> shift, z = (end - 1) >> shift;
        u64 ra = r_start >> shift, rz = (r_end - 1) >> shift;
        u64 lo = MAX(a, ra), hi = MIN(z, rz);

        n += z - a + 1 - (lo <= hi ? hi - lo + 1 : 0);
    }
    return n;
}

static u64 *new_table(struct builder *b, struct table_pool *pool, u64 *pfn_out)
{
    u64 pfn = pool->pfn + pool->used++;

    ASSERT(pool->used <= pool->nr);
    *pfn_out = pfn;
    return pfn_to_virt(b, pfn);
}

/* Types and references come later, from validating the finished tree. */
static u64 *table_below(struct builder *b, struct table_pool *pool, u64 *entry)
{
    u64 pfn;

    if (!(*entry & PTE_P)) {
        new_table(b, pool, &pfn);
        *entry = (pfn_to_mfn(b, pfn) << PAGE_SHIFT) | GUEST_TABLE_FLAGS;
    }
    return maddr_to_virt(*entry & PTE_ADDR_MASK);
}

static bool is_pt_pfn(const struct builder *b, u64 pfn)
{
    return pfn >= b->pt.pfn && pfn < b->pt.pfn + b->pt.nr;
}

/* Map nr frames from pfn at va (writable), with tables from pool. */
static void map_extra(struct builder *b, u64 *l4, struct table_pool *pool, u64 va, u64 pfn,
                      u64 nr)
{
    for (u64 i = 0; i < nr; i++, va += PAGE_SIZE) {
        u64 *l3 = table_below(b, pool, &l4[L4_SLOT(va)]);
        u64 *l2 = table_below(b, pool, &l3[L3_SLOT(va)]);
        u64 *l1 = table_below(b, pool, &l2[L2_SLOT(va)]);

        l1[L1_SLOT(va)] = (pfn_to_mfn(b, pfn + i) << PAGE_SHIFT) | GUEST_L1_FLAGS;
    }
}

static mfn_t build_page_tables(struct builder *b)
{
    u64 l4_pfn;
    u64 *l4 = new_table(b, &b->pt, &l4_pfn);
    mfn_t l4_mfn = pfn_to_mfn(b, l4_pfn);

    /* Mica's own slots, out of the guest's reach (no user bit). */
    for (unsigned s = L4_SLOT(HYPERVISOR_AREA_START); s < L4_SLOT(HYPERVISOR_AREA_END); s++)
        l4[s] = idle_l4_entry(s);

    for (u64 va = b->v_start; va < b->v_end; va += PAGE_SIZE) {
        u64 pfn = (va - b->v_start) >> PAGE_SHIFT;
        u64 *l3 = table_below(b, &b->pt, &l4[L4_SLOT(va)]);
        u64 *l2 = table_below(b, &b->pt, &l3[L3_SLOT(va)]);
        u64 *l1 = table_below(b, &b->pt, &l2[L2_SLOT(va)]);
        u64 flags = GUEST_L1_FLAGS;

        if (is_pt_pfn(b, pfn))
            flags &= ~PTE_RW;   /* the guest may read its tables, never write them */
        l1[L1_SLOT(va)] = (pfn_to_mfn(b, pfn) << PAGE_SHIFT) | flags;
    }
    return l4_mfn;
}

struct load_ctx {
    struct builder *b;
};

static int write_guest_va(void *ctx, u64 va, const void *src, u64 len)
{
    struct builder *b = ((struct load_ctx *)ctx)->b;

    while (len) {
        u64 pfn = (va - b->v_start) >> PAGE_SHIFT, off = va & (PAGE_SIZE - 1);
        u64 n = MIN(len, PAGE_SIZE - off);
        u8 *dst;

        if (va < b->v_start || pfn >= b->nr_pages)
            return -XEN_EINVAL;
        dst = (u8 *)pfn_to_virt(b, pfn) + off;
        if (src) {
            memcpy(dst, src, n);
            src = (const u8 *)src + n;
        } else {
            memset(dst, 0, n);
        }
        va += n;
        len -= n;
    }
    return 0;
}

static u64 default_dom0_pages(void)
{
    u64 free = frame_pool_free_count(&host_frames);
    u64 want = opt_dom0_mem ? opt_dom0_mem >> PAGE_SHIFT : DEFAULT_DOM0_MEM >> PAGE_SHIFT;
    /* Keep a sixteenth of free memory (and at least 8 MiB) for Mica itself. */
    u64 keep = MAX(free / 16, MiB(8) >> PAGE_SHIFT);
    u64 cap = free > keep ? free - keep : 0;

    if (want > cap) {
        if (opt_dom0_mem)
            pr_warn("dom0_mem=%lluM is more than the %lluM available; using %lluM\n",
                    (unsigned long long)(opt_dom0_mem >> 20),
                    (unsigned long long)(cap >> (20 - PAGE_SHIFT)),
                    (unsigned long long)(cap >> (20 - PAGE_SHIFT)));
        want = cap;
    }
    return want;
}

static u64 opt_domu_mem = MiB(32);
size_param("domU_mem", opt_domu_mem);

static long build_from_elf(struct domain *d, const void *image, size_t image_len,
                           const void *initrd, size_t initrd_len, u64 nr_pages,
                           const char *cmdline, struct pv_build_rings *rings);

long pv_build_domain(struct domain *d, const void *kernel, size_t kernel_len,
                     const void *initrd, size_t initrd_len, u64 nr_pages,
                     const char *cmdline, struct pv_build_rings *rings)
{
    struct kernel_image kimg;
    long rc;

    if (kernel_image_open(kernel, kernel_len, &kimg)) {
        pr_err("d%u: the kernel image cannot be used (see above)\n", d->domid);
        return -XEN_EINVAL;
    }
    rc = build_from_elf(d, kimg.elf, kimg.elf_len, initrd, initrd_len, nr_pages, cmdline, rings);
    kernel_image_close(&kimg);
    return rc;
}

/* Boot-time domains: dom0 and the "domU" modules, without console or store rings. */
static struct domain *build_boot_domain(domid_t domid, bool privileged,
                                        const struct boot_module *kmod,
                                        const struct boot_module *initrd, u64 nr_pages,
                                        const char *cmdline)
{
    /* vCPU 0 starts here; dom0's others wait for its VCPUOP_initialise. */
    struct domain *d = domain_create(domid, privileged, privileged ? dom0_vcpus() : 1);

    if (!d) {
        pr_err("d%u: cannot create the domain\n", domid);
        return NULL;
    }
    if (pv_build_domain(d, maddr_to_virt(kmod->start), kmod->end - kmod->start,
                        initrd ? maddr_to_virt(initrd->start) : NULL,
                        initrd ? initrd->end - initrd->start : 0, nr_pages, cmdline, NULL)) {
        /* Nothing of a failed build stays behind, at boot as from the toolstack. */
        domain_destroy(d);
        return NULL;
    }
    return d;
}

static long build_from_elf(struct domain *d, const void *image, size_t image_len,
                           const void *initrd, size_t initrd_len, u64 nr_pages,
                           const char *cmdline, struct pv_build_rings *rings)
{
    /* Too big for the stack; boot builds dom0 alone, domctl builds run under domctl_lock. */
    static struct builder b;
    static struct elf_pv_info info;
    domid_t domid = d->domid;
    bool privileged = d->is_privileged;
    struct elf_pv_policy policy = {
        .hv_features = ELF_PV_HV_FEATURES | (privileged ? 1U << XENFEAT_dom0 : 0),
        .dom0 = privileged,
    };
    struct load_ctx lctx = { &b };
    u64 cursor, v_initrd = 0, initrd_pfn = 0, v_p2m, v_si, v_store = 0, v_cons = 0, v_stack;
    u64 p2m_pages = ALIGN_UP(nr_pages * sizeof(u64), PAGE_SIZE) >> PAGE_SHIFT;
    u64 first_p2m_pfn = 0, nr_p2m_frames = 0, v_p2m_end;
    bool init_p2m;
    struct start_info *si;
    struct vcpu *v;
    mfn_t l4;
    long rc;

    if (elf_pv_parse(image, image_len, &policy, &info)) {
        pr_err("d%u: the kernel is not a usable PV kernel (see above)\n", domid);
        return -XEN_EINVAL;
    }
    memset(&b, 0, sizeof(b));
    b.nr_pages = nr_pages;
    b.d = d;

    /*
     * INIT_P2M: dom0 takes the note wherever it points (outside the
     * region, checked below); a domU only below VIRT_BASE, as Xen's
     * toolstack builder does (it ignores the note otherwise).
     */
    init_p2m = info.init_p2m != ELF_PV_UNSET;
    if (init_p2m && !privileged && info.init_p2m >= info.virt_base) {
        printk("d%u: INIT_P2M %#llx is not below VIRT_BASE %#llx: ignored, the p2m list "
               "goes into the kernel's region\n", domid, (unsigned long long)info.init_p2m,
               (unsigned long long)info.virt_base);
        init_p2m = false;
    }

    /* Lay out the bootstrap region (see the comment at the top). */
    b.v_start = info.virt_base;
    cursor = ALIGN_UP(info.virt_kend, PAGE_SIZE);
    if (initrd && !info.mod_start_pfn) {
        v_initrd = cursor;
        cursor += ALIGN_UP(initrd_len, PAGE_SIZE);
    }
    v_p2m = init_p2m ? info.init_p2m : cursor;
    if (!init_p2m)
        cursor += p2m_pages << PAGE_SHIFT;
    v_si = cursor;
    cursor += PAGE_SIZE;
    if (rings) {
        /* Xen's builder order: start_info, xenstore page, console page. */
        v_store = cursor;
        v_cons = cursor + PAGE_SIZE;
        cursor += 2 * PAGE_SIZE;
    }
    b.pt.pfn = (cursor - b.v_start) >> PAGE_SHIFT;
    b.pt.nr = 1;
    for (;;) {
        u64 end = ALIGN_UP(cursor + b.pt.nr * PAGE_SIZE + PAGE_SIZE + PADDING_MIN, REGION_ALIGN);
        u64 need = count_tables(b.v_start, end);
        if (need <= b.pt.nr) {
            b.v_end = end;
            break;
        }
        b.pt.nr = need;
    }
    v_stack = cursor + b.pt.nr * PAGE_SIZE;
    if (((b.v_end - b.v_start) >> PAGE_SHIFT) > b.nr_pages) {
        pr_err("d%u: the kernel's start-of-day region needs %llu MiB, more than its %llu MiB\n",
               domid, (unsigned long long)((b.v_end - b.v_start) >> 20),
               (unsigned long long)(b.nr_pages >> (20 - PAGE_SHIFT)));
        return -XEN_EINVAL;
    }
    if (info.mod_start_pfn && initrd) {
        initrd_pfn = (b.v_end - b.v_start) >> PAGE_SHIFT;
        if (initrd_pfn + (ALIGN_UP(initrd_len, PAGE_SIZE) >> PAGE_SHIFT) > b.nr_pages) {
            pr_err("d%u: no room for the initrd in the domain's memory\n", domid);
            return -XEN_EINVAL;
        }
    }
    v_p2m_end = v_p2m + (p2m_pages << PAGE_SHIFT);
    if (init_p2m) {
        /* The whole list, not only its start, must be a usable guest range. */
        bool low = v_p2m < HYPERVISOR_AREA_START;

        if (v_p2m_end <= v_p2m || (low && v_p2m_end > (1ULL << 47)) ||
            (!low && v_p2m < HYPERVISOR_AREA_END) ||
            (v_p2m < b.v_end && v_p2m_end > b.v_start)) {
            pr_err("d%u: INIT_P2M: a p2m list of %llu pages at %#llx-%#llx would not be in "
                   "canonical guest space outside the kernel's region %#llx-%#llx; the "
                   "kernel's note asks for an address Mica cannot honour\n", domid,
                   (unsigned long long)p2m_pages, (unsigned long long)v_p2m,
                   (unsigned long long)v_p2m_end, (unsigned long long)b.v_start,
                   (unsigned long long)b.v_end);
            return -XEN_EINVAL;
        }
        /* Its frames come after the region and an initrd passed by frame number. */
        first_p2m_pfn = (b.v_end - b.v_start) >> PAGE_SHIFT;
        if (info.mod_start_pfn && initrd)
            first_p2m_pfn += ALIGN_UP(initrd_len, PAGE_SIZE) >> PAGE_SHIFT;
        b.p2m_pt.pfn = first_p2m_pfn + p2m_pages;
        b.p2m_pt.nr = count_extra_tables(v_p2m, v_p2m_end, b.v_start, b.v_end);
        nr_p2m_frames = p2m_pages + b.p2m_pt.nr;
        if (first_p2m_pfn + nr_p2m_frames > b.nr_pages) {
            pr_err("d%u: no room for the p2m list (%llu frames with its tables) after the "
                   "kernel's region in the domain's %llu MiB\n", domid,
                   (unsigned long long)nr_p2m_frames,
                   (unsigned long long)(b.nr_pages >> (20 - PAGE_SHIFT)));
            return -XEN_EINVAL;
        }
    }
    if (info.virt_hypercall != ELF_PV_UNSET &&
        (info.virt_hypercall < b.v_start || info.virt_hypercall >= b.v_end)) {
        pr_err("d%u: HYPERCALL_PAGE %#llx lies outside the kernel's region\n",
               domid, (unsigned long long)info.virt_hypercall);
        return -XEN_EINVAL;
    }

    if ((rc = allocate_memory(&b)))
        return rc;
    l4 = build_page_tables(&b);
    if (init_p2m) {
        map_extra(&b, maddr_to_virt(l4 << PAGE_SHIFT), &b.p2m_pt, v_p2m, first_p2m_pfn,
                  p2m_pages);
        ASSERT(b.p2m_pt.used == b.p2m_pt.nr);
    }

    if (elf_pv_load(image, image_len, &info, write_guest_va, &lctx)) {
        pr_err("d%u: loading the kernel image failed\n", domid);
        return -XEN_EINVAL;
    }
    if (initrd) {
        u64 va = v_initrd ? v_initrd : b.v_start + (initrd_pfn << PAGE_SHIFT);
        write_guest_va(&lctx, va, initrd, initrd_len);
    }
    for (u64 pfn = 0; pfn < b.nr_pages; pfn++) {
        u64 mfn = pfn_to_mfn(&b, pfn);
        u64 at = pfn * sizeof(u64);
        u64 list_pfn = init_p2m ? first_p2m_pfn + (at >> PAGE_SHIFT)
                                : (v_p2m - b.v_start + at) >> PAGE_SHIFT;

        ((u64 *)pfn_to_virt(&b, list_pfn))[(at & (PAGE_SIZE - 1)) / sizeof(u64)] = mfn;
        m2p_set(mfn, pfn);
    }
    if (info.virt_hypercall != ELF_PV_UNSET)
        pv_fill_hypercall_page(pfn_to_virt(&b, (info.virt_hypercall - b.v_start) >> PAGE_SHIFT));

    si = pfn_to_virt(&b, (v_si - b.v_start) >> PAGE_SHIFT);
    strlcpy(si->magic, "xen-3.0-x86_64", sizeof(si->magic));
    si->nr_pages = b.nr_pages;
    si->shared_info = b.d->shared_info_mfn << PAGE_SHIFT;
    si->flags = (privileged ? SIF_PRIVILEGED | SIF_INITDOMAIN : 0) |
                (info.mod_start_pfn && initrd ? SIF_MOD_START_PFN : 0);
    si->pt_base = b.v_start + (b.pt.pfn << PAGE_SHIFT);
    si->nr_pt_frames = b.pt.nr;
    si->mfn_list = v_p2m;
    si->first_p2m_pfn = first_p2m_pfn;
    si->nr_p2m_frames = nr_p2m_frames;
    si->mod_start = !initrd ? 0 : info.mod_start_pfn ? initrd_pfn : v_initrd;
    si->mod_len = initrd ? initrd_len : 0;
    if (rings) {
        /* The pages are the guest's own (zeroed) memory; dom0 maps them by frame. */
        rings->store_mfn = pfn_to_mfn(&b, (v_store - b.v_start) >> PAGE_SHIFT);
        rings->console_mfn = pfn_to_mfn(&b, (v_cons - b.v_start) >> PAGE_SHIFT);
        si->store_mfn = rings->store_mfn;
        si->store_evtchn = rings->store_port;
        si->console.domU.mfn = rings->console_mfn;
        si->console.domU.evtchn = rings->console_port;
    }
    strlcpy(si->cmd_line, cmdline, sizeof(si->cmd_line));

    v = b.d->vcpus[0];
    memset(&v->arch.regs, 0, sizeof(v->arch.regs));
    v->arch.regs.rip = info.virt_entry;
    v->arch.regs.rsp = v_stack + PAGE_SIZE;
    v->arch.regs.rsi = v_si;
    v->arch.regs.rflags = 0x202;        /* hardware IF on; events start masked */
    v->arch.regs.cs = RING3_CS64;
    v->arch.regs.ss = RING3_DS;
    v->arch.kernel_mode = true;
    if ((rc = pv_gdt_domain_init(b.d))) {
        pr_err("d%u: no memory for its per-domain area\n", domid);
        return rc;
    }
    if ((rc = pv_mm_domain_init(b.d, l4))) {
        pr_err("d%u: the initial page tables do not validate\n", domid);
        return rc;
    }
    /* The toolstack may have opened ports in d already (alloc_unbound). */
    if (!b.d->evtchn && (rc = evtchn_domain_init(b.d)))
        return rc;
    v->state = VCPU_RUNNABLE;
    v->initialised = true;
    sched_add_vcpu(v);

    printk("d%u: %s kernel %s, %llu MiB in %u extents, %u vCPU%s, entry %#llx\n", domid,
           info.guest_os[0] ? info.guest_os : "PV", info.guest_version,
           (unsigned long long)(b.nr_pages >> (20 - PAGE_SHIFT)), b.nr_ext,
           d->max_vcpus, d->max_vcpus == 1 ? "" : "s",
           (unsigned long long)info.virt_entry);
    printk("d%u: region %#llx-%#llx: %s %#llx, start_info %#llx, %llu page tables at %#llx, stack %#llx\n",
           domid, (unsigned long long)b.v_start, (unsigned long long)b.v_end,
           init_p2m ? "p2m outside the region (INIT_P2M), at" : "p2m",
           (unsigned long long)v_p2m, (unsigned long long)v_si,
           (unsigned long long)b.pt.nr, (unsigned long long)si->pt_base,
           (unsigned long long)v_stack);
    if (init_p2m)
        printk("d%u: p2m list %#llx-%#llx in pfns %#llx-%#llx (%llu list pages, %llu page tables)\n",
               domid, (unsigned long long)v_p2m, (unsigned long long)v_p2m_end,
               (unsigned long long)first_p2m_pfn,
               (unsigned long long)(first_p2m_pfn + nr_p2m_frames - 1),
               (unsigned long long)p2m_pages, (unsigned long long)b.p2m_pt.nr);
    return 0;
}

/* The first word of a module's command line marks an extra guest. */
static const char *domu_cmdline(const struct boot_module *m)
{
    const char *s = m->cmdline;

    if (strncmp(s, "domU", 4) || (s[4] != '\0' && s[4] != ' '))
        return NULL;
    s += 4;
    while (*s == ' ')
        s++;
    return s;
}

/*
 * Module 0 is dom0's kernel; the first unmarked module after it is dom0's
 * initrd.  A module whose command line starts with the word "domU" is a
 * further PV kernel, started at boot as an unprivileged guest (domain 1,
 * 2, ...) with domU_mem= of memory and the rest of that line as its
 * command line.  This stands in for the toolstack until dom0 runs one.
 */
struct domain *pv_build_boot_domains(const struct boot_info *bi)
{
    const struct boot_module *initrd = NULL;
    const struct boot_module *domus[BOOT_MAX_MODULES];
    unsigned nr_domus = 0;
    struct domain *d0;
    u64 domu_pages = opt_domu_mem >> PAGE_SHIFT;

    for (unsigned i = 1; i < bi->nr_modules; i++) {
        if (domu_cmdline(&bi->modules[i]))
            domus[nr_domus++] = &bi->modules[i];
        else if (!initrd)
            initrd = &bi->modules[i];
        else
            pr_warn("module %u is neither dom0's initrd nor marked \"domU\"; ignored\n", i);
    }
    /* Guests first, so dom0's default size sees what they took. */
    for (unsigned i = 0; i < nr_domus; i++) {
        if (!build_boot_domain((domid_t)(i + 1), false, domus[i], NULL, domu_pages,
                               domu_cmdline(domus[i])))
            pr_err("d%u: not started (see above); the other domains go on\n", i + 1);
    }
    d0 = build_boot_domain(0, true, &bi->modules[0], initrd, default_dom0_pages(),
                           bi->modules[0].cmdline);
    return d0;
}
