/*
 * Debian's own kernels, end to end: bzImage -> payload -> decompress ->
 * ELF64 x86-64 vmlinux carrying the Xen notes.  The .debs are fetched with
 * apt-get once and cached under build/kernels; without them each case is
 * reported as SKIP, never as PASS.
 * unit-sources: hypervisor/common/bzimage.c hypervisor/common/decompress/decompress.c hypervisor/common/decompress/inflate.c hypervisor/common/decompress/xz.c hypervisor/common/decompress/lzma2.c hypervisor/common/decompress/bcj_x86.c hypervisor/common/decompress/sha256.c hypervisor/common/decompress/lz4.c tests/unit/log_capture.c
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <libgen.h>
#include <unistd.h>
#include <mica/lib.h>
#include <mica/bzimage.h>
#include <mica/decompress.h>

static unsigned failures;

#define FAIL(name, ...) do {                                  \
        printf("FAIL: decompress_kernel/%s: ", name);         \
        printf(__VA_ARGS__);                                  \
        printf("\n");                                         \
        failures++;                                           \
        goto out;                                             \
    } while (0)

static u16 le16(const u8 *p) { return (u16)(p[0] | p[1] << 8); }
static u32 le32(const u8 *p) { return (u32)le16(p) | (u32)le16(p + 2) << 16; }
static u64 le64(const u8 *p) { return (u64)le32(p) | (u64)le32(p + 4) << 32; }

/* Counts "Xen" notes in the PT_NOTE segments; finds ENTRY (1) and GUEST_OS (6). */
static int xen_notes(const u8 *e, size_t n, bool *entry, bool *linux_os)
{
    int count = 0;
    u64 phoff = le64(e + 32);
    u16 phentsize = le16(e + 54), phnum = le16(e + 56);
    if (phentsize < 56 || phoff > n || (u64)phnum * phentsize > n - phoff)
        return -1;
    for (unsigned i = 0; i < phnum; i++) {
        const u8 *ph = e + phoff + (u64)i * phentsize;
        if (le32(ph) != 4)   /* PT_NOTE */
            continue;
        u64 off = le64(ph + 8), sz = le64(ph + 32);
        if (off > n || sz > n - off)
            return -1;
        u64 p = off, end = off + sz;
        while (end - p >= 12) {
            u32 namesz = le32(e + p), descsz = le32(e + p + 4), type = le32(e + p + 8);
            u64 name = p + 12, desc = name + ((namesz + 3ull) & ~3ull);
            u64 next = desc + ((descsz + 3ull) & ~3ull);
            if (next > end)
                return -1;
            if (namesz == 4 && memcmp(e + name, "Xen", 4) == 0) {
                count++;
                if (type == 1)
                    *entry = true;
                if (type == 6 && descsz >= 5 && memcmp(e + desc, "linux", 5) == 0)
                    *linux_os = true;
            }
            p = next;
        }
    }
    return count;
}

static u8 *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    u8 *p = malloc((size_t)n);
    if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
        free(p);
        p = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return p;
}

