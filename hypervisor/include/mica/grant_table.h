/*
 * Grant tables, versions 1 and 2 (grant_table_op, hypercall 20), as Xen
 * 4.17 offers them to PV guests: a domain lists in its table the frames other
 * domains may map or copy; the mapper tracks each mapping by a handle.
 *
 * Per domain: the shared frames (the guest's grant_entry_v1 or _v2
 * array), in version 2 the status frames (grant_status_t per entry), an
 * active entry per grant ref (pin counts by kind, who holds them, which
 * frame) and the maptrack (one record per mapping the domain holds of
 * other domains' grants, indexed by handle).
 *
 * A granter's table outlives the granter while any of its entries is
 * still pinned by another domain: mappings name it by pointer, so the
 * mapper can unmap normally.  Frames still mapped stay out of the
 * allocator (and the dying granter with them) through the MM teardown's
 * held frames (arch/x86/pv/mm_teardown.c) until the last mapping goes.
 */
#ifndef MICA_GRANT_TABLE_H
#define MICA_GRANT_TABLE_H

#include <mica/domain.h>
#include <mica/types.h>

/* Xen 4.17's defaults (gnttab_max_frames, gnttab_max_maptrack_frames). */
#define GRANT_MAX_FRAMES_DEFAULT    64u
#define MAPTRACK_MAX_FRAMES_DEFAULT 1024u
/* Xen 4.17 starts every table with one frame. */
#define GRANT_INITIAL_FRAMES        1u
/* Xen 4.17's gnttab=max-ver default; dom0 and boot domUs get it. */
#define GRANT_MAX_VERSION           2u

/* Creates d's table (one frame).  0 or -XEN_ENOMEM. */
long grant_table_create(struct domain *d);

/*
 * Limits from domctl createdomain: negative = the default, as in Xen.
 * -XEN_EINVAL for grant frames outside [1, 64], maptrack frames > 1024
 * or a max version outside [1, 2].  With d NULL, only the check.
 */
long grant_table_set_limits(struct domain *d, s32 max_grant_frames, s32 max_maptrack_frames,
                            u32 max_version);

/*
 * d is being destroyed: the mappings it holds of other domains' grants
 * are released, then its own table is detached (kept until no other
 * domain pins its entries).  Called before d's memory is released.
 */
void grant_domain_destroy(struct domain *d);

long do_grant_table_op(u64 cmd, u64 uop, u64 count);

#endif
