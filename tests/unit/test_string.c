/*
 * Tests of Mica's own memcpy, memmove and memset (hypervisor/common/
 * string.c), compiled here under other names so they do not replace the
 * C library's: every length 0..80 at every alignment 0..7, and for
 * memmove every overlap distance in both directions, against a byte-by-
 * byte reference.
 */
#define UNIT_SUITE "string"
#include "unit.h"

#include <stdint.h>
#include <stdlib.h>
#include <mica/lib.h>     /* first, under the C library's names */

#undef strlcpy
#define memcpy  mica_memcpy
#define memmove mica_memmove
#define memset  mica_memset
#define memcmp  mica_memcmp
#define strlen  mica_strlen
#define strnlen mica_strnlen
#define strcmp  mica_strcmp
#define strncmp mica_strncmp
#define strchr  mica_strchr
#define strlcpy mica_strlcpy
#include "../../hypervisor/common/string.c"
#undef memcpy
#undef memmove
#undef memset
#undef memcmp

#define AREA 256

static void fill(uint8_t *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 37 + seed * 11 + 1);
}

UNIT_TEST(memcpy_lengths_and_alignments)
{
    uint8_t src[AREA], dst[AREA], want[AREA];

    for (size_t so = 0; so < 8; so++)
        for (size_t d_o = 0; d_o < 8; d_o++)
            for (size_t n = 0; n <= 80; n++) {
                fill(src, AREA, 1);
                fill(dst, AREA, 2);
                memcpy(want, dst, AREA);
                for (size_t i = 0; i < n; i++)
                    want[d_o + i] = src[so + i];
                CHECK(mica_memcpy(dst + d_o, src + so, n) == dst + d_o);
                CHECK(memcmp(dst, want, AREA) == 0);
            }
}

UNIT_TEST(memset_lengths_and_alignments)
{
    uint8_t dst[AREA], want[AREA];

    for (size_t d_o = 0; d_o < 8; d_o++)
        for (size_t n = 0; n <= 80; n++) {
            fill(dst, AREA, 3);
            memcpy(want, dst, AREA);
            for (size_t i = 0; i < n; i++)
                want[d_o + i] = 0xc5;
            CHECK(mica_memset(dst + d_o, 0x1c5, n) == dst + d_o);   /* only the low byte counts */
            CHECK(memcmp(dst, want, AREA) == 0);
        }
}

UNIT_TEST(memmove_every_overlap)
{
    uint8_t buf[AREA], want[AREA], tmp[AREA];

    for (size_t from = 0; from < 24; from++)
        for (size_t to = 0; to < 24; to++)
            for (size_t n = 0; n <= 80; n++) {
                fill(buf, AREA, 4);
                memcpy(want, buf, AREA);
                memcpy(tmp, buf + from, n);
                memcpy(want + to, tmp, n);
                CHECK(mica_memmove(buf + to, buf + from, n) == buf + to);
                CHECK(memcmp(buf, want, AREA) == 0);
            }
}

UNIT_TEST(large_copy_and_zero)
{
    size_t n = (1u << 20) + 13;
    uint8_t *a = malloc(n), *b = malloc(n);

    CHECK(a && b);
    fill(a, n, 5);
    mica_memcpy(b, a, n);
    CHECK(memcmp(a, b, n) == 0);
    mica_memset(b + 3, 0, n - 3);
    for (size_t i = 3; i < n; i++)
        if (b[i]) {
            free(a);
            free(b);
            CHECK(!"byte left non-zero");
        }
    free(a);
    free(b);
}

UNIT_MAIN()
