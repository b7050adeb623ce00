/*
 * vmctl migrate NAME DESTINATION and vmctl migrate-receive (docs/migration.md).
 *
 * The sender runs `ssh DESTINATION vmctl migrate-receive` (or the command
 * --ssh-command names) and talks to it over the pipe pair: the stream is
 * the one `vmctl save` writes (Xen's migration stream v2 with a checksum
 * after every record), sent with pre-copy rounds while the guest runs;
 * the receiver's answers are lines on its standard output:
 *
 *   receiver: "MICA-MIGRATE 1 ready"     (a Mica host with vmctl; else not)
 *   sender:   stream head (MICA_INFO, MICA_DEFINITION, X86_PV_INFO, P2M frames)
 *   receiver: "ok" | "error: ..."        (name/UUID clash, memory, devices)
 *   sender:   PAGE_DATA rounds; suspend; the last dirty pages; vCPUs, END
 *   receiver: "built" | "error: ..."     (the domain is complete and paused)
 *   sender:   "go"
 *   receiver: "resumed" | "error: ..."   (unpaused)
 *   sender:   destroys the source domain, "gone"; the receiver renames a
 *             temporary name (a migration to the same host) to the real one.
 *
 * As in Xen's libxc stream spec, a page sent again in a later round is
 * simply another PAGE_DATA entry for the same PFN: the receiver keeps the
 * last one.  Until the receiver said "resumed" every failure leaves the
 * guest running on the source (resumed "cancelled" if it was suspended)
 * and the receiver destroys what it built.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "copystore.h"
#include "defs.h"
#include "devices.h"
#include "exitcodes.h"
#include "fdio.h"
#include "hv.h"
#include "ms_digest.h"
#include "monitor.h"
#include "profile.h"
#include "statefile.h"
#include "xs_nodes.h"

#include "evtchn.h"
#include <public/memory.h>
#include <public/sched.h>

#define PAGE STATEFILE_PAGE
#define INVALID_MFN (~(uint64_t)0)
#define HELLO "MICA-MIGRATE 1 ready"
#define INCOMING_SUFFIX "--incoming"

static int write_line(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int write_line(int fd, const char *fmt, ...)
{
    char buf[700];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    if ((size_t)n > sizeof(buf) - 2)
        n = (int)sizeof(buf) - 2;
    /* One line: no newline inside an answer. */
    for (int i = 0; i < n; i++)
        if (buf[i] == '\n')
            buf[i] = ' ';
    buf[n++] = '\n';
    for (int done = 0; done < n;) {
        ssize_t w = write(fd, buf + done, (size_t)(n - done));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        done += (int)w;
    }
    return 0;
}

/* ------------------------------------------------------------------ sender */

struct mig {
    struct save s;
    const char *dest;
    pid_t child;
    int to, from;                    /* the receiver's stdin and stdout */
    uint8_t *dirty;                  /* one bit per PFN: to send */
    uint8_t *deferred;               /* page tables that could not be canonicalised yet */
    uint64_t bm_bits;                /* bits in both */
    uint64_t pages_sent, rounds;
    uint8_t *sent_type;              /* per PFN: the type its last copy was sent with (0xff: never) */
    uint8_t *sent_round;             /* per PFN: the round of that copy (the final one: 255) */
    uint64_t *sent_hash;             /* per PFN: a hash of that copy, as read (tables only) */
    uint64_t *data_hash;             /* per PFN, two each: XXH3-128 of a data page's copy sent */
    uint64_t unchanged;              /* data pages found dirty but as sent: not sent again */
    bool final_sent;
    uint64_t round_rec[32];          /* the writer's record count when each round began */
    unsigned nround_rec;
    bool live;
    /* The p2m's own pages (frame list list, frame lists, p2m frames) by
       PFN, and shared_info's pointers to it, as read at the start: while
       no CLEAN reports one of them written, the final round need not read
       the p2m again (p2m_watch_ok false: always read it). */
    uint64_t *p2m_pfns;
    uint64_t nr_p2m_pfns;
    uint64_t p2m_fll, p2m_max_pfn;
    bool p2m_watch_ok, p2m_written;
    /* The final CLEAN's L1 tables whose kernel entries got RW back (not
       sent again: the MICA_KERNEL_RW record names the entries). */
    struct mica_logdirty_rw *rw;
    uint32_t nr_rw;
    /* MICA_VMCTL_PROFILE: where the final round's pages came from. */
    bool diag;
    uint64_t fin_live, fin_clean, fin_tables, busy0, fin_same;
    char answer[600];
};

/* MICA_VMCTL_PROFILE: nanoseconds tasks ran on this dom0's CPUs
   (/proc/schedstat), to tell the downtime's busy time from its waits. */
static uint64_t dom0_busy_ns(void)
{
    FILE *f = fopen("/proc/schedstat", "r");
    char line[512];
    uint64_t sum = 0;
    if (!f)
        return 0;
    while (fgets(line, sizeof(line), f)) {
        unsigned long long v[9];
        if (strncmp(line, "cpu", 3) == 0 &&
            sscanf(line, "%*s %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
                   &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8]) == 9)
            sum += v[6];
    }
    fclose(f);
    return sum;
}

static bool bit(const uint8_t *b, uint64_t i) { return (b[i / 8] >> (i % 8)) & 1; }
static void set_bit(uint8_t *b, uint64_t i) { b[i / 8] |= (uint8_t)(1u << (i % 8)); }

static uint64_t count_bits(const uint8_t *b, uint64_t n)
{
    uint64_t c = 0;
    for (uint64_t i = 0; i < n / 8; i++)
        c += (uint64_t)__builtin_popcount(b[i]);
    for (uint64_t i = n / 8 * 8; i < n; i++)
        c += bit(b, i);
    return c;
}

/*
 * A hash of a page table's entries without the bits that change behind
 * log-dirty's back by design: accessed and dirty (set by the CPU) and
 * writable (taken away by log-dirty's own write protection).
 */
static uint64_t page_hash(const uint8_t *p)
{
    /* A whole entry per step (it was one octet per step: eight times the
       work, in the downtime's table check for every table read again). */
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (unsigned i = 0; i < PAGE / 8; i++) {
        uint64_t e;
        memcpy(&e, p + i * 8, 8);
        e &= ~UINT64_C(0x62);
        h = (h ^ e) * UINT64_C(0x9e3779b97f4a7c15);
        h ^= h >> 31;
    }
    return h;
}

/*
 * Reads n guest frames into buf (MS_MAX_BATCH pages, locked: from
 * mica_frame_buffer_alloc).  With the guest suspended, by the hypervisor's
 * copy (MICA_DOMCTL_copy_frames, as vmctl save): no mapping of the frames
 * in dom0, whose every PTE set and cleared is a trap into Mica; the call
 * refuses a domain that may run, so the live rounds map the frames.
 */
static int read_frames(struct mig *m, const uint64_t *mfns, size_t n, uint8_t *buf,
                       bool suspended, const char *what)
{
    struct save *s = &m->s;
    size_t stopped;
    int r;

    if (!suspended)
        return copy_frames(s, mfns, n, buf, what);
    if ((r = mica_frames_copy(s->mica, s->domid, mfns, n, buf, false, &stopped)))
        return save_fail(s, "copying %s of domain %u failed at MFN %#" PRIx64 ": %s", what,
                         s->domid, mfns[stopped < n ? stopped : 0], strerror(-r));
    return 0;
}

/*
 * Sends every PFN set in m->dirty (and those deferred), then clears both.
 * In a live round a page table naming a frame that is not the guest's
 * (Linux maps shared_info and grant frames while it runs) cannot be made
 * canonical: it is kept for the final round, as libxc does; in the final
 * round every failure is fatal.
 */
static int send_dirty(struct mig *m, bool final)
{
    struct save *s = &m->s;
    uint64_t pfns[MS_MAX_BATCH], mfns[MS_MAX_BATCH], got[MS_MAX_BATCH], bpfn[MS_MAX_BATCH];
    uint8_t type[MS_MAX_BATCH];
    const void *data[MS_MAX_BATCH];
    uint8_t *buf = mica_frame_buffer_alloc(MS_MAX_BATCH);
    int rc = -1;

    if (!buf)
        return save_fail(s, "out of memory for a page batch: %s", strerror(errno));
    if (m->nround_rec < 32)
        m->round_rec[m->nround_rec++] = s->w.records;
    for (uint64_t i = 0; i < m->bm_bits / 8; i++) {
        m->dirty[i] |= m->deferred[i];
        m->deferred[i] = 0;
    }
    uint64_t pfn = 0;
    while (pfn < s->nr_pfns) {
        uint32_t n = 0;
        size_t nmap = 0;
        for (; pfn < s->nr_pfns && n < MS_MAX_BATCH; pfn++)
            if (bit(m->dirty, pfn)) {
                pfns[n++] = pfn;
                if (s->p2m[pfn] != INVALID_MFN)
                    mfns[nmap++] = s->p2m[pfn];
            }
        if (!n)
            break;
        memcpy(got, mfns, nmap * sizeof(uint64_t));
        int r = nmap ? mica_domain_frame_types(s->mica, s->domid, got, nmap) : 0;
        if (r) {
            save_fail(s, "getpageframeinfo3 for %zu pages failed: %s", nmap, strerror(-r));
            goto out;
        }
        /* Final: a frame not the guest's is an error below; the copy would
           refuse it first, with a less helpful message. */
        for (size_t i = 0; final && i < nmap; i++)
            if (((got[i] >> XEN_DOMCTL_PFINFO_LTAB_SHIFT) & 0xf) == MS_PAGE_XTAB) {
                save_fail(s, "MFN %#" PRIx64 " is in the guest's p2m but the hypervisor "
                          "says it is not the guest's frame", mfns[i]);
                goto out;
            }
        if (nmap && read_frames(m, mfns, nmap, buf, final, "guest pages"))
            goto out;
        uint32_t nb = 0;
        size_t k = 0;
        for (uint32_t i = 0; i < n; i++) {
            uint64_t p = pfns[i];
            if (s->p2m[p] == INVALID_MFN) {
                bpfn[nb] = p;
                type[nb] = MS_PAGE_XTAB;
                data[nb++] = NULL;
                m->sent_type[p] = MS_PAGE_XTAB;
                m->sent_round[p] = final ? 255 : (uint8_t)(m->rounds < 254 ? m->rounds : 254);
                continue;
            }
            uint8_t *page = buf + k * PAGE;
            unsigned ty = (unsigned)((got[k] >> XEN_DOMCTL_PFINFO_LTAB_SHIFT) & 0xf);
            k++;
            if (final && (ty & 7u) >= 1 && (ty & 7u) <= 4)
                m->fin_tables++;
            if (ty == MS_PAGE_XTAB) {
                if (!final) {
                    set_bit(m->deferred, p);
                    continue;
                }
                save_fail(s, "PFN %" PRIu64 " (MFN %#" PRIx64 ") is in the guest's p2m but the "
                          "hypervisor says it is not the guest's frame", p, s->p2m[p]);
                goto out;
            }
            unsigned level = ty & 7u;
            uint64_t raw_hash = level >= 1 && level <= 4 ? page_hash(page) : 0;
            if (level >= 1 && level <= 4 &&
                ms_pt_canonicalise((uint64_t *)(void *)page, level, &s->m2p, s->err,
                                   sizeof(s->err))) {
                if (!final) {
                    set_bit(m->deferred, p);
                    continue;
                }
                goto out;
            }
            if (ty == MS_PAGE_NOTAB) {
                /* A data page as the destination already has it is not
                   sent again: a quarter of an idle guest's last round
                   (pages its suspend wrote back as they were). */
                uint64_t h[2];
                ms_digest_128(page, PAGE, h);
                if (m->sent_type[p] == MS_PAGE_NOTAB && m->data_hash[2 * p] == h[0] &&
                    m->data_hash[2 * p + 1] == h[1]) {
                    m->unchanged++;
                    if (final)
                        m->fin_same++;
                    continue;
                }
                m->data_hash[2 * p] = h[0];
                m->data_hash[2 * p + 1] = h[1];
            }
            bpfn[nb] = p;
            type[nb] = (uint8_t)ty;
            data[nb++] = page;
            m->sent_type[p] = (uint8_t)ty;
            m->sent_round[p] = final ? 255 : (uint8_t)(m->rounds < 254 ? m->rounds : 254);
            m->sent_hash[p] = raw_hash;
        }
        uint32_t stored;
        if (nb && (r = ms_writer_pages(&s->w, nb, bpfn, type, data, &stored))) {
            save_fail(s, "%s", ms_writer_error(&s->w));
            goto out;
        }
        m->pages_sent += nb;
    }
    memset(m->dirty, 0, m->bm_bits / 8);
    rc = 0;
out:
    mica_frame_buffer_free(buf, MS_MAX_BATCH);
    return rc;
}

