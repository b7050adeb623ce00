/*
 * vmctl's snapshot metadata and chain bookkeeping (dom0-tools/vmctl/
 * snapmeta.c): <domainsnapshot> XML round trips through the schema,
 * damaged or hostile metadata is refused naming the file and line, and
 * the tree operations snapshot-delete relies on (children, reparenting,
 * ancestors, loops) give what docs/snapshots.md says.
 */
#define _GNU_SOURCE
#define UNIT_SUITE "snapmeta"
#include "unit.h"

#include <stdlib.h>

#include "snapmeta.h"

static struct snap_meta sample(const char *name, const char *parent, uint64_t t)
{
    struct snap_meta m;
    memset(&m, 0, sizeof(m));
    m.name = strdup(name);
    m.parent = parent ? strdup(parent) : NULL;
    m.creation_time = t;
    m.state = SNAP_RUNNING;
    m.memory_file = strdup("/var/lib/mica/snapshots/linux/x.state");
    snprintf(m.domain_name, sizeof(m.domain_name), "linux");
    snprintf(m.domain_uuid, sizeof(m.domain_uuid), "12345678-1234-4234-8234-123456789abc");
    m.n_disks = 2;
    m.disks = calloc(2, sizeof(*m.disks));
    snprintf(m.disks[0].target, 8, "xvda");
    m.disks[0].external = true;
    char layer[128];
    snprintf(layer, sizeof(layer), "/var/lib/mica/images/linux.qcow2.snap-%s", name);
    m.disks[0].layer = strdup(layer);
    snprintf(m.disks[1].target, 8, "xvdb");
    return m;
}

UNIT_TEST(round_trip)
{
    struct snap_meta m = sample("s1", "s0", 1700000000);
    m.description = strdup("before the upgrade <&'\"> ok");
    char *xml = snapmeta_to_xml(&m);
    CHECK(xml != NULL);
    struct snap_meta r;
    char err[512];
    CHECK(snapmeta_parse(xml, strlen(xml), "s1.xml", &r, err, sizeof(err)) == 0);
    CHECK(strcmp(r.name, "s1") == 0);
    CHECK(r.parent && strcmp(r.parent, "s0") == 0);
    CHECK(r.description && strcmp(r.description, m.description) == 0);
    CHECK(r.creation_time == 1700000000);
    CHECK(r.state == SNAP_RUNNING);
    CHECK(r.memory_file && strcmp(r.memory_file, m.memory_file) == 0);
    CHECK(strcmp(r.domain_name, "linux") == 0);
    CHECK(strcmp(r.domain_uuid, m.domain_uuid) == 0);
    CHECK(r.n_disks == 2);
    CHECK(r.disks[0].external && strcmp(r.disks[0].layer, m.disks[0].layer) == 0);
    CHECK(!r.disks[1].external && r.disks[1].layer == NULL);
    /* Written again, byte for byte the same. */
    char *again = snapmeta_to_xml(&r);
    CHECK(again && strcmp(again, xml) == 0);
    free(again);
    free(xml);
    snapmeta_free(&r);
    snapmeta_free(&m);
}

UNIT_TEST(disk_only_without_parent)
{
    struct snap_meta m = sample("first", NULL, 5);
    free(m.memory_file);
    m.memory_file = NULL;
    m.state = SNAP_DISK_SNAPSHOT;
    char *xml = snapmeta_to_xml(&m);
    CHECK(xml && strstr(xml, "<memory snapshot='no'/>") && !strstr(xml, "<parent>"));
    struct snap_meta r;
    char err[512];
    CHECK(snapmeta_parse(xml, strlen(xml), "first.xml", &r, err, sizeof(err)) == 0);
    CHECK(r.parent == NULL && r.memory_file == NULL && r.state == SNAP_DISK_SNAPSHOT);
    free(xml);
    snapmeta_free(&r);
    snapmeta_free(&m);
}

static void expect_refused(const char *xml, const char *want)
{
    struct snap_meta r;
    char err[512] = "";
    int rc = snapmeta_parse(xml, strlen(xml), "bad.xml", &r, err, sizeof(err));
    if (rc == 0 || !strstr(err, "bad.xml") || (want && !strstr(err, want)))
        fprintf(stderr, "  parse gave %d, '%s' (wanted '%s')\n", rc, err, want ? want : "");
    CHECK(rc < 0);
    CHECK(strstr(err, "bad.xml") != NULL);
    CHECK(!want || strstr(err, want) != NULL);
}

#define HEAD "<domainsnapshot><name>s1</name><state>running</state><creationTime>1</creationTime>"
#define TAIL "<domain><name>linux</name><uuid>12345678-1234-4234-8234-123456789abc</uuid></domain></domainsnapshot>"

