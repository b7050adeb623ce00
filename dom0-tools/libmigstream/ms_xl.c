/*
 * xl's save-file header and the libxl domain configuration in it
 * (ms_xl.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "ms_json.h"
#include "ms_xl.h"

static int xerr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int xerr(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* Up to n octets at off; how many came, or -1. */
static ssize_t pread_full(int fd, void *buf, size_t n, uint64_t off)
{
    size_t got = 0;
    while (got < n) {
        ssize_t k = pread(fd, (char *)buf + got, n - got, (off_t)(off + got));
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return -1;
        if (k == 0)
            break;
        got += (size_t)k;
    }
    return (ssize_t)got;
}

void ms_xl_file_free(struct ms_xl_file *x)
{
    free(x->config);
    memset(x, 0, sizeof(*x));
}

int ms_xl_header_read(int fd, uint64_t file_size, struct ms_xl_file *x, char *err,
                      size_t errlen)
{
    struct ms_xl_header h;
    memset(x, 0, sizeof(*x));
    ssize_t n = pread_full(fd, &h, sizeof(h), 0);
    if (n < 0)
        return xerr(err, errlen, "read error at offset 0: %s", strerror(errno));
    size_t cmp = (size_t)n < MS_XL_MAGIC_LEN ? (size_t)n : MS_XL_MAGIC_LEN;
    if (n == 0 || memcmp(h.magic, MS_XL_MAGIC, cmp) != 0)
        return 0;
    if ((size_t)n < sizeof(h))
        return xerr(err, errlen, "xl's header is truncated: the file ends at offset %zd, inside"
                    " the %zu-octet header that starts with xl's magic", n, sizeof(h));
    if (h.byteorder != MS_XL_BYTEORDER)
        return xerr(err, errlen, "xl's header: the byte-order word at offset 32 is %#010x, not"
                    " 0x01020304%s", h.byteorder,
                    h.byteorder == __builtin_bswap32(MS_XL_BYTEORDER)
                        ? " (a big-endian file; Mica reads x86, little-endian, files only)"
                        : " (corrupt?)");
    x->mandatory_flags = h.mandatory_flags;
    x->optional_flags = h.optional_flags;
    x->optional_data_len = h.optional_data_len;
    if (h.mandatory_flags & ~(MS_XL_FLAG_JSON | MS_XL_FLAG_STREAM_V2))
        return xerr(err, errlen, "xl's header: mandatory flags %#x at offset 36 include %#x,"
                    " which this reader does not know (a newer xl?); xl itself would refuse"
                    " the file too", h.mandatory_flags,
                    h.mandatory_flags & ~(MS_XL_FLAG_JSON | MS_XL_FLAG_STREAM_V2));
    if (!(h.mandatory_flags & MS_XL_FLAG_STREAM_V2))
        return xerr(err, errlen, "xl's header: mandatory flags %#x at offset 36 lack 2"
                    " (migration stream v2): the stream is Xen's legacy format (Xen before"
                    " 4.6), which Mica does not read", h.mandatory_flags);
    if (h.optional_flags)
        return xerr(err, errlen, "xl's header: optional flags %#x at offset 40; xl defines"
                    " none", h.optional_flags);
    uint64_t end = sizeof(h) + (uint64_t)h.optional_data_len;
    if (end > file_size)
        return xerr(err, errlen, "xl's header: the optional data length %u at offset 44 runs"
                    " past the end of the file (offset %llu, the file has %llu octets):"
                    " truncated or corrupt", h.optional_data_len, (unsigned long long)end,
                    (unsigned long long)file_size);
    x->stream_offset = end;
    if (!h.optional_data_len) {
        if (h.mandatory_flags & MS_XL_FLAG_JSON)
            return xerr(err, errlen, "xl's header says the configuration is JSON (flag 1 at"
                        " offset 36) but has no optional data (offset 44)");
        return 1;
    }
    uint32_t clen;
    if (h.optional_data_len < sizeof(clen))
        return xerr(err, errlen, "xl's header: the optional data at offset 48 is %u octets,"
                    " shorter than the configuration length that starts it",
                    h.optional_data_len);
    n = pread_full(fd, &clen, sizeof(clen), sizeof(h));
    if (n != (ssize_t)sizeof(clen))
        return xerr(err, errlen, "xl's header: the configuration length at offset 48 cannot"
                    " be read%s%s", n < 0 ? ": " : " (the file ends)",
                    n < 0 ? strerror(errno) : "");
    if (clen > h.optional_data_len - sizeof(clen))
        return xerr(err, errlen, "xl's header: the configuration length %u at offset 48 runs"
                    " past the optional data (%u octets from offset 48)", clen,
                    h.optional_data_len);
    if (clen > MS_XL_CONFIG_MAX)
        return xerr(err, errlen, "xl's header: a %u-octet configuration at offset 52 is more"
                    " than the %u this reader takes", clen, MS_XL_CONFIG_MAX);
    if (clen && !(h.mandatory_flags & MS_XL_FLAG_JSON))
        return xerr(err, errlen, "xl's header: the configuration at offset 52 is in xl's"
                    " config-file syntax (flag 1, JSON, not set at offset 36); vmctl reads"
                    " only the JSON that xl 4.5 and later write");
    x->config_offset = sizeof(h) + sizeof(clen);
    x->config_len = clen;
    if (!(x->config = malloc((size_t)clen + 1)))
        return xerr(err, errlen, "out of memory for xl's configuration");
    n = pread_full(fd, x->config, clen, x->config_offset);
    if (n != (ssize_t)clen) {
        free(x->config);
        x->config = NULL;
        return xerr(err, errlen, "xl's header: the configuration (%u octets at offset 52)"
                    " cannot be read%s%s", clen, n < 0 ? ": " : " (the file ends)",
                    n < 0 ? strerror(errno) : "");
    }
    x->config[clen] = 0;
    return 1;
}

