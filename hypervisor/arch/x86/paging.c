/*
 * Building Mica's page tables.
 *
 * Early on, no allocator exists, so page-table pages come from a small
 * static pool; using 1 GiB and 2 MiB pages for the direct map keeps that
 * pool ample for any realistic machine.  Once the frame allocator runs,
 * setup hands page-table allocation over to it.
 */
#include <asm/io.h>
#include <asm/paging.h>
#include <asm/sections.h>
#include <mica/lib.h>

#define BOOT_PT_POOL_PAGES 64
#define ENTRIES 512

static u64 boot_pt_pool[BOOT_PT_POOL_PAGES][ENTRIES] __aligned(4096);
static unsigned boot_pt_used;
static unsigned pt_pages_from_allocator;
static paddr_t (*pt_alloc_from_frames)(void);

static u64 *idle_l4;
u64 idle_cr3;                   /* Mica's own page tables, used while idle */
static u64 nx_flag;             /* PTE_NX when the CPU supports it */
static bool have_1g_pages;
static paddr_t directmap_top;
static u64 ioremap_next = IOREMAP_VIRT_START;

paddr_t virt_to_maddr(const void *va)
{
    u64 v = (u64)(uintptr_t)va;

    if (v >= DIRECTMAP_VIRT_START && v < DIRECTMAP_VIRT_END)
        return v - DIRECTMAP_VIRT_START;
    ASSERT(v >= MICA_VIRT_START && v < MICA_VIRT_START + GiB(1));
    return v - MICA_VIRT_START;
}

static u64 *pt_alloc(void)
{
    u64 *page;

    if (pt_alloc_from_frames) {
        paddr_t pa = pt_alloc_from_frames();
        if (!pa)
            panic("out of memory for page tables\n");
        page = maddr_to_virt(pa);
        pt_pages_from_allocator++;
    } else {
        if (boot_pt_used == BOOT_PT_POOL_PAGES)
            panic("boot page-table pool (%u pages) exhausted\n", BOOT_PT_POOL_PAGES);
        page = boot_pt_pool[boot_pt_used++];
    }
    memset(page, 0, PAGE_SIZE);
    return page;
}

void paging_use_frame_allocator(paddr_t (*alloc_page)(void))
{
    pt_alloc_from_frames = alloc_page;
}

unsigned paging_tables_used(void)
{
    return boot_pt_used + pt_pages_from_allocator;
}

static u64 *table_of(u64 entry)
{
    return maddr_to_virt(entry & PTE_ADDR_MASK);
}

/*
 * The next-level table under *entry, created if absent.  Intermediate
 * entries carry the user bit only where guests may look (the read-only
 * M2P): the leaf entries decide the rest.
 */
static u64 *next_table_flags(u64 *entry, u64 extra)
{
    if (!(*entry & PTE_P)) {
        u64 *t = pt_alloc();
        *entry = virt_to_maddr(t) | PTE_P | PTE_RW;
    }
    *entry |= extra;
    ASSERT(!(*entry & PTE_PS));
    return table_of(*entry);
}

static u64 *next_table(u64 *entry)
{
    return next_table_flags(entry, 0);
}

/*
 * Maps [va, va+len) to [pa, ...) with flags, choosing the largest page
 * size that alignment and the CPU allow.
 */
static void map_range(u64 *l4, u64 va, paddr_t pa, u64 len, u64 flags)
{
    u64 end = va + len;

    while (va < end) {
        u64 *l3 = next_table(&l4[L4_SLOT(va)]);
        u64 left = end - va;

        if (have_1g_pages && IS_ALIGNED(va | pa, GiB(1)) && left >= GiB(1)) {
            l3[L3_SLOT(va)] = pa | flags | PTE_PS;
            va += GiB(1), pa += GiB(1);
            continue;
        }
        u64 *l2 = next_table(&l3[L3_SLOT(va)]);
        if (IS_ALIGNED(va | pa, MiB(2)) && left >= MiB(2)) {
            l2[L2_SLOT(va)] = pa | flags | PTE_PS;
            va += MiB(2), pa += MiB(2);
            continue;
        }
        u64 *l1 = next_table(&l2[L2_SLOT(va)]);
        l1[L1_SLOT(va)] = pa | flags;
        va += PAGE_SIZE, pa += PAGE_SIZE;
    }
}

