/*
 * libdomcfg unit test: what the loader puts in struct domain_config
 * (unit conversions, defaults, devices), the helpers for units and UUIDs,
 * and the document edits vmctl define relies on.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domcfg.h"
#include "units.h"

static int failures;

static void result(int ok, const char *name, const char *fmt, ...)
{
    if (ok) {
        printf("PASS: %s\n", name);
        return;
    }
    failures++;
    printf("FAIL: %s ", name);
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
}

static enum domcfg_status load(const char *xml, struct domain_config *cfg,
                               struct domcfg_diags *diags)
{
    domcfg_diags_init(diags, "test.xml");
    return domcfg_load_memory(xml, strlen(xml), "test.xml", 0, cfg, diags, NULL);
}

#define DOC(body) "<domain type='xen'><name>t</name>" body "</domain>"
#define OS "<os><type>linux</type><kernel>/k</kernel></os>"

static void test_units(void)
{
    static const struct { const char *value, *unit; unsigned long long kib; } cases[] = {
        { "16", "MiB", 16384 },  { "16", "M", 16384 },        { "2", "GiB", 2097152 },
        { "1", "TiB", 1ull << 30 }, { "1024", "k", 1024 },    { "1024", NULL, 1024 },
        { "1000", "KB", 977 },   { "1", "MB", 977 },           { "1", "GB", 976563 },
        { "1025", "b", 2 },      { "1", "bytes", 1 },          { "1", "PiB", 1ull << 40 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char xml[512], name[64];
        snprintf(xml, sizeof(xml),
                 "<domain type='xen'><name>t</name><memory%s%s%s>%s</memory>" OS "</domain>",
                 cases[i].unit ? " unit='" : "", cases[i].unit ? cases[i].unit : "",
                 cases[i].unit ? "'" : "", cases[i].value);
        snprintf(name, sizeof(name), "memory %s %s in KiB", cases[i].value,
                 cases[i].unit ? cases[i].unit : "(default unit)");
        struct domain_config cfg;
        struct domcfg_diags diags;
        enum domcfg_status st = load(xml, &cfg, &diags);
        /* Sizes under 1 MiB are rejected as memory, so check the parse
           through currentMemory semantics only where valid. */
        if (cases[i].kib < 1024) {
            result(st == DOMCFG_INVALID && diags.count == 1 &&
                   strstr(diags.items[0].message, "at least 1 MiB"), name,
                   "status %d, %zu diags", st, diags.count);
        } else {
            result(st == DOMCFG_OK && cfg.memory_kib == cases[i].kib, name,
                   "status %d, got %llu KiB", st, (unsigned long long)cfg.memory_kib);
        }
        domcfg_free(&cfg);
        domcfg_diags_free(&diags);
    }
    uint64_t kib;
    result(domcfg_size_to_kib(UINT64_MAX, 1024ull * 1024, &kib) == DOMCFG_SIZE_TOO_LARGE,
           "size overflow detected", "no overflow reported");
    uint64_t v;
    result(domcfg_parse_u64("18446744073709551616", &v) == DOMCFG_SIZE_TOO_LARGE,
           "u64 overflow detected", "accepted 2^64");
    result(domcfg_parse_u64(" 007 ", &v) == DOMCFG_SIZE_OK && v == 7, "u64 whitespace, zeros",
           "rejected ' 007 '");
    result(domcfg_parse_u64("+7", &v) == DOMCFG_SIZE_NOT_A_NUMBER, "u64 rejects sign",
           "accepted '+7' (libxml2 does not)");
}

