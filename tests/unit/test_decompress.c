/*
 * Round trips and hostile-input tests of the gzip, xz and LZ4 decoders
 * against data compressed by Debian's own gzip, xz and lz4 (fixtures made by
 * tests/unit/fixtures/decompress-gen.sh at test-build time).
 * unit-sources: hypervisor/common/decompress/decompress.c hypervisor/common/decompress/inflate.c hypervisor/common/decompress/xz.c hypervisor/common/decompress/lzma2.c hypervisor/common/decompress/bcj_x86.c hypervisor/common/decompress/sha256.c hypervisor/common/decompress/lz4.c tests/unit/log_capture.c
 */
#define UNIT_SUITE "decompress"
#include "unit.h"
#include "log_capture.h"

#include <stdarg.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <libgen.h>
#include <mica/lib.h>
#include <mica/decompress.h>

/* Quiet runs for the thousands of mutated inputs: keep the log, not stderr. */
static int quiet_fd = -1;
static void quiet(bool on)
{
    fflush(stderr);
    if (on) {
        quiet_fd = dup(2);
        freopen("/dev/null", "w", stderr);
    } else if (quiet_fd >= 0) {
        dup2(quiet_fd, 2);
        close(quiet_fd);
        quiet_fd = -1;
    }
}

static u32 get_le32_test(const u8 *p)
{
    return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

static u32 crc32_test(const u8 *p, size_t n)
{
    u32 c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
    }
    return ~c;
}

static char fixdir[4096];

static void find_fixtures(void)
{
    if (fixdir[0])
        return;
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0) {
        snprintf(fixdir, sizeof(fixdir), "build/tests/fixtures/decompress");
        return;
    }
    exe[n] = 0;
    snprintf(fixdir, sizeof(fixdir), "%s/../fixtures/decompress", dirname(exe));
}

struct blob {
    u8 *p;
    size_t n;
};

static struct blob load(const char *name)
{
    char path[8192];
    struct blob b = { NULL, 0 };
    find_fixtures();
    snprintf(path, sizeof(path), "%s/%s", fixdir, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "  cannot open fixture %s (run make for this test)\n", path);
        return b;
    }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    /* Exact-size heap blocks: ASan catches a read one past the end. */
    b.p = malloc(len ? (size_t)len : 1);
    if (b.p && fread(b.p, 1, (size_t)len, f) == (size_t)len)
        b.n = (size_t)len;
    fclose(f);
    return b;
}

static void *work;

static void *get_work(void)
{
    if (!work)
        work = malloc(DECOMPRESS_WORK_SIZE);
    return work;
}

static int run(const u8 *in, size_t n, u8 *out, size_t cap, size_t *olen)
{
    return decompress(in, n, out, cap, olen, get_work(), DECOMPRESS_WORK_SIZE);
}

struct entry {
    char comp[256];
    char orig[256];
};

static struct entry *manifest;
static size_t nmanifest;

static void load_manifest(void)
{
    if (manifest)
        return;
    struct blob m = load("manifest.txt");
    CHECK(m.p != NULL);
    manifest = calloc(512, sizeof(*manifest));
    char *s = (char *)realloc(m.p, m.n + 1);
    s[m.n] = 0;
    for (char *line = strtok(s, "\n"); line && nmanifest < 512; line = strtok(NULL, "\n")) {
        if (sscanf(line, "%255s %255s", manifest[nmanifest].comp, manifest[nmanifest].orig) == 2)
            nmanifest++;
    }
    free(s);
    CHECK(nmanifest > 100);
}

