/* Growable byte buffer with a consumable front, for socket and ring
 * output queues and for building replies. */
#ifndef XS_BUF_H
#define XS_BUF_H

#include <stddef.h>
#include <stdint.h>

struct xs_buf {
    uint8_t *data;
    size_t head;   /* bytes before head were already consumed */
    size_t len;    /* end of valid data (absolute offset) */
    size_t cap;
};

/* 0 on success, -1 if memory ran out (buffer unchanged). */
int xs_buf_append(struct xs_buf *b, const void *p, size_t n);
size_t xs_buf_pending(const struct xs_buf *b);
const uint8_t *xs_buf_front(const struct xs_buf *b);
void xs_buf_consume(struct xs_buf *b, size_t n);
void xs_buf_clear(struct xs_buf *b);
void xs_buf_free(struct xs_buf *b);

#endif
