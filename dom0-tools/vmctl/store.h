/*
 * Stored (persistent) domain definitions: one XML file per domain in
 * $MICA_STATE_DIR/domains/NAME.xml (default /var/lib/mica).  Files are
 * replaced atomically (temp file, fsync, rename) and every change holds
 * an exclusive lock on $MICA_STATE_DIR/.lock, so concurrent vmctl runs
 * neither interleave nor see half-written files.  Readers need no lock.
 */
#ifndef VMCTL_STORE_H
#define VMCTL_STORE_H

#include <stdbool.h>
#include <stddef.h>

#define STORE_DEFAULT_DIR "/var/lib/mica"

struct store {
    char *dir;          /* the state directory */
    char *domains_dir;  /* dir/domains */
    char *autostart_dir; /* dir/autostart: one symlink NAME.xml -> ../domains/NAME.xml
                            per domain to start at boot, as libvirt marks them */
    int lock_fd;        /* -1 when not locked */
};

/* Resolves the directories; creates nothing.  -1 on ENOMEM. */
int store_init(struct store *store);
void store_fini(struct store *store);

/* Creates the directories if needed and takes the lock, waiting up to a
   few seconds for another vmctl.  -1 with a message in err. */
int store_lock(struct store *store, char *err, size_t err_len);
void store_unlock(struct store *store);

/* Path of NAME's definition (malloc'd), whether or not it exists. */
char *store_path(const struct store *store, const char *name);

/* Is name usable as a stored name (and so as a file name)? */
bool store_name_valid(const char *name);

/* Names of all stored definitions, sorted; free with store_free_names. */
int store_list(const struct store *store, char ***names, size_t *count, char *err,
               size_t err_len);
void store_free_names(char **names, size_t count);

/* Writes NAME's definition atomically.  Caller holds the lock. */
int store_write(struct store *store, const char *name, const char *data, size_t len,
                char *err, size_t err_len);

/* Removes NAME's definition and its autostart mark.  Caller holds the
   lock.  -1 with errno ENOENT when there is none. */
int store_remove(struct store *store, const char *name, char *err, size_t err_len);

/* Is NAME marked for autostart (vmctl autostart)?  Needs no lock. */
bool store_autostart_get(const struct store *store, const char *name);

/* Marks or unmarks NAME for autostart; unmarking an unmarked domain is
   fine.  Caller holds the lock.  -1 with a message in err. */
int store_autostart_set(struct store *store, const char *name, bool on, char *err,
                        size_t err_len);

#endif