static const char *type_word(unsigned t)
{
    static const char *const w[16] = { "data", "L1", "L2", "L3", "L4", "?5", "?6", "?7",
                                       "?8", "pinned L1", "pinned L2", "pinned L3",
                                       "pinned L4", "broken", "zero", "not the guest's" };
    return t == 0xff ? "never sent" : w[t & 15];
}

static int by_pfn(const void *a, const void *b)
{
    const struct mica_table_frame *x = a, *y = b;
    return x->pfn < y->pfn ? -1 : x->pfn > y->pfn;
}

static bool sent_as_table(const struct mig *m, uint64_t pfn)
{
    unsigned was = m->sent_type[pfn];
    return was != 0xff && (was & 7u) >= 1 && (was & 7u) <= 4 && was != MS_PAGE_XALLOC &&
           was != MS_PAGE_XTAB;
}

/*
 * The tables to check, by PFN, with their type now (XEN_DOMCTL_PFINFO_*
 * >> LTAB_SHIFT): every page table of the guest's p2m as the hypervisor
 * lists it (MICA_DOMCTL_list_tables), and every PFN last sent as a table
 * that it does not list (its type asked with getpageframeinfo3; a table
 * that stopped being one was reported dirty and sent again, so these are
 * normally none).  What a getpageframeinfo3 pass over every PFN found,
 * without asking about each; only arrays of the tables' size (arrays of
 * the p2m's, half a MiB for 256 MiB, were page faults in the downtime).
 * 1 when the hypervisor has no such call (the caller then makes that
 * pass), -1 on failure.
 */
static int tables_now(struct mig *m, uint64_t **pfns_out, uint8_t **now_out, uint64_t *n_out)
{
    struct save *s = &m->s;
    struct mica_table_frame *t = NULL;
    uint32_t nt = 0;
    int r = mica_domain_tables(s->mica, s->domid, (uint32_t)(s->nr_pfns / 128 + 256), &t, &nt);
    if (r == -ENOSYS)
        return 1;
    if (r)
        return save_fail(s, "listing the page tables of domain %u (MICA_DOMCTL_list_tables) "
                         "failed: %s", s->domid, strerror(-r));
    /* A table outside the guest's p2m was never sent nor looked at. */
    uint32_t k = 0;
    for (uint32_t i = 0; i < nt; i++)
        if (t[i].pfn < s->nr_pfns && s->p2m[t[i].pfn] == t[i].mfn)
            t[k++] = t[i];
    nt = k;
    qsort(t, nt, sizeof(*t), by_pfn);
    /* The PFNs sent as tables that are none now. */
    uint64_t nask = 0;
    for (uint64_t pfn = 0, li = 0; pfn < s->nr_pfns; pfn++) {
        while (li < nt && t[li].pfn < pfn)
            li++;
        if ((li < nt && t[li].pfn == pfn) || s->p2m[pfn] == INVALID_MFN || !sent_as_table(m, pfn))
            continue;
        nask++;
    }
    uint64_t cap = nt + nask;
    uint64_t *pfns = malloc((size_t)(cap ? cap : 1) * sizeof(*pfns));
    uint8_t *now = malloc((size_t)(cap ? cap : 1));
    if (!pfns || !now) {
        free(t);
        free(pfns);
        free(now);
        return save_fail(s, "out of memory for the table check");
    }
    uint64_t n = 0, ask[MS_MAX_BATCH], ask_at[MS_MAX_BATCH];
    size_t na = 0;
    for (uint64_t pfn = 0, li = 0; pfn <= s->nr_pfns; pfn++) {
        bool last = pfn == s->nr_pfns;
        while (!last && li < nt && t[li].pfn < pfn)
            li++;
        if (!last && li < nt && t[li].pfn == pfn) {
            pfns[n] = pfn;
            now[n++] = (uint8_t)((t[li].type >> XEN_DOMCTL_PFINFO_LTAB_SHIFT) & 0xf);
        } else if (!last && s->p2m[pfn] != INVALID_MFN && sent_as_table(m, pfn)) {
            ask_at[na] = n;
            ask[na++] = s->p2m[pfn];
            pfns[n] = pfn;
            now[n++] = 0;
        }
        if (na && (na == MS_MAX_BATCH || last)) {
            if ((r = mica_domain_frame_types(s->mica, s->domid, ask, na))) {
                free(t);
                free(pfns);
                free(now);
                return save_fail(s, "getpageframeinfo3 for %zu pages failed: %s", na,
                                 strerror(-r));
            }
            for (size_t j = 0; j < na; j++)
                now[ask_at[j]] = (uint8_t)((ask[j] >> XEN_DOMCTL_PFINFO_LTAB_SHIFT) & 0xf);
            na = 0;
        }
    }
    free(t);
    *pfns_out = pfns;
    *now_out = now;
    *n_out = n;
    return 0;
}

/*
 * The guest suspended and the last round sent: every page table as it is
 * now must be what the stream holds (a table's type, pin and contents;
 * log-dirty must have reported every change).  A page that differs was
 * changed without being reported dirty, a bug in Mica's log-dirty (or the
 * stream would build a domain that cannot run): it is named, and sent
 * again so that the destination gets the tables as they are.  Only tables
 * are checked (data pages would need all memory read again).
 */
static int verify_tables(struct mig *m)
{
    struct save *s = &m->s;
    uint64_t mfns[MS_MAX_BATCH], got[MS_MAX_BATCH], pfns[MS_MAX_BATCH];
    uint8_t *buf = mica_frame_buffer_alloc(MS_MAX_BATCH);
    uint64_t bad = 0;
    char first[3][200];
    int rc = -1;
    /* The candidates from the hypervisor's list of tables; without it, a
       getpageframeinfo3 pass over every PFN (0.023 s of the downtime for
       256 MiB under TCG). */
    uint64_t *listed = NULL, nlisted = 0, li = 0;
    uint8_t *listed_now = NULL;
    int lr;

    if (!buf)
        return save_fail(s, "out of memory for a page batch: %s", strerror(errno));
    memset(m->dirty, 0, m->bm_bits / 8);
    if ((lr = tables_now(m, &listed, &listed_now, &nlisted)) < 0)
        goto out;
    prof_lap("table check: list");
    for (uint64_t pfn = 0; lr == 0 ? li < nlisted : pfn < s->nr_pfns;) {
        size_t n = 0;
        if (lr == 0) {
            for (; li < nlisted && n < MS_MAX_BATCH; li++) {
                pfns[n] = listed[li];
                mfns[n] = s->p2m[listed[li]];
                got[n++] = (uint64_t)listed_now[li] << XEN_DOMCTL_PFINFO_LTAB_SHIFT;
            }
        } else {
            for (; pfn < s->nr_pfns && n < MS_MAX_BATCH; pfn++)
                if (s->p2m[pfn] != INVALID_MFN) {
                    pfns[n] = pfn;
                    mfns[n++] = s->p2m[pfn];
                }
            memcpy(got, mfns, n * sizeof(uint64_t));
            int r = n ? mica_domain_frame_types(s->mica, s->domid, got, n) : 0;
            if (r) {
                save_fail(s, "getpageframeinfo3 for %zu pages failed: %s", n, strerror(-r));
                goto out;
            }
        }
        if (!n)
            break;
        /* Only tables (now or as sent) are read again, and of those not
           the ones the final round sent as what they still are: that
           copy was read with the guest suspended, after the last CLEAN
           (about a third of an idle guest's tables: the kernel L1s the
           final CLEAN gave RW back). */
        size_t nc = 0;
        for (size_t k = 0; k < n; k++) {
            unsigned now = (unsigned)((got[k] >> XEN_DOMCTL_PFINFO_LTAB_SHIFT) & 0xf);
            unsigned was = m->sent_type[pfns[k]];
            bool table_now = (now & 7u) >= 1 && (now & 7u) <= 4;
            bool table_was = sent_as_table(m, pfns[k]);
            if ((!table_now && !table_was) || (now == was && m->sent_round[pfns[k]] == 255))
                continue;
            pfns[nc] = pfns[k];
            mfns[nc] = mfns[k];
            got[nc++] = now;
        }
        if (nc && read_frames(m, mfns, nc, buf, true, "guest page tables"))
            goto out;
        for (size_t k = 0; k < nc; k++) {
            uint64_t p = pfns[k];
            unsigned now = (unsigned)got[k];
            unsigned was = m->sent_type[p];
            if (now == was && page_hash(buf + k * PAGE) == m->sent_hash[p])
                continue;
            if (bad < 3) {
                char when[24];
                if (m->sent_round[p] == 255)
                    snprintf(when, sizeof(when), "the last round");
                else
                    snprintf(when, sizeof(when), "round %u", m->sent_round[p]);
                snprintf(first[bad], sizeof(first[bad]), "PFN %#" PRIx64 " sent in %s as %s "
                         "is %s now%s", p, when, type_word(was), type_word(now),
                         now == was ? " with other contents" : "");
            }
            bad++;
            set_bit(m->dirty, p);
        }
    }
    if (bad) {
        fprintf(stderr, "vmctl migrate: warning: %" PRIu64 " page-table page%s changed after "
                "being sent without being reported dirty (a log-dirty bug; sent again):",
                bad, bad == 1 ? "" : "s");
        for (uint64_t i = 0; i < bad && i < 3; i++)
            fprintf(stderr, "%s %s", i ? ";" : "", first[i]);
        fputc('\n', stderr);
        if (send_dirty(m, true))
            goto out;
    }
    rc = 0;
out:
    free(listed);
    free(listed_now);
    mica_frame_buffer_free(buf, MS_MAX_BATCH);
    return rc;
}

