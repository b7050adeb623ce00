/*
 * vmctl snapshot-create, -list, -revert, -delete, -dumpxml
 * (docs/snapshots.md).
 *
 * Layout: a domain's qcow2 image keeps its path for ever.  A snapshot
 * SNAP freezes it: the image file is renamed to IMAGE.snap-SNAP (the
 * layer) and a new, empty overlay is made at IMAGE with the layer as its
 * backing file.  The metadata (<domainsnapshot>, snapmeta.h) and the
 * memory image (vmctl save's format) live in
 * $MICA_STATE_DIR/snapshots/DOMAIN/ as SNAP.xml and SNAP.state, with the
 * name of the current snapshot in "current".  A running domain is saved
 * before its images change and restored after, so the domain's state
 * file names the same image paths throughout.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "defs.h"
#include "exitcodes.h"
#include "imgtools.h"
#include "snapmeta.h"

#define SNAP_PATH_MAX 4096

struct snapdir {
    char dir[2048];
    int lock_fd;
    struct snap_meta *metas;
    size_t n;
    char current[80];   /* "" when none */
};

static void snapdir_free(struct snapdir *sd)
{
    for (size_t i = 0; i < sd->n; i++)
        snapmeta_free(&sd->metas[i]);
    free(sd->metas);
    sd->metas = NULL;
    sd->n = 0;
    if (sd->lock_fd >= 0)
        close(sd->lock_fd);
    sd->lock_fd = -1;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n - 1 == 0) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        *len = n;
    }
    return buf;
}

/* Writes data to path through a temporary file and a rename. */
static int write_atomic(const char *path, const char *data, size_t len)
{
    char tmp[SNAP_PATH_MAX + 8];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    bool ok = write(fd, data, len) == (ssize_t)len && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) < 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* Opens (mode create: makes) the domain's snapshot directory, locks it
   and reads every snapshot in it.  A vmctl exit status. */
static int snapdir_open(const struct vmctl_command *cmd, const struct store *store,
                        const char *domain, bool create, struct snapdir *sd)
{
    memset(sd, 0, sizeof(*sd));
    sd->lock_fd = -1;
    char parent[SNAP_PATH_MAX];
    snprintf(parent, sizeof(parent), "%s/snapshots", store->dir);
    snprintf(sd->dir, sizeof(sd->dir), "%s/snapshots/%s", store->dir, domain);
    if (create && ((mkdir(parent, 0755) < 0 && errno != EEXIST) ||
                   (mkdir(sd->dir, 0755) < 0 && errno != EEXIST)))
        return cli_fail(cmd, VMCTL_EXIT_FAILURE, "cannot make %s: %s", sd->dir, strerror(errno));
    char path[SNAP_PATH_MAX + 300];
    snprintf(path, sizeof(path), "%s/.lock", sd->dir);
    sd->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (sd->lock_fd < 0) {
        if (errno == ENOENT && !create)
            return VMCTL_EXIT_OK; /* no snapshots at all */
        return cli_fail(cmd, VMCTL_EXIT_FAILURE, "cannot open %s: %s", path, strerror(errno));
    }
    if (flock(sd->lock_fd, LOCK_EX | LOCK_NB) < 0) {
        snapdir_free(sd);
        return cli_fail(cmd, VMCTL_EXIT_FAILURE, "another vmctl is working on the snapshots of "
                        "'%s'; try again when it is done", domain);
    }
    DIR *d = opendir(sd->dir);
    if (!d)
        return cli_fail(cmd, VMCTL_EXIT_FAILURE, "cannot read %s: %s", sd->dir, strerror(errno));
    struct dirent *e;
    int rc = VMCTL_EXIT_OK;
    while ((e = readdir(d)) && rc == VMCTL_EXIT_OK) {
        size_t l = strlen(e->d_name);
        if (l < 5 || strcmp(e->d_name + l - 4, ".xml") != 0 || e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", sd->dir, e->d_name);
        size_t len;
        char *xml = read_file(path, &len);
        struct snap_meta *nm = realloc(sd->metas, (sd->n + 1) * sizeof(*nm));
        char err[600];
        if (!xml || !nm) {
            rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "cannot read %s: %s", path, strerror(errno));
        } else {
            sd->metas = nm;
            if (snapmeta_parse(xml, len, path, &sd->metas[sd->n], err, sizeof(err)) < 0)
                rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "%s", err);
            else
                sd->n++;
        }
        free(xml);
    }
    closedir(d);
    char err[300];
    if (rc == VMCTL_EXIT_OK && snapchain_check(sd->metas, sd->n, err, sizeof(err)) < 0)
        rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "the snapshots in %s are inconsistent: %s",
                      sd->dir, err);
    snprintf(path, sizeof(path), "%s/current", sd->dir);
    size_t len;
    char *cur = read_file(path, &len);
    if (cur) {
        cur[strcspn(cur, "\n")] = '\0';
        if (snapchain_find(sd->metas, sd->n, cur) >= 0)
            snprintf(sd->current, sizeof(sd->current), "%s", cur);
        free(cur);
    }
    return rc;
}

