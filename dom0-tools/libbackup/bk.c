/*
 * libbackup (bk.h, docs/backups.md): the block store, manifests, chains,
 * backup, restore and verify.
 *
 * Files are written under temporary names (".NNNNNN.blocks.tmp") and
 * renamed into place after an fsync, the pack before the manifest, so a
 * backup is either all there or (after a crash) an orphan pack that no
 * manifest names and the next backup of that number replaces.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "bk.h"

#define MANIFEST_MAX (1ull << 31)

static int fail(char *err, size_t len, int st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t len, int st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
    return st;
}

void bk_hash_data(const void *data, size_t len, struct bk_hash *out)
{
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, XXH3_128bits(data, len));
    memcpy(out->b, c.digest, 16);
}

void bk_hash_hex(const uint8_t h[16], char out[33])
{
    for (int i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", h[i]);
}

char *bk_file_path(const char *dir, uint32_t seq, const char *ext)
{
    char *p = NULL;
    if (asprintf(&p, "%s/%06u.%s", dir, seq, ext) < 0)
        return NULL;
    return p;
}

static char *tmp_path(const char *dir, uint32_t seq, const char *ext)
{
    char *p = NULL;
    if (asprintf(&p, "%s/.%06u.%s.tmp", dir, seq, ext) < 0)
        return NULL;
    return p;
}

static int write_all(int fd, const void *buf, size_t n)
{
    const uint8_t *p = buf;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads up to n octets at off; the count read (less at the end), -1 on error. */
static ssize_t pread_full(int fd, void *buf, size_t n, uint64_t off)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, (uint8_t *)buf + got, n - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return -1;
    int r = fsync(fd);
    close(fd);
    return r;
}

static bool is_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

static void digest_of(const void *p, size_t n, uint8_t out[16])
{
    struct bk_hash h;
    bk_hash_data(p, n, &h);
    memcpy(out, h.b, 16);
}

/* NUL-padded, not necessarily NUL-terminated when it fills n. */
static void copy_padded(char *dst, size_t n, const char *src)
{
    memset(dst, 0, n);
    size_t l = src ? strlen(src) : 0;
    memcpy(dst, src ? src : "", l < n ? l : n);
}
#define copy_name(dst, src) copy_padded((dst), 64, (src))

/* ---- the directory ------------------------------------------------------ */

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Numbers N of the NNNNNN.<ext> files in dir, ascending. */
static int list_seqs(const char *dir, const char *ext, uint32_t **out, size_t *n, char *err,
                     size_t len)
{
    DIR *dh = opendir(dir);
    *out = NULL;
    *n = 0;
    if (!dh)
        return fail(err, len, BK_FAILED, "cannot list %s: %s", dir, strerror(errno));
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(dh))) {
        unsigned seq;
        char tail[16];
        int used = 0;
        if (strlen(e->d_name) != 7 + strlen(ext) ||
            sscanf(e->d_name, "%6u.%15s%n", &seq, tail, &used) != 2 ||
            strcmp(tail, ext) != 0 || seq == 0)
            continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            uint32_t *nx = realloc(*out, cap * sizeof(uint32_t));
            if (!nx) {
                closedir(dh);
                free(*out);
                *out = NULL;
                return fail(err, len, BK_FAILED, "out of memory");
            }
            *out = nx;
        }
        (*out)[(*n)++] = seq;
    }
    closedir(dh);
    if (*n)
        qsort(*out, *n, sizeof(uint32_t), cmp_u32);
    return BK_OK;
}

static int read_dir_header(const char *dir, struct bk_dir_header *h, char *err, size_t len)
{
    char *path = NULL;
    if (asprintf(&path, "%s/%s", dir, BK_HEADER_FILE) < 0)
        return fail(err, len, BK_FAILED, "out of memory");
    int fd = open(path, O_RDONLY);
    int rc = BK_OK;
    if (fd < 0) {
        rc = errno == ENOENT
                 ? fail(err, len, BK_UNUSABLE, "%s is not a Mica backup directory (it has no "
                        "%s file); 'vmctl backup NAME DIR' makes one in a new or empty "
                        "directory", dir, BK_HEADER_FILE)
                 : fail(err, len, BK_FAILED, "cannot open %s: %s", path, strerror(errno));
        free(path);
        return rc;
    }
    ssize_t got = pread_full(fd, h, sizeof(*h), 0);
    char extra;
    bool longer = pread_full(fd, &extra, 1, sizeof(*h)) == 1;
    close(fd);
    uint8_t d[16];
    char want[33], have[33];
    if (got < 0)
        rc = fail(err, len, BK_FAILED, "reading %s failed: %s", path, strerror(errno));
    else if (got < 8 || memcmp(h->magic, BK_DIR_MAGIC, 8) != 0)
        rc = fail(err, len, BK_UNUSABLE, "%s is not a Mica backup directory header (offset 0: "
                  "no \"%s\")", path, BK_DIR_MAGIC);
    else if (got < 16 || h->version != BK_VERSION)
        rc = fail(err, len, BK_UNUSABLE, "%s: format version %u at offset 8; this vmctl "
                  "reads version %u", path, got < 16 ? 0 : h->version, BK_VERSION);
    else if ((size_t)got != sizeof(*h) || longer || h->header_size != sizeof(*h))
        rc = fail(err, len, BK_UNUSABLE, "%s: %zd octets, header size %u; version %u headers "
                  "are %zu octets", path, got, h->header_size, BK_VERSION, sizeof(*h));
    else {
        digest_of(h, offsetof(struct bk_dir_header, digest), d);
        if (memcmp(d, h->digest, 16) != 0) {
            bk_hash_hex(h->digest, want);
            bk_hash_hex(d, have);
            rc = fail(err, len, BK_UNUSABLE, "%s is damaged: expected hash %s (at offset "
                      "%zu), actual %s", path, want, offsetof(struct bk_dir_header, digest),
                      have);
        } else if (h->hash_kind != BK_HASH_XXH3_128 || h->block_size < BK_MIN_BLOCK_SIZE ||
                   h->block_size > BK_MAX_BLOCK_SIZE || (h->block_size & (h->block_size - 1))) {
            rc = fail(err, len, BK_UNUSABLE, "%s: hash kind %u, block size %u: this vmctl "
                      "reads hash kind %u, block sizes powers of two from %u to %u", path,
                      h->hash_kind, h->block_size, BK_HASH_XXH3_128, BK_MIN_BLOCK_SIZE,
                      BK_MAX_BLOCK_SIZE);
        }
    }
    free(path);
    return rc;
}

