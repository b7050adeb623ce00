/*
 * The xenstore nodes of a running PV domain, as xl writes them (Xen 4.17
 * libxl: libxl__domain_make and libxl__build_post; docs/misc/xenstore-
 * paths.pandoc): /local/domain/N owned by dom0 and readable by N, the
 * directories N writes into (control/shutdown, data, device, ...) owned
 * by N, and /vm/UUID.  Written in one transaction, removed again whole.
 */
#ifndef VMCTL_XS_NODES_H
#define VMCTL_XS_NODES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domcfg.h"
#include "xs.h"

struct xs_domain_facts {
    uint32_t domid;
    uint8_t uuid[16];
    uint64_t store_mfn, console_mfn;
    uint32_t store_port, console_port;
};

/* 0, or -errno with a sentence in err. */
int xs_nodes_write(struct mica_xs *xs, const struct domain_config *cfg,
                   const struct xs_domain_facts *f, char *err, size_t errlen);
/* store/ring-ref and console/ring-ref, for nodes written with 0 frames
   (not known yet) by xs_nodes_write; 0 or -errno with a sentence in err. */
int xs_nodes_write_rings(struct mica_xs *xs, const struct xs_domain_facts *f, char *err,
                         size_t errlen);
/* Is REL (relative to the domain's home) one of the nodes xs_nodes_write
   gives the domain, or under one?  A node dom0 writes there inherits that
   owner (xenstored: a privileged writer's new node takes its parent's
   permissions), so it needs no set-perms of its own. */
bool xs_nodes_guest_owned(const char *rel);
/* Removes /local/domain/N and the /vm path it names; missing ones are fine. */
int xs_nodes_remove(struct mica_xs *xs, uint32_t domid);
/* /local/domain/N/name into buf; 0 or -errno. */
int xs_nodes_name(struct mica_xs *xs, uint32_t domid, char *buf, size_t len);

#endif
