/*
 * vmctl save NAME FILE and vmctl restore FILE (docs/state-files.md).
 *
 * save: asks the guest to suspend through control/shutdown, waits for its
 * SHUTDOWN_suspend, reads its memory with the hypervisor's frame copy
 * (the p2m from the guest's own frame list in shared_info, through foreign
 * mappings), writes the state file
 * under a temporary name with page tables canonicalised to PFNs, renames
 * it into place and destroys the domain.  Any failure after the guest has
 * suspended removes the partial file and resumes the guest as
 * "cancelled" (rax 1, resumedomain): it runs on.
 *
 * The file's reader side is cmd_restore.c.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "defs.h"
#include "exitcodes.h"
#include "hv.h"
#include "monitor.h"
#include "profile.h"
#include "store.h"
#include "statefile.h"
#include "xlconfig.h"

#include "domctl.h"
#include "domctl_save.h"
#include "ms_pagetable.h"
#include "ms_writer.h"
#include "ms_xenstore.h"
#include "ms_xl.h"
#include "privcmd.h"
#include "xs.h"
#include <public/sched.h>
#include <public/xen.h>

#define PAGE 4096u
#define ENTRIES_PER_PAGE 512u
#define INVALID_MFN (~(uint64_t)0)


/* The signal (SIGINT, SIGTERM, SIGHUP) that asked vmctl save to stop, or
   0.  Set by the handler cmd_save installs; read where the save can stop
   cleanly: while waiting for the suspend, and between page batches.
   Other users of these functions (vmctl migrate) install no handler. */
static volatile sig_atomic_t save_signal;

static void on_save_signal(int sig)
{
    save_signal = sig;
}

int save_fail(struct save *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int save_fail(struct save *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, sizeof(s->err), fmt, ap);
    va_end(ap);
    return -1;
}

/* Copies n frames of the guest into dst (n*PAGE octets). */
int copy_frames(struct save *s, const uint64_t *mfns, size_t n, void *dst,
                       const char *what)
{
    int rc;
    void *m = mica_map_foreign_ro(s->mica, s->domid, mfns, n, NULL, &rc);
    if (!m)
        return save_fail(s, "mapping %s of domain %u failed: %s", what, s->domid,
                         strerror(-rc));
    memcpy(dst, m, n * PAGE);
    mica_unmap_foreign(m, n);
    return 0;
}

/* The guest's p2m, through shared_info's three-level frame list. */
int read_p2m(struct save *s, uint8_t shinfo[PAGE])
{
    const struct shared_info *si = (const void *)shinfo;
    uint64_t fll = si->arch.pfn_to_mfn_frame_list_list;
    uint64_t max_pfn = si->arch.max_pfn;
    uint64_t top[ENTRIES_PER_PAGE];

    if (!fll || !max_pfn)
        return save_fail(s, "the guest has not published its p2m (shared_info's "
                            "pfn_to_mfn_frame_list_list %#llx, max_pfn %llu)",
                         (unsigned long long)fll, (unsigned long long)max_pfn);
    if (max_pfn > s->info.max_pages + (1u << 20))
        return save_fail(s, "the guest's max_pfn %llu is far beyond its %llu pages",
                         (unsigned long long)max_pfn, (unsigned long long)s->info.max_pages);
    s->nr_pfns = max_pfn;
    s->nr_p2m_frames = (max_pfn + ENTRIES_PER_PAGE - 1) / ENTRIES_PER_PAGE;
    uint64_t nr_lists = (s->nr_p2m_frames + ENTRIES_PER_PAGE - 1) / ENTRIES_PER_PAGE;
    if (nr_lists > ENTRIES_PER_PAGE)
        return save_fail(s, "the guest's p2m (%llu frames) is larger than one frame list "
                            "list holds", (unsigned long long)s->nr_p2m_frames);
    if (copy_frames(s, &fll, 1, top, "the p2m frame list list"))
        return -1;
    uint64_t *lists = malloc(nr_lists * PAGE);
    s->p2m_frame_mfns = malloc(s->nr_p2m_frames * sizeof(uint64_t));
    uint64_t *pages = malloc(s->nr_p2m_frames * PAGE);
    s->p2m = calloc(s->nr_pfns, sizeof(uint64_t));
    int rc = -1;
    if (!lists || !s->p2m_frame_mfns || !pages || !s->p2m) {
        save_fail(s, "out of memory for the p2m");
        goto out;
    }
    if (copy_frames(s, top, nr_lists, lists, "the p2m frame lists"))
        goto out;
    memcpy(s->p2m_frame_mfns, lists, s->nr_p2m_frames * sizeof(uint64_t));
    if (copy_frames(s, s->p2m_frame_mfns, s->nr_p2m_frames, pages, "the p2m"))
        goto out;
    memcpy(s->p2m, pages, s->nr_pfns * sizeof(uint64_t));
    /* Linux marks holes and identity ranges in its p2m with the top bits
       (INVALID_P2M_ENTRY, IDENTITY_FRAME, FOREIGN_FRAME): none of them is
       a frame of the guest's, so none is saved. */
    for (uint64_t i = 0; i < s->nr_pfns; i++)
        if (s->p2m[i] >> 62)
            s->p2m[i] = INVALID_MFN;
    if (ms_m2p_build(&s->m2p, s->p2m, s->nr_pfns, s->err, sizeof(s->err)))
        goto out;
    rc = 0;
out:
    free(lists);
    free(pages);
    return rc;
}

