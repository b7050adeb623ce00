/*
 * Memory sizes as libvirt writes them: an unsigned number and a unit
 * name (decimal KB/MB/..., binary KiB/MiB/... and their one-letter
 * forms).  Results are KiB, rounded up, which is what the hypervisor
 * allocates in.
 */
#ifndef MICA_DOMCFG_UNITS_H
#define MICA_DOMCFG_UNITS_H

#include <stdbool.h>
#include <stdint.h>

/* The unit names, for messages: "b, bytes, KB, k, KiB, ...". */
extern const char domcfg_unit_list[];

/* Bytes in one unit; false when the name is not a unit. */
bool domcfg_unit_bytes(const char *unit, uint64_t *bytes);

enum domcfg_size_status {
    DOMCFG_SIZE_OK,
    DOMCFG_SIZE_NOT_A_NUMBER,
    DOMCFG_SIZE_TOO_LARGE,
};

/*
 * Parses an xsd:unsignedLong as libxml2 accepts it: digits (leading
 * zeros allowed) with optional surrounding whitespace, no sign.
 */
enum domcfg_size_status domcfg_parse_u64(const char *text, uint64_t *value);

/* value * unit, in KiB rounded up. */
enum domcfg_size_status domcfg_size_to_kib(uint64_t value, uint64_t unit_bytes,
                                           uint64_t *kib);

#endif
