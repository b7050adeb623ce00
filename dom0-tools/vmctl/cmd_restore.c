/*
 * vmctl restore FILE [--paused] (docs/state-files.md).
 *
 * Pass 1 reads the whole file, checking every record's checksum, and
 * collects what building needs (definition, which PFNs exist, p2m frame
 * PFNs, vCPU records): a file damaged anywhere creates nothing.  Then the
 * domain is created with the saved name and UUID, its frames populated
 * (populate_physmap for it), and pass 2 has the hypervisor copy the pages
 * into them (MICA_DOMCTL_copy_frames) with page tables turned back from PFNs into the new MFNs, the
 * guest's p2m pages rewritten, start_info given the new shared_info,
 * store and console frames and ports, the page tables pinned and vCPU 0's
 * context set with rax 0 ("resumed in a new domain").  The xenstore nodes
 * are written as 'vmctl create' does and the domain introduced.  Any
 * failure destroys the half-built domain.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "defs.h"
#include "domcfg.h"
#include "diag.h"
#include "exitcodes.h"
#include "devices.h"
#include "hv.h"
#include "monitor.h"
#include "profile.h"
#include "xs_nodes.h"
#include "statefile.h"
#include "xlconfig.h"

#include "domctl.h"
#include "domctl_save.h"
#include "evtchn.h"
#include "ms_pagetable.h"
#include "ms_reader.h"
#include "ms_writer.h"
#include "ms_xenstore.h"
#include "ms_xl.h"
#include "privcmd.h"
#include "xs.h"
#include <public/memory.h>
#include <public/xen.h>

_Static_assert(sizeof(struct ms_vcpu_msr) == sizeof(struct xen_domctl_vcpu_msr),
               "X86_PV_VCPU_MSRS entries are get_vcpu_msrs entries");

#define PAGE 4096u
#define INVALID_MFN (~(uint64_t)0)


int rfail(struct restore *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int rfail(struct restore *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, sizeof(r->err), fmt, ap);
    va_end(ap);
    return -1;
}

/* The PAGE_DATA record's pfn words (after its header). */
static const uint64_t *page_words(const struct ms_record *rec, uint32_t *count)
{
    const struct ms_page_data_header *h = rec->body;
    *count = h->count;
    return (const uint64_t *)(const void *)((const uint8_t *)rec->body + sizeof(*h));
}

/* Pass 1: every checksum, and what building needs. */
static int collect(struct restore *r, struct ms_reader *rd)
{
    struct ms_record rec;
    int n;
    while ((n = ms_reader_next(rd, &rec)) == 1)
        if (restore_record(r, rd, &rec))
            return -1;
    if (n < 0)
        return rfail(r, "%s", ms_reader_error(rd));
    return restore_complete(r);
}

int restore_complete(struct restore *r)
{
    if (!r->name || !r->present || !r->have_ctx[0] || !r->p2m_frames)
        return rfail(r, "%s: %s is missing; not a file 'vmctl save' or 'xl save' wrote", r->file,
                     !r->name ? "the definition (MICA_DEFINITION)"
                     : !r->present ? "MICA_INFO or X86_PV_P2M_FRAMES"
                     : !r->p2m_frames ? "X86_PV_P2M_FRAMES" : "vCPU 0's context");
    return 0;
}

/* The PFN arrays for nr_pfns PFNs (from MICA_INFO, or for a file without
   it, such as Xen's, from X86_PV_P2M_FRAMES: libxc's p2m size). */
static int alloc_pfns(struct restore *r, const struct ms_record *rec, uint64_t nr_pfns)
{
    r->nr_pfns = nr_pfns;
    if (!r->nr_pfns || r->nr_pfns > (UINT64_C(1) << 28))
        return rfail(r, "%s: record %llu: %llu PFNs is not a size vmctl restores",
                     r->file, (unsigned long long)rec->number,
                     (unsigned long long)r->nr_pfns);
    r->present = calloc(r->nr_pfns, 1);
    r->pin = calloc(r->nr_pfns, 1);
    r->p2m = malloc(r->nr_pfns * sizeof(uint64_t));
    if (!r->present || !r->pin || !r->p2m)
        return rfail(r, "out of memory for %llu PFNs", (unsigned long long)r->nr_pfns);
    return 0;
}

/* X86_CPUID_POLICY or X86_MSR_POLICY: arrays of the domctl's entries. */
static int keep_policy(struct restore *r, const struct ms_record *rec)
{
    bool cpuid = rec->type == MS_REC_X86_CPUID_POLICY;
    size_t each = cpuid ? sizeof(struct xen_cpuid_leaf) : sizeof(struct xen_msr_entry);
    if (rec->length % each || rec->length / each > 4096 || (cpuid ? r->have_cpuid
                                                                   : r->have_msr))
        return rfail(r, "%s: record %llu (%s) at offset %llu: %s", r->file,
                     (unsigned long long)rec->number, cpuid ? "X86_CPUID_POLICY"
                                                            : "X86_MSR_POLICY",
                     (unsigned long long)rec->offset,
                     (cpuid ? r->have_cpuid : r->have_msr)
                         ? "appears twice"
                         : "its length is not a whole number (at most 4096) of entries");
    void *copy = malloc(rec->length ? rec->length : 1);
    if (!copy)
        return rfail(r, "out of memory");
    memcpy(copy, rec->body, rec->length);
    if (cpuid) {
        r->cpuid = copy;
        r->nr_cpuid = rec->length / (uint32_t)each;
        r->have_cpuid = true;
    } else {
        r->msr = copy;
        r->nr_msr = rec->length / (uint32_t)each;
        r->have_msr = true;
    }
    return 0;
}

