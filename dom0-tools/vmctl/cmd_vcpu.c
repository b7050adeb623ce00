/*
 * vmctl vcpu-list and vcpu-pin: where a domain's vCPUs run and may run,
 * as xl vcpu-list / xl vcpu-pin show and set it (getvcpuinfo,
 * get/setvcpuaffinity; the hard mask).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "cpuset.h"
#include "defs.h"
#include "exitcodes.h"
#include "hv.h"

/* xl vcpu-list's row: CPU and state "-" for an offline vCPU, state
   r(unning) b(locked), Time(s), then hard / soft affinity over the host's
   CPUs ("all" when every one). */
static void print_vcpu(const char *name, uint32_t domid, const struct hv_vcpu *v, unsigned nr)
{
    char hard[256], soft[256];

    domcfg_cpuset_format(&v->hard, nr, hard, sizeof(hard));
    domcfg_cpuset_format(&v->soft, nr, soft, sizeof(soft));
    printf("%-32s %5u %5u", name, domid, v->id);
    if (!v->online)
        printf("%5c %3c%cp ", '-', '-', '-');
    else
        printf("%5u %3c%c- ", v->cpu, v->running ? 'r' : '-', v->blocked ? 'b' : '-');
    printf("%9.1f  %s / %s\n", v->cpu_seconds, hard, soft);
}

static int list_domain(const struct vmctl_command *cmd, struct hv *hv, const char *name,
                       uint32_t domid, unsigned nr)
{
    struct hv_vcpu *vcpus;
    size_t n;
    enum hv_status st = hv_vcpu_list(hv, domid, &vcpus, &n);

    if (st == HV_NO_DOMAIN)
        return VMCTL_EXIT_OK;       /* gone since it was listed */
    if (st != HV_OK)
        return cli_fail(cmd, VMCTL_EXIT_FAILURE, "%s", hv_error(hv));
    for (size_t i = 0; i < n; i++)
        print_vcpu(name, domid, &vcpus[i], nr);
    free(vcpus);
    return VMCTL_EXIT_OK;
}

int cmd_vcpu_list(const struct vmctl_command *cmd, int argc, char **argv)
{
    const char *wanted = NULL;
    int status;

    if (argc > 1 && !cli_begin(cmd, argc, argv, NULL, "NAME", &wanted, &status))
        return status;
    struct hv *hv;
    int rc = defs_connect(cmd, &hv);
    if (rc != VMCTL_EXIT_OK)
        return rc;
    struct hv_host host;
    struct hv_domain *domains = NULL;
    size_t count = 0;
    if (hv_host_info(hv, &host) != HV_OK || hv_list(hv, &domains, &count) != HV_OK) {
        rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "%s", hv_error(hv));
        goto out;
    }
    /* A name, or a running domain's numeric ID. */
    bool found = !wanted;
    printf("%-32s %5s %5s %5s %5s %9s %s\n", "Name", "ID", "VCPU", "CPU", "State", "Time(s)",
           "Affinity (Hard / Soft)");
    for (size_t i = 0; i < count && rc == VMCTL_EXIT_OK; i++) {
        if (wanted && !defs_names_domain(&domains[i], wanted))
            continue;
        found = true;
        rc = list_domain(cmd, hv, domains[i].name, domains[i].domid, host.max_cpu_id + 1);
    }
    if (!found)
        rc = cli_fail(cmd, VMCTL_EXIT_NOT_FOUND, "no running domain named '%s' (see 'vmctl "
                      "list')", wanted);
out:
    free(domains);
    hv_close(hv);
    return rc;
}

int cmd_vcpu_pin(const struct vmctl_command *cmd, int argc, char **argv)
{
    static const char *const names[] = { "NAME", "VCPU", "CPULIST" };
    const char *a[3];
    int status;

    if (!cli_begin_args(cmd, argc, argv, NULL, names, 3, a, &status))
        return status;
    /* VCPU: a number or "all" (as xl); the CPU list in libvirt/xl syntax. */
    bool every = strcmp(a[1], "all") == 0;
    unsigned long vcpu = 0;
    if (!every && !cli_number(cmd, "VCPU", a[1], 0, 511, &vcpu))
        return VMCTL_EXIT_USAGE;
    struct domcfg_cpuset cpus;
    bool all_cpus;
    char err[256];
    if (domcfg_cpuset_parse(a[2], true, &cpus, &all_cpus, err, sizeof(err)))
        return cli_usage_error(cmd, "CPULIST %s", err);

    struct hv *hv;
    uint32_t domid;
    int rc = defs_connect_running(cmd, a[0], &hv, &domid);
    if (rc != VMCTL_EXIT_OK)
        return rc;
    struct hv_host host;
    unsigned nvcpus = 0;
    enum hv_status st = hv_host_info(hv, &host);
    if (st == HV_OK)
        st = hv_vcpu_count(hv, domid, &nvcpus);
    if (st != HV_OK) {
        rc = cli_fail(cmd, st == HV_NO_DOMAIN ? VMCTL_EXIT_NOT_FOUND : VMCTL_EXIT_FAILURE, "%s",
                      hv_error(hv));
        goto out;
    }
    unsigned nr = host.max_cpu_id + 1;
    char have[64], text[256];
    struct domcfg_cpuset host_cpus;
    memset(&host_cpus, 0, sizeof(host_cpus));
    for (unsigned c = 0; c < nr; c++)
        domcfg_cpuset_set(&host_cpus, c);
    domcfg_cpuset_format(&host_cpus, DOMCFG_CPUS_MAX, have, sizeof(have));
    if (all_cpus) {
        cpus = host_cpus;
    } else if ((unsigned)domcfg_cpuset_last(&cpus) >= nr) {
        rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "CPU %d does not exist: this host's CPUs are "
                      "%s; nothing was changed", domcfg_cpuset_last(&cpus), have);
        goto out;
    }
    if (!every && vcpu >= nvcpus) {
        rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "domain '%s' has %u vCPU%s (0 to %u), so there "
                      "is no vCPU %lu; nothing was changed", a[0], nvcpus, nvcpus == 1 ? "" : "s",
                      nvcpus - 1, vcpu);
        goto out;
    }
    for (unsigned v = every ? 0 : (unsigned)vcpu; v < (every ? nvcpus : vcpu + 1); v++) {
        struct domcfg_cpuset effective;
        st = hv_vcpu_pin(hv, domid, v, &cpus, &effective);
        if (st != HV_OK) {
            rc = cli_fail(cmd, st == HV_NO_DOMAIN ? VMCTL_EXIT_NOT_FOUND : VMCTL_EXIT_FAILURE,
                          "%s%s", hv_error(hv), every && v ? " (the vCPUs before it are "
                          "pinned already)" : "");
            goto out;
        }
        domcfg_cpuset_format(&effective, nr, text, sizeof(text));
        printf("Domain '%s' (id %u) vCPU %u may run on CPUs %s\n", a[0], domid, v, text);
    }
out:
    hv_close(hv);
    return rc;
}