static int set_current(struct snapdir *sd, const char *name)
{
    char path[SNAP_PATH_MAX + 16], line[96];
    snprintf(path, sizeof(path), "%s/current", sd->dir);
    snprintf(sd->current, sizeof(sd->current), "%s", name ? name : "");
    if (!name)
        return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
    snprintf(line, sizeof(line), "%s\n", name);
    return write_atomic(path, line, strlen(line));
}

static int write_meta(struct snapdir *sd, const struct snap_meta *m)
{
    char path[SNAP_PATH_MAX + 80];
    snprintf(path, sizeof(path), "%s/%s.xml", sd->dir, m->name);
    char *xml = snapmeta_to_xml(m);
    int rc = xml ? write_atomic(path, xml, strlen(xml)) : -1;
    free(xml);
    return rc;
}

/* The layer file of image for snapshot snap. */
static void layer_path(char *buf, size_t len, const char *image, const char *snap)
{
    snprintf(buf, len, "%s.snap-%s", image, snap);
}

static const struct domcfg_disk *disk_of(const struct domain_config *cfg, const char *target)
{
    for (size_t i = 0; i < cfg->n_disks; i++)
        if (strcmp(cfg->disks[i].target, target) == 0)
            return &cfg->disks[i];
    return NULL;
}

static bool exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

static int vmctl_run2(const char *a, const char *b)
{
    char *argv[] = { "vmctl", (char *)a, (char *)b, NULL };
    return img_run(argv, NULL, 0);
}

/* Loads the stored definition of the domain the command names. */
static int load_domain(const struct vmctl_command *cmd, struct store *store, const char *wanted,
                       char **name, struct domain_config *cfg)
{
    int rc = defs_store_open(cmd, store);
    if (rc != VMCTL_EXIT_OK)
        return rc;
    rc = defs_find_or_report(cmd, store, wanted, name);
    if (rc == VMCTL_EXIT_OK) {
        rc = defs_load_stored(cmd, store, *name, 0, cfg);
        if (rc != VMCTL_EXIT_OK) {
            free(*name);
            *name = NULL;
        }
    }
    if (rc != VMCTL_EXIT_OK)
        store_fini(store);
    return rc;
}

/* Positional arguments: count those given (options start with '-'). */
static size_t count_positional(int argc, char **argv, const char *valued_option)
{
    size_t n = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return n + (size_t)(argc - i - 1);
        if (argv[i][0] == '-' && argv[i][1]) {
            if (valued_option && strcmp(argv[i], valued_option) == 0)
                i++;
            continue;
        }
        n++;
    }
    return n;
}

/* ------------------------------------------------------------ create */

