/*
 * vmctl clone SOURCE NEW (docs/snapshots.md): a new domain from a template
 * or a stopped domain, with a fresh name, UUID and MACs and copy-on-write
 * disks: a qcow2 overlay per writable disk in $MICA_STATE_DIR/images/,
 * backed by the source's image.  A template's images never change (it is
 * never started).  A plain domain's image is frozen first, as a snapshot
 * freezes it: the file becomes IMAGE.base-NEW and a qcow2 overlay on it
 * takes its place, so that the source can run on without changing what
 * its clones see.  Read-only disks are shared as they are.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "defs.h"
#include "exitcodes.h"
#include "imgtools.h"

#define CLONE_PATH_MAX 4096

static xmlNodePtr first_child(xmlNodePtr n, const char *name)
{
    for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && !c->ns && xmlStrEqual(c->name, BAD_CAST name))
            return c;
    return NULL;
}

/* The <disk> element whose <target dev> is target. */
static xmlNodePtr disk_element(xmlNodePtr root, const char *target)
{
    xmlNodePtr devs = first_child(root, "devices");
    for (xmlNodePtr c = devs ? devs->children : NULL; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE || !xmlStrEqual(c->name, BAD_CAST "disk"))
            continue;
        xmlChar *dev = xmlGetProp(first_child(c, "target"), BAD_CAST "dev");
        bool match = dev && strcmp((const char *)dev, target) == 0;
        xmlFree(dev);
        if (match)
            return c;
    }
    return NULL;
}

/* <disk> now reads the qcow2 image at path. */
static int point_disk(xmlNodePtr disk, const char *path)
{
    xmlNodePtr src = first_child(disk, "source");
    xmlNodePtr drv = first_child(disk, "driver");
    if (!src)
        return -1;
    if (!drv) {
        drv = xmlNewNode(NULL, BAD_CAST "driver");
        if (!drv || !xmlAddPrevSibling(src, drv))
            return -1;
    }
    if (!xmlSetProp(drv, BAD_CAST "type", BAD_CAST "qcow2") ||
        !xmlSetProp(src, BAD_CAST "file", BAD_CAST path))
        return -1;
    return 0;
}

/* Removes n and the indentation before it. */
static void remove_node(xmlNodePtr n)
{
    if (n && n->prev && n->prev->type == XML_TEXT_NODE && xmlIsBlankNode(n->prev)) {
        xmlNodePtr ws = n->prev;
        xmlUnlinkNode(ws);
        xmlFreeNode(ws);
    }
    if (n) {
        xmlUnlinkNode(n);
        xmlFreeNode(n);
    }
}

static char *xml_text(xmlDocPtr doc, size_t *len)
{
    xmlChar *mem = NULL;
    int size = 0;
    xmlDocDumpMemoryEnc(doc, &mem, &size, "UTF-8");
    char *s = mem ? strndup((const char *)mem, (size_t)size) : NULL;
    xmlFree(mem);
    *len = s ? (size_t)size : 0;
    return s;
}

