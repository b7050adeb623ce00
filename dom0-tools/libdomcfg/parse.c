#include "parse.h"

#include <stdlib.h>
#include <string.h>

#include "units.h"

struct walk {
    struct domcfg_diags *diags;
    struct domain_config *cfg;
    struct domcfg_where *where;
    int errors;
};

#define report(w, line, ...)                               \
    do {                                                   \
        domcfg_diag_add((w)->diags, (line), __VA_ARGS__);  \
        (w)->errors++;                                     \
    } while (0)

static int line_of(const xmlNode *node)
{
    long line = xmlGetLineNo((xmlNodePtr)node);
    return line > 0 && line < 0x7fffffff ? (int)line : 0;
}

static const char *name_of(const xmlNode *node)
{
    return (const char *)node->name;
}

static bool is_mica(const xmlNode *node)
{
    return node->ns && node->ns->href &&
           strcmp((const char *)node->ns->href, DOMCFG_MICA_NS) == 0;
}

static bool is_xml_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool all_space(const char *s)
{
    for (; *s; s++)
        if (!is_xml_space(*s))
            return false;
    return true;
}

/* Token values (enumerations) are whitespace-collapsed by RelaxNG. */
static char *trim(char *s)
{
    while (is_xml_space(*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && is_xml_space(s[n - 1]))
        s[--n] = '\0';
    return s;
}

static char *dup_or_oom(struct walk *w, const char *s)
{
    char *copy = strdup(s);
    if (!copy)
        report(w, 0, "out of memory");
    return copy;
}

/* Short, printable excerpt of user text for messages. */
static const char *excerpt(const char *s, char buf[48])
{
    while (is_xml_space(*s))
        s++;
    size_t i = 0;
    for (; s[i] && i < 40; i++)
        buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    buf[i] = '\0';
    if (s[i])
        strcpy(buf + 40, "...");
    return buf;
}

/* Reports attributes not in allowed (NULL-terminated). */
static void check_attributes(struct walk *w, const xmlNode *node, const char *const allowed[])
{
    for (const xmlAttr *a = node->properties; a; a = a->next) {
        bool known = false;
        if (!a->ns)
            for (size_t i = 0; allowed[i]; i++)
                if (strcmp((const char *)a->name, allowed[i]) == 0)
                    known = true;
        if (known)
            continue;
        char list[160] = "";
        for (size_t i = 0; allowed[i]; i++) {
            strncat(list, i ? ", " : "", sizeof(list) - strlen(list) - 1);
            strncat(list, allowed[i], sizeof(list) - strlen(list) - 1);
        }
        if (allowed[0])
            report(w, line_of(node), "<%s> has an unknown attribute '%s%s%s'; allowed here: %s",
                   name_of(node), a->ns && a->ns->prefix ? (const char *)a->ns->prefix : "",
                   a->ns && a->ns->prefix ? ":" : "", (const char *)a->name, list);
        else
            report(w, line_of(node), "<%s> takes no attributes, but has '%s'",
                   name_of(node), (const char *)a->name);
    }
}

/* The attribute's value, or NULL when absent.  Caller frees with xmlFree. */
static char *attribute(const xmlNode *node, const char *name)
{
    return (char *)xmlGetNoNsProp((xmlNodePtr)node, (const xmlChar *)name);
}

/* Reports element children and non-blank text of an element that must
   have neither. */
static void expect_empty(struct walk *w, const xmlNode *node)
{
    for (const xmlNode *c = node->children; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE) {
            report(w, line_of(c), "<%s> is not allowed inside <%s>, which must be empty",
                   name_of(c), name_of(node));
            return;
        }
        if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) &&
            c->content && !all_space((const char *)c->content)) {
            char buf[48];
            report(w, line_of(node), "<%s> must be empty, but contains the text '%s'",
                   name_of(node), excerpt((const char *)c->content, buf));
            return;
        }
    }
}

/* The text of an element that may hold only text; NULL (reported) when
   it has child elements.  Caller frees with xmlFree. */
static char *text_content(struct walk *w, const xmlNode *node)
{
    for (const xmlNode *c = node->children; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE) {
            report(w, line_of(c), "<%s> may hold only text, but contains an element <%s>",
                   name_of(node), name_of(c));
            return NULL;
        }
    }
    char *text = (char *)xmlNodeGetContent((xmlNodePtr)node);
    if (!text)
        text = (char *)xmlStrdup((const xmlChar *)"");
    if (!text)
        report(w, 0, "out of memory");
    return text;
}

/* Reports non-blank text directly inside an element of elements. */
static void check_stray_text(struct walk *w, const xmlNode *node)
{
    for (const xmlNode *c = node->children; c; c = c->next) {
        if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) &&
            c->content && !all_space((const char *)c->content)) {
            char buf[48];
            report(w, line_of(c), "stray text '%s' inside <%s>; only elements belong there",
                   excerpt((const char *)c->content, buf), name_of(node));
            return;
        }
    }
}

/* Tracks elements that may appear at most once. */
static bool first_time(struct walk *w, const xmlNode *node, int *seen_line)
{
    if (*seen_line) {
        report(w, line_of(node), "<%s> appears again (first on line %d); keep only one",
               name_of(node), *seen_line);
        return false;
    }
    *seen_line = line_of(node) ? line_of(node) : -1;
    return true;
}

struct choice { const char *name; int value; };