UNIT_TEST(bad_metadata_refused)
{
    expect_refused("<domainsnapshot><name>s1", "bad.xml:");
    expect_refused("<domain/>", "domainsnapshot.rng");
    /* A relative layer path, a name that walks out of the directory, a
       memory snapshot without its file, an unknown state, a bad target. */
    expect_refused(HEAD "<memory snapshot='no'/><disks><disk name='xvda' snapshot='external'>"
                   "<driver type='qcow2'/><source file='rel.qcow2'/></disk></disks>" TAIL, NULL);
    expect_refused("<domainsnapshot><name>../x</name><state>running</state><creationTime>1"
                   "</creationTime><memory snapshot='no'/><disks/>" TAIL, NULL);
    expect_refused(HEAD "<memory snapshot='external'/><disks/>" TAIL, NULL);
    expect_refused("<domainsnapshot><name>s1</name><state>crashed</state><creationTime>1"
                   "</creationTime><memory snapshot='no'/><disks/>" TAIL, NULL);
    expect_refused(HEAD "<memory snapshot='no'/><disks><disk name='sda' snapshot='no'/></disks>"
                   TAIL, NULL);
    expect_refused(HEAD "<memory snapshot='no'/><disks><disk name='xvda' snapshot='no'/>"
                   "<disk name='xvda' snapshot='no'/></disks>" TAIL, "twice");
    expect_refused(HEAD "<parent><name>s1</name></parent><memory snapshot='no'/><disks/>" TAIL,
                   "its parent");
    /* The minimal valid one, for contrast. */
    const char *ok = HEAD "<memory snapshot='no'/><disks/>" TAIL;
    struct snap_meta r;
    char err[256];
    CHECK(snapmeta_parse(ok, strlen(ok), "ok.xml", &r, err, sizeof(err)) == 0);
    snapmeta_free(&r);
}

UNIT_TEST(names)
{
    CHECK(snapmeta_name_valid("s1"));
    CHECK(snapmeta_name_valid("1700000000"));
    CHECK(snapmeta_name_valid("before-upgrade.2"));
    CHECK(!snapmeta_name_valid(""));
    CHECK(!snapmeta_name_valid(".hidden"));
    CHECK(!snapmeta_name_valid("a/b"));
    CHECK(!snapmeta_name_valid("a b"));
    CHECK(!snapmeta_name_valid("0123456789012345678901234567890123456789012345678901234567890123456789"));
}

/* s0 <- s1 <- s2 <- s3, and s1 <- b1 (a branch after a revert to s1). */
UNIT_TEST(chain_delete_middle)
{
    struct snap_meta s[5] = { sample("s0", NULL, 10), sample("s1", "s0", 20),
                              sample("s2", "s1", 30), sample("s3", "s2", 40),
                              sample("b1", "s1", 50) };
    char err[256];
    CHECK(snapchain_check(s, 5, err, sizeof(err)) == 0);
    CHECK(snapchain_is_ancestor(s, 5, "s0", "s3"));
    CHECK(snapchain_is_ancestor(s, 5, "s3", "s3"));
    CHECK(!snapchain_is_ancestor(s, 5, "s2", "b1"));
    CHECK(snapchain_is_ancestor(s, 5, "s1", "b1"));
    size_t kids[5];
    /* Deleting s1: both its children (s2 and the branch b1) move to s0. */
    CHECK(snapchain_children(s, 5, 1, kids) == 2);
    CHECK(kids[0] == 2 && kids[1] == 4);
    CHECK(snapchain_reparent(s, 5, 1) == 0);
    CHECK(strcmp(s[2].parent, "s0") == 0 && strcmp(s[4].parent, "s0") == 0);
    CHECK(strcmp(s[3].parent, "s2") == 0);
    /* Without s1 the rest is still one consistent tree. */
    struct snap_meta rest[4] = { s[0], s[2], s[3], s[4] };
    CHECK(snapchain_check(rest, 4, err, sizeof(err)) == 0);
    CHECK(snapchain_is_ancestor(rest, 4, "s0", "s3"));
    /* Deleting the root s0: s2 and b1 stand alone. */
    CHECK(snapchain_children(rest, 4, 0, kids) == 2);
    CHECK(snapchain_reparent(rest, 4, 0) == 0);
    CHECK(rest[1].parent == NULL && rest[3].parent == NULL);
    /* rest holds copies of s[0], s[2..4] (and owns them now). */
    for (int i = 0; i < 4; i++)
        snapmeta_free(&rest[i]);
    snapmeta_free(&s[1]);
}

UNIT_TEST(chain_inconsistent)
{
    struct snap_meta s[3] = { sample("a", "c", 1), sample("b", "a", 2), sample("c", "b", 3) };
    char err[256];
    CHECK(snapchain_check(s, 3, err, sizeof(err)) < 0 && strstr(err, "loop"));
    CHECK(!snapchain_is_ancestor(s, 3, "x", "a")); /* ends although the parents loop */
    free(s[0].parent);
    s[0].parent = strdup("missing");
    CHECK(snapchain_check(s, 3, err, sizeof(err)) < 0 && strstr(err, "missing"));
    free(s[0].parent);
    s[0].parent = NULL;
    CHECK(snapchain_check(s, 3, err, sizeof(err)) == 0);
    free(s[2].name);
    s[2].name = strdup("a");
    CHECK(snapchain_check(s, 3, err, sizeof(err)) < 0 && strstr(err, "two snapshots"));
    for (int i = 0; i < 3; i++)
        snapmeta_free(&s[i]);
}

UNIT_TEST(list_order)
{
    struct snap_meta s[4] = { sample("c", NULL, 30), sample("b", NULL, 10),
                              sample("a", NULL, 30), sample("d", NULL, 5) };
    size_t o[4];
    snapchain_order(s, 4, o);
    CHECK(o[0] == 3 && o[1] == 1 && o[2] == 2 && o[3] == 0);
    for (int i = 0; i < 4; i++)
        snapmeta_free(&s[i]);
}

UNIT_MAIN()
