/*
 * vmctl backup NAME DIR, backup-verify DIR, backup-restore DIR
 * (docs/backups.md).  The block store, manifests and chains are
 * libbackup's (dom0-tools/libbackup); this file finds the domain, its
 * definition and disks, pauses a running domain for the copy, and turns a
 * backup back into a stored definition with its disks.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "bk.h"
#include "commands.h"
#include "defs.h"
#include "exitcodes.h"
#include "hv.h"
#include "store.h"

static int bk_exit(int st)
{
    return st == BK_UNUSABLE ? VMCTL_EXIT_INVALID
           : st == BK_EXISTS ? VMCTL_EXIT_EXISTS
                             : VMCTL_EXIT_FAILURE;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "r");
    char *buf = NULL;
    *len = 0;
    if (!f)
        return NULL;
    char chunk[8192];
    size_t got;
    while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        char *nx = realloc(buf, *len + got + 1);
        if (!nx) {
            free(buf);
            fclose(f);
            return NULL;
        }
        buf = nx;
        memcpy(buf + *len, chunk, got);
        *len += got;
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad || !buf) {
        free(buf);
        return NULL;
    }
    buf[*len] = 0;
    return buf;
}

/* ---- vmctl backup ------------------------------------------------------- */

struct freezer {
    const struct vmctl_command *cmd;
    struct hv *hv;
    uint32_t domid;
    const struct domain_config *cfg;
    sigset_t old_mask;
};

/* /sys/block/DEV/inflight of the dom0 device that serves path: the loop
   device bound to an image file, or the block device itself.  NULL when
   none is found (the disk is then not attached). */
static char *inflight_file(const char *path)
{
    struct stat st;
    char *out = NULL;
    if (stat(path, &st) < 0)
        return NULL;
    if (S_ISBLK(st.st_mode)) {
        if (asprintf(&out, "/sys/dev/block/%u:%u/inflight", major(st.st_rdev),
                     minor(st.st_rdev)) < 0)
            out = NULL;
        return out;
    }
    char real[PATH_MAX];
    if (!realpath(path, real))
        return NULL;
    DIR *dh = opendir("/sys/block");
    struct dirent *e;
    while (dh && !out && (e = readdir(dh))) {
        if (strncmp(e->d_name, "loop", 4) != 0)
            continue;
        char bf[300], *backing;
        size_t len;
        snprintf(bf, sizeof(bf), "/sys/block/%s/loop/backing_file", e->d_name);
        if (!(backing = read_file(bf, &len)))
            continue;
        while (len && backing[len - 1] == '\n')
            backing[--len] = 0;
        if (strcmp(backing, real) == 0 &&
            asprintf(&out, "/sys/block/%s/inflight", e->d_name) < 0)
            out = NULL;
        free(backing);
    }
    if (dh)
        closedir(dh);
    return out;
}

/* Waits (up to 5 s) until no request to the domain's disks is in flight
   in dom0: what blkback had taken from the rings before the pause lands
   before the copy starts. */
static void quiesce(struct freezer *f)
{
    for (size_t i = 0; i < f->cfg->n_disks; i++) {
        char *file = inflight_file(f->cfg->disks[i].source);
        if (!file)
            continue;
        bool idle = false;
        for (int n = 0; n < 500 && !idle; n++) {
            size_t len;
            char *v = read_file(file, &len);
            unsigned long r = 1, w = 1;
            idle = v && sscanf(v, "%lu %lu", &r, &w) == 2 && r == 0 && w == 0;
            free(v);
            if (!idle)
                usleep(10 * 1000);
        }
        if (!idle)
            cli_warn(f->cmd, "disk %s still had requests in flight after 5 s of pause (%s); "
                     "the copy goes on, as a crash at this moment would", f->cfg->disks[i].target,
                     file);
        free(file);
    }
}

