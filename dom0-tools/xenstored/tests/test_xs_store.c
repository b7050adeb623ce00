/* Store, paths, permissions, transactions and quotas, below the wire. */
#define UNIT_SUITE "xenstored/store"
#include "unit.h"

#include <stdlib.h>
#include <string.h>

#include "ops.h"
#include "path.h"
#include "perms.h"

struct fired {
    char path[XS_PATH_BUF];
    bool recursive;
    int count;
};

static void record(void *ctx, const char *path, const struct xs_perms *perms, bool rec)
{
    (void)perms;
    struct fired *f = ctx;
    strcpy(f->path, path);
    f->recursive = rec;
    f->count++;
}

struct fixture {
    struct xs_store store;
    struct xs_view view;
    struct xs_quota quota;
    struct xs_caller dom0, guest;
    struct xs_op_ctx as0, asguest;
    struct fired fired;
};

static void setup(struct fixture *f)
{
    memset(f, 0, sizeof(*f));
    CHECK(xs_store_init(&f->store) == 0);
    f->view.store = &f->store;
    xs_quota_defaults(&f->quota);
    f->dom0 = (struct xs_caller){ .domid = 0, .privileged = true, .target = XS_NO_TARGET };
    f->guest = (struct xs_caller){ .domid = 5, .privileged = false, .target = XS_NO_TARGET };
    f->as0 = (struct xs_op_ctx){ &f->view, &f->dom0, &f->quota, record, &f->fired };
    f->asguest = (struct xs_op_ctx){ &f->view, &f->guest, &f->quota, record, &f->fired };
}

static void teardown(struct fixture *f)
{
    char why[256];
    CHECK(xs_store_check(&f->store, why, sizeof(why)) == 0);
    xs_store_destroy(&f->store);
}

static struct xs_perms perms_of(const char *a, const char *b)
{
    struct xs_perms p = { .n = b ? 2 : 1 };
    p.p = calloc(p.n, sizeof(*p.p));
    xs_perm_parse(a, &p.p[0]);
    if (b)
        xs_perm_parse(b, &p.p[1]);
    return p;
}

static bool value_is(const struct xs_op_ctx *c, const char *path, const char *want)
{
    const struct xs_node *n;
    if (xs_op_read(c, path, &n) != 0)
        return false;
    return n->value_len == strlen(want) && memcmp(n->value, want, n->value_len) == 0;
}

UNIT_TEST(path_rules)
{
    char out[XS_PATH_BUF];
    bool rel;
    CHECK(xs_path_canonical("/a/b-c_d@e", 0, false, out, &rel) == 0 && !rel);
    CHECK(strcmp(out, "/a/b-c_d@e") == 0);
    CHECK(xs_path_canonical("device/vif", 7, false, out, &rel) == 0 && rel);
    CHECK(strcmp(out, "/local/domain/7/device/vif") == 0);
    CHECK(xs_path_canonical("/", 0, false, out, NULL) == 0);
    CHECK(xs_path_canonical("", 0, false, out, NULL) == EINVAL);
    CHECK(xs_path_canonical("/a//b", 0, false, out, NULL) == EINVAL);
    CHECK(xs_path_canonical("/a/", 0, false, out, NULL) == EINVAL);
    CHECK(xs_path_canonical("/a b", 0, false, out, NULL) == EINVAL);
    CHECK(xs_path_canonical("/a.b", 0, false, out, NULL) == EINVAL);
    CHECK(xs_path_canonical("@releaseDomain", 0, false, out, NULL) == EINVAL);
    CHECK(xs_path_canonical("@releaseDomain", 0, true, out, NULL) == 0);

    char *longp = malloc(XSW_ABS_PATH_MAX + 2);
    memset(longp, 'a', XSW_ABS_PATH_MAX + 1);
    longp[0] = '/';
    longp[XSW_ABS_PATH_MAX + 1] = '\0';
    CHECK(xs_path_canonical(longp, 0, false, out, NULL) == EINVAL);
    longp[XSW_ABS_PATH_MAX] = '\0';
    CHECK(xs_path_canonical(longp, 0, false, out, NULL) == 0);
    free(longp);

    CHECK(xs_path_is_within("/a/b", "/a"));
    CHECK(xs_path_is_within("/a", "/a"));
    CHECK(!xs_path_is_within("/ab", "/a"));
    CHECK(xs_path_is_within("/ab", "/"));
    CHECK_EQ(xs_path_parent_len("/a/b"), 2);
    CHECK_EQ(xs_path_parent_len("/a"), 1);
    CHECK_EQ(xs_path_parent_len("/"), 0);
    CHECK_EQ(xs_path_depth("/a/b"), 2);
}

