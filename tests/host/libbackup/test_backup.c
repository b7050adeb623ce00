/*
 * libbackup host tests (docs/backups.md): the block store and manifests
 * round trip, incremental backups store only changed blocks, blocks that
 * repeat within and across backups are stored once, verify finds every
 * damaged block and manifest, a chain with a hole is refused, and bad
 * directories change nothing.  Runs under ASan/UBSan in make test-unit.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define UNIT_SUITE "libbackup"
#include "bk.h"
#include "unit.h"

#define BS 4096u

static char work[256];
static const uint8_t uuid_a[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
static const char xml[] = "<domain type='xen'><name>t</name></domain>";

static void path_of(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", work, name);
}

static void fresh_work(void)
{
    char cmd[300];
    if (work[0]) {
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", work);
        CHECK(system(cmd) == 0);
    }
    snprintf(work, sizeof(work), "/tmp/test_backup.XXXXXX");
    CHECK(mkdtemp(work) != NULL);
}

/* A disk of nblocks*BS + tail octets: block i filled with pattern(i). */
static void write_disk(const char *name, unsigned nblocks, unsigned tail, int (*pat)(unsigned))
{
    char p[300];
    path_of(p, sizeof(p), name);
    FILE *f = fopen(p, "wb");
    CHECK(f != NULL);
    uint8_t buf[BS];
    for (unsigned i = 0; i < nblocks + (tail ? 1 : 0); i++) {
        int v = pat(i);
        for (unsigned k = 0; k < BS; k++)
            buf[k] = v < 0 ? 0 : (uint8_t)(v + k * 7 + (k >> 8));
        CHECK(fwrite(buf, 1, i < nblocks ? BS : tail, f) == (i < nblocks ? BS : tail));
    }
    CHECK(fclose(f) == 0);
}

static void poke(const char *name, uint64_t off, uint8_t v)
{
    char p[300];
    path_of(p, sizeof(p), name);
    int fd = open(p, O_WRONLY);
    CHECK(fd >= 0);
    CHECK(pwrite(fd, &v, 1, (off_t)off) == 1);
    close(fd);
}

static uint8_t peek(const char *name, uint64_t off)
{
    char p[300];
    path_of(p, sizeof(p), name);
    int fd = open(p, O_RDONLY);
    uint8_t v = 0;
    CHECK(fd >= 0);
    CHECK(pread(fd, &v, 1, (off_t)off) == 1);
    close(fd);
    return v;
}

static bool same_file(const char *a, const char *b)
{
    char cmd[700];
    snprintf(cmd, sizeof(cmd), "cmp -s '%s/%s' '%s/%s'", work, a, work, b);
    return system(cmd) == 0;
}

static bool exists(const char *name)
{
    char p[300];
    path_of(p, sizeof(p), name);
    return access(p, F_OK) == 0;
}

/* Names in work/sub (or work), sorted, joined. */
static void listing(const char *sub, char *out, size_t n)
{
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "ls -A '%s/%s' 2>/dev/null | tr '\\n' ' '", work, sub);
    FILE *f = popen(cmd, "r");
    CHECK(f != NULL);
    size_t got = fread(out, 1, n - 1, f);
    out[got] = 0;
    pclose(f);
}

static int pat_distinct(unsigned i) { return (int)(i * 3 + 1); }
/* Blocks 0, 4, 8.. zero; 1 and 5 and 9.. the same; others distinct. */
static int pat_mixed(unsigned i) { return i % 4 == 0 ? -1 : i % 4 == 1 ? 200 : (int)i; }

static struct bk_disk_source disks2[2];
static char pa[300], pb[300], dir[300];
static int freeze_calls, thaw_calls, freeze_fails;

static int fake_freeze(void *ctx, char *err, size_t len)
{
    (void)ctx;
    freeze_calls++;
    if (freeze_fails) {
        snprintf(err, len, "cannot pause");
        return BK_FAILED;
    }
    return BK_OK;
}
static void fake_thaw(void *ctx) { (void)ctx; thaw_calls++; }

static int run_backup(bool full, struct bk_backup_result *r, char *err, size_t len)
{
    struct bk_backup_params p = { .dir = dir, .name = "t", .xml = xml,
                                  .xml_len = sizeof(xml) - 1, .disks = disks2, .n_disks = 2,
                                  .full = full, .block_size = BS, .freeze = fake_freeze,
                                  .thaw = fake_thaw };
    memcpy(p.uuid, uuid_a, 16);
    return bk_backup(&p, r, err, len);
}

