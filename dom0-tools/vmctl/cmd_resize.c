/*
 * vmctl setmem, setmaxmem and setvcpus: grow and shrink a domain's memory
 * and vCPUs, with virsh's names and meaning (docs/vmctl.md, "Memory and
 * vCPUs").  --live changes the running domain: the balloon target
 * (memory/target), the memory ceiling (XEN_DOMCTL_max_mem and
 * memory/static-max) and which vCPUs are available (cpu/N/availability),
 * which the guest's balloon and CPU-hotplug drivers act on.  --config
 * changes the stored definition (<currentMemory>, <memory>, <vcpu>) for
 * the next start.  With neither, a running domain gets --live and a
 * stopped stored one --config, as virsh's --current.
 *
 * Every check comes before any change: a refused command changes nothing.
 * With both --live and --config the new definition is made and checked
 * first, the running domain changed next, and the definition stored last.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "defs.h"
#include "exitcodes.h"
#include "units.h"

/* Mica's floor for a domain's memory set from vmctl: a Linux guest
   ballooned much below this runs out of memory and its OOM killer ends
   processes.  A smaller domain is defined with a smaller <memory>. */
#define RESIZE_FLOOR_KIB (32ull * 1024)

/* How close (KiB) the domain must come to its target for --wait: the
   guest's balloon works in pages and may keep a few for itself. */
#define RESIZE_WAIT_SLACK_KIB 1024ull

static bool resize_parse_size(const char *text, uint64_t *kib, char *why, size_t why_len)
{
    const char *p = text;
    uint64_t value = 0;

    if (*p < '0' || *p > '9') {
        snprintf(why, why_len, "'%s' is not a size: give a whole number with an optional unit "
                 "(KiB when none), e.g. 98304 or 96M or 1GiB", text);
        return false;
    }
    for (; *p >= '0' && *p <= '9'; p++) {
        if (__builtin_mul_overflow(value, 10, &value) ||
            __builtin_add_overflow(value, (uint64_t)(*p - '0'), &value)) {
            snprintf(why, why_len, "'%s' is too large", text);
            return false;
        }
    }
    /* virsh's units: b/byte/bytes; k m g t p e alone or with "iB" for
       powers of 1024, with "B" for powers of 1000; any case. */
    uint64_t unit = 1024;
    if (*p) {
        static const char powers[] = "kmgtpe";
        const char *letter = strchr(powers, tolower((unsigned char)*p));
        if (strcasecmp(p, "b") == 0 || strcasecmp(p, "byte") == 0 ||
            strcasecmp(p, "bytes") == 0) {
            unit = 1;
        } else if (letter && (p[1] == '\0' || strcasecmp(p + 1, "iB") == 0 ||
                              strcasecmp(p + 1, "B") == 0)) {
            uint64_t base = strcasecmp(p + 1, "B") == 0 ? 1000 : 1024;
            unit = 1;
            for (const char *l = powers; l <= letter; l++)
                unit *= base;
        } else {
            snprintf(why, why_len, "'%s' has an unknown unit '%s': use KiB (the default), MiB, "
                     "GiB, TiB (or k, M, G, T), KB, MB, GB, TB or b", text, p);
            return false;
        }
    }
    if (domcfg_size_to_kib(value, unit, kib) != DOMCFG_SIZE_OK) {
        snprintf(why, why_len, "'%s' is too large", text);
        return false;
    }
    return true;
}

/* The domain a command is about: running, stored, or both. */
struct resize {
    const struct vmctl_command *cmd;
    const char *wanted;
    bool live, config;
    struct hv *hv;                      /* open when the running domain was looked for */
    bool running;
    uint32_t domid;
    char name[DOMCFG_NAME_MAX + 1];     /* the running domain's name */
    struct hv_resources now;            /* the running domain's, when live */
    struct store store;
    char *stored;                       /* the stored definition's name, NULL: none */
    struct domain_config cfg;           /* the stored definition, when config */
    struct domcfg_document *doc;
};

