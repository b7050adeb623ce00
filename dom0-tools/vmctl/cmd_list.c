/* list and info. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "defs.h"
#include "exitcodes.h"
#include "output.h"

/* One row of "vmctl list": a running domain, or a stored one that is not. */
struct row {
    char name[DOMCFG_NAME_MAX + 1];
    uint8_t uuid[16];
    bool has_uuid;
    bool running;
    uint32_t domid;
    uint64_t memory_kib;
    unsigned vcpus;
    unsigned state;
    double cpu_seconds;
};

static void state_flags(unsigned state, char out[7])
{
    static const char letters[] = "rbpscd";
    for (int i = 0; i < 6; i++)
        out[i] = state & (1u << i) ? letters[i] : '-';
    out[6] = '\0';
}

/* Stored definitions not matched by a running domain (same UUID or name). */
static int add_inactive(const struct vmctl_command *cmd, struct row **rows, size_t *n)
{
    struct store store;
    int status = defs_store_open(cmd, &store);
    if (status != VMCTL_EXIT_OK)
        return status;
    char err[512];
    char **names;
    size_t count;
    if (store_list(&store, &names, &count, err, sizeof(err)) < 0) {
        store_fini(&store);
        return cli_fail(cmd, VMCTL_EXIT_FAILURE, "%s", err);
    }
    size_t running = *n;
    int rc = VMCTL_EXIT_OK;
    for (size_t i = 0; i < count; i++) {
        struct domain_config cfg;
        if (defs_load_stored(cmd, &store, names[i], 0, &cfg) != VMCTL_EXIT_OK)
            continue; /* reported; the others are still worth listing */
        bool active = false;
        for (size_t j = 0; j < running; j++) {
            const struct row *r = &(*rows)[j];
            if (strcmp(r->name, cfg.name) == 0 ||
                (cfg.has_uuid && memcmp(r->uuid, cfg.uuid, 16) == 0))
                active = true;
        }
        if (!active) {
            struct row *grown = realloc(*rows, (*n + 1) * sizeof(**rows));
            if (!grown) {
                domcfg_free(&cfg);
                rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "out of memory");
                break;
            }
            *rows = grown;
            struct row *r = &(*rows)[(*n)++];
            memset(r, 0, sizeof(*r));
            snprintf(r->name, sizeof(r->name), "%s", cfg.name);
            memcpy(r->uuid, cfg.uuid, 16);
            r->has_uuid = cfg.has_uuid;
            r->memory_kib = cfg.current_memory_kib;
            r->vcpus = cfg.vcpus_current;
        }
        domcfg_free(&cfg);
    }
    store_free_names(names, count);
    store_fini(&store);
    return rc;
}

static void print_table(const struct row *rows, size_t n)
{
    printf("%-40s %5s %6s %5s %-8s %9s\n", "Name", "ID", "Mem", "VCPUs", "State", "Time(s)");
    for (size_t i = 0; i < n; i++) {
        const struct row *r = &rows[i];
        unsigned long long mib = (unsigned long long)((r->memory_kib + 1023) / 1024);
        if (r->running) {
            char flags[7];
            state_flags(r->state, flags);
            printf("%-40s %5u %6llu %5u %-8s %9.1f\n", r->name, r->domid, mib, r->vcpus,
                   flags, r->cpu_seconds);
        } else {
            printf("%-40s %5s %6llu %5u %-8s %9s\n", r->name, "-", mib, r->vcpus, "shut-off",
                   "-");
        }
    }
}

