/*
 * Steps several commands share: loading a definition given on the
 * command line (with file:line diagnostics), finding a stored domain by
 * name or UUID, and connecting to the hypervisor or saying why not.
 * Each returns a vmctl exit status after printing any message.
 */
#ifndef VMCTL_DEFS_H
#define VMCTL_DEFS_H

#include "cli.h"
#include "domcfg.h"
#include "hv.h"
#include "store.h"

/* VMCTL_EXIT_OK, _INVALID (diagnostics printed) or _FAILURE (unreadable). */
int defs_load_input(const struct vmctl_command *cmd, const char *file, unsigned flags,
                    struct domain_config *cfg, struct domcfg_document **doc);

/* Finds a stored domain; on VMCTL_EXIT_OK *name_out is its name (malloc'd).
   Prints nothing for VMCTL_EXIT_NOT_FOUND so callers can word it. */
int defs_find(const struct vmctl_command *cmd, const struct store *store,
              const char *name_or_uuid, char **name_out);

/* defs_find(), with the usual "no domain named X" said when it is missing. */
int defs_find_or_report(const struct vmctl_command *cmd, const struct store *store,
                        const char *name_or_uuid, char **name_out);

/* Loads NAME's stored definition; a stored file that no longer validates
   is reported with its path and gives VMCTL_EXIT_INVALID. */
int defs_load_stored(const struct vmctl_command *cmd, const struct store *store,
                     const char *name, unsigned flags, struct domain_config *cfg);

/* store_init() with its failure said: VMCTL_EXIT_OK or VMCTL_EXIT_FAILURE. */
int defs_store_open(const struct vmctl_command *cmd, struct store *store);

/*
 * The first steps of a command on one stored domain: its arguments (the
 * flags given and NAME), the store (locked first when lock is true) and
 * the domain's stored name.  true: go on; the caller owns *store and
 * *name (store_fini, free).  false: everything is released and said, and
 * the command returns *status.
 */
bool defs_begin_named(const struct vmctl_command *cmd, int argc, char **argv,
                      const struct cli_flag *flags, bool lock, struct store *store,
                      const char **wanted, char **name, int *status);

/* VMCTL_EXIT_OK with *hv set, or VMCTL_EXIT_HV_UNREACHABLE after saying why. */
int defs_connect(const struct vmctl_command *cmd, struct hv **hv);

/* defs_connect(), then NAME or numeric ID among the running domains:
   VMCTL_EXIT_OK with *hv open and *domid set, or the status after saying
   why (VMCTL_EXIT_NOT_FOUND: no such running domain). */
int defs_connect_running(const struct vmctl_command *cmd, const char *wanted, struct hv **hv,
                         uint32_t *domid);

/* NAME names the listed domain d: its name, or its ID in decimal. */
bool defs_names_domain(const struct hv_domain *d, const char *wanted);

/* Prints the usual "no domain named X" and returns VMCTL_EXIT_NOT_FOUND. */
int defs_not_found(const struct vmctl_command *cmd, const char *name_or_uuid);

/* A version 4 (random) UUID; 0 or -1 with errno. */
int defs_random_uuid(uint8_t uuid[16]);

#endif