int to_pfn(struct save *s, uint64_t mfn, uint64_t *pfn, const char *what)
{
    if (!ms_m2p_lookup(&s->m2p, mfn, pfn))
        return save_fail(s, "%s (MFN %#llx) is not in the guest's p2m", what,
                         (unsigned long long)mfn);
    return 0;
}

static void show_progress(struct save *s, uint64_t done)
{
    if (s->progress)
        fprintf(stderr, "\rSaving domain '%s': %3u%%", s->name,
                (unsigned)(done * 100 / (s->nr_pfns ? s->nr_pfns : 1)));
}

/* Every PFN in batches: types from getpageframeinfo3, data copied by the
   hypervisor into our buffer (MICA_DOMCTL_copy_frames: no mapping of the
   guest's frames in dom0, whose every PTE set and cleared would be a trap
   into Mica), page tables made canonical there.  start_info needs
   nothing: a suspending Linux has written its store and console frames as
   PFNs itself (xen_pv_pre_suspend), and has unmapped shared_info and the
   grant table, so no L1 entry names a frame outside the guest. */
static int write_pages(struct save *s)
{
    uint64_t pfns[MS_MAX_BATCH], mfns[MS_MAX_BATCH], types[MS_MAX_BATCH];
    uint8_t type[MS_MAX_BATCH];
    const void *data[MS_MAX_BATCH];
    uint8_t *buf = mica_frame_buffer_alloc(MS_MAX_BATCH);
    int rc = -1;

    if (!buf)
        return save_fail(s, "no resident buffer for a page batch: %s", strerror(errno));
    for (uint64_t base = 0; base < s->nr_pfns; base += MS_MAX_BATCH) {
        if (save_signal) {
            save_fail(s, "interrupted by signal %d (%s) after %llu of %llu PFNs",
                      (int)save_signal, strsignal(save_signal), (unsigned long long)base,
                      (unsigned long long)s->nr_pfns);
            goto out;
        }
        uint32_t n = (uint32_t)(s->nr_pfns - base < MS_MAX_BATCH ? s->nr_pfns - base
                                                                 : MS_MAX_BATCH);
        size_t nmap = 0;
        for (uint32_t i = 0; i < n; i++) {
            pfns[i] = base + i;
            types[i] = s->p2m[base + i];
        }
        /* Unpopulated PFNs are XTAB and carry nothing; ask for the rest. */
        for (uint32_t i = 0; i < n; i++)
            if (types[i] != INVALID_MFN)
                mfns[nmap++] = types[i];
        uint64_t got[MS_MAX_BATCH];
        memcpy(got, mfns, nmap * sizeof(uint64_t));
        int r = mica_domain_frame_types(s->mica, s->domid, got, nmap);
        if (r) {
            save_fail(s, "getpageframeinfo3 for PFNs %llu.. failed: %s",
                      (unsigned long long)base, strerror(-r));
            goto out;
        }
        prof_lap("page types");
        size_t stopped;
        if ((r = mica_frames_copy(s->mica, s->domid, mfns, nmap, buf, false, &stopped))) {
            save_fail(s, "copying guest pages of domain %u failed at MFN %#llx: %s", s->domid,
                      (unsigned long long)mfns[stopped < nmap ? stopped : 0], strerror(-r));
            goto out;
        }
        prof_lap("copy");
        size_t k = 0;
        for (uint32_t i = 0; i < n; i++) {
            if (types[i] == INVALID_MFN) {
                type[i] = MS_PAGE_XTAB;
                data[i] = NULL;
                continue;
            }
            uint64_t t = got[k];
            uint8_t *page = buf + k * PAGE;
            k++;
            unsigned ty = (unsigned)((t >> XEN_DOMCTL_PFINFO_LTAB_SHIFT) & 0xf);
            if (ty == MS_PAGE_XTAB) {
                save_fail(s, "PFN %llu (MFN %#llx) is in the guest's p2m but the hypervisor "
                             "says it is not the guest's frame", (unsigned long long)pfns[i],
                          (unsigned long long)types[i]);
                goto out;
            }
            unsigned level = ty & 7u;
            if (level >= 1 && level <= 4 &&
                ms_pt_canonicalise((uint64_t *)(void *)page, level, &s->m2p, s->err,
                                   sizeof(s->err)))
                goto out;
            type[i] = (uint8_t)ty;
            data[i] = page;
        }
        uint32_t stored;
        prof_lap("canonicalise");
        r = ms_writer_pages(&s->w, n, pfns, type, data, &stored);
        prof_lap("hash+write");
        if (r) {
            save_fail(s, "%s", ms_writer_error(&s->w));
            goto out;
        }
        show_progress(s, base + n);
    }
    rc = 0;
out:
    mica_frame_buffer_free(buf, MS_MAX_BATCH);
    return rc;
}

