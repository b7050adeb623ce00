/* XXH3-64 from Debian's libxxhash-dev, inlined so the tools need no
   shared library in the dom0 image; the AVX2 copy (ms_digest_avx2.c) when
   the CPU and the kernel offer AVX2, else the baseline one.  Both give
   the same value. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#define MS_DIGEST_SUFFIX base
#include "ms_digest_impl.h"

#include "ms_digest.h"

void ms_digest_reset_avx2(void *state);
void ms_digest_update_avx2(void *state, const void *p, size_t n);
uint64_t ms_digest_value_avx2(const void *state);
void ms_digest_128_avx2(const void *p, size_t n, uint64_t out[2]);

static struct {
    bool chosen;
    void (*reset)(void *);
    void (*update)(void *, const void *, size_t);
    uint64_t (*value)(const void *);
    void (*h128)(const void *, size_t, uint64_t[2]);
} impl;

/* MS_DIGEST_BASELINE in the environment keeps the baseline code (tests
   compare the two). */
static void choose(void)
{
    if (impl.chosen)
        return;
    const char *e = getenv("MS_DIGEST_BASELINE");
    bool avx2 = !(e && *e && *e != '0');
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    avx2 = avx2 && __builtin_cpu_supports("avx2");
#else
    avx2 = false;
#endif
    impl.reset = avx2 ? ms_digest_reset_avx2 : ms_digest_reset_base;
    impl.update = avx2 ? ms_digest_update_avx2 : ms_digest_update_base;
    impl.value = avx2 ? ms_digest_value_avx2 : ms_digest_value_base;
    impl.h128 = avx2 ? ms_digest_128_avx2 : ms_digest_128_base;
    impl.chosen = true;
}

const char *ms_digest_impl_name(void)
{
    choose();
    return impl.update == ms_digest_update_avx2 ? "avx2" : "baseline";
}

int ms_digest_init(struct ms_digest *d)
{
    choose();
    d->state = XXH3_createState();
    if (!d->state)
        return -ENOMEM;
    ms_digest_reset(d);
    return 0;
}

void ms_digest_reset(struct ms_digest *d)
{
    impl.reset(d->state);
    d->length = 0;
}

void ms_digest_update(struct ms_digest *d, const void *p, size_t n)
{
    impl.update(d->state, p, n);
    d->length += n;
}

uint64_t ms_digest_value(const struct ms_digest *d)
{
    return impl.value(d->state);
}

void ms_digest_128(const void *p, size_t n, uint64_t out[2])
{
    choose();
    impl.h128(p, n, out);
}

void ms_digest_free(struct ms_digest *d)
{
    if (d->state)
        XXH3_freeState(d->state);
    d->state = NULL;
}
