/* A domain's xenstore nodes (see xs_nodes.h). */
#include "xs_nodes.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Nodes the guest itself writes into (xl makes them the guest's). */
static const char *const guest_owned[] = {
    "control/shutdown", "control/feature-poweroff", "control/feature-reboot",
    "control/feature-suspend", "control/sysrq", "data", "device", "drivers",
    "feature", "attr", "error", "device/suspend/event-channel",
};

struct writer {
    struct mica_xs *xs;
    uint32_t tx;
    char home[64];
    int rc;
    char *err;
    size_t errlen;
};

static void note(struct writer *w, int rc, const char *what, const char *path)
{
    if (rc && !w->rc) {
        w->rc = rc;
        snprintf(w->err, w->errlen, "xenstore %s %s failed: %s", what, path, strerror(-rc));
    }
}

/* A node under the domain's home (rel "" is the home itself). */
static void put(struct writer *w, const char *rel, const char *value)
{
    char path[256];
    if (w->rc)
        return;
    snprintf(path, sizeof(path), "%s%s%s", w->home, *rel ? "/" : "", rel);
    note(w, mica_xs_write(w->xs, w->tx, path, value), "write", path);
}

static void putf(struct writer *w, const char *rel, const char *fmt, unsigned long long v)
{
    char buf[32];
    snprintf(buf, sizeof(buf), fmt, v);
    put(w, rel, buf);
}

static void perms(struct writer *w, const char *path, const char *owner, const char *other)
{
    const char *p[2] = { owner, other };
    if (w->rc)
        return;
    note(w, mica_xs_set_perms(w->xs, w->tx, path, p, other ? 2 : 1), "set-perms", path);
}

static int write_once(struct mica_xs *xs, const struct domain_config *cfg,
                      const struct xs_domain_facts *f, char *err, size_t errlen)
{
    struct writer w = { .xs = xs, .err = err, .errlen = errlen };
    char own[16], ro[16], uuid[37], vm[64], path[256];
    int rc;

    snprintf(w.home, sizeof(w.home), "/local/domain/%u", f->domid);
    snprintf(own, sizeof(own), "n%u", f->domid);
    snprintf(ro, sizeof(ro), "r%u", f->domid);
    domcfg_format_uuid(f->uuid, uuid);
    snprintf(vm, sizeof(vm), "/vm/%s", uuid);

    if ((rc = mica_xs_tx_start(xs, &w.tx))) {
        snprintf(err, errlen, "xenstore transaction start failed: %s", strerror(-rc));
        return rc;
    }
    /* The home first, so that nodes made under it inherit "n0 rN". */
    put(&w, "", "");
    perms(&w, w.home, "n0", ro);
    put(&w, "name", cfg->name);
    putf(&w, "domid", "%llu", f->domid);
    put(&w, "vm", vm);
    putf(&w, "memory/static-max", "%llu", cfg->memory_kib);
    putf(&w, "memory/target", "%llu", cfg->current_memory_kib);
    put(&w, "memory/videoram", "-1");
    for (unsigned i = 0; i < (cfg->vcpus_max ? cfg->vcpus_max : 1); i++) {
        char rel[48];
        snprintf(rel, sizeof(rel), "cpu/%u/availability", i);
        put(&w, rel, i < (cfg->vcpus_current ? cfg->vcpus_current : 1) ? "online" : "offline");
    }
    put(&w, "control/platform-feature-multiprocessor-suspend", "1");
    put(&w, "control/platform-feature-xs_reset_watches", "1");
    /* A ring frame of 0 is not known yet (a migration's receiver writes
       the nodes before the pages): xs_nodes_write_rings adds it later. */
    if (f->store_mfn)
        putf(&w, "store/ring-ref", "%llu", f->store_mfn);
    putf(&w, "store/port", "%llu", f->store_port);
    if (f->console_mfn)
        putf(&w, "console/ring-ref", "%llu", f->console_mfn);
    putf(&w, "console/port", "%llu", f->console_port);
    put(&w, "console/type", "xenconsoled");
    put(&w, "console/limit", "1048576");
    put(&w, "console/output", "pty");
    for (size_t i = 0; i < sizeof(guest_owned) / sizeof(guest_owned[0]); i++) {
        put(&w, guest_owned[i], "");
        snprintf(path, sizeof(path), "%s/%s", w.home, guest_owned[i]);
        perms(&w, path, own, NULL);
    }
    /* /vm/UUID: the toolstack's own record, readable by the guest. */
    if (!w.rc) {
        note(&w, mica_xs_write(xs, w.tx, vm, ""), "write", vm);
        perms(&w, vm, "n0", ro);
        snprintf(path, sizeof(path), "%s/uuid", vm);
        if (!w.rc)
            note(&w, mica_xs_write(xs, w.tx, path, uuid), "write", path);
        snprintf(path, sizeof(path), "%s/name", vm);
        if (!w.rc)
            note(&w, mica_xs_write(xs, w.tx, path, cfg->name), "write", path);
        snprintf(path, sizeof(path), "%s/image/ostype", vm);
        if (!w.rc)
            note(&w, mica_xs_write(xs, w.tx, path, "linux"), "write", path);
        snprintf(path, sizeof(path), "%s/start_time", vm);
        if (!w.rc)
            note(&w, mica_xs_write(xs, w.tx, path, "0"), "write", path);
    }
    if (w.rc) {
        mica_xs_tx_end(xs, w.tx, false);
        return w.rc;
    }
    rc = mica_xs_tx_end(xs, w.tx, true);
    if (rc && rc != -EAGAIN)
        snprintf(err, errlen, "xenstore transaction commit failed: %s", strerror(-rc));
    return rc;
}