int cmd_snapshot_create(const struct vmctl_command *cmd, int argc, char **argv)
{
    bool disk_only = false;
    const char *description = NULL;
    const struct cli_flag flags[] = {
        { .name = "disk-only", .value = &disk_only },
        { .name = "description", .arg = &description },
        { .name = NULL },
    };
    static const char *const names[] = { "NAME", "SNAP" };
    const char *a[2] = { NULL, NULL };
    int rc;
    size_t np = count_positional(argc, argv, "--description");
    if (!cli_begin_args(cmd, argc, argv, flags, names, np >= 2 ? 2 : 1, a, &rc))
        return rc;
    char snapname[32];
    if (!a[1]) {
        /* libvirt's default name: the creation time in seconds. */
        snprintf(snapname, sizeof(snapname), "%lld", (long long)time(NULL));
        a[1] = snapname;
    }
    if (!snapmeta_name_valid(a[1]))
        return cli_usage_error(cmd, "snapshot name '%s': use 1 to 64 of A-Z a-z 0-9 _ - + . "
                               "(not starting with '.')", a[1]);

    struct store store;
    struct domain_config cfg;
    char *name = NULL;
    if ((rc = load_domain(cmd, &store, a[0], &name, &cfg)) != VMCTL_EXIT_OK)
        return rc;
    struct snapdir sd;
    struct snap_meta m;
    memset(&m, 0, sizeof(m));
    char state_tmp[SNAP_PATH_MAX + 80] = "";
    char (*layers)[SNAP_PATH_MAX + 80] = calloc(cfg.n_disks + 1, sizeof(*layers));
    size_t frozen = 0;
    bool running = false, saved = false;
    if ((rc = snapdir_open(cmd, &store, name, true, &sd)) != VMCTL_EXIT_OK)
        goto out;
    if (!layers) {
        rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "out of memory");
        goto out;
    }
    if (cfg.is_template) {
        rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "'%s' is a template; templates are not "
                      "snapshotted (their images never change): clone it instead", name);
        goto out;
    }
    if (snapchain_find(sd.metas, sd.n, a[1]) >= 0) {
        rc = cli_fail(cmd, VMCTL_EXIT_EXISTS, "domain '%s' already has a snapshot named '%s'; "
                      "choose another name or snapshot-delete it first", name, a[1]);
        goto out;
    }
    /* Every writable disk must be a qcow2 image file; read-only ones are
       left as they are (snapshot='no'). */
    m.disks = calloc(cfg.n_disks ? cfg.n_disks : 1, sizeof(*m.disks));
    if (!m.disks) {
        rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < cfg.n_disks; i++) {
        const struct domcfg_disk *d = &cfg.disks[i];
        struct snap_disk *sdk = &m.disks[m.n_disks++];
        snprintf(sdk->target, sizeof(sdk->target), "%s", d->target);
        if (d->readonly || d->cdrom)
            continue;
        if (d->type != DOMCFG_DISK_FILE || d->format != DOMCFG_FORMAT_QCOW2) {
            rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "disk %s of '%s' (%s) is a %s; snapshots "
                          "need qcow2 image files: 'qemu-img convert -O qcow2 %s NEW.qcow2', "
                          "then <source file='NEW.qcow2'/> and <driver type='qcow2'/> in the "
                          "definition; nothing was changed", d->target, name, d->source,
                          d->type == DOMCFG_DISK_BLOCK ? "block device" : "raw image",
                          d->source);
            goto out;
        }
        layer_path(layers[i], sizeof(layers[i]), d->source, a[1]);
        if (exists(layers[i])) {
            rc = cli_fail(cmd, VMCTL_EXIT_EXISTS, "%s is in the way (a layer of an earlier "
                          "snapshot named '%s'?); move it away; nothing was changed",
                          layers[i], a[1]);
            goto out;
        }
        sdk->external = true;
    }
    running = img_domain_running(name);
    char state_path[SNAP_PATH_MAX + 80];
    snprintf(state_path, sizeof(state_path), "%s/%s.state", sd.dir, a[1]);
    if (running) {
        /* The memory image; for --disk-only a temporary one, so that the
           domain comes back from the very moment the disks froze. */
        if (disk_only)
            snprintf(state_tmp, sizeof(state_tmp), "%s/.%s.state", sd.dir, a[1]);
        const char *target = disk_only ? state_tmp : state_path;
        printf("Saving '%s' to %s\n", name, target);
        char *sargv[] = { "vmctl", "save", name, (char *)target, NULL };
        if (img_run(sargv, NULL, 0) != 0) {
            rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "saving '%s' failed (see above); the "
                          "domain runs on and nothing was changed", name);
            state_tmp[0] = '\0';
            goto out;
        }
        saved = true;
        if (!img_wait_domain_gone(name, 30)) {
            rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "'%s' was saved but is still listed", name);
            goto restore;
        }
    }
    /* Freeze each image: the file becomes the layer, an empty overlay on
       top of it takes its place. */
    for (frozen = 0; frozen < cfg.n_disks; frozen++) {
        const struct domcfg_disk *d = &cfg.disks[frozen];
        if (!m.disks[frozen].external)
            continue;
        if (rename(d->source, layers[frozen]) < 0) {
            rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "cannot rename %s to %s: %s", d->source,
                          layers[frozen], strerror(errno));
            goto undo;
        }
        if (img_create_overlay(d->source, layers[frozen], "qcow2") < 0) {
            rename(layers[frozen], d->source);
            rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "cannot make the new overlay %s", d->source);
            goto undo;
        }
        m.disks[frozen].layer = strdup(layers[frozen]);
    }
    m.name = strdup(a[1]);
    m.description = description ? strdup(description) : NULL;
    m.parent = sd.current[0] ? strdup(sd.current) : NULL;
    m.creation_time = (uint64_t)time(NULL);
    m.state = !running ? SNAP_SHUTOFF : disk_only ? SNAP_DISK_SNAPSHOT : SNAP_RUNNING;
    m.memory_file = running && !disk_only ? strdup(state_path) : NULL;
    snprintf(m.domain_name, sizeof(m.domain_name), "%s", name);
    domcfg_format_uuid(cfg.uuid, m.domain_uuid);
    if (!m.name || write_meta(&sd, &m) < 0 || set_current(&sd, m.name) < 0) {
        rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "cannot write the metadata in %s: %s", sd.dir,
                      strerror(errno));
        char path[SNAP_PATH_MAX + 80];
        snprintf(path, sizeof(path), "%s/%s.xml", sd.dir, a[1]);
        unlink(path);
        set_current(&sd, m.parent);
        goto undo;
    }
    printf("Domain snapshot %s created (%s", a[1], snapmeta_state_name(m.state));
    if (m.parent)
        printf(", parent %s", m.parent);
    printf(")\n");
    rc = VMCTL_EXIT_OK;
    goto restore;

