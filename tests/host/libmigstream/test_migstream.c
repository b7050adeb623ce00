/*
 * libmigstream: a state file written by ms_writer reads back record for
 * record; the file appears under its name only on commit; and a corrupted
 * file is refused with a message naming what and where: every truncation
 * and every single-octet change of a small stream, random changes of a
 * larger one, wrong versions, architecture and byte order, unknown
 * mandatory records, records out of order.  Unknown optional records are
 * skipped as Xen's rules say, and a stream without Mica's checksums reads
 * unless checksums are required.
 */
#define _GNU_SOURCE
#define UNIT_SUITE "libmigstream"
#include "unit.h"

#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ms_reader.h"
#include "ms_writer.h"
#include "ms_xenstore.h"

static char dir[64];
static char path[128];

static void remove_dir(void)
{
    char cmd[96];
    if (!dir[0])
        return;
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "  could not remove %s\n", dir);
    dir[0] = 0;
}

static void fresh_dir(void)
{
    static int registered;
    if (!registered++)
        atexit(remove_dir);
    remove_dir();
    /* tmpfs when there is one: the writer fsyncs, a busy disk is slow. */
    snprintf(dir, sizeof(dir), "%s/test_migstream.XXXXXX",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/dom.state", dir);
}

static unsigned files_in_dir(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    unsigned n = 0;
    CHECK(d != NULL);
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Guest page pfn: every fourth one all zeros, the others a pattern, but
   for some that are zero except for their last or their first octet
   (the writer's zero test must store those). */
static void make_page(uint64_t pfn, uint8_t *page)
{
    memset(page, 0, MS_PAGE_SIZE);
    if (pfn % 4 == 3)
        return;
    if (pfn % 16 == 6 || pfn % 16 == 10) {
        page[pfn % 16 == 6 ? MS_PAGE_SIZE - 1 : 0] = 0x80;
        return;
    }
    for (unsigned i = 0; i < MS_PAGE_SIZE; i++)
        page[i] = (uint8_t)(pfn * 131 + i * 7 + (i >> 8));
}

static uint8_t page_type(uint64_t pfn)
{
    return pfn == 0 ? (MS_PAGE_PINNED | MS_PAGE_L4TAB) : pfn == 1 ? MS_PAGE_L3TAB : MS_PAGE_NOTAB;
}

static const char definition_xml[] = "<domain type='xen'><name>t</name></domain>";

/* A stream as vmctl save writes one, with npages guest pages in batches
   of batch; also an optional record of a type no reader knows. */
static uint32_t write_stream(uint32_t npages, uint32_t batch, int with_unknown_optional)
{
    struct ms_writer w;
    uint32_t stored_total = 0;
    CHECK(ms_writer_open(&w, path, npages, 0, 4, 17) == 0);

    struct { struct ms_mica_definition h; char text[64]; } def = { 0 };
    memset(def.h.uuid, 0xab, 16);
    def.h.name_len = 1;
    def.h.xml_len = sizeof(definition_xml) - 1;
    def.text[0] = 't';
    memcpy(def.text + 1, definition_xml, def.h.xml_len);
    CHECK(ms_writer_record(&w, MS_MICA_DEFINITION, &def, sizeof(def.h) + 1 + def.h.xml_len) == 0);
    if (with_unknown_optional)
        CHECK(ms_writer_record(&w, 0x80001234u, "skip me", 7) == 0);

    struct ms_x86_pv_info info = { .guest_width = 8, .pt_levels = 4 };
    CHECK(ms_writer_record(&w, MS_REC_X86_PV_INFO, &info, sizeof(info)) == 0);
    struct { struct ms_x86_pv_p2m_frames h; uint64_t frames[4]; } p2m = { { 0, npages - 1 }, { 7 } };
    uint32_t nframes = (npages - 1) / 512 + 1;
    CHECK(nframes <= 4);
    CHECK(ms_writer_record(&w, MS_REC_X86_PV_P2M_FRAMES, &p2m, 8 + 8 * nframes) == 0);

    static uint8_t pages[MS_MAX_BATCH][MS_PAGE_SIZE];
    uint64_t pfn[MS_MAX_BATCH];
    uint8_t type[MS_MAX_BATCH];
    const void *ptr[MS_MAX_BATCH];
    for (uint32_t first = 0; first < npages; first += batch) {
        uint32_t n = npages - first < batch ? npages - first : batch, stored;
        for (uint32_t i = 0; i < n; i++) {
            pfn[i] = first + i;
            type[i] = page_type(pfn[i]);
            make_page(pfn[i], pages[i]);
            ptr[i] = pages[i];
        }
        CHECK(ms_writer_pages(&w, n, pfn, type, ptr, &stored) == 0);
        stored_total += stored;
    }
    if (with_unknown_optional)
        CHECK(ms_writer_record(&w, 0x80005678u, NULL, 0) == 0);
    struct ms_tsc_info tsc = { .mode = 0, .khz = 2000000, .nsec = 123456789, .incarnation = 1 };
    CHECK(ms_writer_record(&w, MS_REC_TSC_INFO, &tsc, sizeof(tsc)) == 0);
    static uint8_t shinfo[4096];
    memset(shinfo, 0x5a, sizeof(shinfo));
    CHECK(ms_writer_record(&w, MS_REC_SHARED_INFO, shinfo, sizeof(shinfo)) == 0);
    struct { struct ms_vcpu_header h; uint8_t ctxt[5]; } vcpu = { { 0, 0 }, { 1, 2, 3, 4, 5 } };
    CHECK(ms_writer_record(&w, MS_REC_X86_PV_VCPU_BASIC, &vcpu, sizeof(vcpu.h) + 5) == 0);
    CHECK(ms_writer_record(&w, MS_MICA_XENSTORE, "data/x\0001\0", 10) == 0);
    CHECK(ms_writer_commit(&w) == 0);
    ms_writer_abort(&w);
    return stored_total;
}

static int read_file_rc(const char *p, unsigned flags, char *err, size_t errlen)
{
    struct ms_reader r;
    int fd = open(p, O_RDONLY);
    CHECK(fd >= 0);
    CHECK(ms_reader_open(&r, fd, p, flags) == 0);
    int rc = ms_reader_verify_all(&r);
    snprintf(err, errlen, "%s", ms_reader_error(&r));
    ms_reader_close(&r);
    close(fd);
    return rc;
}

/* The same for a corrupted copy held in memory (a memfd: no disk I/O in
   the loops that read thousands of copies). */
static int read_copy_rc(const char *name, const uint8_t *buf, size_t len, unsigned flags,
                        char *err, size_t errlen)
{
    struct ms_reader r;
    int fd = memfd_create(name, 0);
    CHECK(fd >= 0 && write(fd, buf, len) == (ssize_t)len && lseek(fd, 0, SEEK_SET) == 0);
    CHECK(ms_reader_open(&r, fd, name, flags) == 0);
    int rc = ms_reader_verify_all(&r);
    snprintf(err, errlen, "%s", ms_reader_error(&r));
    ms_reader_close(&r);
    close(fd);
    return rc;
}

static size_t load(uint8_t **buf)
{
    struct stat st;
    int fd = open(path, O_RDONLY);
    CHECK(fd >= 0 && fstat(fd, &st) == 0);
    *buf = malloc((size_t)st.st_size);
    CHECK(*buf && read(fd, *buf, (size_t)st.st_size) == st.st_size);
    close(fd);
    return (size_t)st.st_size;
}

static void store(const char *p, const uint8_t *buf, size_t len)
{
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0 && write(fd, buf, len) == (ssize_t)len);
    close(fd);
}

UNIT_TEST(round_trip_returns_every_record_and_page)
{
    fresh_dir();
    uint32_t npages = 700;
    uint32_t stored = write_stream(npages, 256, 0);
    CHECK_EQ(stored, npages - npages / 4);

    struct ms_reader r;
    struct ms_record rec;
    int fd = open(path, O_RDONLY), rc;
    CHECK(fd >= 0);
    CHECK(ms_reader_open(&r, fd, path, MS_READ_REQUIRE_CHECKSUMS) == 0);
    uint32_t seen_pages = 0, order = 0, data_pages = 0;
    static const uint32_t expect[] = { MS_LIBXL_LIBXC_CONTEXT, MS_MICA_INFO, MS_MICA_DEFINITION,
                                       MS_REC_X86_PV_INFO, MS_REC_X86_PV_P2M_FRAMES };
    uint8_t page[MS_PAGE_SIZE];
    while ((rc = ms_reader_next(&r, &rec)) > 0) {
        if (order < 5)
            CHECK_EQ(rec.type, expect[order]);
        order++;
        if (rec.layer == MS_LAYER_LIBXC && rec.type == MS_REC_PAGE_DATA) {
            const uint8_t *b = rec.body;
            struct ms_page_data_header h;
            memcpy(&h, b, sizeof(h));
            const uint8_t *data = b + 8 + 8 * h.count;
            for (uint32_t i = 0; i < h.count; i++) {
                uint64_t wd;
                memcpy(&wd, b + 8 + 8 * i, 8);
                uint64_t pfn = wd & MS_PFN_MASK;
                unsigned t = (unsigned)(wd >> MS_PFN_TYPE_SHIFT);
                CHECK_EQ(pfn, seen_pages);
                make_page(pfn, page);
                if (pfn % 4 == 3) {
                    CHECK_EQ(t, MS_PAGE_XALLOC);
                } else {
                    CHECK_EQ(t, page_type(pfn));
                    CHECK(memcmp(data, page, MS_PAGE_SIZE) == 0);
                    data += MS_PAGE_SIZE;
                    data_pages++;
                }
                seen_pages++;
            }
        }
        if (rec.type == MS_REC_X86_PV_VCPU_BASIC)
            CHECK(rec.length == 13 && memcmp((const uint8_t *)rec.body + 8, "\1\2\3\4\5", 5) == 0);
        if (rec.type == MS_MICA_XENSTORE)
            CHECK(rec.layer == MS_LAYER_LIBXC && memcmp(rec.body, "data/x\0001\0", 10) == 0);
    }
    CHECK_EQ(rc, 0);
    CHECK_EQ(seen_pages, npages);
    CHECK_EQ(data_pages, stored);
    CHECK_EQ(r.data_pages, stored);
    CHECK_EQ(r.info.nr_pfns, npages);
    CHECK_EQ(r.domain.xen_major, 4);
    CHECK_EQ(r.domain.xen_minor, 17);
    CHECK_EQ(ms_reader_next(&r, &rec), 0);
    ms_reader_close(&r);
    close(fd);
    CHECK_EQ(files_in_dir(), 1);
}

UNIT_TEST(file_appears_only_on_commit_and_abort_leaves_nothing)
{
    fresh_dir();
    struct ms_writer w;
    CHECK(ms_writer_open(&w, path, 1, 1, 4, 17) == 0);
    CHECK(access(path, F_OK) != 0);
    CHECK_EQ(files_in_dir(), 1);             /* the temporary one */
    ms_writer_abort(&w);
    CHECK_EQ(files_in_dir(), 0);

    CHECK(ms_writer_open(&w, path, 1, 1, 4, 17) == 0);
    CHECK(ms_writer_commit(&w) == 0);
    CHECK(access(path, F_OK) == 0);
    ms_writer_abort(&w);                     /* after commit: the file stays */
    CHECK_EQ(files_in_dir(), 1);

    CHECK(ms_writer_open(&w, "/nonexistent-dir/x.state", 1, 1, 4, 17) != 0);
    CHECK_STR(ms_writer_error(&w), "/nonexistent-dir/x.state");
    ms_writer_abort(&w);
}

UNIT_TEST(writer_refuses_bad_batches)
{
    fresh_dir();
    struct ms_writer w;
    uint64_t pfn = 1;
    uint8_t type = 5;                        /* reserved page type */
    static uint8_t page[MS_PAGE_SIZE];
    const void *ptr = page;
    uint32_t stored;
    CHECK(ms_writer_open(&w, path, 1, 1, 4, 17) == 0);
    CHECK(ms_writer_pages(&w, 1, &pfn, &type, &ptr, &stored) != 0);
    CHECK_STR(ms_writer_error(&w), "type 0x5");
    CHECK(ms_writer_pages(&w, 0, &pfn, &type, &ptr, &stored) != 0);
    CHECK(ms_writer_record(&w, MS_MICA_CHECKSUM, NULL, 0) != 0);
    CHECK(ms_writer_record(&w, MS_REC_END, NULL, 0) != 0);
    ms_writer_abort(&w);
    CHECK_EQ(files_in_dir(), 0);
}

UNIT_TEST(every_truncation_is_refused)
{
    fresh_dir();
    write_stream(12, 5, 0);
    uint8_t *buf;
    size_t len = load(&buf);
    char cut[160], err[400];
    snprintf(cut, sizeof(cut), "%s/cut.state", dir);
    for (size_t at = 0; at < len; at += (at < 64 || len - at < 64) ? 1 : 7) {
        for (unsigned flags = 0; flags <= MS_READ_MAP; flags += MS_READ_MAP) {
            int rc = read_copy_rc("cut.state", buf, at, flags, err, sizeof(err));
            if (rc == 0)
                fprintf(stderr, "  truncation at %zu was accepted (flags %u)\n", at, flags);
            CHECK(rc < 0);
            CHECK_STR(err, "cut.state: ");
        }
    }
    store(cut, buf, len - 3);
    CHECK(read_file_rc(cut, 0, err, sizeof(err)) < 0);
    CHECK_STR(err, "truncated");
    CHECK_STR(err, "offset");
    CHECK(read_file_rc(cut, MS_READ_MAP, err, sizeof(err)) < 0);
    CHECK_STR(err, "truncated");
    store(cut, buf, len);
    CHECK_EQ(read_file_rc(cut, MS_READ_REQUIRE_CHECKSUMS, err, sizeof(err)), 0);
    CHECK_EQ(read_file_rc(cut, MS_READ_REQUIRE_CHECKSUMS | MS_READ_MAP, err, sizeof(err)), 0);
    free(buf);
}

/* MS_READ_MAP: a file cut short while it is mapped and being read is
   refused (its lost tail reads as zeros, which the checksums catch), not
   a SIGBUS; the mapped read of the intact file gives the same records. */
UNIT_TEST(mapped_file_cut_while_read_is_refused)
{
    fresh_dir();
    write_stream(1500, 256, 0);
    struct ms_reader r;
    struct ms_record rec;
    char err[400];
    CHECK_EQ(read_file_rc(path, MS_READ_REQUIRE_CHECKSUMS | MS_READ_MAP, err, sizeof(err)), 0);
    int fd = open(path, O_RDWR);
    CHECK(fd >= 0);
    CHECK(ms_reader_open(&r, fd, path, MS_READ_REQUIRE_CHECKSUMS | MS_READ_MAP) == 0);
    CHECK(r.map != NULL);
    CHECK_EQ(ms_reader_next(&r, &rec), 1);
    CHECK(ftruncate(fd, 3 * 4096) == 0);
    int rc;
    while ((rc = ms_reader_next(&r, &rec)) == 1)
        ;
    CHECK(rc < 0);
    CHECK(ms_reader_map_lost());
    if (!strstr(ms_reader_error(&r), "checksum mismatch"))
        CHECK_STR(ms_reader_error(&r), "became shorter");
    ms_reader_close(&r);
    close(fd);
}

/* MS_READ_KEEP_MAP: the second pass reads through the first pass's
   mapping (same address, same records); a reader without the flag unmaps
   it on close; a kept mapping nobody takes over goes with
   ms_reader_drop_kept_map(); another file is not given it. */
static uint64_t read_all(struct ms_reader *r)
{
    struct ms_record rec;
    uint64_t n = 0;
    int rc;
    while ((rc = ms_reader_next(r, &rec)) == 1)
        n++;
    CHECK_EQ(rc, 0);
    return n;
}

static int mapped_here(const void *p)
{
    unsigned char v;
    return mincore((void *)((uintptr_t)p & ~(uintptr_t)4095), 4096, &v) == 0;
}

UNIT_TEST(kept_mapping_serves_the_second_pass)
{
    fresh_dir();
    write_stream(300, 64, 0);
    struct ms_reader r;
    int fd = open(path, O_RDONLY);
    CHECK(fd >= 0);
    CHECK(ms_reader_open(&r, fd, path, MS_READ_REQUIRE_CHECKSUMS | MS_READ_MAP |
                                          MS_READ_KEEP_MAP) == 0);
    const unsigned char *first = r.map;
    CHECK(first != NULL);
    uint64_t n1 = read_all(&r);
    ms_reader_close(&r);
    CHECK(mapped_here(first));
    CHECK(lseek(fd, 0, SEEK_SET) == 0);
    CHECK(ms_reader_open(&r, fd, path, MS_READ_REQUIRE_CHECKSUMS | MS_READ_MAP |
                                          MS_READ_VERIFIED) == 0);
    CHECK(r.map == first);
    CHECK_EQ(read_all(&r), n1);
    ms_reader_close(&r);
    CHECK(!mapped_here(first));
    ms_reader_drop_kept_map();               /* nothing kept: no-op */

    /* Kept, then nobody takes it over. */
    CHECK(lseek(fd, 0, SEEK_SET) == 0);
    CHECK(ms_reader_open(&r, fd, path, MS_READ_MAP | MS_READ_KEEP_MAP) == 0);
    first = r.map;
    CHECK(first != NULL);
    read_all(&r);
    ms_reader_close(&r);
    CHECK(mapped_here(first));
    ms_reader_drop_kept_map();
    CHECK(!mapped_here(first));

    /* Kept, then another file: read without a mapping, the kept one stays. */
    char other[160];
    uint8_t *buf;
    size_t len = load(&buf);
    snprintf(other, sizeof(other), "%s/other.state", dir);
    store(other, buf, len);
    free(buf);
    CHECK(lseek(fd, 0, SEEK_SET) == 0);
    CHECK(ms_reader_open(&r, fd, path, MS_READ_MAP | MS_READ_KEEP_MAP) == 0);
    first = r.map;
    read_all(&r);
    ms_reader_close(&r);
    int fd2 = open(other, O_RDONLY);
    CHECK(fd2 >= 0);
    CHECK(ms_reader_open(&r, fd2, other, MS_READ_MAP) == 0);
    CHECK(r.map == NULL);
    CHECK_EQ(read_all(&r), n1);
    ms_reader_close(&r);
    CHECK(mapped_here(first));
    ms_reader_drop_kept_map();
    CHECK(!mapped_here(first));
    close(fd2);
    close(fd);
}

UNIT_TEST(every_single_octet_change_is_refused)
{
    fresh_dir();
    write_stream(6, 3, 1);
    uint8_t *buf;
    size_t len = load(&buf);
    char err[400];
    unsigned mismatches = 0;
    for (size_t at = 0; at < len; at++) {
        uint8_t was = buf[at];
        buf[at] ^= (uint8_t)(1u + rnd() % 255);
        static const unsigned fl[] = { 0, MS_READ_REQUIRE_CHECKSUMS,
                                       MS_READ_MAP | MS_READ_REQUIRE_CHECKSUMS };
        for (unsigned i = 0; i < 3; i++) {
            unsigned flags = fl[i];
            int rc = read_copy_rc("bad.state", buf, len, flags, err, sizeof(err));
            if (rc == 0)
                fprintf(stderr, "  a change at offset %zu was accepted (flags %u)\n", at, flags);
            CHECK(rc < 0);
            CHECK_STR(err, "bad.state: ");
        }
        buf[at] = was;
        mismatches += strstr(err, "checksum mismatch") != NULL;
    }
    CHECK(mismatches > len / 2);             /* most changes land in data */
    free(buf);
}

/* MS_READ_VERIFIED (vmctl restore's second pass over a file it verified
   and found unchanged): the intact file reads as before; a change is
   still refused where framing, layout or a checksum record's own fields
   catch it, and accepted where only the hash would have (page data). */
UNIT_TEST(verified_second_pass_skips_only_the_hash)
{
    fresh_dir();
    write_stream(6, 3, 1);
    uint8_t *buf;
    size_t len = load(&buf);
    char err[400];
    const unsigned flags = MS_READ_REQUIRE_CHECKSUMS | MS_READ_VERIFIED;
    CHECK_EQ(read_copy_rc("ok.state", buf, len, flags, err, sizeof(err)), 0);
    size_t refused = 0, accepted = 0;
    for (size_t at = 0; at < len; at++) {
        uint8_t was = buf[at];
        buf[at] ^= 0x5a;
        if (read_copy_rc("bad.state", buf, len, flags, err, sizeof(err)) < 0)
            refused++;
        else
            accepted++;
        buf[at] = was;
    }
    /* 6 pages of data (their changes pass), headers and checksum
       records (theirs do not). */
    CHECK(accepted >= 6 * 4096);
    CHECK(refused >= 200);
    free(buf);
}

/* ms_digest's AVX2 and baseline XXH3 copies (ms_digest_impl.h) give the
   same value for every length and every way of feeding it. */
void ms_digest_reset_base(void *state);
void ms_digest_update_base(void *state, const void *p, size_t n);
uint64_t ms_digest_value_base(const void *state);
void ms_digest_reset_avx2(void *state);
void ms_digest_update_avx2(void *state, const void *p, size_t n);
uint64_t ms_digest_value_avx2(const void *state);

UNIT_TEST(avx2_and_baseline_digests_agree)
{
    if (!__builtin_cpu_supports("avx2")) {
        printf("  (this host has no AVX2: only the baseline code runs here)\n");
        return;
    }
    static uint8_t data[3 * 4096 + 77];
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < sizeof(data); i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        data[i] = (uint8_t)x;
    }
    static const size_t lens[] = { 0, 1, 3, 16, 17, 128, 129, 240, 241, 1023, 1024, 1025,
                                   4096, 8192, sizeof(data) };
    static const size_t chunks[] = { 1, 7, 64, 1000, 4096, sizeof(data) };
    struct ms_digest a, b;
    CHECK_EQ(ms_digest_init(&a), 0);
    CHECK_EQ(ms_digest_init(&b), 0);
    unsigned compared = 0;
    for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++)
        for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
            ms_digest_reset_base(a.state);
            ms_digest_reset_avx2(b.state);
            for (size_t at = 0; at < lens[l]; at += chunks[c]) {
                size_t n = lens[l] - at < chunks[c] ? lens[l] - at : chunks[c];
                ms_digest_update_base(a.state, data + at, n);
                ms_digest_update_avx2(b.state, data + at, n);
            }
            CHECK_EQ(ms_digest_value_base(a.state), ms_digest_value_avx2(b.state));
            compared++;
        }
    CHECK_EQ(compared, 90u);
    CHECK_STR(ms_digest_impl_name(), "avx2");
    ms_digest_free(&a);
    ms_digest_free(&b);
}