/* Waits for the receiver's answer `want`; its "error: ..." otherwise. */
static int expect(struct mig *m, const char *want, int timeout_s)
{
    bool timed_out;
    int r = fdio_read_line(m->from, m->answer, sizeof(m->answer), timeout_s, &timed_out);
    if (r == 1 && strcmp(m->answer, want) == 0)
        return 0;
    if (r == 1 && strncmp(m->answer, "error: ", 7) == 0)
        return save_fail(&m->s, "the destination refused: %s", m->answer + 7);
    if (r == 1)
        return save_fail(&m->s, "the destination answered \"%.200s\" where \"%s\" was due",
                         m->answer, want);
    return save_fail(&m->s, "%s", timed_out ? "the destination did not answer in time"
                                            : "the connection to the destination was lost "
                                              "(its messages, if any, are above)");
}

static int spawn_receiver(struct mig *m, const char *ssh, const char *token,
                          const char *extra)
{
    int in[2], out[2];
    char *cmdline = NULL;
    if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC))
        return save_fail(&m->s, "pipe: %s", strerror(errno));
    /* MICA_VMCTL_PROFILE goes along, so that the receiver prints its
       phases too (through ssh's stderr). */
    const char *prof_env = getenv("MICA_VMCTL_PROFILE");
    bool prof_on = prof_env && *prof_env && strcmp(prof_env, "0") != 0;
    if (asprintf(&cmdline, "exec %s %s %svmctl migrate-receive --token %s%s", ssh, m->dest,
                 prof_on ? "env MICA_VMCTL_PROFILE=1 " : "", token, extra) < 0)
        return save_fail(&m->s, "out of memory");
    m->child = fork();
    if (m->child < 0)
        return save_fail(&m->s, "fork: %s", strerror(errno));
    if (m->child == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        execl("/bin/sh", "sh", "-c", cmdline, (char *)NULL);
        _exit(127);
    }
    free(cmdline);
    close(in[0]);
    close(out[1]);
    m->to = in[1];
    m->from = out[0];
    return 0;
}

static void end_receiver(struct mig *m, bool kill_it)
{
    if (m->to >= 0)
        close(m->to);
    m->to = -1;
    if (m->child > 0) {
        if (kill_it)
            kill(m->child, SIGTERM);
        int st;
        waitpid(m->child, &st, 0);
        m->child = 0;
    }
    if (m->from >= 0)
        close(m->from);
    m->from = -1;
}

static int logdirty(struct mig *m, uint32_t op, uint32_t mode, uint8_t *bm,
                    struct xen_domctl_shadow_op_stats *st)
{
    int r = mica_logdirty(m->s.mica, m->s.domid, op, mode, bm, bm ? m->bm_bits : 0, st);
    if (r)
        return save_fail(&m->s, "log-dirty (shadow_op %u) for domain %u failed: %s", op,
                         m->s.domid, strerror(-r));
    return 0;
}

/* The p2m read again in the final round: PFNs whose frame changed while the
   guest ran (exchanges, ballooning) are sent again. */
static int reread_p2m(struct mig *m, const uint8_t shinfo[PAGE])
{
    struct save *s = &m->s;
    uint64_t *old = s->p2m, old_n = s->nr_pfns;
    ms_m2p_free(&s->m2p);
    free(s->p2m_frame_mfns);
    s->p2m = NULL;
    s->p2m_frame_mfns = NULL;
    int r = read_p2m(s, (uint8_t *)shinfo);
    if (!r && s->nr_pfns != old_n)
        r = save_fail(s, "the guest's p2m changed size during the migration (%" PRIu64
                      " to %" PRIu64 " PFNs); not supported", old_n, s->nr_pfns);
    for (uint64_t i = 0; !r && i < s->nr_pfns; i++)
        if (old[i] != s->p2m[i])
            set_bit(m->dirty, i);
    free(old);
    return r;
}

/*
 * After the p2m was read at the start (log-dirty on): the PFNs of every
 * page it was read from.  A frame outside the guest's p2m (it should not
 * be) leaves the watch off, and the final round reads the p2m again.
 */
static int watch_p2m(struct mig *m, const uint8_t shinfo[PAGE])
{
    struct save *s = &m->s;
    const struct shared_info *si = (const void *)shinfo;
    uint64_t top[PAGE / 8];
    uint64_t nr_lists = (s->nr_p2m_frames + PAGE / 8 - 1) / (PAGE / 8);

    m->p2m_fll = si->arch.pfn_to_mfn_frame_list_list;
    m->p2m_max_pfn = si->arch.max_pfn;
    m->p2m_watch_ok = false;
    if (copy_frames(s, &m->p2m_fll, 1, top, "the p2m frame list list"))
        return -1;
    m->p2m_pfns = malloc((1 + nr_lists + s->nr_p2m_frames) * sizeof(uint64_t));
    if (!m->p2m_pfns)
        return save_fail(s, "out of memory for the p2m's frames");
    uint64_t n = 0;
    bool ok = ms_m2p_lookup(&s->m2p, m->p2m_fll, &m->p2m_pfns[n++]);
    for (uint64_t i = 0; ok && i < nr_lists; i++)
        ok = ms_m2p_lookup(&s->m2p, top[i], &m->p2m_pfns[n++]);
    for (uint64_t i = 0; ok && i < s->nr_p2m_frames; i++)
        ok = ms_m2p_lookup(&s->m2p, s->p2m_frame_mfns[i], &m->p2m_pfns[n++]);
    m->nr_p2m_pfns = n;
    m->p2m_watch_ok = ok;
    return 0;
}

/* After a CLEAN, with its bitmap: was a page of the p2m written? */
static void check_p2m_written(struct mig *m, const uint8_t *bm)
{
    for (uint64_t i = 0; m->p2m_watch_ok && !m->p2m_written && i < m->nr_p2m_pfns; i++)
        if (m->p2m_pfns[i] < m->bm_bits && bit(bm, m->p2m_pfns[i]))
            m->p2m_written = true;
}

static void progress(struct mig *m, const char *what, uint64_t left, double rate)
{
    if (isatty(2))
        fprintf(stderr, "\rMigrating '%s': %s, %" PRIu64 " pages left, dirtying %.0f pages/s   ",
                m->s.name, what, left, rate);
}

/* A host name for ssh, never an option or shell text. */
/*
 * ssh's own cipher order starts with chacha20-poly1305, the fastest on a
 * CPU without AES instructions.  With them (AES-NI and carry-less
 * multiplication), AES-GCM through OpenSSL costs a fraction of that per
 * octet, and a migration stream is all bulk data, its last round in the
 * downtime: the default command then puts aes128-gcm first.  "^" keeps
 * the rest of ssh's default list behind it, so a server that does not
 * take it agrees on the next one.  --ssh-command is used as given.
 */
static const char *default_ssh_command(void)
{
    __builtin_cpu_init();
    if (__builtin_cpu_supports("aes") && __builtin_cpu_supports("pclmul"))
        return "ssh -o BatchMode=yes -o 'Ciphers=^aes128-gcm@openssh.com'";
    return "ssh -o BatchMode=yes";
}

static bool host_name_ok(const char *dest)
{
    return dest[0] && dest[0] != '-' &&
           strspn(dest, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                        "0123456789.-_:@[]") == strlen(dest);
}

