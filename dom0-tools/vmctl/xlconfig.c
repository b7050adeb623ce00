/* libxl's domain configuration (from xl's save file) as a Mica definition. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domcfg.h"
#include "xlconfig.h"

/* Text for an XML attribute or element: & < > " ' escaped. */
static void put_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&apos;", f); break;
        default: fputc(*s, f); break;
        }
    }
}

/* libxl's action names in libvirt's spelling; NULL for soft_reset. */
static const char *action(const char *libxl)
{
    static const char *const map[][2] = {
        { "destroy", "destroy" }, { "restart", "restart" },
        { "restart_rename", "rename-restart" }, { "preserve", "preserve" },
        { "coredump_destroy", "coredump-destroy" }, { "coredump_restart", "coredump-restart" },
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(libxl, map[i][0]) == 0)
            return map[i][1];
    return NULL;
}

static bool pv_disk_name(const char *v)
{
    size_t n = strlen(v);
    if (n < 4 || n > 5 || strncmp(v, "xvd", 3) != 0)
        return false;
    for (size_t i = 3; i < n; i++)
        if (v[i] < 'a' || v[i] > 'z')
            return false;
    return true;
}

char *xlconfig_to_xml(const struct ms_xl_config *c, size_t *len, char *err, size_t errlen)
{
    const char *acts[3][2] = { { "on_poweroff", c->on_poweroff }, { "on_reboot", c->on_reboot },
                               { "on_crash", c->on_crash } };
    if (!c->kernel) {
        snprintf(err, errlen, "xl's configuration names no kernel (b_info.kernel; a domain"
                 " booted by a bootloader such as pygrub?): a Mica definition needs one");
        return NULL;
    }
    for (int i = 0; i < 3; i++)
        if (!action(acts[i][1])) {
            snprintf(err, errlen, "xl's configuration: %s is \"%s\", which Mica has no"
                     " action for", acts[i][0], acts[i][1]);
            return NULL;
        }
    for (size_t i = 0; i < c->n_disks; i++) {
        const struct ms_xl_disk *d = &c->disks[i];
        if (!pv_disk_name(d->vdev)) {
            snprintf(err, errlen, "xl's configuration: disks[%zu].vdev (the disk at offset %llu)"
                     " is \"%.20s\"; Mica names PV disks xvdX or xvdXY", i,
                     (unsigned long long)d->offset, d->vdev);
            return NULL;
        }
        if (strcmp(d->format, "raw") && strcmp(d->format, "qcow2") &&
            strcmp(d->format, "unknown")) {
            snprintf(err, errlen, "xl's configuration: disks[%zu] (%s, at offset %llu) is in"
                     " format %s; Mica serves raw and qcow2 images", i, d->vdev,
                     (unsigned long long)d->offset, d->format);
            return NULL;
        }
        if (!d->path || d->path[0] != '/') {
            snprintf(err, errlen, "xl's configuration: disks[%zu] (%s, at offset %llu) has %s"
                     "; Mica's definitions name an absolute path (an empty cdrom drive is not"
                     " taken)", i, d->vdev, (unsigned long long)d->offset,
                     d->path ? "a relative pdev_path" : "no pdev_path");
            return NULL;
        }
    }

    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    if (!f) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    fprintf(f, "<domain type='xen' xmlns:mica='%s'>\n  <name>", DOMCFG_MICA_NS);
    put_text(f, c->name);
    fputs("</name>\n", f);
    if (c->has_uuid) {
        char u[37];
        domcfg_format_uuid(c->uuid, u);
        fprintf(f, "  <uuid>%s</uuid>\n", u);
    }
    fprintf(f, "  <memory unit='KiB'>%llu</memory>\n", (unsigned long long)c->max_memkb);
    fprintf(f, "  <currentMemory unit='KiB'>%llu</currentMemory>\n",
            (unsigned long long)c->target_memkb);
    fprintf(f, "  <vcpu current='%u'>%u</vcpu>\n", c->avail_vcpus, c->max_vcpus);
    fputs("  <os>\n    <type>linux</type>\n    <kernel>", f);
    put_text(f, c->kernel);
    fputs("</kernel>\n", f);
    if (c->ramdisk) {
        fputs("    <initrd>", f);
        put_text(f, c->ramdisk);
        fputs("</initrd>\n", f);
    }
    if (c->cmdline) {
        fputs("    <cmdline>", f);
        put_text(f, c->cmdline);
        fputs("</cmdline>\n", f);
    }
    fputs("  </os>\n", f);
    for (int i = 0; i < 3; i++)
        fprintf(f, "  <%s>%s</%s>\n", acts[i][0], action(acts[i][1]), acts[i][0]);
    fputs("  <devices>\n", f);
    for (size_t i = 0; i < c->n_disks; i++) {
        const struct ms_xl_disk *d = &c->disks[i];
        bool block = strncmp(d->path, "/dev/", 5) == 0;
        fprintf(f, "    <disk type='%s' device='%s'>\n", block ? "block" : "file",
                d->cdrom ? "cdrom" : "disk");
        fprintf(f, "      <driver type='%s'/>\n      <source %s='", 
                strcmp(d->format, "qcow2") == 0 ? "qcow2" : "raw", block ? "dev" : "file");
        put_text(f, d->path);
        fprintf(f, "'/>\n      <target dev='%s' bus='xen'/>\n", d->vdev);
        if (!d->readwrite)
            fputs("      <readonly/>\n", f);
        fputs("    </disk>\n", f);
    }
    for (size_t i = 0; i < c->n_nics; i++) {
        const struct ms_xl_nic *n = &c->nics[i];
        fputs("    <interface type='bridge'>\n      <source bridge='", f);
        put_text(f, n->bridge ? n->bridge : "xenbr0");
        fputs("'/>\n", f);
        if (n->has_mac)
            fprintf(f, "      <mac address='%02x:%02x:%02x:%02x:%02x:%02x'/>\n", n->mac[0],
                    n->mac[1], n->mac[2], n->mac[3], n->mac[4], n->mac[5]);
        if (n->ifname) {
            fputs("      <target dev='", f);
            put_text(f, n->ifname);
            fputs("'/>\n", f);
        }
        fputs("    </interface>\n", f);
    }
    fputs("    <console type='pty'/>\n  </devices>\n", f);
    if (c->has_weight || c->has_cap) {
        fputs("  <mica:scheduler", f);
        if (c->has_weight)
            fprintf(f, " weight='%u'", c->weight);
        if (c->has_cap)
            fprintf(f, " cap='%u'", c->cap);
        fputs("/>\n", f);
    }
    fputs("</domain>\n", f);
    if (fclose(f) || !buf) {
        free(buf);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    *len = size;
    return buf;
}

/* ---- the other way: a definition as libxl's JSON (vmctl save --xl-format) ---- */

static void put_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

static const char *libxl_action(enum domcfg_action a)
{
    switch (a) {
    case DOMCFG_ACTION_DESTROY: return "destroy";
    case DOMCFG_ACTION_RESTART: return "restart";
    case DOMCFG_ACTION_PRESERVE: return "preserve";
    case DOMCFG_ACTION_RENAME_RESTART: return "restart_rename";
    case DOMCFG_ACTION_COREDUMP_DESTROY: return "coredump_destroy";
    case DOMCFG_ACTION_COREDUMP_RESTART: return "coredump_restart";
    }
    return "destroy";
}

char *xlconfig_json(const struct domain_config *cfg, const uint8_t uuid[16],
                    const uint8_t (*macs)[6], char *err, size_t errlen)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    if (!f) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    char u[37];
    domcfg_format_uuid(uuid, u);
    unsigned vmax = cfg->vcpus_max ? cfg->vcpus_max : 1;
    unsigned vcur = cfg->vcpus_current ? cfg->vcpus_current : vmax;
    fputs("{\n    \"c_info\": {\n        \"type\": \"pv\",\n        \"name\": ", f);
    put_json_string(f, cfg->name);
    fprintf(f, ",\n        \"uuid\": \"%s\"\n    },\n    \"b_info\": {\n"
            "        \"max_vcpus\": %u,\n        \"avail_vcpus\": [", u, vmax);
    for (unsigned i = 0; i < vcur; i++)
        fprintf(f, "%s%u", i ? ", " : "", i);
    fprintf(f, "],\n        \"max_memkb\": %llu,\n        \"target_memkb\": %llu,\n",
            (unsigned long long)cfg->memory_kib,
            (unsigned long long)(cfg->current_memory_kib ? cfg->current_memory_kib
                                                         : cfg->memory_kib));
    const char *keys[3] = { "kernel", "ramdisk", "cmdline" };
    const char *vals[3] = { cfg->kernel, cfg->initrd, cfg->cmdline };
    for (int i = 0; i < 3; i++)
        if (vals[i]) {
            fprintf(f, "        \"%s\": ", keys[i]);
            put_json_string(f, vals[i]);
            fputs(",\n", f);
        }
    fputs("        \"type.pv\": {\n        }\n    },\n    \"disks\": [", f);
    for (size_t i = 0; i < cfg->n_disks; i++) {
        const struct domcfg_disk *d = &cfg->disks[i];
        fprintf(f, "%s\n        {\n            \"pdev_path\": ", i ? "," : "");
        put_json_string(f, d->source);
        fprintf(f, ",\n            \"vdev\": \"%s\",\n            \"format\": \"%s\",\n"
                "            \"readwrite\": %d,\n            \"is_cdrom\": %d\n        }",
                d->target, d->format == DOMCFG_FORMAT_QCOW2 ? "qcow2" : "raw", !d->readonly,
                d->cdrom);
    }
    fputs("\n    ],\n    \"nics\": [", f);
    for (size_t i = 0; i < cfg->n_nics; i++) {
        const struct domcfg_nic *n = &cfg->nics[i];
        const uint8_t *m = n->has_mac ? n->mac : macs ? macs[i] : NULL;
        fprintf(f, "%s\n        {\n            \"devid\": %zu", i ? "," : "", i);
        if (m)
            fprintf(f, ",\n            \"mac\": \"%02x:%02x:%02x:%02x:%02x:%02x\"", m[0], m[1],
                    m[2], m[3], m[4], m[5]);
        if (n->type == DOMCFG_NIC_BRIDGE && n->bridge) {
            fputs(",\n            \"bridge\": ", f);
            put_json_string(f, n->bridge);
        }
        if (n->target_dev) {
            fputs(",\n            \"ifname\": ", f);
            put_json_string(f, n->target_dev);
        }
        fputs("\n        }", f);
    }
    fprintf(f, "\n    ],\n    \"on_poweroff\": \"%s\",\n    \"on_reboot\": \"%s\",\n"
            "    \"on_crash\": \"%s\"\n}\n", libxl_action(cfg->on_poweroff),
            libxl_action(cfg->on_reboot), libxl_action(cfg->on_crash));
    if (fclose(f) || !buf) {
        free(buf);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    return buf;
}