/* The vCPU's frames as PFNs, as the stream wants them. */
int canonical_context(struct save *s, struct vcpu_guest_context *c)
{
    uint64_t pfn;
    if (to_pfn(s, c->ctrlreg[3] >> 12, &pfn, "the vCPU's cr3"))
        return -1;
    c->ctrlreg[3] = pfn << 12;
    if (c->ctrlreg[1]) {
        if (to_pfn(s, c->ctrlreg[1] >> 12, &pfn, "the vCPU's user page table"))
            return -1;
        c->ctrlreg[1] = pfn << 12;
    }
    for (uint64_t i = 0; i < (c->gdt_ents + 511) / 512 && i < 16; i++)
        if (to_pfn(s, c->gdt_frames[i], &c->gdt_frames[i], "a GDT frame"))
            return -1;
    return 0;
}

/*
 * The guest's own xenstore nodes, which a restored guest does not write
 * again (Linux writes control/feature-* once, at boot): control/feature-*
 * and the data, attr, drivers and feature trees.  Its device nodes are
 * the toolstack's and are written afresh by the restore; only each vif's
 * MAC is kept (device/vif/N/mac), so that a MAC picked at start stays.
 */
static int xs_walk(struct save *s, struct mica_xs *xs, const char *home, const char *rel,
                   unsigned depth, struct ms_xs_blob *b)
{
    char path[512];
    char *value = NULL, *names = NULL;
    size_t len = 0;
    int r;

    snprintf(path, sizeof(path), "%s/%s", home, rel);
    if ((r = mica_xs_read(xs, 0, path, &value)) == -ENOENT)
        return 0;
    if (r)
        return save_fail(s, "reading %s failed: %s", path, strerror(-r));
    r = ms_xs_blob_add(b, rel, value);
    free(value);
    if (r == -EINVAL)
        return 0;                    /* not a node a restore could write back */
    if (r)
        return save_fail(s, "the guest's xenstore nodes are too many (%s)", strerror(-r));
    int n = mica_xs_directory(xs, 0, path, &names, &len);
    if (n < 0)
        return n == -ENOENT ? 0 : save_fail(s, "listing %s failed: %s", path, strerror(-n));
    for (size_t at = 0; at < len && depth < 8; at += strlen(names + at) + 1) {
        char child[512];
        snprintf(child, sizeof(child), "%s/%s", rel, names + at);
        if (xs_walk(s, xs, home, child, depth + 1, b)) {
            free(names);
            return -1;
        }
    }
    free(names);
    return 0;
}