undo:
    /* Back to the images as they were. */
    while (frozen-- > 0) {
        const struct domcfg_disk *d = &cfg.disks[frozen];
        if (!m.disks[frozen].external)
            continue;
        if (unlink(d->source) < 0 || rename(layers[frozen], d->source) < 0)
            fprintf(stderr, "vmctl: cannot put %s back as %s: %s\n", layers[frozen], d->source,
                    strerror(errno));
    }
restore:
    if (saved) {
        /* The domain comes back from its state file, whether or not the
           snapshot was made; without a snapshot the file goes again. */
        const char *from = disk_only ? state_tmp : state_path;
        char *rargv[] = { "vmctl", "restore", (char *)from, NULL };
        if (img_run(rargv, NULL, 0) != 0)
            rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "restoring '%s' from %s failed (see above): "
                          "the domain is shut off; its state is kept in %s", name, from, from);
        else if (disk_only || rc != VMCTL_EXIT_OK)
            unlink(from);
    }
out:
    snapmeta_free(&m);
    free(layers);
    snapdir_free(&sd);
    domcfg_free(&cfg);
    free(name);
    store_fini(&store);
    return rc;
}

/* Commands on one named snapshot: NAME SNAP, the domain, its snapshots. */
struct snap_cmd {
    struct store store;
    struct domain_config cfg;
    char *name;
    struct snapdir sd;
    int idx;
};

static void snap_cmd_end(struct snap_cmd *c)
{
    snapdir_free(&c->sd);
    domcfg_free(&c->cfg);
    free(c->name);
    store_fini(&c->store);
}

static bool snap_cmd_begin(const struct vmctl_command *cmd, int argc, char **argv,
                           const struct cli_flag *flags, struct snap_cmd *c, int *rc)
{
    static const char *const names[] = { "NAME", "SNAP" };
    const char *a[2];
    memset(c, 0, sizeof(*c));
    c->sd.lock_fd = -1;
    if (!cli_begin_args(cmd, argc, argv, flags, names, 2, a, rc))
        return false;
    if ((*rc = load_domain(cmd, &c->store, a[0], &c->name, &c->cfg)) != VMCTL_EXIT_OK)
        return false;
    if ((*rc = snapdir_open(cmd, &c->store, c->name, false, &c->sd)) != VMCTL_EXIT_OK) {
        snap_cmd_end(c);
        return false;
    }
    c->idx = snapchain_find(c->sd.metas, c->sd.n, a[1]);
    if (c->idx < 0) {
        *rc = cli_fail(cmd, VMCTL_EXIT_NOT_FOUND, "domain '%s' has no snapshot named '%s' "
                       "('vmctl snapshot-list %s' lists them); nothing was changed", c->name,
                       a[1], c->name);
        snap_cmd_end(c);
        return false;
    }
    return true;
}

/* ------------------------------------------------------------ revert */

