/* Framing and request parsing on malformed, oversized and fragmented input. */
#define UNIT_SUITE "xenstored/proto"
#include "unit.h"

#include <errno.h>
#include <stdlib.h>

#include "proto.h"

static size_t frame(uint8_t *out, uint32_t type, uint32_t req, uint32_t tx,
                    const void *payload, uint32_t len)
{
    struct xsw_header h = { type, req, tx, len };
    memcpy(out, &h, sizeof(h));
    memcpy(out + sizeof(h), payload, len);
    return sizeof(h) + len;
}

static int parse(uint32_t type, const void *payload, uint32_t len, struct xs_request *rq)
{
    static uint8_t buf[XSW_PAYLOAD_MAX + 1];
    memcpy(buf, payload, len);
    buf[len] = '\0';
    struct xsw_header h = { type, 1, 0, len };
    return xs_request_parse(&h, buf, rq);
}

UNIT_TEST(reader_whole_and_byte_by_byte)
{
    uint8_t stream[256];
    size_t n = frame(stream, XSW_READ, 7, 0, "/a\0", 3);
    n += frame(stream + n, XSW_WRITE, 8, 0, "/b\0xy", 5);

    struct xs_reader *r = malloc(sizeof(*r));
    xs_reader_init(r);
    size_t used, pos = 0;
    CHECK(xs_reader_push(r, stream, n, &used) == XS_READ_MESSAGE);
    CHECK_EQ(r->hdr.req_id, 7);
    CHECK_EQ(used, 19);
    pos += used;
    CHECK(xs_reader_push(r, stream + pos, n - pos, &used) == XS_READ_MESSAGE);
    CHECK_EQ(r->hdr.req_id, 8);
    CHECK(memcmp(r->payload, "/b\0xy", 5) == 0 && r->payload[5] == '\0');

    /* Same stream one byte at a time: messages complete at the right byte. */
    xs_reader_init(r);
    unsigned messages = 0;
    for (size_t i = 0; i < n; i++) {
        enum xs_read_status st = xs_reader_push(r, stream + i, 1, &used);
        CHECK_EQ(used, 1);
        if (st == XS_READ_MESSAGE) {
            messages++;
            CHECK(i == 18 || i == n - 1);
        }
    }
    CHECK_EQ(messages, 2);
    free(r);
}

UNIT_TEST(reader_oversized_and_empty)
{
    struct xs_reader *r = malloc(sizeof(*r));
    xs_reader_init(r);
    struct xsw_header h = { XSW_WRITE, 1, 0, XSW_PAYLOAD_MAX + 1 };
    size_t used;
    CHECK(xs_reader_push(r, (uint8_t *)&h, sizeof(h), &used) == XS_READ_OVERSIZED);

    xs_reader_init(r);
    h.len = XSW_PAYLOAD_MAX;   /* exactly the limit is allowed */
    CHECK(xs_reader_push(r, (uint8_t *)&h, sizeof(h), &used) == XS_READ_MORE);

    xs_reader_init(r);
    h.len = 0;
    CHECK(xs_reader_push(r, (uint8_t *)&h, sizeof(h), &used) == XS_READ_MESSAGE);
    CHECK(xs_reader_push(r, (uint8_t *)&h, 5, &used) == XS_READ_MORE);   /* truncated header */
    CHECK_EQ(used, 5);
    free(r);
}

