#include "buf.h"

#include <stdlib.h>
#include <string.h>

int xs_buf_append(struct xs_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return 0;
    if (b->len + n > b->cap) {
        /* Reclaim consumed space first so a steadily drained queue does
         * not grow without bound. */
        if (b->head > 0) {
            memmove(b->data, b->data + b->head, b->len - b->head);
            b->len -= b->head;
            b->head = 0;
        }
        if (b->len + n > b->cap) {
            size_t cap = b->cap ? b->cap : 256;
            while (cap < b->len + n)
                cap *= 2;
            uint8_t *d = realloc(b->data, cap);
            if (!d)
                return -1;
            b->data = d;
            b->cap = cap;
        }
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

size_t xs_buf_pending(const struct xs_buf *b)
{
    return b->len - b->head;
}

const uint8_t *xs_buf_front(const struct xs_buf *b)
{
    return b->data + b->head;
}

void xs_buf_consume(struct xs_buf *b, size_t n)
{
    if (n > b->len - b->head)
        n = b->len - b->head;
    b->head += n;
    if (b->head == b->len)
        b->head = b->len = 0;
}

void xs_buf_clear(struct xs_buf *b)
{
    b->head = b->len = 0;
}

void xs_buf_free(struct xs_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->head = b->len = b->cap = 0;
}
