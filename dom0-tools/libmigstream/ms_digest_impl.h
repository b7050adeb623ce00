/*
 * The XXH3-64 calls behind ms_digest, compiled once per instruction set:
 * ms_digest.c includes this for the baseline (SSE2 on x86-64) and
 * ms_digest_avx2.c for AVX2 (built with -mavx2).  XXH3 gives the same
 * value whichever vector code computes it; AVX2 takes half the
 * instructions per octet, which is most of what hashing a state file
 * costs (docs/benchmarks.md, "Save and restore").  MS_DIGEST_SUFFIX names
 * the copy.
 */
#include <stddef.h>
#include <stdint.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#define MS_DIGEST_CAT2(a, b) a##b
#define MS_DIGEST_CAT(a, b) MS_DIGEST_CAT2(a, b)
#define MS_DIGEST_FN(name) MS_DIGEST_CAT(name, MS_DIGEST_SUFFIX)

void MS_DIGEST_FN(ms_digest_reset_)(void *state);
void MS_DIGEST_FN(ms_digest_update_)(void *state, const void *p, size_t n);
uint64_t MS_DIGEST_FN(ms_digest_value_)(const void *state);
void MS_DIGEST_FN(ms_digest_128_)(const void *p, size_t n, uint64_t out[2]);

void MS_DIGEST_FN(ms_digest_reset_)(void *state)
{
    XXH3_64bits_reset(state);
}

void MS_DIGEST_FN(ms_digest_update_)(void *state, const void *p, size_t n)
{
    XXH3_64bits_update(state, p, n);
}

uint64_t MS_DIGEST_FN(ms_digest_value_)(const void *state)
{
    return XXH3_64bits_digest(state);
}

void MS_DIGEST_FN(ms_digest_128_)(const void *p, size_t n, uint64_t out[2])
{
    XXH128_hash_t h = XXH3_128bits(p, n);
    out[0] = h.low64;
    out[1] = h.high64;
}