static void print_json(const struct row *rows, size_t n)
{
    printf("[");
    for (size_t i = 0; i < n; i++) {
        const struct row *r = &rows[i];
        char uuid[37];
        domcfg_format_uuid(r->uuid, uuid);
        printf("%s\n  {\"name\": ", i ? "," : "");
        json_string(stdout, r->name);
        printf(", \"uuid\": ");
        json_string(stdout, r->has_uuid ? uuid : NULL);
        if (r->running) {
            char flags[7];
            state_flags(r->state, flags);
            printf(", \"id\": %u, \"mem_mib\": %llu, \"vcpus\": %u, \"state\": \"%s\", "
                   "\"time_s\": %.1f}", r->domid,
                   (unsigned long long)((r->memory_kib + 1023) / 1024), r->vcpus, flags,
                   r->cpu_seconds);
        } else {
            printf(", \"id\": null, \"mem_mib\": %llu, \"vcpus\": %u, \"state\": \"shut-off\", "
                   "\"time_s\": null}", (unsigned long long)((r->memory_kib + 1023) / 1024),
                   r->vcpus);
        }
    }
    printf("%s]\n", n ? "\n" : "");
}

int cmd_list(const struct vmctl_command *cmd, int argc, char **argv)
{
    bool all = false, inactive = false, json = false;
    const struct cli_flag flags[] = {
        { .name = "all", .value = &all },
        { .name = "inactive", .value = &inactive },
        { .name = "json", .value = &json },
        { .name = NULL },
    };
    int status;
    if (!cli_begin(cmd, argc, argv, flags, NULL, NULL, &status))
        return status;
    if (all && inactive)
        return cli_usage_error(cmd, "--all already includes --inactive; give one of them");

    struct row *rows = NULL;
    size_t n = 0;
    int rc = VMCTL_EXIT_OK;
    if (!inactive) {
        struct hv *hv;
        rc = defs_connect(cmd, &hv);
        if (rc != VMCTL_EXIT_OK) {
            fprintf(stderr, "vmctl %s: 'vmctl list --inactive' shows the stored definitions "
                    "without the hypervisor\n", cmd->name);
            return rc;
        }
        struct hv_domain *domains;
        size_t count;
        if (hv_list(hv, &domains, &count) != HV_OK) {
            rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "%s", hv_error(hv));
            hv_close(hv);
            return rc;
        }
        rows = calloc(count ? count : 1, sizeof(*rows));
        if (!rows) {
            free(domains);
            hv_close(hv);
            return cli_fail(cmd, VMCTL_EXIT_FAILURE, "out of memory");
        }
        for (size_t i = 0; i < count; i++) {
            struct row *row = &rows[n++];
            snprintf(row->name, sizeof(row->name), "%s", domains[i].name);
            memcpy(row->uuid, domains[i].uuid, 16);
            row->has_uuid = true;
            row->running = true;
            row->domid = domains[i].domid;
            row->memory_kib = domains[i].memory_kib;
            row->vcpus = domains[i].vcpus;
            row->state = domains[i].state;
            row->cpu_seconds = (double)domains[i].cpu_ns / 1e9;
        }
        free(domains);
        hv_close(hv);
    }
    if (all || inactive)
        rc = add_inactive(cmd, &rows, &n);
    if (rc == VMCTL_EXIT_OK) {
        if (json)
            print_json(rows, n);
        else
            print_table(rows, n);
    }
    free(rows);
    return rc;
}

static const char *disk_driver_name(enum domcfg_disk_driver d)
{
    return d == DOMCFG_DRIVER_PHY ? "phy" : d == DOMCFG_DRIVER_FILE ? "file" : "default";
}

/* What the hypervisor says of a stored domain that is running. */
struct info_live {
    bool running;
    uint32_t domid;
    bool has_sched;
    unsigned weight, cap;
    bool has_now;       /* what it holds now (vmctl setmem, setvcpus) */
    struct hv_resources now;
    bool autostart;     /* marked with vmctl autostart */
};