static void map_image_section(const char *start, const char *end, u64 flags)
{
    u64 va = (u64)(uintptr_t)start;
    u64 len = ALIGN_UP((u64)(uintptr_t)end, PAGE_SIZE) - va;

    map_range(idle_l4, va, va - MICA_VIRT_START, len, flags | PTE_P | PTE_G | PTE_A);
}

/* Firmware types worth having in the direct map: RAM and ACPI tables. */
static bool directmap_type(u32 type)
{
    return type == MEM_AVAILABLE || type == MEM_ACPI_RECLAIMABLE || type == MEM_ACPI_NVS;
}

void paging_init(const struct boot_info *bi)
{
    u32 a, b, c, d;
    u64 data_flags;

    cpuid(0x80000001, 0, &a, &b, &c, &d);
    nx_flag = (d & (1u << 20)) ? PTE_NX : 0;
    have_1g_pages = d & (1u << 26);
    data_flags = PTE_RW | PTE_D | nx_flag;

    idle_l4 = pt_alloc();
    map_image_section(__text_start, __text_end, 0);
    map_image_section(__rodata_start, __rodata_end, nx_flag);
    map_image_section(__data_start, __bss_end, data_flags);

    /* The first MiB whole: BIOS data, EBDA and ROM areas hold firmware tables. */
    map_range(idle_l4, DIRECTMAP_VIRT_START, 0, MiB(1),
              PTE_P | PTE_G | PTE_A | data_flags);
    directmap_top = MiB(1);
    for (unsigned i = 0; i < bi->nr_mmap; i++) {
        const struct boot_mmap_entry *e = &bi->mmap[i];
        u64 start = ALIGN_DOWN(e->addr, PAGE_SIZE);
        u64 end = ALIGN_UP(e->addr + e->len, PAGE_SIZE);

        if (!directmap_type(e->type))
            continue;
        if (start < MiB(1))
            start = MiB(1);
        if (end <= start)
            continue;
        if (end > DIRECTMAP_VIRT_END - DIRECTMAP_VIRT_START) {
            pr_warn("RAM above %#llx is beyond the direct map and ignored\n",
                    (unsigned long long)(DIRECTMAP_VIRT_END - DIRECTMAP_VIRT_START));
            end = DIRECTMAP_VIRT_END - DIRECTMAP_VIRT_START;
            if (end <= start)
                continue;
        }
        map_range(idle_l4, DIRECTMAP_VIRT_START + start, start, end - start,
                  PTE_P | PTE_G | PTE_A | data_flags);
        directmap_top = MAX(directmap_top, end);
    }

    /*
     * Global pages only after the switch: turning PGE on flushes every
     * TLB entry, including the boot mappings.
     */
    idle_cr3 = virt_to_maddr(idle_l4);
    write_cr3(idle_cr3);
    write_cr4(read_cr4() | (1u << 7));
}

u64 paging_nx_flag(void)
{
    return nx_flag;
}

/* Mica's L4 entries, which every guest L4 carries unchanged. */
u64 idle_l4_entry(unsigned slot)
{
    return idle_l4[slot];
}

paddr_t directmap_end(void)
{
    return directmap_top;
}

/*
 * Whether a range is in the direct map, judged by walking the tables
 * themselves rather than remembering ranges twice.
 */
bool directmap_covers(paddr_t pa, u64 len)
{
    u64 va = DIRECTMAP_VIRT_START + ALIGN_DOWN(pa, PAGE_SIZE);
    u64 end = DIRECTMAP_VIRT_START + pa + len;

    if (pa + len < pa || pa + len > directmap_top)
        return false;
    while (va < end) {
        u64 e = idle_l4[L4_SLOT(va)];
        if (!(e & PTE_P)) return false;
        e = table_of(e)[L3_SLOT(va)];
        if (!(e & PTE_P)) return false;
        if (e & PTE_PS) { va = ALIGN_DOWN(va, GiB(1)) + GiB(1); continue; }
        e = table_of(e)[L2_SLOT(va)];
        if (!(e & PTE_P)) return false;
        if (e & PTE_PS) { va = ALIGN_DOWN(va, MiB(2)) + MiB(2); continue; }
        e = table_of(e)[L1_SLOT(va)];
        if (!(e & PTE_P)) return false;
        va += PAGE_SIZE;
    }
    return true;
}