void ms_digest_128_base(const void *p, size_t n, uint64_t out[2]);
void ms_digest_128_avx2(const void *p, size_t n, uint64_t out[2]);

/* The page hash vmctl migrate keeps to leave unchanged pages unsent:
   XXH3-128 (the empty input's value is xxHash's published one), the same
   from both copies of the code, and changed by any one bit of a page. */
UNIT_TEST(page_hash_128)
{
    uint64_t h[2], g[2];
    ms_digest_128("", 0, h);
    CHECK_EQ(h[1], 0x99aa06d3014798d8ull);
    CHECK_EQ(h[0], 0x6001c324468d497full);
    static uint8_t page[4096];
    uint64_t x = 0x2545f4914f6cdd1dull;
    for (size_t i = 0; i < sizeof(page); i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        page[i] = (uint8_t)x;
    }
    ms_digest_128(page, sizeof(page), h);
    ms_digest_128_base(page, sizeof(page), g);
    CHECK_EQ(h[0], g[0]);
    CHECK_EQ(h[1], g[1]);
    if (__builtin_cpu_supports("avx2")) {
        ms_digest_128_avx2(page, sizeof(page), g);
        CHECK_EQ(h[0], g[0]);
        CHECK_EQ(h[1], g[1]);
    }
    for (unsigned k = 0; k < 64; k++) {
        size_t bitno = (k * 4099u * 8u + k) % (sizeof(page) * 8);
        page[bitno / 8] ^= (uint8_t)(1u << (bitno % 8));
        ms_digest_128(page, sizeof(page), g);
        page[bitno / 8] ^= (uint8_t)(1u << (bitno % 8));
        CHECK(g[0] != h[0] || g[1] != h[1]);
    }
}

