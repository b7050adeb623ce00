/*
 * The state-file reader.  Input is buffered; take() hands out octets and
 * hashes those inside checksum spans.  A record's checksum is checked
 * before the record is handed to the caller.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ms_reader.h"

#define IN_BUF_SIZE (256u << 10)

/* Where a reader is in the x86 PV record order (the spec's strict part). */
enum { PV_NONE, PV_INFO_SEEN, PV_P2M_SEEN, PV_PAGES_SEEN };

static int fail(struct ms_reader *r, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct ms_reader *r, int err, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(r->error, sizeof(r->error), "%s: ", r->name);
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof(r->error))
        vsnprintf(r->error + n, sizeof(r->error) - (size_t)n, fmt, ap);
    va_end(ap);
    r->finished = -1;
    return -err;
}

const char *ms_record_name(enum ms_layer layer, uint32_t type, char buf[24])
{
    static const char *const libxl[] = { "END", "LIBXC_CONTEXT", "EMULATOR_XENSTORE_DATA",
                                         "EMULATOR_CONTEXT", "CHECKPOINT_END" };
    static const char *const libxc[] = {
        "END", "PAGE_DATA", "X86_PV_INFO", "X86_PV_P2M_FRAMES", "X86_PV_VCPU_BASIC",
        "X86_PV_VCPU_EXTENDED", "X86_PV_VCPU_XSAVE", "SHARED_INFO", "TSC_INFO",
        "HVM_CONTEXT", "HVM_PARAMS", "TOOLSTACK", "X86_PV_VCPU_MSRS", "VERIFY",
        "CHECKPOINT", "CHECKPOINT_DIRTY_PFN_LIST", "STATIC_DATA_END", "X86_CPUID_POLICY",
        "X86_MSR_POLICY",
    };
    switch (type) {
    case MS_MICA_CHECKSUM: return "MICA_CHECKSUM";
    case MS_MICA_INFO: return "MICA_INFO";
    case MS_MICA_DEFINITION: return "MICA_DEFINITION";
    case MS_MICA_XENSTORE: return "MICA_XENSTORE";
    case MS_MICA_DEVICE: return "MICA_DEVICE";
    case MS_MICA_KERNEL_RW: return "MICA_KERNEL_RW";
    }
    if (layer == MS_LAYER_LIBXL && type < sizeof(libxl) / sizeof(libxl[0]))
        return libxl[type];
    if (layer == MS_LAYER_LIBXC && type < sizeof(libxc) / sizeof(libxc[0]))
        return libxc[type];
    snprintf(buf, 24, "type %#" PRIx32, type);
    return buf;
}

/* Into the open checksum span: hashed, or only counted (MS_READ_VERIFIED). */
static void span_add(struct ms_reader *r, const void *p, size_t n)
{
    if (r->flags & MS_READ_VERIFIED)
        r->digest.length += n;
    else
        ms_digest_update(&r->digest, p, n);
}

/*
 * MS_READ_MAP.  One file at a time is mapped (a second reader reads with
 * read()).  A file truncated under the mapping would kill the process with
 * SIGBUS in the middle of a restore, leaving a half-built domain; instead
 * the handler maps zero pages over the lost part, notes it, and the access
 * is repeated: the reader then fails on the checksum (the zeros are not
 * what was hashed), and a caller copying mapped bodies learns it from
 * ms_reader_map_lost() and its own check that the file is unchanged.
 */
static const unsigned char *volatile mapped_start;
static volatile size_t mapped_len;
static volatile sig_atomic_t map_lost;
static struct sigaction old_bus;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
    uintptr_t a = (uintptr_t)si->si_addr, s = (uintptr_t)mapped_start;
    (void)uc;
    if (s && a >= s && a < s + mapped_len) {
        uintptr_t page = a & ~(uintptr_t)4095;
        size_t len = (size_t)(s + mapped_len - page);
        if (mmap((void *)page, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1,
                 0) != MAP_FAILED) {
            map_lost = 1;
            return;
        }
    }
    /* Not ours, or no zeros to be had: the default action on return. */
    sigaction(sig, &old_bus, NULL);
}

