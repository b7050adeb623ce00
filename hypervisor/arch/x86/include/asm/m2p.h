/*
 * The machine-to-phys table (M2P): for every machine frame, the guest
 * frame number its owner uses for it.  PV guests read it at the ABI's
 * fixed address (MACH2PHYS_VIRT_START, read-only); only Mica writes it.
 */
#ifndef ASM_M2P_H
#define ASM_M2P_H

#include <mica/types.h>

#define INVALID_M2P_ENTRY (~0ULL)

/* Allocates the table for every frame Mica manages and maps it for guests. */
void m2p_init(mfn_t nr_frames);
void m2p_set(mfn_t mfn, u64 pfn);
u64 m2p_get(mfn_t mfn);
/* First MFN of the i-th 2 MiB chunk backing the table (XENMEM_machphys_mfn_list). */
mfn_t m2p_chunk_mfn(unsigned i);
/* Highest frame number the table covers, plus one. */
mfn_t m2p_nr_frames(void);
/*
 * Whether mfn is one of the frames holding the table itself: the frames
 * Xen's ABI shares read-only with the control domain (owner DOMID_XEN),
 * which libxc's save maps to translate page tables (xc_map_m2p).  They
 * are never freed, so such a mapping takes no reference.
 */
bool m2p_is_table_frame(mfn_t mfn);

#endif
