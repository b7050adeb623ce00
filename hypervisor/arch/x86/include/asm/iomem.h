/*
 * Machine frames that are not RAM (device registers, firmware areas) and
 * which of them the control domain may map, as Xen lets its hardware
 * domain map I/O memory.  RAM is never "I/O": it always has an owner.
 */
#ifndef ASM_IOMEM_H
#define ASM_IOMEM_H

#include <mica/bootinfo.h>
#include <mica/types.h>

/* Remembers the firmware memory map (RAM ranges) at boot. */
void iomem_init(const struct boot_info *bi);

/* Device pages Mica drives itself (local APIC, I/O APIC, HPET): dom0 may read, not write. */
void iomem_reserve_for_mica(paddr_t pa);

/* Whether dom0 may map mfn, writable or not. */
bool iomem_dom0_may_map(mfn_t mfn, bool writable);

#endif