int restore_record(struct restore *r, struct ms_reader *rd, const struct ms_record *recp)
{
    const struct ms_record rec = *recp;
    if (rec.layer != MS_LAYER_LIBXC)
        return 0;
    {
        switch (rec.type) {
        case MS_MICA_INFO:
            r->nr_data_pages = rd->info.nr_data_pages;
            if (r->present)
                return rfail(r, "%s: record %llu (MICA_INFO) at offset %llu comes after the "
                             "PFNs were sized", r->file, (unsigned long long)rec.number,
                             (unsigned long long)rec.offset);
            if (alloc_pfns(r, &rec, rd->info.nr_pfns))
                return -1;
            break;
        case MS_REC_X86_CPUID_POLICY:
        case MS_REC_X86_MSR_POLICY:
            if (keep_policy(r, &rec))
                return -1;
            break;
        case MS_MICA_DEFINITION: {
            const struct ms_mica_definition *d = rec.body;
            if (rec.length < sizeof(*d) ||
                (uint64_t)d->name_len + d->xml_len > rec.length - sizeof(*d) || !d->name_len)
                return rfail(r, "%s: record %llu (MICA_DEFINITION) at offset %llu: lengths do "
                             "not fit the record", r->file, (unsigned long long)rec.number,
                             (unsigned long long)rec.offset);
            memcpy(r->uuid, d->uuid, 16);
            free(r->name);
            free(r->xml);
            r->name = strndup((const char *)(d + 1), d->name_len);
            r->xml_len = d->xml_len;
            r->xml = malloc(d->xml_len + 1);
            if (!r->name || !r->xml)
                return rfail(r, "out of memory");
            memcpy(r->xml, (const char *)(d + 1) + d->name_len, d->xml_len);
            r->xml[d->xml_len] = 0;
            break;
        }
        case MS_REC_X86_PV_P2M_FRAMES: {
            const struct ms_x86_pv_p2m_frames *f = rec.body;
            /* Without MICA_INFO (Xen's files) the p2m's size is libxc's:
               end_pfn + 1, as its restore sizes its p2m. */
            if (!r->present && alloc_pfns(r, &rec, (uint64_t)f->end_pfn + 1))
                return -1;
            if (r->p2m_frames)
                return rfail(r, "%s: record %llu (X86_PV_P2M_FRAMES) at offset %llu appears "
                             "twice", r->file, (unsigned long long)rec.number,
                             (unsigned long long)rec.offset);
            r->nr_p2m_frames = (rec.length - sizeof(*f)) / sizeof(uint64_t);
            r->p2m_frames = malloc(r->nr_p2m_frames * sizeof(uint64_t) + 1);
            if (!r->p2m_frames)
                return rfail(r, "out of memory");
            memcpy(r->p2m_frames, f + 1, r->nr_p2m_frames * sizeof(uint64_t));
            break;
        }
        case MS_REC_PAGE_DATA: {
            uint32_t count;
            const uint64_t *w = page_words(&rec, &count);
            if (!r->present)
                return rfail(r, "%s: PAGE_DATA before MICA_INFO", r->file);
            for (uint32_t i = 0; i < count; i++) {
                uint64_t pfn = w[i] & MS_PFN_MASK;
                unsigned t = (unsigned)(w[i] >> MS_PFN_TYPE_SHIFT);
                if (pfn >= r->nr_pfns)
                    return rfail(r, "%s: record %llu (PAGE_DATA) at offset %llu: PFN %llu is "
                                 "beyond the %llu the file announced", r->file,
                                 (unsigned long long)rec.number, (unsigned long long)rec.offset,
                                 (unsigned long long)pfn, (unsigned long long)r->nr_pfns);
                if (t == MS_PAGE_XTAB || t == MS_PAGE_BROKEN)
                    continue;
                r->nr_present += !r->present[pfn];
                r->present[pfn] = 1;
                /* XALLOC (0xe) has bit 3 too: only 0x9..0xc are pinned tables. */
                if (t >= (MS_PAGE_PINNED | MS_PAGE_L1TAB) && t <= (MS_PAGE_PINNED | MS_PAGE_L4TAB))
                    r->pin[pfn] = (uint8_t)(t & 7u);
            }
            break;
        }
        case MS_MICA_XENSTORE: {
            struct ms_xs_iter it;
            const char *k, *v;
            char why[200];
            int rc;
            ms_xs_iter_init(&it, rec.body, rec.length);
            while ((rc = ms_xs_iter_next(&it, &k, &v, why, sizeof(why))) == 1)
                ;
            if (rc < 0)
                return rfail(r, "%s: record %llu (MICA_XENSTORE) at offset %llu: %s", r->file,
                             (unsigned long long)rec.number, (unsigned long long)rec.offset,
                             why);
            free(r->xs_body);
            if (!(r->xs_body = malloc(rec.length ? rec.length : 1)))
                return rfail(r, "out of memory");
            memcpy(r->xs_body, rec.body, rec.length);
            r->xs_len = rec.length;
            break;
        }
        case MS_REC_X86_PV_VCPU_XSAVE: {
            /* The reader checked 16 <= length - 8 <= MS_MAX_XSAVE. */
            const struct ms_vcpu_header *vh = rec.body;
            if (vh->vcpu_id >= MAX_VCPUS || r->xsave[vh->vcpu_id])
                return rfail(r, "%s: record %llu (X86_PV_VCPU_XSAVE) at offset %llu: vCPU %u "
                             "%s", r->file, (unsigned long long)rec.number,
                             (unsigned long long)rec.offset, vh->vcpu_id,
                             vh->vcpu_id >= MAX_VCPUS ? "is beyond what this restore takes"
                                                      : "has a second XSAVE record");
            uint32_t len = rec.length - (uint32_t)sizeof(*vh);
            if (!(r->xsave[vh->vcpu_id] = malloc(len)))
                return rfail(r, "out of memory");
            memcpy(r->xsave[vh->vcpu_id], vh + 1, len);
            r->xsave_len[vh->vcpu_id] = len;
            break;
        }
        case MS_REC_X86_PV_VCPU_MSRS: {
            /* The reader checked 1 to MS_MAX_VCPU_MSRS whole entries. */
            const struct ms_vcpu_header *vh = rec.body;
            if (vh->vcpu_id >= MAX_VCPUS || r->msrs[vh->vcpu_id])
                return rfail(r, "%s: record %llu (X86_PV_VCPU_MSRS) at offset %llu: vCPU %u "
                             "%s", r->file, (unsigned long long)rec.number,
                             (unsigned long long)rec.offset, vh->vcpu_id,
                             vh->vcpu_id >= MAX_VCPUS ? "is beyond what this restore takes"
                                                      : "has a second MSRS record");
            uint32_t len = rec.length - (uint32_t)sizeof(*vh);
            if (!(r->msrs[vh->vcpu_id] = malloc(len)))
                return rfail(r, "out of memory");
            memcpy(r->msrs[vh->vcpu_id], vh + 1, len);
            r->nmsrs[vh->vcpu_id] = len / (uint32_t)sizeof(struct ms_vcpu_msr);
            break;
        }
        case MS_REC_X86_PV_VCPU_BASIC:
        case MS_REC_X86_PV_VCPU_EXTENDED: {
            const struct ms_vcpu_header *vh = rec.body;
            bool basic = rec.type == MS_REC_X86_PV_VCPU_BASIC;
            size_t want = basic ? sizeof(r->ctx[0]) : sizeof(r->ext[0]);
            if (vh->vcpu_id >= MAX_VCPUS || rec.length != sizeof(*vh) + want)
                return rfail(r, "%s: record %llu at offset %llu: vCPU %u record of %u octets; "
                             "this restore takes %zu-octet records of vCPUs below %u",
                             r->file, (unsigned long long)rec.number,
                             (unsigned long long)rec.offset, vh->vcpu_id, rec.length,
                             sizeof(*vh) + want, MAX_VCPUS);
            if (basic) {
                memcpy(&r->ctx[vh->vcpu_id], vh + 1, want);
                r->have_ctx[vh->vcpu_id] = 1;
            } else {
                memcpy(&r->ext[vh->vcpu_id], vh + 1, want);
                r->have_ext[vh->vcpu_id] = 1;
            }
            break;
        }
        default:
            break;
        }
    }
    return 0;
}