static void check_kernel(const char *flavour, const char *path, const char *want_fmt)
{
    char name[64];
    snprintf(name, sizeof(name), "%s", flavour);
    size_t len = 0;
    u8 *img = read_file(path, &len), *out = NULL;
    void *work = malloc(DECOMPRESS_WORK_SIZE);
    struct bzimage_info bi;

    if (!img)
        FAIL(name, "cannot read %s", path);
    if (!bzimage_detect(img, len))
        FAIL(name, "%s is not a bzImage", path);
    if (bzimage_parse(img, len, &bi) != BZIMAGE_OK)
        FAIL(name, "bzimage_parse refused %s", path);
    const u8 *pl;
    size_t pl_len;
    if (bzimage_payload(img, len, &pl, &pl_len) || pl != bi.stream || pl_len != bi.stream_len)
        FAIL(name, "bzimage_payload disagrees with bzimage_parse");
    enum decomp_format fmt = decompress_detect(pl, pl_len);
    fprintf(stderr, "  %s: boot protocol %#x, setup_sects %u, payload at %#zx, %zu bytes, %s, "
            "size trailer %u\n", flavour, bi.version, bi.setup_sects, bi.payload_offset,
            bi.payload_length, decompress_format_name(fmt), bi.size_trailer);
    if (strcmp(decompress_format_name(fmt), want_fmt) != 0)
        FAIL(name, "payload is %s, expected %s", decompress_format_name(fmt), want_fmt);
    if (!bi.has_size_trailer)
        FAIL(name, "no size trailer found after the %s payload", want_fmt);

    u64 claimed = 0;
    int rc = decompress_size(pl, pl_len, &claimed);
    if (fmt == DECOMP_FMT_LZ4_LEGACY ? rc != DECOMP_ENOSIZE
                                     : (rc != DECOMP_OK || claimed != bi.size_trailer))
        FAIL(name, "decompress_size gave %d / %llu, trailer says %u", rc,
             (unsigned long long)claimed, bi.size_trailer);

    size_t cap = bi.size_trailer, olen = 0;
    out = malloc(cap);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    rc = decompress(pl, pl_len, out, cap, &olen, work, DECOMPRESS_WORK_SIZE);
    clock_gettime(CLOCK_MONOTONIC, &b);
    if (rc)
        FAIL(name, "decompress: %s", decompress_strerror(rc));
    double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    fprintf(stderr, "  %s: %zu -> %zu bytes in %.2f s (sanitized build)\n", flavour, pl_len, olen, s);
    if (olen != bi.size_trailer)
        FAIL(name, "decoded %zu bytes, the trailer says %u", olen, bi.size_trailer);
    if (olen < 64 || memcmp(out, "\177ELF", 4) || out[4] != 2 || out[5] != 1 || le16(out + 18) != 62)
        FAIL(name, "output is not an ELF64 little-endian x86-64 image");
    bool entry = false, linux_os = false;
    int notes = xen_notes(out, olen, &entry, &linux_os);
    if (notes < 10 || !entry || !linux_os)
        FAIL(name, "Xen notes: %d found, ENTRY %s, GUEST_OS linux %s", notes,
             entry ? "yes" : "no", linux_os ? "yes" : "no");
    fprintf(stderr, "  %s: ELF64 x86-64 with %d Xen notes\n", flavour, notes);

    /* The appended size must not be mistaken for part of the stream. */
    rc = decompress(pl, pl_len + 4, out, cap, &olen, work, DECOMPRESS_WORK_SIZE);
    if (rc == DECOMP_OK)
        FAIL(name, "the stream with the size trailer still attached was accepted");
    printf("PASS: decompress_kernel/%s (%s)\n", name, want_fmt);
out:
    free(out);
    free(img);
    free(work);
}

int main(void)
{
    char exe[4096], cmd[12288];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0) {
        printf("FAIL: decompress_kernel/setup: cannot find my own path\n");
        return 1;
    }
    exe[n] = 0;
    /* build/tests/unit/<me> -> the source tree three levels up. */
    char *dir = dirname(exe);
    snprintf(cmd, sizeof(cmd), "cd '%s/../../..' && tests/unit/fixtures/decompress-kernels.sh build/kernels",
             dir);
    FILE *p = popen(cmd, "r");
    bool seen_generic = false, seen_cloud = false;
    char line[8192];
    while (p && fgets(line, sizeof(line), p)) {
        char flavour[64], path[8000];
        if (sscanf(line, "%63s %7999s", flavour, path) != 2)
            continue;
        if (strcmp(flavour, "amd64") == 0) {
            seen_generic = true;
            check_kernel("amd64", path, "xz");
        } else if (strcmp(flavour, "cloud-amd64") == 0) {
            seen_cloud = true;
            check_kernel("cloud-amd64", path, "LZ4 legacy frame");
        }
    }
    if (p)
        pclose(p);
    if (!seen_generic)
        printf("SKIP: decompress_kernel/amd64 linux-image-amd64's kernel could not be fetched\n");
    if (!seen_cloud)
        printf("SKIP: decompress_kernel/cloud-amd64 linux-image-cloud-amd64's kernel could not be fetched\n");
    return failures ? 1 : 0;
}
