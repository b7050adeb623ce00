/*
 * The state-file writer.  Every octet goes through emit(), which hashes it
 * into the open checksum span; put_checksum() closes the span with a
 * MICA_CHECKSUM record that is itself outside every span.  The two END
 * records at the end lie in no span; the reader checks them exactly.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "ms_writer.h"

#define OUT_BUF_SIZE (1u << 20)

static int fail(struct ms_writer *w, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct ms_writer *w, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->error, sizeof(w->error), fmt, ap);
    va_end(ap);
    return -err;
}

static int flush_out(struct ms_writer *w)
{
    size_t done = 0;
    while (done < w->buf_used) {
        ssize_t n = write(w->fd, w->buf + done, w->buf_used - done);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return fail(w, errno, "writing %s: %s", w->tmp_path, strerror(errno));
        }
        done += (size_t)n;
    }
    w->buf_used = 0;
    return 0;
}

static int write_raw(struct ms_writer *w, const void *p, size_t n)
{
    const unsigned char *s = p;
    while (n) {
        size_t room = OUT_BUF_SIZE - w->buf_used, take = n < room ? n : room;
        memcpy(w->buf + w->buf_used, s, take);
        w->buf_used += take;
        w->offset += take;
        s += take;
        n -= take;
        if (w->buf_used == OUT_BUF_SIZE) {
            int rc = flush_out(w);
            if (rc)
                return rc;
        }
    }
    return 0;
}

static int emit(struct ms_writer *w, const void *p, size_t n)
{
    ms_digest_update(&w->digest, p, n);
    return write_raw(w, p, n);
}

/* Large parts of a record (page data) go to the file straight from the
   caller's memory, hashed on the way, after what is buffered: one copy
   of every page less than through the output buffer.  Up to IOV_BATCH
   parts per writev. */
#define IOV_BATCH 1024
static int emit_direct(struct ms_writer *w, const struct iovec *iov, int n)
{
    for (int i = 0; i < n; i++)
        ms_digest_update(&w->digest, iov[i].iov_base, iov[i].iov_len);
    int rc = flush_out(w);
    if (rc)
        return rc;
    struct iovec cur[IOV_BATCH];
    for (int i = 0; i < n;) {
        int k = n - i < IOV_BATCH ? n - i : IOV_BATCH;
        memcpy(cur, iov + i, (size_t)k * sizeof(cur[0]));
        i += k;
        struct iovec *p = cur;
        while (k) {
            ssize_t got = writev(w->fd, p, k);
            if (got < 0) {
                if (errno == EINTR)
                    continue;
                return fail(w, errno, "writing %s: %s", w->tmp_path, strerror(errno));
            }
            w->offset += (uint64_t)got;
            while (k && (size_t)got >= p->iov_len) {
                got -= (ssize_t)p->iov_len;
                p++;
                k--;
            }
            if (k && got) {
                p->iov_base = (unsigned char *)p->iov_base + got;
                p->iov_len -= (size_t)got;
            }
        }
    }
    return 0;
}

static int put_checksum(struct ms_writer *w)
{
    struct ms_rec_header h = { MS_MICA_CHECKSUM, sizeof(struct ms_mica_checksum) };
    struct ms_mica_checksum c = {
        .span_offset = w->span_start,
        .span_length = w->offset - w->span_start,
        .sequence = w->checksums,
        .xxh3 = ms_digest_value(&w->digest),
    };
    int rc = write_raw(w, &h, sizeof(h));
    if (!rc)
        rc = write_raw(w, &c, sizeof(c));
    if (rc)
        return rc;
    w->checksums++;
    w->records++;
    ms_digest_reset(&w->digest);
    w->span_start = w->offset;
    return 0;
}

/* One record's header, body and padding, without its checksum. */
static int put_record(struct ms_writer *w, uint32_t type, const struct iovec *iov, int n)
{
    static const unsigned char zeros[MS_ALIGN];
    uint64_t len = 0;
    for (int i = 0; i < n; i++)
        len += iov[i].iov_len;
    if (len > UINT32_MAX)
        return fail(w, EINVAL, "record type %#x: body of %llu octets is too long", type,
                    (unsigned long long)len);
    if (type == MS_MICA_CHECKSUM || type == MS_REC_END)
        return fail(w, EINVAL, "record type %#x is the writer's own", type);

    struct ms_rec_header h = { type, (uint32_t)len };
    int rc = emit(w, &h, sizeof(h));
    for (int i = 0; !rc && i < n;) {
        if (iov[i].iov_len < MS_PAGE_SIZE) {
            rc = emit(w, iov[i].iov_base, iov[i].iov_len);
            i++;
            continue;
        }
        int j = i;
        while (j < n && iov[j].iov_len >= MS_PAGE_SIZE)
            j++;
        rc = emit_direct(w, iov + i, j - i);
        i = j;
    }
    if (!rc && ms_padded(len) != len)
        rc = emit(w, zeros, ms_padded(len) - len);
    if (!rc)
        w->records++;
    return rc;
}