long hypercall4(struct mica_hv *hv, unsigned op, uint64_t a0, uint64_t a1, uint64_t a2,
                       uint64_t a3)
{
    struct mica_privcmd_hypercall h = { .op = op, .arg = { a0, a1, a2, a3, 0 } };
    return hv->hypercall(hv, &h);
}

/* One populate_physmap call: n extents of 2^order frames, each starting at
   the PFN in batch[k], which it replaces with its first MFN.  The number
   of extents done, or a negative error. */
static long populate_call(struct restore *r, uint64_t *batch, unsigned n, unsigned order)
{
    struct xen_memory_reservation res = { .extent_start = (uint64_t)(uintptr_t)batch,
                                          .nr_extents = n, .extent_order = order,
                                          .domid = r->domid };
    mlock(batch, n * sizeof(batch[0]));
    mlock(&res, sizeof(res));
    long done = hypercall4(r->mica, __HYPERVISOR_memory_op, XENMEM_populate_physmap,
                           (uint64_t)(uintptr_t)&res, 0, 0);
    munlock(&res, sizeof(res));
    munlock(batch, n * sizeof(batch[0]));
    return done;
}

#define POPULATE_BATCH 1024u
#define SUPER_ORDER 9u
#define SUPER_PFNS (1ull << SUPER_ORDER)

/*
 * populate_physmap for the new domain: every present PFN gets a frame.
 * First every aligned run of 512 present PFNs as one 2 MiB extent (the
 * hypervisor's work per extent, not per frame, is most of a populate:
 * docs/benchmarks.md), then the PFNs left, one frame each; a 2 MiB
 * extent the hypervisor cannot give (no free block that large, the
 * domain's limit) leaves its PFNs to the second round.  A PV guest keeps
 * its own p2m, so which MFNs back it does not matter to it.
 */
static int populate(struct restore *r)
{
    uint64_t batch[POPULATE_BATCH];
    uint64_t pfns[POPULATE_BATCH];
    for (uint64_t i = 0; i < r->nr_pfns; i++)
        r->p2m[i] = INVALID_MFN;
    uint64_t pfn = 0;
    bool super_ok = true;
    while (super_ok && pfn + SUPER_PFNS <= r->nr_pfns) {
        unsigned n = 0;
        for (; pfn + SUPER_PFNS <= r->nr_pfns && n < POPULATE_BATCH; pfn += SUPER_PFNS) {
            if (memchr(r->present + pfn, 0, SUPER_PFNS))
                continue;
            batch[n] = pfn;
            pfns[n++] = pfn;
        }
        if (!n)
            break;
        long done = populate_call(r, batch, n, SUPER_ORDER);
        if (done != (long)n)
            super_ok = false;        /* the rest one frame at a time */
        for (long k = 0; k < done && k < (long)n; k++)
            for (uint64_t j = 0; j < SUPER_PFNS; j++)
                r->p2m[pfns[k] + j] = batch[k] + j;
    }
    pfn = 0;
    while (pfn < r->nr_pfns) {
        unsigned n = 0;
        for (; pfn < r->nr_pfns && n < POPULATE_BATCH; pfn++)
            if (r->present[pfn] && r->p2m[pfn] == INVALID_MFN) {
                pfns[n] = pfn;
                batch[n++] = pfn;
            }
        if (!n)
            break;
        long done = populate_call(r, batch, n, 0);
        if (done != (long)n)
            return rfail(r, "populate_physmap for domain %u gave %ld of %u frames%s",
                         r->domid, done, n, done >= 0 ? " (not enough free memory?)" : "");
        for (unsigned k = 0; k < n; k++)
            r->p2m[pfns[k]] = batch[k];
    }
    return 0;
}

/* nd pages of buf into the new frames mfns[0..nd), by the hypervisor's
   copy (MICA_DOMCTL_copy_frames: no mapping of the frames in dom0, whose
   every PTE set and cleared would be a trap into Mica). */
static int copy_in(struct restore *r, const uint64_t *mfns, uint32_t nd, void *buf)
{
    size_t stopped;
    int e = mica_frames_copy(r->mica, r->domid, mfns, nd, buf, true, &stopped);
    if (e)
        return rfail(r, "copying %u pages into the new frames of domain %u failed at MFN "
                     "%#llx: %s", nd, r->domid,
                     (unsigned long long)mfns[stopped < nd ? stopped : 0], strerror(-e));
    r->data_done += nd;
    if (r->progress)
        fprintf(stderr, "\rRestoring domain '%s': %3u%%", r->name,
                (unsigned)(r->data_done * 100 / (r->nr_data_pages ? r->nr_data_pages : 1)));
    return 0;
}

/* Pass 2: page data into the new frames, through a buffer of up to
   MS_MAX_BATCH pages (a record may carry more: the reader allows bodies
   up to MS_MAX_BODY), page tables turned back to the new frames there.
   The new frames are not typed yet: the tables are pinned after all are
   written. */
