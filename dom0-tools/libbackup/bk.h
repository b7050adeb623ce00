/*
 * libbackup: crash-consistent full and incremental backups of a domain's
 * disks into a content-addressed block store (docs/backups.md; the layout
 * is bk_format.h).  Kept apart from vmctl so that host tests drive it
 * without a hypervisor: vmctl supplies the domain's definition, its disk
 * paths and the pause (freeze/thaw) around the copy.
 *
 * Every function returns BK_OK or a negative bk_status with a sentence in
 * err that names the file (and block, offset, hashes) concerned.
 */
#ifndef MICA_BK_H
#define MICA_BK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "bk_format.h"

enum bk_status {
    BK_OK = 0,
    BK_FAILED = -1,     /* I/O, memory, a lock held by another vmctl */
    BK_UNUSABLE = -2,   /* not a backup directory, damaged, a chain with a hole,
                           another domain's directory, a disk we cannot read */
    BK_EXISTS = -3,     /* a restore target exists already */
};

struct bk_hash { uint8_t b[16]; };
void bk_hash_data(const void *data, size_t len, struct bk_hash *out);
void bk_hash_hex(const uint8_t h[16], char out[33]);

struct bk_disk_source {
    const char *target;     /* "xvda" */
    const char *path;       /* image file or block device */
    bool readonly;
};

struct bk_backup_params {
    const char *dir;
    uint8_t uuid[16];
    const char *name;
    const char *xml;
    size_t xml_len;
    const struct bk_disk_source *disks;
    size_t n_disks;
    bool full;              /* start a new chain even if the directory has one */
    uint32_t block_size;    /* for a new directory; 0: BK_DEFAULT_BLOCK_SIZE */
    /* Called once every disk is open and checked, right before the first
       read; thaw after the last block was read (also on failure).  NULL
       for a domain that is not running. */
    int (*freeze)(void *ctx, char *err, size_t err_len);
    void (*thaw)(void *ctx);
    void *ctx;
};

struct bk_backup_result {
    uint32_t seq;
    bool full;
    bool new_dir;           /* the directory was made by this backup */
    uint32_t parent_seq;
    uint64_t disk_bytes;    /* octets read */
    uint64_t blocks;        /* blocks in all disks */
    uint64_t changed;       /* blocks whose hash differs from the parent's (all for a full) */
    uint64_t zero;          /* all-zero blocks (stored nowhere) */
    uint64_t stored;        /* blocks written to this backup's pack */
    uint64_t stored_bytes;  /* the pack's size */
    uint64_t manifest_bytes;
    uint64_t pause_ns;      /* between freeze and thaw; 0 without freeze */
};

int bk_backup(const struct bk_backup_params *p, struct bk_backup_result *r, char *err,
              size_t err_len);

/* One backup's manifest, loaded and checked (trailer digest, layout). */
struct bk_disk {
    char target[9];
    uint64_t size;
    uint64_t nr_blocks;
    uint32_t flags;         /* BK_DISK_* */
    char *source;
    struct bk_block_ref *refs;
};
struct bk_manifest {
    struct bk_manifest_header h;
    char name[65];
    char *xml;              /* NUL-terminated, h.xml_len octets */
    struct bk_disk *disks;  /* h.nr_disks */
    uint8_t digest[16];     /* its trailer's */
};
void bk_manifest_free(struct bk_manifest *m);

/* A backup directory opened for reading. */
struct bk_dir {
    char *path;
    struct bk_dir_header h;
    uint32_t *seqs;         /* the manifests present, ascending */
    size_t n_seqs;
};
/* BK_UNUSABLE (with why) when path is not a Mica backup directory. */
int bk_dir_open(const char *path, struct bk_dir *d, char *err, size_t err_len);
void bk_dir_close(struct bk_dir *d);

/* Loads backup seq (0: the latest) and checks its chain back to its full
   backup: every manifest present, undamaged and the one its successor
   names, every pack it uses present.  A hole is BK_UNUSABLE naming the
   missing or foreign file. */
int bk_load_chain(const struct bk_dir *d, uint32_t seq, struct bk_manifest *m, char *err,
                  size_t err_len);

/* Writes the disks of m to dest[i] (one per disk, which must not exist):
   each under a temporary name beside it, every block's hash checked as it
   is read, then all renamed into place.  On failure nothing is left. */
int bk_restore_disks(const struct bk_dir *d, const struct bk_manifest *m,
                     const char *const *dest, char *err, size_t err_len);

/* Re-hashes every block and manifest of the directory and prints each
   problem (file, block, offset, expected and actual hash) and one line per
   backup to out.  *problems: how many were found.  BK_OK when the
   directory could be read at all (problems or not). */
int bk_verify(const char *dir, FILE *out, size_t *problems, char *err, size_t err_len);

/* DIR/NNNNNN.manifest or .blocks (malloc'd). */
char *bk_file_path(const char *dir, uint32_t seq, const char *ext);

#endif