UNIT_TEST(perm_strings_and_access)
{
    struct xs_perm p;
    CHECK(xs_perm_parse("b12", &p) == 0 && p.domid == 12 && p.access == XS_ACCESS_ALL);
    CHECK(xs_perm_parse("n0", &p) == 0 && p.access == 0);
    CHECK(xs_perm_parse("x1", &p) == EINVAL);
    CHECK(xs_perm_parse("r", &p) == EINVAL);
    CHECK(xs_perm_parse("r-1", &p) == EINVAL);
    CHECK(xs_perm_parse("r65536", &p) == EINVAL);
    CHECK(xs_perm_parse("r123456", &p) == EINVAL);

    struct xs_perms perms = perms_of("r3", "w5");
    char out[64];
    size_t len = xs_perms_format(&perms, out, sizeof(out));
    CHECK_EQ(len, 6);
    CHECK(memcmp(out, "r3\0w5\0", 6) == 0);

    struct xs_caller owner = { 3, false, XS_NO_TARGET };
    struct xs_caller listed = { 5, false, XS_NO_TARGET };
    struct xs_caller other = { 9, false, XS_NO_TARGET };
    struct xs_caller dom0 = { 0, true, XS_NO_TARGET };
    struct xs_caller stub = { 11, false, 3 };   /* acts for domain 3 */
    CHECK_EQ(xs_perms_access(&perms, &owner), XS_ACCESS_ALL);
    CHECK_EQ(xs_perms_access(&perms, &listed), XS_ACCESS_WRITE);
    CHECK_EQ(xs_perms_access(&perms, &other), XS_ACCESS_READ);  /* the default */
    CHECK_EQ(xs_perms_access(&perms, &dom0), XS_ACCESS_ALL);
    CHECK_EQ(xs_perms_access(&perms, &stub), XS_ACCESS_ALL);
    xs_perms_free(&perms);
}

UNIT_TEST(write_creates_parents_and_fires)
{
    struct fixture f;
    setup(&f);
    CHECK(xs_op_write(&f.as0, "/a/b/c", "v", 1) == 0);
    CHECK(value_is(&f.as0, "/a/b/c", "v"));
    CHECK(value_is(&f.as0, "/a/b", ""));
    CHECK_EQ(f.fired.count, 1);
    CHECK(strcmp(f.fired.path, "/a/b/c") == 0);

    const struct xs_node *dir;
    CHECK(xs_op_directory(&f.as0, "/a", &dir) == 0);
    CHECK_EQ(dir->nchildren, 1);
    CHECK(strcmp(dir->children[0], "b") == 0);

    CHECK(xs_op_mkdir(&f.as0, "/a/b") == 0);      /* exists: nothing fires */
    CHECK_EQ(f.fired.count, 1);
    CHECK(value_is(&f.as0, "/a/b/c", "v"));
    teardown(&f);
}

UNIT_TEST(rm_semantics)
{
    struct fixture f;
    setup(&f);
    CHECK(xs_op_write(&f.as0, "/x/y/z", "1", 1) == 0);
    CHECK(xs_op_rm(&f.as0, "/x/y") == 0);
    CHECK(f.fired.recursive && strcmp(f.fired.path, "/x/y") == 0);
    const struct xs_node *n;
    CHECK(xs_op_read(&f.as0, "/x/y/z", &n) == ENOENT);
    CHECK(xs_op_rm(&f.as0, "/x/y") == 0);            /* gone, parent exists */
    CHECK(xs_op_rm(&f.as0, "/nope/y") == ENOENT);    /* parent missing too */
    CHECK(xs_op_rm(&f.as0, "/") == EINVAL);
    teardown(&f);
}

