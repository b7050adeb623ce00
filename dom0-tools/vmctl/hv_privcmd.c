/*
 * hv.h over /dev/xen/privcmd, through libmica (dom0-tools/libmica).
 *
 * Building is Mica's (MICA_DOMCTL_build_pv, docs/toolstack.md): vmctl
 * reads the kernel and initrd, creates the domain, sets max_mem, opens
 * the console and xenstore ports as xl does, hands everything to the
 * build domctl, records the domain's name, and unpauses.  Any failure
 * destroys the domain and removes what was written.
 *
 * Names of running domains live in MICA_RUN_DIR (default /run/mica/domains),
 * one file per domain id, until xenstore introduction takes that over.
 */
#include "hv.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "domctl.h"
#include "privcmd.h"
#include <public/sched.h>
#include <public/version.h>

#define DEFAULT_RUN_DIR "/run/mica/domains"
#define MAX_LISTED 1024

struct hv {
    struct mica_hv mica;
    char error[512];
};

/* Tests point this at files of their own to exercise every case. */
static const char *privcmd_path(void)
{
    const char *path = getenv("MICA_PRIVCMD");
    return path && *path ? path : MICA_PRIVCMD_PATH;
}

static const char *run_dir(void)
{
    const char *path = getenv("MICA_RUN_DIR");
    return path && *path ? path : DEFAULT_RUN_DIR;
}