/* Looks a token up in a table; reports the allowed ones when absent. */
static bool pick(struct walk *w, const xmlNode *node, const char *what, char *raw,
                 const struct choice *choices, int *value)
{
    const char *token = trim(raw);
    for (size_t i = 0; choices[i].name; i++) {
        if (strcmp(token, choices[i].name) == 0) {
            *value = choices[i].value;
            return true;
        }
    }
    char list[200] = "";
    for (size_t i = 0; choices[i].name; i++) {
        strncat(list, i ? ", " : "", sizeof(list) - strlen(list) - 1);
        strncat(list, choices[i].name, sizeof(list) - strlen(list) - 1);
    }
    char buf[48];
    report(w, line_of(node), "%s is '%s'; use one of %s", what, excerpt(token, buf), list);
    return false;
}

/* An xsd:unsignedInt in [min, max]. */
static bool number_in_range(struct walk *w, const xmlNode *node, const char *what,
                            const char *text, uint64_t min, uint64_t max, unsigned *out)
{
    uint64_t v;
    char buf[48];
    enum domcfg_size_status st = domcfg_parse_u64(text, &v);
    if (st == DOMCFG_SIZE_NOT_A_NUMBER) {
        report(w, line_of(node), "%s should be a whole number, not '%s'", what, excerpt(text, buf));
        return false;
    }
    if (st != DOMCFG_SIZE_OK || v < min || v > max) {
        report(w, line_of(node), "%s is %s; it must be between %llu and %llu", what,
               excerpt(text, buf), (unsigned long long)min, (unsigned long long)max);
        return false;
    }
    *out = (unsigned)v;
    return true;
}

static void parse_name(struct walk *w, const xmlNode *node)
{
    static const char *const no_attrs[] = { NULL };
    check_attributes(w, node, no_attrs);
    char *text = text_content(w, node);
    if (!text)
        return;
    size_t len = strlen(text);
    bool charset_ok = len > 0;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || (c != '-' && c != '_' && c != '.')))
            charset_ok = false;
    }
    char buf[48];
    if (len == 0)
        report(w, line_of(node), "<name> is empty; give the domain a name such as 'web1'");
    else if (len > DOMCFG_NAME_MAX)
        report(w, line_of(node), "<name> is %zu characters long; the limit is %d", len,
               DOMCFG_NAME_MAX);
    else if (!charset_ok)
        report(w, line_of(node),
               "<name> '%s' may use only letters, digits, '-', '_' and '.', and must start "
               "with a letter or digit", excerpt(text, buf));
    else
        w->cfg->name = dup_or_oom(w, text);
    xmlFree(text);
}

static void parse_uuid(struct walk *w, const xmlNode *node)
{
    static const char *const no_attrs[] = { NULL };
    check_attributes(w, node, no_attrs);
    char *text = text_content(w, node);
    if (!text)
        return;
    char buf[48];
    if (domcfg_parse_uuid(text, w->cfg->uuid))
        w->cfg->has_uuid = true;
    else
        report(w, line_of(node),
               "<uuid> '%s' is not a UUID; write 32 hex digits as 8-4-4-4-12, or leave <uuid> "
               "out and one is generated", excerpt(text, buf));
    xmlFree(text);
}

static void parse_text_field(struct walk *w, const xmlNode *node, char **field, bool single_line)
{
    static const char *const no_attrs[] = { NULL };
    check_attributes(w, node, no_attrs);
    char *text = text_content(w, node);
    if (!text)
        return;
    if (single_line && strpbrk(text, "\r\n"))
        report(w, line_of(node), "<%s> must be a single line", name_of(node));
    else
        *field = dup_or_oom(w, text);
    xmlFree(text);
}

static void parse_metadata(struct walk *w, const xmlNode *node)
{
    static const char *const no_attrs[] = { NULL };
    check_attributes(w, node, no_attrs);
    check_stray_text(w, node);
    for (const xmlNode *c = node->children; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE && !c->ns)
            report(w, line_of(c),
                   "<%s> inside <metadata> needs a namespace of its own, e.g. "
                   "<app:%s xmlns:app='https://example.org/app'>", name_of(c), name_of(c));
    }
}

static void parse_memory(struct walk *w, const xmlNode *node, uint64_t *kib, unsigned *slots)
{
    static const char *const plain[] = { "unit", NULL };
    static const char *const with_slots[] = { "unit", "slots", NULL };
    check_attributes(w, node, slots ? with_slots : plain);

    uint64_t unit_bytes = 1024;
    char *unit = attribute(node, "unit");
    bool unit_ok = true;
    char buf[48];
    if (unit) {
        if (!domcfg_unit_bytes(trim(unit), &unit_bytes)) {
            report(w, line_of(node), "<%s> has unit '%s'; use one of %s", name_of(node),
                   excerpt(trim(unit), buf), domcfg_unit_list);
            unit_ok = false;
        }
    }
    if (slots) {
        char *s = attribute(node, "slots");
        if (s) {
            number_in_range(w, node, "<maxMemory> slots", s, 0, UINT32_MAX, slots);
            xmlFree(s);
        }
    }
    char *text = text_content(w, node);
    if (text) {
        uint64_t value;
        enum domcfg_size_status st = domcfg_parse_u64(text, &value);
        if (st == DOMCFG_SIZE_NOT_A_NUMBER)
            report(w, line_of(node), "<%s> should be a whole number (with unit='MiB' or "
                   "another unit), not '%s'", name_of(node), excerpt(trim(text), buf));
        else if (st == DOMCFG_SIZE_TOO_LARGE ||
                 (unit_ok && domcfg_size_to_kib(value, unit_bytes, kib) != DOMCFG_SIZE_OK))
            report(w, line_of(node), "<%s> %s%s%s is too large to be a memory size",
                   name_of(node), excerpt(trim(text), buf), unit ? " " : "", unit ? unit : "");
        xmlFree(text);
    }
    xmlFree(unit);
}