int ms_writer_record_iov(struct ms_writer *w, uint32_t type, const struct iovec *iov, int n)
{
    int rc = put_record(w, type, iov, n);
    return rc ? rc : put_checksum(w);
}

int ms_writer_record(struct ms_writer *w, uint32_t type, const void *body, uint32_t len)
{
    struct iovec iov = { (void *)body, len };
    return ms_writer_record_iov(w, type, &iov, 1);
}

static int write_heads(struct ms_writer *w, uint64_t nr_pfns, uint64_t nr_data_pages,
                       uint32_t xen_major, uint32_t xen_minor);

int ms_writer_open(struct ms_writer *w, const char *path, uint64_t nr_pfns,
                   uint64_t nr_data_pages, uint32_t xen_major, uint32_t xen_minor)
{
    return ms_writer_open_prefixed(w, path, NULL, 0, nr_pfns, nr_data_pages, xen_major,
                                   xen_minor);
}

int ms_writer_open_prefixed(struct ms_writer *w, const char *path, const void *prefix,
                            size_t prefix_len, uint64_t nr_pfns, uint64_t nr_data_pages,
                            uint32_t xen_major, uint32_t xen_minor)
{
    memset(w, 0, sizeof(*w));
    w->fd = -1;
    w->path = strdup(path);
    w->buf = malloc(OUT_BUF_SIZE);
    if (!w->path || !w->buf || asprintf(&w->tmp_path, "%s.tmp-XXXXXX", path) < 0 ||
        ms_digest_init(&w->digest)) {
        w->tmp_path = NULL;
        return fail(w, ENOMEM, "out of memory");
    }
    w->fd = mkstemp(w->tmp_path);
    if (w->fd < 0) {
        int err = errno;
        free(w->tmp_path);
        w->tmp_path = NULL;
        return fail(w, err, "cannot create a file next to %s: %s", path, strerror(err));
    }
    /* In no checksum span: the reader starts its first span after it. */
    if (prefix_len) {
        int rc = write_raw(w, prefix, prefix_len);
        if (rc)
            return rc;
        w->span_start = w->offset;
    }
    return write_heads(w, nr_pfns, nr_data_pages, xen_major, xen_minor);
}

int ms_writer_open_fd(struct ms_writer *w, int fd, const char *name, uint64_t nr_pfns,
                      uint64_t nr_data_pages, uint32_t xen_major, uint32_t xen_minor)
{
    memset(w, 0, sizeof(*w));
    w->fd = fd;
    w->borrowed_fd = 1;
    w->path = strdup(name);
    w->tmp_path = strdup(name);      /* messages name it; nothing is removed */
    w->buf = malloc(OUT_BUF_SIZE);
    if (!w->path || !w->tmp_path || !w->buf || ms_digest_init(&w->digest))
        return fail(w, ENOMEM, "out of memory");
    return write_heads(w, nr_pfns, nr_data_pages, xen_major, xen_minor);
}

static int write_heads(struct ms_writer *w, uint64_t nr_pfns, uint64_t nr_data_pages,
                       uint32_t xen_major, uint32_t xen_minor)
{
    struct ms_libxl_header lh = {
        .ident = htobe64(MS_LIBXL_IDENT),
        .version = htobe32(MS_LIBXL_VERSION),
        .options = htobe32(0),
    };
    struct ms_image_header ih = {
        .marker = htobe64(MS_IMAGE_MARKER),
        .id = htobe32(MS_IMAGE_ID),
        .version = htobe32(MS_IMAGE_VERSION),
        .options = htobe16(0),
    };
    struct ms_domain_header dh = {
        .type = MS_DOMAIN_X86_PV,
        .page_shift = 12,
        .xen_major = xen_major,
        .xen_minor = xen_minor,
    };
    struct iovec none = { NULL, 0 };
    /* The first checksum covers these too: its span starts at offset 0. */
    int rc = emit(w, &lh, sizeof(lh));
    if (!rc)
        rc = put_record(w, MS_LIBXL_LIBXC_CONTEXT, &none, 1);
    if (!rc)
        rc = emit(w, &ih, sizeof(ih));
    if (!rc)
        rc = emit(w, &dh, sizeof(dh));
    if (rc)
        return rc;
    struct ms_mica_info info = {
        .magic = MS_MICA_INFO_MAGIC,
        .version = MS_MICA_INFO_VERSION,
        .flags = MS_MICA_INFO_CHECKSUMS,
        .nr_pfns = nr_pfns,
        .nr_data_pages = nr_data_pages,
    };
    return ms_writer_record(w, MS_MICA_INFO, &info, sizeof(info));
}