int cmd_snapshot_revert(const struct vmctl_command *cmd, int argc, char **argv)
{
    bool paused = false;
    const struct cli_flag flags[] = {
        { .name = "paused", .value = &paused },
        { .name = NULL },
    };
    struct snap_cmd c;
    int rc;
    if (!snap_cmd_begin(cmd, argc, argv, flags, &c, &rc))
        return rc;
    const struct snap_meta *m = &c.sd.metas[c.idx];
    size_t n = m->n_disks, made = 0;
    char (*tmp)[SNAP_PATH_MAX + 16] = calloc(n + 1, sizeof(*tmp));
    if (!tmp) {
        rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "out of memory");
        goto out;
    }
    /* Everything is checked and the new overlays made aside before the
       domain is touched. */
    if (m->memory_file && !exists(m->memory_file)) {
        rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "the memory image %s of snapshot '%s' is "
                      "missing; nothing was changed", m->memory_file, m->name);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const struct snap_disk *sdk = &m->disks[i];
        if (!sdk->external)
            continue;
        const struct domcfg_disk *d = disk_of(&c.cfg, sdk->target);
        if (!d || d->format != DOMCFG_FORMAT_QCOW2) {
            rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "disk %s of snapshot '%s' is no longer a "
                          "qcow2 disk of '%s'; nothing was changed", sdk->target, m->name,
                          c.name);
            goto out;
        }
        if (!exists(sdk->layer)) {
            rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "the layer %s of snapshot '%s' is missing; "
                          "nothing was changed", sdk->layer, m->name);
            goto out;
        }
    }
    for (made = 0; made < n; made++) {
        const struct snap_disk *sdk = &m->disks[made];
        if (!sdk->external)
            continue;
        snprintf(tmp[made], sizeof(tmp[made]), "%s.revert",
                 disk_of(&c.cfg, sdk->target)->source);
        unlink(tmp[made]);
        if (img_create_overlay(tmp[made], sdk->layer, "qcow2") < 0) {
            rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "cannot make an overlay on %s; nothing was "
                          "changed", sdk->layer);
            goto undo;
        }
    }
    if (img_domain_running(c.name)) {
        if (vmctl_run2("destroy", c.name) != 0 || !img_wait_domain_gone(c.name, 30)) {
            rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "cannot stop '%s' (see above); nothing was "
                          "changed", c.name);
            goto undo;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (!m->disks[i].external)
            continue;
        const char *image = disk_of(&c.cfg, m->disks[i].target)->source;
        if (rename(tmp[i], image) < 0) {
            rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "cannot rename %s to %s: %s", tmp[i], image,
                          strerror(errno));
            goto out;
        }
    }
    set_current(&c.sd, m->name);
    if (m->memory_file) {
        char *rargv[] = { "vmctl", "restore", (char *)m->memory_file, NULL, NULL };
        if (paused) {
            rargv[2] = "--paused";
            rargv[3] = (char *)m->memory_file;
        }
        if (img_run(rargv, NULL, 0) != 0) {
            rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "the disks of '%s' are back at snapshot "
                          "'%s', but restoring its memory image failed (see above)", c.name,
                          m->name);
            goto out;
        }
        printf("Domain '%s' reverted to snapshot %s (running from there)\n", c.name, m->name);
    } else {
        printf("Domain '%s' reverted to snapshot %s: its disks are as they were; it is shut "
               "off ('vmctl start %s')\n", c.name, m->name, c.name);
    }
    rc = VMCTL_EXIT_OK;
    goto out;
undo:
    while (made-- > 0)
        if (tmp[made][0])
            unlink(tmp[made]);
out:
    free(tmp);
    snap_cmd_end(&c);
    return rc;
}

/* ------------------------------------------------------------ delete */