/* NAME, numeric ID or UUID among the running domains. */
static int find_running(struct resize *r)
{
    struct hv_domain *domains;
    size_t count;
    if (hv_list(r->hv, &domains, &count) != HV_OK)
        return cli_fail(r->cmd, VMCTL_EXIT_FAILURE, "%s", hv_error(r->hv));
    char *end;
    unsigned long id = strtoul(r->wanted, &end, 10);
    bool numeric = r->wanted[0] >= '0' && r->wanted[0] <= '9' && !*end;
    uint8_t uuid[16];
    bool by_uuid = domcfg_parse_uuid(r->wanted, uuid);
    for (size_t i = 0; i < count && !r->running; i++) {
        const struct hv_domain *d = &domains[i];
        if (strcmp(d->name, r->wanted) == 0 || (numeric && d->domid == id) ||
            (by_uuid && memcmp(d->uuid, uuid, 16) == 0)) {
            r->running = true;
            r->domid = d->domid;
            snprintf(r->name, sizeof(r->name), "%s", d->name);
        }
    }
    free(domains);
    return VMCTL_EXIT_OK;
}

/*
 * Finds the domain, settles --live/--config (virsh's --current when
 * neither is given) and loads what will be changed: the running domain's
 * sizes, the stored definition (the store locked).  The caller releases
 * r with resize_end whatever this returns.
 */
static int resize_begin(struct resize *r)
{
    int rc;
    if (store_init(&r->store) < 0)
        return cli_fail(r->cmd, VMCTL_EXIT_FAILURE, "out of memory");
    if (r->live || !r->config) {
        char err[512];
        if (hv_open(&r->hv, err, sizeof(err)) != HV_OK) {
            r->hv = NULL;
            if (r->live)
                return cli_fail(r->cmd, VMCTL_EXIT_HV_UNREACHABLE, "cannot reach the Mica "
                                "hypervisor: %s", err);
            return cli_fail(r->cmd, VMCTL_EXIT_HV_UNREACHABLE, "cannot reach the Mica "
                            "hypervisor to tell whether '%s' runs: %s; give --config to change "
                            "only its stored definition", r->wanted, err);
        }
        if ((rc = find_running(r)) != VMCTL_EXIT_OK)
            return rc;
    }
    rc = defs_find(r->cmd, &r->store, r->running ? r->name : r->wanted, &r->stored);
    if (rc != VMCTL_EXIT_OK && rc != VMCTL_EXIT_NOT_FOUND)
        return rc;
    const char *name = r->running ? r->name : r->stored ? r->stored : r->wanted;
    if (!r->running && !r->stored)
        return cli_fail(r->cmd, VMCTL_EXIT_NOT_FOUND, "no domain named '%s' is %s (see "
                        "'vmctl list --all')", r->wanted, r->hv ? "running or defined"
                        : "defined");
    if (!r->live && !r->config) {
        r->live = r->running;
        r->config = !r->running;
    }
    if (r->running && r->domid == 0)
        return cli_fail(r->cmd, VMCTL_EXIT_FAILURE, "Domain-0's memory and vCPUs are set "
                        "on Mica's command line (dom0_mem=), not with vmctl");
    if (r->live && !r->running)
        return cli_fail(r->cmd, VMCTL_EXIT_FAILURE, "domain '%s' is not running, and --live "
                        "changes a running domain; --config changes its stored definition "
                        "(used at its next start)", name);
    if (r->config && !r->stored)
        return cli_fail(r->cmd, VMCTL_EXIT_FAILURE, "domain '%s' has no stored definition "
                        "(it was started with 'vmctl create'), and --config changes one; "
                        "--live changes the running domain", name);
    if (r->live && hv_resources(r->hv, r->domid, &r->now) != HV_OK)
        return cli_fail(r->cmd, VMCTL_EXIT_FAILURE, "%s", hv_error(r->hv));
    if (!r->config)
        return VMCTL_EXIT_OK;
    char err[512];
    if (store_lock(&r->store, err, sizeof(err)) < 0)
        return cli_fail(r->cmd, VMCTL_EXIT_FAILURE, "%s", err);
    char *path = store_path(&r->store, r->stored);
    if (!path)
        return cli_fail(r->cmd, VMCTL_EXIT_FAILURE, "out of memory");
    struct domcfg_diags diags;
    domcfg_diags_init(&diags, path);
    enum domcfg_status st = domcfg_load_file(path, 0, &r->cfg, &diags, &r->doc);
    rc = VMCTL_EXIT_OK;
    if (st != DOMCFG_OK) {
        domcfg_diags_print(&diags, stderr, 20);
        rc = cli_fail(r->cmd, st == DOMCFG_INVALID ? VMCTL_EXIT_INVALID : VMCTL_EXIT_FAILURE,
                      "the stored definition of '%s' (%s) cannot be used; fix or undefine it",
                      r->stored, path);
    }
    domcfg_diags_free(&diags);
    free(path);
    return rc;
}

