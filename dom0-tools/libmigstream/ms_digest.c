/* XXH3-64 from Debian's libxxhash-dev, inlined so the tools need no
   shared library in the dom0 image. */
#include <errno.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "ms_digest.h"

int ms_digest_init(struct ms_digest *d)
{
    d->state = XXH3_createState();
    if (!d->state)
        return -ENOMEM;
    ms_digest_reset(d);
    return 0;
}

void ms_digest_reset(struct ms_digest *d)
{
    XXH3_64bits_reset(d->state);
    d->length = 0;
}

void ms_digest_update(struct ms_digest *d, const void *p, size_t n)
{
    XXH3_64bits_update(d->state, p, n);
    d->length += n;
}

uint64_t ms_digest_value(const struct ms_digest *d)
{
    return XXH3_64bits_digest(d->state);
}

void ms_digest_free(struct ms_digest *d)
{
    if (d->state)
        XXH3_freeState(d->state);
    d->state = NULL;
}
