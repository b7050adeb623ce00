/*
 * hv.h over /dev/xen/privcmd, through libmica (dom0-tools/libmica).
 *
 * Building is Mica's (MICA_DOMCTL_build_pv, docs/toolstack.md): vmctl
 * reads the kernel and initrd, creates the domain, sets max_mem, opens
 * the console and xenstore ports as xl does, hands everything to the
 * build domctl, writes the domain's xenstore nodes as xl does, introduces
 * it to xenstored, and unpauses.  Any failure destroys the domain and
 * removes what was written.
 *
 * Names of running domains are xenstore's /local/domain/N/name.
 */
#include "hv.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices.h"
#include "domctl.h"
#include "privcmd.h"
#include "xs.h"
#include "xs_nodes.h"
#include <public/sched.h>
#include <public/version.h>

#define MAX_LISTED 1024

struct hv {
    struct mica_hv mica;
    struct mica_xs xs;
    bool xs_tried, xs_up;
    char xs_why[256];
    char error[512];
    const char *origin;     /* the definition's file, for device messages */
};

/* How long a running guest gets to close a device before it is removed
   anyway: at destroy (the guest is about to go; libxl's forced path) and
   when detached on its own (libxl's LIBXL_DESTROY_TIMEOUT). */
#define DETACH_WAIT_DESTROY_MS 2000
#define DETACH_WAIT_HOTPLUG_MS 10000

/* Tests point this at files of their own to exercise every case. */
static const char *privcmd_path(void)
{
    const char *path = getenv("MICA_PRIVCMD");
    return path && *path ? path : MICA_PRIVCMD_PATH;
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
    if (hv->xs_up)
        mica_xs_close(&hv->xs);
    mica_hv_close(&hv->mica);
    free(hv);
}

const char *hv_error(const struct hv *hv)
{
    return hv->error;
}

/* ---- xenstore ---- */

/* Connects once; NULL (reason in hv->xs_why) if xenstored is not there. */
static struct mica_xs *xs_get(struct hv *hv)
{
    if (!hv->xs_tried) {
        int rc = mica_xs_open(&hv->xs, NULL);
        hv->xs_tried = true;
        hv->xs_up = rc == 0;
        if (rc)
            snprintf(hv->xs_why, sizeof(hv->xs_why), "cannot reach xenstored at %s: %s "
                     "(start xenstored in dom0 first)", mica_xs_socket_path(), strerror(-rc));
    }
    return hv->xs_up ? &hv->xs : NULL;
}

