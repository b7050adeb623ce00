/*
 * Mica guest ABI: sched_op (hypercall 29) sub-ops and arguments.
 */
#ifndef MICA_PUBLIC_SCHED_H
#define MICA_PUBLIC_SCHED_H

#include <public/event_channel.h>

#define SCHEDOP_yield            0   /* no argument */
#define SCHEDOP_block            1   /* enables events, sleeps until one */
#define SCHEDOP_shutdown         2   /* struct sched_shutdown */
#define SCHEDOP_poll             3   /* struct sched_poll */
#define SCHEDOP_remote_shutdown  4   /* struct sched_remote_shutdown */
#define SCHEDOP_shutdown_code    5   /* struct sched_shutdown: record only */
#define SCHEDOP_watchdog         6   /* struct sched_watchdog */
#define SCHEDOP_pin_override     7   /* struct sched_pin_override */

/* Shutdown reasons. */
#define SHUTDOWN_poweroff    0
#define SHUTDOWN_reboot      1
#define SHUTDOWN_suspend     2
#define SHUTDOWN_crash       3
#define SHUTDOWN_watchdog    4
#define SHUTDOWN_soft_reset  5
#define SHUTDOWN_MAX         5

struct sched_shutdown {
    uint32_t reason;             /* SHUTDOWN_* */
};
XEN_ABI_SIZE(struct sched_shutdown, 4);
XEN_ABI_OFFSET(struct sched_shutdown, reason, 0);

/* Sleep until one of the listed ports is pending or the absolute
 * system-time deadline (ns, 0 = none) passes. */
struct sched_poll {
    xen_guest_handle_t ports;    /* VA of evtchn_port_t[nr_ports] */
    uint32_t nr_ports;
    uint32_t _pad;
    uint64_t timeout;
};
XEN_ABI_SIZE(struct sched_poll, 24);
XEN_ABI_OFFSET(struct sched_poll, ports, 0);
XEN_ABI_OFFSET(struct sched_poll, nr_ports, 8);
MICA_ABI_OFFSET(struct sched_poll, _pad, 12);
XEN_ABI_OFFSET(struct sched_poll, timeout, 16);

struct sched_remote_shutdown {
    domid_t  domain_id;
    uint16_t _pad;
    uint32_t reason;             /* SHUTDOWN_* */
};
XEN_ABI_SIZE(struct sched_remote_shutdown, 8);
XEN_ABI_OFFSET(struct sched_remote_shutdown, domain_id, 0);
MICA_ABI_OFFSET(struct sched_remote_shutdown, _pad, 2);
XEN_ABI_OFFSET(struct sched_remote_shutdown, reason, 4);

struct sched_watchdog {
    uint32_t id;                 /* 0 = new watchdog */
    uint32_t timeout;            /* seconds; 0 = destroy */
};
XEN_ABI_SIZE(struct sched_watchdog, 8);
XEN_ABI_OFFSET(struct sched_watchdog, id, 0);
XEN_ABI_OFFSET(struct sched_watchdog, timeout, 4);

struct sched_pin_override {
    int32_t pcpu;                /* -1 = end the override */
};
XEN_ABI_SIZE(struct sched_pin_override, 4);
XEN_ABI_OFFSET(struct sched_pin_override, pcpu, 0);

#endif /* MICA_PUBLIC_SCHED_H */