int bk_dir_open(const char *path, struct bk_dir *d, char *err, size_t len)
{
    memset(d, 0, sizeof(*d));
    struct stat st;
    if (stat(path, &st) < 0)
        return fail(err, len, errno == ENOENT ? BK_UNUSABLE : BK_FAILED, "%s: %s", path,
                    strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return fail(err, len, BK_UNUSABLE, "%s is not a directory (a backup is a directory "
                    "made by 'vmctl backup')", path);
    int rc = read_dir_header(path, &d->h, err, len);
    if (rc != BK_OK)
        return rc;
    d->path = strdup(path);
    if (!d->path)
        return fail(err, len, BK_FAILED, "out of memory");
    rc = list_seqs(path, "manifest", &d->seqs, &d->n_seqs, err, len);
    if (rc != BK_OK)
        bk_dir_close(d);
    return rc;
}

void bk_dir_close(struct bk_dir *d)
{
    free(d->path);
    free(d->seqs);
    memset(d, 0, sizeof(*d));
}

/* ---- manifests ---------------------------------------------------------- */

void bk_manifest_free(struct bk_manifest *m)
{
    if (m->disks)
        for (uint32_t i = 0; i < m->h.nr_disks; i++) {
            free(m->disks[i].source);
            free(m->disks[i].refs);
        }
    free(m->disks);
    free(m->xml);
    memset(m, 0, sizeof(*m));
}

static size_t pad8(size_t n) { return (n + 7) & ~(size_t)7; }

/* Parses a manifest held in buf (len octets) after its trailer was checked. */
static int parse_manifest(const char *path, const uint8_t *buf, size_t len,
                          const struct bk_dir_header *dh, uint32_t want_seq,
                          struct bk_manifest *m, char *err, size_t elen)
{
    size_t at = 0, end = len - sizeof(struct bk_manifest_trailer);
    if (end < sizeof(m->h))
        return fail(err, elen, BK_UNUSABLE, "%s: too short for a manifest header", path);
    memcpy(&m->h, buf, sizeof(m->h));
    const struct bk_manifest_header *h = &m->h;
    if (memcmp(h->magic, BK_MANIFEST_MAGIC, 8) != 0)
        return fail(err, elen, BK_UNUSABLE, "%s: offset 0: not a manifest (no \"%s\")", path,
                    BK_MANIFEST_MAGIC);
    if (h->version != BK_VERSION || h->header_size != sizeof(*h))
        return fail(err, elen, BK_UNUSABLE, "%s: version %u, header size %u; this vmctl reads "
                    "version %u (%zu octets)", path, h->version, h->header_size, BK_VERSION,
                    sizeof(*h));
    if (h->seq != want_seq)
        return fail(err, elen, BK_UNUSABLE, "%s says it is backup %u (offset 16): renamed?",
                    path, h->seq);
    bool full = h->kind == BK_KIND_FULL;
    if ((h->kind != BK_KIND_FULL && h->kind != BK_KIND_INCREMENTAL) ||
        (full && (h->parent_seq || h->chain_start != h->seq)) ||
        (!full && (h->parent_seq >= h->seq || h->chain_start > h->parent_seq ||
                   h->chain_start == 0)))
        return fail(err, elen, BK_UNUSABLE, "%s: kind %u, parent %u, chain start %u do not "
                    "fit backup %u", path, h->kind, h->parent_seq, h->chain_start, h->seq);
    if (h->block_size != dh->block_size || memcmp(h->uuid, dh->uuid, 16) != 0)
        return fail(err, elen, BK_UNUSABLE, "%s: block size %u or domain UUID differ from the "
                    "directory's (%s)", path, h->block_size, BK_HEADER_FILE);
    if (h->nr_disks > 4096)
        return fail(err, elen, BK_UNUSABLE, "%s: %u disks", path, h->nr_disks);
    memcpy(m->name, h->name, 64);
    m->name[64] = 0;
    at = sizeof(*h);
    if (h->xml_len > end - at)
        return fail(err, elen, BK_UNUSABLE, "%s: the XML (%u octets at offset %zu) runs past "
                    "the end", path, h->xml_len, at);
    m->xml = malloc(h->xml_len + 1u);
    m->disks = calloc(h->nr_disks ? h->nr_disks : 1, sizeof(*m->disks));
    if (!m->xml || !m->disks)
        return fail(err, elen, BK_FAILED, "out of memory");
    memcpy(m->xml, buf + at, h->xml_len);
    m->xml[h->xml_len] = 0;
    at += pad8(h->xml_len);
    for (uint32_t i = 0; i < h->nr_disks; i++) {
        struct bk_disk_header dhd;
        struct bk_disk *dk = &m->disks[i];
        if (at > end || end - at < sizeof(dhd))
            return fail(err, elen, BK_UNUSABLE, "%s: disk %u's header (offset %zu) runs past "
                        "the end", path, i, at);
        memcpy(&dhd, buf + at, sizeof(dhd));
        size_t dh_at = at;
        at += sizeof(dhd);
        memcpy(dk->target, dhd.target, 8);
        dk->target[8] = 0;
        dk->size = dhd.size;
        dk->nr_blocks = dhd.nr_blocks;
        dk->flags = dhd.flags;
        uint64_t want_blocks = (dhd.size + h->block_size - 1) / h->block_size;
        if (!dk->target[0] || dhd.nr_blocks != want_blocks || dhd.source_len > 4096 ||
            end - at < pad8(dhd.source_len) ||
            (end - at - pad8(dhd.source_len)) / sizeof(struct bk_block_ref) < dhd.nr_blocks)
            return fail(err, elen, BK_UNUSABLE, "%s: disk %u (header at offset %zu): size %llu, "
                        "%llu blocks, source %u octets do not fit", path, i, dh_at,
                        (unsigned long long)dhd.size, (unsigned long long)dhd.nr_blocks,
                        dhd.source_len);
        dk->source = strndup((const char *)buf + at, dhd.source_len);
        at += pad8(dhd.source_len);
        dk->refs = malloc((dhd.nr_blocks ? dhd.nr_blocks : 1) * sizeof(struct bk_block_ref));
        if (!dk->source || !dk->refs)
            return fail(err, elen, BK_FAILED, "out of memory");
        memcpy(dk->refs, buf + at, dhd.nr_blocks * sizeof(struct bk_block_ref));
        for (uint64_t b = 0; b < dhd.nr_blocks; b++) {
            const struct bk_block_ref *r = &dk->refs[b];
            uint32_t want_len = b + 1 < dhd.nr_blocks || dhd.size % h->block_size == 0
                                    ? h->block_size : (uint32_t)(dhd.size % h->block_size);
            if (r->length != want_len || r->pack > h->seq ||
                (r->pack && r->pack < h->chain_start))
                return fail(err, elen, BK_UNUSABLE, "%s: disk %s block %llu (offset %zu): "
                            "length %u, pack %u do not fit (chain %u..%u)", path, dk->target,
                            (unsigned long long)b, at + b * sizeof(*r), r->length, r->pack,
                            h->chain_start, h->seq);
        }
        at += dhd.nr_blocks * sizeof(struct bk_block_ref);
    }
    if (at != end)
        return fail(err, elen, BK_UNUSABLE, "%s: %zu octets between the last disk and the "
                    "trailer", path, end - at);
    return BK_OK;
}

static int load_manifest(const struct bk_dir *d, uint32_t seq, struct bk_manifest *m,
                         char *err, size_t elen)
{
    memset(m, 0, sizeof(*m));
    char *path = bk_file_path(d->path, seq, "manifest");
    if (!path)
        return fail(err, elen, BK_FAILED, "out of memory");
    int rc = BK_OK;
    uint8_t *buf = NULL;
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0) {
        rc = fail(err, elen, errno == ENOENT ? BK_UNUSABLE : BK_FAILED, "%s: %s", path,
                  strerror(errno));
        goto out;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        rc = fail(err, elen, BK_UNUSABLE, "%s is not a regular file", path);
        goto out;
    }
    size_t len = (size_t)st.st_size;
    if (len < sizeof(struct bk_manifest_header) + sizeof(struct bk_manifest_trailer) ||
        (uint64_t)st.st_size > MANIFEST_MAX) {
        rc = fail(err, elen, BK_UNUSABLE, "%s: %zu octets is not a manifest's size (cut "
                  "short?)", path, len);
        goto out;
    }
    buf = malloc(len);
    if (!buf) {
        rc = fail(err, elen, BK_FAILED, "out of memory for %s", path);
        goto out;
    }
    if (pread_full(fd, buf, len, 0) != (ssize_t)len) {
        rc = fail(err, elen, BK_FAILED, "reading %s failed", path);
        goto out;
    }
    struct bk_manifest_trailer t;
    memcpy(&t, buf + len - sizeof(t), sizeof(t));
    uint8_t dg[16];
    char want[33], have[33];
    if (memcmp(t.magic, BK_TRAILER_MAGIC, 8) != 0 || t.length != len - sizeof(t)) {
        rc = fail(err, elen, BK_UNUSABLE, "%s: no trailer in its last %zu octets (offset "
                  "%zu): cut short or damaged", path, sizeof(t), len - sizeof(t));
        goto out;
    }
    digest_of(buf, len - sizeof(t), dg);
    if (memcmp(dg, t.digest, 16) != 0) {
        bk_hash_hex(t.digest, want);
        bk_hash_hex(dg, have);
        rc = fail(err, elen, BK_UNUSABLE, "%s is damaged: expected hash %s (its trailer), "
                  "actual %s", path, want, have);
        goto out;
    }
    memcpy(m->digest, t.digest, 16);
    rc = parse_manifest(path, buf, len, &d->h, seq, m, err, elen);
out:
    if (rc != BK_OK)
        bk_manifest_free(m);
    if (fd >= 0)
        close(fd);
    free(buf);
    free(path);
    return rc;
}