int cmd_snapshot_delete(const struct vmctl_command *cmd, int argc, char **argv)
{
    struct snap_cmd c;
    int rc;
    if (!snap_cmd_begin(cmd, argc, argv, NULL, &c, &rc))
        return rc;
    struct snap_meta *m = &c.sd.metas[c.idx];
    size_t *kids = calloc(c.sd.n + 1, sizeof(*kids));
    char state_tmp[SNAP_PATH_MAX + 96] = "";
    bool saved = false;
    if (!kids) {
        rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "out of memory");
        goto out;
    }
    size_t nk = snapchain_children(c.sd.metas, c.sd.n, (size_t)c.idx, kids);
    bool is_current = strcmp(c.sd.current, m->name) == 0;
    /* The layers are open in the domain's qemu-nbd when this snapshot is
       under the running image: the domain is saved meanwhile. */
    if (c.sd.current[0] && snapchain_is_ancestor(c.sd.metas, c.sd.n, m->name, c.sd.current) &&
        img_domain_running(c.name)) {
        snprintf(state_tmp, sizeof(state_tmp), "%s/.delete-%s.state", c.sd.dir, m->name);
        char *sargv[] = { "vmctl", "save", c.name, state_tmp, NULL };
        if (img_run(sargv, NULL, 0) != 0) {
            rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "saving '%s' meanwhile failed (see above); "
                          "nothing was changed", c.name);
            goto out;
        }
        saved = true;
        img_wait_domain_gone(c.name, 30);
    }
    /* Every file on top of this snapshot's layer (child snapshots' layers,
       the domain's image when this one is current) is rebased onto the
       layer's own backing file; then the layer can go. */
    for (size_t i = 0; i < m->n_disks; i++) {
        const struct snap_disk *sdk = &m->disks[i];
        if (!sdk->external)
            continue;
        char backing[SNAP_PATH_MAX], fmt[32];
        if (img_backing(sdk->layer, backing, sizeof(backing), fmt, sizeof(fmt)) < 0) {
            rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "cannot read the layer %s", sdk->layer);
            goto restore;
        }
        for (size_t k = 0; k < nk; k++) {
            const struct snap_meta *km = &c.sd.metas[kids[k]];
            for (size_t j = 0; j < km->n_disks; j++)
                if (km->disks[j].external && strcmp(km->disks[j].target, sdk->target) == 0 &&
                    img_rebase(km->disks[j].layer, backing, fmt) < 0) {
                    rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "rebasing %s failed; the snapshot "
                                  "is kept", km->disks[j].layer);
                    goto restore;
                }
        }
        const struct domcfg_disk *d = disk_of(&c.cfg, sdk->target);
        if (is_current && d && img_rebase(d->source, backing, fmt) < 0) {
            rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "rebasing %s failed; the snapshot is kept",
                          d->source);
            goto restore;
        }
    }
    /* The children now hang from this snapshot's parent. */
    if (snapchain_reparent(c.sd.metas, c.sd.n, (size_t)c.idx) < 0) {
        rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "out of memory");
        goto restore;
    }
    for (size_t k = 0; k < nk; k++)
        if (write_meta(&c.sd, &c.sd.metas[kids[k]]) < 0) {
            rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "cannot rewrite the metadata of '%s': %s",
                          c.sd.metas[kids[k]].name, strerror(errno));
            goto restore;
        }
    if (is_current)
        set_current(&c.sd, m->parent);
    char path[SNAP_PATH_MAX + 80];
    snprintf(path, sizeof(path), "%s/%s.xml", c.sd.dir, m->name);
    unlink(path);
    for (size_t i = 0; i < m->n_disks; i++)
        if (m->disks[i].external)
            unlink(m->disks[i].layer);
    if (m->memory_file)
        unlink(m->memory_file);
    printf("Domain snapshot %s deleted", m->name);
    if (nk)
        printf(" (%zu child snapshot%s rebased onto %s)", nk, nk == 1 ? "" : "s",
               m->parent ? m->parent : "the original image");
    printf("\n");
    rc = VMCTL_EXIT_OK;
restore:
    if (saved) {
        char *rargv[] = { "vmctl", "restore", state_tmp, NULL };
        if (img_run(rargv, NULL, 0) != 0)
            rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "restoring '%s' from %s failed (see above)",
                          c.name, state_tmp);
        else
            unlink(state_tmp);
    }
out:
    free(kids);
    snap_cmd_end(&c);
    return rc;
}

/* ------------------------------------------------------------ list, dumpxml */