static void print_info_text(const struct domain_config *cfg, const char *state,
                            const struct info_live *live)
{
    char uuid[37];
    domcfg_format_uuid(cfg->uuid, uuid);
    printf("Name:           %s\n", cfg->name);
    printf("UUID:           %s\n", cfg->has_uuid ? uuid : "-");
    if (cfg->title)
        printf("Title:          %s\n", cfg->title);
    printf("State:          %s\n", state);
    printf("Persistent:     yes\n");
    printf("Autostart:      %s\n", live->autostart ? "yes" : "no");
    if (cfg->has_max_memory)
        printf("Max memory:     %llu KiB\n", (unsigned long long)cfg->max_memory_kib);
    printf("Memory:         %llu KiB\n", (unsigned long long)cfg->memory_kib);
    printf("Current memory: %llu KiB\n", (unsigned long long)cfg->current_memory_kib);
    printf("vCPUs:          %u (maximum %u)\n", cfg->vcpus_current, cfg->vcpus_max);
    if (cfg->has_cpuset || cfg->n_vcpupins) {
        /* Where the definition lets the vCPUs run (hard affinity). */
        char cpus[256];
        printf("vCPU pins:     ");
        if (cfg->has_cpuset) {
            domcfg_cpuset_format(&cfg->cpuset, DOMCFG_CPUS_MAX, cpus, sizeof(cpus));
            printf(" every vCPU: %s%s", cpus, cfg->n_vcpupins ? ";" : "");
        }
        for (size_t i = 0; i < cfg->n_vcpupins; i++) {
            domcfg_cpuset_format(&cfg->vcpupins[i].cpus, DOMCFG_CPUS_MAX, cpus, sizeof(cpus));
            printf(" vCPU %u: %s%s", cfg->vcpupins[i].vcpu, cpus,
                   i + 1 < cfg->n_vcpupins ? ";" : "");
        }
        printf("\n");
    }
    printf("Kernel:         %s\n", cfg->kernel);
    printf("Initrd:         %s\n", cfg->initrd ? cfg->initrd : "-");
    printf("Command line:   %s\n", cfg->cmdline ? cfg->cmdline : "-");
    printf("On poweroff:    %s\n", domcfg_action_name(cfg->on_poweroff));
    printf("On reboot:      %s\n", domcfg_action_name(cfg->on_reboot));
    printf("On crash:       %s\n", domcfg_action_name(cfg->on_crash));
    for (size_t i = 0; i < cfg->n_disks; i++) {
        const struct domcfg_disk *d = &cfg->disks[i];
        printf("Disk:           %s %s %s (driver %s)%s%s\n", d->target,
               d->type == DOMCFG_DISK_BLOCK ? "block" : "file", d->source,
               disk_driver_name(d->driver), d->readonly ? " read-only" : "",
               d->cdrom ? " cdrom" : "");
    }
    for (size_t i = 0; i < cfg->n_nics; i++) {
        const struct domcfg_nic *nic = &cfg->nics[i];
        char mac[18] = "auto";
        if (nic->has_mac)
            snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", nic->mac[0],
                     nic->mac[1], nic->mac[2], nic->mac[3], nic->mac[4], nic->mac[5]);
        printf("Interface:      %s%s mac %s%s%s\n",
               nic->type == DOMCFG_NIC_BRIDGE ? "bridge " : "ethernet",
               nic->bridge ? nic->bridge : "", mac, nic->target_dev ? " back-end " : "",
               nic->target_dev ? nic->target_dev : "");
    }
    printf("Console:        %s\n", cfg->has_console ? "pty" : "none");
    printf("Sched weight:   %s", cfg->sched_weight ? "" : "default\n");
    if (cfg->sched_weight)
        printf("%u\n", cfg->sched_weight);
    printf("Sched cap:      %u%%%s\n", cfg->sched_cap, cfg->sched_cap ? "" : " (none)");
    if (live->running)
        printf("Domain ID:      %u\n", live->domid);
    if (live->has_sched)
        printf("Sched now:      weight %u, cap %u%%%s\n", live->weight, live->cap,
               live->cap ? "" : " (none)");
    if (live->has_now) {
        printf("Memory now:     %llu KiB (balloon target %llu KiB, ceiling %llu KiB)\n",
               (unsigned long long)live->now.memory_kib,
               (unsigned long long)live->now.target_kib,
               (unsigned long long)live->now.max_memory_kib);
        printf("vCPUs now:      %u online, %u available (maximum %u)\n",
               live->now.vcpus_online, live->now.vcpus_available, live->now.vcpus_max);
    }
}