static bool has_suffix(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

/* Round trip of every manifest entry whose name ends in suffix. */
static void roundtrip(const char *suffix, enum decomp_format fmt)
{
    load_manifest();
    unsigned done = 0;
    for (size_t i = 0; i < nmanifest; i++) {
        if (!has_suffix(manifest[i].comp, suffix))
            continue;
        struct blob c = load(manifest[i].comp), o = load(manifest[i].orig);
        CHECK(c.p && o.p);
        CHECK_EQ(decompress_detect(c.p, c.n), fmt);

        u64 claimed = 0;
        int src = decompress_size(c.p, c.n, &claimed);
        if (fmt == DECOMP_FMT_LZ4_LEGACY) {
            CHECK_EQ(src, DECOMP_ENOSIZE);
        } else if (strncmp(manifest[i].comp, "cat.", 4) != 0 || fmt == DECOMP_FMT_XZ) {
            /* gzip records only the last member's size. */
            CHECK_EQ(src, DECOMP_OK);
            CHECK_EQ(claimed, o.n);
        }

        /* Exactly the right size must do. */
        u8 *out = malloc(o.n ? o.n : 1);
        size_t olen = 12345;
        log_clear();
        int rc = run(c.p, c.n, out, o.n, &olen);
        if (rc)
            fprintf(stderr, "  %s: %s\n", manifest[i].comp, decompress_strerror(rc));
        CHECK_EQ(rc, DECOMP_OK);
        CHECK_EQ(olen, o.n);
        CHECK(memcmp(out, o.p, o.n) == 0);
        free(out);

        /*
         * One byte short must be refused, and say so.  Big inputs decode
         * almost all the way before failing: one per format is enough.
         */
        if (o.n && (o.n < (2u << 20) || strstr(manifest[i].comp, ".9."))) {
            out = malloc(o.n - 1 ? o.n - 1 : 1);
            log_clear();
            rc = run(c.p, c.n, out, o.n - 1, &olen);
            CHECK_EQ(rc, DECOMP_E2BIG);
            CHECK_STR(logbuf, "does not fit");
            CHECK(olen <= o.n - 1);
            free(out);
        }
        free(c.p);
        free(o.p);
        done++;
    }
    CHECK(done >= 5);
}

UNIT_TEST(gzip_roundtrips)        { roundtrip(".gz", DECOMP_FMT_GZIP); }
UNIT_TEST(xz_roundtrips)          { roundtrip(".xz", DECOMP_FMT_XZ); }
UNIT_TEST(lz4_legacy_roundtrips)  { roundtrip(".lz4", DECOMP_FMT_LZ4_LEGACY); }

UNIT_TEST(plain_elf_is_copied)
{
    struct blob o = load("ls.bin");
    CHECK(o.p);
    CHECK_EQ(decompress_detect(o.p, o.n), DECOMP_FMT_ELF);
    u64 sz;
    CHECK_EQ(decompress_size(o.p, o.n, &sz), DECOMP_OK);
    CHECK_EQ(sz, o.n);
    u8 *out = malloc(o.n);
    size_t olen;
    CHECK_EQ(run(o.p, o.n, out, o.n, &olen), DECOMP_OK);
    CHECK_EQ(olen, o.n);
    CHECK(memcmp(out, o.p, o.n) == 0);
    CHECK_EQ(run(o.p, o.n, out, o.n - 1, &olen), DECOMP_E2BIG);
    free(out);
    free(o.p);
}

static void expect_refusal(const char *name, int want, const char *msg)
{
    struct blob c = load(name);
    CHECK(c.p);
    u8 *out = malloc(1 << 22);
    size_t olen;
    log_clear();
    CHECK_EQ(run(c.p, c.n, out, 1 << 22, &olen), want);
    CHECK_STR(logbuf, msg);
    free(out);
    free(c.p);
}

UNIT_TEST(unsupported_filters_and_formats_are_named)
{
    expect_refusal("unsupp.delta.xz", DECOMP_EUNSUPP, "unsupported filter 0x3");
    expect_refusal("unsupp.arm.xz", DECOMP_EUNSUPP, "unsupported filter 0x7");
    expect_refusal("unsupp.lzma", DECOMP_EUNSUPP, "lzma compression is not supported");
    expect_refusal("unsupp.frame.lz4", DECOMP_EUNSUPP, "LZ4 frame compression is not supported");
    expect_refusal("unsupp.bz2", DECOMP_EUNSUPP, "bzip2 compression is not supported");
}

UNIT_TEST(garbage_and_bad_arguments)
{
    static const u8 junk[64] = { 1, 2, 3, 4, 5 };
    u8 out[16];
    size_t olen;
    log_clear();
    CHECK_EQ(run(junk, sizeof(junk), out, sizeof(out), &olen), DECOMP_EMAGIC);
    CHECK_STR(logbuf, "unrecognised format");
    CHECK_EQ(run(junk, 0, out, sizeof(out), &olen), DECOMP_EMAGIC);
    u8 w[64];
    CHECK_EQ(decompress(junk, sizeof(junk), out, sizeof(out), &olen, w, sizeof(w)), DECOMP_EINVAL);
    CHECK_EQ(decompress(junk, sizeof(junk), out, sizeof(out), NULL, get_work(),
                        DECOMPRESS_WORK_SIZE), DECOMP_EINVAL);
    u64 sz;
    CHECK_EQ(decompress_size(junk, sizeof(junk), &sz), DECOMP_EMAGIC);
    /* Magic alone, nothing behind it. */
    static const u8 xzmagic[6] = { 0xfd, '7', 'z', 'X', 'Z', 0 };
    static const u8 gzmagic[2] = { 0x1f, 0x8b };
    static const u8 lz4magic[4] = { 0x02, 0x21, 0x4c, 0x18 };
    CHECK_EQ(run(xzmagic, 6, out, sizeof(out), &olen), DECOMP_ETRUNC);
    CHECK_EQ(run(gzmagic, 2, out, sizeof(out), &olen), DECOMP_ETRUNC);
    /* An LZ4 legacy frame with no blocks is an empty file. */
    CHECK_EQ(run(lz4magic, 4, out, sizeof(out), &olen), DECOMP_OK);
    CHECK_EQ(olen, 0);
    CHECK(decompress_size(xzmagic, 6, &sz) != DECOMP_OK);
}

/* Tiny deterministic PRNG so failures reproduce. */
static u64 rng_state = 0x9e3779b97f4a7c15ull;
static u64 rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/*
 * Every prefix length near the ends and a spread in between: success is only
 * allowed when the output is still right (LZ4 legacy frames may end at any
 * block boundary, so a prefix of the original output is right for them).
 */
static void truncations(const char *name, const char *orig, bool prefix_ok, size_t spread)
{
    struct blob c = load(name), o = load(orig);
    CHECK(c.p && o.p);
    u8 *out = malloc(o.n + 64);
    unsigned refused = 0, tried = 0;
    quiet(true);
    for (size_t len = 0; len < c.n; len++) {
        if (len > 96 && len < c.n - 96 && len % (c.n / spread + 1))
            continue;
        u8 *cut = malloc(len ? len : 1);   /* exact size: ASan sees overreads */
        memcpy(cut, c.p, len);
        size_t olen = 0;
        int rc = run(cut, len, out, o.n + 64, &olen);
        free(cut);
        tried++;
        if (rc) {
            refused++;
            continue;
        }
        if (!(prefix_ok ? olen <= o.n && memcmp(out, o.p, olen) == 0 : false)) {
            quiet(false);
            fprintf(stderr, "  %s cut to %zu bytes decoded without error\n", name, len);
            CHECK(0);
        }
    }
    quiet(false);
    fprintf(stderr, "  %s: %u of %u truncations refused\n", name, refused, tried);
    CHECK(refused > 0);
    free(out);
    free(c.p);
    free(o.p);
}

UNIT_TEST(truncated_streams_are_refused)
{
    truncations("ls.bin.x86.xz", "ls.bin", false, 150);
    truncations("ls.bin.sized.xz", "ls.bin", false, 150);
    truncations("text.txt.crc64.xz", "text.txt", false, 60);
    truncations("mixed.bin.9.gz", "mixed.bin", false, 60);
    truncations("ls.bin.1.gz", "ls.bin", false, 150);
    truncations("ls.bin.9.lz4", "ls.bin", true, 150);
    truncations("big.bin.9.lz4", "big.bin", true, 20);
}

/*
 * Random bit flips.  Decoding must never succeed with wrong output where the
 * format has a checksum (gzip, xz except --check=none), and must stay in
 * bounds everywhere (ASan).  Most flips must be caught outright.
 */
static void bitflips(const char *name, const char *orig, bool checksummed, unsigned trials)
{
    struct blob c = load(name), o = load(orig);
    CHECK(c.p && o.p);
    size_t cap = o.n + 4096;
    u8 *out = malloc(cap);
    u8 *mut = malloc(c.n);
    unsigned caught = 0, wrong = 0;
    quiet(true);
    for (unsigned t = 0; t < trials; t++) {
        memcpy(mut, c.p, c.n);
        unsigned flips = 1 + (unsigned)(rng() % 3);
        for (unsigned k = 0; k < flips; k++) {
            size_t at = (size_t)(rng() % c.n);
            mut[at] ^= (u8)(1u << (rng() % 8));
        }
        size_t olen = 0;
        int rc = run(mut, c.n, out, cap, &olen);
        if (rc)
            caught++;
        else if (olen != o.n || memcmp(out, o.p, o.n) != 0)
            wrong++;
    }
    quiet(false);
    fprintf(stderr, "  %s: %u of %u corruptions refused, %u decoded wrongly\n",
            name, caught, trials, wrong);
    if (checksummed) {
        CHECK_EQ(wrong, 0);
        CHECK(caught * 10 >= trials * 9);
    }
    free(out);
    free(mut);
    free(c.p);
    free(o.p);
}

UNIT_TEST(bit_flips_are_caught)
{
    bitflips("ls.bin.x86.xz", "ls.bin", true, 400);
    bitflips("mixed.bin.crc32.xz", "mixed.bin", true, 100);
    bitflips("ls.bin.crc64.xz", "ls.bin", true, 300);
    bitflips("ls.bin.sha256.xz", "ls.bin", true, 200);
    bitflips("ls.bin.sized.xz", "ls.bin", true, 300);
    bitflips("text.txt.lp4.xz", "text.txt", true, 50);
    bitflips("mixed.bin.9.gz", "mixed.bin", true, 150);
    bitflips("ls.bin.1.gz", "ls.bin", true, 300);
    /* No checksums: only memory safety is at stake. */
    bitflips("ls.bin.none.xz", "ls.bin", false, 300);
    bitflips("mixed.bin.9.lz4", "mixed.bin", false, 150);
    bitflips("ls.bin.12.lz4", "ls.bin", false, 400);
}

UNIT_TEST(checksum_mismatch_is_reported)
{
    struct blob c = load("text.txt.crc32.xz"), o = load("text.txt");
    CHECK(c.p && o.p);
    u8 *out = malloc(o.n);
    size_t olen;
    /* The stored CRC32 of the only block sits just before the index. */
    size_t idx = c.n - 12;                       /* footer */
    idx -= ((size_t)get_le32_test(c.p + c.n - 8) + 1) * 4;  /* index start */
    c.p[idx - 1] ^= 0x40;
    log_clear();
    CHECK_EQ(run(c.p, c.n, out, o.n, &olen), DECOMP_ECHECK);
    CHECK_STR(logbuf, "CRC32 mismatch");

    struct blob g = load("text.txt.9.gz");
    CHECK(g.p);
    g.p[g.n - 6] ^= 1;                           /* inside the stored CRC32 */
    log_clear();
    CHECK_EQ(run(g.p, g.n, out, o.n, &olen), DECOMP_ECHECK);
    CHECK_STR(logbuf, "gzip: CRC32 mismatch");
    g.p[g.n - 6] ^= 1;
    g.p[g.n - 1] ^= 1;                           /* ISIZE */
    log_clear();
    CHECK_EQ(run(g.p, g.n, out, o.n, &olen), DECOMP_ECHECK);
    CHECK_STR(logbuf, "ISIZE mismatch");
    free(out);
    free(c.p);
    free(o.p);
    free(g.p);
}

/* Rewrites the first block's recorded uncompressed size (a 3-byte VLI). */
static bool set_first_block_usize(u8 *x, size_t n, u32 val)
{
    size_t h = 12, hsize = ((size_t)x[h] + 1) * 4;
    if (n < h + hsize || (x[h + 1] & 0xc0) != 0xc0)
        return false;
    size_t p = h + 2;
    while (x[p] & 0x80)   /* skip the compressed size */
        p++;
    p++;
    if (!(x[p] & 0x80) || !(x[p + 1] & 0x80) || (x[p + 2] & 0x80))
        return false;
    x[p] = (u8)(0x80 | (val & 0x7f));
    x[p + 1] = (u8)(0x80 | ((val >> 7) & 0x7f));
    x[p + 2] = (u8)(val >> 14);
    u32 crc = crc32_test(x + h, hsize - 4);
    memcpy(x + h + hsize - 4, &crc, 4);
    return true;
}

UNIT_TEST(block_size_claims_are_checked)
{
    struct blob c = load("ls.bin.sized.xz"), o = load("ls.bin");
    CHECK(c.p && o.p);
    u8 *out = malloc(o.n);
    size_t olen;
    u8 *m = malloc(c.n);

    /* Claims more than the block holds. */
    memcpy(m, c.p, c.n);
    CHECK(set_first_block_usize(m, c.n, 2000000));
    log_clear();
    CHECK_EQ(run(m, c.n, out, o.n, &olen), DECOMP_E2BIG);
    CHECK_STR(logbuf, "block claims 2000000 bytes, which does not fit");
    u8 *big = malloc(4 << 20);
    log_clear();
    CHECK_EQ(run(m, c.n, big, 4 << 20, &olen), DECOMP_ECORRUPT);
    CHECK_STR(logbuf, "block sizes differ");
    free(big);

    /* Claims less than the block holds. */
    memcpy(m, c.p, c.n);
    CHECK(set_first_block_usize(m, c.n, 40000));
    log_clear();
    CHECK_EQ(run(m, c.n, out, o.n, &olen), DECOMP_ECORRUPT);
    CHECK_STR(logbuf, "more than the 40000 bytes");
    CHECK(olen <= 40000);

    free(m);
    free(out);
    free(c.p);
    free(o.p);
}

UNIT_TEST(trailing_bytes_and_padding)
{
    struct blob c = load("text.txt.6.xz"), o = load("text.txt");
    CHECK(c.p && o.p);
    u8 *x = malloc(c.n + 8);
    u8 *out = malloc(o.n);
    size_t olen;
    memcpy(x, c.p, c.n);
    memset(x + c.n, 0, 8);
    CHECK_EQ(run(x, c.n + 8, out, o.n, &olen), DECOMP_OK);   /* padding: 8 zeros */
    CHECK_EQ(olen, o.n);
    log_clear();
    CHECK_EQ(run(x, c.n + 3, out, o.n, &olen), DECOMP_ECORRUPT);
    CHECK_STR(logbuf, "not a multiple of 4");
    x[c.n] = 0x12;   /* a kernel-style size trailer must not pass as padding */
    CHECK(run(x, c.n + 4, out, o.n, &olen) != DECOMP_OK);

    struct blob g = load("text.txt.9.gz");
    CHECK(g.p);
    u8 *y = malloc(g.n + 4);
    memcpy(y, g.p, g.n);
    memcpy(y + g.n, "\x01\x02\x03\x04", 4);
    CHECK(run(y, g.n + 4, out, o.n, &olen) != DECOMP_OK);

    struct blob l = load("text.txt.9.lz4");
    CHECK(l.p);
    u8 *z = malloc(l.n + 4);
    memcpy(z, l.p, l.n);
    memcpy(z + l.n, "\x00\x10\x00\x00", 4);
    CHECK(run(z, l.n + 4, out, o.n, &olen) != DECOMP_OK);
    CHECK(run(z, l.n + 2, out, o.n, &olen) == DECOMP_ETRUNC);
    free(x); free(y); free(z); free(out);
    free(c.p); free(o.p); free(g.p); free(l.p);
}

/* LZ4 legacy frames record no size: a bound the caller picks is enforced. */
UNIT_TEST(lz4_bound_is_enforced)
{
    struct blob c = load("big.bin.9.lz4"), o = load("big.bin");
    CHECK(c.p && o.p);
    size_t cap = 3 << 20;
    u8 *out = malloc(cap);
    size_t olen;
    log_clear();
    CHECK_EQ(run(c.p, c.n, out, cap, &olen), DECOMP_E2BIG);
    CHECK_STR(logbuf, "does not fit in 3145728");
    CHECK(olen <= cap);
    CHECK(memcmp(out, o.p, olen) == 0);
    free(out);
    free(c.p);
    free(o.p);
}

/* Informational: speed under ASan is a fraction of the native figure. */
UNIT_TEST(throughput_report)
{
    static const char *const names[] = { "big.bin.kernel.xz", "big.bin.9.gz", "big.bin.9.lz4" };
    struct blob o = load("big.bin");
    CHECK(o.p);
    u8 *out = malloc(o.n);
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        struct blob c = load(names[i]);
        CHECK(c.p);
        struct timespec a, b;
        size_t olen;
        clock_gettime(CLOCK_MONOTONIC, &a);
        CHECK_EQ(run(c.p, c.n, out, o.n, &olen), DECOMP_OK);
        clock_gettime(CLOCK_MONOTONIC, &b);
        CHECK(olen == o.n && memcmp(out, o.p, o.n) == 0);
        double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
        fprintf(stderr, "  %s: %zu -> %zu bytes in %.3f s (%.1f MiB/s out, sanitized build)\n",
                names[i], c.n, o.n, s, (double)o.n / (1 << 20) / s);
        free(c.p);
    }
    free(out);
    free(o.p);
}

UNIT_MAIN()
