/*
 * Grant table of Mica's PV test kernels' front ends (v1 entries, one
 * frame = 512 references).  References below GNTTAB_FIRST_FREE are left
 * to the toolstack, as Xen reserves them (console, xenstore).
 */
#ifndef MICA_PV_GNTTAB_H
#define MICA_PV_GNTTAB_H

#include "guest.h"
#include <public/grant_table.h>

#define GNTTAB_FIRST_FREE 8u
#define GNTTAB_NR_REFS    512u

/* Sets up and maps our one grant frame; 0 or a hypercall error. */
long gnttab_init(void);

/* Grants our page at va to domid; returns the reference or -1 when all
 * references are in use. */
int gnttab_grant_page(uint16_t domid, const void *va, bool readonly);

/* Ends a grant; false (and the reference stays taken) while the peer
 * still has it mapped. */
bool gnttab_end(unsigned ref);

/* References currently granted. */
unsigned gnttab_in_use(void);

#endif