static void setup(void)
{
    fresh_work();
    write_disk("a.img", 40, 1000, pat_mixed);
    write_disk("b.img", 8, 0, pat_distinct);
    path_of(pa, sizeof(pa), "a.img");
    path_of(pb, sizeof(pb), "b.img");
    path_of(dir, sizeof(dir), "bk");
    disks2[0] = (struct bk_disk_source){ .target = "xvda", .path = pa };
    disks2[1] = (struct bk_disk_source){ .target = "xvdb", .path = pb, .readonly = true };
    freeze_calls = thaw_calls = freeze_fails = 0;
}

static int restore_at(uint32_t seq, const char *na, const char *nb, char *err, size_t len)
{
    struct bk_dir d;
    struct bk_manifest m;
    char da[300], db[300];
    path_of(da, sizeof(da), na);
    path_of(db, sizeof(db), nb);
    const char *dest[2] = { da, db };
    int rc = bk_dir_open(dir, &d, err, len);
    if (rc != BK_OK)
        return rc;
    rc = bk_load_chain(&d, seq, &m, err, len);
    if (rc == BK_OK) {
        rc = bk_restore_disks(&d, &m, dest, err, len);
        bk_manifest_free(&m);
    }
    bk_dir_close(&d);
    return rc;
}

static size_t verify_problems(char *report, size_t n)
{
    char err[512];
    size_t problems = 99;
    FILE *f = fmemopen(report, n, "w");
    CHECK(f != NULL);
    CHECK_EQ(bk_verify(dir, f, &problems, err, sizeof(err)), BK_OK);
    fclose(f);
    report[n - 1] = 0;
    return problems;
}

UNIT_TEST(full_backup_round_trip_and_dedup_within)
{
    setup();
    char err[512];
    struct bk_backup_result r;
    CHECK_EQ(run_backup(false, &r, err, sizeof(err)), BK_OK);
    CHECK(r.full && r.new_dir && r.seq == 1);
    CHECK_EQ(freeze_calls, 1);
    CHECK_EQ(thaw_calls, 1);
    /* a: 41 blocks (the last 1000 octets), b: 8. */
    CHECK_EQ(r.blocks, 49);
    CHECK_EQ(r.changed, 49);
    /* a: blocks 0,4,..,40 zero (11); 1,5,..,37 one block stored once (10
       blocks -> 1); 2,3,6,7,.. distinct (20); b: 8 distinct (3i+1), of
       which 7, 10, 19 and 22 are a's blocks 7, 10, 19 and 22 again (the
       short last block 40 of a is zero).  Stored: 1 + 20 + 8 - 4. */
    CHECK_EQ(r.zero, 11);
    CHECK_EQ(r.stored, 25);
    CHECK(exists("bk/mica-backup") && exists("bk/000001.manifest") && exists("bk/000001.blocks"));
    CHECK(!exists("bk/.000001.blocks.tmp") && !exists("bk/.000001.manifest.tmp"));
    CHECK_EQ(restore_at(0, "ra.img", "rb.img", err, sizeof(err)), BK_OK);
    CHECK(same_file("a.img", "ra.img"));
    CHECK(same_file("b.img", "rb.img"));
    char rep[4096];
    CHECK_EQ(verify_problems(rep, sizeof(rep)), 0);
    CHECK_STR(rep, "backup 1: full");
    CHECK_STR(rep, ": OK");
}