static void resize_end(struct resize *r)
{
    domcfg_document_free(r->doc);
    domcfg_free(&r->cfg);
    free(r->stored);
    store_fini(&r->store);
    hv_close(r->hv);
}

/* The changed document, checked as 'vmctl define' checks a definition; the
   text to store in *xml.  Nothing is written yet. */
static int resize_check_doc(struct resize *r, char **xml, size_t *len)
{
    *xml = domcfg_document_to_xml(r->doc, len);
    if (!*xml)
        return cli_fail(r->cmd, VMCTL_EXIT_FAILURE, "out of memory");
    char what[DOMCFG_NAME_MAX + 48];
    snprintf(what, sizeof(what), "the changed definition of %s", r->stored);
    struct domcfg_diags diags;
    domcfg_diags_init(&diags, what);
    struct domain_config check;
    enum domcfg_status st = domcfg_load_memory(*xml, *len, what, 0, &check, &diags, NULL);
    int rc = VMCTL_EXIT_OK;
    if (st == DOMCFG_OK) {
        domcfg_free(&check);
    } else {
        domcfg_diags_print(&diags, stderr, 20);
        rc = cli_fail(r->cmd, VMCTL_EXIT_INVALID, "the change would leave the definition of "
                      "'%s' invalid (see above); nothing was changed", r->stored);
        free(*xml);
        *xml = NULL;
    }
    domcfg_diags_free(&diags);
    return rc;
}

/* After domcfg_document_set_*() gave set_rc: the checked text to store. */
static int resize_edited(struct resize *r, int set_rc, char **xml, size_t *len)
{
    if (set_rc < 0)
        return cli_fail(r->cmd, VMCTL_EXIT_FAILURE, "cannot change the stored definition of "
                        "'%s' (it lacks <memory>, or out of memory)", r->stored);
    return resize_check_doc(r, xml, len);
}

/* The running domain could not be changed: say so, and that the stored
   definition (checked, not yet written) stays as it was. */
static int resize_live_failed(struct resize *r, char *xml)
{
    free(xml);
    return cli_fail(r->cmd, VMCTL_EXIT_FAILURE, "%s%s", hv_error(r->hv), r->config ?
                    "; the stored definition was not changed" : "");
}

static int resize_store(struct resize *r, const char *xml, size_t len)
{
    char err[512];
    if (store_write(&r->store, r->stored, xml, len, err, sizeof(err)) < 0)
        return cli_fail(r->cmd, VMCTL_EXIT_FAILURE, "%s%s", err, r->live ? " (the running "
                        "domain has been changed already)" : "");
    return VMCTL_EXIT_OK;
}

