/*
 * Snapshot metadata and chain bookkeeping (docs/snapshots.md), kept free
 * of I/O on disks and domains so that the host unit test covers it
 * (tests/host/vmctl/test_snapmeta.c).
 *
 * A snapshot's metadata is libvirt's <domainsnapshot> XML, checked
 * against xml-schemas/domainsnapshot.rng (built into vmctl).  Snapshots
 * form a tree through <parent>: each disk layer of a snapshot has the
 * same disk's layer of its parent as backing file (or the domain's
 * original image when it has no parent), and the domain's image is an
 * overlay on the current snapshot's layer.
 */
#ifndef VMCTL_SNAPMETA_H
#define VMCTL_SNAPMETA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum snap_state { SNAP_RUNNING, SNAP_SHUTOFF, SNAP_DISK_SNAPSHOT };

struct snap_disk {
    char target[8];   /* xvda ... */
    bool external;    /* false: snapshot='no' (a read-only disk, not layered) */
    char *layer;      /* external: the frozen qcow2 layer holding the disk */
};

struct snap_meta {
    char *name;
    char *description;     /* NULL when none */
    char *parent;          /* NULL: the first of its tree */
    uint64_t creation_time;
    enum snap_state state;
    char *memory_file;     /* the state file (vmctl save format); NULL: none */
    char domain_name[65];
    char domain_uuid[37];
    size_t n_disks;
    struct snap_disk *disks;
};

/* Snapshot names: file names, [A-Za-z0-9_+-][A-Za-z0-9_.+-]{0,63}. */
bool snapmeta_name_valid(const char *name);

const char *snapmeta_state_name(enum snap_state s);

/* The XML for m (malloc'd, NUL-terminated), NULL when out of memory. */
char *snapmeta_to_xml(const struct snap_meta *m);

/* Parses and schema-checks xml; 0, or -1 with "ORIGIN:LINE: what is
   wrong" in err (nothing to free then). */
int snapmeta_parse(const char *xml, size_t len, const char *origin, struct snap_meta *m,
                   char *err, size_t errlen);

void snapmeta_free(struct snap_meta *m);

/* ---- the tree of one domain's snapshots (an array of n metas) ---- */

/* Index of name, or -1. */
int snapchain_find(const struct snap_meta *s, size_t n, const char *name);

/* Whether a is b or one of b's ancestors. */
bool snapchain_is_ancestor(const struct snap_meta *s, size_t n, const char *a, const char *b);

/* Checks the tree: unique names, every parent present, no loops; 0, or
   -1 with a sentence in err. */
int snapchain_check(const struct snap_meta *s, size_t n, char *err, size_t errlen);

/* Deleting s[victim]: the indexes of its children (their layers must be
   rebased onto the victim's backing file) into out (room for n), their
   count returned.  snapchain_reparent then gives them the victim's
   parent. */
size_t snapchain_children(const struct snap_meta *s, size_t n, size_t victim, size_t *out);
int snapchain_reparent(struct snap_meta *s, size_t n, size_t victim);

/* The order snapshot-list shows: by creation time, then name (indexes
   into out, room for n). */
void snapchain_order(const struct snap_meta *s, size_t n, size_t *out);

#endif
