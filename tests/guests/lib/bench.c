/*
 * What the benchmark kernels (tests/guests/bench/) share: each reports
 * the best of several batches, the run least disturbed by the host.
 */
#include "guest.h"

uint64_t best_of(unsigned batches, uint64_t (*batch)(void))
{
    uint64_t best = ~0UL;

    for (unsigned i = 0; i < batches; i++) {
        uint64_t c = batch();
        if (c < best)
            best = c;
    }
    return best;
}