int cmd_snapshot_list(const struct vmctl_command *cmd, int argc, char **argv)
{
    const char *wanted;
    int rc;
    if (!cli_begin(cmd, argc, argv, NULL, "NAME", &wanted, &rc))
        return rc;
    struct store store;
    struct domain_config cfg;
    char *name = NULL;
    if ((rc = load_domain(cmd, &store, wanted, &name, &cfg)) != VMCTL_EXIT_OK)
        return rc;
    struct snapdir sd;
    rc = snapdir_open(cmd, &store, name, false, &sd);
    size_t *order = calloc(sd.n + 1, sizeof(*order));
    if (rc == VMCTL_EXIT_OK && order) {
        snapchain_order(sd.metas, sd.n, order);
        printf(" %-20s %-26s %-14s %s\n", "Name", "Creation Time", "State", "Parent");
        printf("-------------------------------------------------------------------------\n");
        for (size_t i = 0; i < sd.n; i++) {
            const struct snap_meta *m = &sd.metas[order[i]];
            char when[64];
            time_t t = (time_t)m->creation_time;
            struct tm tm;
            strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %z", localtime_r(&t, &tm));
            printf("%c%-20s %-26s %-14s %s\n", strcmp(sd.current, m->name) == 0 ? '*' : ' ',
                   m->name, when, snapmeta_state_name(m->state), m->parent ? m->parent : "-");
        }
    } else if (rc == VMCTL_EXIT_OK) {
        rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "out of memory");
    }
    free(order);
    snapdir_free(&sd);
    domcfg_free(&cfg);
    free(name);
    store_fini(&store);
    return rc;
}

int cmd_snapshot_dumpxml(const struct vmctl_command *cmd, int argc, char **argv)
{
    struct snap_cmd c;
    int rc;
    if (!snap_cmd_begin(cmd, argc, argv, NULL, &c, &rc))
        return rc;
    char *xml = snapmeta_to_xml(&c.sd.metas[c.idx]);
    if (xml)
        fputs(xml, stdout);
    else
        rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "out of memory");
    free(xml);
    snap_cmd_end(&c);
    return rc;
}

/* ---- vmctl undefine and the snapshot directory ---- */

int snapshots_undefine_begin(const struct vmctl_command *cmd, const struct store *store,
                             const char *domain, bool drop_metadata, int *lock_fd)
{
    struct snapdir sd;
    *lock_fd = -1;
    int rc = snapdir_open(cmd, store, domain, false, &sd);
    if (sd.lock_fd < 0) {
        snapdir_free(&sd);
        return rc; /* no snapshot directory, or it could not be opened/locked */
    }
    if (rc != VMCTL_EXIT_OK && !drop_metadata) {
        snapdir_free(&sd);
        return cli_fail(cmd, rc, "'%s' is still defined; undefine it with --snapshots-metadata "
                        "to remove %s as it is", domain, sd.dir);
    }
    if (rc == VMCTL_EXIT_OK && sd.n && !drop_metadata) {
        char names[300] = "";
        size_t used = 0;
        for (size_t i = 0; i < sd.n && used < sizeof(names) - 40; i++)
            used += (size_t)snprintf(names + used, sizeof(names) - used, "%s%s", i ? ", " : "",
                                     sd.metas[i].name);
        rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "cannot undefine '%s': it has %zu snapshot%s (%s%s); "
                      "delete them with 'vmctl snapshot-delete', or give --snapshots-metadata to "
                      "remove their metadata and memory images from %s (the disk images and their "
                      "snapshot layers stay); nothing was changed", domain, sd.n,
                      sd.n == 1 ? "" : "s", names, used >= sizeof(names) - 40 ? ", ..." : "",
                      sd.dir);
        snapdir_free(&sd);
        return rc;
    }
    *lock_fd = sd.lock_fd;
    sd.lock_fd = -1;
    snapdir_free(&sd);
    return VMCTL_EXIT_OK;
}

int snapshots_undefine_finish(const struct vmctl_command *cmd, const struct store *store,
                              const char *domain, int lock_fd, bool undefined)
{
    int rc = VMCTL_EXIT_OK;
    if (lock_fd < 0)
        return rc;
    if (undefined) {
        char dir[2048], path[SNAP_PATH_MAX + 300];
        snprintf(dir, sizeof(dir), "%s/snapshots/%s", store->dir, domain);
        DIR *d = opendir(dir);
        struct dirent *e;
        while (d && (e = readdir(d)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, ".lock")) {
                snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
                if (unlink(path) < 0 && rc == VMCTL_EXIT_OK)
                    rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "the definition is gone, but %s could "
                                  "not be removed: %s", path, strerror(errno));
            }
        if (d)
            closedir(d);
        snprintf(path, sizeof(path), "%s/.lock", dir);
        if (rc == VMCTL_EXIT_OK && (unlink(path) < 0 || rmdir(dir) < 0))
            rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "the definition is gone, but %s could not be "
                          "removed: %s", dir, strerror(errno));
    }
    close(lock_fd);
    return rc;
}
