#include "domain_dev.h"

#include <stdio.h>
#include <sys/stat.h>

static int exists(const char *dir, const char *name)
{
    char path[4096];
    struct stat st;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return stat(path, &st) == 0;
}

int xs_domain_devices_check(const char *devdir, char *why, size_t whysz)
{
    if (!exists(devdir, "evtchn")) {
        snprintf(why, whysz,
                 "%s/evtchn is missing: this kernel has no event-channel device, "
                 "so domains cannot signal xenstored", devdir);
        return -1;
    }
    /* Mica has no grant tables yet: the page is mapped by MFN via privcmd. */
    if (!exists(devdir, "privcmd")) {
        snprintf(why, whysz,
                 "%s/privcmd is missing: xenstored cannot map domains' ring pages",
                 devdir);
        return -1;
    }
    return 0;
}