static int write_pages(struct restore *r, struct ms_reader *rd)
{
    struct ms_record rec;
    int n;
    uint64_t mfns[MS_MAX_BATCH];
    uint8_t *buf = mica_frame_buffer_alloc(MS_MAX_BATCH);
    int rc = -1;

    prof_lap("populate");
    if (!buf)
        return rfail(r, "no resident buffer for a page batch: %s", strerror(errno));
    while ((n = ms_reader_next(rd, &rec)) == 1) {
        prof_lap("pass 2 read+verify");
        if (rec.layer != MS_LAYER_LIBXC || rec.type != MS_REC_PAGE_DATA)
            continue;
        uint32_t count, nd = 0;
        const uint64_t *w = page_words(&rec, &count);
        const uint8_t *data = (const uint8_t *)(w + count);
        for (uint32_t i = 0; i < count; i++) {
            unsigned t = (unsigned)(w[i] >> MS_PFN_TYPE_SHIFT);
            if (ms_page_type_has_data(t) != 1)
                continue;
            uint8_t *page = buf + (size_t)nd * PAGE;
            memcpy(page, data, PAGE);
            data += PAGE;
            unsigned level = t & 7u;
            if (level >= 1 && level <= 4 &&
                ms_pt_uncanonicalise((uint64_t *)(void *)page, level, r->p2m, r->nr_pfns,
                                     r->err, sizeof(r->err)))
                goto out;
            mfns[nd++] = r->p2m[w[i] & MS_PFN_MASK];
            if (nd == MS_MAX_BATCH) {
                prof_lap("pass 2 copy+uncanonicalise");
                if (copy_in(r, mfns, nd, buf))
                    goto out;
                prof_lap("pass 2 copy in");
                nd = 0;
            }
        }
        prof_lap("pass 2 copy+uncanonicalise");
        if (nd && copy_in(r, mfns, nd, buf))
            goto out;
        prof_lap("pass 2 copy in");
    }
    if (r->progress)
        fputc('\n', stderr);
    if (n < 0) {
        rfail(r, "%s", ms_reader_error(rd));
        goto out;
    }
    rc = 0;
out:
    mica_frame_buffer_free(buf, MS_MAX_BATCH);
    return rc;
}

int to_mfn(struct restore *r, uint64_t pfn, uint64_t *mfn, const char *what)
{
    if (pfn >= r->nr_pfns || r->p2m[pfn] == INVALID_MFN)
        return rfail(r, "%s (PFN %#llx) is not a page of the saved domain", what,
                     (unsigned long long)pfn);
    *mfn = r->p2m[pfn];
    return 0;
}

/* The guest's own p2m pages get the new MFNs; entries that named no frame
   (holes, identity ranges) stay as the guest left them.  Up to 256 pages
   through one foreign mapping: one each was 128 mappings for 256 MiB. */
int rewrite_p2m(struct restore *r)
{
    enum { PB = 256 };
    uint64_t mfns[PB];
    for (uint64_t base = 0; base < r->nr_p2m_frames; base += PB) {
        uint64_t n = r->nr_p2m_frames - base < PB ? r->nr_p2m_frames - base : PB;
        int rc;
        for (uint64_t i = 0; i < n; i++)
            if (to_mfn(r, r->p2m_frames[base + i], &mfns[i], "a p2m frame"))
                return -1;
        uint64_t *m = mica_map_foreign(r->mica, r->domid, mfns, n, NULL, &rc);
        if (!m)
            return rfail(r, "mapping the guest's p2m pages %llu-%llu failed: %s",
                         (unsigned long long)base, (unsigned long long)(base + n - 1),
                         strerror(-rc));
        for (uint64_t j = 0; j < n * 512; j++) {
            uint64_t pfn = base * 512 + j;
            if (pfn < r->nr_pfns && r->p2m[pfn] != INVALID_MFN)
                m[j] = r->p2m[pfn];
            else if (!(m[j] >> 62))
                m[j] = INVALID_MFN;
        }
        mica_unmap_foreign(m, n);
    }
    return 0;
}

/* Up to 256 pins per mmuext_op (in PFN order, as one each did); *pdone
   names the op that failed. */
int pin_tables(struct restore *r)
{
    enum { PINB = 256 };
    struct mmuext_op ops[PINB];
    uint64_t at[PINB];
    uint32_t done;
    int rc = 0;

    memset(ops, 0, sizeof(ops));
    mlock(ops, sizeof(ops));
    mlock(&done, sizeof(done));
    for (uint64_t pfn = 0; pfn < r->nr_pfns && !rc;) {
        unsigned n = 0;
        for (; pfn < r->nr_pfns && n < PINB; pfn++) {
            if (!r->pin[pfn])
                continue;
            ops[n].cmd = MMUEXT_PIN_L1_TABLE + r->pin[pfn] - 1u;
            ops[n].arg1.mfn = r->p2m[pfn];
            at[n++] = pfn;
        }
        if (!n)
            break;
        done = 0;
        long e = hypercall4(r->mica, __HYPERVISOR_mmuext_op, (uint64_t)(uintptr_t)ops, n,
                            (uint64_t)(uintptr_t)&done, r->domid);
        if (e) {
            uint64_t p = at[done < n ? done : n - 1];
            rc = rfail(r, "pinning the L%u table at PFN %llu (MFN %#llx) for domain %u "
                       "failed: %s (Mica's log says why)", r->pin[p], (unsigned long long)p,
                       (unsigned long long)r->p2m[p], r->domid, strerror((int)-e));
        }
    }
    munlock(&done, sizeof(done));
    munlock(ops, sizeof(ops));
    return rc;
}

/* start_info: the new shared_info, store and console frames and ports
   (a suspending Linux left the frames as PFNs). */
int fix_start_info(struct restore *r, uint64_t si_mfn, uint64_t shinfo_mfn,
                          uint32_t store_port, uint32_t console_port, uint64_t *store_mfn,
                          uint64_t *console_mfn)
{
    int rc;
    struct start_info *si = mica_map_foreign(r->mica, r->domid, &si_mfn, 1, NULL, &rc);
    if (!si)
        return rfail(r, "mapping start_info failed: %s", strerror(-rc));
    rc = to_mfn(r, si->store_mfn, store_mfn, "start_info's store frame") ||
         to_mfn(r, si->console.domU.mfn, console_mfn, "start_info's console frame");
    if (!rc) {
        si->shared_info = shinfo_mfn << 12;
        si->store_mfn = *store_mfn;
        si->store_evtchn = store_port;
        si->console.domU.mfn = *console_mfn;
        si->console.domU.evtchn = console_port;
    }
    mica_unmap_foreign(si, 1);
    return rc ? -1 : 0;
}

