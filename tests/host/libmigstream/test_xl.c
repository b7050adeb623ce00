/*
 * ms_json and ms_xl: the strict JSON reader accepts what RFC 8259 allows
 * and refuses the rest with the offset; xl's header is found, checked
 * (truncated, optional data past the end, wrong byte order, unknown
 * flags, no JSON) and its configuration turned into name, UUID, memory,
 * vCPUs, actions, disks and vifs (the JSON Xen 4.17's xl save wrote, as
 * in docs/state-files.md); a configuration without a name or memory, or
 * with members of the wrong type, is refused naming the member.
 */
#define UNIT_SUITE "libmigstream-xl"
#include "unit.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "ms_json.h"
#include "ms_reader.h"
#include "ms_writer.h"
#include "ms_xl.h"

static char err[400];

static int parse(const char *text)
{
    struct ms_json *v;
    int rc = ms_json_parse(text, strlen(text), 100, &v, err, sizeof(err));
    if (!rc)
        ms_json_free(v);
    return rc;
}

UNIT_TEST(json_accepts_valid_documents)
{
    struct ms_json *v;
    const char *t = " {\"a\": [1, -2.5e+3, 0, true, false, null, \"x\\u00e9\\ud83d\\ude00\\n\"],"
                    " \"b\": {}, \"c\": [], \"d\": \"caf\xc3\xa9\"}\n";
    CHECK_EQ(ms_json_parse(t, strlen(t) + 1, 0, &v, err, sizeof(err)), 0);   /* with its NUL */
    CHECK_EQ(v->type, MS_JSON_OBJECT);
    CHECK_EQ(v->n, 4);
    const struct ms_json *a = ms_json_get(v, "a");
    CHECK(a && a->type == MS_JSON_ARRAY && a->n == 7);
    uint64_t x;
    CHECK_EQ(ms_json_uint(&a->items[0], 10, &x), 0);
    CHECK_EQ(x, 1);
    CHECK(ms_json_uint(&a->items[1], 1000000, &x) < 0);      /* negative, fraction */
    CHECK_EQ(a->items[3].type, MS_JSON_TRUE);
    CHECK_EQ(a->items[5].type, MS_JSON_NULL);
    CHECK(strcmp(a->items[6].str, "x\xc3\xa9\xf0\x9f\x98\x80\n") == 0);
    CHECK(strcmp(ms_json_get(v, "d")->str, "caf\xc3\xa9") == 0);
    CHECK_EQ(ms_json_get(v, "b")->n, 0);
    CHECK(ms_json_get(v, "zz") == NULL);
    CHECK_EQ(a->offset, 7);
    ms_json_free(v);
    CHECK_EQ(parse("0"), 0);
    CHECK_EQ(parse("\"\""), 0);
    CHECK_EQ(parse("[[[]]]"), 0);
}

UNIT_TEST(json_uint_limits)
{
    struct ms_json *v;
    const char *t = "[18446744073709551615, 18446744073709551616, 7, 1e3]";
    CHECK_EQ(ms_json_parse(t, strlen(t), 0, &v, err, sizeof(err)), 0);
    uint64_t x;
    CHECK_EQ(ms_json_uint(&v->items[0], UINT64_MAX, &x), 0);
    CHECK_EQ(x, UINT64_MAX);
    CHECK(ms_json_uint(&v->items[1], UINT64_MAX, &x) < 0);
    CHECK(ms_json_uint(&v->items[2], 6, &x) < 0);
    CHECK_EQ(ms_json_uint(&v->items[2], 7, &x), 0);
    CHECK(ms_json_uint(&v->items[3], 10000, &x) < 0);
    ms_json_free(v);
}