int cmd_migrate(const struct vmctl_command *cmd, int argc, char **argv)
{
    const char *downtime_text = NULL, *rounds_text = NULL, *ssh_text = NULL,
               *timeout_text = NULL, *dest = NULL;
    bool offline = false, live = false, copy_storage = false;
    const struct cli_flag flags[] = { { .name = "live", .value = &live },
                                      { .name = "copy-storage", .value = &copy_storage },
                                      { .name = "offline", .value = &offline },
                                      { .name = "max-downtime", .arg = &downtime_text },
                                      { .name = "max-rounds", .arg = &rounds_text },
                                      { .name = "ssh-command", .arg = &ssh_text },
                                      { .name = "timeout", .arg = &timeout_text },
                                      { .name = NULL } };
    const char *wanted;
    int status;

    if (argc >= 3 && argv[argc - 1][0] != '-') {
        dest = argv[argc - 1];
        argc--;
    }
    if (!cli_begin(cmd, argc, argv, flags, "NAME", &wanted, &status))
        return status;
    if (!dest)
        return cli_usage_error(cmd, "give the destination host after NAME");
    if (live && offline)
        return cli_usage_error(cmd, "--live and --offline exclude each other");
    if (!host_name_ok(dest))
        return cli_usage_error(cmd, "'%s' is not a host name ssh can take (letters, digits, "
                               "'.', '-', '_', ':', '@', '[', ']')", dest);
    unsigned long max_downtime = 300, max_rounds = 30, timeout_s = 120;
    if (downtime_text && !cli_number(cmd, "max-downtime", downtime_text, 1, 600000, &max_downtime))
        return VMCTL_EXIT_USAGE;
    if (rounds_text && !cli_number(cmd, "max-rounds", rounds_text, 1, 1000, &max_rounds))
        return VMCTL_EXIT_USAGE;
    if (timeout_text && !cli_number(cmd, "timeout", timeout_text, 1, 86400, &timeout_s))
        return VMCTL_EXIT_USAGE;
    const char *ssh = ssh_text ? ssh_text : default_ssh_command();
    signal(SIGPIPE, SIG_IGN);

    static struct mig m;
    memset(&m, 0, sizeof(m));
    m.to = m.from = -1;
    m.dest = dest;
    m.live = !offline;
    {
        const char *e = getenv("MICA_VMCTL_PROFILE");
        m.diag = e && *e && strcmp(e, "0") != 0;
    }
    struct save *s = &m.s;
    s->cmd = cmd;
    s->name = wanted;
    uint32_t domid;
    int rc = defs_connect_running(cmd, wanted, &s->hv, &domid);
    if (rc != VMCTL_EXIT_OK)
        return rc;
    s->domid = (uint16_t)domid;
    s->mica = hv_mica(s->hv);
    struct hv_host host = { 0 };
    struct mica_xs *xs = hv_xenstore(s->hv);
    char token[40], token_path[96];
    bool logging = false, suspended = false, token_set = false;
    struct vcpu_guest_context ctx0;
    uint8_t shinfo[PAGE];
    double t_start = fdio_now_s(), t_suspend = 0, t_resumed = 0;
    int r;
    rc = VMCTL_EXIT_FAILURE;

    if (domid == 0) {
        cli_fail(cmd, rc, "domain 0 cannot be migrated");
        goto out;
    }
    if (!xs || hv_host_info(s->hv, &host) != HV_OK ||
        (r = mica_domain_info(s->mica, s->domid, &s->info))) {
        cli_fail(cmd, rc, "reading domain %u failed: %s", domid, hv_error(s->hv));
        goto out;
    }
    if (s->info.flags & XEN_DOMINF_shutdown) {
        cli_fail(cmd, rc, "domain '%s' has shut down; there is nothing to migrate", wanted);
        goto out;
    }
    /* The token tells a receiver on this same host that the domain of the
       same name and UUID it sees is the one leaving (no clash). */
    {
        uint8_t rnd[8] = { 0 };
        int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
        if (fd < 0 || read(fd, rnd, sizeof(rnd)) != (ssize_t)sizeof(rnd)) {
            if (fd >= 0)
                close(fd);
            cli_fail(cmd, rc, "reading /dev/urandom failed");
            goto out;
        }
        close(fd);
        for (int i = 0; i < 8; i++)
            snprintf(token + 2 * i, 3, "%02x", rnd[i]);
        snprintf(token_path, sizeof(token_path), "/local/domain/0/mica/migrating/%u", domid);
        if ((r = mica_xs_write(xs, 0, token_path, token))) {
            cli_fail(cmd, rc, "writing %s failed: %s", token_path, strerror(-r));
            goto out;
        }
        token_set = true;
    }
    static struct copystore cs;
    memset(&cs, 0, sizeof(cs));
    cs.ssh = ssh;
    cs.dest = dest;
    cs.token = token;
    if (copy_storage && cs_plan(&cs, xs, domid, wanted)) {
        cli_fail(cmd, rc, "migrating '%s' with --copy-storage: %s; nothing was done, it runs "
                 "on here", wanted, cs.err);
        goto out;
    }
    if (spawn_receiver(&m, ssh, token, copy_storage ? " --copy-storage" : ""))
        goto fail;
    {
        bool timed_out;
        r = fdio_read_line(m.from, m.answer, sizeof(m.answer), 60, &timed_out);
        if (r != 1 || strcmp(m.answer, HELLO) != 0) {
            if (r == 1)
                save_fail(s, "%s is not a Mica host ready to receive: it answered \"%.200s\"",
                          dest, m.answer);
            else
                save_fail(s, "%s did not answer as a Mica host (%s; ssh's or the remote "
                          "vmctl's messages, if any, are above)", dest,
                          timed_out ? "no answer within 60 s" : "the connection closed");
            goto fail;
        }
    }
    if (copy_storage && cs_announce(&cs, m.to)) {
        save_fail(s, "%s", cs.err);
        goto fail;
    }

    if (!m.live) {
        /* --offline: save and restore through the same stream. */
        t_suspend = fdio_now_s();
        prof_begin();
        if (suspend_guest(s, timeout_s))
            goto fail;
        suspended = true;
        prof_lap("suspend");
    }
    if ((r = mica_vcpu_context_get(s->mica, s->domid, 0, &ctx0))) {
        save_fail(s, "getvcpucontext of vCPU 0 failed: %s", strerror(-r));
        goto fail;
    }
    if (m.live) {
        /* As libxc: if a stale log-dirty is on, OFF and ENABLE again. */
        if (mica_logdirty(s->mica, s->domid, XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY, 0, NULL, 0,
                          NULL) &&
            (logdirty(&m, XEN_DOMCTL_SHADOW_OP_OFF, 0, NULL, NULL) ||
             logdirty(&m, XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY, 0, NULL, NULL)))
            goto fail;
        logging = true;
    }
    if (copy_frames(s, &s->info.shared_info_frame, 1, shinfo, "shared_info") ||
        read_p2m(s, shinfo))
        goto fail;
    m.bm_bits = (s->nr_pfns + 63) / 64 * 64;
    m.dirty = calloc(m.bm_bits / 8, 1);
    m.deferred = calloc(m.bm_bits / 8, 1);
    m.sent_type = malloc(s->nr_pfns);
    m.sent_round = calloc(s->nr_pfns, 1);
    m.sent_hash = calloc(s->nr_pfns, sizeof(uint64_t));
    m.data_hash = calloc(s->nr_pfns, 2 * sizeof(uint64_t));
    if (m.sent_type)
        memset(m.sent_type, 0xff, s->nr_pfns);
    if (!m.dirty || !m.deferred || !m.sent_type || !m.sent_round || !m.sent_hash ||
        !m.data_hash) {
        save_fail(s, "out of memory for the dirty bitmaps");
        goto fail;
    }
    if (m.live && watch_p2m(&m, shinfo))
        goto fail;
    uint64_t nr_valid = 0;
    for (uint64_t i = 0; i < s->nr_pfns; i++)
        nr_valid += s->p2m[i] != INVALID_MFN;
    char sname[300];
    snprintf(sname, sizeof(sname), "the migration stream to %s", dest);
    if ((r = ms_writer_open_fd(&s->w, m.to, sname, s->nr_pfns, nr_valid, 4, 17))) {
        save_fail(s, "%s", ms_writer_error(&s->w));
        goto fail;
    }
    s->writer_open = true;
    if (save_stream_head(s))
        goto fail;
    if ((r = ms_writer_flush(&s->w))) {
        save_fail(s, "%s", ms_writer_error(&s->w));
        goto fail;
    }
    if (expect(&m, "ok", 120))
        goto fail;
    if (copy_storage && cs_start(&cs)) {
        save_fail(s, "%s", cs.err);
        goto fail;
    }

    /* Round 0: every PFN.  Then rounds of what was dirtied meanwhile. */
    memset(m.dirty, 0xff, m.bm_bits / 8);
    for (uint64_t i = s->nr_pfns; i < m.bm_bits; i++)
        m.dirty[i / 8] &= (uint8_t)~(1u << (i % 8));
    uint64_t prev_dirty = UINT64_MAX, last_dirty = nr_valid;
    unsigned not_shrinking = 0;
    double rate = 0, bw = 0;          /* pages/s dirtied, pages/s sent */
    const char *why_stop = "one pass (--offline)";
    for (m.rounds = 0; m.live; m.rounds++) {
        double t0 = fdio_now_s();
        uint64_t before = m.pages_sent;
        char what[48];
        snprintf(what, sizeof(what), "round %" PRIu64, m.rounds);
        progress(&m, what, last_dirty, rate);
        if (send_dirty(&m, false))
            goto fail;
        /* A disk copy that broke off stops the migration now, not after
           the guest was suspended for it. */
        if (copy_storage && cs_check(&cs)) {
            save_fail(s, "%s", cs.err);
            goto fail;
        }
        double t1 = fdio_now_s();
        if (t1 - t0 > 0.001 && m.pages_sent > before)
            bw = (double)(m.pages_sent - before) / (t1 - t0);
        struct xen_domctl_shadow_op_stats st;
        if (logdirty(&m, XEN_DOMCTL_SHADOW_OP_CLEAN, 0, m.dirty, &st))
            goto fail;
        check_p2m_written(&m, m.dirty);
        uint64_t nd = count_bits(m.dirty, s->nr_pfns) + count_bits(m.deferred, s->nr_pfns);
        double t2 = fdio_now_s();
        rate = t2 - t0 > 0.001 ? (double)nd / (t2 - t0) : 0;
        last_dirty = nd;
        /* Stop when the rest fits the allowed downtime at the measured
           speed, when it stops shrinking, or at the round limit.  A rest
           that fits but is still above libxc's 50 pages goes round once
           more while the rounds at least halve it: a round of a few
           hundred pages costs the guest nothing, while in the last round
           each page is downtime (an idle guest: round 0's leftovers,
           about 200 pages here, were half of the last round). */
        double est_ms = bw > 0 ? (double)nd / bw * 1000 : 1e9;
        bool halving = prev_dirty == UINT64_MAX ? nd * 2 < nr_valid : nd * 2 < prev_dirty;
        not_shrinking = nd * 10 >= prev_dirty * 9 ? not_shrinking + 1 : 0;
        prev_dirty = nd;
        if (est_ms <= (double)max_downtime && (nd <= 50 || !halving)) {
            why_stop = "the rest fits --max-downtime";
            m.rounds++;
            break;
        }
        if (not_shrinking >= 3) {
            why_stop = "the dirty set stopped shrinking";
            m.rounds++;
            break;
        }
        if (m.rounds + 1 >= max_rounds) {
            why_stop = "--max-rounds reached";
            m.rounds++;
            break;
        }
    }
    if (m.live) {
        progress(&m, "suspending", last_dirty, rate);
        t_suspend = fdio_now_s();
        prof_begin();
        if (m.diag)
            m.busy0 = dom0_busy_ns();
        if (suspend_guest(s, timeout_s))
            goto fail;
        suspended = true;
        prof_lap("suspend");
        if ((r = mica_vcpu_context_get(s->mica, s->domid, 0, &ctx0))) {
            save_fail(s, "getvcpucontext of vCPU 0 failed: %s", strerror(-r));
            goto fail;
        }
        /*
         * m.dirty still holds what the last live round's CLEAN reported
         * (pages written while that round was sent): the final CLEAN's
         * bitmap is added to it, never written over it.  (It was, once:
         * those pages were then never sent, data and page tables alike.)
         */
        uint8_t *fin = calloc(m.bm_bits / 8, 1);
        if (!fin) {
            save_fail(s, "out of memory for the dirty bitmap");
            goto fail;
        }
        /* The kernel entries it gives RW back are listed, not their tables
           marked dirty: about 130 tables fewer in the last round for an
           idle 256 MiB Linux.  A hypervisor without the call: the CLEAN. */
        uint64_t rw_max = s->nr_pfns / 512 * 2 + 64;
        if (rw_max > MICA_LOGDIRTY_RW_MAX)
            rw_max = MICA_LOGDIRTY_RW_MAX;
        if (!(m.rw = calloc(rw_max, sizeof(*m.rw)))) {
            free(fin);
            save_fail(s, "out of memory for the kernel RW list");
            goto fail;
        }
        r = mica_logdirty_final(s->mica, s->domid, fin, m.bm_bits, m.rw, (uint32_t)rw_max,
                                &m.nr_rw);
        if (r == -ENOSYS) {
            r = logdirty(&m, XEN_DOMCTL_SHADOW_OP_CLEAN, XEN_DOMCTL_SHADOW_LOGDIRTY_FINAL, fin,
                         NULL) ? -EIO : 0;
        } else if (r) {
            save_fail(s, "the final log-dirty round (MICA_DOMCTL_logdirty_final) for domain "
                      "%u failed: %s", s->domid, strerror(-r));
        }
        if (r) {
            free(fin);
            goto fail;
        }
        prof_lap("final CLEAN");
        m.fin_live = count_bits(m.dirty, s->nr_pfns);
        m.fin_clean = count_bits(fin, s->nr_pfns);
        check_p2m_written(&m, fin);
        for (uint64_t i = 0; i < m.bm_bits / 8; i++)
            m.dirty[i] |= fin[i];
        free(fin);
        /* shared_info, and the p2m as it is now, unless none of its pages
           was written since it was read (then it is what the sender has:
           reading and inverting it again was a third of the downtime). */
        if (copy_frames(s, &s->info.shared_info_frame, 1, shinfo, "shared_info"))
            goto fail;
        const struct shared_info *si = (const void *)shinfo;
        bool again = !m.p2m_watch_ok || m.p2m_written || si->arch.max_pfn != m.p2m_max_pfn ||
                     si->arch.pfn_to_mfn_frame_list_list != m.p2m_fll;
        if (again && reread_p2m(&m, shinfo))
            goto fail;
        prof_lap(again ? "shared_info+p2m again" : "shared_info (p2m unwritten)");
    } else {
        /* Offline: everything once, the guest suspended. */
    }
    nr_valid = 0;
    for (uint64_t i = 0; i < s->nr_pfns; i++)
        nr_valid += s->p2m[i] != INVALID_MFN;
    uint64_t final_pages = count_bits(m.dirty, s->nr_pfns) + count_bits(m.deferred, s->nr_pfns);
    /* The guest is suspended: the disks' last writes, the copies complete. */
    if (copy_storage && cs_finish(&cs)) {
        save_fail(s, "%s", cs.err);
        goto fail;
    }
    prof_lap("disk copies finished");
    progress(&m, "last round", final_pages, rate);
    if (send_dirty(&m, true))
        goto fail;
    prof_lap("last pages");
    if (m.live && verify_tables(&m))
        goto fail;
    prof_lap("table check");
    if (m.nr_rw) {
        _Static_assert(sizeof(struct ms_mica_kernel_rw) == sizeof(struct mica_logdirty_rw),
                       "the record's entries are the domctl's");
        for (uint32_t i = 0; i < m.nr_rw; i++)
            if (m.rw[i].pfn >= s->nr_pfns || s->p2m[m.rw[i].pfn] == INVALID_MFN) {
                save_fail(s, "the final log-dirty round named PFN %#" PRIx64 " as a page "
                          "table, which the guest's p2m does not have", m.rw[i].pfn);
                goto fail;
            }
        if ((r = ms_writer_record(&s->w, MS_MICA_KERNEL_RW, m.rw,
                                  m.nr_rw * (uint32_t)sizeof(*m.rw)))) {
            save_fail(s, "%s", ms_writer_error(&s->w));
            goto fail;
        }
    }
    if (to_pfn(s, ctx0.user_regs.rdx, &s->start_info_pfn, "start_info (the vCPU's rdx)"))
        goto fail;
    {
        struct vcpu_guest_context saved = ctx0;
        saved.user_regs.rdx = s->start_info_pfn;
        if (save_stream_tail(s, &saved, shinfo, host.cpu_khz))
            goto fail;
    }
    r = ms_writer_finish(&s->w);
    s->writer_open = false;
    if (r) {
        save_fail(s, "%s", ms_writer_error(&s->w));
        goto fail;
    }
    if (isatty(2))
        fputc('\n', stderr);
    prof_lap("vcpu+tail records");
    if (expect(&m, "built", 600))
        goto fail;
    prof_lap("receiver builds");
    if (write_line(m.to, "go")) {
        /* The order never left: the receiver destroys what it built. */
        save_fail(s, "the connection to the destination was lost before the order to resume");
        goto fail;
    }
    if (expect(&m, "resumed", 120)) {
        /* After "go" the receiver may have unpaused it: never run it twice. */
        if (!strncmp(m.answer, "error: ", 7)) {
            goto fail;
        }
        cli_fail(cmd, rc, "migrating '%s' to %s: %s after the order to resume it there; it "
                 "may be running there now, so it stays suspended here (domain %u): if it "
                 "runs on %s, 'vmctl destroy %s' here; if not, it is lost there and this "
                 "suspended copy is the only one", wanted, dest, s->err, domid, dest, wanted);
        end_receiver(&m, false);
        goto out;
    }
    prof_lap("go, resumed");
    prof_end("vmctl migrate (from the suspend)");
    if (m.diag)
        fprintf(stderr, "vmctl migrate (the last round): profile: %" PRIu64 " pages: %" PRIu64
                " from the last live CLEAN, %" PRIu64 " from the final one; %" PRIu64
                " page tables; %" PRIu64 " data pages as sent before, not sent again; dom0's "
                "tasks ran %.3f s of the downtime\n", final_pages,
                m.fin_live, m.fin_clean, m.fin_tables, m.fin_same,
                (double)(dom0_busy_ns() - m.busy0) / 1e9);
    t_resumed = fdio_now_s();
    /* Memory accounting: every page the domain owned was one of its p2m's. */
    struct xen_domctl_getdomaininfo after;
    if (mica_domain_info(s->mica, s->domid, &after) == 0 && after.tot_pages != nr_valid)
        cli_warn(cmd, "domain %u owns %llu pages, its p2m names %llu: %lld pages were not "
                 "sent", domid, (unsigned long long)after.tot_pages,
                 (unsigned long long)nr_valid, (long long)(after.tot_pages - nr_valid));
    if (hv_destroy(s->hv, domid) != HV_OK)
        cli_warn(cmd, "the domain runs on %s, but destroying domain %u here failed: %s", dest,
                 domid, hv_error(s->hv));
    write_line(m.to, "gone");
    end_receiver(&m, false);
    printf("Domain '%s' migrated to %s: %s, %" PRIu64 " round%s (%s), %" PRIu64 " pages sent "
           "for %" PRIu64 ", %" PRIu64 " in the last round; downtime %.0f ms (suspend to "
           "resumed), total %.1f s\n", wanted, dest, m.live ? "live" : "offline", m.rounds,
           m.rounds == 1 ? "" : "s", why_stop, m.pages_sent, nr_valid, final_pages,
           (t_resumed - t_suspend) * 1000, t_resumed - t_start);
    for (size_t i = 0; i < cs.n; i++)
        printf("Disk %s copied to %s:%s (%" PRIu64 " bytes%s)\n", cs.d[i].target, dest,
               cs.d[i].path, cs.d[i].bytes, cs.d[i].readonly ? ", read-only: copied once" : "");
    rc = VMCTL_EXIT_OK;
    goto out;

fail:
    if (isatty(2))
        fputc('\n', stderr);
    if (s->writer_open)
        ms_writer_abort(&s->w);
    s->writer_open = false;
    cs_abort(&cs);
    end_receiver(&m, true);
    if (logging)
        mica_logdirty(s->mica, s->domid, XEN_DOMCTL_SHADOW_OP_OFF, 0, NULL, 0, NULL);
    cli_fail(cmd, rc, "migrating '%s' to %s failed: %s", wanted, dest, s->err);
    if (m.nround_rec) {
        /* Which round sent a record the destination names (its numbers
           count from the file's first record; these from the writer's). */
        fprintf(stderr, "vmctl migrate: the rounds began after stream record");
        for (unsigned i = 0; i < m.nround_rec; i++)
            fprintf(stderr, " %" PRIu64 "%s", m.round_rec[i],
                    i + 1 == m.nround_rec && suspended ? " (the last, guest suspended)" : "");
        fputc('\n', stderr);
    }
    if (suspended)
        resume_cancelled(s, &ctx0);
    else
        fprintf(stderr, "vmctl migrate: domain '%s' runs on here\n", wanted);
out:
    if (token_set)
        mica_xs_rm(xs, 0, token_path);
    if (s->writer_open)
        ms_writer_abort(&s->w);
    ms_m2p_free(&s->m2p);
    free(s->p2m);
    free(s->p2m_frame_mfns);
    free(m.dirty);
    free(m.deferred);
    free(m.sent_type);
    free(m.sent_round);
    free(m.sent_hash);
    free(m.data_hash);
    free(m.p2m_pfns);
    free(m.rw);
    cs_free(&cs);
    hv_close(s->hv);
    return rc;
}