UNIT_TEST(guest_permissions)
{
    struct fixture f;
    setup(&f);
    /* dom0 prepares the guest's home, as the toolstack does. */
    CHECK(xs_op_mkdir(&f.as0, "/local/domain/5") == 0);
    struct xs_perms home = perms_of("n5", NULL);
    CHECK(xs_op_set_perms(&f.as0, "/local/domain/5", &home) == 0);
    xs_perms_free(&home);

    const struct xs_node *n;
    CHECK(xs_op_read(&f.asguest, "/local", &n) == EACCES);   /* root is n0 */
    CHECK(xs_op_write(&f.asguest, "/local/x", "1", 1) == EACCES);
    CHECK(xs_op_write(&f.asguest, "/local/domain/5/data/k", "v", 1) == 0);
    CHECK(xs_op_get_perms(&f.asguest, "/local/domain/5/data/k", &n) == 0);
    CHECK_EQ(n->perms.p[0].domid, 5);                        /* creator owns it */

    /* A node dom0 owns inside the guest's home, readable only. */
    CHECK(xs_op_write(&f.as0, "/local/domain/5/ro", "fixed", 5) == 0);
    struct xs_perms ro = perms_of("n0", "r5");
    CHECK(xs_op_set_perms(&f.as0, "/local/domain/5/ro", &ro) == 0);
    xs_perms_free(&ro);
    CHECK(value_is(&f.asguest, "/local/domain/5/ro", "fixed"));
    CHECK(xs_op_write(&f.asguest, "/local/domain/5/ro", "mine", 4) == EACCES);
    CHECK(xs_op_rm(&f.asguest, "/local/domain/5/ro") == EACCES);

    /* The guest may not give its node away. */
    struct xs_perms give = perms_of("b6", NULL);
    CHECK(xs_op_set_perms(&f.asguest, "/local/domain/5/data/k", &give) == EPERM);
    xs_perms_free(&give);
    struct xs_perms share = perms_of("n5", "r6");
    CHECK(xs_op_set_perms(&f.asguest, "/local/domain/5/data/k", &share) == 0);
    xs_perms_free(&share);
    teardown(&f);
}

UNIT_TEST(guest_quotas)
{
    struct fixture f;
    setup(&f);
    f.quota.nodes = 4;
    f.quota.value_size = 8;
    f.quota.perms = 2;
    CHECK(xs_op_mkdir(&f.as0, "/local/domain/5") == 0);
    struct xs_perms home = perms_of("b5", NULL);
    CHECK(xs_op_set_perms(&f.as0, "/local/domain/5", &home) == 0);
    xs_perms_free(&home);
    /* The home itself counts: it is owned by domain 5 now. */
    CHECK_EQ(xs_store_owner_nodes(&f.store, 5), 1);

    CHECK(xs_op_write(&f.asguest, "/local/domain/5/a", "123456789", 9) == ENOSPC);
    CHECK(xs_op_write(&f.asguest, "/local/domain/5/a", "12345678", 8) == 0);
    CHECK(xs_op_write(&f.asguest, "/local/domain/5/b/c", "", 0) == 0);   /* 2 nodes */
    CHECK_EQ(xs_store_owner_nodes(&f.store, 5), 4);
    CHECK(xs_op_write(&f.asguest, "/local/domain/5/d", "", 0) == ENOSPC);
    CHECK(xs_op_write(&f.as0, "/local/domain/5/d", "", 0) == 0);         /* dom0 exempt */
    CHECK(xs_op_rm(&f.asguest, "/local/domain/5/b") == 0);
    CHECK_EQ(xs_store_owner_nodes(&f.store, 5), 3);

    struct xs_perms three = { .n = 3 };
    three.p = calloc(3, sizeof(*three.p));
    xs_perm_parse("n5", &three.p[0]);
    xs_perm_parse("r1", &three.p[1]);
    xs_perm_parse("r2", &three.p[2]);
    CHECK(xs_op_set_perms(&f.asguest, "/local/domain/5/a", &three) == ENOSPC);
    xs_perms_free(&three);
    teardown(&f);
}