static bool have_seq(const struct bk_dir *d, uint32_t seq)
{
    return bsearch(&seq, d->seqs, d->n_seqs, sizeof(uint32_t), cmp_u32) != NULL;
}

/* Checks the chain under the loaded manifest m: each parent present,
   undamaged, named by digest; each pack m uses present. */
static int check_chain(const struct bk_dir *d, const struct bk_manifest *m, char *err,
                       size_t elen)
{
    const struct bk_manifest *cur = m;
    struct bk_manifest parent = { 0 }, held = { 0 };
    int rc = BK_OK;
    while (cur->h.kind != BK_KIND_FULL) {
        uint32_t p = cur->h.parent_seq;
        char *path = bk_file_path(d->path, p, "manifest");
        if (!have_seq(d, p)) {
            rc = fail(err, elen, BK_UNUSABLE, "the chain of backup %u has a hole: backup %u "
                      "(%s), which backup %u was made after, is missing; backups %u to %u "
                      "cannot be restored ('vmctl backup --full' starts a new chain)",
                      m->h.seq, p, path ? path : "?", cur->h.seq, cur->h.seq, m->h.seq);
            free(path);
            break;
        }
        rc = load_manifest(d, p, &parent, err, elen);
        if (rc != BK_OK) {
            char inner[400];
            snprintf(inner, sizeof(inner), "%s", err);
            rc = fail(err, elen, BK_UNUSABLE, "the chain of backup %u is broken at backup %u: %s",
                      m->h.seq, p, inner);
            free(path);
            break;
        }
        if (memcmp(parent.digest, cur->h.parent_digest, 16) != 0 ||
            parent.h.chain_start != cur->h.chain_start) {
            char want[33], have[33];
            bk_hash_hex(cur->h.parent_digest, want);
            bk_hash_hex(parent.digest, have);
            rc = fail(err, elen, BK_UNUSABLE, "the chain of backup %u has a hole: %s is not the "
                      "backup %u that backup %u was made after (expected manifest hash %s, "
                      "actual %s)", m->h.seq, path ? path : "?", p, cur->h.seq, want, have);
            free(path);
            bk_manifest_free(&parent);
            break;
        }
        free(path);
        bk_manifest_free(&held);
        held = parent;
        memset(&parent, 0, sizeof(parent));
        cur = &held;
    }
    bk_manifest_free(&held);
    if (rc != BK_OK)
        return rc;
    /* Packs: each one a block of m lives in. */
    uint32_t n = m->h.seq - m->h.chain_start + 1;
    bool *used = calloc(n, 1);
    if (!used)
        return fail(err, elen, BK_FAILED, "out of memory");
    for (uint32_t i = 0; i < m->h.nr_disks; i++)
        for (uint64_t b = 0; b < m->disks[i].nr_blocks; b++)
            if (m->disks[i].refs[b].pack)
                used[m->disks[i].refs[b].pack - m->h.chain_start] = true;
    for (uint32_t k = 0; k < n && rc == BK_OK; k++) {
        if (!used[k])
            continue;
        char *path = bk_file_path(d->path, m->h.chain_start + k, "blocks");
        struct stat st;
        if (!path)
            rc = fail(err, elen, BK_FAILED, "out of memory");
        else if (stat(path, &st) < 0)
            rc = fail(err, elen, BK_UNUSABLE, "the chain of backup %u has a hole: %s, which "
                      "holds blocks it needs, is missing (%s)", m->h.seq, path, strerror(errno));
        free(path);
    }
    free(used);
    return rc;
}

int bk_load_chain(const struct bk_dir *d, uint32_t seq, struct bk_manifest *m, char *err,
                  size_t elen)
{
    memset(m, 0, sizeof(*m));
    if (!d->n_seqs)
        return fail(err, elen, BK_UNUSABLE, "%s holds no backup yet", d->path);
    if (!seq)
        seq = d->seqs[d->n_seqs - 1];
    else if (!have_seq(d, seq))
        return fail(err, elen, BK_UNUSABLE, "%s has no backup %u (it has %u to %u)", d->path,
                    seq, d->seqs[0], d->seqs[d->n_seqs - 1]);
    int rc = load_manifest(d, seq, m, err, elen);
    if (rc == BK_OK && (rc = check_chain(d, m, err, elen)) != BK_OK)
        bk_manifest_free(m);
    return rc;
}

/* ---- the index of stored blocks ------------------------------------------ */

struct index_slot {
    uint8_t hash[16];
    uint32_t pack;           /* 0: empty slot */
    uint32_t length;
    uint64_t offset;
};
struct index {
    struct index_slot *slots;
    size_t cap, used;
};

static uint64_t slot_key(const uint8_t h[16])
{
    uint64_t k;
    memcpy(&k, h, 8);
    return k;
}

static int index_grow(struct index *ix)
{
    size_t ncap = ix->cap ? ix->cap * 2 : 4096;
    struct index_slot *ns = calloc(ncap, sizeof(*ns));
    if (!ns)
        return -1;
    for (size_t i = 0; i < ix->cap; i++) {
        if (!ix->slots[i].pack)
            continue;
        size_t j = slot_key(ix->slots[i].hash) & (ncap - 1);
        while (ns[j].pack)
            j = (j + 1) & (ncap - 1);
        ns[j] = ix->slots[i];
    }
    free(ix->slots);
    ix->slots = ns;
    ix->cap = ncap;
    return 0;
}

static const struct index_slot *index_find(const struct index *ix, const uint8_t h[16],
                                           uint32_t length)
{
    if (!ix->cap)
        return NULL;
    size_t j = slot_key(h) & (ix->cap - 1);
    while (ix->slots[j].pack) {
        if (memcmp(ix->slots[j].hash, h, 16) == 0 && ix->slots[j].length == length)
            return &ix->slots[j];
        j = (j + 1) & (ix->cap - 1);
    }
    return NULL;
}

static int index_add(struct index *ix, const struct bk_block_ref *r)
{
    if (!r->pack || index_find(ix, r->hash, r->length))
        return 0;
    if ((ix->used + 1) * 2 > ix->cap && index_grow(ix))
        return -1;
    size_t j = slot_key(r->hash) & (ix->cap - 1);
    while (ix->slots[j].pack)
        j = (j + 1) & (ix->cap - 1);
    memcpy(ix->slots[j].hash, r->hash, 16);
    ix->slots[j].pack = r->pack;
    ix->slots[j].length = r->length;
    ix->slots[j].offset = r->offset;
    ix->used++;
    return 0;
}