UNIT_TEST(random_changes_of_a_larger_file_are_refused)
{
    fresh_dir();
    write_stream(1500, 1024, 0);
    uint8_t *buf;
    size_t len = load(&buf);
    char bad[160], err[400];
    snprintf(bad, sizeof(bad), "%s/bad.state", dir);
    for (unsigned k = 0; k < 60; k++) {
        size_t at = rnd() % len, n = 1 + rnd() % 4;
        uint8_t saved[4];
        for (size_t i = 0; i < n && at + i < len; i++) {
            saved[i] = buf[at + i];
            buf[at + i] ^= (uint8_t)(1u + rnd() % 255);
        }
        int rc = read_copy_rc("bad.state", buf, len, MS_READ_REQUIRE_CHECKSUMS, err, sizeof(err));
        for (size_t i = 0; i < n && at + i < len; i++)
            buf[at + i] = saved[i];
        CHECK(rc < 0);
        CHECK_STR(err, "offset");
    }
    /* Trailing garbage after END. */
    uint8_t *longer = malloc(len + 8);
    CHECK(longer);
    memcpy(longer, buf, len);
    memset(longer + len, 0, 8);
    store(bad, longer, len + 8);
    CHECK(read_file_rc(bad, 0, err, sizeof(err)) < 0);
    CHECK_STR(err, "data after the END record");
    free(longer);
    free(buf);
}

