#include "defs.h"

#include <errno.h>
#include <sys/random.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exitcodes.h"

int defs_load_input(const struct vmctl_command *cmd, const char *file, unsigned flags,
                    struct domain_config *cfg, struct domcfg_document **doc)
{
    struct domcfg_diags diags;
    domcfg_diags_init(&diags, file);
    enum domcfg_status st = domcfg_load_file(file, flags, cfg, &diags, doc);
    int rc = VMCTL_EXIT_OK;
    if (st == DOMCFG_IO_ERROR) {
        domcfg_diags_print(&diags, stderr, 0);
        rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "cannot read the definition %s", file);
    } else if (st == DOMCFG_INVALID) {
        domcfg_diags_print(&diags, stderr, 20);
        rc = cli_fail(cmd, VMCTL_EXIT_INVALID, "%s is not a valid domain definition (%zu "
                      "problem%s)", file, diags.count, diags.count == 1 ? "" : "s");
    }
    domcfg_diags_free(&diags);
    return rc;
}

int defs_load_stored(const struct vmctl_command *cmd, const struct store *store,
                     const char *name, unsigned flags, struct domain_config *cfg)
{
    char *path = store_path(store, name);
    if (!path)
        return cli_fail(cmd, VMCTL_EXIT_FAILURE, "out of memory");
    memset(cfg, 0, sizeof(*cfg));
    if (access(path, F_OK) < 0 && errno == ENOENT) {
        free(path);
        return VMCTL_EXIT_NOT_FOUND;
    }
    struct domcfg_diags diags;
    domcfg_diags_init(&diags, path);
    enum domcfg_status st = domcfg_load_file(path, flags, cfg, &diags, NULL);
    int rc = VMCTL_EXIT_OK;
    if (st != DOMCFG_OK) {
        domcfg_diags_print(&diags, stderr, 20);
        rc = cli_fail(cmd, st == DOMCFG_INVALID ? VMCTL_EXIT_INVALID : VMCTL_EXIT_FAILURE,
                      "the stored definition of '%s' (%s) cannot be used; fix or undefine it",
                      name, path);
    }
    domcfg_diags_free(&diags);
    free(path);
    return rc;
}

int defs_find(const struct vmctl_command *cmd, const struct store *store,
              const char *name_or_uuid, char **name_out)
{
    *name_out = NULL;
    char err[512];
    char **names;
    size_t count;
    if (store_list(store, &names, &count, err, sizeof(err)) < 0)
        return cli_fail(cmd, VMCTL_EXIT_FAILURE, "%s", err);
    uint8_t wanted[16];
    bool by_uuid = domcfg_parse_uuid(name_or_uuid, wanted);
    int rc = VMCTL_EXIT_NOT_FOUND;
    for (size_t i = 0; i < count && rc == VMCTL_EXIT_NOT_FOUND; i++) {
        if (strcmp(names[i], name_or_uuid) == 0) {
            rc = VMCTL_EXIT_OK;
        } else if (by_uuid) {
            struct domain_config cfg;
            struct domcfg_diags diags;
            domcfg_diags_init(&diags, names[i]);
            char *path = store_path(store, names[i]);
            if (path && domcfg_load_file(path, 0, &cfg, &diags, NULL) == DOMCFG_OK) {
                if (cfg.has_uuid && memcmp(cfg.uuid, wanted, 16) == 0)
                    rc = VMCTL_EXIT_OK;
                domcfg_free(&cfg);
            }
            free(path);
            domcfg_diags_free(&diags);
        }
        if (rc == VMCTL_EXIT_OK) {
            *name_out = strdup(names[i]);
            if (!*name_out)
                rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "out of memory");
        }
    }
    store_free_names(names, count);
    return rc;
}

int defs_store_open(const struct vmctl_command *cmd, struct store *store)
{
    if (store_init(store) < 0)
        return cli_fail(cmd, VMCTL_EXIT_FAILURE, "out of memory");
    return VMCTL_EXIT_OK;
}