/* A cpuset attribute (libvirt's syntax, no "all"); false after reporting. */
static bool parse_cpuset_attr(struct walk *w, const xmlNode *node, const char *what,
                              const char *text, struct domcfg_cpuset *out)
{
    char err[256];
    if (domcfg_cpuset_parse(text, false, out, NULL, err, sizeof(err)) == 0)
        return true;
    report(w, line_of(node), "%s %s", what, err);
    return false;
}

static void parse_vcpu(struct walk *w, const xmlNode *node)
{
    static const char *const attrs[] = { "placement", "current", "cpuset", NULL };
    check_attributes(w, node, attrs);
    char *placement = attribute(node, "placement");
    if (placement) {
        static const struct choice placements[] = { { "static", 0 }, { NULL, 0 } };
        int ignored;
        pick(w, node, "<vcpu> placement", placement, placements, &ignored);
        xmlFree(placement);
    }
    char *text = text_content(w, node);
    if (text) {
        number_in_range(w, node, "<vcpu> (the maximum number of vCPUs)", text, 1, 512,
                        &w->cfg->vcpus_max);
        xmlFree(text);
    }
    char *current = attribute(node, "current");
    if (current) {
        number_in_range(w, node, "<vcpu> current", current, 1, 512, &w->cfg->vcpus_current);
        xmlFree(current);
    }
    char *cpuset = attribute(node, "cpuset");
    if (cpuset) {
        w->cfg->cpuset_line = line_of(node);
        w->cfg->has_cpuset = parse_cpuset_attr(w, node, "<vcpu> cpuset", cpuset,
                                               &w->cfg->cpuset);
        xmlFree(cpuset);
    }
}

/* <cputune>: only <vcpupin vcpu= cpuset=> (libvirt's other children set
   shares, periods and quotas, which Mica says with <mica:scheduler>). */
static void parse_cputune(struct walk *w, const xmlNode *node)
{
    static const char *const no_attrs[] = { NULL };
    check_attributes(w, node, no_attrs);
    check_stray_text(w, node);
    for (const xmlNode *c = node->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (c->ns || strcmp(name_of(c), "vcpupin") != 0) {
            report(w, line_of(c), "<%s> inside <cputune> is not supported by Mica; only "
                   "<vcpupin vcpu='N' cpuset='...'/> is (weight and cap: <mica:scheduler>)",
                   name_of(c));
            continue;
        }
        static const char *const attrs[] = { "vcpu", "cpuset", NULL };
        check_attributes(w, c, attrs);
        expect_empty(w, c);
        struct domcfg_vcpupin pin = { .line = line_of(c) };
        char *vcpu = attribute(c, "vcpu"), *cpuset = attribute(c, "cpuset");
        bool ok = true;
        if (!vcpu) {
            report(w, line_of(c), "<vcpupin> needs vcpu='N', the number of the vCPU it pins "
                   "(0 is the first)");
            ok = false;
        } else {
            ok = number_in_range(w, c, "<vcpupin> vcpu", vcpu, 0, 511, &pin.vcpu);
        }
        if (!cpuset) {
            report(w, line_of(c), "<vcpupin> needs cpuset='...', the CPUs the vCPU may run "
                   "on, e.g. cpuset='0-1'");
            ok = false;
        } else if (!parse_cpuset_attr(w, c, "<vcpupin> cpuset", cpuset, &pin.cpus)) {
            ok = false;
        }
        xmlFree(vcpu);
        xmlFree(cpuset);
        if (!ok)
            continue;
        struct domcfg_vcpupin *grown =
            realloc(w->cfg->vcpupins, (w->cfg->n_vcpupins + 1) * sizeof(*grown));
        if (!grown) {
            report(w, 0, "out of memory");
            return;
        }
        w->cfg->vcpupins = grown;
        grown[w->cfg->n_vcpupins++] = pin;
    }
}

static void parse_path(struct walk *w, const xmlNode *node, const char *what, const char *text,
                       char **field)
{
    char buf[48];
    if (text[0] == '\0')
        report(w, line_of(node), "%s is empty; give the absolute path of the file", what);
    else if (text[0] != '/')
        report(w, line_of(node),
               "%s '%s' is a relative path; write an absolute path (definitions are stored "
               "away from the directory they were written in)", what, excerpt(text, buf));
    else if (strpbrk(text, "\r\n"))
        report(w, line_of(node), "%s contains a line break; a path must be one line", what);
    else
        *field = dup_or_oom(w, text);
}