/* Offset of the libxc image header (after the libxl header and
   LIBXC_CONTEXT: the first octets that are all ones). */
static size_t image_header_offset(const uint8_t *buf, size_t len)
{
    for (size_t at = 16; at + 8 <= len; at += 8)
        if (be64toh(*(const uint64_t *)(buf + at)) == MS_IMAGE_MARKER)
            return at;
    CHECK(0);
    return 0;
}

/* Offset of the first libxc record of this type, walking from the first
   record after the image and domain headers. */
static size_t record_offset(const uint8_t *buf, size_t len, size_t ih, uint32_t type)
{
    for (size_t at = ih + 40; at + 8 <= len;) {
        struct ms_rec_header h;
        memcpy(&h, buf + at, sizeof(h));
        if (h.type == type)
            return at;
        at += 8 + ms_padded(h.length);
    }
    CHECK(0);
    return 0;
}

UNIT_TEST(wrong_version_byte_order_and_architecture_are_named)
{
    fresh_dir();
    write_stream(4, 4, 0);
    uint8_t *buf;
    size_t len = load(&buf);
    size_t ih = image_header_offset(buf, len);
    char bad[160], err[400], want[80];
    snprintf(bad, sizeof(bad), "%s/bad.state", dir);

    uint8_t *copy = malloc(len);
    CHECK(copy);
#define PATCHED(off, val)                                                    \
    do {                                                                     \
        memcpy(copy, buf, len);                                              \
        copy[(off)] = (val);                                                 \
        store(bad, copy, len);                                               \
        CHECK(read_file_rc(bad, 0, err, sizeof(err)) < 0);                   \
    } while (0)

    PATCHED(11, 3);                          /* libxl version 3 */
    CHECK_STR(err, "libxl stream version 3 at offset 8");
    PATCHED(15, 1);                          /* big-endian libxl stream */
    CHECK_STR(err, "big-endian");
    PATCHED(0, 'X');
    CHECK_STR(err, "not a Xen/Mica state file");
    PATCHED(ih + 15, 1);                     /* libxc version 1 */
    snprintf(want, sizeof(want), "libxc image version 1 at offset %zu", ih + 12);
    CHECK_STR(err, want);
    PATCHED(ih + 15, 4);
    CHECK_STR(err, "versions 2 to 3");
    PATCHED(ih + 17, 1);                     /* big-endian image */
    CHECK_STR(err, "big-endian");
    PATCHED(ih + 24, MS_DOMAIN_X86_HVM);
    snprintf(want, sizeof(want), "offset %zu says x86 HVM", ih + 24);
    CHECK_STR(err, "wrong architecture");
    CHECK_STR(err, want);
    PATCHED(ih + 28, 13);
    CHECK_STR(err, "page_shift 13");
    PATCHED(record_offset(buf, len, ih, MS_REC_X86_PV_INFO) + 8, 4);   /* guest width 4 */
    CHECK_STR(err, "record 6 (X86_PV_INFO)");
    CHECK_STR(err, "guest width 4");
#undef PATCHED
    free(copy);
    free(buf);
}