/* --live, --config, --current, as virsh takes them. */
static int resize_modes(struct resize *r, bool current)
{
    if (current && (r->live || r->config))
        return cli_usage_error(r->cmd, "--current means --live for a running domain and "
                               "--config for a stopped one; give it alone");
    return VMCTL_EXIT_OK;
}

/* Until the domain holds target KiB (within the slack) or timeout_s pass. */
static int wait_balloon(struct resize *r, uint64_t target, unsigned long timeout_s)
{
    struct timespec start, t;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        struct hv_resources now;
        if (hv_resources(r->hv, r->domid, &now) != HV_OK)
            return cli_fail(r->cmd, VMCTL_EXIT_FAILURE, "%s", hv_error(r->hv));
        clock_gettime(CLOCK_MONOTONIC, &t);
        double s = (double)(t.tv_sec - start.tv_sec) + (double)(t.tv_nsec - start.tv_nsec) / 1e9;
        uint64_t diff = now.memory_kib > target ? now.memory_kib - target
                                                : target - now.memory_kib;
        if (diff <= RESIZE_WAIT_SLACK_KIB) {
            printf("Domain '%s' (id %u) holds %llu KiB (target reached in %.1f s)\n", r->name,
                   r->domid, (unsigned long long)now.memory_kib, s);
            return VMCTL_EXIT_OK;
        }
        if (s >= (double)timeout_s)
            return cli_fail(r->cmd, VMCTL_EXIT_FAILURE, "domain '%s' holds %llu KiB after %lu "
                            "s, not its target of %llu KiB: its balloon driver is missing or "
                            "slow, or the guest cannot give more back (the target stays set)",
                            r->name, (unsigned long long)now.memory_kib, timeout_s,
                            (unsigned long long)target);
        usleep(200 * 1000);
    }
}