int collect_xenstore(struct save *s, struct ms_xs_blob *b)
{
    struct mica_xs *xs = hv_xenstore(s->hv);
    static const char *const trees[] = { "data", "attr", "drivers", "feature" };
    static const char *const dirs[] = { "control", "device/vif" };
    char home[64], path[384];

    if (!xs)
        return save_fail(s, "%s", hv_error(s->hv));
    snprintf(home, sizeof(home), "/local/domain/%u", s->domid);
    for (size_t i = 0; i < sizeof(trees) / sizeof(trees[0]); i++)
        if (xs_walk(s, xs, home, trees[i], 0, b))
            return -1;
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        char *names = NULL;
        size_t len = 0;
        snprintf(path, sizeof(path), "%s/%s", home, dirs[i]);
        int n = mica_xs_directory(xs, 0, path, &names, &len);
        if (n == -ENOENT)
            continue;
        if (n < 0)
            return save_fail(s, "listing %s failed: %s", path, strerror(-n));
        for (size_t at = 0; at < len; at += strlen(names + at) + 1) {
            char rel[256], *value = NULL;
            bool vif = i == 1;
            if (!vif && strncmp(names + at, "feature-", 8) != 0)
                continue;
            snprintf(rel, sizeof(rel), "%s/%s%s", dirs[i], names + at, vif ? "/mac" : "");
            snprintf(path, sizeof(path), "%s/%s", home, rel);
            if (mica_xs_read(xs, 0, path, &value) == 0) {
                int r = ms_xs_blob_add(b, rel, value);
                free(value);
                if (r && r != -EINVAL) {
                    free(names);
                    return save_fail(s, "the guest's xenstore nodes are too many");
                }
            }
        }
        free(names);
    }
    return 0;
}

static int write_stream(struct save *s, const struct vcpu_guest_context *ctx0,
                        const uint8_t shinfo[PAGE], uint32_t cpu_khz, const char *file)
{
    int r;
    uint64_t nr_valid = 0;
    for (uint64_t i = 0; i < s->nr_pfns; i++)
        nr_valid += s->p2m[i] != INVALID_MFN;
    /* nr_data_pages is an upper bound here (zero pages are not stored). */
    if ((r = ms_writer_open_prefixed(&s->w, file, s->prefix, s->prefix_len, s->nr_pfns,
                                     nr_valid, 4, 17)))
        return save_fail(s, "%s", ms_writer_error(&s->w));
    s->writer_open = true;
    prof_lap("p2m");
    if (save_stream_head(s) || write_pages(s))
        return -1;
    prof_lap("pages, other");
    if (save_stream_tail(s, ctx0, shinfo, cpu_khz))
        return -1;
    prof_lap("vcpu+tail records");
    if ((r = ms_writer_commit(&s->w)))
        return save_fail(s, "%s", ms_writer_error(&s->w));
    prof_lap("commit");
    return 0;
}

/* The stored definition of NAME, whole (NULL when none is stored or it
   cannot be read); *len its length. */
static char *read_stored_definition(const char *name, size_t *len)
{
    struct store st;
    char *xml = NULL;
    *len = 0;
    if (store_init(&st) == 0) {
        char *path = store_path(&st, name);
        FILE *f = path ? fopen(path, "r") : NULL;
        if (f) {
            FILE *m = open_memstream(&xml, len);
            char chunk[4096];
            size_t got;
            while (m && (got = fread(chunk, 1, sizeof(chunk), f)) > 0)
                fwrite(chunk, 1, got, m);
            if (m)
                fclose(m);
            fclose(f);
        }
        free(path);
        store_fini(&st);
    }
    return xml;
}

int save_stream_head(struct save *s)
{
    int r;

    /* The definition: name and UUID; the stored XML when there is one. */
    size_t xml_len = 0;
    char *xml = read_stored_definition(s->name, &xml_len);
    struct ms_mica_definition def = { .name_len = (uint32_t)strlen(s->name),
                                      .xml_len = (uint32_t)xml_len };
    memcpy(def.uuid, s->info.handle, 16);
    struct iovec dv[3] = { { &def, sizeof(def) }, { (void *)s->name, def.name_len },
                           { xml, xml_len } };
    r = ms_writer_record_iov(&s->w, MS_MICA_DEFINITION, dv, 3);
    free(xml);
    if (r)
        return save_fail(s, "%s", ms_writer_error(&s->w));

    struct ms_x86_pv_info pvi = { .guest_width = 8, .pt_levels = 4 };
    if ((r = ms_writer_record(&s->w, MS_REC_X86_PV_INFO, &pvi, sizeof(pvi))))
        return save_fail(s, "%s", ms_writer_error(&s->w));

    uint64_t *frame_pfns = malloc(s->nr_p2m_frames * sizeof(uint64_t));
    if (!frame_pfns)
        return save_fail(s, "out of memory");
    for (uint64_t i = 0; i < s->nr_p2m_frames; i++)
        if (to_pfn(s, s->p2m_frame_mfns[i], &frame_pfns[i], "a p2m frame")) {
            free(frame_pfns);
            return -1;
        }
    struct ms_x86_pv_p2m_frames pf = { .start_pfn = 0, .end_pfn = (uint32_t)(s->nr_pfns - 1) };
    struct iovec pv[2] = { { &pf, sizeof(pf) },
                           { frame_pfns, s->nr_p2m_frames * sizeof(uint64_t) } };
    r = ms_writer_record_iov(&s->w, MS_REC_X86_PV_P2M_FRAMES, pv, 2);
    free(frame_pfns);
    if (r)
        return save_fail(s, "%s", ms_writer_error(&s->w));
    return 0;
}