int ms_reader_map_lost(void)
{
    return map_lost;
}

/* A mapping a closed MS_READ_KEEP_MAP reader left for the next reader of
   the same file (mapped_start then set, no reader using it). */
static bool map_kept;
static dev_t kept_dev;
static ino_t kept_ino;

static void use_map(struct ms_reader *r, const unsigned char *m, size_t len)
{
    r->map = m;
    r->map_len = len;
    /* The mapping is the input buffer, positioned at the stream's start. */
    free(r->in);
    r->in = (unsigned char *)m;
    r->in_pos = (size_t)r->offset;
    r->in_len = r->map_len;
}

static void map_file(struct ms_reader *r)
{
    struct stat st;
    if (fstat(r->fd, &st) || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
        (uint64_t)st.st_size < r->offset || (uint64_t)st.st_size > SIZE_MAX)
        return;
    if (map_kept && st.st_dev == kept_dev && st.st_ino == kept_ino &&
        (size_t)st.st_size == mapped_len) {
        /* Its pages are still in this process's page tables: no faults. */
        map_kept = false;
        use_map(r, mapped_start, mapped_len);
        return;
    }
    if (mapped_start)
        return;
    void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, r->fd, 0);
    if (m == MAP_FAILED)
        return;
    madvise(m, (size_t)st.st_size, MADV_SEQUENTIAL);
    /* No child (vmctl restore forks the domain's monitor) inherits it:
       the file's pages would stay referenced for the child's life. */
    madvise(m, (size_t)st.st_size, MADV_DONTFORK);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    mapped_len = (size_t)st.st_size;
    mapped_start = m;
    map_lost = 0;
    if (sigaction(SIGBUS, &sa, &old_bus)) {
        mapped_start = NULL;
        munmap(m, (size_t)st.st_size);
        return;
    }
    kept_dev = st.st_dev;
    kept_ino = st.st_ino;
    use_map(r, m, (size_t)st.st_size);
}

static void drop_map(void)
{
    sigaction(SIGBUS, &old_bus, NULL);
    munmap((void *)mapped_start, mapped_len);
    mapped_start = NULL;
    mapped_len = 0;
    map_kept = false;
}

static void unmap_file(struct ms_reader *r)
{
    if (!r->map)
        return;
    if (r->flags & MS_READ_KEEP_MAP)
        map_kept = true;
    else
        drop_map();
    r->map = NULL;
}

void ms_reader_drop_kept_map(void)
{
    if (map_kept)
        drop_map();
}

void ms_reader_leave_kept_map(void)
{
    if (!map_kept)
        return;
    sigaction(SIGBUS, &old_bus, NULL);
    mapped_start = NULL;
    mapped_len = 0;
    map_kept = false;
}

/* Octets available in the input buffer, refilling it; 0 at end of file. */
static ssize_t fill(struct ms_reader *r)
{
    if (r->in_pos < r->in_len)
        return (ssize_t)(r->in_len - r->in_pos);
    if (r->map)
        return 0;
    for (;;) {
        ssize_t n = read(r->fd, r->in, IN_BUF_SIZE);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return fail(r, errno, "read error at offset %" PRIu64 ": %s", r->offset,
                        strerror(errno));
        r->in_pos = 0;
        r->in_len = (size_t)n;
        return n;
    }
}

/* Exactly n octets into dst (hashed if hash); 1, 0 if the file ended
   first (*got says how many came), or -errno. */