/* ---- backup ------------------------------------------------------------- */

struct src {
    int fd;
    uint64_t size;
    bool blockdev;
};

static int open_source(const struct bk_disk_source *s, struct src *o, char *err, size_t elen)
{
    struct stat st;
    o->fd = -1;
    if (stat(s->path, &st) < 0)
        return fail(err, elen, BK_UNUSABLE, "disk %s: %s: %s", s->target, s->path,
                    strerror(errno));
    if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
        return fail(err, elen, BK_UNUSABLE, "disk %s: %s is neither an image file nor a block "
                    "device", s->target, s->path);
    o->blockdev = S_ISBLK(st.st_mode);
    /* blkback writes a block device with bios that pass its page cache:
       read it past the cache too.  Image files are written through their
       loop device into the page cache, which a plain read sees. */
    if (o->blockdev) {
        o->fd = open(s->path, O_RDONLY | O_DIRECT | O_CLOEXEC);
        if (o->fd < 0 && errno == EINVAL)
            o->fd = open(s->path, O_RDONLY | O_CLOEXEC);
    } else {
        o->fd = open(s->path, O_RDONLY | O_CLOEXEC);
    }
    if (o->fd < 0)
        return fail(err, elen, BK_FAILED, "disk %s: cannot open %s: %s", s->target, s->path,
                    strerror(errno));
    if (o->blockdev) {
        uint64_t sz = 0;
        if (ioctl(o->fd, BLKGETSIZE64, &sz) < 0)
            return fail(err, elen, BK_FAILED, "disk %s: the size of %s: %s", s->target,
                        s->path, strerror(errno));
        o->size = sz;
    } else {
        o->size = (uint64_t)st.st_size;
    }
    uint8_t magic[4096] __attribute__((aligned(4096)));
    ssize_t got = o->size ? pread_full(o->fd, magic, sizeof(magic), 0) : 0;
    if (got < 0)
        return fail(err, elen, BK_FAILED, "disk %s: reading %s failed: %s", s->target, s->path,
                    strerror(errno));
    if (got >= 4 && memcmp(magic, "QFI\xfb", 4) == 0)
        return fail(err, elen, BK_UNUSABLE, "disk %s: %s is a qcow2 image; backups read raw "
                    "images and block devices only (qcow2 is not yet supported by backup)",
                    s->target, s->path);
    return BK_OK;
}

struct mbuf {
    uint8_t *p;
    size_t len, cap;
};

static int mbuf_put(struct mbuf *b, const void *p, size_t n)
{
    size_t need = b->len + pad8(n);
    if (need > b->cap) {
        size_t nc = b->cap ? b->cap : 4096;
        while (nc < need)
            nc *= 2;
        uint8_t *np = realloc(b->p, nc);
        if (!np)
            return -1;
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->len, p, n);
    memset(b->p + b->len + n, 0, pad8(n) - n);
    b->len = need;
    return 0;
}

/* Prepares dir: made if missing, header written if new.  *made: we made
   dir itself; *new_header: we wrote its header. */
