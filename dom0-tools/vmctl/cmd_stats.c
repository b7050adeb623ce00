/*
 * vmctl domstats: what each running domain uses, in the groups and key
 * names of 'virsh domstats' (state, cpu-total, balloon, vcpu, interface,
 * block), so that scripts written for libvirt read it unchanged.  CPU and
 * memory come from the hypervisor (one domain listing, getvcpuinfo); disks
 * and interfaces from dom0's back-ends (devstats.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "defs.h"
#include "devstats.h"
#include "exitcodes.h"
#include "hv.h"
#include "output.h"

/* libvirt's virDomainState and virVcpuState numbers (libvirt-domain.h). */
enum { VIR_RUNNING = 1, VIR_PAUSED = 3, VIR_SHUTDOWN = 4, VIR_CRASHED = 6 };
enum { VIR_VCPU_OFFLINE = 0, VIR_VCPU_RUNNING = 1, VIR_VCPU_BLOCKED = 2 };

/* sysfs as dom0 sees it; a test may put a copy elsewhere. */
static const char *sysroot(void)
{
    const char *s = getenv("VMCTL_SYSFS_ROOT");
    return s ? s : "";
}

enum group { G_STATE = 1, G_CPU = 2, G_BALLOON = 4, G_VCPU = 8, G_NET = 16, G_BLOCK = 32 };

/* One "key=value" line, or one JSON member. */
struct out {
    bool json;
    bool first;
};

static void put_u(struct out *o, const char *key, uint64_t v)
{
    if (o->json)
        printf("%s\n    \"%s\": %" PRIu64, o->first ? "" : ",", key, v);
    else
        printf("  %s=%" PRIu64 "\n", key, v);
    o->first = false;
}

static void put_s(struct out *o, const char *key, const char *v)
{
    if (o->json) {
        printf("%s\n    \"%s\": ", o->first ? "" : ",", key);
        json_string(stdout, v);
    } else {
        printf("  %s=%s\n", key, v);
    }
    o->first = false;
}

static unsigned domain_state(const struct hv_domain *d)
{
    if (d->state & HV_STATE_CRASHED)
        return VIR_CRASHED;
    if (d->state & (HV_STATE_SHUTDOWN | HV_STATE_DYING))
        return VIR_SHUTDOWN;
    if (d->state & HV_STATE_PAUSED)
        return VIR_PAUSED;
    return VIR_RUNNING;   /* running or blocked: libvirt says running for both */
}

/* Devices that could not be listed are left out with a warning: the rest
   of the domain's numbers are still worth printing. */
static void put_nics(const struct vmctl_command *cmd, struct out *o, struct mica_xs *xs,
                     uint32_t domid)
{
    struct devstats_nic *n;
    size_t count;
    int rc = devstats_nics(xs, sysroot(), domid, &n, &count);
    if (rc) {
        cli_warn(cmd, "domain %u: interfaces not listed: xenstore: %s", domid, strerror(-rc));
        return;
    }
    char key[64];
    put_u(o, "net.count", count);
    for (size_t i = 0; i < count; i++) {
        snprintf(key, sizeof(key), "net.%zu.name", i);
        put_s(o, key, n[i].name);
        if (!n[i].counted) {
            cli_warn(cmd, "domain %u: no counters for interface %s (not in dom0's sysfs)",
                     domid, n[i].name);
            continue;
        }
        static const char *const names[] = { "rx.bytes", "rx.pkts", "rx.errs", "rx.drop",
                                              "tx.bytes", "tx.pkts", "tx.errs", "tx.drop" };
        const uint64_t v[] = { n[i].rx_bytes, n[i].rx_pkts, n[i].rx_errs, n[i].rx_drop,
                               n[i].tx_bytes, n[i].tx_pkts, n[i].tx_errs, n[i].tx_drop };
        for (size_t k = 0; k < 8; k++) {
            snprintf(key, sizeof(key), "net.%zu.%s", i, names[k]);
            put_u(o, key, v[k]);
        }
    }
    free(n);
}

static void put_disks(const struct vmctl_command *cmd, struct out *o, struct mica_xs *xs,
                      uint32_t domid)
{
    struct devstats_disk *d;
    size_t count;
    int rc = devstats_disks(xs, sysroot(), domid, &d, &count);
    if (rc) {
        cli_warn(cmd, "domain %u: disks not listed: xenstore: %s", domid, strerror(-rc));
        return;
    }
    char key[64];
    put_u(o, "block.count", count);
    for (size_t i = 0; i < count; i++) {
        snprintf(key, sizeof(key), "block.%zu.name", i);
        put_s(o, key, d[i].name);
        if (d[i].path[0]) {
            snprintf(key, sizeof(key), "block.%zu.path", i);
            put_s(o, key, d[i].path);
        }
        if (!d[i].counted) {
            cli_warn(cmd, "domain %u: no counters for disk %s (blkback has not connected it)",
                     domid, d[i].name);
            continue;
        }
        static const char *const names[] = { "rd.reqs", "rd.bytes", "wr.reqs", "wr.bytes",
                                              "fl.reqs" };
        const uint64_t v[] = { d[i].rd_reqs, d[i].rd_bytes, d[i].wr_reqs, d[i].wr_bytes,
                               d[i].fl_reqs };
        for (size_t k = 0; k < 5; k++) {
            snprintf(key, sizeof(key), "block.%zu.%s", i, names[k]);
            put_u(o, key, v[k]);
        }
    }
    free(d);
}