/* ---------------------------------------------------------------- receiver */

struct recv {
    struct restore r;
    uint8_t **pt;                    /* per PFN: the last page-table copy (canonical) */
    uint8_t *pt_level;
    uint64_t populated;
    uint32_t *rec_of;                /* per PFN: the record that sent its last copy */
    uint8_t *buf;                    /* MS_MAX_BATCH locked pages: the copies into the domain */
};

/* populate_physmap for the PFNs of one batch that have no frame yet. */
static int populate_some(struct recv *v, const uint64_t *pfns, uint32_t n)
{
    struct restore *r = &v->r;
    uint64_t batch[MS_MAX_BATCH], want[MS_MAX_BATCH];
    unsigned k = 0;
    for (uint32_t i = 0; i < n; i++)
        if (r->p2m[pfns[i]] == INVALID_MFN) {
            bool dup = false;
            for (unsigned j = 0; j < k && !dup; j++)
                dup = want[j] == pfns[i];
            if (!dup) {
                want[k] = pfns[i];
                batch[k++] = pfns[i];
            }
        }
    if (!k)
        return 0;
    struct xen_memory_reservation res = { .extent_start = (uint64_t)(uintptr_t)batch,
                                          .nr_extents = k, .domid = r->domid };
    mlock(batch, sizeof(batch));
    mlock(&res, sizeof(res));
    long done = hypercall4(r->mica, __HYPERVISOR_memory_op, XENMEM_populate_physmap,
                           (uint64_t)(uintptr_t)&res, 0, 0);
    munlock(&res, sizeof(res));
    munlock(batch, sizeof(batch));
    if (done != (long)k)
        return rfail(r, "populate_physmap for domain %u gave %ld of %u frames%s", r->domid,
                     done, k, done >= 0 ? " (not enough free memory?)" : "");
    for (unsigned j = 0; j < k; j++)
        r->p2m[want[j]] = batch[j];
    v->populated += k;
    return 0;
}

/* One PAGE_DATA record: frames for new PFNs, data written; page tables
   kept (canonical) until every frame exists, written at the end. */