/* A hand-made stream without Mica's records, as a Xen saver writes one. */
struct raw { uint8_t b[16384]; size_t n; };

static void raw_put(struct raw *s, const void *p, size_t n)
{
    CHECK(s->n + n <= sizeof(s->b));
    memcpy(s->b + s->n, p, n);
    s->n += n;
}

static void raw_rec(struct raw *s, uint32_t type, const void *body, uint32_t len)
{
    static const uint8_t zeros[8];
    struct ms_rec_header h = { type, len };
    raw_put(s, &h, sizeof(h));
    if (len)
        raw_put(s, body, len);
    raw_put(s, zeros, ms_padded(len) - len);
}

static void raw_start(struct raw *s)
{
    s->n = 0;
    struct ms_libxl_header lh = { htobe64(MS_LIBXL_IDENT), htobe32(2), 0 };
    raw_put(s, &lh, sizeof(lh));
    raw_rec(s, MS_LIBXL_LIBXC_CONTEXT, NULL, 0);
    struct ms_image_header ih = { htobe64(MS_IMAGE_MARKER), htobe32(MS_IMAGE_ID), htobe32(2), 0, { 0 } };
    struct ms_domain_header dh = { MS_DOMAIN_X86_PV, 12, 0, 4, 17 };
    raw_put(s, &ih, sizeof(ih));
    raw_put(s, &dh, sizeof(dh));
}