static int do_freeze(void *ctx, char *err, size_t len)
{
    struct freezer *f = ctx;
    /* A vmctl killed while the domain is paused would leave it paused:
       the usual signals wait until the unpause. */
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    sigaddset(&block, SIGQUIT);
    sigprocmask(SIG_BLOCK, &block, &f->old_mask);
    if (hv_pause(f->hv, f->domid) != HV_OK) {
        snprintf(err, len, "pausing domain %u failed: %s", f->domid, hv_error(f->hv));
        sigprocmask(SIG_SETMASK, &f->old_mask, NULL);
        return BK_FAILED;
    }
    quiesce(f);
    return BK_OK;
}

static void do_thaw(void *ctx)
{
    struct freezer *f = ctx;
    if (hv_unpause(f->hv, f->domid) != HV_OK)
        fprintf(stderr, "vmctl %s: unpausing domain %u failed: %s; 'vmctl unpause %u' lets it "
                "run\n", f->cmd->name, f->domid, hv_error(f->hv), f->domid);
    sigprocmask(SIG_SETMASK, &f->old_mask, NULL);
}

static void human(uint64_t n, char *out, size_t len)
{
    if (n >= (1ull << 20))
        snprintf(out, len, "%.1f MiB", (double)n / (1 << 20));
    else if (n >= (1ull << 10))
        snprintf(out, len, "%.1f KiB", (double)n / (1 << 10));
    else
        snprintf(out, len, "%llu octets", (unsigned long long)n);
}

int cmd_backup(const struct vmctl_command *cmd, int argc, char **argv)
{
    bool full = false, offline = false;
    const struct cli_flag flags[] = { { .name = "full", .value = &full },
                                      { .name = "offline", .value = &offline },
                                      { .name = NULL } };
    const char *const names[] = { "NAME", "DIR" };
    const char *a[2];
    int rc;
    if (!cli_begin_args(cmd, argc, argv, flags, names, 2, a, &rc))
        return rc;
    struct store store;
    if ((rc = defs_store_open(cmd, &store)) != VMCTL_EXIT_OK)
        return rc;
    char *name = NULL, *xml = NULL, *path = NULL;
    size_t xml_len = 0;
    struct domain_config cfg = { 0 };
    struct bk_disk_source *disks = NULL;
    struct hv *hv = NULL;
    bool running = false;
    uint32_t domid = 0;

    if ((rc = defs_find(cmd, &store, a[0], &name)) == VMCTL_EXIT_NOT_FOUND) {
        rc = cli_fail(cmd, rc, "no domain named '%s' is defined; a backup needs the stored "
                      "definition ('vmctl define'; a domain made with 'vmctl create' has none)",
                      a[0]);
        goto out;
    }
    if (rc != VMCTL_EXIT_OK)
        goto out;
    if ((rc = defs_load_stored(cmd, &store, name, 0, &cfg)) != VMCTL_EXIT_OK)
        goto out;
    path = store_path(&store, name);
    if (!path || !(xml = read_file(path, &xml_len))) {
        rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "cannot read the definition of '%s'", name);
        goto out;
    }
    /* Running?  Then it is paused for the copy. */
    char herr[512];
    if (hv_open(&hv, herr, sizeof(herr)) != HV_OK) {
        hv = NULL;
        if (!offline) {
            rc = cli_fail(cmd, VMCTL_EXIT_HV_UNREACHABLE, "cannot reach the Mica hypervisor: %s; "
                          "to back up a domain that is not running without it, give --offline",
                          herr);
            goto out;
        }
    } else {
        struct hv_domain *list = NULL;
        size_t n = 0;
        if (hv_list(hv, &list, &n) != HV_OK) {
            rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "%s", hv_error(hv));
            goto out;
        }
        for (size_t i = 0; i < n && !running; i++)
            if (strcmp(list[i].name, name) == 0) {
                running = true;
                domid = list[i].domid;
            }
        free(list);
        if (running && offline) {
            rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "--offline, but '%s' runs (id %u); without "
                          "--offline it is paused for the copy", name, domid);
            goto out;
        }
    }
    disks = calloc(cfg.n_disks ? cfg.n_disks : 1, sizeof(*disks));
    if (!disks) {
        rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < cfg.n_disks; i++)
        disks[i] = (struct bk_disk_source){ .target = cfg.disks[i].target,
                                            .path = cfg.disks[i].source,
                                            .readonly = cfg.disks[i].readonly };
    struct freezer fz = { .cmd = cmd, .hv = hv, .domid = domid, .cfg = &cfg };
    struct bk_backup_params p = { .dir = a[1], .name = name, .xml = xml, .xml_len = xml_len,
                                  .disks = disks, .n_disks = cfg.n_disks, .full = full,
                                  .freeze = running ? do_freeze : NULL,
                                  .thaw = running ? do_thaw : NULL, .ctx = &fz };
    if (!cfg.has_uuid) {
        rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "the stored definition of '%s' has no <uuid>",
                      name);
        goto out;
    }
    memcpy(p.uuid, cfg.uuid, 16);
    struct bk_backup_result r;
    char err[1024];
    int st = bk_backup(&p, &r, err, sizeof(err));
    if (st != BK_OK) {
        rc = cli_fail(cmd, bk_exit(st), "%s; nothing was backed up", err);
        goto out;
    }
    char read_s[32], stored_s[32];
    human(r.disk_bytes, read_s, sizeof(read_s));
    human(r.stored_bytes + r.manifest_bytes, stored_s, sizeof(stored_s));
    printf("Backup %u of '%s' in %s: %s", r.seq, name, a[1], r.full ? "full" : "incremental");
    if (!r.full)
        printf(" after backup %u", r.parent_seq);
    printf("\n  %zu disk%s, %llu blocks (%s) read; %llu changed, %llu stored anew, %llu zero; "
           "%s written\n", cfg.n_disks, cfg.n_disks == 1 ? "" : "s",
           (unsigned long long)r.blocks, read_s, (unsigned long long)r.changed,
           (unsigned long long)r.stored, (unsigned long long)r.zero, stored_s);
    if (running)
        printf("  domain %u paused for %.3f s while its disks were read\n", domid,
               (double)r.pause_ns / 1e9);
    else
        printf("  the domain was not running\n");
    rc = VMCTL_EXIT_OK;