/* Each bad text is refused with the offset (base 100 + position). */
UNIT_TEST(json_refuses_what_is_not_json)
{
    static const struct { const char *text, *what; unsigned at; } bad[] = {
        { "", "ends where a value", 100 },
        { "{\"a\": 1,}", "trailing comma", 108 },
        { "[1, 2,]", "where a value", 106 },
        { "{\"a\" 1}", "':'", 105 },
        { "{'a': 1}", "member name", 101 },
        { "[01]", "leading zero", 101 },
        { "[1.]", "fraction", 103 },
        { "[-]", "digit after its sign", 101 },
        { "[1e]", "exponent", 103 },
        { "\"abc", "never closed", 100 },
        { "\"a\tb\"", "control character", 102 },
        { "\"\\x\"", "unknown escape", 101 },
        { "\"\\u12g4\"", "four hex digits", 105 },
        { "\"\\ud800\"", "high surrogate", 101 },
        { "\"\\udc00\"", "low surrogate", 101 },
        { "\"\\u0000\"", "\\u0000", 101 },
        { "\"\xc3(\"", "does not continue", 102 },
        { "\"\xc0\xaf\"", "cannot start", 101 },
        { "\"\xed\xa0\x80\"", "surrogate", 101 },
        { "{\"a\": 1, \"a\": 2}", "appears twice", 109 },
        { "[1] [2]", "after the JSON value", 104 },
        { "tru", "where a value", 100 },
        { "[1 2]", "',' or ']'", 103 },
        { "/* c */ 1", "where a value", 100 },
        { "[1]\0x", "after the JSON value", 103 },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct ms_json *v = NULL;
        size_t len = strlen(bad[i].text);
        if (i == sizeof(bad) / sizeof(bad[0]) - 1)
            len = 5;
        err[0] = 0;
        int rc = ms_json_parse(bad[i].text, len, 100, &v, err, sizeof(err));
        if (rc == 0 || !strstr(err, bad[i].what)) {
            fprintf(stderr, "  text %zu: rc %d, message: %s\n", i, rc, err);
            CHECK(0);
        }
        char at[40];
        snprintf(at, sizeof(at), "offset %u ", bad[i].at);
        if (!strstr(err, at)) {
            fprintf(stderr, "  text %zu: wanted %s in: %s\n", i, at, err);
            CHECK(0);
        }
        CHECK(v == NULL);
    }
}

UNIT_TEST(json_depth_is_limited)
{
    char deep[200];
    memset(deep, '[', 40);
    memset(deep + 40, ']', 40);
    deep[80] = 0;
    CHECK(parse(deep) < 0);
    CHECK_STR(err, "deeper than");
    memset(deep, '[', 32);
    memset(deep + 32, ']', 32);
    deep[64] = 0;
    CHECK_EQ(parse(deep), 0);
}

/* What Xen 4.17's xl save wrote for the test's domU (docs/state-files.md). */
static const char xen417[] =
    "{\n    \"c_info\": {\n        \"type\": \"pv\",\n        \"name\": \"xs1\",\n"
    "        \"uuid\": \"2ac017f2-5f6f-4b88-bc03-9ff4bfa5aa5e\",\n"
    "        \"run_hotplug_scripts\": \"True\"\n    },\n    \"b_info\": {\n"
    "        \"max_vcpus\": 1,\n        \"avail_vcpus\": [\n            0\n        ],\n"
    "        \"max_memkb\": 131072,\n        \"target_memkb\": 131072,\n"
    "        \"video_memkb\": 0,\n        \"sched_params\": {\n"
    "            \"sched\": \"credit\",\n            \"weight\": 256,\n"
    "            \"cap\": 0\n        },\n        \"claim_mode\": \"True\",\n"
    "        \"kernel\": \"/usr/lib/mica/domu/vmlinuz-cloud\",\n"
    "        \"cmdline\": \"console=hvc0 loglevel=4 mica.domu=wait\",\n"
    "        \"ramdisk\": \"/usr/lib/mica/domu/initrd-tiny.gz\",\n"
    "        \"type.pv\": {\n\n        },\n        \"arch_arm\": {\n\n        },\n"
    "        \"arch_x86\": {\n            \"msr_relaxed\": \"False\"\n        }\n    },\n"
    "    \"on_reboot\": \"restart\",\n    \"on_soft_reset\": \"soft_reset\"\n}\n";