/* setmem and setmaxmem: one function, the command's name says which. */
int cmd_setmem(const struct vmctl_command *cmd, int argc, char **argv)
{
    static const char *const names[] = { "NAME", "SIZE" };
    const char *a[2], *timeout_text = NULL;
    bool is_max = strcmp(cmd->name, "setmaxmem") == 0;
    bool current = false, wait = false;
    struct resize r = { .cmd = cmd };
    struct cli_flag flags[] = {
        { .name = "live", .value = &r.live },
        { .name = "config", .value = &r.config },
        { .name = "current", .value = &current },
        { .name = "wait", .value = &wait },
        { .name = "timeout", .arg = &timeout_text },
        { .name = NULL },
    };
    if (is_max)
        flags[3].name = NULL;   /* setmaxmem has neither --wait nor --timeout */
    int rc;
    if (!cli_begin_args(cmd, argc, argv, flags, names, 2, a, &rc))
        return rc;
    if ((rc = resize_modes(&r, current)) != VMCTL_EXIT_OK)
        return rc;
    unsigned long timeout_s = 60;
    if (timeout_text && !wait)
        return cli_usage_error(cmd, "--timeout is how long --wait waits; give --wait too");
    if (timeout_text && !cli_number(cmd, "timeout", timeout_text, 1, 86400, &timeout_s))
        return VMCTL_EXIT_USAGE;
    if (wait && r.config && !r.live)
        return cli_usage_error(cmd, "--wait waits for the running domain's balloon; it has "
                               "nothing to wait for with --config alone");
    uint64_t kib;
    char why[256];
    if (!resize_parse_size(a[1], &kib, why, sizeof(why)))
        return cli_usage_error(cmd, "SIZE %s", why);
    if (kib < RESIZE_FLOOR_KIB)
        return cli_fail(cmd, VMCTL_EXIT_FAILURE, "%s is %llu KiB, below Mica's floor of %llu "
                        "KiB (32 MiB): a Linux guest with less runs out of memory; nothing was "
                        "changed (a smaller domain is defined with a smaller <memory>)",
                        a[1], (unsigned long long)kib, RESIZE_FLOOR_KIB);
    r.wanted = a[0];
    if ((rc = resize_begin(&r)) != VMCTL_EXIT_OK)
        goto out;
    const char *name = r.running ? r.name : r.stored;
    if (wait && !r.live) {
        rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "domain '%s' is not running, so --wait has "
                      "no balloon to wait for; nothing was changed", name);
        goto out;
    }

    /* Checks, then the new definition, before anything changes. */
    if (r.live && !is_max && kib > r.now.max_memory_kib) {
        rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "%llu KiB is more than the running domain "
                      "'%s' may have, %llu KiB; raise that first with 'vmctl setmaxmem %s "
                      "SIZE'; nothing was changed", (unsigned long long)kib, name,
                      (unsigned long long)r.now.max_memory_kib, name);
        goto out;
    }
    if (r.live && is_max && kib < r.now.target_kib) {
        rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "%llu KiB is below the balloon target of the "
                      "running domain '%s', %llu KiB; lower that first with 'vmctl setmem %s "
                      "SIZE'; nothing was changed", (unsigned long long)kib, name,
                      (unsigned long long)r.now.target_kib, name);
        goto out;
    }
    char *xml = NULL;
    size_t len = 0;
    uint64_t cur_was = r.cfg.current_memory_kib, max_was = r.cfg.memory_kib;
    if (r.config) {
        uint64_t max = is_max ? kib : r.cfg.memory_kib;
        /* As virsh: a lower maximum takes the current size down with it. */
        uint64_t cur = is_max ? (r.cfg.current_memory_kib < kib ? r.cfg.current_memory_kib : kib)
                              : kib;
        if (!is_max && kib > r.cfg.memory_kib) {
            rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "%llu KiB is more than the stored "
                          "definition of '%s' allows, <memory> %llu KiB; raise that first with "
                          "'vmctl setmaxmem %s SIZE --config'; nothing was changed",
                          (unsigned long long)kib, name, (unsigned long long)r.cfg.memory_kib,
                          name);
            goto out;
        }
        rc = resize_edited(&r, domcfg_document_set_memory(r.doc, max, cur), &xml, &len);
        if (rc != VMCTL_EXIT_OK)
            goto out;
    }
    if (r.live) {
        enum hv_status st = is_max ? hv_set_max_memory(r.hv, r.domid, kib)
                                   : hv_set_memory_target(r.hv, r.domid, kib);
        if (st != HV_OK) {
            rc = resize_live_failed(&r, xml);
            goto out;
        }
        if (is_max)
            printf("Domain '%s' (id %u): memory ceiling %llu KiB (was %llu KiB)\n", name,
                   r.domid, (unsigned long long)kib,
                   (unsigned long long)r.now.max_memory_kib);
        else
            printf("Domain '%s' (id %u): balloon target %llu KiB (was %llu KiB; it holds %llu "
                   "KiB now)\n", name, r.domid, (unsigned long long)kib,
                   (unsigned long long)r.now.target_kib,
                   (unsigned long long)r.now.memory_kib);
    }
    if (r.config) {
        rc = resize_store(&r, xml, len);
        free(xml);
        if (rc != VMCTL_EXIT_OK)
            goto out;
        if (is_max)
            printf("Domain '%s': stored <memory> %llu KiB (was %llu KiB)%s, used at its next "
                   "start\n", name, (unsigned long long)kib, (unsigned long long)max_was,
                   kib < cur_was ? ", <currentMemory> lowered to it" : "");
        else
            printf("Domain '%s': stored <currentMemory> %llu KiB (was %llu KiB), used at its "
                   "next start\n", name, (unsigned long long)kib, (unsigned long long)cur_was);
    }
    if (wait && r.live)
        rc = wait_balloon(&r, kib, timeout_s);
out:
    resize_end(&r);
    return rc;
}