static void raw_finish(struct raw *s)
{
    raw_rec(s, MS_REC_END, NULL, 0);
    raw_rec(s, MS_LIBXL_END, NULL, 0);
}

static void raw_pv_prefix(struct raw *s)
{
    struct ms_x86_pv_info info = { .guest_width = 8, .pt_levels = 4 };
    struct { struct ms_x86_pv_p2m_frames h; uint64_t f; } p2m = { { 0, 0 }, 3 };
    raw_rec(s, MS_REC_X86_PV_INFO, &info, sizeof(info));
    raw_rec(s, MS_REC_X86_PV_P2M_FRAMES, &p2m, sizeof(p2m));
}

UNIT_TEST(stream_without_checksums_reads_unless_they_are_required)
{
    fresh_dir();
    static struct raw s;
    char err[400];
    raw_start(&s);
    raw_pv_prefix(&s);
    struct { struct ms_page_data_header h; uint64_t w; } pd = { { 1, 0 }, (uint64_t)MS_PAGE_XALLOC << 60 };
    raw_rec(&s, MS_REC_PAGE_DATA, &pd, sizeof(pd));
    raw_rec(&s, 0x80000042u, "optional", 8);      /* skipped by the rules */
    raw_finish(&s);
    store(path, s.b, s.n);
    CHECK_EQ(read_file_rc(path, 0, err, sizeof(err)), 0);
    CHECK(read_file_rc(path, MS_READ_REQUIRE_CHECKSUMS, err, sizeof(err)) < 0);
    CHECK_STR(err, "record 2 (X86_PV_INFO) at offset 64");
    CHECK_STR(err, "no checksums");
}