void *ms_xl_header_build(const char *json, size_t *len)
{
    size_t jl = strlen(json) + 1;
    if (jl > MS_XL_CONFIG_MAX)
        return NULL;
    struct ms_xl_header h;
    memset(&h, 0, sizeof(h));
    memcpy(h.magic, MS_XL_MAGIC, MS_XL_MAGIC_LEN);
    h.byteorder = MS_XL_BYTEORDER;
    h.mandatory_flags = MS_XL_FLAG_JSON | MS_XL_FLAG_STREAM_V2;
    h.optional_data_len = (uint32_t)(4 + jl);
    uint32_t clen = (uint32_t)jl;
    unsigned char *b = malloc(sizeof(h) + 4 + jl);
    if (!b)
        return NULL;
    memcpy(b, &h, sizeof(h));
    memcpy(b + sizeof(h), &clen, 4);
    memcpy(b + sizeof(h) + 4, json, jl);
    *len = sizeof(h) + 4 + jl;
    return b;
}

/* ---- the configuration -------------------------------------------- */

struct cx {
    char *err;
    size_t errlen;
    int failed;
};

/* obj.key (path names obj in messages) when present; NULL when absent,
   and an error when it has another type than want. */
static const struct ms_json *member(struct cx *cx, const struct ms_json *obj, const char *path,
                                    const char *key, enum ms_json_type want)
{
    const struct ms_json *m = ms_json_get(obj, key);
    if (!m || cx->failed)
        return NULL;
    bool ok = m->type == want ||
              (want == MS_JSON_TRUE && (m->type == MS_JSON_FALSE || m->type == MS_JSON_TRUE));
    if (!ok) {
        cx->failed = xerr(cx->err, cx->errlen, "xl's configuration: %s%s%s at offset %llu is"
                          " %s; it must be %s", path, *path ? "." : "", key,
                          (unsigned long long)m->offset, ms_json_type_name(m->type),
                          ms_json_type_name(want));
        return NULL;
    }
    return m;
}

static char *str_member(struct cx *cx, const struct ms_json *obj, const char *path,
                        const char *key)
{
    const struct ms_json *m = member(cx, obj, path, key, MS_JSON_STRING);
    if (!m)
        return NULL;
    char *s = strdup(m->str);
    if (!s)
        cx->failed = xerr(cx->err, cx->errlen, "out of memory");
    return s;
}

/* A number member in 0..max; *out left alone when absent.  1 if present. */
static int uint_member(struct cx *cx, const struct ms_json *obj, const char *path,
                       const char *key, uint64_t max, uint64_t *out)
{
    const struct ms_json *m = member(cx, obj, path, key, MS_JSON_NUMBER);
    if (!m)
        return 0;
    if (ms_json_uint(m, max, out)) {
        cx->failed = xerr(cx->err, cx->errlen, "xl's configuration: %s%s%s at offset %llu is"
                          " %s; it must be a whole number from 0 to %llu", path,
                          *path ? "." : "", key, (unsigned long long)m->offset, m->str,
                          (unsigned long long)max);
        return 0;
    }
    return 1;
}

