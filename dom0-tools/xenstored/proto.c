#include "proto.h"

#include <errno.h>
#include <string.h>

void xs_reader_init(struct xs_reader *r)
{
    r->hdr_have = 0;
    r->payload_have = 0;
}

enum xs_read_status xs_reader_push(struct xs_reader *r, const uint8_t *data,
                                   size_t len, size_t *used)
{
    size_t pos = 0;
    /* A previous call delivered a message: start the next one. */
    if (r->hdr_have == sizeof(r->hdr_bytes) && r->payload_have == r->hdr.len) {
        r->hdr_have = 0;
        r->payload_have = 0;
    }
    if (r->hdr_have < sizeof(r->hdr_bytes)) {
        size_t take = sizeof(r->hdr_bytes) - r->hdr_have;
        if (take > len)
            take = len;
        memcpy(r->hdr_bytes + r->hdr_have, data, take);
        r->hdr_have += take;
        pos += take;
        if (r->hdr_have < sizeof(r->hdr_bytes)) {
            *used = pos;
            return XS_READ_MORE;
        }
        memcpy(&r->hdr, r->hdr_bytes, sizeof(r->hdr));
        if (r->hdr.len > XSW_PAYLOAD_MAX) {
            *used = pos;
            return XS_READ_OVERSIZED;
        }
    }
    size_t take = r->hdr.len - r->payload_have;
    if (take > len - pos)
        take = len - pos;
    memcpy(r->payload + r->payload_have, data + pos, take);
    r->payload_have += take;
    pos += take;
    *used = pos;
    if (r->payload_have < r->hdr.len)
        return XS_READ_MORE;
    r->payload[r->hdr.len] = '\0';
    return XS_READ_MESSAGE;
}

/* Splits payload into NUL-terminated strings.  Returns the count, or -1
 * if the payload does not end in NUL (a dangling, unterminated string). */
static int split(const uint8_t *p, size_t len, struct xs_request *out)
{
    out->nargs = 0;
    if (len == 0)
        return 0;
    if (p[len - 1] != '\0')
        return -1;
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        if (p[i] == '\0') {
            if (out->nargs == XS_MAX_ARGS)
                return -1;
            out->args[out->nargs++] = (const char *)p + start;
            start = i + 1;
        }
    }
    return (int)out->nargs;
}

bool xs_type_ignores_txn(uint32_t type)
{
    switch (type) {
    case XSW_WATCH: case XSW_UNWATCH: case XSW_INTRODUCE: case XSW_RELEASE:
    case XSW_GET_DOMAIN_PATH: case XSW_IS_DOMAIN_INTRODUCED: case XSW_RESUME:
    case XSW_SET_TARGET: case XSW_RESET_WATCHES: case XSW_CONTROL:
        return true;
    default:
        return false;
    }
}

int xs_request_parse(const struct xsw_header *hdr, const uint8_t *payload,
                     struct xs_request *out)
{
    out->type = hdr->type;
    out->req_id = hdr->req_id;
    out->tx_id = hdr->tx_id;
    out->nargs = 0;
    out->value = NULL;
    out->value_len = 0;
    if (hdr->len > XSW_PAYLOAD_MAX)
        return EINVAL;