static int recv_pages(struct recv *v, const struct ms_record *rec)
{
    struct restore *r = &v->r;
    const struct ms_page_data_header *h = rec->body;
    const uint64_t *w = (const uint64_t *)(const void *)((const uint8_t *)rec->body + sizeof(*h));
    const uint8_t *data = (const uint8_t *)(w + h->count);
    uint64_t pfns[MS_MAX_BATCH], mfns[MS_MAX_BATCH];
    const uint8_t *src[MS_MAX_BATCH];
    uint32_t n = 0, nd = 0, k = 0;

    if (h->count > MS_MAX_BATCH)
        return rfail(r, "a PAGE_DATA record of %u pages; at most %u are taken", h->count,
                     MS_MAX_BATCH);
    for (uint32_t i = 0; i < h->count; i++) {
        uint64_t pfn = w[i] & MS_PFN_MASK;
        unsigned t = (unsigned)(w[i] >> MS_PFN_TYPE_SHIFT);
        int has = ms_page_type_has_data(t);
        const uint8_t *page = has == 1 ? data + (size_t)k++ * PAGE : NULL;
        v->rec_of[pfn] = (uint32_t)rec->number;
        if (t == MS_PAGE_XTAB || t == MS_PAGE_BROKEN) {
            /* restore_record checked pfn < nr_pfns.  No longer the guest's
               page: a table copy sent in an earlier round is neither
               written nor pinned (its entries are stale). */
            free(v->pt[pfn]);
            v->pt[pfn] = NULL;
            v->pt_level[pfn] = 0;
            r->pin[pfn] = 0;
            continue;
        }
        pfns[n++] = pfn;
        unsigned level = t & 7u;
        r->pin[pfn] = t >= (MS_PAGE_PINNED | MS_PAGE_L1TAB) && t <= (MS_PAGE_PINNED | MS_PAGE_L4TAB)
                          ? (uint8_t)level : 0;
        bool table = has == 1 && level >= 1 && level <= 4;
        if (table) {
            if (!v->pt[pfn] && !(v->pt[pfn] = malloc(PAGE)))
                return rfail(r, "out of memory for page tables");
            memcpy(v->pt[pfn], page, PAGE);
            v->pt_level[pfn] = (uint8_t)level;
            continue;
        }
        free(v->pt[pfn]);
        v->pt[pfn] = NULL;
        v->pt_level[pfn] = 0;
        if (has == 1) {
            src[nd] = page;
            mfns[nd++] = pfn;        /* as a PFN until populated */
        } else if (t == MS_PAGE_XALLOC && r->p2m[pfn] != INVALID_MFN) {
            /* A zero page over data sent before: zero it. */
            src[nd] = NULL;
            mfns[nd++] = pfn;
        }
    }
    if (populate_some(v, pfns, n))
        return -1;
    if (!nd)
        return 0;
    for (uint32_t i = 0; i < nd; i++)
        mfns[i] = r->p2m[mfns[i]];
    /* By the hypervisor's copy (MICA_DOMCTL_copy_frames, as vmctl
       restore): the new domain never ran, so it is paused from its
       creation; no mapping of the frames in dom0. */
    for (uint32_t i = 0; i < nd; i++) {
        if (src[i])
            memcpy(v->buf + (size_t)i * PAGE, src[i], PAGE);
        else
            memset(v->buf + (size_t)i * PAGE, 0, PAGE);
    }
    size_t stopped;
    int rc = mica_frames_copy(r->mica, r->domid, mfns, nd, v->buf, true, &stopped);
    if (rc)
        return rfail(r, "copying %u pages into domain %u failed at MFN %#" PRIx64 ": %s", nd,
                     r->domid, mfns[stopped < nd ? stopped : 0], strerror(-rc));
    return 0;
}

/*
 * MICA_KERNEL_RW: kernel entries the source's last log-dirty round made
 * writable again, set here in the table copies already received (the
 * tables themselves were not sent again for it).  Each must name an L1
 * table whose last copy holds a present entry in every slot named.
 */
static int recv_kernel_rw(struct recv *v, const struct ms_record *rec)
{
    struct restore *r = &v->r;
    const uint8_t *b = rec->body;
    /* The reader checked a whole number of entries. */
    for (uint32_t off = 0; off < rec->length; off += sizeof(struct ms_mica_kernel_rw)) {
        struct ms_mica_kernel_rw e;
        memcpy(&e, b + off, sizeof(e));
        uint64_t *t = e.pfn < r->nr_pfns ? (uint64_t *)(void *)v->pt[e.pfn] : NULL;
        if (!t || v->pt_level[e.pfn] != 1)
            return rfail(r, "record %llu (MICA_KERNEL_RW) names PFN %#" PRIx64 ", which "
                         "the stream has not sent as an L1 table", (unsigned long long)rec->number,
                         e.pfn);
        for (unsigned slot = 0; slot < 512; slot++) {
            if (!((e.slots[slot / 64] >> (slot % 64)) & 1))
                continue;
            if (!(t[slot] & 1))
                return rfail(r, "record %llu (MICA_KERNEL_RW) makes entry %u of the L1 at PFN "
                             "%#" PRIx64 " writable, but the stream's copy (record %u) has "
                             "nothing there", (unsigned long long)rec->number, slot, e.pfn,
                             v->rec_of[e.pfn]);
            t[slot] |= 2;            /* _PAGE_RW */
        }
    }
    return 0;
}

/*
 * After a pin failed: what in the stream's last copies contradicts
 * itself, i.e. a PFN an upper table names as a lower-level table while
 * an L1 maps it writable, or while its own last copy is not such a table.
 * Each with the PAGE_DATA record that sent the copies, so a copy that was
 * not sent again after a change shows.  Appended to r->err (at most 3).
 */
static void explain_tables(struct recv *v)
{
    struct restore *r = &v->r;
    uint8_t *need = calloc(r->nr_pfns, 1);
    uint64_t *by = calloc(r->nr_pfns, sizeof(uint64_t)), *rw = calloc(r->nr_pfns, sizeof(uint64_t));
    size_t len = strlen(r->err);
    unsigned shown = 0;

    if (!need || !by || !rw)
        goto out;
    /* by/rw: (PFN << 9 | slot) + 1 of the first upper entry / writable L1 entry naming it. */
    for (uint64_t pfn = 0; pfn < r->nr_pfns; pfn++) {
        const uint64_t *t = (const uint64_t *)(const void *)v->pt[pfn];
        unsigned level = v->pt_level[pfn];
        if (!t)
            continue;
        for (unsigned i = 0; i < 512; i++) {
            uint64_t e = t[i], to = (e & UINT64_C(0x000ffffffffff000)) >> 12;
            if (!(e & 1) || to >= r->nr_pfns || (level == 4 && i >= 256 && i < 272))
                continue;
            if (level == 1 && (e & 2) && !rw[to])
                rw[to] = (pfn << 9 | i) + 1;
            if (level > 1 && !(to == pfn) && !by[to]) {
                need[to] = (uint8_t)(level - 1);
                by[to] = (pfn << 9 | i) + 1;
            }
        }
    }
    for (uint64_t pfn = 0; pfn < r->nr_pfns && shown < 3 && len + 200 < sizeof(r->err); pfn++) {
        if (!need[pfn])
            continue;
        uint64_t up = (by[pfn] - 1) >> 9, w = (rw[pfn] - 1) >> 9;
        int k = 0;
        if (rw[pfn])
            k = snprintf(r->err + len, sizeof(r->err) - len, "; in the stream, the L%u at PFN %#"
                         PRIx64 " (record %u) names PFN %#" PRIx64 " (record %u) as an L%u "
                         "while the L1 at PFN %#" PRIx64 " (record %u) slot %u maps it "
                         "writable", need[pfn] + 1u, up, v->rec_of[up], pfn, v->rec_of[pfn],
                         need[pfn], w, v->rec_of[w], (unsigned)((rw[pfn] - 1) & 511));
        else if (v->pt_level[pfn] != need[pfn])
            k = snprintf(r->err + len, sizeof(r->err) - len, "; in the stream, the L%u at PFN %#"
                         PRIx64 " (record %u) names PFN %#" PRIx64 " as an L%u, but its last "
                         "copy (record %u) is %s", need[pfn] + 1u, up, v->rec_of[up], pfn,
                         need[pfn], v->rec_of[pfn], v->pt_level[pfn] ? "another level" : "data");
        if (k > 0) {
            len += (size_t)k < sizeof(r->err) - len ? (size_t)k : sizeof(r->err) - len - 1;
            shown++;
        }
    }
out:
    free(need);
    free(by);
    free(rw);
}

static int write_tables(struct recv *v)
{
    struct restore *r = &v->r;
    /* In batches of MS_MAX_BATCH through the hypervisor's copy
       (MICA_DOMCTL_copy_frames: the frames are not typed yet, so it takes
       them), no mapping of the frames in dom0. */
    uint64_t mfns[MS_MAX_BATCH];
    uint64_t *pages = (uint64_t *)(void *)v->buf;
    if (!pages)
        return rfail(r, "no page buffer (the stream had no MICA_INFO)");
    for (uint64_t pfn = 0; pfn < r->nr_pfns;) {
        unsigned n = 0;
        for (; pfn < r->nr_pfns && n < MS_MAX_BATCH; pfn++) {
            if (!v->pt[pfn])
                continue;
            uint64_t *page = pages + (size_t)n * 512;
            memcpy(page, v->pt[pfn], PAGE);
            if (ms_pt_uncanonicalise(page, v->pt_level[pfn], r->p2m, r->nr_pfns, r->err,
                                     sizeof(r->err)))
                return -1;
            mfns[n++] = r->p2m[pfn];
        }
        if (!n)
            break;
        size_t stopped;
        int e = mica_frames_copy(r->mica, r->domid, mfns, n, pages, true, &stopped);
        if (e)
            return rfail(r, "copying %u page tables (up to PFN %" PRIu64 ") into domain %u "
                         "failed at MFN %#" PRIx64 ": %s", n, pfn - 1, r->domid,
                         mfns[stopped < n ? stopped : 0], strerror(-e));
    }
    return 0;
}

/* Is the running domain `d` the one leaving this very host with `token`? */
static bool leaving_here(struct mica_xs *xs, uint32_t domid, const char *token)
{
    char path[96], *val = NULL;
    snprintf(path, sizeof(path), "/local/domain/0/mica/migrating/%u", domid);
    if (!token || mica_xs_read(xs, 0, path, &val))
        return false;
    bool same = strcmp(val, token) == 0;
    free(val);
    return same;
}

static int rename_domain(struct mica_xs *xs, uint32_t domid, const uint8_t uuid[16],
                         const char *name)
{
    char path[128], u[37];
    snprintf(path, sizeof(path), "/local/domain/%u/name", domid);
    int e = mica_xs_write(xs, 0, path, name);
    domcfg_format_uuid(uuid, u);
    snprintf(path, sizeof(path), "/vm/%s/name", u);
    if (!e)
        e = mica_xs_write(xs, 0, path, name);
    return e;
}