static void parse_os(struct walk *w, const xmlNode *os)
{
    static const char *const no_attrs[] = { NULL };
    check_attributes(w, os, no_attrs);
    check_stray_text(w, os);
    int seen_type = 0, seen_kernel = 0, seen_initrd = 0, seen_cmdline = 0;
    for (const xmlNode *c = os->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        const char *n = name_of(c);
        if (c->ns) {
            report(w, line_of(c), "<%s> (namespace %s) is not allowed inside <os>", n,
                   (const char *)c->ns->href);
        } else if (strcmp(n, "type") == 0) {
            if (!first_time(w, c, &seen_type))
                continue;
            static const char *const attrs[] = { "arch", "machine", NULL };
            check_attributes(w, c, attrs);
            static const struct choice arches[] = { { "x86_64", 0 }, { NULL, 0 } };
            static const struct choice machines[] = { { "xenpv", 0 }, { NULL, 0 } };
            int ignored;
            char *arch = attribute(c, "arch");
            if (arch)
                pick(w, c, "<type> arch", arch, arches, &ignored);
            xmlFree(arch);
            char *machine = attribute(c, "machine");
            if (machine)
                pick(w, c, "<type> machine", machine, machines, &ignored);
            xmlFree(machine);
            char *text = text_content(w, c);
            if (text) {
                char buf[48];
                if (strcmp(trim(text), "linux") != 0)
                    report(w, line_of(c), "<os><type> is '%s'; Mica runs PV guests only: "
                           "write <type>linux</type>", excerpt(trim(text), buf));
                xmlFree(text);
            }
        } else if (strcmp(n, "kernel") == 0 || strcmp(n, "initrd") == 0 ||
                   strcmp(n, "cmdline") == 0) {
            bool kernel = n[0] == 'k', initrd = n[0] == 'i';
            if (!first_time(w, c, kernel ? &seen_kernel : initrd ? &seen_initrd : &seen_cmdline))
                continue;
            if (!kernel && !initrd) {
                parse_text_field(w, c, &w->cfg->cmdline, true);
                continue;
            }
            check_attributes(w, c, no_attrs);
            char *text = text_content(w, c);
            if (!text)
                continue;
            if (kernel) {
                w->where->kernel = line_of(c);
                parse_path(w, c, "<kernel>", text, &w->cfg->kernel);
            } else {
                w->where->initrd = line_of(c);
                parse_path(w, c, "<initrd>", text, &w->cfg->initrd);
            }
            xmlFree(text);
        } else {
            report(w, line_of(c), "<%s> is not allowed inside <os>; allowed: type, kernel, "
                   "initrd, cmdline", n);
        }
    }
    if (!seen_type)
        report(w, line_of(os), "<os> has no <type>; add <type>linux</type>");
    if (!seen_kernel)
        report(w, line_of(os), "<os> has no <kernel>; add <kernel>/path/to/vmlinuz</kernel>");
}

static void parse_clock(struct walk *w, const xmlNode *node)
{
    static const char *const attrs[] = { "offset", NULL };
    static const struct choice offsets[] = {
        { "utc", DOMCFG_CLOCK_UTC }, { "localtime", DOMCFG_CLOCK_LOCALTIME }, { NULL, 0 } };
    check_attributes(w, node, attrs);
    expect_empty(w, node);
    char *offset = attribute(node, "offset");
    if (!offset) {
        report(w, line_of(node), "<clock> needs an offset attribute: offset='utc' or "
               "offset='localtime'");
        return;
    }
    int value;
    if (pick(w, node, "<clock> offset", offset, offsets, &value))
        w->cfg->clock = (enum domcfg_clock)value;
    xmlFree(offset);
}

static void parse_action(struct walk *w, const xmlNode *node, enum domcfg_action *action,
                         bool crash)
{
    static const struct choice actions[] = {
        { "destroy", DOMCFG_ACTION_DESTROY },
        { "restart", DOMCFG_ACTION_RESTART },
        { "preserve", DOMCFG_ACTION_PRESERVE },
        { "rename-restart", DOMCFG_ACTION_RENAME_RESTART },
        { NULL, 0 },
    };
    static const struct choice crash_actions[] = {
        { "destroy", DOMCFG_ACTION_DESTROY },
        { "restart", DOMCFG_ACTION_RESTART },
        { "preserve", DOMCFG_ACTION_PRESERVE },
        { "rename-restart", DOMCFG_ACTION_RENAME_RESTART },
        { "coredump-destroy", DOMCFG_ACTION_COREDUMP_DESTROY },
        { "coredump-restart", DOMCFG_ACTION_COREDUMP_RESTART },
        { NULL, 0 },
    };
    static const char *const no_attrs[] = { NULL };
    check_attributes(w, node, no_attrs);
    char *text = text_content(w, node);
    if (!text)
        return;
    char what[32];
    snprintf(what, sizeof(what), "<%s>", name_of(node));
    int value;
    if (pick(w, node, what, text, crash ? crash_actions : actions, &value))
        *action = (enum domcfg_action)value;
    xmlFree(text);
}

/* Grows an array by one zeroed element; NULL (reported) on ENOMEM. */
static void *append(struct walk *w, void **array, size_t *count, size_t size)
{
    void *grown = realloc(*array, (*count + 1) * size);
    if (!grown) {
        report(w, 0, "out of memory");
        return NULL;
    }
    *array = grown;
    void *slot = (char *)grown + *count * size;
    memset(slot, 0, size);
    (*count)++;
    return slot;
}

static void parse_disk_target(struct walk *w, const xmlNode *node, struct domcfg_disk *disk)
{
    static const char *const attrs[] = { "dev", "bus", NULL };
    check_attributes(w, node, attrs);
    expect_empty(w, node);
    char *bus = attribute(node, "bus");
    if (bus) {
        static const struct choice buses[] = { { "xen", 0 }, { NULL, 0 } };
        int ignored;
        pick(w, node, "<target> bus", bus, buses, &ignored);
        xmlFree(bus);
    }
    char *dev = attribute(node, "dev");
    if (!dev) {
        report(w, line_of(node), "<target> needs dev='xvdX', the name the guest sees, e.g. "
               "dev='xvda'");
        return;
    }
    size_t len = strlen(dev);
    bool ok = len >= 4 && len <= 5 && strncmp(dev, "xvd", 3) == 0;
    for (size_t i = 3; ok && i < len; i++)
        ok = dev[i] >= 'a' && dev[i] <= 'z';
    char buf[48];
    if (ok)
        memcpy(disk->target, dev, len + 1);
    else
        report(w, line_of(node), "<target> dev '%s' is not a Xen PV disk name; use xvda, "
               "xvdb, ... (xvd plus one or two letters)", excerpt(dev, buf));
    xmlFree(dev);
}