static enum hv_status fail(struct hv *hv, enum hv_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static enum hv_status fail(struct hv *hv, enum hv_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(hv->error, sizeof(hv->error), fmt, ap);
    va_end(ap);
    return st;
}

enum hv_status hv_open(struct hv **out, char *err, size_t err_len)
{
    const char *path = privcmd_path();
    xen_extraversion_t extra;
    struct stat st;
    struct hv *hv;
    long rc;

    *out = NULL;
    if (stat(path, &st) < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            snprintf(err, err_len, "%s does not exist (vmctl runs in dom0 on Mica)", path);
        else
            snprintf(err, err_len, "cannot examine %s: %s", path, strerror(errno));
        return HV_UNREACHABLE;
    }
    hv = calloc(1, sizeof(*hv));
    if (!hv) {
        snprintf(err, err_len, "out of memory");
        return HV_UNREACHABLE;
    }
    rc = mica_hv_open(&hv->mica, path);
    if (rc < 0) {
        snprintf(err, err_len, "cannot open %s: %s%s", path, strerror((int)-rc),
                 rc == -EACCES ? " (run vmctl as root in dom0)" : "");
        free(hv);
        return HV_UNREACHABLE;
    }
    /* A privcmd device alone does not mean Mica is behind it (Xen's dom0 has one). */
    memset(extra, 0, sizeof(extra));
    rc = mica_hypercall(&hv->mica, __HYPERVISOR_xen_version, XENVER_extraversion,
                        (uint64_t)(uintptr_t)extra, 0);
    extra[sizeof(extra) - 1] = 0;
    if (rc < 0) {
        snprintf(err, err_len, "%s is present, but the hypervisor does not answer through it (%s)",
                 path, strerror((int)-rc));
        hv_close(hv);
        return HV_UNREACHABLE;
    }
    if (!strstr(extra, "mica")) {
        snprintf(err, err_len, "%s is present, but the hypervisor behind it is not Mica "
                 "(version extra \"%s\"); vmctl builds domains with Mica's own domctl", path, extra);
        hv_close(hv);
        return HV_UNREACHABLE;
    }
    *out = hv;
    return HV_OK;
}

void hv_close(struct hv *hv)
{
    if (!hv)
        return;
    mica_hv_close(&hv->mica);
    free(hv);
}

const char *hv_error(const struct hv *hv)
{
    return hv->error;
}

/* ---- names of running domains ---- */

static void record_path(char *buf, size_t len, uint32_t domid)
{
    snprintf(buf, len, "%s/%u", run_dir(), domid);
}

static int mkdirs(const char *dir)
{
    char tmp[512];
    snprintf(tmp, sizeof(tmp), "%s", dir);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(tmp, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

/* Written whole or not at all (temporary file, then rename). */
static int record_write(uint32_t domid, const char *name)
{
    char path[600], tmp[620];
    FILE *f;

    if (mkdirs(run_dir()) < 0)
        return -1;
    record_path(path, sizeof(path), domid);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    f = fopen(tmp, "w");
    if (!f)
        return -1;
    if (fprintf(f, "%s\n", name) < 0 || fclose(f) != 0 || rename(tmp, path) < 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

static void record_read(uint32_t domid, char *name, size_t len)
{
    char path[600];
    FILE *f;

    name[0] = 0;
    record_path(path, sizeof(path), domid);
    f = fopen(path, "r");
    if (f) {
        if (fgets(name, (int)len, f))
            name[strcspn(name, "\n")] = 0;
        fclose(f);
    }
    if (!name[0])
        snprintf(name, len, domid == 0 ? "Domain-0" : "domain-%u", domid);
}

static void record_remove(uint32_t domid)
{
    char path[600];
    record_path(path, sizeof(path), domid);
    unlink(path);
}

/* ---- operations ---- */

enum hv_status hv_list(struct hv *hv, struct hv_domain **list, size_t *count)
{
    struct xen_domctl_getdomaininfo *info;
    struct hv_domain *out;
    int n;

    *list = NULL;
    *count = 0;
    info = calloc(MAX_LISTED, sizeof(*info));
    if (!info)
        return fail(hv, HV_FAILED, "out of memory");
    n = mica_domain_list(&hv->mica, 0, info, MAX_LISTED);
    if (n < 0) {
        free(info);
        return fail(hv, HV_FAILED, "listing domains failed: %s", strerror(-n));
    }
    out = calloc(n ? (size_t)n : 1, sizeof(*out));
    if (!out) {
        free(info);
        return fail(hv, HV_FAILED, "out of memory");
    }
    for (int i = 0; i < n; i++) {
        const struct xen_domctl_getdomaininfo *d = &info[i];
        unsigned reason = (d->flags >> XEN_DOMINF_shutdownshift) & XEN_DOMINF_shutdownmask;
        out[i].domid = d->domain;
        record_read(d->domain, out[i].name, sizeof(out[i].name));
        memcpy(out[i].uuid, d->handle, sizeof(out[i].uuid));
        out[i].memory_kib = d->tot_pages * 4;
        out[i].vcpus = d->nr_online_vcpus;
        out[i].state = (d->flags & XEN_DOMINF_running ? HV_STATE_RUNNING : 0) |
                       (d->flags & XEN_DOMINF_blocked ? HV_STATE_BLOCKED : 0) |
                       (d->flags & XEN_DOMINF_paused ? HV_STATE_PAUSED : 0) |
                       (d->flags & XEN_DOMINF_dying ? HV_STATE_DYING : 0);
        if (d->flags & XEN_DOMINF_shutdown)
            out[i].state |= reason == SHUTDOWN_crash ? HV_STATE_CRASHED : HV_STATE_SHUTDOWN;
        out[i].cpu_seconds = (double)d->cpu_time / 1e9;
    }
    free(info);
    *list = out;
    *count = (size_t)n;
    return HV_OK;
}

/* A whole file into memory; NULL with errno set on failure. */
static void *slurp(const char *path, size_t *len, size_t max)
{
    struct stat st;
    void *buf;
    size_t got = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return NULL;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return NULL;
    }
    if (!S_ISREG(st.st_mode) || st.st_size == 0 || (uint64_t)st.st_size > max) {
        close(fd);
        /* Not a regular file, empty, or beyond what the build domctl takes. */
        errno = !S_ISREG(st.st_mode) || st.st_size == 0 ? EINVAL : EFBIG;
        return NULL;
    }
    buf = malloc((size_t)st.st_size);
    while (buf && got < (size_t)st.st_size) {
        ssize_t n = read(fd, (char *)buf + got, (size_t)st.st_size - got);
        if (n <= 0) {
            free(buf);
            buf = NULL;
            errno = n == 0 ? EIO : errno;
            break;
        }
        got += (size_t)n;
    }
    close(fd);
    *len = got;
    return buf;
}

static bool name_running(struct hv *hv, const char *name)
{
    struct hv_domain *doms;
    size_t n;
    bool found = false;

    if (hv_list(hv, &doms, &n) != HV_OK)
        return false;
    for (size_t i = 0; i < n; i++)
        found |= strcmp(doms[i].name, name) == 0;
    free(doms);
    return found;
}

enum hv_status hv_create(struct hv *hv, const struct domain_config *cfg, uint32_t *domid)
{
    struct mica_build b;
    void *kernel = NULL, *initrd = NULL;
    size_t kernel_len = 0, initrd_len = 0;
    uint16_t id = 0;
    enum hv_status st = HV_FAILED;
    int rc;

    if (name_running(hv, cfg->name))
        return fail(hv, HV_FAILED, "a domain named '%s' is already running", cfg->name);
    kernel = slurp(cfg->kernel, &kernel_len, MICA_BUILD_KERNEL_MAX);
    if (!kernel)
        return fail(hv, HV_FAILED, "cannot read kernel %s: %s", cfg->kernel, strerror(errno));
    if (cfg->initrd && !(initrd = slurp(cfg->initrd, &initrd_len, MICA_BUILD_INITRD_MAX))) {
        fail(hv, HV_FAILED, "cannot read initrd %s: %s", cfg->initrd, strerror(errno));
        goto out;
    }

    rc = mica_domain_create(&hv->mica, cfg->vcpus_max ? cfg->vcpus_max : 1,
                            cfg->has_uuid ? cfg->uuid : NULL, &id);
    if (rc) {
        fail(hv, HV_FAILED, "creating the domain failed: %s", strerror(-rc));
        goto out;
    }
    /* From here on, a failure destroys the domain again. */
    if ((rc = mica_domain_max_mem(&hv->mica, id, cfg->memory_kib))) {
        fail(hv, HV_FAILED, "setting its memory limit failed: %s", strerror(-rc));
        goto undo;
    }
    memset(&b, 0, sizeof(b));
    if ((rc = mica_evtchn_alloc_unbound(&hv->mica, id, 0)) < 0) {
        fail(hv, HV_FAILED, "opening its console event channel failed: %s", strerror(-rc));
        goto undo;
    }
    b.console_port = (uint32_t)rc;
    if ((rc = mica_evtchn_alloc_unbound(&hv->mica, id, 0)) < 0) {
        fail(hv, HV_FAILED, "opening its xenstore event channel failed: %s", strerror(-rc));
        goto undo;
    }
    b.store_port = (uint32_t)rc;
    b.kernel = kernel;
    b.kernel_len = kernel_len;
    b.initrd = initrd;
    b.initrd_len = initrd_len;
    b.cmdline = cfg->cmdline;
    b.mem_kb = (cfg->current_memory_kib + 3) & ~3ULL;
    if ((rc = mica_domain_build(&hv->mica, id, &b))) {
        fail(hv, HV_FAILED, "building the domain failed: %s%s", strerror(-rc),
             rc == -EINVAL ? " (not a usable PV kernel, or bad sizes; Mica's log says which)"
             : rc == -ENOMEM ? " (not enough free memory)" : "");
        goto undo;
    }
    if (record_write(id, cfg->name) < 0) {
        fail(hv, HV_FAILED, "cannot record the domain under %s: %s", run_dir(), strerror(errno));
        goto undo;
    }
    if ((rc = mica_domain_unpause(&hv->mica, id))) {
        fail(hv, HV_FAILED, "unpausing the domain failed: %s", strerror(-rc));
        record_remove(id);
        goto undo;
    }
    *domid = id;
    st = HV_OK;
    goto out;
undo:
    /* A failed build has destroyed it already (-ESRCH then is expected). */
    mica_domain_destroy(&hv->mica, id);
out:
    free(kernel);
    free(initrd);
    return st;
}

static enum hv_status result(struct hv *hv, int rc, const char *what, uint32_t domid)
{
    if (rc == 0)
        return HV_OK;
    if (rc == -ESRCH)
        return fail(hv, HV_NO_DOMAIN, "domain %u does not exist", domid);
    return fail(hv, HV_FAILED, "%s of domain %u failed: %s", what, domid, strerror(-rc));
}

enum hv_status hv_shutdown(struct hv *hv, uint32_t domid, enum hv_shutdown_kind kind)
{
    /*
     * Xen's toolstack asks the guest through xenstore's control/shutdown
     * first; without xenstore introduction yet, vmctl shuts it down from
     * outside, as `xl shutdown` does for a guest without PV drivers.
     */
    return result(hv, mica_domain_shutdown(&hv->mica, (uint16_t)domid,
                                           kind == HV_SHUTDOWN_REBOOT ? SHUTDOWN_reboot
                                                                      : SHUTDOWN_poweroff),
                  kind == HV_SHUTDOWN_REBOOT ? "reboot" : "shutdown", domid);
}

enum hv_status hv_destroy(struct hv *hv, uint32_t domid)
{
    enum hv_status st;

    if (domid == 0)
        return fail(hv, HV_FAILED, "domain 0 cannot be destroyed");
    st = result(hv, mica_domain_destroy(&hv->mica, (uint16_t)domid), "destroy", domid);
    if (st == HV_OK || st == HV_NO_DOMAIN)
        record_remove(domid);
    return st;
}

enum hv_status hv_pause(struct hv *hv, uint32_t domid)
{
    return result(hv, mica_domain_pause(&hv->mica, (uint16_t)domid), "pause", domid);
}

enum hv_status hv_unpause(struct hv *hv, uint32_t domid)
{
    return result(hv, mica_domain_unpause(&hv->mica, (uint16_t)domid), "unpause", domid);
}

enum hv_status hv_console(struct hv *hv, uint32_t domid)
{
    (void)domid;
    return fail(hv, HV_FAILED, "console: the console daemon is not written yet; the guest's "
                "console ring is not connected to anything");
}