/* MICA_KERNEL_RW: whole 72-octet entries, at least one. */
UNIT_TEST(kernel_rw_record_takes_whole_entries_only)
{
    fresh_dir();
    static struct raw s;
    char err[400];
    struct ms_mica_kernel_rw e[2] = { { 7, { 1, 0, 0, 0, 0, 0, 0, UINT64_C(1) << 63 } },
                                      { 9, { 2 } } };

    raw_start(&s);
    raw_pv_prefix(&s);
    raw_rec(&s, MS_MICA_KERNEL_RW, e, sizeof(e));
    raw_finish(&s);
    store(path, s.b, s.n);
    CHECK_EQ(read_file_rc(path, 0, err, sizeof(err)), 0);

    raw_start(&s);
    raw_pv_prefix(&s);
    raw_rec(&s, MS_MICA_KERNEL_RW, e, sizeof(e) - 8);
    raw_finish(&s);
    store(path, s.b, s.n);
    CHECK(read_file_rc(path, 0, err, sizeof(err)) < 0);
    CHECK_STR(err, "record 4 (MICA_KERNEL_RW)");
    CHECK_STR(err, "is 136 octets, not a whole number of 72-octet entries");

    raw_start(&s);
    raw_pv_prefix(&s);
    raw_rec(&s, MS_MICA_KERNEL_RW, NULL, 0);
    raw_finish(&s);
    store(path, s.b, s.n);
    CHECK(read_file_rc(path, 0, err, sizeof(err)) < 0);
    CHECK_STR(err, "is 0 octets");
}

UNIT_TEST(unknown_mandatory_records_and_bad_order_are_refused)
{
    fresh_dir();
    static struct raw s;
    char err[400];

    raw_start(&s);
    raw_pv_prefix(&s);
    raw_rec(&s, 0x40, "x", 1);
    raw_finish(&s);
    store(path, s.b, s.n);
    CHECK(read_file_rc(path, 0, err, sizeof(err)) < 0);
    CHECK_STR(err, "record 4 (type 0x40)");
    CHECK_STR(err, "unknown mandatory");

    raw_start(&s);
    struct ms_x86_pv_info info = { .guest_width = 8, .pt_levels = 4 };
    raw_rec(&s, MS_REC_X86_PV_INFO, &info, sizeof(info));
    struct { struct ms_page_data_header h; uint64_t w; } pd = { { 1, 0 }, (uint64_t)MS_PAGE_XALLOC << 60 };
    raw_rec(&s, MS_REC_PAGE_DATA, &pd, sizeof(pd));
    raw_finish(&s);
    store(path, s.b, s.n);
    CHECK(read_file_rc(path, 0, err, sizeof(err)) < 0);
    CHECK_STR(err, "record 3 (PAGE_DATA)");
    CHECK_STR(err, "before X86_PV_INFO and X86_PV_P2M_FRAMES");

    raw_start(&s);
    raw_pv_prefix(&s);
    pd.w = (uint64_t)6 << 60 | 5;                  /* reserved page type */
    raw_rec(&s, MS_REC_PAGE_DATA, &pd, sizeof(pd));
    raw_finish(&s);
    store(path, s.b, s.n);
    CHECK(read_file_rc(path, 0, err, sizeof(err)) < 0);
    CHECK_STR(err, "pfn 5 (entry 0) has unknown page type 0x6");

    raw_start(&s);
    raw_pv_prefix(&s);
    pd.w = (uint64_t)MS_PAGE_NOTAB << 60;          /* says data, has none */
    raw_rec(&s, MS_REC_PAGE_DATA, &pd, sizeof(pd));
    raw_finish(&s);
    store(path, s.b, s.n);
    CHECK(read_file_rc(path, 0, err, sizeof(err)) < 0);
    CHECK_STR(err, "1 of its 1 pages carry data");

    raw_start(&s);
    raw_pv_prefix(&s);
    raw_rec(&s, MS_REC_HVM_CONTEXT, "x", 1);
    raw_finish(&s);
    store(path, s.b, s.n);
    CHECK(read_file_rc(path, 0, err, sizeof(err)) < 0);
    CHECK_STR(err, "HVM record in an x86 PV image");

    raw_start(&s);
    raw_pv_prefix(&s);
    struct ms_rec_header huge = { MS_REC_TOOLSTACK, 0xfffffff0u };
    raw_put(&s, &huge, sizeof(huge));
    store(path, s.b, s.n);
    CHECK(read_file_rc(path, 0, err, sizeof(err)) < 0);
    CHECK_STR(err, "over this reader's limit");
}