static void parse_disk(struct walk *w, const xmlNode *node)
{
    struct domcfg_disk *disk =
        append(w, (void **)&w->cfg->disks, &w->cfg->n_disks, sizeof(*disk));
    if (!disk)
        return;
    disk->line = line_of(node);
    static const char *const attrs[] = { "type", "device", NULL };
    check_attributes(w, node, attrs);
    check_stray_text(w, node);

    static const struct choice types[] = {
        { "file", DOMCFG_DISK_FILE }, { "block", DOMCFG_DISK_BLOCK }, { NULL, 0 } };
    bool type_known = false;
    char *type = attribute(node, "type");
    if (!type) {
        report(w, line_of(node), "<disk> needs type='file' (an image file) or type='block' "
               "(a block device)");
    } else {
        int value;
        type_known = pick(w, node, "<disk> type", type, types, &value);
        if (type_known)
            disk->type = (enum domcfg_disk_type)value;
        xmlFree(type);
    }
    char *device = attribute(node, "device");
    if (device) {
        static const struct choice devices[] = { { "disk", 0 }, { "cdrom", 1 }, { NULL, 0 } };
        int value;
        if (pick(w, node, "<disk> device", device, devices, &value))
            disk->cdrom = value == 1;
        xmlFree(device);
    }

    int seen_driver = 0, seen_source = 0, seen_target = 0, seen_ro = 0, seen_share = 0;
    for (const xmlNode *c = node->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        const char *n = name_of(c);
        if (c->ns) {
            report(w, line_of(c), "<%s> (namespace %s) is not allowed inside <disk>", n,
                   (const char *)c->ns->href);
        } else if (strcmp(n, "driver") == 0) {
            if (!first_time(w, c, &seen_driver))
                continue;
            static const char *const dattrs[] = { "name", "type", NULL };
            static const struct choice names[] = {
                { "file", DOMCFG_DRIVER_FILE }, { "phy", DOMCFG_DRIVER_PHY }, { NULL, 0 } };
            static const struct choice formats[] = {
                { "raw", DOMCFG_FORMAT_RAW }, { "qcow2", DOMCFG_FORMAT_QCOW2 }, { NULL, 0 } };
            check_attributes(w, c, dattrs);
            expect_empty(w, c);
            int value;
            char *dname = attribute(c, "name");
            if (dname && pick(w, c, "<driver> name", dname, names, &value))
                disk->driver = (enum domcfg_disk_driver)value;
            xmlFree(dname);
            char *format = attribute(c, "type");
            if (format && pick(w, c, "<driver> type (image format: raw through a loop "
                               "device, qcow2 through qemu-nbd)", format, formats, &value))
                disk->format = (enum domcfg_disk_format)value;
            xmlFree(format);
        } else if (strcmp(n, "source") == 0) {
            if (!first_time(w, c, &seen_source))
                continue;
            expect_empty(w, c);
            if (!type_known)
                continue;
            bool file = disk->type == DOMCFG_DISK_FILE;
            static const char *const fattrs[] = { "file", NULL };
            static const char *const battrs[] = { "dev", NULL };
            char *other = attribute(c, file ? "dev" : "file");
            if (other) {
                report(w, line_of(c), file
                       ? "<disk type='file'> takes <source file='...'>; for a block device "
                         "write <disk type='block'> with <source dev='...'>"
                       : "<disk type='block'> takes <source dev='...'>; for an image file "
                         "write <disk type='file'> with <source file='...'>");
                xmlFree(other);
                continue;
            }
            check_attributes(w, c, file ? fattrs : battrs);
            char *path = attribute(c, file ? "file" : "dev");
            if (!path) {
                report(w, line_of(c), file ? "<source> needs file='/path/to/image'"
                                           : "<source> needs dev='/dev/...'");
                continue;
            }
            parse_path(w, c, file ? "<source> file" : "<source> dev", path, &disk->source);
            xmlFree(path);
        } else if (strcmp(n, "target") == 0) {
            if (first_time(w, c, &seen_target))
                parse_disk_target(w, c, disk);
        } else if (strcmp(n, "readonly") == 0 || strcmp(n, "shareable") == 0) {
            bool ro = n[0] == 'r';
            if (!first_time(w, c, ro ? &seen_ro : &seen_share))
                continue;
            static const char *const no_attrs[] = { NULL };
            check_attributes(w, c, no_attrs);
            expect_empty(w, c);
            if (ro)
                disk->readonly = true;
            else
                disk->shareable = true;
        } else {
            report(w, line_of(c), "<%s> is not allowed inside <disk>; allowed: driver, source, "
                   "target, readonly, shareable", n);
        }
    }
    if (!seen_source)
        report(w, line_of(node), "<disk> has no <source>; add <source file='/path/image.raw'/> "
               "or, for type='block', <source dev='/dev/...'/>");
    if (!seen_target)
        report(w, line_of(node), "<disk> has no <target>; add <target dev='xvda' bus='xen'/>");
}