static void test_defaults(void)
{
    struct domain_config cfg;
    struct domcfg_diags diags;
    enum domcfg_status st = load(DOC("<memory unit='MiB'>64</memory>" OS), &cfg, &diags);
    result(st == DOMCFG_OK, "minimal document loads", "status %d", st);
    result(cfg.current_memory_kib == 65536, "currentMemory defaults to memory", "%llu",
           (unsigned long long)cfg.current_memory_kib);
    result(cfg.vcpus_max == 1 && cfg.vcpus_current == 1, "vcpu defaults to 1", "%u/%u",
           cfg.vcpus_current, cfg.vcpus_max);
    result(cfg.on_poweroff == DOMCFG_ACTION_DESTROY && cfg.on_reboot == DOMCFG_ACTION_RESTART &&
           cfg.on_crash == DOMCFG_ACTION_DESTROY, "lifecycle defaults", "%d %d %d",
           cfg.on_poweroff, cfg.on_reboot, cfg.on_crash);
    result(!cfg.has_uuid && !cfg.has_console && cfg.n_disks == 0, "nothing invented",
           "uuid %d console %d disks %zu", cfg.has_uuid, cfg.has_console, cfg.n_disks);
    domcfg_free(&cfg);
    domcfg_diags_free(&diags);
}

static void test_full_example(void)
{
    struct domain_config cfg;
    struct domcfg_diags diags;
    domcfg_diags_init(&diags, "debian-cloud.xml");
    enum domcfg_status st = domcfg_load_file(TOP_DIR "/xml-schemas/examples/debian-cloud.xml",
                                             0, &cfg, &diags, NULL);
    result(st == DOMCFG_OK, "debian-cloud example loads", "status %d", st);
    if (st != DOMCFG_OK) {
        domcfg_diags_print(&diags, stdout, 0);
        domcfg_diags_free(&diags);
        return;
    }
    char uuid[37];
    domcfg_format_uuid(cfg.uuid, uuid);
    result(strcmp(cfg.name, "debian-cloud") == 0 &&
           strcmp(uuid, "6b0f3a52-1f2e-4c7d-9a41-3c5e8d2b7f10") == 0, "name and uuid",
           "%s %s", cfg.name, uuid);
    result(cfg.max_memory_kib == 2097152 && cfg.memory_kib == 1048576 &&
           cfg.current_memory_kib == 786432, "memory sizes", "%llu %llu %llu",
           (unsigned long long)cfg.max_memory_kib, (unsigned long long)cfg.memory_kib,
           (unsigned long long)cfg.current_memory_kib);
    result(cfg.vcpus_max == 4 && cfg.vcpus_current == 2, "vcpus", "%u/%u", cfg.vcpus_current,
           cfg.vcpus_max);
    result(cfg.cmdline && strcmp(cfg.cmdline, "root=/dev/xvda1 ro console=hvc0") == 0,
           "cmdline", "%s", cfg.cmdline ? cfg.cmdline : "(null)");
    result(cfg.n_disks == 2 && cfg.disks[0].type == DOMCFG_DISK_FILE &&
           strcmp(cfg.disks[0].target, "xvda") == 0 && cfg.disks[1].type == DOMCFG_DISK_BLOCK &&
           cfg.disks[1].driver == DOMCFG_DRIVER_PHY &&
           strcmp(cfg.disks[1].source, "/dev/vg0/debian-scratch") == 0, "disks",
           "%zu disks", cfg.n_disks);
    static const uint8_t mac[6] = { 0x00, 0x16, 0x3e, 0x12, 0x34, 0x56 };
    result(cfg.n_nics == 1 && cfg.nics[0].has_mac && memcmp(cfg.nics[0].mac, mac, 6) == 0 &&
           strcmp(cfg.nics[0].bridge, "br0") == 0, "interface", "%zu nics", cfg.n_nics);
    result(cfg.sched_weight == 512 && cfg.sched_cap == 200 && cfg.max_grant_frames == 64 &&
           cfg.max_event_channels == 1023, "mica settings", "%u %u %u %u", cfg.sched_weight,
           cfg.sched_cap, cfg.max_grant_frames, cfg.max_event_channels);
    result(cfg.on_crash == DOMCFG_ACTION_PRESERVE && cfg.has_console, "crash action",
           "%d", cfg.on_crash);
    domcfg_free(&cfg);
    domcfg_diags_free(&diags);
}