UNIT_TEST(config_from_xen_417)
{
    struct ms_xl_config c;
    CHECK_EQ(ms_xl_config_parse(xen417, sizeof(xen417), 52, &c, err, sizeof(err)), 0);
    CHECK(strcmp(c.name, "xs1") == 0);
    CHECK(c.has_uuid);
    CHECK_EQ(c.uuid[0], 0x2a);
    CHECK_EQ(c.uuid[15], 0x5e);
    CHECK_EQ(c.max_memkb, 131072);
    CHECK_EQ(c.target_memkb, 131072);
    CHECK_EQ(c.max_vcpus, 1);
    CHECK_EQ(c.avail_vcpus, 1);
    CHECK(strcmp(c.kernel, "/usr/lib/mica/domu/vmlinuz-cloud") == 0);
    CHECK(strcmp(c.ramdisk, "/usr/lib/mica/domu/initrd-tiny.gz") == 0);
    CHECK(strcmp(c.cmdline, "console=hvc0 loglevel=4 mica.domu=wait") == 0);
    CHECK(strcmp(c.on_poweroff, "destroy") == 0);
    CHECK(strcmp(c.on_reboot, "restart") == 0);
    CHECK(strcmp(c.on_crash, "destroy") == 0);
    CHECK(c.has_weight && c.weight == 256 && !c.has_cap);
    CHECK_EQ(c.n_disks, 0);
    CHECK_EQ(c.n_nics, 0);
    CHECK_EQ(c.not_taken[0], 0);
    ms_xl_config_free(&c);
}

UNIT_TEST(config_devices_and_older_layout)
{
    const char *t =
        "{\"c_info\": {\"name\": \"web\"}, \"b_info\": {\"max_vcpus\": 4, \"avail_vcpus\": [0, 2],"
        " \"max_memkb\": 524288, \"target_memkb\": 262144, \"sched_params\": {\"cap\": 50},"
        " \"type.pv\": {\"kernel\": \"/k\", \"cmdline\": \"ro\"}},"
        " \"disks\": [{\"pdev_path\": \"/dev/vg/web\", \"vdev\": \"xvda\", \"backend\": \"phy\","
        " \"format\": \"raw\", \"readwrite\": 1}, {\"pdev_path\": \"/srv/d.qcow2\","
        " \"vdev\": \"xvdb\", \"format\": \"QCOW2\"}],"
        " \"nics\": [{\"devid\": 0, \"mac\": \"00:16:3e:0a:0b:0c\", \"bridge\": \"br1\"}, {}],"
        " \"vfbs\": [{}], \"on_poweroff\": \"preserve\", \"on_crash\": \"coredump_restart\"}";
    struct ms_xl_config c;
    CHECK_EQ(ms_xl_config_parse(t, strlen(t), 0, &c, err, sizeof(err)), 0);
    CHECK(!c.has_uuid);
    CHECK_EQ(c.max_vcpus, 4);
    CHECK_EQ(c.avail_vcpus, 2);
    CHECK_EQ(c.target_memkb, 262144);
    CHECK(strcmp(c.kernel, "/k") == 0 && strcmp(c.cmdline, "ro") == 0 && !c.ramdisk);
    CHECK(!c.has_weight && c.has_cap && c.cap == 50);
    CHECK_EQ(c.n_disks, 2);
    CHECK(strcmp(c.disks[0].path, "/dev/vg/web") == 0 && c.disks[0].readwrite);
    CHECK(strcmp(c.disks[0].format, "raw") == 0);
    CHECK(strcmp(c.disks[1].format, "qcow2") == 0 && !c.disks[1].readwrite);
    CHECK_EQ(c.n_nics, 2);
    CHECK(c.nics[0].has_mac && c.nics[0].mac[5] == 0x0c && strcmp(c.nics[0].bridge, "br1") == 0);
    CHECK(!c.nics[1].has_mac && !c.nics[1].bridge);
    CHECK(strcmp(c.on_poweroff, "preserve") == 0);
    CHECK(strcmp(c.on_crash, "coredump_restart") == 0);
    CHECK_STR(c.not_taken, "1 vfbs");
    ms_xl_config_free(&c);
}

