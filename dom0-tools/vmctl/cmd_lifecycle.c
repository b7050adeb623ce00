/*
 * Commands that act on running domains: create, start, shutdown, reboot,
 * destroy, pause, unpause, console.  Each checks its arguments and the
 * definition first, then connects to the hypervisor, and changes nothing
 * when the hypervisor cannot be reached.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "defs.h"
#include "devices.h"
#include "exitcodes.h"
#include "monitor.h"

static int boot(const struct vmctl_command *cmd, const char *source, struct domain_config *cfg)
{
    struct hv *hv;
    if (cfg->is_template)
        return cli_fail(cmd, VMCTL_EXIT_INVALID, "'%s' is a template (<mica:template/> in %s): "
                        "it is only cloned from, never started; make a domain of it with "
                        "'vmctl clone %s NEWNAME' and start that", cfg->name, source, cfg->name);
    int rc = monitor_check_actions(cmd, source, cfg);
    if (rc != VMCTL_EXIT_OK)
        return rc;
    /* xenstore's /vm/UUID and the domain handle need one, as with xl. */
    if (!cfg->has_uuid) {
        if (defs_random_uuid(cfg->uuid) < 0)
            return cli_fail(cmd, VMCTL_EXIT_FAILURE, "cannot make a UUID: %s", strerror(errno));
        cfg->has_uuid = true;
    }
    /* Picked here so that the monitor restarts the domain with the same ones. */
    devices_pick_macs(cfg);
    rc = defs_connect(cmd, &hv);
    if (rc != VMCTL_EXIT_OK)
        return rc;
    hv_set_origin(hv, source);
    uint32_t domid;
    bool started = hv_create(hv, cfg, &domid) == HV_OK;
    if (!started)
        rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "cannot start '%s': %s", cfg->name,
                      hv_error(hv));
    else
        printf("Domain '%s' started (id %u)\n", cfg->name, domid);
    hv_close(hv);
    /* After hv_close, so that the monitor inherits no connection of ours. */
    if (started)
        monitor_spawn(cmd, cfg, domid);
    return rc;
}

int cmd_create(const struct vmctl_command *cmd, int argc, char **argv)
{
    const char *file;
    int status;
    if (!cli_begin(cmd, argc, argv, NULL, "FILE.xml", &file, &status))
        return status;
    struct domain_config cfg;
    int rc = defs_load_input(cmd, file, DOMCFG_CHECK_FILES, &cfg, NULL);
    if (rc != VMCTL_EXIT_OK)
        return rc;
    rc = boot(cmd, file, &cfg);
    domcfg_free(&cfg);
    return rc;
}

/* Starts the stored domain name (wanted: as the user spelt it). */
static int start_stored(const struct vmctl_command *cmd, const struct store *store,
                        const char *name, const char *wanted)
{
    /* Files are checked again: a kernel may have been removed since the
       domain was defined. */
    struct domain_config cfg;
    int rc = defs_load_stored(cmd, store, name, DOMCFG_CHECK_FILES, &cfg);
    if (rc == VMCTL_EXIT_NOT_FOUND)
        rc = defs_not_found(cmd, wanted);
    if (rc == VMCTL_EXIT_OK) {
        char *path = store_path(store, name);
        rc = boot(cmd, path ? path : name, &cfg);
        free(path);
        domcfg_free(&cfg);
    }
    return rc;
}

int cmd_start(const struct vmctl_command *cmd, int argc, char **argv)
{
    const char *wanted;
    char *name;
    struct store store;
    int rc;
    if (!defs_begin_named(cmd, argc, argv, NULL, false, &store, &wanted, &name, &rc))
        return rc;
    rc = start_stored(cmd, &store, name, wanted);
    free(name);
    store_fini(&store);
    return rc;
}

int cmd_autostart(const struct vmctl_command *cmd, int argc, char **argv)
{
    bool disable = false;
    const struct cli_flag flags[] = { { "disable", &disable, NULL, 0 }, { NULL, NULL, NULL, 0 } };
    const char *wanted;
    char *name, err[512];
    struct store store;
    int rc;
    if (!defs_begin_named(cmd, argc, argv, flags, true, &store, &wanted, &name, &rc))
        return rc;
    if (store_autostart_set(&store, name, !disable, err, sizeof(err)) < 0)
        rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "%s", err);
    else
        printf("Domain '%s' %s as autostarted\n", name, disable ? "unmarked" : "marked");
    free(name);
    store_fini(&store);
    return rc;
}

/* What mica-autostart.service runs at boot, as libvirtd does when it
   starts: every stored domain marked for autostart that is not running. */