/* X86_PV_VCPU_MSRS: whole 16-octet entries after the vCPU header, 1 to MS_MAX_VCPU_MSRS. */
UNIT_TEST(vcpu_msrs_records_take_whole_entries)
{
    fresh_dir();
    static struct raw s;
    static struct { struct ms_vcpu_header h; struct ms_vcpu_msr m[MS_MAX_VCPU_MSRS + 1]; } rec;
    char err[400];
    const uint32_t sizes_ok[] = { 8 + 16, 8 + 16 * 3, 8 + 16 * MS_MAX_VCPU_MSRS };
    const uint32_t sizes_bad[] = { 8, 8 + 15, 8 + 16 + 8, 8 + 16 * (MS_MAX_VCPU_MSRS + 1) };

    rec.h.vcpu_id = 1;
    rec.m[0].index = 0xc0000103u;
    rec.m[0].value = 1;
    for (unsigned i = 0; i < sizeof(sizes_ok) / sizeof(sizes_ok[0]); i++) {
        raw_start(&s);
        raw_pv_prefix(&s);
        raw_rec(&s, MS_REC_X86_PV_VCPU_MSRS, &rec, sizes_ok[i]);
        raw_finish(&s);
        store(path, s.b, s.n);
        CHECK_EQ(read_file_rc(path, 0, err, sizeof(err)), 0);
    }
    for (unsigned i = 0; i < sizeof(sizes_bad) / sizeof(sizes_bad[0]); i++) {
        raw_start(&s);
        raw_pv_prefix(&s);
        raw_rec(&s, MS_REC_X86_PV_VCPU_MSRS, &rec, sizes_bad[i]);
        raw_finish(&s);
        store(path, s.b, s.n);
        CHECK(read_file_rc(path, 0, err, sizeof(err)) < 0);
        CHECK_STR(err, "(X86_PV_VCPU_MSRS)");
        CHECK_STR(err, "MSRs are 1 to 64 entries of 16 octets");
    }
}

/* MICA_XENSTORE bodies: pairs go in and come out; bad keys and bodies are refused. */
UNIT_TEST(xenstore_pairs_round_trip_and_bad_bodies_are_refused)
{
    struct ms_xs_blob b = { 0 };
    CHECK_EQ(ms_xs_blob_add(&b, "control/feature-poweroff", "1"), 0);
    CHECK_EQ(ms_xs_blob_add(&b, "data/empty", ""), 0);
    CHECK_EQ(ms_xs_blob_add(&b, "/local/domain/0", "x"), -EINVAL);
    CHECK_EQ(ms_xs_blob_add(&b, "data/../x", "x"), -EINVAL);
    CHECK_EQ(ms_xs_blob_add(&b, "", "x"), -EINVAL);
    struct ms_xs_iter it;
    const char *k, *v;
    char why[200];
    ms_xs_iter_init(&it, b.buf, b.len);
    CHECK_EQ(ms_xs_iter_next(&it, &k, &v, why, sizeof(why)), 1);
    CHECK(strcmp(k, "control/feature-poweroff") == 0 && strcmp(v, "1") == 0);
    CHECK_EQ(ms_xs_iter_next(&it, &k, &v, why, sizeof(why)), 1);
    CHECK(strcmp(k, "data/empty") == 0 && strcmp(v, "") == 0);
    CHECK_EQ(ms_xs_iter_next(&it, &k, &v, why, sizeof(why)), 0);
    /* Cut anywhere inside a pair: refused, naming the pair. */
    for (size_t cut = 1; cut < b.len; cut++) {
        int rc;
        ms_xs_iter_init(&it, b.buf, cut);
        while ((rc = ms_xs_iter_next(&it, &k, &v, why, sizeof(why))) == 1)
            ;
        if (cut == strlen("control/feature-poweroff") + 3)
            CHECK_EQ(rc, 0);            /* exactly the first pair */
        else {
            CHECK_EQ(rc, -EINVAL);
            CHECK_STR(why, "pair ");
        }
    }
    static const char bad[] = "../etc\0x";
    ms_xs_iter_init(&it, bad, sizeof(bad));
    CHECK_EQ(ms_xs_iter_next(&it, &k, &v, why, sizeof(why)), -EINVAL);
    ms_xs_blob_free(&b);
}

UNIT_MAIN()
