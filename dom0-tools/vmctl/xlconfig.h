/*
 * A Mica domain definition (docs/domain-xml.md) from the libxl domain
 * configuration that Xen's `xl save` keeps in its file (ms_xl.h), for
 * `vmctl restore` of such a file (docs/state-files.md, "Xen 4.17's
 * files").  What is taken: name, UUID, max_memkb/target_memkb, vCPUs
 * (max and online), kernel/ramdisk/cmdline, on_poweroff/reboot/crash,
 * the credit weight and cap, disks (pdev_path, vdev, raw or qcow2,
 * read-only, cdrom) and vifs (MAC, bridge, ifname).
 */
#ifndef VMCTL_XLCONFIG_H
#define VMCTL_XLCONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "ms_xl.h"

/* The definition as XML text (malloc'd, NUL-terminated, *len octets), or
   NULL with err saying which member Mica cannot express and where. */
char *xlconfig_to_xml(const struct ms_xl_config *c, size_t *len, char *err, size_t errlen);

/* The other way, for vmctl save --xl-format: a definition as libxl's
   domain configuration JSON (what xl save writes and xl restore reads),
   with the running domain's UUID; macs[i] (may be NULL) is the MAC for
   interface i when the definition leaves it to the builder.  NULL only
   when out of memory. */
struct domain_config;
char *xlconfig_json(const struct domain_config *cfg, const uint8_t uuid[16],
                    const uint8_t (*macs)[6], char *err, size_t errlen);

#endif