/* A libxl enumeration member (its name, any case) from names; lower-cased
   into out.  1 if present. */
static int enum_member(struct cx *cx, const struct ms_json *obj, const char *path,
                       const char *key, const char *const *names, char *out, size_t outlen)
{
    const struct ms_json *m = member(cx, obj, path, key, MS_JSON_STRING);
    if (!m)
        return 0;
    for (size_t i = 0; names[i]; i++)
        if (strcasecmp(m->str, names[i]) == 0) {
            snprintf(out, outlen, "%s", names[i]);
            return 1;
        }
    char list[200] = "";
    for (size_t i = 0; names[i]; i++)
        snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
                 names[i]);
    cx->failed = xerr(cx->err, cx->errlen, "xl's configuration: %s%s%s at offset %llu is"
                      " \"%.40s\", which is none of libxl's %s", path, *path ? "." : "", key,
                      (unsigned long long)m->offset, m->str, list);
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool parse_uuid(const char *s, uint8_t out[16])
{
    if (strlen(s) != 36)
        return false;
    for (int i = 0, k = 0; i < 36;) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i++] != '-')
                return false;
            continue;
        }
        int hi = hexval(s[i]), lo = hexval(s[i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[k++] = (uint8_t)(hi << 4 | lo);
        i += 2;
    }
    return true;
}