static void test_uuid_helpers(void)
{
    uint8_t u[16];
    char text[37];
    result(domcfg_parse_uuid("0123456789ABCDEF0123456789abcdef", u), "uuid without dashes",
           "rejected");
    domcfg_format_uuid(u, text);
    result(strcmp(text, "01234567-89ab-cdef-0123-456789abcdef") == 0, "uuid formatting", "%s",
           text);
    result(!domcfg_parse_uuid("01234567-89ab-cdef-0123-456789abcdeg", u), "uuid bad digit",
           "accepted");
    result(!domcfg_parse_uuid("0123456789ab-cdef-0123-456789abcdef0", u), "uuid misplaced dash",
           "accepted");
}

static void test_set_uuid(void)
{
    struct domain_config cfg;
    struct domcfg_diags diags;
    struct domcfg_document *doc = NULL;
    const char *xml = "<domain type='xen'>\n  <name>t</name>\n  <memory unit='MiB'>64</memory>\n"
                      "  " OS "\n</domain>\n";
    domcfg_diags_init(&diags, "test.xml");
    enum domcfg_status st = domcfg_load_memory(xml, strlen(xml), "test.xml", 0, &cfg, &diags, &doc);
    result(st == DOMCFG_OK && doc, "document kept", "status %d", st);
    if (!doc)
        return;
    uint8_t u[16];
    domcfg_parse_uuid("11111111-2222-4333-8444-555555555555", u);
    result(domcfg_document_set_uuid(doc, u) == 0, "uuid inserted", "failed");
    size_t len;
    char *out = domcfg_document_to_xml(doc, &len);
    result(out && strstr(out, "<name>t</name>\n  <uuid>11111111-2222-4333-8444-555555555555</uuid>"),
           "uuid after name, same indent", "%s", out ? out : "(null)");
    struct domain_config again;
    struct domcfg_diags diags2;
    domcfg_diags_init(&diags2, "again.xml");
    st = out ? domcfg_load_memory(out, len, "again.xml", 0, &again, &diags2, NULL) : DOMCFG_INVALID;
    result(st == DOMCFG_OK && again.has_uuid && memcmp(again.uuid, u, 16) == 0,
           "serialized document reloads with the uuid", "status %d", st);
    if (st == DOMCFG_OK)
        domcfg_free(&again);
    domcfg_diags_free(&diags2);
    free(out);
    domcfg_document_free(doc);
    domcfg_free(&cfg);
    domcfg_diags_free(&diags);
}

static void test_diagnostics(void)
{
    struct domain_config cfg;
    struct domcfg_diags diags;
    enum domcfg_status st = load("<domain type='xen'>\n<name>t</name>\n<memory unit='XB'>1</memory>\n"
                                 "<vcpu>0</vcpu>\n" OS "\n</domain>", &cfg, &diags);
    result(st == DOMCFG_INVALID && diags.count == 2, "every problem reported",
           "status %d, %zu diags", st, diags.count);
    result(diags.count == 2 && diags.items[0].line == 3 && diags.items[1].line == 4,
           "problems sorted by line", "lines %d %d", diags.count ? diags.items[0].line : -1,
           diags.count > 1 ? diags.items[1].line : -1);
    char *text = NULL;
    size_t size = 0;
    FILE *mem = open_memstream(&text, &size);
    domcfg_diags_print(&diags, mem, 0);
    fclose(mem);
    result(text && strncmp(text, "test.xml:3: <memory> has unit 'XB'", 34) == 0,
           "printed as file:line: sentence", "%s", text ? text : "(null)");
    free(text);
    domcfg_diags_free(&diags);

    st = load("", &cfg, &diags);
    result(st == DOMCFG_INVALID && diags.count == 1 && strstr(diags.items[0].message, "empty"),
           "empty input", "status %d", st);
    domcfg_diags_free(&diags);
}