UNIT_TEST(parse_argument_shapes)
{
    struct xs_request *rq = malloc(sizeof(*rq));
    CHECK(parse(XSW_READ, "/a\0", 3, rq) == 0);
    CHECK(rq->nargs == 1 && strcmp(rq->args[0], "/a") == 0);
    CHECK(parse(XSW_READ, "/a", 2, rq) == EINVAL);           /* unterminated */
    CHECK(parse(XSW_READ, "", 0, rq) == EINVAL);             /* empty */
    CHECK(parse(XSW_READ, "/a\0/b\0", 6, rq) == EINVAL);     /* stray second string */

    CHECK(parse(XSW_WRITE, "/k\0v\0al", 7, rq) == 0);
    CHECK(rq->value_len == 4 && memcmp(rq->value, "v\0al", 4) == 0);
    CHECK(parse(XSW_WRITE, "/k\0", 3, rq) == 0 && rq->value_len == 0);
    CHECK(parse(XSW_WRITE, "/k", 2, rq) == EINVAL);

    CHECK(parse(XSW_WATCH, "/w\0tok\0", 7, rq) == 0);
    CHECK(rq->nargs == 2 && strcmp(rq->args[1], "tok") == 0);
    CHECK(parse(XSW_WATCH, "/w\0", 3, rq) == EINVAL);
    CHECK(parse(XSW_WATCH, "/w\0tok", 6, rq) == EINVAL);

    CHECK(parse(XSW_SET_PERMS, "/p\0b0\0r3\0", 9, rq) == 0 && rq->nargs == 3);
    CHECK(parse(XSW_SET_PERMS, "/p\0", 3, rq) == EINVAL);
    CHECK(parse(XSW_INTRODUCE, "1\0002\0", 4, rq) == EINVAL);
    CHECK(parse(XSW_INTRODUCE, "1\0002\0003\0", 6, rq) == 0);
    CHECK(parse(XSW_DIRECTORY_PART, "/d\0", 3, rq) == EINVAL);
    CHECK(parse(XSW_TRANSACTION_START, "\0", 1, rq) == 0);
    CHECK(parse(XSW_TRANSACTION_START, "", 0, rq) == 0);
    CHECK(parse(XSW_TRANSACTION_END, "T\0", 2, rq) == 0);

    /* Types a client may not send, and types past the table. */
    CHECK(parse(XSW_WATCH_EVENT, "/a\0t\0", 5, rq) == ENOSYS);
    CHECK(parse(XSW_ERROR, "EINVAL\0", 7, rq) == ENOSYS);
    CHECK(parse(XSW_RESERVED_20, "", 0, rq) == ENOSYS);
    CHECK(parse(XSW_TYPE_COUNT, "", 0, rq) == ENOSYS);
    CHECK(parse(0xffffffffu, "", 0, rq) == ENOSYS);
    free(rq);
}

UNIT_TEST(parse_many_arguments)
{
    /* A payload of nothing but NULs is the most strings one can hold. */
    static uint8_t zeros[XSW_PAYLOAD_MAX];
    struct xs_request *rq = malloc(sizeof(*rq));
    CHECK(parse(XSW_SET_PERMS, zeros, XSW_PAYLOAD_MAX, rq) == 0);
    CHECK_EQ(rq->nargs, XSW_PAYLOAD_MAX);
    free(rq);
}

UNIT_TEST(errno_names_follow_the_abi_table)
{
    const char *expect[] = { "EINVAL", "EACCES", "EEXIST", "EISDIR", "ENOENT", "ENOMEM",
                             "ENOSPC", "EIO", "ENOTEMPTY", "ENOSYS", "EROFS", "EBUSY",
                             "EAGAIN", "EISCONN", "E2BIG", "EPERM" };
    for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
        int e = xs_errno_from_name(expect[i]);
        CHECK(e > 0);
        CHECK(strcmp(xs_errno_name(e), expect[i]) == 0);
    }
    CHECK(strcmp(xs_errno_name(ENOTDIR), "EIO") == 0);   /* not in the table */
    CHECK(xs_errno_from_name("EFOO") == -1);
}

UNIT_TEST(message_building)
{
    struct xs_buf b = {0};
    CHECK(xs_msg_append(&b, XSW_READ, 9, 3, "abc", 3) == 0);
    CHECK_EQ(xs_buf_pending(&b), 19);
    struct xsw_header h;
    memcpy(&h, xs_buf_front(&b), sizeof(h));
    CHECK(h.type == XSW_READ && h.req_id == 9 && h.tx_id == 3 && h.len == 3);
    static char big[XSW_PAYLOAD_MAX + 1];
    CHECK(xs_msg_append(&b, XSW_READ, 1, 0, big, sizeof(big)) == -1);
    CHECK_EQ(xs_buf_pending(&b), 19);
    xs_buf_free(&b);
}

UNIT_MAIN()