out:
    if (hv)
        hv_close(hv);
    free(disks);
    if (cfg.name)
        domcfg_free(&cfg);
    free(xml);
    free(path);
    free(name);
    store_fini(&store);
    return rc;
}

/* ---- vmctl backup-verify ------------------------------------------------ */

int cmd_backup_verify(const struct vmctl_command *cmd, int argc, char **argv)
{
    const char *dir;
    int rc;
    if (!cli_begin(cmd, argc, argv, NULL, "DIR", &dir, &rc))
        return rc;
    char err[1024];
    size_t problems = 0;
    int st = bk_verify(dir, stdout, &problems, err, sizeof(err));
    if (st != BK_OK)
        return cli_fail(cmd, bk_exit(st), "%s", err);
    if (problems)
        return cli_fail(cmd, VMCTL_EXIT_INVALID, "%s: %zu problem%s found (above)", dir,
                        problems, problems == 1 ? "" : "s");
    printf("%s: every block and manifest re-hashed, all match\n", dir);
    return VMCTL_EXIT_OK;
}

/* ---- vmctl backup-restore ----------------------------------------------- */

static xmlNodePtr child(xmlNodePtr parent, const char *name)
{
    for (xmlNodePtr c = parent ? parent->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && xmlStrcmp(c->name, BAD_CAST name) == 0)
            return c;
    return NULL;
}

static void random_mac(char out[18])
{
    uint8_t b[3];
    if (getentropy(b, sizeof(b)) < 0) {
        long r = random();
        memcpy(b, &r, 3);
    }
    snprintf(out, 18, "00:16:3e:%02x:%02x:%02x", b[0] & 0x7f, b[1], b[2]);
}