static int prepare_dir(const struct bk_backup_params *p, struct bk_dir_header *h, bool *made,
                       bool *new_header, char *err, size_t elen)
{
    struct stat st;
    *made = *new_header = false;
    if (stat(p->dir, &st) < 0) {
        if (errno != ENOENT)
            return fail(err, elen, BK_FAILED, "%s: %s", p->dir, strerror(errno));
        if (mkdir(p->dir, 0700) < 0)
            return fail(err, elen, BK_FAILED, "cannot make the backup directory %s: %s",
                        p->dir, strerror(errno));
        *made = true;
    } else if (!S_ISDIR(st.st_mode)) {
        return fail(err, elen, BK_UNUSABLE, "%s exists and is not a directory", p->dir);
    }
    char hp[4096];
    snprintf(hp, sizeof(hp), "%s/%s", p->dir, BK_HEADER_FILE);
    if (access(hp, F_OK) == 0)
        return read_dir_header(p->dir, h, err, elen);
    /* Not (yet) a backup directory: only an empty one becomes one. */
    DIR *dh = opendir(p->dir);
    if (!dh)
        return fail(err, elen, BK_FAILED, "cannot list %s: %s", p->dir, strerror(errno));
    struct dirent *e;
    const char *other = NULL;
    while ((e = readdir(dh)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
            strcmp(e->d_name, BK_LOCK_FILE)) {
            other = e->d_name;
            break;
        }
    int rc = BK_OK;
    if (other)
        rc = fail(err, elen, BK_UNUSABLE, "%s is not a Mica backup directory (no %s) and not "
                  "empty (it holds %s); give a new or empty directory", p->dir,
                  BK_HEADER_FILE, other);
    closedir(dh);
    if (rc != BK_OK)
        return rc;
    uint32_t bs = p->block_size ? p->block_size : BK_DEFAULT_BLOCK_SIZE;
    if (bs < BK_MIN_BLOCK_SIZE || bs > BK_MAX_BLOCK_SIZE || (bs & (bs - 1)))
        return fail(err, elen, BK_UNUSABLE, "block size %u: give a power of two from %u to %u",
                    bs, BK_MIN_BLOCK_SIZE, BK_MAX_BLOCK_SIZE);
    memset(h, 0, sizeof(*h));
    memcpy(h->magic, BK_DIR_MAGIC, 8);
    h->version = BK_VERSION;
    h->header_size = sizeof(*h);
    h->block_size = bs;
    h->hash_kind = BK_HASH_XXH3_128;
    memcpy(h->uuid, p->uuid, 16);
    copy_name(h->name, p->name);
    h->created = (uint64_t)time(NULL);
    digest_of(h, offsetof(struct bk_dir_header, digest), h->digest);
    char tp[4200];
    snprintf(tp, sizeof(tp), "%s/.%s.tmp", p->dir, BK_HEADER_FILE);
    int fd = open(tp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return fail(err, elen, BK_FAILED, "cannot write %s: %s", tp, strerror(errno));
    if (write_all(fd, h, sizeof(*h)) || fsync(fd) || close(fd) || rename(tp, hp)) {
        rc = fail(err, elen, BK_FAILED, "writing %s failed: %s", hp, strerror(errno));
        unlink(tp);
        return rc;
    }
    *new_header = true;
    return BK_OK;
}

struct backup_run {
    const struct bk_backup_params *p;
    struct bk_dir_header dh;
    uint32_t seq;
    int pack_fd;
    uint64_t pack_off;
    struct index ix;
    struct bk_manifest parent;  /* loaded when incremental */
    bool have_parent;
    struct bk_block_ref **refs; /* per disk */
    struct src *srcs;
    uint8_t *buf;
};

static const struct bk_block_ref *parent_ref(const struct backup_run *b, size_t disk,
                                             uint64_t blk, uint64_t size)
{
    if (!b->have_parent)
        return NULL;
    for (uint32_t i = 0; i < b->parent.h.nr_disks; i++) {
        const struct bk_disk *pd = &b->parent.disks[i];
        if (strcmp(pd->target, b->p->disks[disk].target) == 0)
            return pd->size == size && blk < pd->nr_blocks ? &pd->refs[blk] : NULL;
    }
    return NULL;
}

static int copy_disks(struct backup_run *b, struct bk_backup_result *r, char *err, size_t elen)
{
    uint32_t bs = b->dh.block_size;
    for (size_t i = 0; i < b->p->n_disks; i++) {
        const struct src *s = &b->srcs[i];
        uint64_t nb = (s->size + bs - 1) / bs;
        for (uint64_t k = 0; k < nb; k++) {
            uint64_t off = k * bs;
            uint32_t want = (uint32_t)(s->size - off < bs ? s->size - off : bs);
            ssize_t got = pread_full(s->fd, b->buf, bs, off);
            if (got < 0 || (size_t)got < want)
                return fail(err, elen, BK_FAILED, "disk %s: reading %s at offset %llu failed: "
                            "%s", b->p->disks[i].target, b->p->disks[i].path,
                            (unsigned long long)off, got < 0 ? strerror(errno) : "it ended");
            struct bk_block_ref *ref = &b->refs[i][k];
            memset(ref, 0, sizeof(*ref));
            struct bk_hash h;
            bk_hash_data(b->buf, want, &h);
            memcpy(ref->hash, h.b, 16);
            ref->length = want;
            r->blocks++;
            r->disk_bytes += want;
            const struct bk_block_ref *pr = parent_ref(b, i, k, s->size);
            if (!pr || memcmp(pr->hash, ref->hash, 16) != 0)
                r->changed++;
            if (is_zero(b->buf, want)) {
                r->zero++;
                continue;
            }
            const struct index_slot *have = index_find(&b->ix, ref->hash, want);
            if (have) {
                ref->pack = have->pack;
                ref->offset = have->offset;
                continue;
            }
            struct bk_block_header bh = { .magic = BK_BLOCK_MAGIC, .length = want };
            memcpy(bh.hash, ref->hash, 16);
            struct iovec iov[2] = { { &bh, sizeof(bh) }, { b->buf, want } };
            size_t total = sizeof(bh) + want, done = 0;
            while (done < total) {
                ssize_t w = pwritev(b->pack_fd, iov, 2, (off_t)(b->pack_off + done));
                if (w < 0 && errno == EINTR)
                    continue;
                if (w <= 0)
                    return fail(err, elen, BK_FAILED, "writing the block store in %s failed: "
                                "%s", b->p->dir, w < 0 ? strerror(errno) : "no progress");
                done += (size_t)w;
                if (done < total) {
                    /* A short write: the rest from where it stopped. */
                    size_t skip = (size_t)w;
                    for (int v = 0; v < 2; v++) {
                        size_t take = skip < iov[v].iov_len ? skip : iov[v].iov_len;
                        iov[v].iov_base = (uint8_t *)iov[v].iov_base + take;
                        iov[v].iov_len -= take;
                        skip -= take;
                    }
                }
            }
            ref->pack = b->seq;
            ref->offset = b->pack_off;
            b->pack_off += total;
            r->stored++;
            if (index_add(&b->ix, ref))
                return fail(err, elen, BK_FAILED, "out of memory for the block index");
        }
    }
    return BK_OK;
}

static int build_manifest(struct backup_run *b, struct mbuf *mb, uint64_t pause_ns)
{
    const struct bk_backup_params *p = b->p;
    struct bk_manifest_header h = { 0 };
    memcpy(h.magic, BK_MANIFEST_MAGIC, 8);
    h.version = BK_VERSION;
    h.header_size = sizeof(h);
    h.seq = b->seq;
    if (b->have_parent) {
        h.kind = BK_KIND_INCREMENTAL;
        h.parent_seq = b->parent.h.seq;
        h.chain_start = b->parent.h.chain_start;
        memcpy(h.parent_digest, b->parent.digest, 16);
    } else {
        h.kind = BK_KIND_FULL;
        h.chain_start = b->seq;
    }
    h.block_size = b->dh.block_size;
    h.nr_disks = (uint32_t)p->n_disks;
    h.xml_len = (uint32_t)p->xml_len;
    h.flags = p->freeze ? BK_MF_PAUSED : 0;
    h.created = (uint64_t)time(NULL);
    h.pause_ns = pause_ns;
    memcpy(h.uuid, p->uuid, 16);
    copy_name(h.name, p->name);
    if (mbuf_put(mb, &h, sizeof(h)) || mbuf_put(mb, p->xml, p->xml_len))
        return -1;
    for (size_t i = 0; i < p->n_disks; i++) {
        struct bk_disk_header d = { 0 };
        copy_padded(d.target, sizeof(d.target), p->disks[i].target);
        d.size = b->srcs[i].size;
        d.nr_blocks = (d.size + h.block_size - 1) / h.block_size;
        d.source_len = (uint32_t)strlen(p->disks[i].path);
        d.flags = (b->srcs[i].blockdev ? BK_DISK_BLOCKDEV : 0) |
                  (p->disks[i].readonly ? BK_DISK_READONLY : 0);
        if (mbuf_put(mb, &d, sizeof(d)) || mbuf_put(mb, p->disks[i].path, d.source_len) ||
            mbuf_put(mb, b->refs[i], d.nr_blocks * sizeof(struct bk_block_ref)))
            return -1;
    }
    struct bk_manifest_trailer t = { .length = mb->len };
    memcpy(t.magic, BK_TRAILER_MAGIC, 8);
    digest_of(mb->p, mb->len, t.digest);
    return mbuf_put(mb, &t, sizeof(t));
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int bk_backup(const struct bk_backup_params *p, struct bk_backup_result *r, char *err,
              size_t elen)
{
    struct backup_run b = { .p = p, .pack_fd = -1 };
    struct bk_dir d = { 0 };
    struct mbuf mb = { 0 };
    char *pack_tmp = NULL, *man_tmp = NULL, *pack_path = NULL, *man_path = NULL;
    char lock_path[4200];
    bool made = false, new_header = false, frozen = false, committed = false;
    int lock_fd = -1, rc;

    memset(r, 0, sizeof(*r));
    snprintf(lock_path, sizeof(lock_path), "%s/%s", p->dir, BK_LOCK_FILE);
    for (size_t i = 0; i < p->n_disks; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(p->disks[i].target, p->disks[j].target) == 0)
                return fail(err, elen, BK_UNUSABLE, "two disks are %s", p->disks[i].target);
    if (p->xml_len > (1u << 24) || strlen(p->dir) > 4000)
        return fail(err, elen, BK_UNUSABLE, "the definition or directory name is too long");
    b.srcs = calloc(p->n_disks ? p->n_disks : 1, sizeof(*b.srcs));
    b.refs = calloc(p->n_disks ? p->n_disks : 1, sizeof(*b.refs));
    if (!b.srcs || !b.refs) {
        rc = fail(err, elen, BK_FAILED, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < p->n_disks; i++)
        b.srcs[i].fd = -1;
    /* The disks first: a disk we cannot read changes nothing in DIR. */
    for (size_t i = 0; i < p->n_disks; i++)
        if ((rc = open_source(&p->disks[i], &b.srcs[i], err, elen)) != BK_OK)
            goto out;
    if ((rc = prepare_dir(p, &b.dh, &made, &new_header, err, elen)) != BK_OK)
        goto out;
    r->new_dir = new_header;
    lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock_fd < 0 || flock(lock_fd, LOCK_EX | LOCK_NB) < 0) {
        rc = fail(err, elen, BK_FAILED, "%s: %s", lock_path,
                  errno == EWOULDBLOCK ? "another vmctl backup is writing this directory"
                                       : strerror(errno));
        goto out;
    }
    if (memcmp(b.dh.uuid, p->uuid, 16) != 0) {
        char u[37];
        const uint8_t *x = b.dh.uuid;
        snprintf(u, sizeof(u), "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                 x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7], x[8], x[9], x[10], x[11],
                 x[12], x[13], x[14], x[15]);
        rc = fail(err, elen, BK_UNUSABLE, "%s holds the backups of another domain ('%.64s', "
                  "UUID %s); each domain needs a directory of its own", p->dir, b.dh.name, u);
        goto out;
    }
    if ((rc = bk_dir_open(p->dir, &d, err, elen)) != BK_OK)
        goto out;
    uint32_t latest = d.n_seqs ? d.seqs[d.n_seqs - 1] : 0;
    if (latest >= BK_MAX_SEQ) {
        rc = fail(err, elen, BK_UNUSABLE, "%s holds backup %u, the last number there is",
                  p->dir, latest);
        goto out;
    }
    b.seq = latest + 1;
    if (latest && !p->full) {
        if ((rc = bk_load_chain(&d, latest, &b.parent, err, elen)) != BK_OK) {
            char inner[400];
            snprintf(inner, sizeof(inner), "%s", err);
            rc = fail(err, elen, rc, "%s; an incremental backup needs the whole chain, "
                      "'--full' starts a new one", inner);
            goto out;
        }
        b.have_parent = true;
        /* Every block of the chain, from its full backup on. */
        for (uint32_t s = b.parent.h.chain_start; s <= latest; s++) {
            struct bk_manifest m;
            if (!have_seq(&d, s))
                continue;
            if (s == latest)
                m = b.parent;
            else if ((rc = load_manifest(&d, s, &m, err, elen)) != BK_OK)
                goto out;
            int bad = 0;
            for (uint32_t i = 0; i < m.h.nr_disks && !bad; i++)
                for (uint64_t k = 0; k < m.disks[i].nr_blocks && !bad; k++)
                    bad = index_add(&b.ix, &m.disks[i].refs[k]);
            if (s != latest)
                bk_manifest_free(&m);
            if (bad) {
                rc = fail(err, elen, BK_FAILED, "out of memory for the block index");
                goto out;
            }
        }
    }
    r->seq = b.seq;
    r->full = !b.have_parent;
    r->parent_seq = b.have_parent ? b.parent.h.seq : 0;
    for (size_t i = 0; i < p->n_disks; i++) {
        uint64_t nb = (b.srcs[i].size + b.dh.block_size - 1) / b.dh.block_size;
        b.refs[i] = malloc((nb ? nb : 1) * sizeof(struct bk_block_ref));
        if (!b.refs[i]) {
            rc = fail(err, elen, BK_FAILED, "out of memory for disk %s's manifest",
                      p->disks[i].target);
            goto out;
        }
    }
    if (posix_memalign((void **)&b.buf, 4096, b.dh.block_size)) {
        b.buf = NULL;
        rc = fail(err, elen, BK_FAILED, "out of memory");
        goto out;
    }
    pack_tmp = tmp_path(p->dir, b.seq, "blocks");
    man_tmp = tmp_path(p->dir, b.seq, "manifest");
    pack_path = bk_file_path(p->dir, b.seq, "blocks");
    man_path = bk_file_path(p->dir, b.seq, "manifest");
    if (!pack_tmp || !man_tmp || !pack_path || !man_path) {
        rc = fail(err, elen, BK_FAILED, "out of memory");
        goto out;
    }
    b.pack_fd = open(pack_tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    struct bk_pack_header ph = { .version = BK_VERSION, .header_size = sizeof(ph),
                                 .seq = b.seq, .block_size = b.dh.block_size };
    memcpy(ph.magic, BK_PACK_MAGIC, 8);
    memcpy(ph.uuid, p->uuid, 16);
    if (b.pack_fd < 0 || write_all(b.pack_fd, &ph, sizeof(ph))) {
        rc = fail(err, elen, BK_FAILED, "cannot write %s: %s", pack_tmp, strerror(errno));
        goto out;
    }
    b.pack_off = sizeof(ph);

    uint64_t t0 = 0;
    if (p->freeze) {
        if ((rc = p->freeze(p->ctx, err, elen)) != BK_OK)
            goto out;
        frozen = true;
        t0 = now_ns();
    }
    rc = copy_disks(&b, r, err, elen);
    if (frozen) {
        r->pause_ns = now_ns() - t0;
        p->thaw(p->ctx);
        frozen = false;
    }
    if (rc != BK_OK)
        goto out;
    r->stored_bytes = b.pack_off;
    if (build_manifest(&b, &mb, r->pause_ns)) {
        rc = fail(err, elen, BK_FAILED, "out of memory for the manifest");
        goto out;
    }
    r->manifest_bytes = mb.len;
    int mfd = open(man_tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (mfd < 0) {
        rc = fail(err, elen, BK_FAILED, "cannot write %s: %s", man_tmp, strerror(errno));
        goto out;
    }
    bool ok = write_all(mfd, mb.p, mb.len) == 0 && fsync(mfd) == 0;
    ok = close(mfd) == 0 && ok;
    if (!ok || fsync(b.pack_fd) || close(b.pack_fd)) {
        b.pack_fd = -1;
        rc = fail(err, elen, BK_FAILED, "writing backup %u into %s failed: %s", b.seq, p->dir,
                  strerror(errno));
        goto out;
    }
    b.pack_fd = -1;
    if (rename(pack_tmp, pack_path) || rename(man_tmp, man_path)) {
        rc = fail(err, elen, BK_FAILED, "renaming backup %u into place in %s failed: %s",
                  b.seq, p->dir, strerror(errno));
        unlink(pack_path);
        goto out;
    }
    committed = true;
    fsync_dir(p->dir);
    rc = BK_OK;
out:
    if (frozen)
        p->thaw(p->ctx);
    if (b.pack_fd >= 0)
        close(b.pack_fd);
    if (!committed) {
        if (pack_tmp)
            unlink(pack_tmp);
        if (man_tmp)
            unlink(man_tmp);
        if (new_header) {
            char hp[4200];
            snprintf(hp, sizeof(hp), "%s/%s", p->dir, BK_HEADER_FILE);
            unlink(hp);
        }
        if (new_header || made)
            unlink(lock_path);
        if (made)
            rmdir(p->dir);
    }
    if (lock_fd >= 0)
        close(lock_fd);
    for (size_t i = 0; b.srcs && i < p->n_disks; i++)
        if (b.srcs[i].fd >= 0)
            close(b.srcs[i].fd);
    for (size_t i = 0; b.refs && i < p->n_disks; i++)
        free(b.refs[i]);
    free(b.refs);
    free(b.srcs);
    free(b.buf);
    free(b.ix.slots);
    free(mb.p);
    free(pack_tmp);
    free(man_tmp);
    free(pack_path);
    free(man_path);
    if (b.have_parent)
        bk_manifest_free(&b.parent);
    bk_dir_close(&d);
    return rc;
}

/* ---- restore ------------------------------------------------------------ */

struct pack_fds {
    uint32_t first;
    int *fd;                /* index: pack - first */
    uint32_t n;
};

static int pack_fd(const struct bk_dir *d, struct pack_fds *pf, uint32_t pack, char *err,
                   size_t elen)
{
    uint32_t k = pack - pf->first;
    if (pf->fd[k] >= 0)
        return pf->fd[k];
    char *path = bk_file_path(d->path, pack, "blocks");
    int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    struct bk_pack_header ph;
    if (fd < 0) {
        fail(err, elen, BK_UNUSABLE, "%s: %s", path ? path : "?", strerror(errno));
    } else if (pread_full(fd, &ph, sizeof(ph), 0) != sizeof(ph) ||
               memcmp(ph.magic, BK_PACK_MAGIC, 8) || ph.version != BK_VERSION ||
               ph.header_size != sizeof(ph) || ph.seq != pack ||
               ph.block_size != d->h.block_size || memcmp(ph.uuid, d->h.uuid, 16)) {
        fail(err, elen, BK_UNUSABLE, "%s: its header (offset 0) is damaged or not backup %u's",
             path, pack);
        close(fd);
        fd = -1;
    }
    free(path);
    pf->fd[k] = fd;
    return fd;
}

/* Reads and checks the block ref names into buf. */
static int read_block(const struct bk_dir *d, struct pack_fds *pf, const struct bk_block_ref *r,
                      uint8_t *buf, const char *what, char *err, size_t elen)
{
    int fd = pack_fd(d, pf, r->pack, err, elen);
    if (fd < 0)
        return BK_UNUSABLE;
    struct bk_block_header bh;
    char want[33], have[33];
    ssize_t got = pread_full(fd, &bh, sizeof(bh), r->offset);
    if (got == (ssize_t)sizeof(bh) && bh.magic == BK_BLOCK_MAGIC && bh.length == r->length)
        got = pread_full(fd, buf, r->length, r->offset + sizeof(bh));
    else
        got = -2;
    bk_hash_hex(r->hash, want);
    if (got != (ssize_t)r->length)
        return fail(err, elen, BK_UNUSABLE, "%s/%06u.blocks: %s: the block at offset %llu is "
                    "damaged or missing (expected hash %s)", d->path, r->pack, what,
                    (unsigned long long)r->offset, want);
    struct bk_hash h;
    bk_hash_data(buf, r->length, &h);
    if (memcmp(h.b, r->hash, 16) != 0) {
        bk_hash_hex(h.b, have);
        return fail(err, elen, BK_UNUSABLE, "%s/%06u.blocks: %s: the block at offset %llu is "
                    "damaged: expected hash %s, actual %s", d->path, r->pack, what,
                    (unsigned long long)r->offset, want, have);
    }
    return BK_OK;
}

static int write_at(int fd, const void *p, size_t n, uint64_t off)
{
    size_t done = 0;
    while (done < n) {
        ssize_t w = pwrite(fd, (const uint8_t *)p + done, n - done, (off_t)(off + done));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        done += (size_t)w;
    }
    return 0;
}

int bk_restore_disks(const struct bk_dir *d, const struct bk_manifest *m,
                     const char *const *dest, char *err, size_t elen)
{
    uint32_t n = m->h.nr_disks;
    char **tmp = calloc(n ? n : 1, sizeof(char *));
    bool *placed = calloc(n ? n : 1, sizeof(bool));
    struct pack_fds pf = { .first = m->h.chain_start, .n = m->h.seq - m->h.chain_start + 1 };
    pf.fd = malloc(pf.n * sizeof(int));
    uint8_t *buf = malloc(d->h.block_size);
    int rc = BK_OK;
    if (!tmp || !placed || !pf.fd || !buf) {
        rc = fail(err, elen, BK_FAILED, "out of memory");
        goto out;
    }
    for (uint32_t k = 0; k < pf.n; k++)
        pf.fd[k] = -1;
    for (uint32_t i = 0; i < n; i++) {
        struct stat st;
        if (lstat(dest[i], &st) == 0) {
            rc = fail(err, elen, BK_EXISTS, "disk %s would be restored to %s, which exists; "
                      "move it away or restore elsewhere", m->disks[i].target, dest[i]);
            goto out;
        }
        for (uint32_t j = 0; j < i; j++)
            if (strcmp(dest[i], dest[j]) == 0) {
                rc = fail(err, elen, BK_EXISTS, "disks %s and %s would both be restored to %s",
                          m->disks[j].target, m->disks[i].target, dest[i]);
                goto out;
            }
    }
    for (uint32_t i = 0; i < n && rc == BK_OK; i++) {
        const struct bk_disk *dk = &m->disks[i];
        const char *slash = strrchr(dest[i], '/');
        if (asprintf(&tmp[i], "%.*s.%s.restore-%d", slash ? (int)(slash - dest[i] + 1) : 0,
                     dest[i], slash ? slash + 1 : dest[i], (int)getpid()) < 0) {
            tmp[i] = NULL;
            rc = fail(err, elen, BK_FAILED, "out of memory");
            break;
        }
        int fd = open(tmp[i], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0) {
            rc = fail(err, elen, BK_FAILED, "cannot write %s: %s", tmp[i], strerror(errno));
            free(tmp[i]);
            tmp[i] = NULL;
            break;
        }
        if (ftruncate(fd, (off_t)dk->size) < 0)
            rc = fail(err, elen, BK_FAILED, "%s: %s", tmp[i], strerror(errno));
        for (uint64_t b = 0; b < dk->nr_blocks && rc == BK_OK; b++) {
            const struct bk_block_ref *r = &dk->refs[b];
            if (!r->pack)
                continue;   /* zero: a hole in the new file */
            char what[64];
            snprintf(what, sizeof(what), "disk %s block %llu", dk->target,
                     (unsigned long long)b);
            rc = read_block(d, &pf, r, buf, what, err, elen);
            if (rc == BK_OK && write_at(fd, buf, r->length, b * d->h.block_size))
                rc = fail(err, elen, BK_FAILED, "writing %s failed: %s", tmp[i],
                          strerror(errno));
        }
        if (rc == BK_OK && fsync(fd))
            rc = fail(err, elen, BK_FAILED, "writing %s failed: %s", tmp[i], strerror(errno));
        close(fd);
    }
    for (uint32_t i = 0; i < n && rc == BK_OK; i++) {
        if (renameat2(AT_FDCWD, tmp[i], AT_FDCWD, dest[i], RENAME_NOREPLACE) < 0) {
            rc = errno == EEXIST
                     ? fail(err, elen, BK_EXISTS, "%s appeared while it was being restored; "
                            "nothing was restored", dest[i])
                     : fail(err, elen, BK_FAILED, "renaming %s to %s failed: %s", tmp[i],
                            dest[i], strerror(errno));
            break;
        }
        placed[i] = true;
    }
out:
    for (uint32_t i = 0; tmp && i < n; i++) {
        if (rc != BK_OK && placed && placed[i])
            unlink(dest[i]);
        else if (rc != BK_OK && tmp[i])
            unlink(tmp[i]);
        free(tmp[i]);
    }
    for (uint32_t k = 0; pf.fd && k < pf.n; k++)
        if (pf.fd[k] >= 0)
            close(pf.fd[k]);
    free(pf.fd);
    free(tmp);
    free(placed);
    free(buf);
    return rc;
}

/* ---- verify ------------------------------------------------------------- */

struct pack_entry {
    uint64_t offset;
    uint32_t length;
    bool ok;                /* its data hash to its header's hash */
    uint8_t hash[16];       /* the header's */
    uint8_t actual[16];
};
struct pack_scan {
    uint32_t seq;
    bool readable;          /* header fine */
    struct pack_entry *e;
    size_t n;
};

static int cmp_entry(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = ((const struct pack_entry *)b)->offset;
    return x < y ? -1 : x > y;
}

static void scan_pack(const struct bk_dir *d, uint32_t seq, struct pack_scan *ps, FILE *out,
                      size_t *problems)
{
    memset(ps, 0, sizeof(*ps));
    ps->seq = seq;
    char *path = bk_file_path(d->path, seq, "blocks");
    int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    struct bk_pack_header ph;
    uint8_t *buf = malloc(d->h.block_size);
    size_t cap = 0;
    if (fd < 0 || !buf) {
        fprintf(out, "%s: cannot read: %s\n", path ? path : "?", strerror(errno));
        ++*problems;
        goto out;
    }
    if (pread_full(fd, &ph, sizeof(ph), 0) != sizeof(ph) || memcmp(ph.magic, BK_PACK_MAGIC, 8) ||
        ph.version != BK_VERSION || ph.header_size != sizeof(ph) || ph.seq != seq ||
        ph.block_size != d->h.block_size || memcmp(ph.uuid, d->h.uuid, 16)) {
        fprintf(out, "%s: its header (offset 0) is damaged or not backup %u's\n", path, seq);
        ++*problems;
        goto out;
    }
    ps->readable = true;
    uint64_t off = sizeof(ph);
    for (;;) {
        struct bk_block_header bh;
        ssize_t got = pread_full(fd, &bh, sizeof(bh), off);
        if (got == 0)
            break;
        if (got != (ssize_t)sizeof(bh) || bh.magic != BK_BLOCK_MAGIC || !bh.length ||
            bh.length > d->h.block_size) {
            fprintf(out, "%s: offset %llu: %s; the blocks from here on cannot be found\n", path,
                    (unsigned long long)off,
                    got != (ssize_t)sizeof(bh) ? "the file ends inside a block header"
                                               : "not a block header (damaged)");
            ++*problems;
            break;
        }
        if (ps->n == cap) {
            cap = cap ? cap * 2 : 256;
            struct pack_entry *nx = realloc(ps->e, cap * sizeof(*nx));
            if (!nx) {
                fprintf(out, "%s: out of memory\n", path);
                ++*problems;
                break;
            }
            ps->e = nx;
        }
        struct pack_entry *e = &ps->e[ps->n];
        e->offset = off;
        e->length = bh.length;
        memcpy(e->hash, bh.hash, 16);
        got = pread_full(fd, buf, bh.length, off + sizeof(bh));
        if (got != (ssize_t)bh.length) {
            fprintf(out, "%s: offset %llu: the file ends inside a block of %u octets\n", path,
                    (unsigned long long)off, bh.length);
            ++*problems;
            break;
        }
        struct bk_hash h;
        bk_hash_data(buf, bh.length, &h);
        memcpy(e->actual, h.b, 16);
        e->ok = memcmp(h.b, bh.hash, 16) == 0;
        if (!e->ok) {
            char want[33], have[33];
            bk_hash_hex(bh.hash, want);
            bk_hash_hex(h.b, have);
            fprintf(out, "%s: the block at offset %llu (%u octets) is damaged: expected hash %s, "
                    "actual %s\n", path, (unsigned long long)off, bh.length, want, have);
            ++*problems;
        }
        ps->n++;
        off += sizeof(bh) + bh.length;
    }
out:
    if (fd >= 0)
        close(fd);
    free(buf);
    free(path);
}

int bk_verify(const char *dir, FILE *out, size_t *problems, char *err, size_t elen)
{
    struct bk_dir d;
    *problems = 0;
    int rc = bk_dir_open(dir, &d, err, elen);
    if (rc != BK_OK)
        return rc;
    uint32_t *packs = NULL;
    size_t n_packs = 0;
    if ((rc = list_seqs(dir, "blocks", &packs, &n_packs, err, elen)) != BK_OK) {
        bk_dir_close(&d);
        return rc;
    }
    struct pack_scan *scans = calloc(n_packs ? n_packs : 1, sizeof(*scans));
    if (!scans) {
        free(packs);
        bk_dir_close(&d);
        return fail(err, elen, BK_FAILED, "out of memory");
    }
    for (size_t i = 0; i < n_packs; i++)
        scan_pack(&d, packs[i], &scans[i], out, problems);
    if (!d.n_seqs) {
        fprintf(out, "%s: no backup in it\n", dir);
        ++*problems;
    }
    for (size_t i = 0; i < d.n_seqs; i++) {
        uint32_t seq = d.seqs[i];
        struct bk_manifest m;
        char e2[1024];
        size_t before = *problems;
        if (load_manifest(&d, seq, &m, e2, sizeof(e2)) != BK_OK) {
            fprintf(out, "%s\n", e2);
            ++*problems;
            fprintf(out, "backup %u: DAMAGED (its manifest)\n", seq);
            continue;
        }
        if (check_chain(&d, &m, e2, sizeof(e2)) != BK_OK) {
            fprintf(out, "%s\n", e2);
            ++*problems;
        }
        uint64_t bad = 0, blocks = 0;
        for (uint32_t k = 0; k < m.h.nr_disks; k++) {
            const struct bk_disk *dk = &m.disks[k];
            for (uint64_t b = 0; b < dk->nr_blocks; b++) {
                const struct bk_block_ref *r = &dk->refs[b];
                blocks++;
                if (!r->pack)
                    continue;
                const struct pack_scan *ps = NULL;
                for (size_t j = 0; j < n_packs && !ps; j++)
                    if (scans[j].seq == r->pack)
                        ps = &scans[j];
                const struct pack_entry *e =
                    ps ? bsearch(&r->offset, ps->e, ps->n, sizeof(*ps->e), cmp_entry) : NULL;
                bool good = e && e->ok && e->length == r->length && !memcmp(e->hash, r->hash, 16);
                if (good)
                    continue;
                if (bad++ < 10) {
                    char want[33], have[33] = "none (block missing)";
                    bk_hash_hex(r->hash, want);
                    if (e)
                        bk_hash_hex(e->actual, have);
                    fprintf(out, "backup %u: disk %s block %llu (octets %llu..%llu): needs "
                            "%06u.blocks offset %llu: expected hash %s, actual %s\n", seq,
                            dk->target, (unsigned long long)b,
                            (unsigned long long)b * m.h.block_size,
                            (unsigned long long)b * m.h.block_size + r->length - 1, r->pack,
                            (unsigned long long)r->offset, want, have);
                }
            }
        }
        if (bad > 10)
            fprintf(out, "backup %u: ... and %llu more damaged blocks\n", seq,
                    (unsigned long long)(bad - 10));
        *problems += bad ? 1 : 0;
        char when[32] = "?";
        time_t t = (time_t)m.h.created;
        struct tm tm;
        if (gmtime_r(&t, &tm))
            strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
        char kind[48];
        if (m.h.kind == BK_KIND_FULL)
            snprintf(kind, sizeof(kind), "full");
        else
            snprintf(kind, sizeof(kind), "incremental after %u", m.h.parent_seq);
        fprintf(out, "backup %u: %s, %s, %u disk%s, %llu blocks: %s\n", seq, kind, when,
                m.h.nr_disks, m.h.nr_disks == 1 ? "" : "s", (unsigned long long)blocks,
                *problems == before ? "OK" : bad ? "DAMAGED (blocks above)" : "DAMAGED (above)");
        bk_manifest_free(&m);
    }
    /* A pack no manifest names: left by an interrupted backup. */
    for (size_t j = 0; j < n_packs; j++)
        if (!have_seq(&d, packs[j]))
            fprintf(out, "%06u.blocks: no manifest names it (an interrupted backup left it; "
                    "the next backup %u replaces it)\n", packs[j], packs[j]);
    for (size_t j = 0; j < n_packs; j++)
        free(scans[j].e);
    free(scans);
    free(packs);
    bk_dir_close(&d);
    return BK_OK;
}