int set_vcpus(struct restore *r, uint64_t *si_mfn)
{
    for (uint32_t v = 0; v < MAX_VCPUS; v++) {
        if (!r->have_ctx[v])
            continue;
        struct vcpu_guest_context c = r->ctx[v];
        uint64_t mfn;
        if (to_mfn(r, c.ctrlreg[3] >> 12, &mfn, "the vCPU's cr3"))
            return -1;
        c.ctrlreg[3] = mfn << 12;
        if (c.ctrlreg[1]) {
            if (to_mfn(r, c.ctrlreg[1] >> 12, &mfn, "the vCPU's user page table"))
                return -1;
            c.ctrlreg[1] = mfn << 12;
        }
        for (uint64_t i = 0; i < (c.gdt_ents + 511) / 512 && i < 16; i++)
            if (to_mfn(r, c.gdt_frames[i], &c.gdt_frames[i], "a GDT frame"))
                return -1;
        if (v == 0) {
            if (to_mfn(r, c.user_regs.rdx, &c.user_regs.rdx, "start_info (vCPU 0's rdx)"))
                return -1;
            *si_mfn = c.user_regs.rdx;
            /* SCHEDOP_shutdown(suspend) returns 0: resumed in a new domain. */
            c.user_regs.rax = 0;
        }
        int rc = mica_vcpu_context_set(r->mica, r->domid, v, &c);
        if (rc)
            return rfail(r, "setvcpucontext of vCPU %u failed: %s", v, strerror(-rc));
        if (r->have_ext[v] && (rc = mica_vcpu_ext_context_set(r->mica, r->domid, v, &r->ext[v])))
            return rfail(r, "set_ext_vcpucontext of vCPU %u failed: %s", v, strerror(-rc));
        /* After the basic context, whose FXSAVE image it replaces (libxc's order). */
        if (r->xsave[v] &&
            (rc = mica_vcpu_extstate_set(r->mica, r->domid, v, r->xsave[v], r->xsave_len[v]))) {
            uint64_t xcr0[2];
            memcpy(xcr0, r->xsave[v], sizeof(xcr0));
            return rfail(r, "setvcpuextstate of vCPU %u (XCR0 %#llx, XCR0_ACCUM %#llx, %u "
                         "octets) failed: %s%s", v, (unsigned long long)xcr0[0],
                         (unsigned long long)xcr0[1], r->xsave_len[v], strerror(-rc),
                         rc == -EINVAL ? " (state this host's CPU or Mica does not offer "
                                         "guests? Mica offers x87, SSE and AVX)" : "");
        }
        uint32_t bad = 0;
        if (r->msrs[v] &&
            (rc = mica_vcpu_msrs_set(r->mica, r->domid, v, r->msrs[v], r->nmsrs[v], &bad))) {
            const struct xen_domctl_vcpu_msr *m = rc == -EINVAL && bad < r->nmsrs[v]
                                                      ? &r->msrs[v][bad] : NULL;
            if (m)
                return rfail(r, "set_vcpu_msrs of vCPU %u refused MSR %#x = %#llx (entry %u of "
                             "%u): this vCPU does not have that MSR or value (Mica's PV vCPUs "
                             "have TSC_AUX alone, when the CPU offers RDTSCP or RDPID)", v,
                             m->index, (unsigned long long)m->value, bad, r->nmsrs[v]);
            return rfail(r, "set_vcpu_msrs of vCPU %u failed: %s", v, strerror(-rc));
        }
    }
    return 0;
}

/* The saved MACs (device/vif/N/mac) for interfaces the definition leaves
   to the builder, so that the guest keeps the MAC it had. */