int cmd_start_autostart(const struct vmctl_command *cmd, int argc, char **argv)
{
    int rc;
    if (!cli_begin(cmd, argc, argv, NULL, NULL, NULL, &rc))
        return rc;
    struct store store;
    if ((rc = defs_store_open(cmd, &store)) != VMCTL_EXIT_OK)
        return rc;
    char **names = NULL, err[512];
    size_t count = 0, marked = 0, failed = 0;
    struct hv *hv = NULL;
    struct hv_domain *running = NULL;
    size_t n_running = 0;
    if (store_list(&store, &names, &count, err, sizeof(err)) < 0) {
        rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "%s", err);
        goto out;
    }
    for (size_t i = 0; i < count; i++)
        marked += store_autostart_get(&store, names[i]);
    if (!marked) {
        printf("No domain is marked for autostart\n");
        goto out;
    }
    if ((rc = defs_connect(cmd, &hv)) != VMCTL_EXIT_OK)
        goto out;
    if (hv_list(hv, &running, &n_running) != HV_OK) {
        rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "%s", hv_error(hv));
        hv_close(hv);
        goto out;
    }
    hv_close(hv);
    for (size_t i = 0; i < count; i++) {
        if (!store_autostart_get(&store, names[i]))
            continue;
        bool up = false;
        for (size_t j = 0; j < n_running && !up; j++)
            up = strcmp(running[j].name, names[i]) == 0;
        if (up) {
            printf("Domain '%s' is already running\n", names[i]);
            continue;
        }
        if (start_stored(cmd, &store, names[i], names[i]) != VMCTL_EXIT_OK)
            failed++;
    }
    if (failed)
        rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "%zu of %zu domains marked for autostart did "
                      "not start", failed, marked);
out:
    free(running);
    store_free_names(names, count);
    store_fini(&store);
    return rc;
}

/* Waits until domid has shut down or is gone: VMCTL_EXIT_OK, or
   VMCTL_EXIT_FAILURE after timeout_s (0: no limit). */
static int wait_down(const struct vmctl_command *cmd, struct hv *hv, uint32_t domid,
                     const char *wanted, unsigned long timeout_s)
{
    bool watching = hv_watch_release(hv) == HV_OK;
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        struct hv_life life;
        enum hv_status st = hv_life(hv, domid, &life);
        if (st == HV_NO_DOMAIN || (st == HV_OK && (life.dying || life.shutdown))) {
            if (st == HV_OK && life.shutdown && !life.dying)
                printf("Domain '%s' (id %u) has shut down (%s)\n", wanted, domid,
                       hv_reason_name(life.reason));
            else
                printf("Domain '%s' (id %u) is gone\n", wanted, domid);
            return VMCTL_EXIT_OK;
        }
        if (st != HV_OK)
            return cli_fail(cmd, VMCTL_EXIT_FAILURE, "%s", hv_error(hv));
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (timeout_s && (unsigned long)(now.tv_sec - start.tv_sec) >= timeout_s)
            return cli_fail(cmd, VMCTL_EXIT_FAILURE, "domain '%s' (id %u) is still running "
                            "after %lu s; 'vmctl destroy %s' ends it at once", wanted, domid,
                            timeout_s, wanted);
        /* @releaseDomain wakes us; the timeout bounds a missed event. */
        if (!watching || hv_wait_release(hv, 1000) != HV_OK) {
            watching = false;
            usleep(250 * 1000);
        }
    }
}

