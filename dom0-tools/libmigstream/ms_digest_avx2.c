/* The AVX2 copy of ms_digest's XXH3 calls (ms_digest_impl.h); built with
   -mavx2 and called only when the CPU and the kernel offer AVX2. */
#ifndef __AVX2__
#error "ms_digest_avx2.c is built with -mavx2"
#endif
#define MS_DIGEST_SUFFIX avx2
#include "ms_digest_impl.h"
