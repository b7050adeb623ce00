/* Mica's version, shown in the banner and (later) by xen_version. */
#ifndef MICA_VERSION_H
#define MICA_VERSION_H

#define MICA_VERSION_MAJOR 0
#define MICA_VERSION_MINOR 1
#define MICA_VERSION_STRING "0.1-dev"

#endif