int cmd_shutdown(const struct vmctl_command *cmd, int argc, char **argv)
{
    bool wait = false, force = false;
    const char *timeout_text = NULL;
    const struct cli_flag flags[] = {
        { .name = "wait", .value = &wait, .short_name = 'w' },
        { .name = "force", .value = &force, .short_name = 'F' },
        { .name = "timeout", .arg = &timeout_text },
        { .name = NULL },
    };
    const char *wanted;
    int status;
    if (!cli_begin(cmd, argc, argv, flags, "NAME", &wanted, &status))
        return status;
    unsigned long timeout_s = 0;
    if (timeout_text && !cli_number(cmd, "timeout", timeout_text, 1, 86400, &timeout_s))
        return VMCTL_EXIT_USAGE;
    if (timeout_text && !wait)
        return cli_usage_error(cmd, "--timeout limits --wait; give --wait too");
    enum hv_shutdown_kind kind = strcmp(cmd->name, "reboot") == 0 ? HV_SHUTDOWN_REBOOT
                                                                  : HV_SHUTDOWN_POWEROFF;
    struct hv *hv;
    uint32_t domid;
    int rc = defs_connect_running(cmd, wanted, &hv, &domid);
    if (rc != VMCTL_EXIT_OK)
        return rc;
    enum hv_status st = hv_request_shutdown(hv, domid, kind);
    bool forced = st == HV_NO_PVCONTROL && force;
    if (forced) {
        /* What xl does for a guest without PV drivers when told -F. */
        fprintf(stderr, "vmctl %s: %s; shutting it down from outside (--force)\n", cmd->name,
                hv_error(hv));
        st = hv_shutdown(hv, domid, kind);
    } else if (st == HV_NO_PVCONTROL) {
        rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "%s; --force shuts it down from outside "
                      "without asking it, 'vmctl destroy' ends it", hv_error(hv));
        hv_close(hv);
        return rc;
    }
    if (st == HV_NO_DOMAIN)
        rc = cli_fail(cmd, VMCTL_EXIT_NOT_FOUND, "domain '%s' is gone: %s", wanted,
                      hv_error(hv));
    else if (st != HV_OK)
        rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "%s", hv_error(hv));
    else if (forced)
        printf("Domain '%s' (id %u) shut down from outside (%s)\n", wanted, domid,
               kind == HV_SHUTDOWN_REBOOT ? "reboot" : "poweroff");
    else
        printf("Domain '%s' (id %u) asked to %s\n", wanted, domid,
               kind == HV_SHUTDOWN_REBOOT ? "reboot" : "power off");
    if (st == HV_OK && wait)
        rc = wait_down(cmd, hv, domid, wanted, timeout_s);
    hv_close(hv);
    return rc;
}

int cmd_sched(const struct vmctl_command *cmd, int argc, char **argv)
{
    const char *weight_text = NULL, *cap_text = NULL;
    const struct cli_flag flags[] = {
        { .name = "weight", .arg = &weight_text },
        { .name = "cap", .arg = &cap_text },
        { .name = NULL },
    };
    const char *wanted;
    int status;
    if (!cli_begin(cmd, argc, argv, flags, "NAME", &wanted, &status))
        return status;
    unsigned long weight = 0, cap = HV_SCHED_KEEP;
    /* The same ranges as <mica:scheduler> in the definition. */
    if (weight_text && !cli_number(cmd, "weight", weight_text, 1, 65535, &weight))
        return VMCTL_EXIT_USAGE;
    if (cap_text && !cli_number(cmd, "cap", cap_text, 0, 51200, &cap))
        return VMCTL_EXIT_USAGE;
    struct hv *hv;
    uint32_t domid;
    int rc = defs_connect_running(cmd, wanted, &hv, &domid);
    if (rc != VMCTL_EXIT_OK)
        return rc;
    enum hv_status st = HV_OK;
    if (weight_text || cap_text)
        st = hv_sched_set(hv, domid, (unsigned)weight, (unsigned)cap);
    unsigned w = 0, c = 0;
    if (st == HV_OK)
        st = hv_sched_get(hv, domid, &w, &c);
    if (st == HV_NO_DOMAIN)
        rc = cli_fail(cmd, VMCTL_EXIT_NOT_FOUND, "domain '%s' is gone: %s", wanted,
                      hv_error(hv));
    else if (st != HV_OK)
        rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "%s", hv_error(hv));
    else
        /* xl sched-credit's columns. */
        printf("%-32s %5s %6s %4s\n%-32s %5u %6u %4u\n", "Name", "ID", "Weight", "Cap",
               wanted, domid, w, c);
    hv_close(hv);
    return rc;
}

int cmd_domain_op(const struct vmctl_command *cmd, int argc, char **argv)
{
    const char *wanted;
    int status;
    if (!cli_begin(cmd, argc, argv, NULL, "NAME", &wanted, &status))
        return status;
    struct hv *hv;
    uint32_t domid = 0;
    int rc = defs_connect_running(cmd, wanted, &hv, &domid);
    if (rc != VMCTL_EXIT_OK)
        return rc;
    const char *op = cmd->name;
    enum hv_status st;
    if (strcmp(op, "destroy") == 0)
        st = hv_destroy(hv, domid);
    else if (strcmp(op, "pause") == 0)
        st = hv_pause(hv, domid);
    else if (strcmp(op, "unpause") == 0)
        st = hv_unpause(hv, domid);
    else
        st = hv_console(hv, domid);
    if (st == HV_NO_DOMAIN)
        rc = cli_fail(cmd, VMCTL_EXIT_NOT_FOUND, "domain '%s' is gone: %s", wanted,
                      hv_error(hv));
    else if (st != HV_OK)
        rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "%s", hv_error(hv));
    hv_close(hv);
    return rc;
}