    size_t len = hdr->len;
    int n;
    switch (hdr->type) {
    case XSW_READ: case XSW_DIRECTORY: case XSW_GET_PERMS: case XSW_MKDIR:
    case XSW_RM: case XSW_GET_DOMAIN_PATH: case XSW_IS_DOMAIN_INTRODUCED:
    case XSW_RELEASE: case XSW_RESUME: case XSW_TRANSACTION_END:
        /* Exactly one string: stray extra bytes mean a confused client. */
        n = split(payload, len, out);
        return n == 1 ? 0 : EINVAL;

    case XSW_WRITE: {
        const uint8_t *nul = memchr(payload, '\0', len);
        if (!nul)
            return EINVAL;
        out->args[0] = (const char *)payload;
        out->nargs = 1;
        out->value = nul + 1;
        out->value_len = len - (size_t)(nul + 1 - payload);
        return 0;
    }

    case XSW_WATCH: case XSW_UNWATCH:
        /* path, token, then optional reserved strings. */
        n = split(payload, len, out);
        return n >= 2 ? 0 : EINVAL;

    case XSW_SET_PERMS:
        n = split(payload, len, out);
        return n >= 2 ? 0 : EINVAL;

    case XSW_DIRECTORY_PART: case XSW_SET_TARGET:
        n = split(payload, len, out);
        return n == 2 ? 0 : EINVAL;

    case XSW_INTRODUCE:
        n = split(payload, len, out);
        return n >= 3 ? 0 : EINVAL;

    case XSW_CONTROL:
        n = split(payload, len, out);
        return n >= 1 ? 0 : EINVAL;

    case XSW_TRANSACTION_START: case XSW_RESET_WATCHES:
        /* Clients send one empty string; the content carries nothing. */
        n = split(payload, len, out);
        return n >= 0 ? 0 : EINVAL;

    default:
        return ENOSYS;
    }
}

static const char *const type_names[XSW_TYPE_COUNT] = {
    [XSW_CONTROL] = "CONTROL", [XSW_DIRECTORY] = "DIRECTORY", [XSW_READ] = "READ",
    [XSW_GET_PERMS] = "GET_PERMS", [XSW_WATCH] = "WATCH", [XSW_UNWATCH] = "UNWATCH",
    [XSW_TRANSACTION_START] = "TRANSACTION_START",
    [XSW_TRANSACTION_END] = "TRANSACTION_END", [XSW_INTRODUCE] = "INTRODUCE",
    [XSW_RELEASE] = "RELEASE", [XSW_GET_DOMAIN_PATH] = "GET_DOMAIN_PATH",
    [XSW_WRITE] = "WRITE", [XSW_MKDIR] = "MKDIR", [XSW_RM] = "RM",
    [XSW_SET_PERMS] = "SET_PERMS", [XSW_WATCH_EVENT] = "WATCH_EVENT",
    [XSW_ERROR] = "ERROR", [XSW_IS_DOMAIN_INTRODUCED] = "IS_DOMAIN_INTRODUCED",
    [XSW_RESUME] = "RESUME", [XSW_SET_TARGET] = "SET_TARGET",
    [XSW_RESERVED_20] = "RESERVED_20", [XSW_RESET_WATCHES] = "RESET_WATCHES",
    [XSW_DIRECTORY_PART] = "DIRECTORY_PART",
};

const char *xs_type_name(uint32_t type)
{
    return type < XSW_TYPE_COUNT ? type_names[type] : "UNKNOWN";
}

struct errno_name {
    int err;
    const char *name;
};

#define XS_ERRNO_ENTRY(e) { e, #e },
static const struct errno_name errno_names[] = { XSW_ERRNO_NAMES(XS_ERRNO_ENTRY) };

const char *xs_errno_name(int err)
{
    for (size_t i = 0; i < sizeof(errno_names) / sizeof(errno_names[0]); i++)
        if (errno_names[i].err == err)
            return errno_names[i].name;
    return "EIO";
}

int xs_errno_from_name(const char *name)
{
    for (size_t i = 0; i < sizeof(errno_names) / sizeof(errno_names[0]); i++)
        if (strcmp(errno_names[i].name, name) == 0)
            return errno_names[i].err;
    return -1;
}

int xs_msg_append(struct xs_buf *out, uint32_t type, uint32_t req_id,
                  uint32_t tx_id, const void *payload, size_t len)
{
    if (len > XSW_PAYLOAD_MAX)
        return -1;
    /* One append, so a failure leaves no half message in the queue. */
    uint8_t msg[sizeof(struct xsw_header) + XSW_PAYLOAD_MAX];
    struct xsw_header h = { .type = type, .req_id = req_id, .tx_id = tx_id,
                            .len = (uint32_t)len };
    memcpy(msg, &h, sizeof(h));
    if (len)
        memcpy(msg + sizeof(h), payload, len);
    return xs_buf_append(out, msg, sizeof(h) + len);
}