static void domain_name(struct hv *hv, uint32_t domid, char *name, size_t len)
{
    struct mica_xs *xs = xs_get(hv);
    if (domid == 0)
        snprintf(name, len, "Domain-0");
    else if (!xs || xs_nodes_name(xs, domid, name, len) != 0 || !name[0])
        /* Not ours (or xenstored gone): xl shows such domains the same way. */
        snprintf(name, len, "(null)");
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
        domain_name(hv, d->domain, out[i].name, sizeof(out[i].name));
        memcpy(out[i].uuid, d->handle, sizeof(out[i].uuid));
        out[i].memory_kib = d->tot_pages * 4;
        out[i].max_memory_kib = d->max_pages * 4;
        out[i].vcpus = d->nr_online_vcpus;
        out[i].max_vcpu_id = d->max_vcpu_id;
        out[i].state = (d->flags & XEN_DOMINF_running ? HV_STATE_RUNNING : 0) |
                       (d->flags & XEN_DOMINF_blocked ? HV_STATE_BLOCKED : 0) |
                       (d->flags & XEN_DOMINF_paused ? HV_STATE_PAUSED : 0) |
                       (d->flags & XEN_DOMINF_dying ? HV_STATE_DYING : 0);
        if (d->flags & XEN_DOMINF_shutdown)
            out[i].state |= reason == SHUTDOWN_crash ? HV_STATE_CRASHED : HV_STATE_SHUTDOWN;
        out[i].cpu_ns = d->cpu_time;
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

bool hv_name_running(struct hv *hv, const char *name)
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

void hv_set_origin(struct hv *hv, const char *file)
{
    hv->origin = file;
}

/*
 * What the definition asks of the CPUs that depends on this host: the
 * vCPU count against Mica's limit, and pinned CPUs that exist.  Problems
 * go to stderr as "ORIGIN:LINE: sentence"; returns how many.
 */
static int check_cpus(struct hv *hv, const struct domain_config *cfg, const char *origin)
{
    struct hv_host host;
    int bad = 0;

    if (cfg->vcpus_max > HV_MAX_VCPUS) {
        fprintf(stderr, "%s: <vcpu> asks for %u vCPUs; a Mica PV domain has at most %d\n",
                origin, cfg->vcpus_max, HV_MAX_VCPUS);
        bad++;
    }
    if (!cfg->has_cpuset && cfg->n_vcpupins == 0)
        return bad;
    if (hv_host_info(hv, &host) != HV_OK) {
        fprintf(stderr, "%s: cannot check the pinned CPUs: %s\n", origin, hv->error);
        return bad + 1;
    }
    unsigned nr = host.max_cpu_id + 1;
    char have[64];
    struct domcfg_cpuset all;
    memset(&all, 0, sizeof(all));
    for (unsigned c = 0; c < nr; c++)
        domcfg_cpuset_set(&all, c);
    domcfg_cpuset_format(&all, DOMCFG_CPUS_MAX, have, sizeof(have));
    for (size_t i = 0; i <= cfg->n_vcpupins; i++) {
        const struct domcfg_cpuset *set;
        int line;
        char what[48];
        if (i < cfg->n_vcpupins) {
            set = &cfg->vcpupins[i].cpus;
            line = cfg->vcpupins[i].line;
            snprintf(what, sizeof(what), "<vcpupin vcpu='%u'>", cfg->vcpupins[i].vcpu);
        } else if (cfg->has_cpuset) {
            set = &cfg->cpuset;
            line = cfg->cpuset_line;
            snprintf(what, sizeof(what), "<vcpu cpuset>");
        } else {
            break;
        }
        int last = domcfg_cpuset_last(set);
        if (last >= 0 && (unsigned)last >= nr) {
            fprintf(stderr, "%s:%d: %s names CPU %d, which this host does not have (its CPUs "
                    "are %s); pin to those\n", origin, line, what, last, have);
            bad++;
        }
    }
    return bad;
}

enum hv_status hv_create(struct hv *hv, const struct domain_config *cfg, uint32_t *domid)
{
    struct mica_build b;
    void *kernel = NULL, *initrd = NULL;
    size_t kernel_len = 0, initrd_len = 0;
    uint16_t id = 0;
    enum hv_status st = HV_FAILED;
    int rc;

    struct mica_xs *xs = xs_get(hv);
    bool nodes = false, introduced = false, devices = false;

    if (!xs)
        return fail(hv, HV_FAILED, "%s", hv->xs_why);
    if (hv_name_running(hv, cfg->name))
        return fail(hv, HV_FAILED, "a domain named '%s' is already running", cfg->name);
    /* Every device must be servable before the domain exists. */
    char origin[DOMCFG_NAME_MAX + 32];
    snprintf(origin, sizeof(origin), "the definition of %s", cfg->name);
    struct devices_origin where = { .file = hv->origin ? hv->origin : origin };
    int bad = devices_check(xs, cfg, &where);
    int bad_cpus = check_cpus(hv, cfg, where.file);
    if (bad_cpus)
        return fail(hv, HV_FAILED, "%d of its vCPU settings cannot be carried out (see "
                    "above); no domain was made", bad_cpus);
    if (bad)
        return fail(hv, HV_FAILED, "%d of its devices cannot be attached (see above); no "
                    "domain was made", bad);
    kernel = slurp(cfg->kernel, &kernel_len, MICA_BUILD_KERNEL_MAX);
    if (!kernel)
        return fail(hv, HV_FAILED, "cannot read kernel %s: %s", cfg->kernel, strerror(errno));
    if (cfg->initrd && !(initrd = slurp(cfg->initrd, &initrd_len, MICA_BUILD_INITRD_MAX))) {
        fail(hv, HV_FAILED, "cannot read initrd %s: %s", cfg->initrd, strerror(errno));
        goto out;
    }

    rc = hv_create_domain_for(&hv->mica, cfg, cfg->has_uuid ? cfg->uuid : NULL, &id);
    if (rc) {
        fail(hv, HV_FAILED, "creating the domain failed: %s", strerror(-rc));
        goto out;
    }
    /* From here on, a failure destroys the domain again. */
    if ((rc = mica_domain_max_mem(&hv->mica, id, cfg->memory_kib))) {
        fail(hv, HV_FAILED, "setting its memory limit failed: %s", strerror(-rc));
        goto undo;
    }
    /* Its E820 map up to <memory>, as libxl gives a PV domain: a guest
       booted with less (<currentMemory>) has room to balloon up to it. */
    if ((rc = mica_domain_set_memmap_limit(&hv->mica, id, cfg->memory_kib))) {
        fail(hv, HV_FAILED, "setting its memory map failed: %s", strerror(-rc));
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
    struct xs_domain_facts facts = { .domid = id, .store_mfn = b.store_mfn,
                                     .console_mfn = b.console_mfn, .store_port = b.store_port,
                                     .console_port = b.console_port };
    memcpy(facts.uuid, cfg->uuid, 16);
    nodes = true;
    if ((rc = xs_nodes_write(xs, cfg, &facts, hv->error, sizeof(hv->error))))
        goto undo;
    if ((rc = mica_xs_introduce(xs, id, b.store_mfn, b.store_port))) {
        fail(hv, HV_FAILED, "xenstored refused to introduce the domain: %s%s", strerror(-rc),
             rc == -EINVAL ? " (it could not map the store page or bind its port; its log "
                             "says which)" : "");
        goto undo;
    }
    introduced = true;
    /* Devices before the guest runs, as libxl does. */
    devices = true;
    if ((rc = devices_attach_all(xs, id, cfg, hv->error, sizeof(hv->error))))
        goto undo;
    /* <vcpu cpuset>, <cputune><vcpupin>: hard affinity, before the first run. */
    for (unsigned v = 0; v < cfg->vcpus_max; v++) {
        int line;
        const struct domcfg_cpuset *cpus = domcfg_vcpu_affinity(cfg, v, &line);
        if (cpus && hv_vcpu_pin(hv, id, v, cpus, NULL) != HV_OK) {
            /* The line in the definition, then Mica's answer. */
            fprintf(stderr, "%s:%d: %s\n", where.file, line, hv->error);
            fail(hv, HV_FAILED, "its vCPU %u could not be pinned (see above)", v);
            goto undo;
        }
    }
    /* The definition's <mica:scheduler>; 0 means the hypervisor's default,
       and a fresh domain's cap is already 0 (none). */
    if ((cfg->sched_weight || cfg->sched_cap) &&
        (rc = mica_domain_sched_set(&hv->mica, id, (uint16_t)cfg->sched_weight,
                                    cfg->sched_cap ? (uint16_t)cfg->sched_cap
                                                   : MICA_SCHED_CAP_KEEP))) {
        fail(hv, HV_FAILED, "setting its scheduler weight/cap failed: %s", strerror(-rc));
        goto undo;
    }
    if ((rc = mica_domain_unpause(&hv->mica, id))) {
        fail(hv, HV_FAILED, "unpausing the domain failed: %s", strerror(-rc));
        goto undo;
    }
    *domid = id;
    st = HV_OK;
    goto out;
undo:
    if (devices)
        devices_detach_all(xs, id, 0);
    if (introduced)
        mica_xs_release(xs, id);
    if (nodes)
        xs_nodes_remove(xs, id);
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
    return result(hv, mica_domain_shutdown(&hv->mica, (uint16_t)domid,
                                           kind == HV_SHUTDOWN_REBOOT ? SHUTDOWN_reboot
                                                                      : SHUTDOWN_poweroff),
                  kind == HV_SHUTDOWN_REBOOT ? "reboot" : "shutdown", domid);
}

enum hv_status hv_request_shutdown(struct hv *hv, uint32_t domid, enum hv_shutdown_kind kind)
{
    const char *word = kind == HV_SHUTDOWN_REBOOT ? "reboot" : "poweroff";
    struct mica_xs *xs = xs_get(hv);
    struct xen_domctl_getdomaininfo info;
    char path[96], *v = NULL;
    int rc;

    if (domid == 0)
        return fail(hv, HV_FAILED, "domain 0 is not shut down from vmctl");
    if ((rc = mica_domain_info(&hv->mica, (uint16_t)domid, &info)))
        return result(hv, rc, "getdomaininfo", domid);
    if (info.flags & XEN_DOMINF_shutdown)
        return fail(hv, HV_FAILED, "domain %u has already shut down (%s)", domid,
                    hv_reason_name((info.flags >> XEN_DOMINF_shutdownshift) &
                                   XEN_DOMINF_shutdownmask));
    if (!xs)
        return fail(hv, HV_FAILED, "%s", hv->xs_why);
    /* A Linux guest's xenbus driver writes control/feature-poweroff and
       -reboot when it starts watching control/shutdown; without them no one
       would read the request, and the caller should say so at once rather
       than wait for nothing. */
    snprintf(path, sizeof(path), "/local/domain/%u/control/feature-%s", domid, word);
    rc = mica_xs_read(xs, 0, path, &v);
    bool listens = rc == 0 && strcmp(v, "1") == 0;
    free(v);
    if (!listens)
        return fail(hv, HV_NO_PVCONTROL, "domain %u does not answer the PV control protocol "
                    "(no %s = 1 in xenstore)", domid, path);
    snprintf(path, sizeof(path), "/local/domain/%u/control/shutdown", domid);
    if ((rc = mica_xs_write(xs, 0, path, word)))
        return fail(hv, HV_FAILED, "writing %s failed: %s", path, strerror(-rc));
    return HV_OK;
}

const char *hv_reason_name(unsigned reason)
{
    static const char *const names[] = { "poweroff", "reboot", "suspend", "crash",
                                         "watchdog", "soft_reset" };
    return reason < sizeof(names) / sizeof(names[0]) ? names[reason] : "unknown reason";
}

enum hv_status hv_life(struct hv *hv, uint32_t domid, struct hv_life *life)
{
    struct xen_domctl_getdomaininfo info;
    int rc = mica_domain_info(&hv->mica, (uint16_t)domid, &info);

    if (rc)
        return result(hv, rc, "getdomaininfo", domid);
    life->dying = (info.flags & XEN_DOMINF_dying) != 0;
    life->shutdown = (info.flags & XEN_DOMINF_shutdown) != 0;
    life->reason = (info.flags >> XEN_DOMINF_shutdownshift) & XEN_DOMINF_shutdownmask;
    return HV_OK;
}

enum hv_status hv_watch_release(struct hv *hv)
{
    struct mica_xs *xs = xs_get(hv);
    int rc;

    if (!xs)
        return fail(hv, HV_FAILED, "%s", hv->xs_why);
    if ((rc = mica_xs_watch(xs, "@releaseDomain", "vmctl-release")))
        return fail(hv, HV_FAILED, "watching @releaseDomain failed: %s", strerror(-rc));
    return HV_OK;
}

enum hv_status hv_wait_release(struct hv *hv, int timeout_ms)
{
    struct mica_xs *xs = xs_get(hv);
    char *path, *token;
    int rc;

    if (!xs)
        return fail(hv, HV_FAILED, "%s", hv->xs_why);
    if (!mica_xs_event_pending(xs)) {
        struct pollfd p = { .fd = xs->fd, .events = POLLIN };
        rc = poll(&p, 1, timeout_ms);
        if (rc < 0 && errno != EINTR)
            return fail(hv, HV_FAILED, "waiting for xenstored failed: %s", strerror(errno));
        if (rc <= 0)
            return HV_OK;
    }
    /* Every event counts the same: whoever waits looks at the domain again. */
    while ((rc = mica_xs_event(xs, false, &path, &token)) == 1) {
        free(path);
        free(token);
    }
    if (rc < 0)
        return fail(hv, HV_FAILED, "xenstored connection failed: %s", strerror(-rc));
    return HV_OK;
}

enum hv_status hv_sched_get(struct hv *hv, uint32_t domid, unsigned *weight, unsigned *cap)
{
    uint16_t w, c;
    int rc = mica_domain_sched_get(&hv->mica, (uint16_t)domid, &w, &c);

    if (rc)
        return result(hv, rc, "reading the scheduler parameters", domid);
    *weight = w;
    *cap = c;
    return HV_OK;
}

enum hv_status hv_sched_set(struct hv *hv, uint32_t domid, unsigned weight, unsigned cap)
{
    if (weight > 65535 || cap > HV_SCHED_KEEP)
        return fail(hv, HV_FAILED, "weight and cap are 16-bit values");
    return result(hv, mica_domain_sched_set(&hv->mica, (uint16_t)domid, (uint16_t)weight,
                                            (uint16_t)cap),
                  "setting the scheduler parameters", domid);
}

enum hv_status hv_destroy(struct hv *hv, uint32_t domid)
{
    struct mica_xs *xs;
    enum hv_status st;
    int rc;

    if (domid == 0)
        return fail(hv, HV_FAILED, "domain 0 cannot be destroyed");
    /*
     * xenstored and the console daemon let go of the domain's pages on
     * @releaseDomain; the domain itself goes once they have (until then
     * Mica keeps it dying).  Its nodes go with it, as with xl.
     */
    xs = xs_get(hv);
    if (xs) {
        /* A guest still running may close its front-ends; one shut down
           or paused cannot, and its back-ends are removed at once. */
        struct xen_domctl_getdomaininfo info;
        bool live = mica_domain_info(&hv->mica, (uint16_t)domid, &info) == 0 &&
                    !(info.flags & (XEN_DOMINF_shutdown | XEN_DOMINF_dying |
                                    XEN_DOMINF_paused));
        devices_detach_all(xs, domid, live ? DETACH_WAIT_DESTROY_MS : 0);
        rc = mica_xs_release(xs, domid);
        if (rc && rc != -ENOENT)
            fprintf(stderr, "vmctl destroy: warning: xenstored did not release domain %u: %s\n",
                    domid, strerror(-rc));
        if ((rc = xs_nodes_remove(xs, domid)))
            fprintf(stderr, "vmctl destroy: warning: removing /local/domain/%u failed: %s\n",
                    domid, strerror(-rc));
    } else {
        fprintf(stderr, "vmctl destroy: warning: %s; its xenstore nodes stay\n", hv->xs_why);
    }
    st = result(hv, mica_domain_destroy(&hv->mica, (uint16_t)domid), "destroy", domid);
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

enum hv_status hv_host_info(struct hv *hv, struct hv_host *out)
{
    struct xen_sysctl_physinfo pi;
    int rc = mica_physinfo(&hv->mica, &pi);
    if (rc)
        return fail(hv, HV_FAILED, "physinfo failed: %s", strerror(-rc));
    out->nr_cpus = pi.nr_cpus;
    out->max_cpu_id = pi.max_cpu_id;
    out->cpu_khz = pi.cpu_khz;
    out->total_pages = pi.total_pages;
    out->free_pages = pi.free_pages;
    return HV_OK;
}

enum hv_status hv_attach_disk(struct hv *hv, uint32_t domid, const struct domcfg_disk *disk)
{
    struct mica_xs *xs = xs_get(hv);
    if (!xs)
        return fail(hv, HV_FAILED, "%s", hv->xs_why);
    int rc = devices_attach_disk(xs, domid, disk, hv->error, sizeof(hv->error));
    return rc ? HV_FAILED : HV_OK;
}

enum hv_status hv_detach_disk(struct hv *hv, uint32_t domid, const char *target)
{
    struct mica_xs *xs = xs_get(hv);
    long devid = devices_vbd_number(target);
    if (!xs)
        return fail(hv, HV_FAILED, "%s", hv->xs_why);
    if (devid < 0)
        return fail(hv, HV_FAILED, "'%s' is not a Xen PV disk name (xvda, xvdb, ...)", target);
    int rc = devices_detach(xs, domid, DEVICES_VBD, (unsigned)devid, DETACH_WAIT_HOTPLUG_MS,
                            hv->error, sizeof(hv->error));
    if (rc == -ENOENT)
        return fail(hv, HV_FAILED, "domain %u has no disk %s", domid, target);
    return rc ? HV_FAILED : HV_OK;
}

enum hv_status hv_attach_nic(struct hv *hv, uint32_t domid, struct domcfg_nic *nic)
{
    struct mica_xs *xs = xs_get(hv);
    if (!xs)
        return fail(hv, HV_FAILED, "%s", hv->xs_why);
    struct domain_config one = { .nics = nic, .n_nics = 1 };
    devices_pick_macs(&one);
    int rc = devices_attach_nic(xs, domid, nic, devices_next_vif(xs, domid), hv->error,
                                sizeof(hv->error));
    return rc ? HV_FAILED : HV_OK;
}

enum hv_status hv_detach_nic(struct hv *hv, uint32_t domid, const char *mac)
{
    struct mica_xs *xs = xs_get(hv);
    if (!xs)
        return fail(hv, HV_FAILED, "%s", hv->xs_why);
    int devid = devices_find_vif(xs, domid, mac);
    if (devid < 0)
        return fail(hv, HV_FAILED, "domain %u has no interface with MAC %s", domid, mac);
    int rc = devices_detach(xs, domid, DEVICES_VIF, (unsigned)devid, DETACH_WAIT_HOTPLUG_MS,
                            hv->error, sizeof(hv->error));
    return rc ? HV_FAILED : HV_OK;
}

/* Lets console_client.c word its errors the same way. */
enum hv_status hv_vcpu_count(struct hv *hv, uint32_t domid, unsigned *count)
{
    struct xen_domctl_getdomaininfo info;
    int rc = mica_domain_info(&hv->mica, (uint16_t)domid, &info);

    if (rc)
        return result(hv, rc, "getdomaininfo", domid);
    *count = info.max_vcpu_id + 1;
    return HV_OK;
}

/* A number in a node under /local/domain/DOMID/; 0 when absent or not one. */
static uint64_t read_number(struct mica_xs *xs, uint32_t domid, const char *rel)
{
    char path[96], *v = NULL, *end;
    snprintf(path, sizeof(path), "/local/domain/%u/%s", domid, rel);
    if (mica_xs_read(xs, 0, path, &v) != 0)
        return 0;
    unsigned long long n = strtoull(v, &end, 10);
    bool ok = v[0] >= '0' && v[0] <= '9' && !*end;
    free(v);
    return ok ? n : 0;
}

enum hv_status hv_resources(struct hv *hv, uint32_t domid, struct hv_resources *out)
{
    struct xen_domctl_getdomaininfo info;
    struct mica_xs *xs = xs_get(hv);
    int rc = mica_domain_info(&hv->mica, (uint16_t)domid, &info);

    if (rc)
        return result(hv, rc, "getdomaininfo", domid);
    memset(out, 0, sizeof(*out));
    out->memory_kib = info.tot_pages * 4;
    out->max_memory_kib = info.max_pages * 4;
    out->vcpus_online = info.nr_online_vcpus;
    out->vcpus_max = info.max_vcpu_id + 1;
    if (!xs)
        return fail(hv, HV_FAILED, "%s", hv->xs_why);
    out->target_kib = read_number(xs, domid, "memory/target");
    for (unsigned v = 0; v < out->vcpus_max; v++) {
        char path[96], *av = NULL;
        snprintf(path, sizeof(path), "/local/domain/%u/cpu/%u/availability", domid, v);
        if (mica_xs_read(xs, 0, path, &av) == 0 && strcmp(av, "online") == 0)
            out->vcpus_available++;
        free(av);
    }
    return HV_OK;
}

static enum hv_status write_number(struct hv *hv, uint32_t domid, const char *rel,
                                   uint64_t value)
{
    struct mica_xs *xs = xs_get(hv);
    char path[96], text[24];
    int rc;

    if (!xs)
        return fail(hv, HV_FAILED, "%s", hv->xs_why);
    snprintf(path, sizeof(path), "/local/domain/%u/%s", domid, rel);
    snprintf(text, sizeof(text), "%llu", (unsigned long long)value);
    if ((rc = mica_xs_write(xs, 0, path, text)))
        return fail(hv, HV_FAILED, "writing %s failed: %s", path, strerror(-rc));
    return HV_OK;
}

enum hv_status hv_set_memory_target(struct hv *hv, uint32_t domid, uint64_t kib)
{
    return write_number(hv, domid, "memory/target", kib);
}

enum hv_status hv_set_max_memory(struct hv *hv, uint32_t domid, uint64_t kib)
{
    enum hv_status st = result(hv, mica_domain_max_mem(&hv->mica, (uint16_t)domid, kib),
                               "setting the memory ceiling", domid);
    return st == HV_OK ? write_number(hv, domid, "memory/static-max", kib) : st;
}

enum hv_status hv_set_vcpus(struct hv *hv, uint32_t domid, unsigned count)
{
    struct mica_xs *xs = xs_get(hv);
    unsigned max;
    enum hv_status st = hv_vcpu_count(hv, domid, &max);
    int rc;

    if (st != HV_OK)
        return st;
    if (!xs)
        return fail(hv, HV_FAILED, "%s", hv->xs_why);
    if (count < 1 || count > max)
        return fail(hv, HV_FAILED, "domain %u has vCPUs 0 to %u; %u cannot be available",
                    domid, max - 1, count);
    /* A transaction that meets another writer is tried again, as xl does. */
    for (int attempt = 0; attempt < 10; attempt++) {
        uint32_t tx;
        if ((rc = mica_xs_tx_start(xs, &tx)))
            break;
        for (unsigned v = 0; v < max && !rc; v++) {
            char path[96];
            snprintf(path, sizeof(path), "/local/domain/%u/cpu/%u/availability", domid, v);
            rc = mica_xs_write(xs, tx, path, v < count ? "online" : "offline");
        }
        if (rc) {
            mica_xs_tx_end(xs, tx, false);
            break;
        }
        if ((rc = mica_xs_tx_end(xs, tx, true)) != -EAGAIN)
            break;
    }
    if (rc)
        return fail(hv, HV_FAILED, "writing /local/domain/%u/cpu/N/availability failed: %s",
                    domid, strerror(-rc));
    return HV_OK;
}

/* Bitmaps as long as the host's CPU numbers need (Xen's nr_cpu_ids). */
static uint32_t cpumap_bytes(struct hv *hv)
{
    struct xen_sysctl_physinfo pi;

    if (mica_physinfo(&hv->mica, &pi) != 0 || pi.max_cpu_id >= DOMCFG_CPUS_MAX)
        return DOMCFG_CPUS_MAX / 8;
    return (pi.max_cpu_id + 1 + 7) / 8;
}

enum hv_status hv_vcpu_list(struct hv *hv, uint32_t domid, struct hv_vcpu **list,
                            size_t *count)
{
    unsigned n;
    enum hv_status st = hv_vcpu_count(hv, domid, &n);
    uint8_t hard[DOMCFG_CPUS_MAX / 8], soft[DOMCFG_CPUS_MAX / 8];
    uint32_t bytes = cpumap_bytes(hv);

    if (st != HV_OK)
        return st;
    struct hv_vcpu *out = calloc(n, sizeof(*out));
    if (!out)
        return fail(hv, HV_FAILED, "out of memory");
    for (unsigned v = 0; v < n; v++) {
        struct xen_domctl_getvcpuinfo info;
        int rc = mica_vcpu_info(&hv->mica, (uint16_t)domid, v, &info);
        if (!rc)
            rc = mica_vcpu_affinity_get(&hv->mica, (uint16_t)domid, v, hard, soft, bytes);
        if (rc) {
            free(out);
            char what[48];
            snprintf(what, sizeof(what), "reading vCPU %u", v);
            return result(hv, rc, what, domid);
        }
        out[v].id = v;
        out[v].online = info.online;
        out[v].blocked = info.blocked;
        out[v].running = info.running;
        out[v].cpu = info.cpu;
        out[v].cpu_seconds = (double)info.cpu_time / 1e9;
        domcfg_cpuset_from_bytes(&out[v].hard, hard, bytes);
        domcfg_cpuset_from_bytes(&out[v].soft, soft, bytes);
    }
    *list = out;
    *count = n;
    return HV_OK;
}

enum hv_status hv_vcpu_pin(struct hv *hv, uint32_t domid, unsigned vcpu,
                           const struct domcfg_cpuset *cpus, struct domcfg_cpuset *effective)
{
    uint8_t map[DOMCFG_CPUS_MAX / 8];
    uint32_t bytes = cpumap_bytes(hv);
    char text[128];

    domcfg_cpuset_to_bytes(cpus, map, bytes);
    int rc = mica_vcpu_affinity_set_hard(&hv->mica, (uint16_t)domid, vcpu, map, bytes);
    if (rc == -ESRCH)
        return fail(hv, HV_NO_DOMAIN, "domain %u is gone", domid);
    if (rc) {
        domcfg_cpuset_format(cpus, DOMCFG_CPUS_MAX, text, sizeof(text));
        return fail(hv, HV_FAILED, "pinning vCPU %u to CPUs %s failed: %s%s", vcpu, text,
                    strerror(-rc),
                    rc == -EINVAL ? " (Mica refuses CPUs none of which is online, and, while "
                    "it runs all of a domain's vCPUs on one CPU, pins that leave its vCPUs no "
                    "CPU in common; its log says which)" : "");
    }
    if (effective)
        domcfg_cpuset_from_bytes(effective, map, bytes);
    return HV_OK;
}

enum hv_status hv_fail(struct hv *hv, enum hv_status st, const char *msg)
{
    return fail(hv, st, "%s", msg);
}

struct mica_hv *hv_mica(struct hv *hv)
{
    return &hv->mica;
}

struct mica_xs *hv_xenstore(struct hv *hv)
{
    struct mica_xs *xs = xs_get(hv);
    if (!xs)
        fail(hv, HV_FAILED, "%s", hv->xs_why);
    return xs;
}

int hv_create_domain_for(struct mica_hv *mica, const struct domain_config *cfg,
                         const uint8_t uuid[16], uint16_t *domid)
{
    /* As libxl: event_channels is the highest port the domain may bind. */
    const struct mica_domain_limits limits = {
        .max_grant_frames = cfg->max_grant_frames,
        .max_evtchn_port = cfg->max_event_channels,
    };
    return mica_domain_create_limited(mica, cfg->vcpus_max ? cfg->vcpus_max : 1, uuid, &limits,
                                      domid);
}