static void put_vcpus(const struct vmctl_command *cmd, struct out *o, struct hv *hv,
                      const struct hv_domain *dom)
{
    put_u(o, "vcpu.current", dom->vcpus);
    put_u(o, "vcpu.maximum", (uint64_t)dom->max_vcpu_id + 1);
    struct hv_vcpu *v;
    size_t n;
    if (hv_vcpu_list(hv, dom->domid, &v, &n) != HV_OK) {
        cli_warn(cmd, "domain %u: vCPUs not listed: %s", dom->domid, hv_error(hv));
        return;
    }
    char key[48];
    for (size_t i = 0; i < n; i++) {
        snprintf(key, sizeof(key), "vcpu.%u.state", v[i].id);
        put_u(o, key, !v[i].online ? VIR_VCPU_OFFLINE
                      : v[i].running ? VIR_VCPU_RUNNING : VIR_VCPU_BLOCKED);
        snprintf(key, sizeof(key), "vcpu.%u.time", v[i].id);
        put_u(o, key, (uint64_t)(v[i].cpu_seconds * 1e9 + 0.5));
    }
    free(v);
}

static void print_domain(const struct vmctl_command *cmd, struct hv *hv,
                         const struct hv_domain *dom, unsigned groups, bool json, bool first)
{
    struct out o = { .json = json, .first = true };
    if (json) {
        printf("%s\n  {\"name\": ", first ? "" : ",");
        json_string(stdout, dom->name);
        printf(", \"id\": %u, \"stats\": {", dom->domid);
    } else {
        printf("Domain: '%s'\n", dom->name);
    }
    if (groups & G_STATE) {
        put_u(&o, "state.state", domain_state(dom));
        /* Mica does not keep why a domain is in its state (libvirt's
           reason codes); 0 is libvirt's "unknown". */
        put_u(&o, "state.reason", 0);
    }
    if (groups & G_CPU)
        put_u(&o, "cpu.time", dom->cpu_ns);
    if (groups & G_BALLOON) {
        put_u(&o, "balloon.current", dom->memory_kib);
        put_u(&o, "balloon.maximum", dom->max_memory_kib);
    }
    if (groups & G_VCPU)
        put_vcpus(cmd, &o, hv, dom);
    if (groups & G_NET)
        put_nics(cmd, &o, hv_xenstore(hv), dom->domid);
    if (groups & G_BLOCK)
        put_disks(cmd, &o, hv_xenstore(hv), dom->domid);
    printf(json ? "\n  }}" : "\n");
}

/* NAME is optional: without it every running domain but dom0 is shown. */
static bool has_positional(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return i + 1 < argc;
        if (argv[i][0] != '-' || argv[i][1] == '\0')
            return true;
    }
    return false;
}

int cmd_domstats(const struct vmctl_command *cmd, int argc, char **argv)
{
    bool state = false, cpu = false, balloon = false, vcpu = false, net = false, block = false;
    bool json = false;
    const struct cli_flag flags[] = {
        { .name = "state", .value = &state },
        { .name = "cpu-total", .value = &cpu },
        { .name = "balloon", .value = &balloon },
        { .name = "vcpu", .value = &vcpu },
        { .name = "interface", .value = &net },
        { .name = "block", .value = &block },
        { .name = "json", .value = &json },
        { .name = NULL },
    };
    const char *wanted = NULL;
    int status;
    if (!cli_begin(cmd, argc, argv, flags, has_positional(argc, argv) ? "NAME" : NULL,
                   &wanted, &status))
        return status;
    unsigned groups = (state ? G_STATE : 0) | (cpu ? G_CPU : 0) | (balloon ? G_BALLOON : 0) |
                      (vcpu ? G_VCPU : 0) | (net ? G_NET : 0) | (block ? G_BLOCK : 0);
    if (!groups)
        groups = G_STATE | G_CPU | G_BALLOON | G_VCPU | G_NET | G_BLOCK;

    /* One listing: it names the domains and holds all their numbers. */
    struct hv *hv;
    int rc = defs_connect(cmd, &hv);
    if (rc != VMCTL_EXIT_OK)
        return rc;
    struct hv_domain *doms = NULL;
    size_t n = 0;
    if (hv_list(hv, &doms, &n) != HV_OK) {
        rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "%s", hv_error(hv));
        goto out;
    }
    const struct hv_domain *only = NULL;
    for (size_t i = 0; wanted && i < n && !only; i++)
        if (defs_names_domain(&doms[i], wanted))
            only = &doms[i];
    if (wanted && !only) {
        rc = cli_fail(cmd, VMCTL_EXIT_NOT_FOUND, "no running domain named '%s' (see 'vmctl "
                      "list')", wanted);
        goto out;
    }
    if (json)
        printf("[");
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        if (only ? &doms[i] != only : doms[i].domid == 0)
            continue;
        print_domain(cmd, hv, &doms[i], groups, json, first);
        first = false;
    }
    if (json)
        printf("%s]\n", first ? "" : "\n");
out:
    free(doms);
    hv_close(hv);
    return rc;
}
