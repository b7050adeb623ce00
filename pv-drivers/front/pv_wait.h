/*
 * Waiting for a peer in Mica's PV test kernels: their front ends run with
 * event upcalls masked and sleep in SCHEDOP_poll on their ports, so the
 * only state is each port's pending bit (cleared before every look at the
 * shared ring, so an event that arrives after the look wakes the poll).
 * Every wait has a deadline in system time: a back end that never answers
 * is reported, not waited for forever.
 */
#ifndef MICA_PV_WAIT_H
#define MICA_PV_WAIT_H

#include "guest.h"

/* Seconds -> a deadline in system time. */
uint64_t pv_deadline_s(unsigned seconds);
bool pv_deadline_passed(uint64_t deadline);

/* Clears port's pending bit: call before looking at what it signals. */
void pv_port_ack(evtchn_port_t port);

/* An event channel for a peer domain to bind to (EVTCHNOP_alloc_unbound). */
long pv_port_alloc(domid_t remote, evtchn_port_t *port);

/* Sleeps until port is pending, at most ~100 ms and never past deadline. */
void pv_port_wait(evtchn_port_t port, uint64_t deadline);

#endif