int cmd_migrate_receive(const struct vmctl_command *cmd, int argc, char **argv)
{
    const char *token = NULL, *disk = NULL;
    bool copy_storage = false;
    const struct cli_flag flags[] = { { .name = "token", .arg = &token },
                                      { .name = "copy-storage", .value = &copy_storage },
                                      { .name = "disk", .arg = &disk }, { .name = NULL } };
    int status;
    if (!cli_begin(cmd, argc, argv, flags, NULL, NULL, &status))
        return status;
    if (disk)
        return cs_disk_server(token, disk);
    signal(SIGPIPE, SIG_IGN);
    /* Answers go on stdout; everything else on stderr. */
    int out = dup(1);
    if (out < 0 || dup2(2, 1) < 0)
        return cli_fail(cmd, VMCTL_EXIT_FAILURE, "dup: %s", strerror(errno));

    static struct recv v;
    memset(&v, 0, sizeof(v));
    struct restore *r = &v.r;
    r->file = "the incoming migration stream";
    r->fd = 0;
    struct hv *hv = NULL;
    struct mica_xs *xs = NULL;
    struct domain_config cfg;
    bool have_cfg = false, created = false, nodes = false, introduced = false, devices = false;
    bool temp_name = false, answered_ok = false;
    uint32_t leaving = 0;
    char *real_name = NULL;
    int rc = VMCTL_EXIT_FAILURE, e;
    struct ms_reader rd;
    struct ms_record rec;
    bool reader_open = false;
    static struct cs_recv csr;
    memset(&csr, 0, sizeof(csr));
    memset(&cfg, 0, sizeof(cfg));

    if ((rc = defs_connect(cmd, &hv)) != VMCTL_EXIT_OK) {
        write_line(out, "error: this host cannot receive: vmctl cannot reach Mica here");
        close(out);
        return rc;
    }
    rc = VMCTL_EXIT_FAILURE;
    r->mica = hv_mica(hv);
    if (!(xs = hv_xenstore(hv))) {
        rfail(r, "%s", hv_error(hv));
        goto undo;
    }
    if (write_line(out, HELLO))
        goto undo;
    if (copy_storage && cs_recv_lines(&csr, 0, r->err, sizeof(r->err)))
        goto undo;
    if (ms_reader_open(&rd, 0, r->file, MS_READ_REQUIRE_CHECKSUMS | MS_READ_STOP_AT_END)) {
        rfail(r, "%s", ms_reader_error(&rd));
        goto undo;
    }
    reader_open = true;

    int n;
    int console_port = -1, store_port = -1;
    while ((n = ms_reader_next(&rd, &rec)) == 1) {
        if (restore_record(r, &rd, &rec))
            goto undo;
        if (rec.layer != MS_LAYER_LIBXC)
            continue;
        if (rec.type == MS_MICA_INFO) {
            for (uint64_t i = 0; i < r->nr_pfns; i++)
                r->p2m[i] = INVALID_MFN;
            v.pt = calloc(r->nr_pfns, sizeof(*v.pt));
            v.pt_level = calloc(r->nr_pfns, 1);
            v.rec_of = calloc(r->nr_pfns, sizeof(*v.rec_of));
            if (!v.buf)
                v.buf = mica_frame_buffer_alloc(MS_MAX_BATCH);
            if (!v.pt || !v.pt_level || !v.rec_of || !v.buf) {
                rfail(r, "out of memory for %" PRIu64 " PFNs", r->nr_pfns);
                goto undo;
            }
        } else if (rec.type == MS_MICA_DEFINITION && !created) {
            /* Checked before anything is made: the answer "ok" lets the
               sender start sending pages. */
            struct domcfg_diags diags;
            if (!r->xml_len) {
                rfail(r, "the definition of '%s' is not usable here (it was not a stored "
                      "domain: vmctl define it first)", r->name);
                goto undo;
            }
            domcfg_diags_init(&diags, r->file);
            if (domcfg_load_memory(r->xml, r->xml_len, r->file, 0, &cfg, &diags, NULL) !=
                DOMCFG_OK) {
                domcfg_diags_print(&diags, stderr, 10);
                domcfg_diags_free(&diags);
                rfail(r, "the definition of '%s' is not usable here (see the destination's "
                      "messages)", r->name);
                goto undo;
            }
            domcfg_diags_free(&diags);
            have_cfg = true;
            struct hv_domain *doms = NULL;
            size_t ndoms = 0;
            if (hv_list(hv, &doms, &ndoms) != HV_OK) {
                rfail(r, "%s", hv_error(hv));
                goto undo;
            }
            for (size_t i = 0; i < ndoms; i++) {
                bool same_name = strcmp(doms[i].name, r->name) == 0;
                bool same_uuid = memcmp(doms[i].uuid, r->uuid, 16) == 0;
                if (same_name && same_uuid && leaving_here(xs, doms[i].domid, token)) {
                    temp_name = true;    /* migrating to the same host */
                    leaving = doms[i].domid;
                    continue;
                }
                if (same_name || same_uuid) {
                    rfail(r, "%s is in use on this host by domain %u ('%s')",
                          same_name ? "the name" : "the UUID", doms[i].domid, doms[i].name);
                    free(doms);
                    goto undo;
                }
            }
            free(doms);
            struct hv_host host;
            if (hv_host_info(hv, &host) != HV_OK) {
                rfail(r, "%s", hv_error(hv));
                goto undo;
            }
            /* The pages it has, and a little for its page-table growth. */
            uint64_t need = r->nr_data_pages + r->nr_data_pages / 64 + 256;
            if (host.free_pages < need) {
                rfail(r, "not enough free memory: the domain needs about %" PRIu64 " MiB, "
                      "this host has %" PRIu64 " MiB free", need / 256, host.free_pages / 256);
                goto undo;
            }
            saved_macs(r, &cfg);
            char origin[DOMCFG_NAME_MAX + 48];
            snprintf(origin, sizeof(origin), "the definition of %s (migrating)", r->name);
            struct devices_origin where = { .file = origin, .skip_domain = temp_name,
                                            .skip_domid = leaving };
            if (csr.n && cs_recv_create(&csr, &cfg, token, r->err, sizeof(r->err)))
                goto undo;
            if (devices_check(xs, &cfg, &where)) {
                rfail(r, "the domain's disks or interfaces cannot be attached on this host "
                      "(see the destination's messages)");
                goto undo;
            }
            if (temp_name) {
                real_name = cfg.name;
                if (asprintf(&cfg.name, "%s" INCOMING_SUFFIX, real_name) < 0) {
                    cfg.name = real_name;
                    real_name = NULL;
                    rfail(r, "out of memory");
                    goto undo;
                }
            }
            prof_begin();
            if ((e = hv_create_domain_for(r->mica, &cfg, r->uuid, &r->domid))) {
                rfail(r, "creating the domain failed: %s", strerror(-e));
                goto undo;
            }
            created = true;
            if ((e = mica_domain_max_mem(r->mica, r->domid, cfg.memory_kib))) {
                rfail(r, "setting up domain %u failed: %s", r->domid, strerror(-e));
                goto undo;
            }
            if ((console_port = mica_evtchn_alloc_unbound(r->mica, r->domid, 0)) < 0 ||
                (store_port = mica_evtchn_alloc_unbound(r->mica, r->domid, 0)) < 0) {
                rfail(r, "opening the console and xenstore event channels failed");
                goto undo;
            }
            /*
             * The disks and interfaces now, before the first page, not
             * after the last record: the back-ends reach InitWait and the
             * vifs join their bridges while the guest still runs on the
             * source, so none of it is in the downtime (libxl attaches
             * them only after the stream, xl's downtime includes it).
             * The guest's front-ends find them waiting when its xenbus
             * resumes, as at a first boot.  The domain's own nodes go
             * first, as for 'vmctl start' (device/ is the guest's), all
             * but the store and console ring frames, known only from
             * start_info at the end.  A failure here is an answer before
             * any page is sent.
             */
            {
                struct xs_domain_facts early = { .domid = r->domid,
                                                 .store_port = (uint32_t)store_port,
                                                 .console_port = (uint32_t)console_port };
                memcpy(early.uuid, r->uuid, 16);
                memcpy(cfg.uuid, r->uuid, 16);
                nodes = true;
                if (xs_nodes_write(xs, &cfg, &early, r->err, sizeof(r->err)))
                    goto undo;
            }
            devices = true;
            if ((e = devices_attach_all(xs, r->domid, &cfg, r->err, sizeof(r->err))))
                goto undo;
            if ((cfg.sched_weight || cfg.sched_cap) &&
                (e = mica_domain_sched_set(r->mica, r->domid, (uint16_t)cfg.sched_weight,
                                           cfg.sched_cap ? (uint16_t)cfg.sched_cap
                                                         : MICA_SCHED_CAP_KEEP))) {
                rfail(r, "setting the scheduler weight/cap failed: %s", strerror(-e));
                goto undo;
            }
            prof_lap("create, devices (before the pages)");
            if (write_line(out, "ok"))
                goto undo;
            answered_ok = true;
        } else if (rec.type == MS_REC_PAGE_DATA) {
            if (!created) {
                rfail(r, "page data before the domain's definition");
                goto undo;
            }
            if (recv_pages(&v, &rec))
                goto undo;
        } else if (rec.type == MS_MICA_KERNEL_RW) {
            if (!created) {
                rfail(r, "MICA_KERNEL_RW before the domain's definition");
                goto undo;
            }
            if (recv_kernel_rw(&v, &rec))
                goto undo;
        } else if (rec.type == MS_REC_END) {
            /* The libxc END; the libxl END follows and ends the loop. */
        }
    }
    if (n < 0) {
        rfail(r, "%s", ms_reader_error(&rd));
        goto undo;
    }
    ms_reader_close(&rd);
    reader_open = false;
    prof_lap("stream until END");
    if (!created || restore_complete(r))
        goto undo;

    struct xen_domctl_getdomaininfo info;
    uint64_t si_mfn = 0, store_mfn = 0, console_mfn = 0;
    if ((e = mica_domain_info(r->mica, r->domid, &info))) {
        rfail(r, "reading domain %u failed: %s", r->domid, strerror(-e));
        goto undo;
    }
    if (write_tables(&v))
        goto undo;
    prof_lap("tables written");
    if (rewrite_p2m(r))
        goto undo;
    prof_lap("p2m rewritten");
    if (pin_tables(r)) {
        explain_tables(&v);
        goto undo;
    }
    prof_lap("pin");
    if (to_mfn(r, r->ctx[0].user_regs.rdx, &si_mfn, "start_info (vCPU 0's rdx)") ||
        fix_start_info(r, si_mfn, info.shared_info_frame, (uint32_t)store_port,
                       (uint32_t)console_port, &store_mfn, &console_mfn) ||
        set_vcpus(r, &si_mfn))
        goto undo;
    prof_lap("start_info+vcpus");
    struct xs_domain_facts facts = { .domid = r->domid, .store_mfn = store_mfn,
                                     .console_mfn = console_mfn,
                                     .store_port = (uint32_t)store_port,
                                     .console_port = (uint32_t)console_port };
    memcpy(facts.uuid, r->uuid, 16);
    if (xs_nodes_write_rings(xs, &facts, r->err, sizeof(r->err)))
        goto undo;
    prof_lap("ring-ref nodes");
    if ((e = mica_xs_introduce(xs, r->domid, store_mfn, (uint32_t)store_port))) {
        rfail(r, "xenstored refused to introduce domain %u: %s", r->domid, strerror(-e));
        goto undo;
    }
    introduced = true;
    prof_lap("introduce");
    if (write_guest_nodes(r, xs))
        goto undo;
    prof_lap("guest's nodes");
    if (write_line(out, "built"))
        goto undo;
    {
        char line[64];
        bool timed_out;
        if (fdio_read_line(0, line, sizeof(line), 600, &timed_out) != 1 || strcmp(line, "go")) {
            rfail(r, "the sender did not give the order to resume (connection lost?)");
            goto undo;
        }
    }
    if ((e = mica_domain_unpause(r->mica, r->domid))) {
        rfail(r, "unpausing domain %u failed: %s", r->domid, strerror(-e));
        goto undo;
    }
    write_line(out, "resumed");
    prof_lap("wait for go, unpause");
    prof_end("vmctl migrate-receive (from ok)");
    {
        /* The source is destroyed now; a temporary name becomes the real one. */
        char line[64];
        bool timed_out;
        bool gone = fdio_read_line(0, line, sizeof(line), 120, &timed_out) == 1 &&
                    strcmp(line, "gone") == 0;
        if (temp_name && gone) {
            free(cfg.name);
            cfg.name = real_name;
            real_name = NULL;
            if ((e = rename_domain(xs, r->domid, r->uuid, cfg.name)))
                fprintf(stderr, "vmctl migrate-receive: renaming domain %u to '%s' failed: "
                        "%s\n", r->domid, cfg.name, strerror(-e));
        } else if (temp_name) {
            fprintf(stderr, "vmctl migrate-receive: the sender did not say the source is "
                    "gone; domain %u keeps the name '%s'\n", r->domid, cfg.name);
        }
    }
    /* The monitor must not hold the answer pipe (ssh would wait for it). */
    close(out);
    out = -1;
    monitor_spawn(cmd, &cfg, r->domid);
    if ((e = mica_domain_info(r->mica, r->domid, &info)) == 0 && info.tot_pages != r->nr_present)
        cli_warn(cmd, "domain %u owns %llu pages; the stream had %llu", r->domid,
                 (unsigned long long)info.tot_pages, (unsigned long long)r->nr_present);
    fprintf(stderr, "vmctl migrate-receive: domain '%s' runs here as domain %u (%llu pages)\n",
            cfg.name, r->domid, e ? 0ULL : (unsigned long long)info.tot_pages);
    cs_recv_done(&csr);
    rc = VMCTL_EXIT_OK;
    goto out;

undo:
    if (reader_open)
        ms_reader_close(&rd);
    reader_open = false;
    write_line(out, "error: %s", r->err[0] ? r->err : "failed");
    fprintf(stderr, "vmctl migrate-receive: %s%s\n", r->err,
            created ? "; the half-built domain is destroyed" : "; nothing was built");
    (void)answered_ok;
    if (devices)
        devices_detach_all(xs, r->domid, 0);
    if (introduced)
        mica_xs_release(xs, r->domid);
    if (nodes)
        xs_nodes_remove(xs, r->domid);
    if (created)
        mica_domain_destroy(r->mica, r->domid);
    cs_recv_undo(&csr);
out:
    if (out >= 0)
        close(out);
    hv_close(hv);
    if (have_cfg)
        domcfg_free(&cfg);
    free(real_name);
    if (v.pt)
        for (uint64_t i = 0; i < r->nr_pfns; i++)
            free(v.pt[i]);
    free(v.pt);
    free(v.rec_of);
    mica_frame_buffer_free(v.buf, MS_MAX_BATCH);
    free(v.pt_level);
    free(r->present);
    free(r->pin);
    free(r->p2m);
    free(r->p2m_frames);
    free(r->name);
    free(r->xml);
    free(r->xs_body);
    for (uint32_t i = 0; i < MAX_VCPUS; i++)
        free(r->xsave[i]);
    return rc;
}