/* The page equals itself shifted by one octet and starts with a zero:
   libc's vectorised memcmp does the scan (a word loop took four times the
   instructions, docs/benchmarks.md). */
static int all_zero(const void *page)
{
    const unsigned char *p = page;
    return p[0] == 0 && memcmp(p, p + 1, MS_PAGE_SIZE - 1) == 0;
}

int ms_writer_pages(struct ms_writer *w, uint32_t n, const uint64_t *pfn, const uint8_t *type,
                    const void *const *pages, uint32_t *stored)
{
    uint64_t words[MS_MAX_BATCH];
    struct iovec iov[2 + MS_MAX_BATCH];
    struct ms_page_data_header ph = { .count = n };
    int niov = 2;

    if (n == 0 || n > MS_MAX_BATCH)
        return fail(w, EINVAL, "a page batch holds 1 to %u pages, not %u", MS_MAX_BATCH, n);
    *stored = 0;
    for (uint32_t i = 0; i < n; i++) {
        unsigned t = type[i];
        int has = ms_page_type_has_data(t);
        if (has < 0 || pfn[i] > MS_PFN_MASK)
            return fail(w, EINVAL, "page %u: pfn %#llx type %#x is not writable", i,
                        (unsigned long long)pfn[i], t);
        if (has && t == MS_PAGE_NOTAB && all_zero(pages[i])) {
            t = MS_PAGE_XALLOC;
            has = 0;
        }
        words[i] = pfn[i] | (uint64_t)t << MS_PFN_TYPE_SHIFT;
        if (has) {
            iov[niov++] = (struct iovec){ (void *)pages[i], MS_PAGE_SIZE };
            (*stored)++;
        }
    }
    iov[0] = (struct iovec){ &ph, sizeof(ph) };
    iov[1] = (struct iovec){ words, n * sizeof(uint64_t) };
    return ms_writer_record_iov(w, MS_REC_PAGE_DATA, iov, niov);
}

static void close_writer(struct ms_writer *w)
{
    if (w->fd >= 0 && !w->borrowed_fd)
        close(w->fd);
    w->fd = -1;
    free(w->buf);
    w->buf = NULL;
    ms_digest_free(&w->digest);
}

int ms_writer_commit(struct ms_writer *w)
{
    struct ms_rec_header end = { MS_REC_END, 0 };
    int rc = emit(w, &end, sizeof(end));        /* libxc END */
    if (!rc)
        rc = emit(w, &end, sizeof(end));        /* libxl END: the same 8 octets */
    if (!rc)
        rc = flush_out(w);
    if (!rc && fsync(w->fd))
        rc = fail(w, errno, "syncing %s: %s", w->tmp_path, strerror(errno));
    if (!rc && close(w->fd))
        rc = fail(w, errno, "closing %s: %s", w->tmp_path, strerror(errno));
    w->fd = -1;
    if (!rc && rename(w->tmp_path, w->path))
        rc = fail(w, errno, "renaming %s to %s: %s", w->tmp_path, w->path, strerror(errno));
    if (!rc) {
        free(w->tmp_path);
        w->tmp_path = NULL;
        char *dir = strdup(w->path);
        int dfd = dir ? open(dirname(dir), O_RDONLY | O_DIRECTORY) : -1;
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
        free(dir);
    }
    close_writer(w);
    return rc;
}

int ms_writer_flush(struct ms_writer *w)
{
    return flush_out(w);
}

int ms_writer_finish(struct ms_writer *w)
{
    struct ms_rec_header end = { MS_REC_END, 0 };
    int rc = emit(w, &end, sizeof(end));        /* libxc END */
    if (!rc)
        rc = emit(w, &end, sizeof(end));        /* libxl END */
    if (!rc)
        rc = flush_out(w);
    close_writer(w);
    return rc;
}

void ms_writer_abort(struct ms_writer *w)
{
    close_writer(w);
    if (w->tmp_path && !w->borrowed_fd)
        unlink(w->tmp_path);
    free(w->tmp_path);
    w->tmp_path = NULL;
    free(w->path);
    w->path = NULL;
}

const char *ms_writer_error(const struct ms_writer *w)
{
    return w->error;
}