/* cpusets: parsing (libvirt/xl syntax), xl's printing, the per-vCPU lookup. */
static void test_cpusets(void)
{
    struct domcfg_cpuset set;
    char err[256], text[64];
    bool all;

    int rc = domcfg_cpuset_parse("0-3,^2,6", false, &set, NULL, err, sizeof(err));
    domcfg_cpuset_format(&set, 8, text, sizeof(text));
    result(rc == 0 && strcmp(text, "0-1,3,6") == 0, "cpuset 0-3,^2,6", "rc %d, '%s'", rc, text);
    domcfg_cpuset_format(&set, 2, text, sizeof(text));
    result(strcmp(text, "all") == 0, "cpuset printed over 2 CPUs is all", "'%s'", text);
    rc = domcfg_cpuset_parse("all", true, &set, &all, err, sizeof(err));
    result(rc == 0 && all && domcfg_cpuset_last(&set) == DOMCFG_CPUS_MAX - 1, "cpuset all",
           "rc %d", rc);
    rc = domcfg_cpuset_parse("all", false, &set, NULL, err, sizeof(err));
    result(rc == -1, "cpuset all refused where not allowed", "rc %d", rc);
    rc = domcfg_cpuset_parse("1,^1", true, &set, NULL, err, sizeof(err));
    result(rc == -1 && strstr(err, "selects no CPU"), "empty cpuset refused", "rc %d '%s'", rc, err);
    rc = domcfg_cpuset_parse("", true, &set, NULL, err, sizeof(err));
    result(rc == -1 && strstr(err, "empty"), "blank cpuset refused", "rc %d '%s'", rc, err);
    rc = domcfg_cpuset_parse("99999999999999999999", false, &set, NULL, err, sizeof(err));
    result(rc == -1 && strstr(err, "up to 4095"), "huge CPU number refused", "rc %d '%s'", rc, err);
    memset(&set, 0, sizeof(set));
    domcfg_cpuset_format(&set, 4, text, sizeof(text));
    result(strcmp(text, "none") == 0, "empty set prints none", "'%s'", text);
    uint8_t bytes[2];
    domcfg_cpuset_parse("1,9", false, &set, NULL, err, sizeof(err));
    domcfg_cpuset_to_bytes(&set, bytes, 2);
    result(bytes[0] == 2 && bytes[1] == 2, "cpuset to Xen bitmap", "%02x %02x", bytes[0], bytes[1]);

    struct domain_config cfg;
    struct domcfg_diags diags;
    enum domcfg_status st = load(DOC("<memory>1024</memory><vcpu cpuset='0-1'>3</vcpu>"
                                     "<cputune><vcpupin vcpu='2' cpuset='3'/></cputune>" OS),
                                 &cfg, &diags);
    const struct domcfg_cpuset *a0 = st == DOMCFG_OK ? domcfg_vcpu_affinity(&cfg, 0, NULL) : NULL;
    const struct domcfg_cpuset *a2 = st == DOMCFG_OK ? domcfg_vcpu_affinity(&cfg, 2, NULL) : NULL;
    result(a0 && a2 && domcfg_cpuset_test(a0, 1) && !domcfg_cpuset_test(a0, 3) &&
           domcfg_cpuset_test(a2, 3) && !domcfg_cpuset_test(a2, 0),
           "vcpupin overrides vcpu cpuset", "status %d", st);
    if (st == DOMCFG_OK)
        domcfg_free(&cfg);
    domcfg_diags_free(&diags);
    st = load(DOC("<memory>1024</memory><vcpu>2</vcpu>" OS), &cfg, &diags);
    result(st == DOMCFG_OK && !domcfg_vcpu_affinity(&cfg, 1, NULL), "no pin means anywhere",
           "status %d", st);
    if (st == DOMCFG_OK)
        domcfg_free(&cfg);
    domcfg_diags_free(&diags);
}

int main(void)
{
    test_cpusets();
    test_units();
    test_defaults();
    test_full_example();
    test_uuid_helpers();
    test_set_uuid();
    test_diagnostics();
    return failures ? 1 : 0;
}
