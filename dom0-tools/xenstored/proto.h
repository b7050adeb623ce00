/* Wire framing and request parsing: the only code that looks at raw
 * client bytes.  Kept free of store and socket dependencies so it can be
 * fuzzed on its own. */
#ifndef XS_PROTO_H
#define XS_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "xenstore_wire.h"

/* Reassembles messages from a byte stream that may arrive in pieces. */
struct xs_reader {
    uint8_t hdr_bytes[sizeof(struct xsw_header)];
    size_t hdr_have;
    struct xsw_header hdr;
    size_t payload_have;
    uint8_t payload[XSW_PAYLOAD_MAX + 1];   /* +1: always NUL-terminated */
};

enum xs_read_status {
    XS_READ_MORE,       /* everything consumed, no complete message yet */
    XS_READ_MESSAGE,    /* r->hdr and r->payload hold one message */
    XS_READ_OVERSIZED,  /* the header announced more than XSW_PAYLOAD_MAX */
};

void xs_reader_init(struct xs_reader *r);
/* Consumes bytes until a message completes or input runs out; *used says
 * how many.  After XS_READ_MESSAGE call again with the rest (the message
 * is overwritten then).  After XS_READ_OVERSIZED the stream is unusable. */
enum xs_read_status xs_reader_push(struct xs_reader *r, const uint8_t *data,
                                   size_t len, size_t *used);

/* An all-NUL payload is the most strings a message can carry. */
#define XS_MAX_ARGS XSW_PAYLOAD_MAX

struct xs_request {
    uint32_t type, req_id, tx_id;
    unsigned nargs;
    const char *args[XS_MAX_ARGS];     /* NUL-terminated, inside the payload */
    const uint8_t *value;              /* WRITE only: bytes after the path */
    size_t value_len;
};

/* Checks the payload's shape for its type.  Returns 0, EINVAL (malformed
 * payload) or ENOSYS (type a client may not send).  out's pointers point
 * into payload, which must stay alive and be NUL-terminated at len. */
int xs_request_parse(const struct xsw_header *hdr, const uint8_t *payload,
                     struct xs_request *out);

/* Whether requests of this type ignore tx_id (Xen's documented rule for
 * watches and domain management). */
bool xs_type_ignores_txn(uint32_t type);

const char *xs_type_name(uint32_t type);

/* Errno name for an error reply; any errno outside the ABI table is
 * reported as EIO rather than leaking a name clients cannot map. */
const char *xs_errno_name(int err);
/* Reverse mapping, for tests and clients; -1 if unknown. */
int xs_errno_from_name(const char *name);

/* Appends a complete message.  0 or -1 (out of memory / payload too big). */
int xs_msg_append(struct xs_buf *out, uint32_t type, uint32_t req_id,
                  uint32_t tx_id, const void *payload, size_t len);

#endif