int cmd_clone(const struct vmctl_command *cmd, int argc, char **argv)
{
    static const char *const names[] = { "SOURCE", "NEW" };
    const char *a[2];
    int rc;
    if (!cli_begin_args(cmd, argc, argv, NULL, names, 2, a, &rc))
        return rc;
    if (!store_name_valid(a[1]))
        return cli_usage_error(cmd, "'%s' cannot be a domain name: use A-Z a-z 0-9 _ . - "
                               "(starting with a letter or digit)", a[1]);
    struct store store;
    if ((rc = defs_store_open(cmd, &store)) != VMCTL_EXIT_OK)
        return rc;
    char *src = NULL, *other = NULL;
    struct domain_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    xmlDocPtr doc = NULL, srcdoc = NULL;
    char *spath = NULL;
    size_t n = 0, made = 0, frozen = 0;
    char (*overlay)[CLONE_PATH_MAX] = NULL, (*base)[CLONE_PATH_MAX] = NULL;
    bool defined = false;
    if ((rc = defs_find_or_report(cmd, &store, a[0], &src)) != VMCTL_EXIT_OK)
        goto out;
    if (defs_find(cmd, &store, a[1], &other) == VMCTL_EXIT_OK) {
        rc = cli_fail(cmd, VMCTL_EXIT_EXISTS, "a domain named '%s' is already defined; choose "
                      "another name", a[1]);
        goto out;
    }
    if ((rc = defs_load_stored(cmd, &store, src, DOMCFG_CHECK_FILES, &cfg)) != VMCTL_EXIT_OK)
        goto out;
    if (!cfg.is_template && img_domain_running(src)) {
        rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "'%s' is running; clone a stopped domain or a "
                      "template (shut it down first)", src);
        goto out;
    }
    spath = store_path(&store, src);
    doc = spath ? xmlReadFile(spath, NULL, XML_PARSE_NONET) : NULL;
    srcdoc = doc ? xmlCopyDoc(doc, 1) : NULL;
    n = cfg.n_disks;
    overlay = calloc(n + 1, sizeof(*overlay));
    base = calloc(n + 1, sizeof(*base));
    if (!doc || !srcdoc || !overlay || !base) {
        rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "cannot read %s", spath ? spath : src);
        goto out;
    }
    xmlNodePtr root = xmlDocGetRootElement(doc);
    char dir[2048];
    snprintf(dir, sizeof(dir), "%s/images", store.dir);
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "cannot make %s: %s", dir, strerror(errno));
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const struct domcfg_disk *d = &cfg.disks[i];
        if (d->readonly || d->cdrom)
            continue;
        if (d->type != DOMCFG_DISK_FILE) {
            rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "disk %s of '%s' is the block device %s; "
                          "clones need image files; nothing was changed", d->target, src,
                          d->source);
            goto undo;
        }
        snprintf(overlay[i], sizeof(overlay[i]), "%s/%s.%s.qcow2", dir, a[1], d->target);
        if (access(overlay[i], F_OK) == 0) {
            rc = cli_fail(cmd, VMCTL_EXIT_EXISTS, "%s is in the way; move it away", overlay[i]);
            overlay[i][0] = '\0';
            goto undo;
        }
    }
    for (made = 0; made < n; made++) {
        const struct domcfg_disk *d = &cfg.disks[made];
        if (!overlay[made][0])
            continue;
        const char *fmt = d->format == DOMCFG_FORMAT_QCOW2 ? "qcow2" : "raw";
        const char *backing = d->source;
        if (!cfg.is_template) {
            /* Freeze the source's image under its clones. */
            snprintf(base[made], sizeof(base[made]), "%s.base-%s", d->source, a[1]);
            if (access(base[made], F_OK) == 0 || rename(d->source, base[made]) < 0) {
                rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "cannot move %s to %s: %s", d->source,
                              base[made], access(base[made], F_OK) == 0 ? "it exists" :
                              strerror(errno));
                base[made][0] = '\0';
                goto undo;
            }
            if (img_create_overlay(d->source, base[made], fmt) < 0) {
                rename(base[made], d->source);
                base[made][0] = '\0';
                rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "cannot put an overlay on %s", base[made]);
                goto undo;
            }
            frozen++;
            backing = base[made];
        }
        if (img_create_overlay(overlay[made], backing, fmt) < 0) {
            rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "cannot make %s", overlay[made]);
            made++;
            goto undo;
        }
        if (point_disk(disk_element(root, d->target), overlay[made]) < 0) {
            rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "cannot rewrite disk %s in the definition",
                          d->target);
            made++;
            goto undo;
        }
    }
    /* A fresh identity: name, no UUID (define makes one), new MACs. */
    xmlNodeSetContent(first_child(root, "name"), BAD_CAST a[1]);
    remove_node(first_child(root, "uuid"));
    for (xmlNodePtr c = root->children; c;) {
        xmlNodePtr next = c->next;
        if (c->type == XML_ELEMENT_NODE && c->ns && xmlStrEqual(c->name, BAD_CAST "template"))
            remove_node(c);
        c = next;
    }
    xmlNodePtr devs = first_child(root, "devices");
    for (xmlNodePtr c = devs ? devs->children : NULL; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE || !xmlStrEqual(c->name, BAD_CAST "interface"))
            continue;
        uint8_t r[3];
        char mac[18];
        if (getrandom(r, sizeof(r), 0) != sizeof(r)) {
            rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "cannot pick a MAC: %s", strerror(errno));
            goto undo;
        }
        /* 00:16:3e is Xen's prefix, as libxl picks them. */
        snprintf(mac, sizeof(mac), "00:16:3e:%02x:%02x:%02x", r[0] & 0x7f, r[1], r[2]);
        xmlNodePtr m = first_child(c, "mac");
        if (!m) {
            m = xmlNewChild(c, NULL, BAD_CAST "mac", NULL);
            if (!m) {
                rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "out of memory");
                goto undo;
            }
        }
        xmlSetProp(m, BAD_CAST "address", BAD_CAST mac);
    }
    char tmp[CLONE_PATH_MAX + 32];
    snprintf(tmp, sizeof(tmp), "%s/.clone-%s.xml", dir, a[1]);
    size_t len;
    char *text = xml_text(doc, &len);
    FILE *f = text ? fopen(tmp, "we") : NULL;
    bool wrote = f && fwrite(text, 1, len, f) == len;
    wrote = f && fclose(f) == 0 && wrote;
    free(text);
    if (!wrote) {
        unlink(tmp);
        rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "cannot write %s", tmp);
        goto undo;
    }
    char *dargv[] = { "vmctl", "define", tmp, NULL };
    int drc = img_run(dargv, NULL, 0);
    unlink(tmp);
    if (drc != 0) {
        rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "defining the clone failed (see above); "
                      "nothing was changed");
        goto undo;
    }
    defined = true;
    if (frozen) {
        /* The source now runs on its own overlay over the frozen image. */
        xmlNodePtr sroot = xmlDocGetRootElement(srcdoc);
        char err[512];
        for (size_t i = 0; i < n; i++)
            if (base[i][0])
                point_disk(disk_element(sroot, cfg.disks[i].target), cfg.disks[i].source);
        char *stext = xml_text(srcdoc, &len);
        if (!stext || store_lock(&store, err, sizeof(err)) < 0 ||
            store_write(&store, src, stext, len, err, sizeof(err)) < 0) {
            free(stext);
            rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "cannot rewrite the definition of '%s' for "
                          "its qcow2 overlays: %s", src, err);
            char *uargv[] = { "vmctl", "undefine", (char *)a[1], NULL };
            img_run(uargv, NULL, 0);
            defined = false;
            goto undo;
        }
        store_unlock(&store);
        free(stext);
    }
    unsigned long long used = 0;
    for (size_t i = 0; i < n; i++)
        if (overlay[i][0])
            used += img_disk_usage(overlay[i]);
    printf("Domain '%s' cloned from %s '%s': %s%llu KiB of new disk%s\n", a[1],
           cfg.is_template ? "template" : "domain", src, "", used / 1024,
           frozen ? "; the source's images are frozen under new overlays" : "");
    rc = VMCTL_EXIT_OK;
    goto out;
undo:
    if (!defined) {
        for (size_t i = 0; i < made && i < n; i++) {
            if (overlay[i][0])
                unlink(overlay[i]);
            if (base[i][0] && unlink(cfg.disks[i].source) == 0)
                rename(base[i], cfg.disks[i].source);
        }
    }
out:
    free(overlay);
    free(base);
    xmlFreeDoc(doc);
    xmlFreeDoc(srcdoc);
    free(spath);
    domcfg_free(&cfg);
    free(src);
    free(other);
    store_fini(&store);
    return rc;
}
