/*
 * The on-disk layout of a Mica backup directory (docs/backups.md), format
 * version 1.  Every structure is written as it is laid out here, in
 * little-endian order (x86-64 dom0s only), with no implicit padding: the
 * _Static_asserts pin each size and offset so that a compiler or a later
 * edit cannot move a field silently.  A change of layout is a new version.
 *
 *   DIR/mica-backup        struct bk_dir_header: what this directory is
 *   DIR/NNNNNN.manifest    backup N: header, the domain XML, per disk a
 *                          header, its source path and one bk_block_ref per
 *                          block; a trailer with the XXH3-128 of all of it
 *   DIR/NNNNNN.blocks      the blocks backup N stored first: a header, then
 *                          bk_block_header + data, one per block
 *
 * Hashes are XXH3-128 (xxHash 0.8), stored in xxHash's canonical
 * (big-endian) byte order, printed as 32 hex digits in that order.
 */
#ifndef MICA_BK_FORMAT_H
#define MICA_BK_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#define BK_VERSION 1
#define BK_HASH_XXH3_128 1

#define BK_DIR_MAGIC "MICABKUP"
#define BK_MANIFEST_MAGIC "MICABKMF"
#define BK_TRAILER_MAGIC "MICABKND"
#define BK_PACK_MAGIC "MICABKPK"
#define BK_BLOCK_MAGIC 0x314b4c42u   /* "BLK1" read as a little-endian u32 */

#define BK_HEADER_FILE "mica-backup"
#define BK_LOCK_FILE ".lock"
#define BK_MAX_SEQ 999999u           /* six digits in the file names */

/* Block sizes a reader accepts; vmctl writes BK_DEFAULT_BLOCK_SIZE. */
#define BK_MIN_BLOCK_SIZE 4096u
#define BK_MAX_BLOCK_SIZE (4u << 20)
#define BK_DEFAULT_BLOCK_SIZE (64u << 10)

struct bk_dir_header {
    char magic[8];          /* BK_DIR_MAGIC */
    uint32_t version;       /* BK_VERSION */
    uint32_t header_size;   /* sizeof(struct bk_dir_header) */
    uint32_t block_size;    /* every backup in the directory uses it */
    uint32_t hash_kind;     /* BK_HASH_XXH3_128 */
    uint8_t uuid[16];       /* the domain backed up here (only that one) */
    char name[64];          /* its name at the first backup, NUL-padded */
    uint64_t created;       /* Unix time of the first backup */
    uint8_t digest[16];     /* XXH3-128 of the octets before this field */
};
_Static_assert(sizeof(struct bk_dir_header) == 128, "bk_dir_header size");
_Static_assert(offsetof(struct bk_dir_header, block_size) == 16, "bk_dir_header.block_size");
_Static_assert(offsetof(struct bk_dir_header, uuid) == 24, "bk_dir_header.uuid");
_Static_assert(offsetof(struct bk_dir_header, name) == 40, "bk_dir_header.name");
_Static_assert(offsetof(struct bk_dir_header, created) == 104, "bk_dir_header.created");
_Static_assert(offsetof(struct bk_dir_header, digest) == 112, "bk_dir_header.digest");

enum bk_kind { BK_KIND_FULL = 1, BK_KIND_INCREMENTAL = 2 };

/* bk_manifest_header.flags */
#define BK_MF_PAUSED 1u     /* the domain ran and was paused for the copy */

struct bk_manifest_header {
    char magic[8];          /* BK_MANIFEST_MAGIC */
    uint32_t version;       /* BK_VERSION */
    uint32_t header_size;   /* sizeof(struct bk_manifest_header) */
    uint32_t seq;           /* N of NNNNNN.manifest, from 1 */
    uint32_t parent_seq;    /* the backup this one follows; 0 for a full one */
    uint32_t chain_start;   /* the full backup this chain starts at (seq if full) */
    uint32_t kind;          /* enum bk_kind */
    uint32_t block_size;    /* the directory's */
    uint32_t nr_disks;
    uint32_t xml_len;       /* the domain definition after this header */
    uint32_t flags;         /* BK_MF_* */
    uint64_t created;       /* Unix time */
    uint64_t pause_ns;      /* how long the domain was paused (0: it was not) */
    uint8_t uuid[16];       /* the domain's */
    uint8_t parent_digest[16]; /* the parent manifest's trailer digest; 0s if full */
    char name[64];          /* the domain's name, NUL-padded */
};
_Static_assert(sizeof(struct bk_manifest_header) == 160, "bk_manifest_header size");
_Static_assert(offsetof(struct bk_manifest_header, seq) == 16, "bk_manifest_header.seq");
_Static_assert(offsetof(struct bk_manifest_header, block_size) == 32, "bk_manifest_header.bs");
_Static_assert(offsetof(struct bk_manifest_header, created) == 48, "bk_manifest_header.created");
_Static_assert(offsetof(struct bk_manifest_header, uuid) == 64, "bk_manifest_header.uuid");
_Static_assert(offsetof(struct bk_manifest_header, parent_digest) == 80,
               "bk_manifest_header.parent_digest");
