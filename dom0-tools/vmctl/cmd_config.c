/* Commands on stored definitions: validate, define, undefine, dumpxml.
   None of them needs the hypervisor. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "commands.h"
#include "defs.h"
#include "exitcodes.h"
#include "monitor.h"

int cmd_validate(const struct vmctl_command *cmd, int argc, char **argv)
{
    bool no_file_checks = false;
    const struct cli_flag flags[] = {
        { .name = "no-file-checks", .value = &no_file_checks },
        { .name = NULL },
    };
    const char *file;
    int status;
    if (!cli_begin(cmd, argc, argv, flags, "FILE.xml", &file, &status))
        return status;
    struct domain_config cfg;
    int rc = defs_load_input(cmd, file, no_file_checks ? 0 : DOMCFG_CHECK_FILES, &cfg, NULL);
    if (rc != VMCTL_EXIT_OK)
        return rc;
    /* Valid libvirt, but vmctl must also be able to carry it out. */
    rc = monitor_check_actions(cmd, file, &cfg);
    if (rc != VMCTL_EXIT_OK) {
        domcfg_free(&cfg);
        return rc;
    }
    printf("%s: valid definition of domain '%s'\n", file, cfg.name);
    domcfg_free(&cfg);
    return VMCTL_EXIT_OK;
}

/* Refuses a name or UUID that a stored definition already has.  Caller
   holds the store lock, so nothing can slip in between. */
static int check_unique(const struct vmctl_command *cmd, const struct store *store,
                        const struct domain_config *cfg)
{
    char err[512];
    char **names;
    size_t count;
    if (store_list(store, &names, &count, err, sizeof(err)) < 0)
        return cli_fail(cmd, VMCTL_EXIT_FAILURE, "%s", err);
    int rc = VMCTL_EXIT_OK;
    for (size_t i = 0; i < count && rc == VMCTL_EXIT_OK; i++) {
        if (strcmp(names[i], cfg->name) == 0) {
            rc = cli_fail(cmd, VMCTL_EXIT_EXISTS, "a domain named '%s' is already defined; "
                          "undefine it first or choose another <name>", cfg->name);
            break;
        }
        if (!cfg->has_uuid)
            continue;
        struct domain_config other;
        if (defs_load_stored(cmd, store, names[i], 0, &other) != VMCTL_EXIT_OK)
            continue; /* reported; an unreadable definition claims no UUID */
        if (other.has_uuid && memcmp(other.uuid, cfg->uuid, 16) == 0) {
            char text[37];
            domcfg_format_uuid(cfg->uuid, text);
            rc = cli_fail(cmd, VMCTL_EXIT_EXISTS, "UUID %s is already used by domain '%s'; "
                          "change <uuid> or leave it out to get a new one", text, names[i]);
        }
        domcfg_free(&other);
    }
    store_free_names(names, count);
    return rc;
}

int cmd_define(const struct vmctl_command *cmd, int argc, char **argv)
{
    const char *file;
    int status;
    bool template = false;
    const struct cli_flag flags[] = {
        { .name = "template", .value = &template },
        { .name = NULL },
    };
    if (!cli_begin(cmd, argc, argv, flags, "FILE.xml", &file, &status))
        return status;

    struct domain_config cfg;
    struct domcfg_document *doc = NULL;
    int rc = defs_load_input(cmd, file, DOMCFG_CHECK_FILES, &cfg, &doc);
    if (rc != VMCTL_EXIT_OK)
        return rc;
    struct store store = { .lock_fd = -1 };
    char err[512];
    char *xml = NULL;
    size_t len = 0;
    if ((rc = monitor_check_actions(cmd, file, &cfg)) != VMCTL_EXIT_OK)
        goto out_cfg;

    if ((rc = defs_store_open(cmd, &store)) != VMCTL_EXIT_OK)
        goto out_cfg;
    if (store_lock(&store, err, sizeof(err)) < 0) {
        rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "%s", err);
        goto out;
    }
    rc = check_unique(cmd, &store, &cfg);
    if (rc != VMCTL_EXIT_OK)
        goto out;
    if (!cfg.has_uuid) {
        if (defs_random_uuid(cfg.uuid) < 0 || domcfg_document_set_uuid(doc, cfg.uuid) < 0) {
            rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "cannot generate a UUID: %s",
                          strerror(errno));
            goto out;
        }
        cfg.has_uuid = true;
    }
    /* A template is only cloned from (vmctl clone), never started. */
    if (template && !cfg.is_template) {
        if (domcfg_document_set_template(doc) < 0) {
            rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "out of memory");
            goto out;
        }
        cfg.is_template = true;
    }
    xml = domcfg_document_to_xml(doc, &len);
    if (!xml) {
        rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "out of memory");
        goto out;
    }
    if (store_write(&store, cfg.name, xml, len, err, sizeof(err)) < 0) {
        rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "%s; nothing was defined", err);
        goto out;
    }
    char uuid[37];
    domcfg_format_uuid(cfg.uuid, uuid);
    printf("%s '%s' defined (UUID %s)\n", cfg.is_template ? "Template" : "Domain", cfg.name,
           uuid);
out:
    free(xml);
    store_fini(&store);
out_cfg:
    domcfg_document_free(doc);
    domcfg_free(&cfg);
    return rc;
}

int cmd_undefine(const struct vmctl_command *cmd, int argc, char **argv)
{
    bool drop_snapshots = false;
    const struct cli_flag flags[] = { { "snapshots-metadata", &drop_snapshots, NULL, 0 },
                                      { NULL, NULL, NULL, 0 } };
    const char *wanted;
    char *name;
    struct store store;
    int rc, lock_fd;
    if (!defs_begin_named(cmd, argc, argv, flags, true, &store, &wanted, &name, &rc))
        return rc;
    if ((rc = snapshots_undefine_begin(cmd, &store, name, drop_snapshots, &lock_fd)) !=
        VMCTL_EXIT_OK)
        goto out;
    char err[512];
    bool undefined = store_remove(&store, name, err, sizeof(err)) == 0;
    if (!undefined)
        rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "%s", err);
    int snap_rc = snapshots_undefine_finish(cmd, &store, name, lock_fd, undefined);
    if (undefined) {
        printf("Domain '%s' undefined\n", name);
        rc = snap_rc;
    }
out:
    free(name);
    store_fini(&store);
    return rc;
}

int cmd_dumpxml(const struct vmctl_command *cmd, int argc, char **argv)
{
    const char *wanted;
    char *name, *path = NULL;
    struct store store;
    int rc;
    if (!defs_begin_named(cmd, argc, argv, NULL, false, &store, &wanted, &name, &rc))
        return rc;
    path = store_path(&store, name);
    FILE *in = path ? fopen(path, "r") : NULL;
    if (!in) {
        rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "cannot read %s: %s", path ? path : name,
                      strerror(errno));
        goto out;
    }
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
        fwrite(buf, 1, n, stdout);
    if (ferror(in))
        rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "cannot read %s", path);
    fclose(in);
out:
    free(path);
    free(name);
    store_fini(&store);
    return rc;
}
