/*
 * The running XXH3-64 digest of a state file's checksum spans, shared by
 * the writer and the reader so both hash the same octets the same way.
 */
#ifndef MICA_MS_DIGEST_H
#define MICA_MS_DIGEST_H

#include <stddef.h>
#include <stdint.h>

struct ms_digest {
    void *state;                     /* XXH3_state_t, opaque here */
    uint64_t length;                 /* octets hashed since the last reset */
};

int ms_digest_init(struct ms_digest *d);        /* 0 or -ENOMEM */
void ms_digest_reset(struct ms_digest *d);
void ms_digest_update(struct ms_digest *d, const void *p, size_t n);
uint64_t ms_digest_value(const struct ms_digest *d);
void ms_digest_free(struct ms_digest *d);
/* XXH3-128 of n octets in one call (a page's contents: whether a page
   sent before is unchanged, vmctl migrate). */
void ms_digest_128(const void *p, size_t n, uint64_t out[2]);
/* "avx2" or "baseline": which XXH3 code this process hashes with. */
const char *ms_digest_impl_name(void);

#endif