_Static_assert(offsetof(struct bk_manifest_header, name) == 96, "bk_manifest_header.name");

/* bk_disk_header.flags */
#define BK_DISK_BLOCKDEV 1u  /* the source was a block device (else an image file) */
#define BK_DISK_READONLY 2u  /* attached read-only */

/* After the XML (padded with zeros to a multiple of 8), nr_disks times:
   this header, the source path (source_len octets, no NUL, padded to 8),
   then nr_blocks refs. */
struct bk_disk_header {
    char target[8];         /* "xvda", NUL-padded */
    uint64_t size;          /* octets */
    uint64_t nr_blocks;     /* ceil(size / block_size) */
    uint32_t source_len;
    uint32_t flags;         /* BK_DISK_* */
};
_Static_assert(sizeof(struct bk_disk_header) == 32, "bk_disk_header size");
_Static_assert(offsetof(struct bk_disk_header, size) == 8, "bk_disk_header.size");
_Static_assert(offsetof(struct bk_disk_header, source_len) == 24, "bk_disk_header.source_len");

/* One block of a disk.  pack 0: an all-zero block, stored nowhere. */
struct bk_block_ref {
    uint8_t hash[16];       /* XXH3-128 of the block's length octets */
    uint64_t offset;        /* of its bk_block_header in NNNNNN.blocks */
    uint32_t pack;          /* N of that NNNNNN.blocks */
    uint32_t length;        /* block_size; less for a disk's short last block */
};
_Static_assert(sizeof(struct bk_block_ref) == 32, "bk_block_ref size");
_Static_assert(offsetof(struct bk_block_ref, offset) == 16, "bk_block_ref.offset");
_Static_assert(offsetof(struct bk_block_ref, pack) == 24, "bk_block_ref.pack");
_Static_assert(offsetof(struct bk_block_ref, length) == 28, "bk_block_ref.length");

/* The last 32 octets of a manifest. */
struct bk_manifest_trailer {
    char magic[8];          /* BK_TRAILER_MAGIC */
    uint64_t length;        /* octets before the trailer */
    uint8_t digest[16];     /* XXH3-128 of those octets */
};
_Static_assert(sizeof(struct bk_manifest_trailer) == 32, "bk_manifest_trailer size");
_Static_assert(offsetof(struct bk_manifest_trailer, digest) == 16, "bk_manifest_trailer.digest");

struct bk_pack_header {
    char magic[8];          /* BK_PACK_MAGIC */
    uint32_t version;       /* BK_VERSION */
    uint32_t header_size;   /* sizeof(struct bk_pack_header) */
    uint32_t seq;           /* the backup that wrote it */
    uint32_t block_size;
    uint8_t uuid[16];       /* the domain's */
};
_Static_assert(sizeof(struct bk_pack_header) == 40, "bk_pack_header size");
_Static_assert(offsetof(struct bk_pack_header, seq) == 16, "bk_pack_header.seq");
_Static_assert(offsetof(struct bk_pack_header, uuid) == 24, "bk_pack_header.uuid");

struct bk_block_header {
    uint32_t magic;         /* BK_BLOCK_MAGIC */
    uint32_t length;        /* data octets after this header, 1..block_size */
    uint8_t hash[16];       /* XXH3-128 of them */
};
_Static_assert(sizeof(struct bk_block_header) == 24, "bk_block_header size");
_Static_assert(offsetof(struct bk_block_header, hash) == 8, "bk_block_header.hash");

#endif