static void print_info_json(const struct domain_config *cfg, const char *state,
                            const struct info_live *live)
{
    char uuid[37];
    domcfg_format_uuid(cfg->uuid, uuid);
    printf("{\"name\": ");
    json_string(stdout, cfg->name);
    printf(", \"uuid\": ");
    json_string(stdout, cfg->has_uuid ? uuid : NULL);
    printf(", \"title\": ");
    json_string(stdout, cfg->title);
    printf(", \"state\": ");
    json_string(stdout, state);
    printf(", \"persistent\": true, \"autostart\": %s", live->autostart ? "true" : "false");
    printf(", \"memory_kib\": %llu, \"current_memory_kib\": %llu",
           (unsigned long long)cfg->memory_kib, (unsigned long long)cfg->current_memory_kib);
    if (cfg->has_max_memory)
        printf(", \"max_memory_kib\": %llu", (unsigned long long)cfg->max_memory_kib);
    printf(", \"vcpus\": %u, \"vcpus_max\": %u, \"kernel\": ", cfg->vcpus_current,
           cfg->vcpus_max);
    json_string(stdout, cfg->kernel);
    printf(", \"initrd\": ");
    json_string(stdout, cfg->initrd);
    printf(", \"cmdline\": ");
    json_string(stdout, cfg->cmdline);
    printf(", \"disks\": [");
    for (size_t i = 0; i < cfg->n_disks; i++) {
        printf("%s{\"target\": ", i ? ", " : "");
        json_string(stdout, cfg->disks[i].target);
        printf(", \"source\": ");
        json_string(stdout, cfg->disks[i].source);
        printf(", \"readonly\": %s}", cfg->disks[i].readonly ? "true" : "false");
    }
    printf("], \"interfaces\": %zu", cfg->n_nics);
    /* The definition's values (null: the hypervisor's default), then what
       the running domain has now. */
    if (cfg->sched_weight)
        printf(", \"sched_weight\": %u", cfg->sched_weight);
    else
        printf(", \"sched_weight\": null");
    printf(", \"sched_cap\": %u", cfg->sched_cap);
    if (live->running)
        printf(", \"id\": %u", live->domid);
    else
        printf(", \"id\": null");
    if (live->has_sched)
        printf(", \"sched_now\": {\"weight\": %u, \"cap\": %u}", live->weight, live->cap);
    if (live->has_now)
        printf(", \"now\": {\"memory_kib\": %llu, \"memory_target_kib\": %llu, "
               "\"max_memory_kib\": %llu, \"vcpus_online\": %u, \"vcpus_available\": %u, "
               "\"vcpus_max\": %u}", (unsigned long long)live->now.memory_kib,
               (unsigned long long)live->now.target_kib,
               (unsigned long long)live->now.max_memory_kib, live->now.vcpus_online,
               live->now.vcpus_available, live->now.vcpus_max);
    printf("}\n");
}