int cmd_setvcpus(const struct vmctl_command *cmd, int argc, char **argv)
{
    static const char *const names[] = { "NAME", "COUNT" };
    const char *a[2];
    bool current = false, maximum = false;
    struct resize r = { .cmd = cmd };
    const struct cli_flag flags[] = {
        { .name = "live", .value = &r.live },
        { .name = "config", .value = &r.config },
        { .name = "current", .value = &current },
        { .name = "maximum", .value = &maximum },
        { .name = NULL },
    };
    int rc;
    if (!cli_begin_args(cmd, argc, argv, flags, names, 2, a, &rc))
        return rc;
    if ((rc = resize_modes(&r, current)) != VMCTL_EXIT_OK)
        return rc;
    char *end;
    unsigned long count = strtoul(a[1], &end, 10);
    if (a[1][0] < '0' || a[1][0] > '9' || *end || count < 1 || count > HV_MAX_VCPUS)
        return cli_usage_error(cmd, "COUNT wants a whole number from 1 to %d (a Mica PV "
                               "domain's most), not '%s'", HV_MAX_VCPUS, a[1]);
    if (maximum && (r.live || current))
        return cli_usage_error(cmd, "--maximum changes the stored definition's maximum, for "
                               "the next start (a running domain's is fixed when it is "
                               "made); use it with --config or alone");
    if (maximum)
        r.config = true;
    r.wanted = a[0];
    if ((rc = resize_begin(&r)) != VMCTL_EXIT_OK)
        goto out;
    const char *name = r.running ? r.name : r.stored;
    unsigned n = (unsigned)count;
    if (r.live && n > r.now.vcpus_max) {
        rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "the running domain '%s' was made with %u "
                      "vCPU%s, so %u cannot be available; 'vmctl setvcpus %s %u --config "
                      "--maximum' raises the maximum for its next start; nothing was changed",
                      name, r.now.vcpus_max, r.now.vcpus_max == 1 ? "" : "s", n, name, n);
        goto out;
    }
    char *xml = NULL;
    size_t len = 0;
    unsigned max_was = r.cfg.vcpus_max, cur_was = r.cfg.vcpus_current;
    if (r.config) {
        if (!maximum && n > r.cfg.vcpus_max) {
            rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "the stored definition of '%s' has at most "
                          "%u vCPU%s (<vcpu>); 'vmctl setvcpus %s %u --config --maximum' raises "
                          "that; nothing was changed", name, r.cfg.vcpus_max,
                          r.cfg.vcpus_max == 1 ? "" : "s", name, n);
            goto out;
        }
        /* As virsh: a lower maximum takes the current count down with it. */
        unsigned max = maximum ? n : r.cfg.vcpus_max;
        unsigned cur = maximum ? (cur_was < n ? cur_was : n) : n;
        rc = resize_edited(&r, domcfg_document_set_vcpus(r.doc, max, cur), &xml, &len);
        if (rc != VMCTL_EXIT_OK)
            goto out;
    }
    if (r.live) {
        if (hv_set_vcpus(r.hv, r.domid, n) != HV_OK) {
            rc = resize_live_failed(&r, xml);
            goto out;
        }
        char which[24];
        snprintf(which, sizeof(which), n == 1 ? "vCPU 0" : "vCPUs 0-%u", n - 1);
        printf("Domain '%s' (id %u): %s available (%u of %u; were %u, %u online now); the "
               "guest brings them up or down\n", name, r.domid, which, n, r.now.vcpus_max,
               r.now.vcpus_available, r.now.vcpus_online);
    }
    if (r.config) {
        rc = resize_store(&r, xml, len);
        free(xml);
        if (rc != VMCTL_EXIT_OK)
            goto out;
        if (maximum)
            printf("Domain '%s': stored <vcpu> maximum %u (was %u)%s, used at its next start\n",
                   name, n, max_was, n < cur_was ? ", current lowered to it" : "");
        else
            printf("Domain '%s': stored <vcpu> current %u of %u (was %u), used at its next "
                   "start\n", name, n, max_was, cur_was);
    }
out:
    resize_end(&r);
    return rc;
}
