/* The whole request path: bytes in, replies and watch events out, for
 * several connections of different domains sharing one daemon. */
#define UNIT_SUITE "xenstored/daemon"
#include "unit.h"

#include <stdlib.h>

#include "daemon.h"
#include "log.h"

#define S(lit) lit, sizeof(lit) - 1

struct msg {
    struct xsw_header h;
    char p[XSW_PAYLOAD_MAX + 1];
};

struct event {
    struct xs_conn *c;
    char path[256], token[64];
};

static struct event events[256];
static unsigned nevents;
static uint32_t next_req = 100;

static void copy_str(char *dst, size_t sz, const char *src)
{
    size_t n = strnlen(src, sz - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static bool pop(struct xs_conn *c, struct msg *m)
{
    if (xs_buf_pending(&c->out) < sizeof(m->h))
        return false;
    memcpy(&m->h, xs_buf_front(&c->out), sizeof(m->h));
    CHECK(xs_buf_pending(&c->out) >= sizeof(m->h) + m->h.len);
    CHECK(m->h.len <= XSW_PAYLOAD_MAX);
    memcpy(m->p, xs_buf_front(&c->out) + sizeof(m->h), m->h.len);
    m->p[m->h.len] = '\0';
    xs_buf_consume(&c->out, sizeof(m->h) + m->h.len);
    return true;
}

/* Moves queued watch events of every connection into events[]. */
static void collect(struct xs_daemon *d)
{
    for (struct xs_conn *c = d->conns; c; c = c->next) {
        struct msg m;
        while (pop(c, &m)) {
            CHECK_EQ(m.h.type, XSW_WATCH_EVENT);
            CHECK(m.h.req_id == 0 && m.h.tx_id == 0);
            CHECK(nevents < 256);
            events[nevents].c = c;
            copy_str(events[nevents].path, sizeof(events[0].path), m.p);
            copy_str(events[nevents].token, sizeof(events[0].token), m.p + strlen(m.p) + 1);
            nevents++;
        }
    }
}

static unsigned count_events(struct xs_conn *c, const char *path, const char *token)
{
    unsigned n = 0;
    for (unsigned i = 0; i < nevents; i++)
        n += events[i].c == c && strcmp(events[i].path, path) == 0 &&
             strcmp(events[i].token, token) == 0;
    return n;
}

/* Sends one request; returns its reply (events seen on the way are kept). */
static struct msg *call(struct xs_conn *c, uint32_t type, uint32_t tx, const void *p, size_t len)
{
    static struct msg m;
    uint32_t req = next_req++;
    struct xsw_header h = { type, req, tx, (uint32_t)len };
    uint8_t buf[sizeof(h) + XSW_PAYLOAD_MAX];
    memcpy(buf, &h, sizeof(h));
    memcpy(buf + sizeof(h), p, len);
    CHECK(xs_conn_feed(c, buf, sizeof(h) + len) == 0);
    bool got = false;
    struct msg tmp;
    struct xs_buf keep = {0};
    while (pop(c, &tmp)) {
        if (!got && tmp.h.req_id == req && tmp.h.type != XSW_WATCH_EVENT) {
            m = tmp;
            got = true;
        } else {
            xs_msg_append(&keep, tmp.h.type, tmp.h.req_id, tmp.h.tx_id, tmp.p, tmp.h.len);
        }
    }
    xs_buf_append(&c->out, xs_buf_front(&keep), xs_buf_pending(&keep));
    xs_buf_free(&keep);
    CHECK(got);
    CHECK_EQ(m.h.tx_id, tx);
    return &m;
}

static bool is_ok(const struct msg *m)
{
    return m->h.type != XSW_ERROR && m->h.len == 3 && memcmp(m->p, "OK", 3) == 0;
}

static bool is_err(const struct msg *m, const char *name)
{
    return m->h.type == XSW_ERROR && strcmp(m->p, name) == 0 && m->h.len == strlen(name) + 1;
}

struct world {
    struct xs_daemon d;
    struct xs_conn *tool, *tool2, *g5, *g6;
};

static struct world *setup(void)
{
    struct world *w = calloc(1, sizeof(*w));
    CHECK(xs_daemon_init(&w->d) == 0);
    w->tool = xs_conn_new(&w->d, 0, true);
    w->tool2 = xs_conn_new(&w->d, 0, true);
    w->g5 = xs_conn_new(&w->d, 5, false);
    w->g6 = xs_conn_new(&w->d, 6, false);
    nevents = 0;
    /* Homes as a toolstack makes them. */
    CHECK(is_ok(call(w->tool, XSW_MKDIR, 0, S("/local/domain/5\0"))));
    CHECK(is_ok(call(w->tool, XSW_SET_PERMS, 0, S("/local/domain/5\0n5\0"))));
    CHECK(is_ok(call(w->tool, XSW_MKDIR, 0, S("/local/domain/6\0"))));
    CHECK(is_ok(call(w->tool, XSW_SET_PERMS, 0, S("/local/domain/6\0n6\0"))));
    return w;
}

static void teardown(struct world *w)
{
    struct msg *m = call(w->tool, XSW_CONTROL, 0, S("check\0"));
    CHECK(!is_err(m, "EIO"));
    xs_daemon_destroy(&w->d);
    free(w);
}

UNIT_TEST(read_write_directory)
{
    struct world *w = setup();
    CHECK(is_ok(call(w->tool, XSW_WRITE, 0, S("/vm/a\0bin\0ary"))));
    struct msg *m = call(w->tool, XSW_READ, 0, S("/vm/a\0"));
    CHECK(m->h.type == XSW_READ && m->h.len == 7 && memcmp(m->p, "bin\0ary", 7) == 0);
    CHECK(is_ok(call(w->tool, XSW_WRITE, 0, S("/vm/b\0"))));
    m = call(w->tool, XSW_DIRECTORY, 0, S("/vm\0"));
    CHECK(m->h.len == 4 && memcmp(m->p, "a\0b\0", 4) == 0);
    CHECK(is_err(call(w->tool, XSW_READ, 0, S("/vm/zz\0")), "ENOENT"));
    CHECK(is_err(call(w->tool, XSW_READ, 0, S("/vm//a\0")), "EINVAL"));
    CHECK(is_err(call(w->tool, XSW_READ, 0, S("/vm/a")), "EINVAL"));
    CHECK(is_ok(call(w->tool, XSW_RM, 0, S("/vm\0"))));
    CHECK(is_err(call(w->tool, XSW_DIRECTORY, 0, S("/vm\0")), "ENOENT"));

    /* Relative paths land in the caller's home. */
    CHECK(is_ok(call(w->g5, XSW_WRITE, 0, S("data/x\0y"))));
    m = call(w->tool, XSW_READ, 0, S("/local/domain/5/data/x\0"));
    CHECK(m->h.len == 1 && m->p[0] == 'y');
    teardown(w);
}

UNIT_TEST(directory_part_pages_long_lists)
{
    struct world *w = setup();
    char path[64];
    for (int i = 0; i < 400; i++) {
        int n = snprintf(path, sizeof(path), "/big/child-number-%03d", i) + 1;
        CHECK(is_ok(call(w->tool, XSW_MKDIR, 0, path, (size_t)n)));
    }
    CHECK(is_err(call(w->tool, XSW_DIRECTORY, 0, S("/big\0")), "E2BIG"));

    unsigned names = 0, offset = 0, rounds = 0;
    char gen[32] = "";
    for (;;) {
        char req[64];
        int n = snprintf(req, sizeof(req), "/big%c%u", 0, offset) + 1;
        struct msg *m = call(w->tool, XSW_DIRECTORY_PART, 0, req, (size_t)n);
        CHECK(m->h.type == XSW_DIRECTORY_PART);
        if (rounds++ == 0)
            copy_str(gen, sizeof(gen), m->p);
        CHECK(strcmp(gen, m->p) == 0);          /* unchanged between pieces */
        size_t pos = strlen(m->p) + 1;
        bool done = false;
        while (pos < m->h.len) {
            if (m->p[pos] == '\0') {            /* the end-of-list marker */
                CHECK_EQ(pos + 1, m->h.len);
                done = true;
                break;
            }
            char want[32];
            snprintf(want, sizeof(want), "child-number-%03u", names);
            CHECK(strcmp(m->p + pos, want) == 0);
            offset += (unsigned)strlen(m->p + pos) + 1;
            pos += strlen(m->p + pos) + 1;
            names++;
        }
        if (done)
            break;
        CHECK(rounds < 10);
    }
    CHECK_EQ(names, 400);
    CHECK(rounds > 1);
    CHECK(is_err(call(w->tool, XSW_DIRECTORY_PART, 0, S("/big\0" "3\0")), "EINVAL"));
    teardown(w);
}

UNIT_TEST(permissions_over_the_wire)
{
    struct world *w = setup();
    CHECK(is_err(call(w->g5, XSW_READ, 0, S("/local/domain/6\0")), "EACCES"));
    CHECK(is_err(call(w->g5, XSW_WRITE, 0, S("/local/domain/6/x\0v")), "EACCES"));
    CHECK(is_ok(call(w->g5, XSW_WRITE, 0, S("/local/domain/5/shared\0hi"))));
    CHECK(is_err(call(w->g6, XSW_READ, 0, S("/local/domain/5/shared\0")), "EACCES"));
    CHECK(is_ok(call(w->g5, XSW_SET_PERMS, 0, S("/local/domain/5/shared\0n5\0r6\0"))));
    struct msg *m = call(w->g6, XSW_READ, 0, S("/local/domain/5/shared\0"));
    CHECK(m->h.type == XSW_READ && m->h.len == 2);
    m = call(w->g6, XSW_GET_PERMS, 0, S("/local/domain/5/shared\0"));
    CHECK(m->h.len == 6 && memcmp(m->p, "n5\0r6\0", 6) == 0);
    CHECK(is_err(call(w->g6, XSW_WRITE, 0, S("/local/domain/5/shared\0no")), "EACCES"));
    CHECK(is_err(call(w->g5, XSW_SET_PERMS, 0, S("/local/domain/5/shared\0b6\0")), "EPERM"));
    CHECK(is_err(call(w->g5, XSW_SET_PERMS, 0, S("/local/domain/5/shared\0q5\0")), "EINVAL"));
    /* Domain management is dom0's. */
    CHECK(is_err(call(w->g5, XSW_INTRODUCE, 0, S("9\0001\0002\0")), "EACCES"));
    CHECK(is_err(call(w->g5, XSW_RELEASE, 0, S("6\0")), "EACCES"));
    CHECK(is_err(call(w->g5, XSW_CONTROL, 0, S("check\0")), "EACCES"));
    CHECK(is_err(call(w->g5, XSW_IS_DOMAIN_INTRODUCED, 0, S("6\0")), "EACCES"));
    teardown(w);
}

UNIT_TEST(watches_fire_and_respect_permissions)
{
    struct world *w = setup();
    CHECK(is_ok(call(w->tool, XSW_WATCH, 0, S("/local/domain\0all\0"))));
    collect(&w->d);
    CHECK_EQ(count_events(w->tool, "/local/domain", "all"), 1);   /* the initial event */
    CHECK(is_ok(call(w->g6, XSW_WATCH, 0, S("/local/domain/5\0peek\0"))));
    CHECK(is_ok(call(w->g5, XSW_WATCH, 0, S("dev\0mine\0"))));    /* relative */
    CHECK(is_err(call(w->g5, XSW_WATCH, 0, S("dev\0mine\0")), "EEXIST"));
    nevents = 0;
    collect(&w->d);
    CHECK_EQ(count_events(w->g5, "dev", "mine"), 1);

    nevents = 0;
    CHECK(is_ok(call(w->g5, XSW_WRITE, 0, S("dev/vif/0\0up"))));
    collect(&w->d);
    CHECK_EQ(count_events(w->tool, "/local/domain/5/dev/vif/0", "all"), 1);
    CHECK_EQ(count_events(w->g5, "dev/vif/0", "mine"), 1);         /* relative again */
    CHECK_EQ(count_events(w->g6, "/local/domain/5/dev/vif/0", "peek"), 0);  /* unreadable */

    /* Removing an ancestor fires watches below it with their own path. */
    nevents = 0;
    CHECK(is_ok(call(w->tool, XSW_RM, 0, S("/local/domain/5\0"))));
    collect(&w->d);
    CHECK_EQ(count_events(w->tool, "/local/domain/5", "all"), 1);
    CHECK_EQ(count_events(w->g5, "dev", "mine"), 1);

    nevents = 0;
    CHECK(is_ok(call(w->g5, XSW_UNWATCH, 0, S("dev\0mine\0"))));
    CHECK(is_err(call(w->g5, XSW_UNWATCH, 0, S("dev\0mine\0")), "ENOENT"));
    CHECK(is_ok(call(w->tool, XSW_WRITE, 0, S("/local/domain/5/dev/q\0"))));
    collect(&w->d);
    CHECK_EQ(count_events(w->g5, "dev/q", "mine"), 0);

    CHECK(is_ok(call(w->tool, XSW_RESET_WATCHES, 0, S("\0"))));
    nevents = 0;
    CHECK(is_ok(call(w->tool, XSW_WRITE, 0, S("/local/domain/x\0"))));
    collect(&w->d);
    CHECK_EQ(nevents, 0);
    teardown(w);
}

UNIT_TEST(special_watches_and_domains)
{
    struct world *w = setup();
    CHECK(is_ok(call(w->tool2, XSW_WATCH, 0, S("@introduceDomain\0in\0"))));
    CHECK(is_ok(call(w->tool2, XSW_WATCH, 0, S("@releaseDomain\0out\0"))));
    CHECK(is_ok(call(w->g5, XSW_WATCH, 0, S("@releaseDomain\0spy\0"))));
    nevents = 0;
    collect(&w->d);
    CHECK_EQ(count_events(w->tool2, "@introduceDomain", "in"), 1);
    CHECK_EQ(count_events(w->g5, "@releaseDomain", "spy"), 1);   /* initial: always */

    nevents = 0;
    CHECK(is_ok(call(w->tool, XSW_INTRODUCE, 0, S("7\0001234\0005\0"))));
    struct msg *m = call(w->tool, XSW_IS_DOMAIN_INTRODUCED, 0, S("7\0"));
    CHECK(m->h.len == 2 && strcmp(m->p, "T") == 0);
    m = call(w->tool, XSW_IS_DOMAIN_INTRODUCED, 0, S("8\0"));
    CHECK(strcmp(m->p, "F") == 0);
    CHECK(is_ok(call(w->tool, XSW_INTRODUCE, 0, S("7\0001234\0005\0"))));   /* retry */
    CHECK(is_err(call(w->tool, XSW_INTRODUCE, 0, S("7\0009\0005\0")), "EEXIST"));
    CHECK(is_err(call(w->tool, XSW_INTRODUCE, 0, S("0\0001\0001\0")), "EINVAL"));
    CHECK(is_err(call(w->tool, XSW_INTRODUCE, 0, S("x\0001\0001\0")), "EINVAL"));
    CHECK(is_err(call(w->tool, XSW_INTRODUCE, 0, S("32752\0001\0001\0")), "EINVAL"));
    CHECK(is_ok(call(w->tool, XSW_INTRODUCE, 0, S("8\0001\0001\0"))));
    CHECK(is_ok(call(w->tool, XSW_SET_TARGET, 0, S("8\0007\0"))));
    CHECK(is_err(call(w->tool, XSW_SET_TARGET, 0, S("8\00099\0")), "ENOENT"));
    CHECK(is_ok(call(w->tool, XSW_RESUME, 0, S("7\0"))));
    CHECK(is_err(call(w->tool, XSW_RESUME, 0, S("99\0")), "ENOENT"));
    CHECK(is_ok(call(w->tool, XSW_RELEASE, 0, S("7\0"))));
    CHECK(is_err(call(w->tool, XSW_RELEASE, 0, S("7\0")), "ENOENT"));
    m = call(w->tool, XSW_GET_DOMAIN_PATH, 0, S("7\0"));
    CHECK(m->h.type == XSW_GET_DOMAIN_PATH && strcmp(m->p, "/local/domain/7") == 0);
    CHECK(is_err(call(w->tool, XSW_GET_DOMAIN_PATH, 0, S("70000\0")), "EINVAL"));
    collect(&w->d);
    CHECK_EQ(count_events(w->tool2, "@introduceDomain", "in"), 2);
    CHECK_EQ(count_events(w->tool2, "@releaseDomain", "out"), 1);
    CHECK_EQ(count_events(w->g5, "@releaseDomain", "spy"), 0);   /* n0: not for guests */

    m = call(w->tool, XSW_GET_PERMS, 0, S("@releaseDomain\0"));
    CHECK(m->h.len == 3 && strcmp(m->p, "n0") == 0);
    CHECK(is_ok(call(w->tool, XSW_SET_PERMS, 0, S("@releaseDomain\0n0\0r5\0"))));
    nevents = 0;
    CHECK(is_ok(call(w->tool, XSW_RELEASE, 0, S("8\0"))));
    collect(&w->d);
    CHECK_EQ(count_events(w->g5, "@releaseDomain", "spy"), 1);
    CHECK(is_err(call(w->tool, XSW_READ, 0, S("@releaseDomain\0")), "EINVAL"));
    teardown(w);
}

UNIT_TEST(transactions_over_the_wire)
{
    struct world *w = setup();
    CHECK(is_ok(call(w->tool, XSW_WRITE, 0, S("/tx/n\0" "1"))));
    struct msg *m = call(w->tool, XSW_TRANSACTION_START, 0, S("\0"));
    CHECK(m->h.type == XSW_TRANSACTION_START);
    uint32_t t1 = (uint32_t)strtoul(m->p, NULL, 10);
    CHECK(t1 != 0);
    m = call(w->tool2, XSW_TRANSACTION_START, 0, S("\0"));
    uint32_t t2 = (uint32_t)strtoul(m->p, NULL, 10);

    /* Both read n and write n+1: the second to commit must retry. */
    m = call(w->tool, XSW_READ, t1, S("/tx/n\0"));
    CHECK(m->h.len == 1 && m->p[0] == '1');
    m = call(w->tool2, XSW_READ, t2, S("/tx/n\0"));
    CHECK(is_ok(call(w->tool, XSW_WRITE, t1, S("/tx/n\0" "2"))));
    CHECK(is_ok(call(w->tool2, XSW_WRITE, t2, S("/tx/n\0" "2"))));
    m = call(w->tool2, XSW_READ, 0, S("/tx/n\0"));
    CHECK(m->p[0] == '1');                                  /* not yet visible */
    CHECK(is_ok(call(w->tool, XSW_TRANSACTION_END, t1, S("T\0"))));
    CHECK(is_err(call(w->tool2, XSW_TRANSACTION_END, t2, S("T\0")), "EAGAIN"));
    CHECK(is_err(call(w->tool2, XSW_TRANSACTION_END, t2, S("T\0")), "ENOENT"));  /* gone */
    m = call(w->tool2, XSW_READ, 0, S("/tx/n\0"));
    CHECK(m->p[0] == '2');

    /* Abort discards; bad END argument leaves it open; ids are per connection. */
    m = call(w->tool, XSW_TRANSACTION_START, 0, S("\0"));
    uint32_t t3 = (uint32_t)strtoul(m->p, NULL, 10);
    CHECK(is_ok(call(w->tool, XSW_WRITE, t3, S("/tx/gone\0"))));
    CHECK(is_err(call(w->tool2, XSW_READ, t3 + 1000, S("/tx/n\0")), "ENOENT"));
    CHECK(is_err(call(w->tool, XSW_TRANSACTION_END, t3, S("X\0")), "EINVAL"));
    CHECK(is_err(call(w->tool, XSW_TRANSACTION_START, t3, S("\0")), "EBUSY"));
    CHECK(is_ok(call(w->tool, XSW_TRANSACTION_END, t3, S("F\0"))));
    CHECK(is_err(call(w->tool, XSW_READ, 0, S("/tx/gone\0")), "ENOENT"));

    /* Watches hear committed changes only at commit. */
    CHECK(is_ok(call(w->tool2, XSW_WATCH, 0, S("/tx\0tw\0"))));
    m = call(w->tool, XSW_TRANSACTION_START, 0, S("\0"));
    uint32_t t4 = (uint32_t)strtoul(m->p, NULL, 10);
    nevents = 0;
    collect(&w->d);
    nevents = 0;
    CHECK(is_ok(call(w->tool, XSW_WRITE, t4, S("/tx/later\0" "v"))));
    collect(&w->d);
    CHECK_EQ(count_events(w->tool2, "/tx/later", "tw"), 0);
    CHECK(is_ok(call(w->tool, XSW_TRANSACTION_END, t4, S("T\0"))));
    collect(&w->d);
    CHECK_EQ(count_events(w->tool2, "/tx/later", "tw"), 1);
    teardown(w);
}

UNIT_TEST(guest_limits_over_the_wire)
{
    struct world *w = setup();
    w->d.quota.watches = 3;
    w->d.quota.transactions = 2;
    w->d.quota.nodes = 5;
    char req[64];
    for (int i = 0; i < 3; i++) {
        int n = snprintf(req, sizeof(req), "w%d%ctok", i, 0) + 1;
        CHECK(is_ok(call(w->g5, XSW_WATCH, 0, req, (size_t)n)));
    }
    CHECK(is_err(call(w->g5, XSW_WATCH, 0, S("w9\0tok\0")), "E2BIG"));
    for (int i = 0; i < 4; i++)   /* dom0 is not limited */
        CHECK(is_ok(call(w->tool, XSW_WATCH, 0, req, (size_t)snprintf(req, sizeof(req), "/t%d%ct", i, 0) + 1)));

    CHECK(call(w->g5, XSW_TRANSACTION_START, 0, S("\0"))->h.type == XSW_TRANSACTION_START);
    CHECK(call(w->g5, XSW_TRANSACTION_START, 0, S("\0"))->h.type == XSW_TRANSACTION_START);
    CHECK(is_err(call(w->g5, XSW_TRANSACTION_START, 0, S("\0")), "ENOSPC"));

    int made = 0;
    for (int i = 0; i < 10; i++) {
        int n = snprintf(req, sizeof(req), "n%d", i) + 1;
        struct msg *m = call(w->g5, XSW_WRITE, 0, req, (size_t)n);
        if (is_ok(m))
            made++;
        else
            CHECK(is_err(m, "ENOSPC"));
    }
    /* "n5" made domain 5 the home's owner, so the home is one of its 5. */
    CHECK_EQ(made, 4);

    static char big[3000];
    memcpy(big, "v\0", 2);
    memset(big + 2, 'x', sizeof(big) - 2);
    CHECK(is_err(call(w->g5, XSW_WRITE, 0, big, sizeof(big)), "ENOSPC"));
    CHECK(is_ok(call(w->tool, XSW_WRITE, 0, S("/big\0")))); /* dom0 can write big values */
    big[0] = '/';
    CHECK(is_ok(call(w->tool, XSW_WRITE, 0, big, sizeof(big))));

    /* A guest that never reads cannot make dom0 buffer events forever. */
    w->d.quota.outq_bytes = 1024;
    CHECK(is_ok(call(w->tool, XSW_SET_PERMS, 0, S("/local/domain/6\0n6\0r5\0"))));
    w->d.quota.watches = 100;
    CHECK(is_ok(call(w->g5, XSW_WATCH, 0, S("/local/domain/6\0flood\0"))));
    for (int i = 0; i < 200; i++) {
        int n = snprintf(req, sizeof(req), "/local/domain/6/k%d", i) + 1;
        CHECK(is_ok(call(w->tool, XSW_WRITE, 0, req, (size_t)n)));
    }
    CHECK(xs_buf_pending(&w->g5->out) < 1024 + 200);
    CHECK(w->g5->dropped_events > 0);

    /* dom0's tools get more room, but it is bounded too. */
    CHECK(is_ok(call(w->tool2, XSW_WATCH, 0, S("/local/domain/6\0tool\0"))));
    for (int i = 0; i < 3000; i++) {
        int n = snprintf(req, sizeof(req), "/local/domain/6/k%d", i % 50) + 1;
        CHECK(is_ok(call(w->tool, XSW_WRITE, 0, req, (size_t)n)));
    }
    CHECK(w->tool2->dropped_events > 0);
    CHECK(xs_buf_pending(&w->tool2->out) < 64 * 1024 + 200);
    CHECK(xs_buf_pending(&w->tool2->out) > 1024 + 200);
    teardown(w);
}

UNIT_TEST(malformed_messages_get_errors)
{
    struct world *w = setup();
    CHECK(is_err(call(w->tool, XSW_WATCH_EVENT, 0, S("/a\0b\0")), "ENOSYS"));
    CHECK(is_err(call(w->tool, 77, 0, S("")), "ENOSYS"));
    CHECK(is_err(call(w->tool, XSW_WRITE, 0, S("no-nul-anywhere")), "EINVAL"));
    CHECK(is_err(call(w->tool, XSW_CONTROL, 0, S("frobnicate\0")), "EINVAL"));
    struct msg *m = call(w->tool, XSW_CONTROL, 0, S("quota\0"));
    CHECK(strstr(m->p, "nodes 1000") != NULL);
    CHECK(is_ok(call(w->tool, XSW_CONTROL, 0, S("quota\0nodes\0" "50\0"))));
    CHECK_EQ(w->d.quota.nodes, 50);

    /* Oversized length: the connection is finished, the daemon is not. */
    struct xsw_header h = { XSW_READ, 1, 0, XSW_PAYLOAD_MAX + 1 };
    CHECK(xs_conn_feed(w->g6, (uint8_t *)&h, sizeof(h)) == -1);
    CHECK(w->g6->broken);
    CHECK(is_ok(call(w->g5, XSW_WRITE, 0, S("still\0" "fine"))));
    teardown(w);
}

UNIT_MAIN()