bool defs_begin_named(const struct vmctl_command *cmd, int argc, char **argv,
                      const struct cli_flag *flags, bool lock, struct store *store,
                      const char **wanted, char **name, int *status)
{
    char err[512];
    *name = NULL;
    if (!cli_begin(cmd, argc, argv, flags, "NAME", wanted, status))
        return false;
    if ((*status = defs_store_open(cmd, store)) != VMCTL_EXIT_OK)
        return false;
    if (lock && store_lock(store, err, sizeof(err)) < 0)
        *status = cli_fail(cmd, VMCTL_EXIT_FAILURE, "%s", err);
    else
        *status = defs_find_or_report(cmd, store, *wanted, name);
    if (*status == VMCTL_EXIT_OK)
        return true;
    store_fini(store);
    return false;
}

int defs_connect(const struct vmctl_command *cmd, struct hv **hv)
{
    char err[512];
    if (hv_open(hv, err, sizeof(err)) == HV_OK)
        return VMCTL_EXIT_OK;
    return cli_fail(cmd, VMCTL_EXIT_HV_UNREACHABLE, "cannot reach the Mica hypervisor: %s", err);
}

int defs_not_found(const struct vmctl_command *cmd, const char *name_or_uuid)
{
    return cli_fail(cmd, VMCTL_EXIT_NOT_FOUND, "no domain named '%s' is defined (see 'vmctl "
                    "list --inactive')", name_or_uuid);
}

int defs_find_or_report(const struct vmctl_command *cmd, const struct store *store,
                        const char *name_or_uuid, char **name_out)
{
    int rc = defs_find(cmd, store, name_or_uuid, name_out);

    return rc == VMCTL_EXIT_NOT_FOUND ? defs_not_found(cmd, name_or_uuid) : rc;
}

/* Version 4 (random) UUID, as RFC 4122 lays it out. */
int defs_random_uuid(uint8_t uuid[16])
{
    size_t have = 0;
    while (have < 16) {
        ssize_t n = getrandom(uuid + have, 16 - have, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        have += (size_t)n;
    }
    uuid[6] = (uint8_t)((uuid[6] & 0x0f) | 0x40);
    uuid[8] = (uint8_t)((uuid[8] & 0x3f) | 0x80);
    return 0;
}

/* Resolves NAME or numeric ID among running domains. */
bool defs_names_domain(const struct hv_domain *d, const char *wanted)
{
    char *end;
    unsigned long id = strtoul(wanted, &end, 10);

    return strcmp(d->name, wanted) == 0 || (*wanted && !*end && d->domid == id);
}

static int find_running(const struct vmctl_command *cmd, struct hv *hv, const char *wanted,
                        uint32_t *domid)
{
    struct hv_domain *domains;
    size_t count;
    if (hv_list(hv, &domains, &count) != HV_OK)
        return cli_fail(cmd, VMCTL_EXIT_FAILURE, "%s", hv_error(hv));
    int rc = VMCTL_EXIT_NOT_FOUND;
    for (size_t i = 0; i < count && rc != VMCTL_EXIT_OK; i++) {
        if (defs_names_domain(&domains[i], wanted)) {
            *domid = domains[i].domid;
            rc = VMCTL_EXIT_OK;
        }
    }
    free(domains);
    if (rc == VMCTL_EXIT_NOT_FOUND)
        cli_fail(cmd, rc, "no running domain named '%s' (see 'vmctl list')", wanted);
    return rc;
}

int defs_connect_running(const struct vmctl_command *cmd, const char *wanted, struct hv **hv,
                           uint32_t *domid)
{
    int rc = defs_connect(cmd, hv);
    if (rc != VMCTL_EXIT_OK)
        return rc;
    rc = find_running(cmd, *hv, wanted, domid);
    if (rc != VMCTL_EXIT_OK)
        hv_close(*hv);
    return rc;
}
