/*
 * Helpers shared by the hostile MMU test kernels (mmu_*.c): a pool of
 * spare pages from our own image, one-entry mmu_update and mmuext_op
 * calls, and the remapping that turns a page into page-table material.
 */
#ifndef MMU_COMMON_H
#define MMU_COMMON_H

#include "guest.h"

#ifndef MMU_POOL_PAGES
#define MMU_POOL_PAGES 16
#endif

static uint8_t pool[MMU_POOL_PAGES][4096] __attribute__((aligned(4096), section(".bss.page_aligned")));

#define PTE_PWT 0x008UL
#define PTE_PCD 0x010UL
#define PTE_PS  0x080UL
#define PTE_G   0x100UL
#define PTE_ADDR 0x000ffffffffff000UL

/* Address for the store probes below (TRAP_PROBE takes no operands). */
uint64_t probe_va;
#define PROBE_STORE "movq probe_va(%%rip), %%rax; 9990: movq $0, (%%rax)"
#define PROBE_LOAD  "movq probe_va(%%rip), %%rax; 9990: movq (%%rax), %%rax"

static inline uint64_t *pool_page(unsigned i) { return (uint64_t *)pool[i]; }
static inline uint64_t pool_mfn(unsigned i) { return va_to_mfn(pool[i]); }

static inline long mmu1(uint64_t ptr, uint64_t val)
{
    struct mmu_update u = { .ptr = ptr, .val = val };
    return HYPERVISOR_mmu_update(&u, 1, NULL, DOMID_SELF);
}

static inline long ext1(unsigned cmd, uint64_t arg)
{
    struct mmuext_op op = { .cmd = cmd, .arg1.mfn = arg };
    return HYPERVISOR_mmuext_op(&op, 1, NULL, DOMID_SELF);
}

/* Our own mapping of pool page i, read-only or writable. */
static inline long pool_ro(unsigned i)
{
    return map_mfn(pool[i], pool_mfn(i), PTE_P | PTE_US | PTE_A);
}
static inline long pool_rw(unsigned i)
{
    return map_mfn(pool[i], pool_mfn(i), PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D);
}

/* Machine address of entry `slot` of pool page i, for mmu_update. */
static inline uint64_t pool_entry_ma(unsigned i, unsigned slot)
{
    return (pool_mfn(i) << 12) + slot * 8;
}

/* The MFN of our running L4 (from start_info). */
static inline uint64_t l4_mfn(void)
{
    return va_to_mfn((void *)start_info->pt_base);
}

#endif