UNIT_TEST(config_refusals_name_the_member)
{
    static const struct { const char *text, *what; } bad[] = {
        { "{\"b_info\": {\"max_memkb\": 1024}}", "no c_info.name" },
        { "{\"c_info\": {\"name\": \"\"}, \"b_info\": {\"max_memkb\": 1024}}", "c_info.name" },
        { "{\"c_info\": {\"name\": 5}, \"b_info\": {\"max_memkb\": 1024}}",
          "c_info.name at offset 20 is a number; it must be a string" },
        { "{\"c_info\": {\"name\": \"a\"}}", "no b_info.max_memkb" },
        { "{\"c_info\": {\"name\": \"a\"}, \"b_info\": {\"max_memkb\": -1}}",
          "b_info.max_memkb at offset 50 is -1" },
        { "{\"c_info\": {\"name\": \"a\", \"uuid\": \"xyz\"}, \"b_info\": {\"max_memkb\": 1}}",
          "not a UUID" },
        { "{\"c_info\": {\"name\": \"a\", \"type\": \"hvm\"}, \"b_info\": {\"max_memkb\": 1}}",
          "restores PV domains" },
        { "{\"c_info\": {\"name\": \"a\"}, \"b_info\": {\"max_memkb\": 1}, \"on_reboot\": \"x\"}",
          "on_reboot at offset" },
        { "{\"c_info\": {\"name\": \"a\"}, \"b_info\": {\"max_memkb\": 1}, \"disks\": [{}]}",
          "disks[0] at offset 64 has no vdev" },
        { "{\"c_info\": {\"name\": \"a\"}, \"b_info\": {\"max_memkb\": 1},"
          " \"nics\": [{\"mac\": \"00:16\"}]}", "not a MAC" },
        { "{\"c_info\": {\"name\": \"a\"}, \"b_info\": {\"max_memkb\": 1},"
          " \"disks\": [{\"vdev\": \"xvda\", \"pdev_path\": \"/x\", \"backend_domid\": 3}]}",
          "driver domain" },
        { "{\"c_info\": {\"name\": \"a\"}, \"b_info\": {\"max_memkb\": 1, \"max_vcpus\": 2,"
          " \"avail_vcpus\": [5]}}", "avail_vcpus[0]" },
        { "[1]", "is an array" },
        { "{\"c_info\": {\"name\": \"a\",}}", "not valid JSON: JSON at offset 24" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct ms_xl_config c;
        err[0] = 0;
        int rc = ms_xl_config_parse(bad[i].text, strlen(bad[i].text), 0, &c, err, sizeof(err));
        if (rc == 0 || !strstr(err, bad[i].what)) {
            fprintf(stderr, "  config %zu: rc %d, message: %s\n", i, rc, err);
            CHECK(0);
        }
        CHECK(c.name == NULL && c.disks == NULL);
    }
}

static int tmpfile_with(const void *data, size_t len)
{
    char path[] = "/tmp/test_xl.XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    unlink(path);
    if (write(fd, data, len) != (ssize_t)len) {
        close(fd);
        return -1;
    }
    return fd;
}

UNIT_TEST(header_round_trip_and_refusals)
{
    size_t len;
    unsigned char *h = ms_xl_header_build(xen417, &len);
    CHECK(h != NULL);
    CHECK_EQ(len, 48 + 4 + sizeof(xen417));
    unsigned char file[2048];
    memcpy(file, h, len);
    memcpy(file + len, "LibxlFmt", 8);
    free(h);
    struct ms_xl_file x;

    int fd = tmpfile_with(file, len + 8);
    CHECK(fd >= 0);
    CHECK_EQ(ms_xl_header_read(fd, len + 8, &x, err, sizeof(err)), 1);
    CHECK_EQ(x.stream_offset, len);
    CHECK_EQ(x.config_offset, 52);
    CHECK_EQ(x.config_len, sizeof(xen417));
    CHECK(strcmp(x.config, xen417) == 0);
    CHECK_EQ(x.mandatory_flags, 3);
    ms_xl_file_free(&x);
    close(fd);

    /* Not an xl file: 0, nothing said. */
    fd = tmpfile_with("LibxlFmt\0\0\0\2", 12);
    CHECK_EQ(ms_xl_header_read(fd, 12, &x, err, sizeof(err)), 0);
    close(fd);

    /* Truncated inside the header, then the optional data. */
    for (size_t cut = 1; cut < 48; cut += 7) {
        fd = tmpfile_with(file, cut);
        CHECK_EQ(ms_xl_header_read(fd, cut, &x, err, sizeof(err)), -1);
        CHECK_STR(err, "truncated");
        close(fd);
    }
    fd = tmpfile_with(file, 300);
    CHECK_EQ(ms_xl_header_read(fd, 300, &x, err, sizeof(err)), -1);
    CHECK_STR(err, "optional data length");
    CHECK_STR(err, "offset 44");
    close(fd);

    struct { size_t at; uint32_t value; const char *what; } pokes[] = {
        { 32, 0x04030201, "big-endian" },
        { 32, 7, "byte-order word at offset 32" },
        { 36, 7, "does not know" },
        { 36, 1, "legacy" },
        { 36, 2, "config-file syntax" },
        { 40, 1, "optional flags" },
        { 44, 2, "shorter than the configuration length" },
        { 48, 5000, "configuration length 5000 at offset 48 runs past" },
    };
    for (size_t i = 0; i < sizeof(pokes) / sizeof(pokes[0]); i++) {
        unsigned char copy[2048];
        memcpy(copy, file, len + 8);
        memcpy(copy + pokes[i].at, &pokes[i].value, 4);
        fd = tmpfile_with(copy, len + 8);
        err[0] = 0;
        int rc = ms_xl_header_read(fd, len + 8, &x, err, sizeof(err));
        close(fd);
        if (rc != -1 || !strstr(err, pokes[i].what)) {
            fprintf(stderr, "  poke %zu: rc %d, message: %s\n", i, rc, err);
            CHECK(0);
        }
    }
}

/* Every cut of xl's real configuration short of its closing brace is
   refused, and every octet changed to one of a few troublesome ones
   either still parses or is refused with an offset: under ASan/UBSan,
   never a crash or a read past the text. */
UNIT_TEST(json_cuts_and_changes)
{
    size_t len = strlen(xen417), close = (size_t)(strrchr(xen417, '}') - xen417);
    for (size_t cut = 0; cut <= len; cut++) {
        char *t = malloc(cut ? cut : 1);     /* exactly cut octets: ASan sees overreads */
        CHECK(t != NULL);
        memcpy(t, xen417, cut);
        struct ms_xl_config c;
        int rc = ms_xl_config_parse(t, cut, 0, &c, err, sizeof(err));
        free(t);
        if (cut <= close) {
            if (rc == 0) {
                fprintf(stderr, "  a cut at %zu parsed\n", cut);
                CHECK(0);
            }
            CHECK_STR(err, "offset");
        } else {
            CHECK_EQ(rc, 0);
            ms_xl_config_free(&c);
        }
    }
    static const char subs[] = { '"', '{', '}', '[', '\\', ',', ':', 0, (char)0xff, 'x', '1' };
    for (size_t at = 0; at < len; at++)
        for (size_t k = 0; k < sizeof(subs); k++) {
            char *t = malloc(len);
            CHECK(t != NULL);
            memcpy(t, xen417, len);
            t[at] = subs[k];
            struct ms_xl_config c;
            err[0] = 0;
            if (ms_xl_config_parse(t, len, 0, &c, err, sizeof(err)) == 0)
                ms_xl_config_free(&c);
            else if (!strstr(err, "xl's configuration")) {
                fprintf(stderr, "  octet %zu = %#x: %s\n", at, (unsigned char)subs[k], err);
                free(t);
                CHECK(0);
            }
            free(t);
        }
}

/* vmctl save --xl-format: xl's header, then a checksummed Mica stream
   whose spans start after it; the reader, opened at the header's end,
   checks every checksum, and a changed octet anywhere after the header
   is caught. */
UNIT_TEST(checksummed_stream_behind_xl_header)
{
    char path[] = "/tmp/test_xl_w.XXXXXX";
    int tfd = mkstemp(path);
    CHECK(tfd >= 0);
    close(tfd);
    size_t hlen;
    void *h = ms_xl_header_build(xen417, &hlen);
    CHECK(h != NULL);
    struct ms_writer w;
    CHECK_EQ(ms_writer_open_prefixed(&w, path, h, hlen, 4, 4, 4, 17), 0);
    free(h);
    struct ms_x86_pv_info pvi = { .guest_width = 8, .pt_levels = 4 };
    CHECK_EQ(ms_writer_record(&w, MS_REC_X86_PV_INFO, &pvi, sizeof(pvi)), 0);
    struct { struct ms_x86_pv_p2m_frames f; uint64_t pfn; } p2m = { { 0, 3 }, 0 };
    CHECK_EQ(ms_writer_record(&w, MS_REC_X86_PV_P2M_FRAMES, &p2m, sizeof(p2m)), 0);
    static uint8_t pages[4][4096];
    const void *data[4] = { pages[0], pages[1], pages[2], pages[3] };
    uint64_t pfns[4] = { 0, 1, 2, 3 };
    uint8_t types[4] = { 0, 0, 0, 0 };
    uint32_t stored;
    pages[1][7] = 1;
    CHECK_EQ(ms_writer_pages(&w, 4, pfns, types, data, &stored), 0);
    CHECK_EQ(stored, 1);
    CHECK_EQ(ms_writer_commit(&w), 0);
    ms_writer_abort(&w);

    int fd = open(path, O_RDWR);
    CHECK(fd >= 0);
    off_t size = lseek(fd, 0, SEEK_END);
    struct ms_xl_file x;
    CHECK_EQ(ms_xl_header_read(fd, (uint64_t)size, &x, err, sizeof(err)), 1);
    CHECK_EQ(x.stream_offset, hlen);
    ms_xl_file_free(&x);
    for (int pass = 0; pass < 2; pass++) {
        if (pass) {
            /* One octet of the second page's data. */
            unsigned char b;
            off_t at = (off_t)size - 200;
            CHECK_EQ(pread(fd, &b, 1, at), 1);
            b ^= 0x40;
            CHECK_EQ(pwrite(fd, &b, 1, at), 1);
        }
        struct ms_reader r;
        CHECK_EQ(lseek(fd, (off_t)hlen, SEEK_SET), (off_t)hlen);
        CHECK_EQ(ms_reader_open_at(&r, fd, path, MS_READ_REQUIRE_CHECKSUMS, hlen), 0);
        int rc = ms_reader_verify_all(&r);
        if (!pass) {
            if (rc)
                fprintf(stderr, "  %s\n", ms_reader_error(&r));
            CHECK_EQ(rc, 0);
            CHECK(r.checksummed);
        } else {
            CHECK(rc < 0);
            CHECK_STR(ms_reader_error(&r), "offset");
        }
        ms_reader_close(&r);
    }
    close(fd);
    unlink(path);
}

UNIT_MAIN()