/* ---------------------------------------------------------------- evacuate */

static int by_domid(const void *a, const void *b)
{
    const struct hv_domain *x = a, *y = b;
    return x->domid < y->domid ? -1 : x->domid > y->domid;
}

/* The domains evacuate moves: every one but dom0 that has not shut down
   (nor is an incoming same-host migration), in order of domain ID. */
static int movable_domains(struct hv *hv, struct hv_domain **out, size_t *count)
{
    struct hv_domain *doms = NULL;
    size_t n = 0, k = 0;
    if (hv_list(hv, &doms, &n) != HV_OK)
        return -1;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(doms[i].name), sl = strlen(INCOMING_SUFFIX);
        if (doms[i].domid == 0 ||
            (doms[i].state & (HV_STATE_SHUTDOWN | HV_STATE_CRASHED | HV_STATE_DYING)) ||
            (len > sl && strcmp(doms[i].name + len - sl, INCOMING_SUFFIX) == 0))
            continue;
        doms[k++] = doms[i];
    }
    qsort(doms, k, sizeof(*doms), by_domid);
    *out = doms;
    *count = k;
    return 0;
}

/* Appends ", NAME" (or "NAME") to a list of names, as far as it fits. */
static void add_name(char *list, size_t len, const char *name)
{
    size_t used = strlen(list);
    snprintf(list + used, len - used, "%s%s", used ? ", " : "", name);
}

/*
 * vmctl evacuate DESTINATION: every running domain of this host goes to
 * DESTINATION with 'vmctl migrate', one at a time in order of domain ID
 * (each migration is this same program run as 'vmctl migrate', so its
 * messages and guarantees are migrate's).  The first failure stops it:
 * that domain and every one not yet moved run on here.
 */
int cmd_evacuate(const struct vmctl_command *cmd, int argc, char **argv)
{
    const char *downtime_text = NULL, *rounds_text = NULL, *ssh_text = NULL,
               *timeout_text = NULL, *dest = NULL;
    bool offline = false, live = false, dry_run = false, copy_storage = false;
    const struct cli_flag flags[] = { { .name = "live", .value = &live },
                                      { .name = "offline", .value = &offline },
                                      { .name = "copy-storage", .value = &copy_storage },
                                      { .name = "dry-run", .value = &dry_run },
                                      { .name = "max-downtime", .arg = &downtime_text },
                                      { .name = "max-rounds", .arg = &rounds_text },
                                      { .name = "ssh-command", .arg = &ssh_text },
                                      { .name = "timeout", .arg = &timeout_text },
                                      { .name = NULL } };
    int status;
    unsigned long number;

    if (!cli_begin(cmd, argc, argv, flags, "DESTINATION", &dest, &status))
        return status;
    if (live && offline)
        return cli_usage_error(cmd, "--live and --offline exclude each other");
    if (!host_name_ok(dest))
        return cli_usage_error(cmd, "'%s' is not a host name ssh can take (letters, digits, "
                               "'.', '-', '_', ':', '@', '[', ']')", dest);
    /* Checked here as migrate checks them, so that a bad value stops
       everything before the first domain moves. */
    if ((downtime_text && !cli_number(cmd, "max-downtime", downtime_text, 1, 600000, &number)) ||
        (rounds_text && !cli_number(cmd, "max-rounds", rounds_text, 1, 1000, &number)) ||
        (timeout_text && !cli_number(cmd, "timeout", timeout_text, 1, 86400, &number)))
        return VMCTL_EXIT_USAGE;

    struct hv *hv;
    int rc = defs_connect(cmd, &hv);
    if (rc != VMCTL_EXIT_OK)
        return rc;
    struct hv_domain *plan = NULL;
    size_t nplan = 0;
    if (movable_domains(hv, &plan, &nplan)) {
        rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "listing the domains failed: %s", hv_error(hv));
        hv_close(hv);
        return rc;
    }
    if (!nplan) {
        printf("No domain to evacuate: only Domain-0 runs here\n");
        free(plan);
        hv_close(hv);
        return VMCTL_EXIT_OK;
    }
    char list[1024] = "";
    for (size_t i = 0; i < nplan; i++)
        add_name(list, sizeof(list), plan[i].name);
    printf("Evacuating %zu domain%s to %s, one at a time in order of domain ID%s: %s\n",
           nplan, nplan == 1 ? "" : "s", dest,
           copy_storage ? ", each with its local disk images (--copy-storage)" : "", list);
    fflush(stdout);
    if (dry_run) {
        free(plan);
        hv_close(hv);
        return VMCTL_EXIT_OK;
    }

    /* 'vmctl migrate' with the options given, for each domain in turn. */
    const char *margs[16];
    int na = 0;
    margs[na++] = "vmctl";
    margs[na++] = "migrate";
    if (offline)
        margs[na++] = "--offline";
    if (copy_storage)
        margs[na++] = "--copy-storage";
    if (downtime_text) {
        margs[na++] = "--max-downtime";
        margs[na++] = downtime_text;
    }
    if (rounds_text) {
        margs[na++] = "--max-rounds";
        margs[na++] = rounds_text;
    }
    if (ssh_text) {
        margs[na++] = "--ssh-command";
        margs[na++] = ssh_text;
    }
    if (timeout_text) {
        margs[na++] = "--timeout";
        margs[na++] = timeout_text;
    }
    int name_at = na;
    margs[na++] = NULL;    /* the domain's name */
    margs[na++] = dest;
    margs[na] = NULL;

    char moved[1024] = "", skipped[1024] = "", left[1024] = "";
    size_t nmoved = 0, stop_at = nplan;
    char why[400] = "";
    for (size_t i = 0; i < nplan; i++) {
        /* As it is now: it may have shut down, or been paused, meanwhile. */
        struct hv_domain *now = NULL;
        size_t nnow = 0;
        bool running = false, paused = false;
        if (movable_domains(hv, &now, &nnow)) {
            snprintf(why, sizeof(why), "listing the domains failed: %s", hv_error(hv));
            stop_at = i;
            break;
        }
        for (size_t j = 0; j < nnow; j++)
            if (now[j].domid == plan[i].domid && strcmp(now[j].name, plan[i].name) == 0) {
                running = true;
                paused = (now[j].state & HV_STATE_PAUSED) != 0;
            }
        free(now);
        if (!running) {
            add_name(skipped, sizeof(skipped), plan[i].name);
            continue;
        }
        if (paused) {
            snprintf(why, sizeof(why), "it is paused, and a paused guest cannot suspend "
                     "itself to be moved ('vmctl unpause %s', then evacuate again)",
                     plan[i].name);
            stop_at = i;
            break;
        }
        fflush(stdout);
        fflush(stderr);
        pid_t pid = fork();
        if (pid < 0) {
            snprintf(why, sizeof(why), "fork: %s", strerror(errno));
            stop_at = i;
            break;
        }
        if (pid == 0) {
            margs[name_at] = plan[i].name;
            execv("/proc/self/exe", (char **)margs);
            fprintf(stderr, "vmctl evacuate: cannot run vmctl migrate (/proc/self/exe): %s\n",
                    strerror(errno));
            _exit(VMCTL_EXIT_FAILURE);
        }
        int st;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
            ;
        int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        if (code == VMCTL_EXIT_OK) {
            add_name(moved, sizeof(moved), plan[i].name);
            nmoved++;
        } else if (code == VMCTL_EXIT_NOT_FOUND) {
            /* It shut down between the check and the migration. */
            add_name(skipped, sizeof(skipped), plan[i].name);
        } else {
            snprintf(why, sizeof(why), "'vmctl migrate %s%s %s' failed (exit %d; its "
                     "messages are above)", copy_storage ? "--copy-storage " : "",
                     plan[i].name, dest, code);
            stop_at = i;
            break;
        }
    }
    if (stop_at < nplan) {
        for (size_t i = stop_at; i < nplan; i++)
            add_name(left, sizeof(left), plan[i].name);
        cli_fail(cmd, VMCTL_EXIT_FAILURE, "stopped at '%s' (domain %u): %s.  Moved to %s: %s.  "
                 "Still here (running unless they stopped on their own): %s%s%s",
                 plan[stop_at].name, plan[stop_at].domid, why, dest, nmoved ? moved : "none",
                 left, skipped[0] ? ".  No longer running, skipped: " : "", skipped);
        rc = VMCTL_EXIT_FAILURE;
    } else {
        printf("Evacuated to %s: %zu domain%s migrated%s%s%s\n", dest, nmoved,
               nmoved == 1 ? "" : "s", nmoved ? " (" : "", nmoved ? moved : "",
               nmoved ? ")" : "");
        if (skipped[0])
            printf("No longer running, skipped: %s\n", skipped);
        rc = VMCTL_EXIT_OK;
    }
    free(plan);
    hv_close(hv);
    return rc;
}