UNIT_TEST(incremental_stores_only_changed_blocks)
{
    setup();
    char err[512];
    struct bk_backup_result r;
    CHECK_EQ(run_backup(false, &r, err, sizeof(err)), BK_OK);
    /* Change two distinct blocks of a and one of b. */
    poke("a.img", 2 * BS + 5, 0xee);
    poke("a.img", 7 * BS, 0x11);
    poke("b.img", 3 * BS + 100, 0x22);
    CHECK_EQ(run_backup(false, &r, err, sizeof(err)), BK_OK);
    CHECK(!r.full && r.seq == 2 && r.parent_seq == 1);
    CHECK_EQ(r.blocks, 49);
    CHECK_EQ(r.changed, 3);
    CHECK_EQ(r.stored, 3);
    CHECK_EQ(r.stored_bytes, sizeof(struct bk_pack_header) + 3 * (BS + sizeof(struct bk_block_header)));
    /* No change at all: nothing stored. */
    CHECK_EQ(run_backup(false, &r, err, sizeof(err)), BK_OK);
    CHECK_EQ(r.seq, 3);
    CHECK_EQ(r.changed, 0);
    CHECK_EQ(r.stored, 0);
    /* Back to backup 1's content: changed, but found in backup 1's pack. */
    poke("a.img", 7 * BS, (uint8_t)(pat_mixed(7)));
    CHECK_EQ(run_backup(false, &r, err, sizeof(err)), BK_OK);
    CHECK_EQ(r.changed, 1);
    CHECK_EQ(r.stored, 0);
    /* Every point in time restores exactly. */
    CHECK_EQ(restore_at(4, "r4a", "r4b", err, sizeof(err)), BK_OK);
    CHECK(same_file("a.img", "r4a") && same_file("b.img", "r4b"));
    CHECK_EQ(restore_at(1, "r1a", "r1b", err, sizeof(err)), BK_OK);
    CHECK_EQ(peek("r1a", 2 * BS + 5), (uint8_t)(pat_mixed(2) + 5 * 7));
    CHECK_EQ(peek("r1b", 3 * BS + 100), (uint8_t)(pat_distinct(3) + 100 * 7));
    CHECK_EQ(restore_at(2, "r2a", "r2b", err, sizeof(err)), BK_OK);
    CHECK_EQ(peek("r2a", 7 * BS), 0x11);
    CHECK_EQ(peek("r2a", 2 * BS + 5), 0xee);
    /* A full backup starts a new chain with every block in its own pack:
       a's 21 distinct ones and b's 8, less b's blocks 2, 6 and 7 that are
       a's 7, 19 and 22 (b's block 3 no longer is a's 10). */
    CHECK_EQ(run_backup(true, &r, err, sizeof(err)), BK_OK);
    CHECK(r.full && r.seq == 5);
    CHECK_EQ(r.stored, 26);
    char rep[8192];
    CHECK_EQ(verify_problems(rep, sizeof(rep)), 0);
    CHECK_STR(rep, "backup 4: incremental after 3");
    CHECK_STR(rep, "backup 5: full");
}

UNIT_TEST(grown_disk_and_new_disk_count_as_changed)
{
    setup();
    char err[512];
    struct bk_backup_result r;
    CHECK_EQ(run_backup(false, &r, err, sizeof(err)), BK_OK);
    write_disk("b.img", 9, 0, pat_distinct);  /* one block more */
    CHECK_EQ(run_backup(false, &r, err, sizeof(err)), BK_OK);
    /* b's size changed: all 9 of its blocks count as changed, only the new
       one is stored (the rest are in backup 1). */
    CHECK_EQ(r.changed, 9);
    CHECK_EQ(r.stored, 1);
    CHECK_EQ(restore_at(0, "ra", "rb", err, sizeof(err)), BK_OK);
    CHECK(same_file("b.img", "rb"));
}

UNIT_TEST(verify_names_damaged_blocks_and_restore_refuses_them)
{
    setup();
    char err[512];
    struct bk_backup_result r;
    CHECK_EQ(run_backup(false, &r, err, sizeof(err)), BK_OK);
    /* The first stored block is xvda block 1 at offset 40 of pack 1; its
       data starts 24 octets later. */
    char p[300];
    path_of(p, sizeof(p), "bk/000001.blocks");
    int fd = open(p, O_RDWR);
    CHECK(fd >= 0);
    uint8_t v;
    off_t at = (off_t)sizeof(struct bk_pack_header) + (off_t)sizeof(struct bk_block_header) + 77;
    CHECK(pread(fd, &v, 1, at) == 1);
    v ^= 0x40;
    CHECK(pwrite(fd, &v, 1, at) == 1);
    close(fd);
    char rep[8192];
    size_t problems = verify_problems(rep, sizeof(rep));
    CHECK(problems >= 2);
    CHECK_STR(rep, "000001.blocks: the block at offset 40 (4096 octets) is damaged: expected hash ");
    CHECK_STR(rep, ", actual ");
    /* Every block of a that uses it: 1, 5, 9, ... */
    CHECK_STR(rep, "backup 1: disk xvda block 1 (octets 4096..8191): needs 000001.blocks offset 40");
    CHECK_STR(rep, "backup 1: disk xvda block 5 ");
    CHECK_STR(rep, "DAMAGED");
    /* The restore stops at it and leaves nothing. */
    CHECK_EQ(restore_at(0, "ra", "rb", err, sizeof(err)), BK_UNUSABLE);
    CHECK_STR(err, "disk xvda block 1: the block at offset 40 is damaged: expected hash");
    CHECK(!exists("ra") && !exists("rb"));
    char l[512];
    listing("", l, sizeof(l));
    CHECK(strstr(l, "restore") == NULL);
    /* An incremental made after it does not store the block again (its hash
       is known), so verify still shows backup 2 damaged through it. */
    CHECK_EQ(run_backup(false, &r, err, sizeof(err)), BK_OK);
    verify_problems(rep, sizeof(rep));
    CHECK_STR(rep, "backup 2: disk xvda block 1 ");
}