void saved_macs(struct restore *r, struct domain_config *cfg)
{
    struct ms_xs_iter it;
    const char *k, *v;
    char why[200];
    ms_xs_iter_init(&it, r->xs_body, r->xs_len);
    while (ms_xs_iter_next(&it, &k, &v, why, sizeof(why)) == 1) {
        unsigned n, m[6];
        char tail;
        if (sscanf(k, "device/vif/%u/ma%c", &n, &tail) != 2 || tail != 'c' ||
            n >= cfg->n_nics || cfg->nics[n].has_mac ||
            sscanf(v, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6)
            continue;
        for (int i = 0; i < 6; i++)
            cfg->nics[n].mac[i] = (uint8_t)m[i];
        cfg->nics[n].has_mac = true;
    }
}

/* The guest's own nodes back under its new home, owned by it; its device
   nodes are the toolstack's (devices_attach_all writes them). */
int write_guest_nodes(struct restore *r, struct mica_xs *xs)
{
    struct ms_xs_iter it;
    const char *k, *v;
    char why[200], path[384], own[16];
    const char *perm[1] = { own };
    snprintf(own, sizeof(own), "n%u", r->domid);
    ms_xs_iter_init(&it, r->xs_body, r->xs_len);
    while (ms_xs_iter_next(&it, &k, &v, why, sizeof(why)) == 1) {
        if (strncmp(k, "device/", 7) == 0)
            continue;
        snprintf(path, sizeof(path), "/local/domain/%u/%s", r->domid, k);
        int rc = mica_xs_write(xs, 0, path, v);
        /* Under a directory the guest owns already, the node inherits
           that (one xenstore round trip less per node). */
        if (!rc && !xs_nodes_guest_owned(k))
            rc = mica_xs_set_perms(xs, 0, path, perm, 1);
        if (rc)
            return rfail(r, "writing the guest's node %s failed: %s", path, strerror(-rc));
    }
    return 0;
}

/* Pass 2 does not hash again what pass 1 verified (MS_READ_VERIFIED):
   the file must be the same, unchanged, around both passes.  Any write to
   it changes its ctime. */
static bool file_unchanged(int fd, const struct stat *was)
{
    struct stat now;
    return fstat(fd, &now) == 0 && now.st_dev == was->st_dev && now.st_ino == was->st_ino &&
           now.st_size == was->st_size && now.st_mtim.tv_sec == was->st_mtim.tv_sec &&
           now.st_mtim.tv_nsec == was->st_mtim.tv_nsec &&
           now.st_ctim.tv_sec == was->st_ctim.tv_sec &&
           now.st_ctim.tv_nsec == was->st_ctim.tv_nsec;
}

int cmd_restore(const struct vmctl_command *cmd, int argc, char **argv)
{
    bool paused = false, check = false;
    const struct cli_flag flags[] = { { .name = "paused", .value = &paused },
                                      { .name = "check", .value = &check },
                                      { .name = NULL } };
    const char *file;
    int status;
    if (!cli_begin(cmd, argc, argv, flags, "FILE", &file, &status))
        return status;

    static struct restore r;
    memset(&r, 0, sizeof(r));
    r.file = file;
    r.progress = isatty(2);
    r.fd = open(file, O_RDONLY | O_CLOEXEC);
    if (r.fd < 0)
        return cli_fail(cmd, VMCTL_EXIT_FAILURE, "cannot open %s: %s", file, strerror(errno));
    struct stat st_pass1;
    if (fstat(r.fd, &st_pass1) < 0) {
        int err = errno;
        close(r.fd);
        return cli_fail(cmd, VMCTL_EXIT_FAILURE, "cannot stat %s: %s", file, strerror(err));
    }
    struct ms_reader rd;
    int rc = VMCTL_EXIT_FAILURE;
    struct hv *hv = NULL;
    struct domain_config cfg;
    bool have_cfg = false, created = false, nodes = false, introduced = false, devices = false;
    struct mica_xs *xs = NULL;
    memset(&cfg, 0, sizeof(cfg));

    /* A file from Xen's `xl save` starts with xl's own header (its magic,
       then xl's configuration as libxl JSON) in front of the libxl stream
       (docs/state-files.md, "Xen 4.17's files"): the definition comes
       from that configuration, and the stream after it has no checksums
       unless it announces them (MICA_INFO).  Mica's own files keep
       requiring their checksums. */
    struct stat st;
    uint64_t file_size = UINT64_MAX;
    bool blockdev = false;
    if (fstat(r.fd, &st) == 0) {
        blockdev = S_ISBLK(st.st_mode);
        if (S_ISREG(st.st_mode))
            file_size = (uint64_t)st.st_size;
        else if (blockdev && ioctl(r.fd, BLKGETSIZE64, &file_size))
            file_size = UINT64_MAX;
    }
    struct ms_xl_file xlf;
    struct ms_xl_config xlc;
    memset(&xlc, 0, sizeof(xlc));
    int xl = ms_xl_header_read(r.fd, file_size, &xlf, r.err, sizeof(r.err));
    if (xl < 0) {
        rc = cli_fail(cmd, VMCTL_EXIT_INVALID, "%s: %s; nothing was restored", file, r.err);
        goto out_file;
    }
    prof_begin();
    /* A regular file is read through a mapping (MS_READ_MAP): no copy of
       it through the kernel in either pass. */
    unsigned rflags = MS_READ_REQUIRE_CHECKSUMS | MS_READ_MAP;
    uint64_t base = 0;
    if (xl) {
        int bad = !xlf.config
            ? rfail(&r, "xl's header has no configuration (optional data length %u at offset "
                    "44): vmctl restore takes the definition from it", xlf.optional_data_len)
            : ms_xl_config_parse(xlf.config, xlf.config_len, xlf.config_offset, &xlc, r.err,
                                 sizeof(r.err));
        if (!bad && !(r.xml = xlconfig_to_xml(&xlc, &r.xml_len, r.err, sizeof(r.err))))
            bad = -1;
        if (!bad && !(r.name = strdup(xlc.name)))
            bad = rfail(&r, "out of memory");
        base = xlf.stream_offset;
        ms_xl_file_free(&xlf);
        if (bad) {
            rc = cli_fail(cmd, VMCTL_EXIT_INVALID, "%s (written by Xen's 'xl save'): %s; "
                          "nothing was restored", file, r.err);
            goto out_file;
        }
        if (xlc.has_uuid)
            memcpy(r.uuid, xlc.uuid, 16);
        else if (getrandom(r.uuid, 16, 0) == 16) {
            r.uuid[6] = (uint8_t)((r.uuid[6] & 0x0f) | 0x40);
            r.uuid[8] = (uint8_t)((r.uuid[8] & 0x3f) | 0x80);
        }
        /* Checksums when the stream announces them, not otherwise; a block
           device (xl restore /dev/sdX) is read up to the END record. */
        rflags = blockdev ? MS_READ_STOP_AT_END : MS_READ_MAP;
        if (lseek(r.fd, (off_t)base, SEEK_SET) < 0) {
            rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "%s: cannot seek to offset %llu: %s", file,
                          (unsigned long long)base, strerror(errno));
            goto out_file;
        }
    }
    /* Pass 2 reads through the same mapping, its pages already in. */
    if (ms_reader_open_at(&rd, r.fd, file, rflags | MS_READ_KEEP_MAP, base)) {
        rc = cli_fail(cmd, VMCTL_EXIT_INVALID, "%s; nothing was restored", ms_reader_error(&rd));
        goto out_file;
    }
    int c = collect(&r, &rd);
    bool checksummed = rd.checksummed;
    uint32_t image_version = rd.image_version;
    struct ms_domain_header saved_on = rd.domain;
    if (!r.nr_data_pages)
        r.nr_data_pages = rd.data_pages;
    ms_reader_close(&rd);
    prof_lap("pass 1 read+verify");
    if (c) {
        rc = cli_fail(cmd, VMCTL_EXIT_INVALID, "%s; nothing was restored", r.err);
        goto out_file;
    }
    if (!checksummed)
        cli_warn(cmd, "%s carries no checksums (written by Xen's 'xl save', libxc image "
                 "version %u from Xen %u.%u): its framing and record layouts were checked, "
                 "its page data cannot be", file, image_version, saved_on.xen_major,
                 saved_on.xen_minor);
    /* Xen's file has none of the guest's own xenstore nodes, and Linux
       writes control/feature-* only at boot.  The guest did answer xl's
       suspend request on control/shutdown (a PV Linux has no other way to
       be saved), so it listens there; libxl takes that of every PV guest.
       Written back as the guest's, as a Mica file's saved nodes are, so
       that 'vmctl shutdown'/'reboot'/'save' of it work as before the save. */
    if (xl && !r.xs_body) {
        struct ms_xs_blob b = { 0 };
        if (ms_xs_blob_add(&b, "control/feature-poweroff", "1") ||
            ms_xs_blob_add(&b, "control/feature-reboot", "1") ||
            ms_xs_blob_add(&b, "control/feature-suspend", "1")) {
            ms_xs_blob_free(&b);
            rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "out of memory");
            goto out_file;
        }
        r.xs_body = b.buf;
        r.xs_len = b.len;
    }
    if (xl && *xlc.not_taken)
        cli_warn(cmd, "xl's configuration in %s also has %s, which vmctl restore does not "
                 "attach: the guest comes back without them", file, xlc.not_taken);
    struct domcfg_diags diags;
    char origin[300];
    snprintf(origin, sizeof(origin), xl ? "%s (the definition made from xl's configuration)"
                                        : "%s", file);
    domcfg_diags_init(&diags, origin);
    if (domcfg_load_memory(r.xml, r.xml_len, origin, 0, &cfg, &diags, NULL) != DOMCFG_OK) {
        domcfg_diags_print(&diags, stderr, 10);
        domcfg_diags_free(&diags);
        if (xl)
            fprintf(stderr, "vmctl restore: the definition made from xl's configuration:\n%s",
                    r.xml);
        rc = cli_fail(cmd, VMCTL_EXIT_INVALID, "%s: the saved definition of '%s' is not "
                      "usable%s; nothing was restored", file, r.name,
                      xl ? " (made from xl's configuration)"
                      : r.xml_len ? "" : " (it was not a stored domain when saved)");
        goto out_file;
    }
    domcfg_diags_free(&diags);
    have_cfg = true;
    if (check) {
        char uuid[37];
        domcfg_format_uuid(r.uuid, uuid);
        /* The definition alone on stdout: 'vmctl define' takes it. */
        if (xl)
            printf("%s", r.xml);
        fprintf(stderr, "%s: '%s' (UUID %s), %llu pages of %llu PFNs, %u vCPU%s, libxc image version %u "
               "from Xen %u.%u, %s%s; checked, nothing was restored (--check)\n", file, r.name,
               uuid, (unsigned long long)r.nr_present, (unsigned long long)r.nr_pfns,
               cfg.vcpus_max ? cfg.vcpus_max : 1, cfg.vcpus_max > 1 ? "s" : "", image_version,
               saved_on.xen_major, saved_on.xen_minor,
               checksummed ? "every record's checksum matched" : "no checksums",
               r.have_cpuid ? ", a saved CPU policy" : "");
        rc = VMCTL_EXIT_OK;
        goto out_file;
    }

    if ((rc = defs_connect(cmd, &hv)) != VMCTL_EXIT_OK)
        goto out_file;
    rc = VMCTL_EXIT_FAILURE;
    r.mica = hv_mica(hv);
    if (!(xs = hv_xenstore(hv))) {
        cli_fail(cmd, rc, "%s", hv_error(hv));
        goto out;
    }
    /* Restoring a file twice: the name or the UUID is taken. */
    struct hv_domain *doms = NULL;
    size_t ndoms = 0;
    if (hv_list(hv, &doms, &ndoms) != HV_OK) {
        cli_fail(cmd, rc, "%s", hv_error(hv));
        goto out;
    }
    for (size_t i = 0; i < ndoms; i++) {
        bool same_name = strcmp(doms[i].name, r.name) == 0;
        if (same_name || memcmp(doms[i].uuid, r.uuid, 16) == 0) {
            char uuid[37];
            domcfg_format_uuid(r.uuid, uuid);
            rc = cli_fail(cmd, VMCTL_EXIT_EXISTS, "%s: %s is in use by running domain %u "
                          "('%s'; restored twice?); nothing was restored", file,
                          same_name ? "the saved name" : "the saved UUID", doms[i].domid,
                          doms[i].name);
            if (!same_name)
                fprintf(stderr, "vmctl restore: the saved UUID is %s\n", uuid);
            free(doms);
            goto out;
        }
    }
    free(doms);
    /* Disks and interfaces as the definition has them, with the MACs the
       guest had; every one must be servable before anything is made. */
    saved_macs(&r, &cfg);
    {
        char origin[DOMCFG_NAME_MAX + 48];
        snprintf(origin, sizeof(origin), "the definition of %s saved in %s", r.name, file);
        struct devices_origin where = { .file = origin };
        int bad = devices_check(xs, &cfg, &where);
        if (bad) {
            cli_fail(cmd, rc, "%d of the saved domain's devices cannot be attached (see "
                     "above); nothing was restored", bad);
            goto out;
        }
    }
    int e = hv_create_domain_for(r.mica, &cfg, r.uuid, &r.domid);
    if (e) {
        cli_fail(cmd, rc, "creating the domain failed: %s", strerror(-e));
        goto out;
    }
    created = true;
    struct xen_domctl_getdomaininfo info;
    uint64_t si_mfn = 0, store_mfn = 0, console_mfn = 0;
    int store_port, console_port;
    if ((e = mica_domain_max_mem(r.mica, r.domid, cfg.memory_kib)) ||
        (e = mica_domain_info(r.mica, r.domid, &info))) {
        rfail(&r, "setting up domain %u failed: %s", r.domid, strerror(-e));
        goto undo;
    }
    /* The saved CPU policy (Xen's files), as libxc's restore applies it:
       before the vCPUs' state is set and the domain first runs. */
    if (r.have_cpuid || r.have_msr) {
        uint32_t el = ~0u, es = ~0u, em = ~0u;
        e = mica_domain_cpu_policy_set(r.mica, r.domid, r.cpuid, r.nr_cpuid, r.msr, r.nr_msr,
                                       &el, &es, &em);
        if (e) {
            char what[80] = "";
            if (el != ~0u)
                snprintf(what, sizeof(what), " (refused: CPUID leaf %#x subleaf %#x)", el, es);
            else if (em != ~0u)
                snprintf(what, sizeof(what), " (refused: MSR %#x)", em);
            rfail(&r, "set_cpu_policy with the saved policy (%u CPUID leaves, %u MSRs) failed: "
                  "%s%s", r.nr_cpuid, r.nr_msr, strerror(-e), what);
            goto undo;
        }
    }
    if ((console_port = mica_evtchn_alloc_unbound(r.mica, r.domid, 0)) < 0 ||
        (store_port = mica_evtchn_alloc_unbound(r.mica, r.domid, 0)) < 0) {
        rfail(&r, "opening the console and xenstore event channels failed");
        goto undo;
    }
    prof_lap("checks+create");
    /* Pass 2 over the same, already verified, file: framing and layout
       checked again, the checksums' spans not hashed again. */
    if (!file_unchanged(r.fd, &st_pass1)) {
        rfail(&r, "%s changed after its checksums were verified", file);
        goto undo;
    }
    if (lseek(r.fd, (off_t)base, SEEK_SET) < 0 ||
        ms_reader_open_at(&rd, r.fd, file, rflags | MS_READ_VERIFIED | MS_READ_KEEP_MAP,
                          base)) {
        rfail(&r, "reading %s again failed", file);
        goto undo;
    }
    /* Not taken over (the file is another now): not for the monitor to inherit. */
    ms_reader_drop_kept_map();
    e = populate(&r) || write_pages(&r, &rd);
    ms_reader_close(&rd);
    if (e)
        goto undo;
    if (!file_unchanged(r.fd, &st_pass1) || ms_reader_map_lost()) {
        rfail(&r, "%s changed while it was being restored", file);
        goto undo;
    }
    /* Read to the end: the mapping goes with vmctl's exit, which unpins
       dom0's page tables first (munmap here traps on every PTE: 0.10 s of
       a 183 MiB file, docs/benchmarks.md). */
    ms_reader_leave_kept_map();
    prof_lap("pass 2, other");
    if (rewrite_p2m(&r) || pin_tables(&r))
        goto undo;
    prof_lap("p2m+pin");
    /* vCPU 0's rdx names start_info; set_vcpus turns it into the new MFN. */
    if (to_mfn(&r, r.ctx[0].user_regs.rdx, &si_mfn, "start_info (vCPU 0's rdx)") ||
        fix_start_info(&r, si_mfn, info.shared_info_frame, (uint32_t)store_port,
                       (uint32_t)console_port, &store_mfn, &console_mfn) ||
        set_vcpus(&r, &si_mfn))
        goto undo;
    prof_lap("vcpus");
    struct xs_domain_facts facts = { .domid = r.domid, .store_mfn = store_mfn,
                                     .console_mfn = console_mfn,
                                     .store_port = (uint32_t)store_port,
                                     .console_port = (uint32_t)console_port };
    memcpy(facts.uuid, r.uuid, 16);
    memcpy(cfg.uuid, r.uuid, 16);
    nodes = true;
    if (xs_nodes_write(xs, &cfg, &facts, r.err, sizeof(r.err)))
        goto undo;
    if ((e = mica_xs_introduce(xs, r.domid, store_mfn, (uint32_t)store_port))) {
        rfail(&r, "xenstored refused to introduce domain %u: %s", r.domid, strerror(-e));
        goto undo;
    }
    introduced = true;
    if (write_guest_nodes(&r, xs))
        goto undo;
    /* The back-ends afresh: the guest's front-ends reconnect to them when
       they resume (Linux's blkfront/netfront resume), as after xl restore. */
    prof_lap("xenstore");
    devices = true;
    if ((e = devices_attach_all(xs, r.domid, &cfg, r.err, sizeof(r.err))))
        goto undo;
    prof_lap("devices");
    if ((cfg.sched_weight || cfg.sched_cap) &&
        (e = mica_domain_sched_set(r.mica, r.domid, (uint16_t)cfg.sched_weight,
                                   cfg.sched_cap ? (uint16_t)cfg.sched_cap
                                                 : MICA_SCHED_CAP_KEEP))) {
        rfail(&r, "setting the scheduler weight/cap failed: %s", strerror(-e));
        goto undo;
    }
    if (!paused && (e = mica_domain_unpause(r.mica, r.domid))) {
        rfail(&r, "unpausing domain %u failed: %s", r.domid, strerror(-e));
        goto undo;
    }
    prof_lap("sched+unpause");
    monitor_spawn(cmd, &cfg, r.domid);
    prof_lap("monitor");
    /* Memory accounting: the new domain owns exactly the pages it had. */
    if ((e = mica_domain_info(r.mica, r.domid, &info)) == 0 && info.tot_pages != r.nr_present)
        cli_warn(cmd, "domain %u owns %llu pages; the file has %llu", r.domid,
                 (unsigned long long)info.tot_pages, (unsigned long long)r.nr_present);
    printf("Domain '%s' restored from %s%s as domain %u%s (%llu pages)\n", r.name, file,
           xl ? " (Xen's 'xl save')" : "", r.domid, paused ? " (paused)" : "",
           e ? 0ULL : (unsigned long long)info.tot_pages);
    {
        char what[48];
        snprintf(what, sizeof(what), "vmctl restore (XXH3 %s)", ms_digest_impl_name());
        prof_end(what);
    }
    rc = VMCTL_EXIT_OK;
    goto out;
undo:
    cli_fail(cmd, rc, "restoring '%s' from %s failed: %s; the half-built domain %u is "
             "destroyed", r.name, file, r.err, r.domid);
    if (devices)
        devices_detach_all(xs, r.domid, 0);
    if (introduced)
        mica_xs_release(xs, r.domid);
    if (nodes)
        xs_nodes_remove(xs, r.domid);
    if (created)
        mica_domain_destroy(r.mica, r.domid);
out:
    hv_close(hv);
out_file:
    ms_reader_drop_kept_map();
    if (have_cfg)
        domcfg_free(&cfg);
    close(r.fd);
    free(r.present);
    free(r.pin);
    free(r.p2m);
    free(r.p2m_frames);
    free(r.name);
    free(r.xml);
    free(r.xs_body);
    free(r.cpuid);
    free(r.msr);
    ms_xl_config_free(&xlc);
    for (uint32_t v = 0; v < MAX_VCPUS; v++) {
        free(r.xsave[v]);
        free(r.msrs[v]);
    }
    return rc;
}
