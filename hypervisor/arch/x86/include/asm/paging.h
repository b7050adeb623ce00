/*
 * Mica's own page tables: the image mapped with the permissions of each
 * section, a direct map of RAM, and an area for device registers.
 */
#ifndef ASM_PAGING_H
#define ASM_PAGING_H

#include <asm/layout.h>
#include <mica/bootinfo.h>
#include <mica/types.h>

#define PTE_P    (1ULL << 0)
#define PTE_RW   (1ULL << 1)
#define PTE_US   (1ULL << 2)
#define PTE_PWT  (1ULL << 3)
#define PTE_PCD  (1ULL << 4)
#define PTE_A    (1ULL << 5)
#define PTE_D    (1ULL << 6)
#define PTE_PS   (1ULL << 7)
#define PTE_G    (1ULL << 8)
#define PTE_NX   (1ULL << 63)
#define PTE_ADDR_MASK 0x000ffffffffff000ULL

static inline void *maddr_to_virt(paddr_t pa)
{
    return (void *)(uintptr_t)(pa + DIRECTMAP_VIRT_START);
}

/*
 * Zeroes one frame through the direct map with `rep stosq`: 512 steps.
 * memset's unrolled store loop takes about 770 instructions a frame, and
 * a domain's destruction and population clear every frame it has (under
 * QEMU's icount each instruction is time; docs/benchmarks.md).
 */
static inline void clear_frame(mfn_t mfn)
{
    void *p = maddr_to_virt(mfn << PAGE_SHIFT);
    u64 n = PAGE_SIZE / 8;

    asm volatile("rep stosq" : "+D"(p), "+c"(n) : "a"(0ULL) : "memory");
}

/* Physical address of a direct-map or image address. */
paddr_t virt_to_maddr(const void *va);

/*
 * Replaces the boot page tables: maps Mica's image section by section
 * and every RAM-like range of the memory map into the direct map.
 */
void paging_init(const struct boot_info *bi);

/* Highest physical address the direct map covers (exclusive). */
paddr_t directmap_end(void);

/* True when [pa, pa+len) is readable through maddr_to_virt(). */
bool directmap_covers(paddr_t pa, u64 len);

/*
 * Maps device registers (uncached) or firmware tables (cached) outside
 * the direct map.  Returns NULL when the ioremap area is exhausted.
 */
void *ioremap(paddr_t pa, u64 len);
void *ioremap_cached(paddr_t pa, u64 len);

/*
 * Maps [pa, pa+len) read-only for guests at va (both 2 MiB aligned), in
 * Mica's L4 slots, which every guest L4 shares.  Used for the M2P.
 */
void paging_map_guest_readonly(u64 va, paddr_t pa, u64 len);

/* CR3 of Mica's own page tables (no guest mapped), loaded while idle. */
extern u64 idle_cr3;
/* Entry slot of Mica's own L4 (the upper half every address space shares). */
u64 idle_l4_entry(unsigned slot);

/* PTE_NX when the CPU has it, else 0 (the bit is reserved without NX). */
u64 paging_nx_flag(void);

/*
 * For page tables of another kind (XPTI's root tables, xpti.c): a zeroed
 * page-table page (panics when none is left, as all of Mica's own do),
 * and a copy, as a 4 KiB entry without the global bit, of how Mica's own
 * tables map the page at va, made in l4 with tables of its own (never
 * shared with Mica's).  False when Mica's tables do not map va.  Boot
 * time only, on the boot CPU.
 */
u64 *paging_new_table(void);
bool paging_clone_page(u64 *l4, u64 va);

/* Hands page-table allocation over to the frame allocator. */
void paging_use_frame_allocator(paddr_t (*alloc_page)(void));

/* Pages of page tables used so far, for the banner. */
unsigned paging_tables_used(void);

#endif