UNIT_TEST(damaged_or_cut_manifest_is_named)
{
    setup();
    char err[512];
    struct bk_backup_result r;
    CHECK_EQ(run_backup(false, &r, err, sizeof(err)), BK_OK);
    CHECK_EQ(run_backup(false, &r, err, sizeof(err)), BK_OK);
    poke("bk/000002.manifest", 200, 0x5a);
    char rep[8192];
    CHECK(verify_problems(rep, sizeof(rep)) >= 1);
    CHECK_STR(rep, "000002.manifest is damaged: expected hash ");
    CHECK_STR(rep, "backup 2: DAMAGED (its manifest)");
    CHECK_STR(rep, "backup 1: full");
    CHECK_EQ(restore_at(2, "ra", "rb", err, sizeof(err)), BK_UNUSABLE);
    CHECK_STR(err, "000002.manifest is damaged");
    /* An incremental needs the chain: refused, nothing written. */
    char before[512], after[512];
    listing("bk", before, sizeof(before));
    CHECK_EQ(run_backup(false, &r, err, sizeof(err)), BK_UNUSABLE);
    CHECK_STR(err, "'--full' starts a new one");
    listing("bk", after, sizeof(after));
    CHECK(strcmp(before, after) == 0);
    /* Cut short. */
    path_of(err, sizeof(err), "bk/000001.manifest");
    CHECK(truncate(err, 100) == 0);
    CHECK_EQ(restore_at(1, "ra", "rb", err, sizeof(err)), BK_UNUSABLE);
    CHECK_STR(err, "is not a manifest's size (cut short?)");
}

UNIT_TEST(chain_hole_is_refused)
{
    setup();
    char err[512], p[300];
    struct bk_backup_result r;
    for (int i = 0; i < 3; i++) {
        poke("a.img", (uint64_t)(i + 2) * BS, (uint8_t)(0x30 + i));
        CHECK_EQ(run_backup(false, &r, err, sizeof(err)), BK_OK);
    }
    path_of(p, sizeof(p), "bk/000002.manifest");
    CHECK(unlink(p) == 0);
    CHECK_EQ(restore_at(3, "ra", "rb", err, sizeof(err)), BK_UNUSABLE);
    CHECK_STR(err, "the chain of backup 3 has a hole: backup 2");
    CHECK_STR(err, "is missing");
    CHECK(!exists("ra"));
    char rep[8192];
    CHECK(verify_problems(rep, sizeof(rep)) >= 1);
    CHECK_STR(rep, "the chain of backup 3 has a hole");
    CHECK_STR(rep, "000002.blocks: no manifest names it");
    /* Backup 1 is whole. */
    CHECK_EQ(restore_at(1, "ra", "rb", err, sizeof(err)), BK_OK);
    /* An incremental after 3 is refused; --full starts again. */
    char before[512], after[512];
    listing("bk", before, sizeof(before));
    CHECK_EQ(run_backup(false, &r, err, sizeof(err)), BK_UNUSABLE);
    CHECK_STR(err, "hole");
    listing("bk", after, sizeof(after));
    CHECK(strcmp(before, after) == 0);
    CHECK_EQ(run_backup(true, &r, err, sizeof(err)), BK_OK);
    CHECK(r.full && r.seq == 4);
    /* A missing pack is a hole too. */
    CHECK_EQ(run_backup(false, &r, err, sizeof(err)), BK_OK);
    path_of(p, sizeof(p), "bk/000004.blocks");
    CHECK(unlink(p) == 0);
    CHECK_EQ(restore_at(5, "rc", "rd", err, sizeof(err)), BK_UNUSABLE);
    CHECK_STR(err, "000004.blocks, which holds blocks it needs, is missing");
    /* A manifest replaced by another backup's (digest differs). */
    CHECK_EQ(run_backup(true, &r, err, sizeof(err)), BK_OK);     /* 6 */
    poke("a.img", 3, 0x99);
    CHECK_EQ(run_backup(false, &r, err, sizeof(err)), BK_OK);    /* 7 */
    char p6[300], p1[300];
    path_of(p6, sizeof(p6), "bk/000006.manifest");
    path_of(p1, sizeof(p1), "bk/000001.manifest");
    char cmd[700];
    snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", p1, p6);
    CHECK(system(cmd) == 0);
    CHECK_EQ(restore_at(7, "re", "rf", err, sizeof(err)), BK_UNUSABLE);
    CHECK_STR(err, "broken at backup 6");
}