static void *ioremap_flags(paddr_t pa, u64 len, u64 cache_flags)
{
    paddr_t base = ALIGN_DOWN(pa, PAGE_SIZE);
    u64 size = ALIGN_UP(pa + len, PAGE_SIZE) - base;
    u64 va = ioremap_next;

    if (len == 0 || pa + len < pa || size > IOREMAP_VIRT_START + IOREMAP_VIRT_SIZE - va)
        return NULL;
    ioremap_next += size;
    /* 4 KiB pages only: device windows are small and rarely aligned. */
    for (u64 off = 0; off < size; off += PAGE_SIZE) {
        u64 *l3 = next_table(&idle_l4[L4_SLOT(va + off)]);
        u64 *l2 = next_table(&l3[L3_SLOT(va + off)]);
        u64 *l1 = next_table(&l2[L2_SLOT(va + off)]);
        l1[L1_SLOT(va + off)] = (base + off) | PTE_P | PTE_RW | PTE_A | PTE_D |
                                PTE_G | nx_flag | cache_flags;
    }
    return (void *)(uintptr_t)(va + (pa - base));
}

void paging_map_guest_readonly(u64 va, paddr_t pa, u64 len)
{
    for (u64 off = 0; off < len; off += MiB(2)) {
        u64 *l3 = next_table_flags(&idle_l4[L4_SLOT(va + off)], PTE_US);
        u64 *l2 = next_table_flags(&l3[L3_SLOT(va + off)], PTE_US);
        l2[L2_SLOT(va + off)] = (pa + off) | PTE_P | PTE_US | PTE_A | PTE_PS | nx_flag;
    }
}

u64 *paging_new_table(void)
{
    return pt_alloc();
}

/*
 * The leaf that maps va in Mica's own tables, as a 4 KiB entry: a large
 * page's frame for va, with its access bits (PAT sits elsewhere in large
 * entries; Mica's own mappings do not use it).  Global dropped: a copy
 * in another root must not outlive a CR3 switch in the TLB.  0 if unmapped.
 */
static u64 own_4k_leaf(u64 va)
{
    const u64 keep = PTE_P | PTE_RW | PTE_PWT | PTE_PCD | PTE_A | PTE_D | PTE_NX;
    u64 e = idle_l4[L4_SLOT(va)];

    if (!(e & PTE_P))
        return 0;
    e = table_of(e)[L3_SLOT(va)];
    if (!(e & PTE_P))
        return 0;
    if (e & PTE_PS)
        return ((e & PTE_ADDR_MASK & ~(GiB(1) - 1)) + (va & (GiB(1) - 1) & PAGE_MASK)) | (e & keep);
    e = table_of(e)[L2_SLOT(va)];
    if (!(e & PTE_P))
        return 0;
    if (e & PTE_PS)
        return ((e & PTE_ADDR_MASK & ~(MiB(2) - 1)) + (va & (MiB(2) - 1) & PAGE_MASK)) | (e & keep);
    e = table_of(e)[L1_SLOT(va)];
    return (e & PTE_P) ? (e & (PTE_ADDR_MASK | keep)) : 0;
}

bool paging_clone_page(u64 *l4, u64 va)
{
    u64 leaf = own_4k_leaf(va);

    if (!leaf)
        return false;
    u64 *l3 = next_table(&l4[L4_SLOT(va)]);
    u64 *l2 = next_table(&l3[L3_SLOT(va)]);
    u64 *l1 = next_table(&l2[L2_SLOT(va)]);
    l1[L1_SLOT(va)] = leaf;
    return true;
}

void *ioremap(paddr_t pa, u64 len)
{
    return ioremap_flags(pa, len, PTE_PCD | PTE_PWT);
}

void *ioremap_cached(paddr_t pa, u64 len)
{
    if (directmap_covers(pa, len))
        return maddr_to_virt(pa);
    return ioremap_flags(pa, len, 0);
}
