/*
 * Mica's own description of the xenstore wire protocol (Xen PV ABI).
 *
 * Numbers and layouts are ABI facts (Xen 4.17 docs/misc/xenstore.txt and
 * io/xs_wire.h); guests and Debian's libxenstore depend on every one of
 * them, so none may change.  Shared by xenstored and the toolstack.
 */
#ifndef MICA_XENSTORE_WIRE_H
#define MICA_XENSTORE_WIRE_H

#include <stddef.h>
#include <stdint.h>

/* Message types.  20 was XS_RESTRICT and is gone; 15 and 16 only ever
 * travel from the server to the client. */
enum xsw_type {
    XSW_CONTROL              = 0,
    XSW_DIRECTORY            = 1,
    XSW_READ                 = 2,
    XSW_GET_PERMS            = 3,
    XSW_WATCH                = 4,
    XSW_UNWATCH              = 5,
    XSW_TRANSACTION_START    = 6,
    XSW_TRANSACTION_END      = 7,
    XSW_INTRODUCE            = 8,
    XSW_RELEASE              = 9,
    XSW_GET_DOMAIN_PATH      = 10,
    XSW_WRITE                = 11,
    XSW_MKDIR                = 12,
    XSW_RM                   = 13,
    XSW_SET_PERMS            = 14,
    XSW_WATCH_EVENT          = 15,
    XSW_ERROR                = 16,
    XSW_IS_DOMAIN_INTRODUCED = 17,
    XSW_RESUME               = 18,
    XSW_SET_TARGET           = 19,
    XSW_RESERVED_20          = 20,
    XSW_RESET_WATCHES        = 21,
    XSW_DIRECTORY_PART       = 22,
    XSW_TYPE_COUNT           = 23,
    XSW_INVALID              = 0xffff,
};

/* Every message in either direction: this header, then len payload bytes.
 * Fields are in the host's byte order (both ends share the machine). */
struct xsw_header {
    uint32_t type;
    uint32_t req_id;   /* chosen by the client, echoed in the reply */
    uint32_t tx_id;    /* 0 outside a transaction */
    uint32_t len;
};
_Static_assert(sizeof(struct xsw_header) == 16, "xsd_sockmsg is 16 bytes");

#define XSW_PAYLOAD_MAX   4096u  /* larger in either direction kills the link */
#define XSW_ABS_PATH_MAX  3072u
#define XSW_REL_PATH_MAX  2048u

/* Error replies carry the errno *name*; the table order is part of the
 * ABI (clients map names back through it), new names only at the end. */
#define XSW_ERRNO_NAMES(X) \
    X(EINVAL) X(EACCES) X(EEXIST) X(EISDIR) X(ENOENT) X(ENOMEM) \
    X(ENOSPC) X(EIO) X(ENOTEMPTY) X(ENOSYS) X(EROFS) X(EBUSY)   \
    X(EAGAIN) X(EISCONN) X(E2BIG) X(EPERM)

/* Watch event payload: path NUL token NUL. */
enum { XSW_WATCH_PATH = 0, XSW_WATCH_TOKEN = 1 };

/* Shared ring page between a domain and the store. */
#define XSW_RING_SIZE 1024u
typedef uint32_t xsw_ring_idx;
#define XSW_RING_MASK(idx) ((idx) & (XSW_RING_SIZE - 1))

struct xsw_domain_interface {
    char req[XSW_RING_SIZE];   /* domain -> store */
    char rsp[XSW_RING_SIZE];   /* store -> domain: replies and events */
    xsw_ring_idx req_cons, req_prod;
    xsw_ring_idx rsp_cons, rsp_prod;
    uint32_t server_features;
    uint32_t connection;
    uint32_t error;
};
_Static_assert(sizeof(struct xsw_domain_interface) == 2076, "ring page layout");
_Static_assert(offsetof(struct xsw_domain_interface, req_cons) == 2048, "req_cons");
_Static_assert(offsetof(struct xsw_domain_interface, rsp_prod) == 2060, "rsp_prod");
_Static_assert(offsetof(struct xsw_domain_interface, error) == 2072, "error");

#define XSW_SERVER_FEATURE_RECONNECTION 1u
#define XSW_SERVER_FEATURE_ERROR        2u

#define XSW_CONNECTED  0u
#define XSW_RECONNECT  1u

#define XSW_ERROR_NONE     0u
#define XSW_ERROR_COMM     1u
#define XSW_ERROR_RINGIDX  2u
#define XSW_ERROR_PROTO    3u

/* Domain ids at and above this are special (DOMID_SELF and friends). */
#define XSW_DOMID_FIRST_RESERVED 0x7ff0u

#endif
