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

#include "commands.h"
#include "defs.h"
#include "exitcodes.h"

static int boot(const struct vmctl_command *cmd, struct domain_config *cfg)
{
    struct hv *hv;
    /* xenstore's /vm/UUID and the domain handle need one, as with xl. */
    if (!cfg->has_uuid) {
        if (defs_random_uuid(cfg->uuid) < 0)
            return cli_fail(cmd, VMCTL_EXIT_FAILURE, "cannot make a UUID: %s", strerror(errno));
        cfg->has_uuid = true;
    }
    int rc = defs_connect(cmd, &hv);
    if (rc != VMCTL_EXIT_OK)
        return rc;
    uint32_t domid;
    if (hv_create(hv, cfg, &domid) != HV_OK)
        rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "cannot start '%s': %s", cfg->name,
                      hv_error(hv));
    else
        printf("Domain '%s' started (id %u)\n", cfg->name, domid);
    hv_close(hv);
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
    rc = boot(cmd, &cfg);
    domcfg_free(&cfg);
    return rc;
}

int cmd_start(const struct vmctl_command *cmd, int argc, char **argv)
{
    const char *wanted;
    int status;
    if (!cli_begin(cmd, argc, argv, NULL, "NAME", &wanted, &status))
        return status;
    struct store store;
    if ((status = defs_store_open(cmd, &store)) != VMCTL_EXIT_OK)
        return status;
    char *name = NULL;
    int rc = defs_find_or_report(cmd, &store, wanted, &name);
    if (rc == VMCTL_EXIT_OK) {
        /* Files are checked again: a kernel may have been removed since
           the domain was defined. */
        struct domain_config cfg;
        rc = defs_load_stored(cmd, &store, name, DOMCFG_CHECK_FILES, &cfg);
        if (rc == VMCTL_EXIT_NOT_FOUND)
            rc = defs_not_found(cmd, wanted);
        if (rc == VMCTL_EXIT_OK) {
            rc = boot(cmd, &cfg);
            domcfg_free(&cfg);
        }
    }
    free(name);
    store_fini(&store);
    return rc;
}

/* Resolves NAME or numeric ID among running domains. */
static int find_running(const struct vmctl_command *cmd, struct hv *hv, const char *wanted,
                        uint32_t *domid)
{
    struct hv_domain *domains;
    size_t count;
    if (hv_list(hv, &domains, &count) != HV_OK)
        return cli_fail(cmd, VMCTL_EXIT_FAILURE, "%s", hv_error(hv));
    char *end;
    unsigned long id = strtoul(wanted, &end, 10);
    bool numeric = *wanted && !*end;
    int rc = VMCTL_EXIT_NOT_FOUND;
    for (size_t i = 0; i < count && rc != VMCTL_EXIT_OK; i++) {
        if (strcmp(domains[i].name, wanted) == 0 || (numeric && domains[i].domid == id)) {
            *domid = domains[i].domid;
            rc = VMCTL_EXIT_OK;
        }
    }
    free(domains);
    if (rc == VMCTL_EXIT_NOT_FOUND)
        cli_fail(cmd, rc, "no running domain named '%s' (see 'vmctl list')", wanted);
    return rc;
}

int cmd_domain_op(const struct vmctl_command *cmd, int argc, char **argv)
{
    const char *wanted;
    int status;
    if (!cli_begin(cmd, argc, argv, NULL, "NAME", &wanted, &status))
        return status;
    struct hv *hv;
    int rc = defs_connect(cmd, &hv);
    if (rc != VMCTL_EXIT_OK)
        return rc;
    uint32_t domid = 0;
    rc = find_running(cmd, hv, wanted, &domid);
    if (rc != VMCTL_EXIT_OK) {
        hv_close(hv);
        return rc;
    }
    const char *op = cmd->name;
    enum hv_status st;
    if (strcmp(op, "shutdown") == 0)
        st = hv_shutdown(hv, domid, HV_SHUTDOWN_POWEROFF);
    else if (strcmp(op, "reboot") == 0)
        st = hv_shutdown(hv, domid, HV_SHUTDOWN_REBOOT);
    else if (strcmp(op, "destroy") == 0)
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
