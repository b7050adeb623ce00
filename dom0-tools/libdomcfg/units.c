#include "units.h"

#include <string.h>

struct unit { const char *name; uint64_t bytes; };

#define KIB 1024ull
static const struct unit units[] = {
    { "b", 1 },                       { "bytes", 1 },
    { "KB", 1000ull },                { "k", KIB },           { "KiB", KIB },
    { "MB", 1000000ull },             { "M", KIB * KIB },     { "MiB", KIB * KIB },
    { "GB", 1000000000ull },          { "G", KIB * KIB * KIB }, { "GiB", KIB * KIB * KIB },
    { "TB", 1000000000000ull },       { "T", KIB * KIB * KIB * KIB },
    { "TiB", KIB * KIB * KIB * KIB },
    { "PB", 1000000000000000ull },    { "P", KIB * KIB * KIB * KIB * KIB },
    { "PiB", KIB * KIB * KIB * KIB * KIB },
    { "EB", 1000000000000000000ull }, { "E", KIB * KIB * KIB * KIB * KIB * KIB },
    { "EiB", KIB * KIB * KIB * KIB * KIB * KIB },
};

const char domcfg_unit_list[] =
    "KiB, MiB, GiB, TiB (or k, M, G, T), b, KB, MB, GB, TB, PB, PiB, EB, EiB";

bool domcfg_unit_bytes(const char *unit, uint64_t *bytes)
{
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(unit, units[i].name) == 0) {
            *bytes = units[i].bytes;
            return true;
        }
    }
    return false;
}

static bool is_xml_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

enum domcfg_size_status domcfg_parse_u64(const char *text, uint64_t *value)
{
    const char *p = text;
    while (is_xml_space(*p))
        p++;
    /* XML Schema allows a sign here, libxml2 (the schema's validator)
       does not; agreeing with the validator keeps one notion of valid. */
    if (*p < '0' || *p > '9')
        return DOMCFG_SIZE_NOT_A_NUMBER;
    uint64_t v = 0;
    bool overflow = false;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (__builtin_mul_overflow(v, 10, &v) ||
            __builtin_add_overflow(v, (uint64_t)(*p - '0'), &v))
            overflow = true;
    }
    while (is_xml_space(*p))
        p++;
    if (*p)
        return DOMCFG_SIZE_NOT_A_NUMBER;
    if (overflow)
        return DOMCFG_SIZE_TOO_LARGE;
    *value = v;
    return DOMCFG_SIZE_OK;
}

enum domcfg_size_status domcfg_size_to_kib(uint64_t value, uint64_t unit_bytes,
                                           uint64_t *kib)
{
    if (unit_bytes % KIB == 0) {
        if (__builtin_mul_overflow(value, unit_bytes / KIB, kib))
            return DOMCFG_SIZE_TOO_LARGE;
        return DOMCFG_SIZE_OK;
    }
    /* Decimal and byte units: exact product in 128 bits, then round up. */
    unsigned __int128 bytes = (unsigned __int128)value * unit_bytes;
    unsigned __int128 k = (bytes + KIB - 1) / KIB;
    if (k > UINT64_MAX)
        return DOMCFG_SIZE_TOO_LARGE;
    *kib = (uint64_t)k;
    return DOMCFG_SIZE_OK;
}
