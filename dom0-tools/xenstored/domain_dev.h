/* Whether this dom0 can reach domains' xenstore rings at all. */
#ifndef XS_DOMAIN_DEV_H
#define XS_DOMAIN_DEV_H

#include <stddef.h>

/* Checks devdir (normally /dev/xen) for the event-channel device and a
 * foreign-mapping device.  Returns 0 if present, else -1 with a reason. */
int xs_domain_devices_check(const char *devdir, char *why, size_t whysz);

#endif
