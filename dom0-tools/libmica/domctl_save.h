/*
 * The domctls behind save and restore (docs/state-files.md): page types,
 * vCPU contexts in and out, and resuming a suspended domain.  0 or
 * -errno; arguments are checked here first.
 */
#ifndef MICA_DOMCTL_SAVE_H
#define MICA_DOMCTL_SAVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domctl.h"
#include <public/arch-x86_64.h>

/* XEN_DOMCTL_resumedomain: the suspended domain carries on (its
   SCHEDOP_shutdown returns what its vCPU's rax holds). */
int mica_domain_resume(struct mica_hv *hv, uint16_t domid);

/* frames[i]: an MFN of the domain in, its XEN_DOMCTL_PFINFO_* type out;
   any n, asked in batches of 1024. */
int mica_domain_frame_types(struct mica_hv *hv, uint16_t domid, uint64_t *frames, size_t n);

/*
 * MICA_DOMCTL_copy_frames (public/mica_domctl.h): n frames (any n, asked
 * in batches of MICA_COPY_FRAMES_MAX) of a paused or shut-down domain,
 * mfns[i] to or from buf + i * 4096, without mapping them.  buf must be
 * resident: take it from mica_frame_buffer_alloc.  On failure *stopped
 * (may be NULL) is the index of the frame the hypervisor refused or could
 * not copy; the frames before it are copied.
 */
int mica_frames_copy(struct mica_hv *hv, uint16_t domid, const uint64_t *mfns, size_t n,
                     void *buf, bool to_domain, size_t *stopped);
/*
 * MICA_DOMCTL_list_tables (public/mica_domctl.h): the page-table frames of
 * a paused or shut-down domain, into *tables (malloc'd, *nr entries; the
 * caller frees it, also when *nr is 0).  Room for `guess` entries first;
 * asked once more with room for what the hypervisor counted when that
 * was short.  -ENOSYS from a hypervisor without the call.
 */
int mica_domain_tables(struct mica_hv *hv, uint16_t domid, uint32_t guess,
                       struct mica_table_frame **tables, uint32_t *nr);
/* pages * 4096 octets, resident and locked; NULL with errno set. */
void *mica_frame_buffer_alloc(size_t pages);
void mica_frame_buffer_free(void *buf, size_t pages);

int mica_vcpu_context_get(struct mica_hv *hv, uint16_t domid, uint32_t vcpu,
                          struct vcpu_guest_context *c);
int mica_vcpu_context_set(struct mica_hv *hv, uint16_t domid, uint32_t vcpu,
                          const struct vcpu_guest_context *c);
int mica_vcpu_ext_context_get(struct mica_hv *hv, uint16_t domid, uint32_t vcpu,
                              struct xen_domctl_ext_vcpucontext *evc);
int mica_vcpu_ext_context_set(struct mica_hv *hv, uint16_t domid, uint32_t vcpu,
                              const struct xen_domctl_ext_vcpucontext *evc);

/* XEN_DOMCTL_getvcpuextstate's size query: the feature mask that names
   the format and the largest buffer any vCPU of the domain needs (16
   octets and mask 0 when the host offers guests no XSAVE). */
int mica_vcpu_extstate_query(struct mica_hv *hv, uint16_t domid, uint32_t vcpu,
                             uint64_t *mask, uint64_t *size);
/* The vCPU's XCR0, XCR0_ACCUM and XSAVE area into buf (cap octets, at
   least the query's size); *used: the octets written. */
int mica_vcpu_extstate_get(struct mica_hv *hv, uint16_t domid, uint32_t vcpu, uint64_t mask,
                           void *buf, uint64_t cap, uint64_t *used);
/* XEN_DOMCTL_setvcpuextstate with a buffer as get gave it. */
int mica_vcpu_extstate_set(struct mica_hv *hv, uint16_t domid, uint32_t vcpu,
                           const void *buf, uint64_t size);
/*
 * XEN_DOMCTL_get_vcpu_msrs: the vCPU's MSRs that save/restore carries
 * (X86_PV_VCPU_MSRS: only those it has, only non-zero ones) into msrs,
 * which holds cap entries; *count: the entries written (0: no record).
 */
int mica_vcpu_msrs_get(struct mica_hv *hv, uint16_t domid, uint32_t vcpu,
                       struct xen_domctl_vcpu_msr *msrs, uint32_t cap, uint32_t *count);
/* XEN_DOMCTL_set_vcpu_msrs; on -EINVAL, *bad (may be NULL) is the index
   of the entry the hypervisor refused (those before it were taken). */
int mica_vcpu_msrs_set(struct mica_hv *hv, uint16_t domid, uint32_t vcpu,
                       const struct xen_domctl_vcpu_msr *msrs, uint32_t count, uint32_t *bad);
/*
 * XEN_DOMCTL_set_cpu_policy: the domain's CPUID leaves and MSRs (a saved
 * policy, as libxc's restore applies X86_CPUID_POLICY/X86_MSR_POLICY),
 * before the domain first runs.  On -EINVAL the hypervisor names what it
 * refused: *err_leaf and *err_subleaf (~0 when none) or *err_msr (~0 when none).
 */
int mica_domain_cpu_policy_set(struct mica_hv *hv, uint16_t domid,
                               const struct xen_cpuid_leaf *leaves, uint32_t nr_leaves,
                               const struct xen_msr_entry *msrs, uint32_t nr_msrs,
                               uint32_t *err_leaf, uint32_t *err_subleaf, uint32_t *err_msr);
/*
 * XEN_DOMCTL_shadow_op for log-dirty (docs/migration.md): op is one of
 * XEN_DOMCTL_SHADOW_OP_{ENABLE_LOGDIRTY,CLEAN,PEEK,OFF}; for CLEAN and
 * PEEK, bitmap (NULL: stats only) holds `pages` bits, one per PFN, and
 * stats (may be NULL) gets the fault and dirty counts.
 */
int mica_logdirty(struct mica_hv *hv, uint16_t domid, uint32_t op, uint32_t mode,
                  uint8_t *bitmap, uint64_t pages, struct xen_domctl_shadow_op_stats *stats);

/*
 * MICA_DOMCTL_logdirty_final (public/mica_domctl.h): the LOGDIRTY_FINAL
 * CLEAN of a live migration, the L1 tables whose kernel entries got RW
 * back listed in rw (up to rw_max entries, *rw_nr filled) instead of
 * reported dirty.  -ENOSYS from a hypervisor without it.
 */
int mica_logdirty_final(struct mica_hv *hv, uint16_t domid, uint8_t *bitmap, uint64_t pages,
                        struct mica_logdirty_rw *rw, uint32_t rw_max, uint32_t *rw_nr);

#endif