static int take(struct ms_reader *r, void *dst, size_t n, int hash, size_t *got)
{
    unsigned char *d = dst;
    *got = 0;
    while (*got < n) {
        if (!r->map && r->in_pos == r->in_len && n - *got >= IN_BUF_SIZE) {
            /* A large body (page data): straight into dst, one copy less. */
            ssize_t k = read(r->fd, d + *got, n - *got);
            if (k < 0 && errno == EINTR)
                continue;
            if (k < 0)
                return fail(r, errno, "read error at offset %" PRIu64 ": %s", r->offset,
                            strerror(errno));
            if (k == 0)
                return 0;
            if (hash)
                span_add(r, d + *got, (size_t)k);
            r->offset += (uint64_t)k;
            *got += (size_t)k;
            continue;
        }
        ssize_t avail = fill(r);
        if (avail < 0)
            return (int)avail;
        if (avail == 0)
            return 0;
        size_t k = n - *got < (size_t)avail ? n - *got : (size_t)avail;
        memcpy(d + *got, r->in + r->in_pos, k);
        if (hash)
            span_add(r, r->in + r->in_pos, k);
        r->in_pos += k;
        r->offset += k;
        *got += k;
    }
    return 1;
}

static int take_or_truncated(struct ms_reader *r, void *dst, size_t n, int hash,
                             const char *what)
{
    size_t got;
    int rc = take(r, dst, n, hash, &got);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return fail(r, EINVAL, "truncated: the file ends at offset %" PRIu64
                    " inside %s (%zu of %zu octets present)", r->offset, what, got, n);
    return 0;
}

static int read_headers_libxl(struct ms_reader *r)
{
    struct ms_libxl_header h;
    uint64_t at = r->offset;
    int rc = take_or_truncated(r, &h, sizeof(h), 1, "the libxl stream header");
    if (rc)
        return rc;
    if (be64toh(h.ident) != MS_LIBXL_IDENT)
        return fail(r, EINVAL, "not a Xen/Mica state file: offset %" PRIu64 " holds %#018"
                    PRIx64 ", not the libxl stream ident \"LibxlFmt\"", at, be64toh(h.ident));
    if (be32toh(h.version) != MS_LIBXL_VERSION)
        return fail(r, EINVAL, "libxl stream version %" PRIu32 " at offset %" PRIu64 "; this"
                    " reader reads version %u", be32toh(h.version), at + 8, MS_LIBXL_VERSION);
    uint32_t opt = be32toh(h.options);
    if (opt & MS_LIBXL_OPT_BIG_ENDIAN)
        return fail(r, EINVAL, "the libxl stream header (offset %" PRIu64 ") says big-endian;"
                    " only little-endian (x86) images are read", at + 12);
    if (opt & MS_LIBXL_OPT_LEGACY)
        return fail(r, EINVAL, "the libxl stream header (offset %" PRIu64 ") marks a stream"
                    " converted from Xen's legacy format, which Mica does not read", at + 12);
    return 0;
}

static int read_headers_libxc(struct ms_reader *r)
{
    struct ms_image_header ih;
    struct ms_domain_header dh;
    uint64_t at = r->offset;
    int rc = take_or_truncated(r, &ih, sizeof(ih), 1, "the libxc image header");
    if (rc)
        return rc;
    if (be64toh(ih.marker) != MS_IMAGE_MARKER || be32toh(ih.id) != MS_IMAGE_ID)
        return fail(r, EINVAL, "the libxc image header at offset %" PRIu64 " lacks the"
                    " marker and \"XENF\" id", at);
    r->image_version = be32toh(ih.version);
    if (r->image_version < MS_IMAGE_VERSION || r->image_version > MS_IMAGE_VERSION_MAX)
        return fail(r, EINVAL, "libxc image version %" PRIu32 " at offset %" PRIu64
                    "; this reader reads versions %u to %u", r->image_version, at + 12,
                    MS_IMAGE_VERSION, MS_IMAGE_VERSION_MAX);
    if (be16toh(ih.options) & MS_IMAGE_OPT_BIG_ENDIAN)
        return fail(r, EINVAL, "the libxc image header at offset %" PRIu64 " says"
                    " big-endian; only little-endian (x86) images are read", at);
    at = r->offset;
    rc = take_or_truncated(r, &dh, sizeof(dh), 1, "the libxc domain header");
    if (rc)
        return rc;
    if (dh.type != MS_DOMAIN_X86_PV) {
        static const char *const kinds[] = { "reserved", "x86 PV", "x86 HVM", "x86 PVH", "ARM" };
        return fail(r, EINVAL, "wrong architecture: the domain header at offset %" PRIu64
                    " says %s (type %" PRIu32 "); Mica restores x86 PV domains only", at,
                    dh.type < 5 ? kinds[dh.type] : "unknown", dh.type);
    }
    if (dh.page_shift != 12)
        return fail(r, EINVAL, "the domain header at offset %" PRIu64 " gives page_shift %u;"
                    " x86 pages are 4 KiB (12)", at, dh.page_shift);
    r->domain = dh;
    return 0;
}

