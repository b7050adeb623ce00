/*
 * The xenbus device states: the handshake each front end and back end
 * publish in their "state" node of the store.
 *
 * ABI facts from Xen 4.17 public/io/xenbus.h.  The usual connection:
 * back end Initialising -> InitWait (its features are written); front end
 * Initialising -> Initialised (ring-ref, event-channel written); back end
 * maps the ring -> Connected; front end reads the disk properties ->
 * Connected.  Either side tearing down goes Closing -> Closed.
 * Reconfiguring/Reconfigured exist for devices changed while connected.
 */
#ifndef MICA_PV_XENBUS_H
#define MICA_PV_XENBUS_H

enum xenbus_state {
    XenbusStateUnknown       = 0,
    XenbusStateInitialising  = 1,
    XenbusStateInitWait      = 2,   /* back end: ready for the front end's details */
    XenbusStateInitialised   = 3,   /* front end: details written */
    XenbusStateConnected     = 4,
    XenbusStateClosing       = 5,   /* going down; peer should close */
    XenbusStateClosed        = 6,
    XenbusStateReconfiguring = 7,
    XenbusStateReconfigured  = 8,
};

#endif
