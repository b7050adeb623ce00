/*
 * What vmctl save/restore (cmd_save.c, cmd_restore.c) share with live
 * migration (cmd_migrate.c): the saver's and the restorer's state and the
 * steps migration runs in its own order (docs/migration.md).
 */
#ifndef VMCTL_STATEFILE_H
#define VMCTL_STATEFILE_H

#include <stdbool.h>
#include <stdint.h>

#include "cli.h"
#include "domcfg.h"
#include "hv.h"
#include "domctl.h"
#include "domctl_save.h"
#include "ms_pagetable.h"
#include "ms_reader.h"
#include "ms_writer.h"
#include "ms_xenstore.h"
#include "privcmd.h"
#include "xs.h"
#include <public/xen.h>

#define STATEFILE_PAGE 4096u

struct save {
    const struct vmctl_command *cmd;
    struct hv *hv;
    struct mica_hv *mica;
    uint16_t domid;
    const char *name;
    struct xen_domctl_getdomaininfo info;
    uint64_t *p2m;                   /* pfn -> mfn, nr_pfns entries */
    uint64_t nr_pfns;
    uint64_t *p2m_frame_mfns;        /* the guest's p2m pages */
    uint64_t nr_p2m_frames;
    struct ms_m2p m2p;
    uint64_t start_info_pfn;
    struct ms_writer w;
    bool writer_open;
    bool progress;                   /* a terminal: show the percentage */
    void *prefix;                    /* --xl-format: xl's header, written first */
    size_t prefix_len;
    char err[512];
};

int save_fail(struct save *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* n frames of the guest into dst (n pages), through a read-only mapping. */
int copy_frames(struct save *s, const uint64_t *mfns, size_t n, void *dst, const char *what);
/* The guest's p2m (s->p2m, s->nr_pfns, its frames) and its inverse (s->m2p). */
int read_p2m(struct save *s, uint8_t shinfo[STATEFILE_PAGE]);
int to_pfn(struct save *s, uint64_t mfn, uint64_t *pfn, const char *what);
int canonical_context(struct save *s, struct vcpu_guest_context *c);
int collect_xenstore(struct save *s, struct ms_xs_blob *b);
/* control/shutdown = suspend and wait for SHUTDOWN_suspend. */
int suspend_guest(struct save *s, unsigned long timeout_s);
/* rax 1 and resumedomain: the guest's suspend returns "cancelled". */
void resume_cancelled(struct save *s, struct vcpu_guest_context *ctx0);
/* With s->w open: MICA_DEFINITION, X86_PV_INFO, X86_PV_P2M_FRAMES. */
int save_stream_head(struct save *s);
/* TSC_INFO, SHARED_INFO, the vCPU records, MICA_XENSTORE (no END). */
int save_stream_tail(struct save *s, const struct vcpu_guest_context *ctx0,
                     const uint8_t shinfo[STATEFILE_PAGE], uint32_t cpu_khz);

#define MAX_VCPUS 64u
struct restore {
    const char *file;
    int fd;
    struct mica_hv *mica;
    uint64_t nr_pfns;
    uint8_t *present;                /* per PFN: populated */
    uint8_t *pin;                    /* per PFN: 0, or the MS_PAGE_L*TAB level to pin */
    uint64_t *p2m;                   /* PFN -> new MFN */
    uint64_t *p2m_frames;            /* PFNs of the guest's p2m pages */
    uint64_t nr_p2m_frames;
    uint8_t uuid[16];
    char *name, *xml;
    size_t xml_len;
    struct vcpu_guest_context ctx[MAX_VCPUS];
    struct xen_domctl_ext_vcpucontext ext[MAX_VCPUS];
    uint8_t have_ctx[MAX_VCPUS], have_ext[MAX_VCPUS];
    uint8_t *xsave[MAX_VCPUS];       /* X86_PV_VCPU_XSAVE: XCR0, XCR0_ACCUM, the area */
    uint32_t xsave_len[MAX_VCPUS];
    /* X86_PV_VCPU_MSRS: the entries as get_vcpu_msrs gave them (the record's
       entries are the domctl's: ms_format.h's struct ms_vcpu_msr). */
    struct xen_domctl_vcpu_msr *msrs[MAX_VCPUS];
    uint32_t nmsrs[MAX_VCPUS];
    uint64_t nr_present;             /* PFNs with a frame: the pages the domain had */
    char *xs_body;                   /* MICA_XENSTORE: the guest's own nodes */
    size_t xs_len;
    uint64_t nr_data_pages, data_done; /* for the progress */
    /* X86_CPUID_POLICY / X86_MSR_POLICY (image version 3, from Xen): the
       saved policy, applied with set_cpu_policy before the vCPUs are set. */
    struct xen_cpuid_leaf *cpuid;
    uint32_t nr_cpuid;
    struct xen_msr_entry *msr;
    uint32_t nr_msr;
    bool have_cpuid, have_msr;
    bool progress;                   /* a terminal: show the percentage */
    uint16_t domid;
    char err[600];
};

int rfail(struct restore *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* One record of the stream into r (definition, PFNs present, pinned
   tables, p2m frames, vCPU and xenstore records); page data is left to
   the caller.  0 or -1 with r->err. */
int restore_record(struct restore *r, struct ms_reader *rd, const struct ms_record *rec);
/* Everything building needs was there. */
int restore_complete(struct restore *r);
long hypercall4(struct mica_hv *hv, unsigned op, uint64_t a0, uint64_t a1, uint64_t a2,
                uint64_t a3);
int to_mfn(struct restore *r, uint64_t pfn, uint64_t *mfn, const char *what);
int rewrite_p2m(struct restore *r);
int pin_tables(struct restore *r);
int fix_start_info(struct restore *r, uint64_t si_mfn, uint64_t shinfo_mfn,
                   uint32_t store_port, uint32_t console_port, uint64_t *store_mfn,
                   uint64_t *console_mfn);
int set_vcpus(struct restore *r, uint64_t *si_mfn);
void saved_macs(struct restore *r, struct domain_config *cfg);
int write_guest_nodes(struct restore *r, struct mica_xs *xs);

#endif