int cmd_info(const struct vmctl_command *cmd, int argc, char **argv)
{
    bool json = false;
    const struct cli_flag flags[] = { { .name = "json", .value = &json }, { .name = NULL } };
    const char *wanted;
    int status;
    if (!cli_begin(cmd, argc, argv, flags, "NAME", &wanted, &status))
        return status;
    struct store store;
    if ((status = defs_store_open(cmd, &store)) != VMCTL_EXIT_OK)
        return status;
    char *name = NULL;
    int rc = defs_find(cmd, &store, wanted, &name);
    if (rc == VMCTL_EXIT_NOT_FOUND) {
        /* Not stored: a domain started with 'create' has no definition to
           show; say where its run-time state is instead of guessing. */
        rc = cli_fail(cmd, VMCTL_EXIT_NOT_FOUND, "no domain named '%s' is defined; 'info' "
                      "shows defined domains (a domain started with 'vmctl create' "
                      "FILE.xml appears in 'vmctl list')", wanted);
        goto out;
    }
    if (rc != VMCTL_EXIT_OK)
        goto out;
    struct domain_config cfg;
    rc = defs_load_stored(cmd, &store, name, 0, &cfg);
    if (rc == VMCTL_EXIT_NOT_FOUND)
        rc = defs_not_found(cmd, wanted); /* undefined between the two looks */
    if (rc != VMCTL_EXIT_OK)
        goto out;
    /* The definition is what info is mostly about; without the hypervisor
       the state is unknown, which is said rather than guessed. */
    struct hv *hv;
    char err[512];
    const char *state = "unknown";
    struct info_live live = { .running = false, .autostart = store_autostart_get(&store, name) };
    if (hv_open(&hv, err, sizeof(err)) != HV_OK) {
        cli_warn(cmd, "state unknown: cannot reach the Mica hypervisor: %s", err);
    } else {
        struct hv_domain *domains;
        size_t count;
        if (hv_list(hv, &domains, &count) != HV_OK) {
            cli_warn(cmd, "state unknown: %s", hv_error(hv));
        } else {
            state = "shut-off";
            for (size_t i = 0; i < count && !live.running; i++) {
                if (strcmp(domains[i].name, cfg.name) != 0)
                    continue;
                live.running = true;
                live.domid = domains[i].domid;
                unsigned st = domains[i].state;
                state = st & HV_STATE_DYING ? "dying" : st & HV_STATE_CRASHED ? "crashed"
                        : st & HV_STATE_SHUTDOWN ? "shut down" : st & HV_STATE_PAUSED ? "paused"
                        : "running";
            }
            free(domains);
            if (live.running) {
                live.has_sched = hv_sched_get(hv, live.domid, &live.weight, &live.cap) == HV_OK;
                live.has_now = hv_resources(hv, live.domid, &live.now) == HV_OK;
            }
        }
        hv_close(hv);
    }
    if (json)
        print_info_json(&cfg, state, &live);
    else
        print_info_text(&cfg, state, &live);
    domcfg_free(&cfg);
out:
    free(name);
    store_fini(&store);
    return rc;
}

int cmd_hostinfo(const struct vmctl_command *cmd, int argc, char **argv)
{
    bool json = false;
    const struct cli_flag flags[] = { { .name = "json", .value = &json }, { .name = NULL } };
    int status;
    if (!cli_begin(cmd, argc, argv, flags, NULL, NULL, &status))
        return status;
    struct hv *hv;
    int rc = defs_connect(cmd, &hv);
    if (rc != VMCTL_EXIT_OK)
        return rc;
    struct hv_host h;
    if (hv_host_info(hv, &h) != HV_OK) {
        rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "%s", hv_error(hv));
    } else if (json) {
        printf("{\"nr_cpus\": %u, \"cpu_mhz\": %u, \"total_memory_mib\": %llu, "
               "\"free_memory_mib\": %llu, \"total_pages\": %llu, \"free_pages\": %llu}\n",
               h.nr_cpus, h.cpu_khz / 1000, (unsigned long long)(h.total_pages / 256),
               (unsigned long long)(h.free_pages / 256), (unsigned long long)h.total_pages,
               (unsigned long long)h.free_pages);
    } else {
        /* The names and layout of the matching 'xl info' lines, plus pages. */
        printf("nr_cpus                : %u\n", h.nr_cpus);
        printf("cpu_mhz                : %u.%03u\n", h.cpu_khz / 1000, h.cpu_khz % 1000);
        printf("total_memory           : %llu\n", (unsigned long long)(h.total_pages / 256));
        printf("free_memory            : %llu\n", (unsigned long long)(h.free_pages / 256));
        printf("total_pages            : %llu\n", (unsigned long long)h.total_pages);
        printf("free_pages             : %llu\n", (unsigned long long)h.free_pages);
    }
    hv_close(hv);
    return rc;
}