int save_stream_tail(struct save *s, const struct vcpu_guest_context *ctx0,
                     const uint8_t shinfo[PAGE], uint32_t cpu_khz)
{
    int r;
    /* Mica's PV guests read the host's TSC: mode 0 (default), the host's kHz. */
    struct ms_tsc_info tsc = { .mode = 0, .khz = cpu_khz };
    if ((r = ms_writer_record(&s->w, MS_REC_TSC_INFO, &tsc, sizeof(tsc))) ||
        (r = ms_writer_record(&s->w, MS_REC_SHARED_INFO, shinfo, PAGE)))
        return save_fail(s, "%s", ms_writer_error(&s->w));

    /* XSAVE state: the format's mask and the largest buffer, asked once.
       A mask of 0 means the host offers guests no XSAVE: no XSAVE records,
       as Xen's saver does. */
    uint64_t xmask = 0, xmax = 0;
    if ((r = mica_vcpu_extstate_query(s->mica, s->domid, 0, &xmask, &xmax)))
        return save_fail(s, "getvcpuextstate's size query failed: %s", strerror(-r));
    if (xmax < 16 || xmax > MS_MAX_XSAVE)
        return save_fail(s, "getvcpuextstate says %llu octets of XSAVE state; this saver takes "
                            "16 to %u", (unsigned long long)xmax, MS_MAX_XSAVE);
    uint8_t xbuf[MS_MAX_XSAVE] __attribute__((aligned(64)));

    for (uint32_t v = 0; v <= s->info.max_vcpu_id; v++) {
        struct vcpu_guest_context c;
        struct xen_domctl_ext_vcpucontext evc;
        struct ms_vcpu_header vh = { .vcpu_id = v };
        if (v == 0) {
            c = *ctx0;
        } else if ((r = mica_vcpu_context_get(s->mica, s->domid, v, &c))) {
            return save_fail(s, "getvcpucontext of vCPU %u failed: %s", v, strerror(-r));
        }
        if (!(c.flags & VGCF_online))
            continue;
        if (canonical_context(s, &c))
            return -1;
        struct iovec cv[2] = { { &vh, sizeof(vh) }, { &c, sizeof(c) } };
        if ((r = ms_writer_record_iov(&s->w, MS_REC_X86_PV_VCPU_BASIC, cv, 2)))
            return save_fail(s, "%s", ms_writer_error(&s->w));
        if ((r = mica_vcpu_ext_context_get(s->mica, s->domid, v, &evc)))
            return save_fail(s, "get_ext_vcpucontext of vCPU %u failed: %s", v,
                             strerror(-r));
        struct iovec ev[2] = { { &vh, sizeof(vh) }, { &evc, sizeof(evc) } };
        if ((r = ms_writer_record_iov(&s->w, MS_REC_X86_PV_VCPU_EXTENDED, ev, 2)))
            return save_fail(s, "%s", ms_writer_error(&s->w));
        if (xmask) {
            uint64_t used = 0;
            if ((r = mica_vcpu_extstate_get(s->mica, s->domid, v, xmask, xbuf, xmax, &used)))
                return save_fail(s, "getvcpuextstate of vCPU %u failed: %s", v, strerror(-r));
            struct iovec xv[2] = { { &vh, sizeof(vh) }, { xbuf, used } };
            if ((r = ms_writer_record_iov(&s->w, MS_REC_X86_PV_VCPU_XSAVE, xv, 2)))
                return save_fail(s, "%s", ms_writer_error(&s->w));
        }
        /* MSRs (TSC_AUX on Mica): a record only when the vCPU has some set, as Xen's saver. */
        struct xen_domctl_vcpu_msr msrs[MS_MAX_VCPU_MSRS];
        uint32_t nmsrs = 0;
        if ((r = mica_vcpu_msrs_get(s->mica, s->domid, v, msrs, MS_MAX_VCPU_MSRS, &nmsrs)))
            return save_fail(s, "get_vcpu_msrs of vCPU %u failed: %s", v, strerror(-r));
        if (nmsrs) {
            struct iovec mv[2] = { { &vh, sizeof(vh) }, { msrs, nmsrs * sizeof(msrs[0]) } };
            if ((r = ms_writer_record_iov(&s->w, MS_REC_X86_PV_VCPU_MSRS, mv, 2)))
                return save_fail(s, "%s", ms_writer_error(&s->w));
        }
    }
    struct ms_xs_blob xsb = { 0 };
    if (collect_xenstore(s, &xsb)) {
        ms_xs_blob_free(&xsb);
        return -1;
    }
    r = xsb.len ? ms_writer_record(&s->w, MS_MICA_XENSTORE, xsb.buf, (uint32_t)xsb.len) : 0;
    ms_xs_blob_free(&xsb);
    if (r)
        return save_fail(s, "%s", ms_writer_error(&s->w));
    return 0;
}