static bool netdev_name_ok(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > 15)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == ':' || c == '-'))
            return false;
    }
    return true;
}

static bool parse_mac(const char *text, uint8_t mac[6])
{
    for (int i = 0; i < 6; i++) {
        const char *p = text + i * 3;
        for (int j = 0; j < 2; j++) {
            char c = p[j];
            int v = c >= '0' && c <= '9' ? c - '0'
                  : c >= 'a' && c <= 'f' ? c - 'a' + 10
                  : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
            if (v < 0)
                return false;
            mac[i] = (uint8_t)(j ? (mac[i] << 4) | v : v);
        }
        if (p[2] != (i == 5 ? '\0' : ':'))
            return false;
    }
    return true;
}

static void parse_interface(struct walk *w, const xmlNode *node)
{
    struct domcfg_nic *nic = append(w, (void **)&w->cfg->nics, &w->cfg->n_nics, sizeof(*nic));
    if (!nic)
        return;
    nic->line = line_of(node);
    static const char *const attrs[] = { "type", NULL };
    check_attributes(w, node, attrs);
    check_stray_text(w, node);
    static const struct choice types[] = {
        { "bridge", DOMCFG_NIC_BRIDGE }, { "ethernet", DOMCFG_NIC_ETHERNET }, { NULL, 0 } };
    bool type_known = false;
    char *type = attribute(node, "type");
    if (!type) {
        report(w, line_of(node), "<interface> needs type='bridge' (with <source bridge='br0'/>) "
               "or type='ethernet'");
    } else {
        int value;
        type_known = pick(w, node, "<interface> type", type, types, &value);
        if (type_known)
            nic->type = (enum domcfg_nic_type)value;
        xmlFree(type);
    }
    int seen_source = 0, seen_mac = 0, seen_target = 0, seen_model = 0;
    char buf[48];
    for (const xmlNode *c = node->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        const char *n = name_of(c);
        if (c->ns) {
            report(w, line_of(c), "<%s> (namespace %s) is not allowed inside <interface>", n,
                   (const char *)c->ns->href);
        } else if (strcmp(n, "source") == 0) {
            if (!first_time(w, c, &seen_source))
                continue;
            if (type_known && nic->type == DOMCFG_NIC_ETHERNET) {
                report(w, line_of(c), "<interface type='ethernet'> takes no <source>; for a "
                       "bridge write <interface type='bridge'>");
                continue;
            }
            static const char *const sattrs[] = { "bridge", NULL };
            check_attributes(w, c, sattrs);
            expect_empty(w, c);
            char *bridge = attribute(c, "bridge");
            if (!bridge)
                report(w, line_of(c), "<source> needs bridge='NAME', the dom0 bridge to "
                       "attach to, e.g. bridge='br0'");
            else if (!netdev_name_ok(bridge))
                report(w, line_of(c), "<source> bridge '%s' is not a network device name "
                       "(1 to 15 letters, digits, '_', '.', ':' or '-')", excerpt(bridge, buf));
            else
                nic->bridge = dup_or_oom(w, bridge);
            xmlFree(bridge);
        } else if (strcmp(n, "mac") == 0) {
            if (!first_time(w, c, &seen_mac))
                continue;
            static const char *const mattrs[] = { "address", NULL };
            check_attributes(w, c, mattrs);
            expect_empty(w, c);
            char *address = attribute(c, "address");
            if (!address)
                report(w, line_of(c), "<mac> needs address='xx:xx:xx:xx:xx:xx'");
            else if (!parse_mac(address, nic->mac))
                report(w, line_of(c), "<mac> address '%s' is not a MAC address; write six "
                       "hex pairs separated by ':', e.g. 00:16:3e:12:34:56",
                       excerpt(address, buf));
            else
                nic->has_mac = true;
            xmlFree(address);
        } else if (strcmp(n, "target") == 0) {
            if (!first_time(w, c, &seen_target))
                continue;
            static const char *const tattrs[] = { "dev", NULL };
            check_attributes(w, c, tattrs);
            expect_empty(w, c);
            char *dev = attribute(c, "dev");
            if (!dev)
                report(w, line_of(c), "<target> needs dev='NAME', the back-end interface "
                       "name in dom0");
            else if (!netdev_name_ok(dev))
                report(w, line_of(c), "<target> dev '%s' is not a network device name "
                       "(1 to 15 letters, digits, '_', '.', ':' or '-')", excerpt(dev, buf));
            else
                nic->target_dev = dup_or_oom(w, dev);
            xmlFree(dev);
        } else if (strcmp(n, "model") == 0) {
            if (!first_time(w, c, &seen_model))
                continue;
            static const char *const mattrs[] = { "type", NULL };
            static const struct choice models[] = { { "netfront", 0 }, { NULL, 0 } };
            check_attributes(w, c, mattrs);
            expect_empty(w, c);
            char *model = attribute(c, "type");
            int ignored;
            if (!model)
                report(w, line_of(c), "<model> needs type='netfront'");
            else
                pick(w, c, "<model> type (PV guests see only netfront)", model, models, &ignored);
            xmlFree(model);
        } else {
            report(w, line_of(c), "<%s> is not allowed inside <interface>; allowed: source, "
                   "mac, target, model", n);
        }
    }
    if (type_known && nic->type == DOMCFG_NIC_BRIDGE && !seen_source)
        report(w, line_of(node), "<interface type='bridge'> has no <source>; add "
               "<source bridge='br0'/> naming the dom0 bridge");
}

