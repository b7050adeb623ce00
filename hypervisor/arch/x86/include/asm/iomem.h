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

/*
 * Frames [first, last] stay read-only to new dom0 mappings while
 * protected (MSI-X tables Mica writes); false when no slot is free.
 * Mappings dom0 made earlier are not revoked (nor are they on Xen).
 */
bool iomem_protect_frames(mfn_t first, mfn_t last);
void iomem_unprotect_frames(mfn_t first, mfn_t last);

/* Whether dom0 may map mfn, writable or not. */
bool iomem_dom0_may_map(mfn_t mfn, bool writable);

#endif