static int bad_record(struct ms_reader *r, const struct ms_record *rec, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int bad_record(struct ms_reader *r, const struct ms_record *rec, const char *fmt, ...)
{
    char what[200], tn[24];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    return fail(r, EINVAL, "record %" PRIu64 " (%s) at offset %" PRIu64 ": %s", rec->number,
                ms_record_name(rec->layer, rec->type, tn), rec->offset, what);
}

/* Layout and order of the records this reader knows. */
static int check_libxc_record(struct ms_reader *r, const struct ms_record *rec)
{
    const unsigned char *b = rec->body;
    uint32_t len = rec->length;

    switch (rec->type) {
    case MS_REC_END:
    case MS_REC_STATIC_DATA_END:
        if (len)
            return bad_record(r, rec, "has a %" PRIu32 "-octet body; it must be empty", len);
        return 0;
    case MS_REC_X86_PV_INFO: {
        struct ms_x86_pv_info info;
        if (len != sizeof(info))
            return bad_record(r, rec, "is %" PRIu32 " octets, not %zu", len, sizeof(info));
        memcpy(&info, b, sizeof(info));
        if (info.guest_width != 8 || info.pt_levels != 4)
            return bad_record(r, rec, "guest width %u, %u page-table levels: Mica restores"
                              " 64-bit guests with 4 levels", info.guest_width, info.pt_levels);
        if (r->pv_stage != PV_NONE)
            return bad_record(r, rec, "appears twice");
        r->pv_stage = PV_INFO_SEEN;
        return 0;
    }
    case MS_REC_X86_PV_P2M_FRAMES: {
        struct ms_x86_pv_p2m_frames f;
        if (len < sizeof(f))
            return bad_record(r, rec, "is %" PRIu32 " octets, shorter than its header", len);
        memcpy(&f, b, sizeof(f));
        uint64_t frames = (uint64_t)f.end_pfn / 512 - f.start_pfn / 512 + 1;
        if (f.start_pfn > f.end_pfn || len != sizeof(f) + frames * 8)
            return bad_record(r, rec, "pfns %" PRIu32 "..%" PRIu32 " need %" PRIu64
                              " frame numbers, the body holds %" PRIu32 " octets",
                              f.start_pfn, f.end_pfn, frames, len);
        if (r->pv_stage != PV_INFO_SEEN)
            return bad_record(r, rec, "must follow X86_PV_INFO, once");
        r->pv_stage = PV_P2M_SEEN;
        return 0;
    }
    case MS_REC_PAGE_DATA: {
        struct ms_page_data_header h;
        if (len < sizeof(h))
            return bad_record(r, rec, "is %" PRIu32 " octets, shorter than its header", len);
        memcpy(&h, b, sizeof(h));
        if (h.count == 0 || h.count > MS_MAX_BODY / 8 ||
            len < sizeof(h) + (uint64_t)h.count * 8)
            return bad_record(r, rec, "count %" PRIu32 " does not fit a %" PRIu32
                              "-octet body", h.count, len);
        uint64_t with_data = 0;
        for (uint32_t i = 0; i < h.count; i++) {
            uint64_t w;
            memcpy(&w, b + sizeof(h) + i * 8, 8);
            int has = ms_page_type_has_data((unsigned)(w >> MS_PFN_TYPE_SHIFT));
            if (has < 0)
                return bad_record(r, rec, "pfn %" PRIu64 " (entry %" PRIu32 ") has unknown"
                                  " page type %#x", w & MS_PFN_MASK, i,
                                  (unsigned)(w >> MS_PFN_TYPE_SHIFT));
            with_data += (uint64_t)has;
        }
        if (len != sizeof(h) + (uint64_t)h.count * 8 + with_data * 4096)
            return bad_record(r, rec, "%" PRIu64 " of its %" PRIu32 " pages carry data, which"
                              " needs %" PRIu64 " octets; the body is %" PRIu32, with_data,
                              h.count, sizeof(h) + (uint64_t)h.count * 8 + with_data * 4096,
                              len);
        if (r->pv_stage < PV_P2M_SEEN)
            return bad_record(r, rec, "comes before X86_PV_INFO and X86_PV_P2M_FRAMES");
        r->pv_stage = PV_PAGES_SEEN;
        r->data_pages += with_data;
        return 0;
    }
    case MS_REC_X86_PV_VCPU_BASIC:
    case MS_REC_X86_PV_VCPU_EXTENDED:
    case MS_REC_X86_PV_VCPU_XSAVE:
    case MS_REC_X86_PV_VCPU_MSRS:
        if (len < sizeof(struct ms_vcpu_header))
            return bad_record(r, rec, "is %" PRIu32 " octets, shorter than its header", len);
        if (r->pv_stage == PV_NONE)
            return bad_record(r, rec, "comes before X86_PV_INFO");
        if (rec->type == MS_REC_X86_PV_VCPU_XSAVE &&
            (len < sizeof(struct ms_vcpu_header) + MS_XSAVE_HDR ||
             len > sizeof(struct ms_vcpu_header) + MS_MAX_XSAVE))
            return bad_record(r, rec, "is %" PRIu32 " octets; XSAVE state is XCR0, XCR0_ACCUM"
                              " and at most %u octets in all", len, MS_MAX_XSAVE);
        if (rec->type == MS_REC_X86_PV_VCPU_MSRS &&
            (len == sizeof(struct ms_vcpu_header) ||
             (len - sizeof(struct ms_vcpu_header)) % sizeof(struct ms_vcpu_msr) ||
             len > sizeof(struct ms_vcpu_header) + MS_MAX_VCPU_MSRS * sizeof(struct ms_vcpu_msr)))
            return bad_record(r, rec, "is %" PRIu32 " octets; MSRs are 1 to %u entries of %zu"
                              " octets after the vCPU id", len, MS_MAX_VCPU_MSRS,
                              sizeof(struct ms_vcpu_msr));
        return 0;
    case MS_REC_SHARED_INFO:
        if (len != 4096)
            return bad_record(r, rec, "is %" PRIu32 " octets; shared info is one page", len);
        return 0;
    case MS_REC_TSC_INFO:
        if (len != sizeof(struct ms_tsc_info))
            return bad_record(r, rec, "is %" PRIu32 " octets, not %zu", len,
                              sizeof(struct ms_tsc_info));
        return 0;
    case MS_REC_X86_CPUID_POLICY:
    case MS_REC_X86_MSR_POLICY:
        if (r->image_version < 3)
            return bad_record(r, rec, "is a version-3 record in a version-%" PRIu32 " image",
                              r->image_version);
        return 0;
    case MS_MICA_INFO: {
        struct ms_mica_info info;
        if (rec->length != sizeof(info))
            return bad_record(r, rec, "is %" PRIu32 " octets, not %zu", rec->length,
                              sizeof(info));
        memcpy(&info, rec->body, sizeof(info));
        if (info.magic != MS_MICA_INFO_MAGIC || info.version != MS_MICA_INFO_VERSION)
            return bad_record(r, rec, "magic %#" PRIx32 " version %" PRIu32 "; this reader"
                              " reads version %u", info.magic, info.version,
                              MS_MICA_INFO_VERSION);
        r->info = info;
        return 0;
    }
    case MS_MICA_DEFINITION: {
        struct ms_mica_definition d;
        if (rec->length < sizeof(d))
            return bad_record(r, rec, "is shorter than its header");
        memcpy(&d, rec->body, sizeof(d));
        if (sizeof(d) + (uint64_t)d.name_len + d.xml_len != rec->length)
            return bad_record(r, rec, "name (%" PRIu32 ") and definition (%" PRIu32 ") do"
                              " not add up to the body (%" PRIu32 ")", d.name_len, d.xml_len,
                              rec->length);
        return 0;
    }
    case MS_MICA_DEVICE:
        if (rec->length < sizeof(struct ms_mica_device))
            return bad_record(r, rec, "is shorter than its header");
        return 0;
    case MS_MICA_KERNEL_RW:
        if (!rec->length || rec->length % sizeof(struct ms_mica_kernel_rw))
            return bad_record(r, rec, "is %" PRIu32 " octets, not a whole number of %zu-octet"
                              " entries", rec->length, sizeof(struct ms_mica_kernel_rw));
        return 0;
    case MS_REC_HVM_CONTEXT:
    case MS_REC_HVM_PARAMS:
        return bad_record(r, rec, "is an HVM record in an x86 PV image");
    case MS_REC_TOOLSTACK:
    case MS_REC_VERIFY:
    case MS_REC_CHECKPOINT:
    case MS_REC_CHECKPOINT_DIRTY_PFN_LIST:
        return 0;                    /* known; the restorer decides */
    }
    if (!(rec->type & MS_REC_OPTIONAL))
        return bad_record(r, rec, "is an unknown mandatory record; this image needs a newer"
                          " reader");
    return 0;
}

static int check_libxl_record(struct ms_reader *r, const struct ms_record *rec)
{
    switch (rec->type) {
    case MS_LIBXL_END:
    case MS_LIBXL_LIBXC_CONTEXT:
    case MS_LIBXL_CHECKPOINT_END:
        if (rec->length)
            return bad_record(r, rec, "has a %" PRIu32 "-octet body; it must be empty",
                              rec->length);
        return 0;
    case MS_LIBXL_EMULATOR_XENSTORE_DATA:
    case MS_LIBXL_EMULATOR_CONTEXT:
        if (rec->length < 8)
            return bad_record(r, rec, "is shorter than its emulator header");
        return 0;
    }
    if (!(rec->type & MS_REC_OPTIONAL))
        return bad_record(r, rec, "is an unknown mandatory record; this image needs a newer"
                          " reader");
    return 0;
}

/* A record header; at a clean end of file (allowed only where noted by
   the caller) returns 0. */
static int read_header(struct ms_reader *r, struct ms_record *rec, int hash, const char *where)
{
    struct ms_rec_header h;
    size_t got;
    rec->offset = r->offset;
    int rc = take(r, &h, sizeof(h), 0, &got);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return fail(r, EINVAL, "truncated: the file ends at offset %" PRIu64 " where record"
                    " %" PRIu64 " (%s) should begin%s", r->offset, r->records + 1, where,
                    got ? " (part of its header is there)" : "");
    if (hash && h.type != MS_MICA_CHECKSUM)
        span_add(r, &h, sizeof(h));
    if (map_lost && r->map)
        return fail(r, EIO, "the file became shorter while it was read (at offset %" PRIu64
                    ")", rec->offset);
    r->records++;
    rec->number = r->records;
    rec->layer = r->layer;
    rec->type = h.type;
    rec->length = h.length;
    return 1;
}

static int read_body(struct ms_reader *r, struct ms_record *rec, void *dst)
{
    char tn[24], what[96];
    uint64_t padded = ms_padded(rec->length);
    if (rec->length > MS_MAX_BODY)
        return bad_record(r, rec, "body length %" PRIu32 " is over this reader's limit of %u"
                          " (a corrupt length?)", rec->length, MS_MAX_BODY);
    if (r->map && dst == r->body && padded <= r->in_len - r->in_pos &&
        ((uintptr_t)(r->in + r->in_pos) & 7) == 0) {
        /* Mapped: the body is where it lies in the file. */
        rec->body = r->in + r->in_pos;
        if (rec->type != MS_MICA_CHECKSUM)
            span_add(r, rec->body, padded);
        r->in_pos += padded;
        r->offset += padded;
        return 0;
    }
    snprintf(what, sizeof(what), "record %" PRIu64 " (%s) from offset %" PRIu64, rec->number,
             ms_record_name(rec->layer, rec->type, tn), rec->offset);
    int rc = take_or_truncated(r, dst, padded, rec->type != MS_MICA_CHECKSUM, what);
    rec->body = dst;
    return rc;
}

/* The checksum record that must follow a record, checked against the
   span that ends at its header. */
static int verify_checksum(struct ms_reader *r, const struct ms_record *covered)
{
    struct ms_record c;
    struct ms_mica_checksum cs;
    char tn[24];
    uint64_t span_len = r->digest.length, computed = ms_digest_value(&r->digest);
    int rc = read_header(r, &c, 0, "its checksum");
    if (rc < 0)
        return rc;
    if (c.type != MS_MICA_CHECKSUM)
        return fail(r, EINVAL, "record %" PRIu64 " (%s) at offset %" PRIu64 " is not followed"
                    " by its checksum record: record %" PRIu64 " at offset %" PRIu64 " has"
                    " type %#" PRIx32, covered->number,
                    ms_record_name(covered->layer, covered->type, tn), covered->offset,
                    c.number, c.offset, c.type);
    if (c.length != sizeof(cs))
        return bad_record(r, &c, "is %" PRIu32 " octets, not %zu", c.length, sizeof(cs));
    if ((rc = read_body(r, &c, &cs)))
        return rc;
    if (cs.sequence != r->checksums || cs.span_offset != r->span_start ||
        cs.span_length != span_len)
        return bad_record(r, &c, "covers %" PRIu64 " octets from offset %" PRIu64 " as"
                          " checksum %" PRIu64 "; the reader expected %" PRIu64 " octets from"
                          " %" PRIu64 " as checksum %" PRIu64 " (records lost, moved or"
                          " corrupted)", cs.span_length, cs.span_offset, cs.sequence, span_len,
                          r->span_start, r->checksums);
    if (cs.xxh3 != computed && !(r->flags & MS_READ_VERIFIED))
        return fail(r, EINVAL, "checksum mismatch in the %" PRIu64 " octets from offset %"
                    PRIu64 " to %" PRIu64 " (through record %" PRIu64 ", %s): stored %#018"
                    PRIx64 ", computed %#018" PRIx64 "; the file is corrupt", span_len,
                    r->span_start, c.offset, covered->number,
                    ms_record_name(covered->layer, covered->type, tn), cs.xxh3, computed);
    r->checksums++;
    ms_digest_reset(&r->digest);
    r->span_start = r->offset;
    return 0;
}

int ms_reader_open(struct ms_reader *r, int fd, const char *name, unsigned flags)
{
    return ms_reader_open_at(r, fd, name, flags, 0);
}

int ms_reader_open_at(struct ms_reader *r, int fd, const char *name, unsigned flags,
                      uint64_t base)
{
    memset(r, 0, sizeof(*r));
    r->offset = r->span_start = base;
    r->fd = fd;
    r->flags = flags;
    r->name = strdup(name);
    r->in = malloc(IN_BUF_SIZE);
    if (!r->name || !r->in || ms_digest_init(&r->digest)) {
        snprintf(r->error, sizeof(r->error), "%s: out of memory", name);
        return -ENOMEM;
    }
    if (flags & MS_READ_MAP)
        map_file(r);
    return 0;
}

static int next_record(struct ms_reader *r, struct ms_record *rec)
{
    int rc;
    if (!r->started) {
        r->started = 1;
        if ((rc = read_headers_libxl(r)))
            return rc;
    }
    rc = read_header(r, rec, 1, r->layer == MS_LAYER_LIBXL ? "a libxl record, or the END"
                     " record" : "a libxc record, or the libxc END record");
    if (rc < 0)
        return rc;
    if (rec->type == MS_MICA_CHECKSUM)
        return bad_record(r, rec, "covers no record: a checksum must follow the record it"
                          " covers");
    if (ms_padded(rec->length) > r->body_cap && rec->length <= MS_MAX_BODY) {
        void *nb = realloc(r->body, ms_padded(rec->length));
        if (!nb)
            return fail(r, ENOMEM, "out of memory for record %" PRIu64, rec->number);
        r->body = nb;
        r->body_cap = ms_padded(rec->length);
    }
    if ((rc = read_body(r, rec, r->body)))
        return rc;

    if (rec->layer == MS_LAYER_LIBXC && !r->libxc_seen) {
        r->libxc_seen = 1;
        r->checksummed = rec->type == MS_MICA_INFO;
        if (!r->checksummed && (r->flags & MS_READ_REQUIRE_CHECKSUMS))
            return bad_record(r, rec, "is not Mica's info record: this file was not written"
                              " by vmctl save (no checksums), so it is refused");
    }
    rc = rec->layer == MS_LAYER_LIBXL ? check_libxl_record(r, rec) : check_libxc_record(r, rec);
    if (rc)
        return rc;

    int final_end = rec->layer == MS_LAYER_LIBXL && rec->type == MS_LIBXL_END;
    if (rec->layer == MS_LAYER_LIBXL && rec->type == MS_LIBXL_LIBXC_CONTEXT) {
        /* The image header follows at once; the checksum after the first
           libxc record covers the file from offset 0. */
        if ((rc = read_headers_libxc(r)))
            return rc;
        r->layer = MS_LAYER_LIBXC;
    } else if (r->checksummed && rec->layer == MS_LAYER_LIBXL && !final_end) {
        /* Xen's libxl would refuse a checksum record here, so a
           checksummed stream can have no other libxl record. */
        return bad_record(r, rec, "is a libxl record after the libxc stream of a checksummed"
                          " file, which can hold only END there");
    } else if (r->checksummed && rec->layer == MS_LAYER_LIBXC && rec->type != MS_REC_END) {
        if ((rc = verify_checksum(r, rec)))
            return rc;
    }
    if (rec->layer == MS_LAYER_LIBXC && rec->type == MS_REC_END)
        r->layer = MS_LAYER_LIBXL;

    if (final_end) {
        unsigned char extra;
        size_t got;
        uint64_t at = r->offset;
        rc = r->flags & MS_READ_STOP_AT_END ? 0 : take(r, &extra, 1, 0, &got);
        if (rc < 0)
            return rc;
        if (rc > 0)
            return fail(r, EINVAL, "data after the END record (record %" PRIu64 ") at offset %"
                        PRIu64, rec->number, at);
        /* After the last checksum: the libxc END and this END, nothing else. */
        if (r->checksummed && r->digest.length != 2 * sizeof(struct ms_rec_header))
            return bad_record(r, rec, "follows unchecked data");
        r->finished = 1;
        return 0;
    }
    return 1;
}

int ms_reader_next(struct ms_reader *r, struct ms_record *rec)
{
    if (r->finished > 0)
        return 0;
    if (r->finished < 0)
        return -EINVAL;
    return next_record(r, rec);
}

int ms_reader_verify_all(struct ms_reader *r)
{
    struct ms_record rec;
    int rc;
    while ((rc = ms_reader_next(r, &rec)) > 0)
        ;
    return rc;
}

const char *ms_reader_error(const struct ms_reader *r)
{
    return r->error;
}

void ms_reader_close(struct ms_reader *r)
{
    if (r->map) {
        r->in = NULL;
        unmap_file(r);
    }
    free(r->name);
    free(r->in);
    free(r->body);
    ms_digest_free(&r->digest);
    memset(r, 0, sizeof(*r));
    r->fd = -1;
}