static void parse_console(struct walk *w, const xmlNode *node)
{
    static const char *const attrs[] = { "type", NULL };
    check_attributes(w, node, attrs);
    check_stray_text(w, node);
    if (w->cfg->has_console)
        report(w, line_of(node), "a second <console>; a PV domain has exactly one console");
    w->cfg->has_console = true;
    char *type = attribute(node, "type");
    static const struct choice types[] = { { "pty", 0 }, { NULL, 0 } };
    int ignored;
    if (!type)
        report(w, line_of(node), "<console> needs type='pty'");
    else
        pick(w, node, "<console> type", type, types, &ignored);
    xmlFree(type);
    int seen_target = 0;
    for (const xmlNode *c = node->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (c->ns || strcmp(name_of(c), "target") != 0) {
            report(w, line_of(c), "<%s> is not allowed inside <console>; allowed: target",
                   name_of(c));
            continue;
        }
        if (!first_time(w, c, &seen_target))
            continue;
        static const char *const tattrs[] = { "type", "port", NULL };
        static const struct choice ttypes[] = { { "xen", 0 }, { NULL, 0 } };
        static const struct choice ports[] = { { "0", 0 }, { NULL, 0 } };
        check_attributes(w, c, tattrs);
        expect_empty(w, c);
        char *ttype = attribute(c, "type");
        if (ttype)
            pick(w, c, "<console><target> type", ttype, ttypes, &ignored);
        xmlFree(ttype);
        char *port = attribute(c, "port");
        if (port)
            pick(w, c, "<console><target> port", port, ports, &ignored);
        xmlFree(port);
    }
}

static void parse_devices(struct walk *w, const xmlNode *devices)
{
    static const char *const no_attrs[] = { NULL };
    check_attributes(w, devices, no_attrs);
    check_stray_text(w, devices);
    for (const xmlNode *c = devices->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        const char *n = name_of(c);
        if (c->ns)
            report(w, line_of(c), "<%s> (namespace %s) is not allowed inside <devices>", n,
                   (const char *)c->ns->href);
        else if (strcmp(n, "disk") == 0)
            parse_disk(w, c);
        else if (strcmp(n, "interface") == 0)
            parse_interface(w, c);
        else if (strcmp(n, "console") == 0)
            parse_console(w, c);
        else
            report(w, line_of(c), "<%s> is not a device Mica supports; <devices> may hold "
                   "disk, interface and console", n);
    }
}

static void parse_mica_attribute(struct walk *w, const xmlNode *node, const char *name,
                                 uint64_t min, uint64_t max, unsigned *field)
{
    char *value = attribute(node, name);
    if (!value)
        return;
    char what[64];
    snprintf(what, sizeof(what), "<mica:%s> %s", name_of(node), name);
    number_in_range(w, node, what, value, min, max, field);
    xmlFree(value);
}

static void parse_mica(struct walk *w, const xmlNode *node, int *seen_scheduler, int *seen_limits,
                       int *seen_template)
{
    const char *n = name_of(node);
    if (strcmp(n, "template") == 0) {
        if (!first_time(w, node, seen_template))
            return;
        static const char *const attrs[] = { NULL };
        check_attributes(w, node, attrs);
        expect_empty(w, node);
        w->cfg->is_template = true;
    } else if (strcmp(n, "scheduler") == 0) {
        if (!first_time(w, node, seen_scheduler))
            return;
        static const char *const attrs[] = { "weight", "cap", NULL };
        check_attributes(w, node, attrs);
        expect_empty(w, node);
        parse_mica_attribute(w, node, "weight", 1, 65535, &w->cfg->sched_weight);
        parse_mica_attribute(w, node, "cap", 0, 51200, &w->cfg->sched_cap);
    } else if (strcmp(n, "limits") == 0) {
        if (!first_time(w, node, seen_limits))
            return;
        static const char *const attrs[] = { "max-grant-frames", "max-event-channels", NULL };
        check_attributes(w, node, attrs);
        expect_empty(w, node);
        /* The hypervisor's bounds: Xen's default gnttab_max_frames (64)
           and the FIFO ABI's 2^17 ports (the highest is 2^17 - 1). */
        parse_mica_attribute(w, node, "max-grant-frames", 1, 64, &w->cfg->max_grant_frames);
        parse_mica_attribute(w, node, "max-event-channels", 1, 131071,
                             &w->cfg->max_event_channels);
    } else {
        report(w, line_of(node), "<mica:%s> is not a Mica setting; known: mica:scheduler, "
               "mica:limits, mica:template", n);
    }
}

enum top_element {
    TOP_NAME, TOP_UUID, TOP_TITLE, TOP_DESCRIPTION, TOP_METADATA, TOP_MAX_MEMORY, TOP_MEMORY,
    TOP_CURRENT_MEMORY, TOP_VCPU, TOP_OS, TOP_CLOCK, TOP_ON_POWEROFF, TOP_ON_REBOOT,
    TOP_ON_CRASH, TOP_DEVICES, TOP_CPUTUNE, TOP_COUNT
};

static const char *const top_names[TOP_COUNT] = {
    "name", "uuid", "title", "description", "metadata", "maxMemory", "memory",
    "currentMemory", "vcpu", "os", "clock", "on_poweroff", "on_reboot", "on_crash", "devices",
    "cputune",
};

