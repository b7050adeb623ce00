/*
 * Guest descriptor tables: the GDT frames a PV guest installs with
 * set_gdt, descriptor checks for those frames and update_descriptor,
 * and the per-vCPU GDT view in the per-domain area that the CPU uses
 * while the vCPU runs (guest frames in pages 0-13, Mica's own reserved
 * page at 0xe000 in page 14).
 */
#ifndef ASM_DESCRIPTOR_H
#define ASM_DESCRIPTOR_H

#include <mica/domain.h>

#define GUEST_GDT_MAX_ENTRIES 7168      /* 14 pages of 512 */

/* Sets up the domain's per-domain area; 0 or -XEN_ENOMEM. */
long pv_gdt_domain_init(struct domain *d);
/* Frees that area (domain teardown; also after a partial init). */
void pv_gdt_domain_destroy(struct domain *d);
/* Let go of the vCPU's GDT frames (set_gdt's references); the view shows the zero frame. */
void pv_drop_gdt(struct vcpu *v);
/* The L4 entry every table of d carries in the per-domain slot (0 if none). */
u64 pv_perdomain_l4e(const struct domain *d);

/*
 * The per-domain L1 entry of page `page` (0-31) of vCPU `vcpu`'s slot:
 * pages 0-15 are its GDT view, 16-31 its LDT view.  NULL without an area.
 */
u64 *pv_perdomain_l1e(const struct domain *d, unsigned vcpu, unsigned page);

/* Checks (and fixes up DPLs of) a page about to become a descriptor page. */
long pv_validate_descriptor_page(mfn_t mfn);

long do_set_gdt(u64 frame_list, u64 entries);
/*
 * Gives v (of the calling domain) the GDT frames[0..(entries+511)/512);
 * frames is Mica's own copy.  0, -XEN_EINVAL (a frame that cannot be a
 * descriptor page of v's domain, too many entries), -XEN_ENOSYS.
 */
long pv_set_gdt(struct vcpu *v, const u64 *frames, u64 entries);
long do_update_descriptor(u64 maddr, u64 desc);

/* Loads the GDT the CPU should use for v (Mica's own when v is NULL). */
void pv_load_gdt(const struct vcpu *v);

#endif