/* The backup's XML with the new name, UUID, MACs (when fresh) and disk
   paths.  malloc'd; NULL with err set. */
static char *rewrite_xml(const char *xml, const char *new_name, const uint8_t uuid[16],
                         bool fresh_macs, const struct bk_manifest *m, char *const *dest,
                         char *err, size_t len)
{
    xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "backup.xml", NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
    char *out = NULL;
    if (!root || xmlStrcmp(root->name, BAD_CAST "domain") != 0) {
        snprintf(err, len, "the definition in the backup is not a <domain> document");
        goto done;
    }
    xmlNodePtr n = child(root, "name");
    if (!n) {
        snprintf(err, len, "the definition in the backup has no <name>");
        goto done;
    }
    xmlNodeSetContent(n, BAD_CAST new_name);
    char u[37];
    domcfg_format_uuid(uuid, u);
    xmlNodePtr un = child(root, "uuid");
    if (un)
        xmlNodeSetContent(un, BAD_CAST u);
    else
        xmlAddNextSibling(n, xmlNewDocNode(doc, NULL, BAD_CAST "uuid", BAD_CAST u));
    xmlNodePtr devs = child(root, "devices");
    for (xmlNodePtr c = devs ? devs->children : NULL; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (fresh_macs && xmlStrcmp(c->name, BAD_CAST "interface") == 0) {
            xmlNodePtr mac = child(c, "mac");
            char a[18];
            random_mac(a);
            if (mac)
                xmlSetProp(mac, BAD_CAST "address", BAD_CAST a);
        }
        if (xmlStrcmp(c->name, BAD_CAST "disk") != 0)
            continue;
        xmlNodePtr t = child(c, "target");
        xmlChar *dev = t ? xmlGetProp(t, BAD_CAST "dev") : NULL;
        for (uint32_t i = 0; dev && i < m->h.nr_disks; i++) {
            if (strcmp((const char *)dev, m->disks[i].target) != 0)
                continue;
            xmlNodePtr s = child(c, "source");
            if (!s)
                s = xmlNewChild(c, NULL, BAD_CAST "source", NULL);
            xmlUnsetProp(s, BAD_CAST "dev");
            xmlSetProp(s, BAD_CAST "file", BAD_CAST dest[i]);
            xmlSetProp(c, BAD_CAST "type", BAD_CAST "file");
            xmlNodePtr drv = child(c, "driver");
            xmlChar *dn = drv ? xmlGetProp(drv, BAD_CAST "name") : NULL;
            if (dn && xmlStrcmp(dn, BAD_CAST "phy") == 0)
                xmlSetProp(drv, BAD_CAST "name", BAD_CAST "file");
            xmlFree(dn);
        }
        xmlFree(dev);
    }
    xmlChar *text = NULL;
    int tl = 0;
    xmlDocDumpFormatMemory(doc, &text, &tl, 0);
    if (text) {
        out = strndup((const char *)text, (size_t)tl);
        xmlFree(text);
    }
    if (!out)
        snprintf(err, len, "out of memory");
done:
    if (doc)
        xmlFreeDoc(doc);
    return out;
}

static bool uuid_defined(const struct store *store, const uint8_t uuid[16], char **who)
{
    char **names, err[256];
    size_t count;
    bool found = false;
    if (store_list(store, &names, &count, err, sizeof(err)) < 0)
        return false;
    for (size_t i = 0; i < count && !found; i++) {
        struct domain_config c;
        struct domcfg_diags dg;
        char *p = store_path(store, names[i]);
        domcfg_diags_init(&dg, names[i]);
        if (p && domcfg_load_file(p, 0, &c, &dg, NULL) == DOMCFG_OK) {
            if (c.has_uuid && memcmp(c.uuid, uuid, 16) == 0) {
                found = true;
                *who = strdup(names[i]);
            }
            domcfg_free(&c);
        }
        domcfg_diags_free(&dg);
        free(p);
    }
    store_free_names(names, count);
    return found;
}