UNIT_TEST(not_a_backup_directory_changes_nothing)
{
    setup();
    char err[512], before[512], after[512];
    struct bk_backup_result r;
    /* A directory with other files in it. */
    CHECK(mkdir(dir, 0700) == 0);
    char p[300];
    path_of(p, sizeof(p), "bk/notes.txt");
    FILE *f = fopen(p, "w");
    CHECK(f && fputs("mine\n", f) >= 0 && fclose(f) == 0);
    listing("bk", before, sizeof(before));
    CHECK_EQ(run_backup(false, &r, err, sizeof(err)), BK_UNUSABLE);
    CHECK_STR(err, "is not a Mica backup directory (no mica-backup) and not empty (it holds notes.txt)");
    listing("bk", after, sizeof(after));
    CHECK(strcmp(before, after) == 0);
    CHECK_EQ(freeze_calls, 0);
    size_t problems;
    CHECK_EQ(bk_verify(dir, stdout, &problems, err, sizeof(err)), BK_UNUSABLE);
    CHECK_STR(err, "is not a Mica backup directory");
    /* A file. */
    CHECK_EQ(bk_verify(pa, stdout, &problems, err, sizeof(err)), BK_UNUSABLE);
    CHECK_STR(err, "is not a directory");
    /* A header of the wrong version or damaged. */
    path_of(p, sizeof(p), "bk/notes.txt");
    unlink(p);
    CHECK_EQ(run_backup(false, &r, err, sizeof(err)), BK_OK);
    poke("bk/mica-backup", 8, 7);
    CHECK_EQ(bk_verify(dir, stdout, &problems, err, sizeof(err)), BK_UNUSABLE);
    CHECK_STR(err, "format version 7 at offset 8; this vmctl reads version 1");
    poke("bk/mica-backup", 8, 1);
    poke("bk/mica-backup", 50, 'x');
    CHECK_EQ(bk_verify(dir, stdout, &problems, err, sizeof(err)), BK_UNUSABLE);
    CHECK_STR(err, "mica-backup is damaged: expected hash");
}

UNIT_TEST(other_domain_failed_pause_and_qcow2_leave_nothing)
{
    setup();
    char err[512], before[512], after[512];
    struct bk_backup_result r;
    /* A pause that fails: the new directory goes again. */
    freeze_fails = 1;
    CHECK_EQ(run_backup(false, &r, err, sizeof(err)), BK_FAILED);
    CHECK(!exists("bk"));
    CHECK_EQ(thaw_calls, 0);
    freeze_fails = 0;
    CHECK_EQ(run_backup(false, &r, err, sizeof(err)), BK_OK);
    /* Another domain's UUID. */
    listing("bk", before, sizeof(before));
    struct bk_backup_params p = { .dir = dir, .name = "other", .xml = xml,
                                  .xml_len = sizeof(xml) - 1, .disks = disks2, .n_disks = 2 };
    memset(p.uuid, 0x77, 16);
    CHECK_EQ(bk_backup(&p, &r, err, sizeof(err)), BK_UNUSABLE);
    CHECK_STR(err, "holds the backups of another domain ('t', UUID 01020304-0506-0708-090a-0b0c0d0e0f10)");
    listing("bk", after, sizeof(after));
    CHECK(strcmp(before, after) == 0);
    /* A qcow2 image. */
    poke("b.img", 0, 'Q');
    poke("b.img", 1, 'F');
    poke("b.img", 2, 'I');
    poke("b.img", 3, 0xfb);
    CHECK_EQ(run_backup(false, &r, err, sizeof(err)), BK_UNUSABLE);
    CHECK_STR(err, "qcow2 is not yet supported by backup");
    listing("bk", after, sizeof(after));
    CHECK(strcmp(before, after) == 0);
    /* A missing disk. */
    disks2[1].path = "/nonexistent/disk.img";
    CHECK_EQ(run_backup(false, &r, err, sizeof(err)), BK_UNUSABLE);
    CHECK_STR(err, "disk xvdb: /nonexistent/disk.img: No such file or directory");
}