UNIT_TEST(transaction_isolation_and_commit)
{
    struct fixture f;
    setup(&f);
    CHECK(xs_op_write(&f.as0, "/t/old", "1", 1) == 0);
    f.fired.count = 0;

    struct xs_txn *t = xs_txn_new(1, 0, 0);
    struct xs_view tv = { &f.store, t };
    struct xs_op_ctx tc = f.as0;
    tc.view = &tv;
    CHECK(xs_op_write(&tc, "/t/new/leaf", "2", 1) == 0);
    CHECK(xs_op_rm(&tc, "/t/old") == 0);
    CHECK_EQ(f.fired.count, 0);                        /* nothing until commit */

    const struct xs_node *n;
    CHECK(xs_op_read(&f.as0, "/t/new/leaf", &n) == ENOENT);   /* not visible outside */
    CHECK(value_is(&f.as0, "/t/old", "1"));
    CHECK(value_is(&tc, "/t/new/leaf", "2"));                 /* visible inside */
    CHECK(xs_op_read(&tc, "/t/old", &n) == ENOENT);

    CHECK(xs_txn_commit(&f.store, t, 0, record, &f.fired) == 0);
    xs_txn_free(t);
    CHECK(value_is(&f.as0, "/t/new/leaf", "2"));
    CHECK(xs_op_read(&f.as0, "/t/old", &n) == ENOENT);
    CHECK(f.fired.count >= 2);
    teardown(&f);
}

UNIT_TEST(transaction_conflicts)
{
    struct fixture f;
    setup(&f);
    CHECK(xs_op_write(&f.as0, "/c/k", "1", 1) == 0);

    /* Read then someone else writes what we read: EAGAIN. */
    struct xs_txn *t = xs_txn_new(1, 0, 0);
    struct xs_view tv = { &f.store, t };
    struct xs_op_ctx tc = f.as0;
    tc.view = &tv;
    CHECK(value_is(&tc, "/c/k", "1"));
    CHECK(xs_op_write(&tc, "/c/other", "x", 1) == 0);
    CHECK(xs_op_write(&f.as0, "/c/k", "2", 1) == 0);
    CHECK(xs_txn_commit(&f.store, t, 0, NULL, NULL) == EAGAIN);
    xs_txn_free(t);
    const struct xs_node *n;
    CHECK(xs_op_read(&f.as0, "/c/other", &n) == ENOENT);     /* nothing applied */

    /* Read a missing node, someone creates it: EAGAIN. */
    t = xs_txn_new(2, 0, 0);
    tv.txn = t;
    CHECK(xs_op_read(&tc, "/c/missing", &n) == ENOENT);
    CHECK(xs_op_write(&f.as0, "/c/missing", "now", 3) == 0);
    CHECK(xs_txn_commit(&f.store, t, 0, NULL, NULL) == EAGAIN);
    xs_txn_free(t);

    /* Unrelated changes elsewhere do not conflict. */
    t = xs_txn_new(3, 0, 0);
    tv.txn = t;
    CHECK(value_is(&tc, "/c/k", "2"));
    CHECK(xs_op_write(&tc, "/c/k", "3", 1) == 0);
    CHECK(xs_op_write(&f.as0, "/elsewhere", "z", 1) == 0);
    CHECK(xs_txn_commit(&f.store, t, 0, NULL, NULL) == 0);
    xs_txn_free(t);
    CHECK(value_is(&f.as0, "/c/k", "3"));

    /* Removing a subtree conflicts with a change deep inside it. */
    CHECK(xs_op_write(&f.as0, "/d/e/f", "1", 1) == 0);
    t = xs_txn_new(4, 0, 0);
    tv.txn = t;
    CHECK(xs_op_rm(&tc, "/d") == 0);
    CHECK(xs_op_write(&f.as0, "/d/e/f", "2", 1) == 0);
    CHECK(xs_txn_commit(&f.store, t, 0, NULL, NULL) == EAGAIN);
    xs_txn_free(t);
    CHECK(value_is(&f.as0, "/d/e/f", "2"));
    teardown(&f);
}

UNIT_TEST(transaction_delete_and_recreate)
{
    struct fixture f;
    setup(&f);
    CHECK(xs_op_write(&f.as0, "/r/a/b", "old", 3) == 0);
    struct xs_txn *t = xs_txn_new(1, 0, 0);
    struct xs_view tv = { &f.store, t };
    struct xs_op_ctx tc = f.as0;
    tc.view = &tv;
    CHECK(xs_op_rm(&tc, "/r/a") == 0);
    CHECK(xs_op_write(&tc, "/r/a/c", "new", 3) == 0);
    CHECK(xs_txn_commit(&f.store, t, 0, NULL, NULL) == 0);
    xs_txn_free(t);
    const struct xs_node *n;
    CHECK(xs_op_read(&f.as0, "/r/a/b", &n) == ENOENT);
    CHECK(value_is(&f.as0, "/r/a/c", "new"));
    teardown(&f);
}