int cmd_backup_restore(const struct vmctl_command *cmd, int argc, char **argv)
{
    const char *new_name = NULL, *at_text = NULL, *disk_dir = NULL, *dir;
    const struct cli_flag flags[] = { { .name = "name", .arg = &new_name },
                                      { .name = "at", .arg = &at_text },
                                      { .name = "disk-dir", .arg = &disk_dir },
                                      { .name = NULL } };
    int rc;
    if (!cli_begin(cmd, argc, argv, flags, "DIR", &dir, &rc))
        return rc;
    unsigned long at = 0;
    if (at_text && !cli_number(cmd, "at", at_text, 1, BK_MAX_SEQ, &at))
        return VMCTL_EXIT_USAGE;
    if (new_name && !store_name_valid(new_name))
        return cli_usage_error(cmd, "'%s' cannot be a domain name (letters, digits, '.', '-', "
                               "'_', at most %d)", new_name, DOMCFG_NAME_MAX);
    if (disk_dir && disk_dir[0] != '/')
        return cli_usage_error(cmd, "--disk-dir wants an absolute path");

    struct bk_dir d;
    struct bk_manifest m;
    char err[1024];
    int st = bk_dir_open(dir, &d, err, sizeof(err));
    if (st != BK_OK)
        return cli_fail(cmd, bk_exit(st), "%s", err);
    if ((st = bk_load_chain(&d, (uint32_t)at, &m, err, sizeof(err))) != BK_OK) {
        bk_dir_close(&d);
        return cli_fail(cmd, bk_exit(st), "%s; nothing restored", err);
    }
    struct store store;
    char **dest = calloc(m.h.nr_disks ? m.h.nr_disks : 1, sizeof(char *));
    char *xml = NULL, *who = NULL;
    const char *name = new_name ? new_name : m.name;
    bool locked = false, restored = false;
    uint8_t uuid[16];
    memcpy(uuid, m.h.uuid, 16);
    if ((rc = defs_store_open(cmd, &store)) != VMCTL_EXIT_OK) {
        free(dest);
        bk_manifest_free(&m);
        bk_dir_close(&d);
        return rc;
    }
    if (!dest) {
        rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "out of memory");
        goto out;
    }
    if (store_lock(&store, err, sizeof(err)) < 0) {
        rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "%s", err);
        goto out;
    }
    locked = true;
    /* The name must be free: not defined, not running. */
    char *have = NULL;
    if (defs_find(cmd, &store, name, &have) == VMCTL_EXIT_OK) {
        free(have);
        rc = cli_fail(cmd, VMCTL_EXIT_EXISTS, "a domain named '%s' is defined; --name NEW "
                      "restores the backup as another domain", name);
        goto out;
    }
    struct hv *hv = NULL;
    char herr[256];
    bool uuid_running = false;
    if (hv_open(&hv, herr, sizeof(herr)) == HV_OK) {
        struct hv_domain *list = NULL;
        size_t n = 0;
        if (hv_list(hv, &list, &n) == HV_OK)
            for (size_t i = 0; i < n; i++) {
                if (strcmp(list[i].name, name) == 0) {
                    free(list);
                    hv_close(hv);
                    rc = cli_fail(cmd, VMCTL_EXIT_EXISTS, "a domain named '%s' is running; "
                                  "--name NEW restores the backup as another domain", name);
                    goto out;
                }
                uuid_running |= memcmp(list[i].uuid, uuid, 16) == 0;
            }
        free(list);
        hv_close(hv);
    }
    /* The original still exists: a copy gets its own UUID and MACs. */
    bool fresh = uuid_running || uuid_defined(&store, uuid, &who);
    if (fresh && !new_name) {
        rc = cli_fail(cmd, VMCTL_EXIT_EXISTS, "the backup's domain UUID is in use (by '%s'); "
                      "--name NEW restores it as a new domain with a fresh UUID and MACs",
                      who ? who : "a running domain");
        goto out;
    }
    if (fresh && defs_random_uuid(uuid) < 0) {
        rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "cannot make a UUID: %s", strerror(errno));
        goto out;
    }
    /* Where each disk goes. */
    for (uint32_t i = 0; i < m.h.nr_disks; i++) {
        const struct bk_disk *dk = &m.disks[i];
        int r;
        if (disk_dir) {
            r = asprintf(&dest[i], "%s/%s-%s.img", disk_dir, name, dk->target);
        } else if (dk->flags & BK_DISK_BLOCKDEV) {
            rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "disk %s was the block device %s; a restore "
                          "writes image files: give --disk-dir DIR", dk->target, dk->source);
            goto out;
        } else if (!new_name) {
            r = asprintf(&dest[i], "%s", dk->source);
        } else {
            const char *slash = strrchr(dk->source, '/');
            r = asprintf(&dest[i], "%.*s%s-%s.img", slash ? (int)(slash - dk->source + 1) : 0,
                         dk->source, name, dk->target);
        }
        if (r < 0) {
            dest[i] = NULL;
            rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "out of memory");
            goto out;
        }
    }
    xml = rewrite_xml(m.xml, name, uuid, fresh, &m, dest, err, sizeof(err));
    if (!xml) {
        rc = cli_fail(cmd, VMCTL_EXIT_INVALID, "%s", err);
        goto out;
    }
    struct domain_config cfg;
    struct domcfg_diags dg;
    domcfg_diags_init(&dg, "the restored definition");
    if (domcfg_load_memory(xml, strlen(xml), "the restored definition", 0, &cfg, &dg, NULL) !=
        DOMCFG_OK) {
        domcfg_diags_print(&dg, stderr, 20);
        domcfg_diags_free(&dg);
        rc = cli_fail(cmd, VMCTL_EXIT_INVALID, "the definition in backup %u does not validate "
                      "as a domain any more; nothing restored", m.h.seq);
        goto out;
    }
    domcfg_diags_free(&dg);
    if (access(cfg.kernel, F_OK) < 0 || (cfg.initrd && access(cfg.initrd, F_OK) < 0))
        cli_warn(cmd, "the kernel %s or initrd %s is not on this machine (a backup holds "
                 "disks and the definition, not them); 'vmctl start %s' needs them", cfg.kernel,
                 cfg.initrd ? cfg.initrd : "(none)", name);
    domcfg_free(&cfg);
    if ((st = bk_restore_disks(&d, &m, (const char *const *)dest, err, sizeof(err))) != BK_OK) {
        rc = cli_fail(cmd, bk_exit(st), "%s; nothing restored", err);
        goto out;
    }
    restored = true;
    if (store_write(&store, name, xml, strlen(xml), err, sizeof(err)) < 0) {
        rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "%s; the restored disks are removed again", err);
        goto out;
    }
    restored = false;
    char u[37];
    domcfg_format_uuid(uuid, u);
    printf("Domain '%s' defined from backup %u of '%s' (%s), UUID %s%s\n", name, m.h.seq,
           m.name, dir, u, fresh ? " (fresh, and fresh MACs: the original still exists)" : "");
    for (uint32_t i = 0; i < m.h.nr_disks; i++)
        printf("  disk %s: %s\n", m.disks[i].target, dest[i]);
    printf("'vmctl start %s' starts it\n", name);
    rc = VMCTL_EXIT_OK;
out:
    if (restored)
        for (uint32_t i = 0; i < m.h.nr_disks; i++)
            unlink(dest[i]);
    for (uint32_t i = 0; dest && i < m.h.nr_disks; i++)
        free(dest[i]);
    free(dest);
    free(xml);
    free(who);
    if (locked)
        store_unlock(&store);
    store_fini(&store);
    bk_manifest_free(&m);
    bk_dir_close(&d);
    return rc;
}