/* After a signal while the suspend request is pending: withdraw it, unless
   the guest has already taken it (Linux's handler reads control/shutdown
   and writes "" back in one transaction, then suspends).  Our read and
   write are one transaction too, so exactly one side takes the request.
   0: withdrawn, the guest runs on; 1: the guest took it and suspends. */
static int withdraw_suspend(struct mica_xs *xs, const char *path)
{
    for (int tries = 0; tries < 20; tries++) {
        uint32_t tx;
        char *v = NULL;
        if (mica_xs_tx_start(xs, &tx))
            break;
        int r = mica_xs_read(xs, tx, path, &v);
        bool pending = r == 0 && v && strcmp(v, "suspend") == 0;
        free(v);
        if (pending)
            mica_xs_write(xs, tx, path, "");
        r = mica_xs_tx_end(xs, tx, true);
        if (r == -EAGAIN)
            continue;
        return r == 0 && pending ? 0 : 1;
    }
    return 1; /* cannot tell: wait for the suspend, then resume */
}

/* Asks the guest to suspend and waits for SHUTDOWN_suspend; on time-out
   the request is withdrawn and the guest runs on.  After a signal
   (save_signal), the request is withdrawn if the guest has not taken it
   yet (failure, nothing to resume); if it has, this still waits for the
   suspend and returns 0, and the caller resumes the guest. */
int suspend_guest(struct save *s, unsigned long timeout_s)
{
    struct mica_xs *xs = hv_xenstore(s->hv);
    char path[96];
    int r;
    bool taken = false;

    if (!xs)
        return save_fail(s, "%s", hv_error(s->hv));
    if (hv_watch_release(s->hv) != HV_OK)
        return save_fail(s, "%s", hv_error(s->hv));
    snprintf(path, sizeof(path), "/local/domain/%u/control/shutdown", s->domid);
    if ((r = mica_xs_write(xs, 0, path, "suspend")))
        return save_fail(s, "writing %s failed: %s", path, strerror(-r));
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        struct hv_life life;
        if (hv_life(s->hv, s->domid, &life) != HV_OK)
            return save_fail(s, "%s", hv_error(s->hv));
        if (life.shutdown && life.reason == HV_REASON_SUSPEND)
            return 0;
        if (life.shutdown || life.dying)
            return save_fail(s, "domain %u shut down (%s) instead of suspending", s->domid,
                             hv_reason_name(life.reason));
        if (save_signal && !taken) {
            if (withdraw_suspend(xs, path) == 0)
                return save_fail(s, "interrupted by signal %d (%s) before domain %u "
                                    "suspended; the request was withdrawn, it runs on, "
                                    "nothing was saved", (int)save_signal,
                                 strsignal(save_signal), s->domid);
            taken = true; /* it is suspending: wait, then the caller resumes it */
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        if ((unsigned long)(now.tv_sec - start.tv_sec) >= timeout_s) {
            mica_xs_write(xs, 0, path, "");
            return save_fail(s, "domain %u did not suspend within %lu s (does its kernel "
                                "answer control/shutdown = suspend?); it runs on, "
                                "nothing was saved", s->domid, timeout_s);
        }
        if (hv_wait_release(s->hv, save_signal ? 100 : 1000) != HV_OK)
            usleep(250 * 1000);
    }
}