UNIT_TEST(restore_refuses_existing_targets)
{
    setup();
    char err[512];
    struct bk_backup_result r;
    CHECK_EQ(run_backup(false, &r, err, sizeof(err)), BK_OK);
    /* rb exists: nothing restored, ra not made either. */
    write_disk("rb", 1, 0, pat_distinct);
    CHECK_EQ(restore_at(0, "ra", "rb", err, sizeof(err)), BK_EXISTS);
    CHECK_STR(err, "disk xvdb would be restored to ");
    CHECK(!exists("ra"));
    CHECK_EQ(restore_at(0, "ra", "ra", err, sizeof(err)), BK_EXISTS);
    CHECK_EQ(restore_at(9, "ra", "rc", err, sizeof(err)), BK_UNUSABLE);
    CHECK_STR(err, "has no backup 9 (it has 1 to 1)");
}

/* Every single-octet change and every truncation of a manifest, and every
   single-octet change of the directory header, is refused by name. */
UNIT_TEST(every_octet_of_manifest_and_header_is_checked)
{
    setup();
    write_disk("a.img", 2, 100, pat_distinct);
    write_disk("b.img", 1, 0, pat_distinct);
    char err[512], p[300];
    struct bk_backup_result r;
    CHECK_EQ(run_backup(false, &r, err, sizeof(err)), BK_OK);
    path_of(p, sizeof(p), "bk/000001.manifest");
    FILE *f = fopen(p, "rb");
    CHECK(f != NULL);
    uint8_t orig[4096];
    size_t len = fread(orig, 1, sizeof(orig), f);
    fclose(f);
    CHECK(len > 300 && len < sizeof(orig));
    struct bk_dir d;
    struct bk_manifest m;
    CHECK_EQ(bk_dir_open(dir, &d, err, sizeof(err)), BK_OK);
    for (size_t at = 0; at < len; at++) {
        uint8_t copy[4096];
        memcpy(copy, orig, len);
        copy[at] ^= (uint8_t)(1u << (at % 8));
        f = fopen(p, "wb");
        CHECK(f && fwrite(copy, 1, len, f) == len && fclose(f) == 0);
        if (bk_load_chain(&d, 1, &m, err, sizeof(err)) == BK_OK) {
            fprintf(stderr, "  octet %zu changed, accepted\n", at);
            CHECK(0);
        }
        CHECK_STR(err, "000001.manifest");
    }
    for (size_t cut = 0; cut < len; cut++) {
        f = fopen(p, "wb");
        CHECK(f && fwrite(orig, 1, cut, f) == cut && fclose(f) == 0);
        CHECK(bk_load_chain(&d, 1, &m, err, sizeof(err)) != BK_OK);
    }
    f = fopen(p, "wb");
    CHECK(f && fwrite(orig, 1, len, f) == len && fclose(f) == 0);
    CHECK_EQ(bk_load_chain(&d, 1, &m, err, sizeof(err)), BK_OK);
    bk_manifest_free(&m);
    bk_dir_close(&d);
    for (size_t at = 0; at < sizeof(struct bk_dir_header); at++) {
        poke("bk/mica-backup", at, (uint8_t)(peek("bk/mica-backup", at) ^ 0x10));
        CHECK(bk_dir_open(dir, &d, err, sizeof(err)) == BK_UNUSABLE);
        CHECK_STR(err, "mica-backup");
        poke("bk/mica-backup", at, (uint8_t)(peek("bk/mica-backup", at) ^ 0x10));
    }
    CHECK_EQ(bk_dir_open(dir, &d, err, sizeof(err)), BK_OK);
    bk_dir_close(&d);
}

UNIT_TEST(zz_cleanup)
{
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", work);
    CHECK(system(cmd) == 0);
}

UNIT_MAIN()