static bool parse_mac(const char *s, uint8_t out[6])
{
    if (strlen(s) != 17)
        return false;
    for (int i = 0; i < 6; i++) {
        int hi = hexval(s[i * 3]), lo = hexval(s[i * 3 + 1]);
        if (hi < 0 || lo < 0 || (i < 5 && s[i * 3 + 2] != ':'))
            return false;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

static const char *const actions[] = { "destroy", "restart", "restart_rename", "preserve",
                                       "coredump_destroy", "coredump_restart", "soft_reset",
                                       NULL };
static const char *const formats[] = { "unknown", "qcow", "qcow2", "vhd", "raw", "empty",
                                       "qed", NULL };
static const char *const types[] = { "hvm", "pv", "pvh", NULL };

/* An item of disks[] or nics[] (path names it): an object, or an error. */
static bool is_object_item(struct cx *cx, const struct ms_json *item, const char *path)
{
    if (item->type == MS_JSON_OBJECT)
        return true;
    cx->failed = xerr(cx->err, cx->errlen, "xl's configuration: %s at offset %llu is %s; it"
                      " must be an object", path, (unsigned long long)item->offset,
                      ms_json_type_name(item->type));
    return false;
}

static void parse_disks(struct cx *cx, const struct ms_json *arr, struct ms_xl_config *c)
{
    if (!arr || !arr->n)
        return;
    if (!(c->disks = calloc(arr->n, sizeof(*c->disks)))) {
        cx->failed = xerr(cx->err, cx->errlen, "out of memory");
        return;
    }
    for (size_t i = 0; i < arr->n && !cx->failed; i++) {
        const struct ms_json *d = &arr->items[i];
        struct ms_xl_disk *o = &c->disks[c->n_disks++];
        char path[32];
        uint64_t v = 0;
        snprintf(path, sizeof(path), "disks[%zu]", i);
        o->offset = d->offset;
        if (!is_object_item(cx, d, path))
            return;
        o->path = str_member(cx, d, path, "pdev_path");
        o->vdev = str_member(cx, d, path, "vdev");
        snprintf(o->format, sizeof(o->format), "unknown");
        enum_member(cx, d, path, "format", formats, o->format, sizeof(o->format));
        if (uint_member(cx, d, path, "readwrite", 1, &v))
            o->readwrite = v;
        v = 0;
        if (uint_member(cx, d, path, "is_cdrom", 1, &v))
            o->cdrom = v;
        v = 0;
        uint_member(cx, d, path, "backend_domid", 0xffff, &v);
        if (!cx->failed && v)
            cx->failed = xerr(cx->err, cx->errlen, "xl's configuration: %s at offset %llu is"
                              " served by domain %llu (a driver domain); Mica's back-ends run"
                              " in dom0", path, (unsigned long long)d->offset,
                              (unsigned long long)v);
        if (!cx->failed && (!o->vdev || (!o->path && !o->cdrom)))
            cx->failed = xerr(cx->err, cx->errlen, "xl's configuration: %s at offset %llu has"
                              " no %s", path, (unsigned long long)d->offset,
                              !o->vdev ? "vdev" : "pdev_path");
    }
}

static void parse_nics(struct cx *cx, const struct ms_json *arr, struct ms_xl_config *c)
{
    if (!arr || !arr->n)
        return;
    if (!(c->nics = calloc(arr->n, sizeof(*c->nics)))) {
        cx->failed = xerr(cx->err, cx->errlen, "out of memory");
        return;
    }
    for (size_t i = 0; i < arr->n && !cx->failed; i++) {
        const struct ms_json *d = &arr->items[i];
        struct ms_xl_nic *o = &c->nics[c->n_nics++];
        char path[32];
        uint64_t v = 0;
        snprintf(path, sizeof(path), "nics[%zu]", i);
        o->offset = d->offset;
        if (!is_object_item(cx, d, path))
            return;
        const struct ms_json *mac = member(cx, d, path, "mac", MS_JSON_STRING);
        if (mac) {
            if (!parse_mac(mac->str, o->mac)) {
                cx->failed = xerr(cx->err, cx->errlen, "xl's configuration: %s.mac at offset"
                                  " %llu is \"%.40s\", not a MAC address (xx:xx:xx:xx:xx:xx)",
                                  path, (unsigned long long)mac->offset, mac->str);
                return;
            }
            o->has_mac = true;
        }
        o->bridge = str_member(cx, d, path, "bridge");
        o->ifname = str_member(cx, d, path, "ifname");
        uint_member(cx, d, path, "backend_domid", 0xffff, &v);
        if (!cx->failed && v)
            cx->failed = xerr(cx->err, cx->errlen, "xl's configuration: %s at offset %llu is"
                              " served by domain %llu (a driver domain); Mica's back-ends run"
                              " in dom0", path, (unsigned long long)d->offset,
                              (unsigned long long)v);
    }
}

void ms_xl_config_free(struct ms_xl_config *c)
{
    free(c->name);
    free(c->kernel);
    free(c->ramdisk);
    free(c->cmdline);
    for (size_t i = 0; i < c->n_disks; i++) {
        free(c->disks[i].path);
        free(c->disks[i].vdev);
    }
    free(c->disks);
    for (size_t i = 0; i < c->n_nics; i++) {
        free(c->nics[i].bridge);
        free(c->nics[i].ifname);
    }
    free(c->nics);
    memset(c, 0, sizeof(*c));
}

int ms_xl_config_parse(const char *json, size_t len, uint64_t base, struct ms_xl_config *c,
                       char *err, size_t errlen)
{
    struct ms_json *root;
    struct cx cx = { .err = err, .errlen = errlen };
    char jerr[300];
    memset(c, 0, sizeof(*c));
    if (ms_json_parse(json, len, base, &root, jerr, sizeof(jerr)))
        return xerr(err, errlen, "xl's configuration is not valid JSON: %s", jerr);
    if (root->type != MS_JSON_OBJECT) {
        xerr(err, errlen, "xl's configuration at offset %llu is %s; libxl's domain"
             " configuration is an object", (unsigned long long)root->offset,
             ms_json_type_name(root->type));
        ms_json_free(root);
        return -1;
    }
    const struct ms_json *ci = member(&cx, root, "", "c_info", MS_JSON_OBJECT);
    const struct ms_json *bi = member(&cx, root, "", "b_info", MS_JSON_OBJECT);
    const struct ms_json *tpv = member(&cx, bi, "b_info", "type.pv", MS_JSON_OBJECT);
    uint64_t v;

    c->name = str_member(&cx, ci, "c_info", "name");
    if (!cx.failed && (!c->name || !*c->name))
        cx.failed = xerr(err, errlen, "xl's configuration (from offset %llu) has no%s"
                         " c_info.name: a domain needs a name", (unsigned long long)base,
                         c->name ? "thing in" : "");
    const struct ms_json *u = member(&cx, ci, "c_info", "uuid", MS_JSON_STRING);
    if (u) {
        if (!parse_uuid(u->str, c->uuid))
            cx.failed = xerr(err, errlen, "xl's configuration: c_info.uuid at offset %llu is"
                             " \"%.40s\", not a UUID", (unsigned long long)u->offset, u->str);
        c->has_uuid = true;
    }
    snprintf(c->type, sizeof(c->type), "pv");
    enum_member(&cx, ci, "c_info", "type", types, c->type, sizeof(c->type));
    if (!cx.failed && strcmp(c->type, "pv") != 0)
        cx.failed = xerr(err, errlen, "xl's configuration: c_info.type is \"%s\"; Mica"
                         " restores PV domains", c->type);

    if (!cx.failed && !uint_member(&cx, bi, "b_info", "max_memkb", UINT64_C(1) << 40,
                                   &c->max_memkb) && !cx.failed)
        cx.failed = xerr(err, errlen, "xl's configuration (from offset %llu) has no"
                         " b_info.max_memkb: the domain's memory is not known",
                         (unsigned long long)base);
    c->target_memkb = c->max_memkb;
    uint_member(&cx, bi, "b_info", "target_memkb", c->max_memkb, &c->target_memkb);
    v = 1;
    uint_member(&cx, bi, "b_info", "max_vcpus", 512, &v);
    c->max_vcpus = (unsigned)v;
    if (!cx.failed && !c->max_vcpus)
        cx.failed = xerr(err, errlen, "xl's configuration: b_info.max_vcpus is 0");
    c->avail_vcpus = c->max_vcpus;
    const struct ms_json *av = member(&cx, bi, "b_info", "avail_vcpus", MS_JSON_ARRAY);
    if (av) {
        /* libxl writes a bitmap as the list of its set bits. */
        for (size_t i = 0; i < av->n && !cx.failed; i++)
            if (ms_json_uint(&av->items[i], c->max_vcpus - 1, &v))
                cx.failed = xerr(err, errlen, "xl's configuration: b_info.avail_vcpus[%zu] at"
                                 " offset %llu is not a vCPU below max_vcpus (%u)", i,
                                 (unsigned long long)av->items[i].offset, c->max_vcpus);
        c->avail_vcpus = av->n ? (unsigned)av->n : c->max_vcpus;
    }
    /* Xen 4.17 keeps these in b_info; older libxl in b_info."type.pv". */
    c->kernel = str_member(&cx, bi, "b_info", "kernel");
    if (!c->kernel)
        c->kernel = str_member(&cx, tpv, "b_info.type.pv", "kernel");
    c->ramdisk = str_member(&cx, bi, "b_info", "ramdisk");
    if (!c->ramdisk)
        c->ramdisk = str_member(&cx, tpv, "b_info.type.pv", "ramdisk");
    c->cmdline = str_member(&cx, bi, "b_info", "cmdline");
    if (!c->cmdline)
        c->cmdline = str_member(&cx, tpv, "b_info.type.pv", "cmdline");
    const struct ms_json *sp = member(&cx, bi, "b_info", "sched_params", MS_JSON_OBJECT);
    v = 0;
    if (uint_member(&cx, sp, "b_info.sched_params", "weight", 65535, &v) && v) {
        c->has_weight = true;
        c->weight = (unsigned)v;
    }
    v = 0;
    if (uint_member(&cx, sp, "b_info.sched_params", "cap", 51200, &v) && v) {
        c->has_cap = true;
        c->cap = (unsigned)v;
    }

    snprintf(c->on_poweroff, sizeof(c->on_poweroff), "destroy");
    snprintf(c->on_reboot, sizeof(c->on_reboot), "restart");
    snprintf(c->on_crash, sizeof(c->on_crash), "destroy");
    enum_member(&cx, root, "", "on_poweroff", actions, c->on_poweroff, sizeof(c->on_poweroff));
    enum_member(&cx, root, "", "on_reboot", actions, c->on_reboot, sizeof(c->on_reboot));
    enum_member(&cx, root, "", "on_crash", actions, c->on_crash, sizeof(c->on_crash));

    if (!cx.failed)
        parse_disks(&cx, member(&cx, root, "", "disks", MS_JSON_ARRAY), c);
    if (!cx.failed)
        parse_nics(&cx, member(&cx, root, "", "nics", MS_JSON_ARRAY), c);
    /* Device classes Mica does not attach on restore: named, not refused. */
    static const char *const others[] = { "pcidevs", "rdms", "dtdevs", "vfbs", "vkbs", "vtpms",
                                          "p9s", "pvcallsifs", "vdispls", "vsnds", "channels",
                                          "connectors", "usbctrls", "usbdevs", "virtios",
                                          NULL };
    for (size_t i = 0; others[i] && !cx.failed; i++) {
        const struct ms_json *a = member(&cx, root, "", others[i], MS_JSON_ARRAY);
        if (a && a->n)
            snprintf(c->not_taken + strlen(c->not_taken),
                     sizeof(c->not_taken) - strlen(c->not_taken), "%s%zu %s",
                     *c->not_taken ? ", " : "", a->n, others[i]);
    }
    ms_json_free(root);
    if (cx.failed) {
        ms_xl_config_free(c);
        return -1;
    }
    return 0;
}