/* The guest carries on after a failed save: its suspend returns 1. */
void resume_cancelled(struct save *s, struct vcpu_guest_context *ctx0)
{
    int r;
    ctx0->user_regs.rax = 1;
    if ((r = mica_vcpu_context_set(s->mica, s->domid, 0, ctx0)) ||
        (r = mica_domain_resume(s->mica, s->domid)))
        fprintf(stderr, "vmctl save: resuming domain %u failed: %s; it stays suspended "
                        "('vmctl destroy %s' ends it)\n", s->domid, strerror(-r), s->name);
    else
        fprintf(stderr, "vmctl save: domain '%s' resumed; it runs on\n", s->name);
}

/*
 * --xl-format: xl's header with the stored definition as libxl's JSON
 * configuration, so that Xen's `xl restore FILE` reads the file (xl takes
 * the domain's configuration from it); the Mica stream follows unchanged,
 * its checksums in optional libxc records that Xen's libxc skips.
 * Before the suspend: a domain without a stored definition is refused.
 */
static int xl_prefix(struct save *s, char *err, size_t errlen)
{
    size_t len = 0;
    char *xml = read_stored_definition(s->name, &len);
    if (!xml) {
        snprintf(err, errlen, "--xl-format needs the stored definition of '%s' (xl restore "
                 "takes the domain's configuration from the file): 'vmctl define' it first; "
                 "nothing was saved", s->name);
        return -1;
    }
    struct domain_config cfg;
    struct domcfg_diags diags;
    domcfg_diags_init(&diags, s->name);
    int bad = domcfg_load_memory(xml, len, s->name, 0, &cfg, &diags, NULL) != DOMCFG_OK;
    domcfg_diags_free(&diags);
    free(xml);
    if (bad) {
        snprintf(err, errlen, "the stored definition of '%s' does not load ('vmctl validate' "
                 "says why); nothing was saved", s->name);
        return -1;
    }
    /* MACs the definition leaves to the builder: the ones the vifs have. */
    uint8_t (*macs)[6] = cfg.n_nics ? calloc(cfg.n_nics, 6) : NULL;
    struct mica_xs *xs = hv_xenstore(s->hv);
    for (size_t i = 0; macs && xs && i < cfg.n_nics; i++) {
        char path[96], *v = NULL;
        unsigned m[6];
        snprintf(path, sizeof(path), "/local/domain/%u/device/vif/%zu/mac", s->domid, i);
        if (!cfg.nics[i].has_mac && mica_xs_read(xs, 0, path, &v) == 0 &&
            sscanf(v, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) == 6)
            for (int k = 0; k < 6; k++)
                macs[i][k] = (uint8_t)m[k];
        free(v);
    }
    char *json = xlconfig_json(&cfg, s->info.handle, (const uint8_t (*)[6])macs, err, errlen);
    free(macs);
    domcfg_free(&cfg);
    if (!json)
        return -1;
    s->prefix = ms_xl_header_build(json, &s->prefix_len);
    free(json);
    if (!s->prefix) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

int cmd_save(const struct vmctl_command *cmd, int argc, char **argv)
{
    const char *timeout_text = NULL, *file = NULL;
    bool xl_format = false;
    const struct cli_flag flags[] = { { .name = "timeout", .arg = &timeout_text },
                                      { .name = "xl-format", .value = &xl_format },
                                      { .name = NULL } };
    const char *wanted;
    int status;

    /* Two positional arguments: NAME FILE.  cli_begin takes one, so the
       last argument is the file. */
    if (argc >= 3 && argv[argc - 1][0] != '-') {
        file = argv[argc - 1];
        argc--;
    }
    if (!cli_begin(cmd, argc, argv, flags, "NAME", &wanted, &status))
        return status;
    if (!file)
        return cli_usage_error(cmd, "give the file to save into after NAME");
    unsigned long timeout_s = 120;
    if (timeout_text && !cli_number(cmd, "timeout", timeout_text, 1, 86400, &timeout_s))
        return VMCTL_EXIT_USAGE;

    struct save s = { .cmd = cmd, .name = wanted, .progress = isatty(2) };
    uint32_t domid;
    int rc = defs_connect_running(cmd, wanted, &s.hv, &domid);
    if (rc != VMCTL_EXIT_OK)
        return rc;
    /* From the suspend request on, SIGINT/SIGTERM/SIGHUP stop the save
       cleanly (request withdrawn, or partial file removed and the guest
       resumed) instead of ending vmctl with the guest suspended.  SIGKILL
       (the OOM killer) cannot be caught: see docs/state-files.md. */
    struct sigaction sa = { .sa_handler = on_save_signal };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    s.domid = (uint16_t)domid;
    s.mica = hv_mica(s.hv);
    int r, mark_fd = -1;
    struct hv_host host = { 0 };
    if (domid == 0) {
        rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "domain 0 cannot be saved");
        goto out;
    }
    if (hv_host_info(s.hv, &host) != HV_OK ||
        (r = mica_domain_info(s.mica, s.domid, &s.info))) {
        rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "reading domain %u failed", domid);
        goto out;
    }
    if (s.info.flags & XEN_DOMINF_shutdown) {
        rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "domain '%s' has already shut down", wanted);
        goto out;
    }
    if (xl_format && xl_prefix(&s, s.err, sizeof(s.err))) {
        rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "%s", s.err);
        goto out;
    }
    /* Held until the domain is destroyed or resumed: if vmctl dies in
       between, the domain's monitor resumes the guest (monitor.h). */
    mark_fd = monitor_save_mark(domid, file);
    prof_begin();
    if (suspend_guest(&s, timeout_s)) {
        rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "%s", s.err);
        goto out;
    }
    prof_lap("suspend");
    /* Suspended: from here on a failure resumes the guest. */
    struct vcpu_guest_context ctx0;
    uint8_t shinfo[PAGE];
    if ((r = mica_vcpu_context_get(s.mica, s.domid, 0, &ctx0))) {
        rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "getvcpucontext of vCPU 0 failed: %s; "
                      "domain %u stays suspended", strerror(-r), domid);
        goto out;
    }
    if (copy_frames(&s, &s.info.shared_info_frame, 1, shinfo, "shared_info") ||
        read_p2m(&s, shinfo) ||
        to_pfn(&s, ctx0.user_regs.rdx, &s.start_info_pfn, "start_info (the vCPU's rdx)")) {
        rc = VMCTL_EXIT_FAILURE;
    } else {
        /* The suspend hypercall's argument: start_info as a PFN. */
        struct vcpu_guest_context saved = ctx0;
        saved.user_regs.rdx = s.start_info_pfn;
        rc = write_stream(&s, &saved, shinfo, host.cpu_khz, file) ? VMCTL_EXIT_FAILURE
                                                                  : VMCTL_EXIT_OK;
    }
    if (s.progress)
        fputc('\n', stderr);
    if (s.writer_open)
        ms_writer_abort(&s.w);
    if (rc == VMCTL_EXIT_OK && save_signal) {
        /* The file is whole; the guest is still suspended: keep both as a
           completed save would, and say so. */
        cli_warn(cmd, "signal %d (%s) came after %s was complete; finishing the save",
                 (int)save_signal, strsignal(save_signal), file);
    }
    if (rc != VMCTL_EXIT_OK) {
        cli_fail(cmd, rc, "saving domain '%s' failed: %s; no file written", wanted, s.err);
        resume_cancelled(&s, &ctx0);
        goto out;
    }
    /* Memory accounting: every page the domain owns is one of its p2m's. */
    uint64_t nr_valid = 0;
    for (uint64_t i = 0; i < s.nr_pfns; i++)
        nr_valid += s.p2m[i] != INVALID_MFN;
    struct xen_domctl_getdomaininfo after;
    if (mica_domain_info(s.mica, s.domid, &after) == 0 && after.tot_pages != nr_valid)
        cli_warn(cmd, "domain %u owns %llu pages, its p2m names %llu: %lld pages are not in "
                 "the file", domid, (unsigned long long)after.tot_pages,
                 (unsigned long long)nr_valid, (long long)(after.tot_pages - nr_valid));
    prof_lap("accounting");
    if (hv_destroy(s.hv, domid) != HV_OK)
        cli_warn(cmd, "%s saved, but destroying domain %u failed: %s", file, domid,
                 hv_error(s.hv));
    prof_lap("destroy");
    {
        char what[48];
        snprintf(what, sizeof(what), "vmctl save (XXH3 %s)", ms_digest_impl_name());
        prof_end(what);
    }
    printf("Domain '%s' (id %u) saved to %s (%llu pages of %llu PFNs)%s\n", wanted, domid,
           file, (unsigned long long)nr_valid, (unsigned long long)s.nr_pfns,
           xl_format ? " with xl's header: Xen's 'xl restore' reads it" : "");
out:
    monitor_save_unmark(domid, mark_fd);
    ms_m2p_free(&s.m2p);
    free(s.p2m);
    free(s.p2m_frame_mfns);
    free(s.prefix);
    hv_close(s.hv);
    return rc;
}