static void parse_top(struct walk *w, const xmlNode *c, enum top_element which)
{
    struct domain_config *cfg = w->cfg;
    switch (which) {
    case TOP_NAME:
        w->where->name = line_of(c);
        parse_name(w, c);
        break;
    case TOP_UUID: parse_uuid(w, c); break;
    case TOP_TITLE: parse_text_field(w, c, &cfg->title, true); break;
    case TOP_DESCRIPTION: parse_text_field(w, c, &cfg->description, false); break;
    case TOP_METADATA: parse_metadata(w, c); break;
    case TOP_MAX_MEMORY:
        w->where->max_memory = line_of(c);
        cfg->has_max_memory = true;
        parse_memory(w, c, &cfg->max_memory_kib, &cfg->max_memory_slots);
        break;
    case TOP_MEMORY:
        w->where->memory = line_of(c);
        parse_memory(w, c, &cfg->memory_kib, NULL);
        break;
    case TOP_CURRENT_MEMORY:
        w->where->current_memory = line_of(c);
        parse_memory(w, c, &cfg->current_memory_kib, NULL);
        break;
    case TOP_VCPU:
        w->where->vcpu = line_of(c);
        parse_vcpu(w, c);
        break;
    case TOP_OS: parse_os(w, c); break;
    case TOP_CLOCK: parse_clock(w, c); break;
    case TOP_ON_POWEROFF: parse_action(w, c, &cfg->on_poweroff, false); break;
    case TOP_ON_REBOOT: parse_action(w, c, &cfg->on_reboot, false); break;
    case TOP_ON_CRASH: parse_action(w, c, &cfg->on_crash, true); break;
    case TOP_DEVICES: parse_devices(w, c); break;
    case TOP_CPUTUNE: parse_cputune(w, c); break;
    case TOP_COUNT: break;
    }
}

int domcfg_parse_tree(xmlDocPtr doc, struct domain_config *cfg,
                      struct domcfg_where *where, struct domcfg_diags *diags)
{
    struct walk w = { .diags = diags, .cfg = cfg, .where = where };
    memset(cfg, 0, sizeof(*cfg));
    memset(where, 0, sizeof(*where));
    cfg->on_poweroff = DOMCFG_ACTION_DESTROY;
    cfg->on_reboot = DOMCFG_ACTION_RESTART;
    cfg->on_crash = DOMCFG_ACTION_DESTROY;
    cfg->vcpus_max = 1;

    xmlNodePtr root = xmlDocGetRootElement(doc);
    if (!root) {
        report(&w, 0, "the document has no root element; a definition starts with "
               "<domain type='xen'>");
        return -1;
    }
    where->domain = line_of(root);
    if (root->ns || strcmp(name_of(root), "domain") != 0) {
        report(&w, line_of(root), "the root element is <%s%s%s>; a definition starts with "
               "<domain type='xen'>", root->ns && root->ns->prefix ? (const char *)root->ns->prefix : "",
               root->ns && root->ns->prefix ? ":" : "", name_of(root));
        return -1;
    }
    static const char *const attrs[] = { "type", "id", NULL };
    check_attributes(&w, root, attrs);
    char *type = attribute(root, "type");
    char buf[48];
    if (!type)
        report(&w, line_of(root), "<domain> needs type='xen'");
    else if (strcmp(trim(type), "xen") != 0)
        report(&w, line_of(root), "<domain> has type '%s'; Mica runs only type='xen' (PV) "
               "domains", excerpt(trim(type), buf));
    xmlFree(type);
    char *id = attribute(root, "id");
    if (id) {
        unsigned ignored;
        number_in_range(&w, root, "<domain> id", id, 0, 0x7fffffff, &ignored);
        xmlFree(id);
    }
    check_stray_text(&w, root);

    int seen[TOP_COUNT] = { 0 };
    int seen_scheduler = 0, seen_limits = 0, seen_template = 0;
    for (const xmlNode *c = root->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (is_mica(c)) {
            parse_mica(&w, c, &seen_scheduler, &seen_limits, &seen_template);
            continue;
        }
        if (c->ns) {
            report(&w, line_of(c), "<%s> from namespace %s is not allowed directly in "
                   "<domain>; other tools' data belongs inside <metadata>", name_of(c),
                   (const char *)c->ns->href);
            continue;
        }
        enum top_element which = TOP_COUNT;
        for (int i = 0; i < TOP_COUNT; i++)
            if (strcmp(name_of(c), top_names[i]) == 0)
                which = (enum top_element)i;
        if (which == TOP_COUNT) {
            report(&w, line_of(c), "<%s> is not an element Mica knows inside <domain>; see "
                   "docs/domain-xml.md for the supported ones", name_of(c));
            continue;
        }
        if (first_time(&w, c, &seen[which]))
            parse_top(&w, c, which);
    }
    if (!seen[TOP_NAME])
        report(&w, line_of(root), "<domain> has no <name>; add one, e.g. <name>web1</name>");
    if (!seen[TOP_MEMORY])
        report(&w, line_of(root), "<domain> has no <memory>; add one, e.g. "
               "<memory unit='MiB'>512</memory>");
    if (!seen[TOP_OS])
        report(&w, line_of(root), "<domain> has no <os>; add <os> with <type>linux</type> "
               "and <kernel>");
    if (!seen[TOP_CURRENT_MEMORY])
        cfg->current_memory_kib = cfg->memory_kib;
    if (!cfg->vcpus_current)
        cfg->vcpus_current = cfg->vcpus_max;
    return w.errors ? -1 : 0;
}