UNIT_TEST(transaction_quotas)
{
    struct fixture f;
    setup(&f);
    f.quota.nodes = 3;
    CHECK(xs_op_mkdir(&f.as0, "/local/domain/5") == 0);
    struct xs_perms home = perms_of("b5", NULL);
    CHECK(xs_op_set_perms(&f.as0, "/local/domain/5", &home) == 0);
    xs_perms_free(&home);

    /* Two transactions that each fit, but not together. */
    struct xs_txn *t1 = xs_txn_new(1, 5, 16), *t2 = xs_txn_new(2, 5, 16);
    struct xs_view v1 = { &f.store, t1 }, v2 = { &f.store, t2 };
    struct xs_op_ctx c1 = f.asguest, c2 = f.asguest;
    c1.view = &v1;
    c2.view = &v2;
    CHECK(xs_op_write(&c1, "/local/domain/5/a/b", "", 0) == 0);
    CHECK(xs_op_write(&c1, "/local/domain/5/c", "", 0) == ENOSPC);
    CHECK(xs_op_write(&c2, "/local/domain/5/x/y", "", 0) == 0);
    CHECK(xs_txn_commit(&f.store, t1, f.quota.nodes, NULL, NULL) == 0);
    /* t2 conflicts anyway (the home's child list changed); the quota is
     * checked for transactions that do not conflict. */
    CHECK(xs_txn_commit(&f.store, t2, f.quota.nodes, NULL, NULL) == EAGAIN);
    xs_txn_free(t1);
    xs_txn_free(t2);

    struct xs_txn *t3 = xs_txn_new(3, 5, 16);
    struct xs_view v3 = { &f.store, t3 };
    struct xs_op_ctx c3 = f.asguest;
    c3.view = &v3;
    CHECK(xs_op_write(&c3, "/local/domain/5/q", "", 0) == ENOSPC);
    xs_txn_free(t3);

    /* The overlay itself is bounded. */
    struct xs_txn *t4 = xs_txn_new(4, 5, 2);
    struct xs_view v4 = { &f.store, t4 };
    struct xs_op_ctx c4 = f.asguest;
    c4.view = &v4;
    const struct xs_node *n;
    CHECK(xs_op_read(&c4, "/local/domain/5", &n) == 0);
    CHECK(xs_op_read(&c4, "/local/domain/5/a", &n) == 0);
    CHECK(xs_op_read(&c4, "/local/domain/5/a/b", &n) == ENOSPC);
    xs_txn_free(t4);
    teardown(&f);
}

UNIT_TEST(release_chowns_nodes)
{
    struct fixture f;
    setup(&f);
    CHECK(xs_op_mkdir(&f.as0, "/local/domain/5") == 0);
    struct xs_perms home = perms_of("n5", NULL);
    CHECK(xs_op_set_perms(&f.as0, "/local/domain/5", &home) == 0);
    xs_perms_free(&home);
    CHECK(xs_op_write(&f.asguest, "/local/domain/5/k", "v", 1) == 0);
    CHECK_EQ(xs_store_owner_nodes(&f.store, 5), 2);
    xs_store_chown_all(&f.store, 5, 0);
    CHECK_EQ(xs_store_owner_nodes(&f.store, 5), 0);
    CHECK(xs_op_write(&f.asguest, "/local/domain/5/k", "w", 1) == EACCES);
    teardown(&f);
}

UNIT_TEST(deep_tree_removal)
{
    struct fixture f;
    setup(&f);
    /* The deepest tree a path allows; removal must not blow the stack. */
    char *p = malloc(XS_PATH_BUF);
    size_t len = 0;
    while (len + 2 <= XSW_ABS_PATH_MAX) {
        p[len++] = '/';
        p[len++] = 'a';
    }
    p[len] = '\0';
    CHECK(xs_op_write(&f.as0, p, "deep", 4) == 0);
    CHECK_EQ(f.store.nodes.count, 1 + XSW_ABS_PATH_MAX / 2);
    CHECK(xs_op_rm(&f.as0, "/a") == 0);
    CHECK_EQ(f.store.nodes.count, 1);
    free(p);
    teardown(&f);
}

UNIT_MAIN()