int xs_nodes_write(struct mica_xs *xs, const struct domain_config *cfg,
                   const struct xs_domain_facts *f, char *err, size_t errlen)
{
    int rc = -EAGAIN;
    /* A conflict means someone else wrote meanwhile: nothing was applied. */
    for (int tries = 0; tries < 5 && rc == -EAGAIN; tries++)
        rc = write_once(xs, cfg, f, err, errlen);
    if (rc == -EAGAIN)
        snprintf(err, errlen, "xenstore transaction kept conflicting; gave up");
    return rc;
}

int xs_nodes_write_rings(struct mica_xs *xs, const struct xs_domain_facts *f, char *err,
                         size_t errlen)
{
    const char *rel[2] = { "store/ring-ref", "console/ring-ref" };
    uint64_t mfn[2] = { f->store_mfn, f->console_mfn };
    for (int i = 0; i < 2; i++) {
        char path[96], v[32];
        snprintf(path, sizeof(path), "/local/domain/%u/%s", f->domid, rel[i]);
        snprintf(v, sizeof(v), "%llu", (unsigned long long)mfn[i]);
        int rc = mica_xs_write(xs, 0, path, v);
        if (rc) {
            snprintf(err, errlen, "xenstore write %s failed: %s", path, strerror(-rc));
            return rc;
        }
    }
    return 0;
}

bool xs_nodes_guest_owned(const char *rel)
{
    for (size_t i = 0; i < sizeof(guest_owned) / sizeof(guest_owned[0]); i++) {
        size_t n = strlen(guest_owned[i]);
        if (strncmp(rel, guest_owned[i], n) == 0 && (rel[n] == 0 || rel[n] == '/'))
            return true;
    }
    return false;
}

int xs_nodes_remove(struct mica_xs *xs, uint32_t domid)
{
    char home[64], path[96], *vm = NULL;
    int rc;

    snprintf(home, sizeof(home), "/local/domain/%u", domid);
    snprintf(path, sizeof(path), "%s/vm", home);
    if (mica_xs_read(xs, 0, path, &vm) == 0 && strncmp(vm, "/vm/", 4) == 0 && !strchr(vm + 4, '/')) {
        rc = mica_xs_rm(xs, 0, vm);
        if (rc && rc != -ENOENT) {
            free(vm);
            return rc;
        }
    }
    free(vm);
    rc = mica_xs_rm(xs, 0, home);
    return rc == -ENOENT ? 0 : rc;
}

int xs_nodes_name(struct mica_xs *xs, uint32_t domid, char *buf, size_t len)
{
    char path[96], *v;
    int rc;
    snprintf(path, sizeof(path), "/local/domain/%u/name", domid);
    if ((rc = mica_xs_read(xs, 0, path, &v)))
        return rc;
    snprintf(buf, len, "%s", v);
    free(v);
    return 0;
}
