/*
 * Mica's virtual memory layout on x86-64.
 *
 * Mica keeps to the range the Xen x86-64 PV ABI reserves for the
 * hypervisor, L4 slots 256-271 ([0xffff800000000000, 0xffff880000000000)),
 * so that PV guests can own every other slot.  Within it we use Xen's
 * placements where a guest can observe them (the read-only M2P at the
 * start of slot 256) and Xen's choices elsewhere, so that tools and
 * debugging habits carry over:
 *
 *   slot 256  0xffff800000000000  read-only M2P for guests (later)
 *   slot 260  0xffff820000000000  per-domain area (later)
 *   slot 261  0xffff82c000000000  ioremap area for device registers
 *             0xffff82d040000000  Mica's image (text, data, bss)
 *   slot 262+ 0xffff830000000000  direct map of all RAM
 */
#ifndef ASM_LAYOUT_H
#define ASM_LAYOUT_H

#ifdef __ASSEMBLY__
#define _AC(x, s) x
#else
#define _AC(x, s) x##s
#endif

#define HYPERVISOR_AREA_START  _AC(0xffff800000000000, UL)
#define HYPERVISOR_AREA_END    _AC(0xffff880000000000, UL)

/* L4 slot 260: the per-domain area; each vCPU's GDT view lives there. */
#define PERDOMAIN_VIRT_START   _AC(0xffff820000000000, UL)
#define PERDOMAIN_VCPU_STRIDE  _AC(0x20000, UL)          /* 128 KiB per vCPU */

#define IOREMAP_VIRT_START     _AC(0xffff82c000000000, UL)
#define IOREMAP_VIRT_SIZE      _AC(0x0000000040000000, UL)   /* 1 GiB */

/* The image is linked at MICA_VIRT_START + its physical load address. */
#define MICA_VIRT_START        _AC(0xffff82d040000000, UL)
#define MICA_LOAD_PHYS         _AC(0x200000, UL)

#define DIRECTMAP_VIRT_START   _AC(0xffff830000000000, UL)
#define DIRECTMAP_VIRT_END     _AC(0xffff880000000000, UL)

/* L4 slots, for code that builds page tables. */
#define L4_SLOT(va)            ((((va) >> 39) & 511))
#define L3_SLOT(va)            ((((va) >> 30) & 511))
#define L2_SLOT(va)            ((((va) >> 21) & 511))
#define L1_SLOT(va)            ((((va) >> 12) & 511))

#define BOOT_STACK_SIZE        _AC(0x4000, UL)

#ifndef __ASSEMBLY__
/* x86-64 virtual addresses must be sign-extended from bit 47. */
static inline int is_canonical(unsigned long va)
{
    return (unsigned long)((long)(va << 16) >> 16) == va;
}
#endif

#endif
