/*
 * The hypervisor access layer: everything vmctl asks of the running
 * Mica hypervisor goes through these calls, so that the privcmd/domctl
 * implementation plugs in here and nowhere else.
 *
 * hv_open() reports why the hypervisor cannot be reached, and callers
 * stop there before touching any state.  Each operation returns HV_OK or
 * an hv_status with a sentence in the handle's error buffer.
 */
#ifndef VMCTL_HV_H
#define VMCTL_HV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domcfg.h"

enum hv_status {
    HV_OK = 0,
    HV_UNREACHABLE,   /* no hypervisor interface on this machine */
    HV_NO_DOMAIN,     /* no running domain by that name or id */
    HV_FAILED,        /* the hypervisor refused or the call failed */
    HV_NO_PVCONTROL,  /* the guest has not said it answers control/shutdown */
};

/* State flags as xl shows them, in its column order "rbpscd". */
enum hv_domain_state {
    HV_STATE_RUNNING = 1u << 0,
    HV_STATE_BLOCKED = 1u << 1,
    HV_STATE_PAUSED = 1u << 2,
    HV_STATE_SHUTDOWN = 1u << 3,
    HV_STATE_CRASHED = 1u << 4,
    HV_STATE_DYING = 1u << 5,
};

/* One domain as getdomaininfo shows it when listed. */
struct hv_domain {
    uint32_t domid;
    char name[DOMCFG_NAME_MAX + 1];
    uint8_t uuid[16];
    uint64_t memory_kib;        /* tot_pages */
    uint64_t max_memory_kib;    /* max_pages */
    unsigned vcpus;             /* online */
    unsigned max_vcpu_id;
    unsigned state;             /* enum hv_domain_state bits */
    uint64_t cpu_ns;
};

enum hv_shutdown_kind { HV_SHUTDOWN_POWEROFF, HV_SHUTDOWN_REBOOT };

/* Why a domain shut down: Xen's SHUTDOWN_* codes (public/sched.h). */
enum hv_shutdown_reason {
    HV_REASON_POWEROFF = 0,
    HV_REASON_REBOOT = 1,
    HV_REASON_SUSPEND = 2,
    HV_REASON_CRASH = 3,
    HV_REASON_WATCHDOG = 4,
    HV_REASON_SOFT_RESET = 5,
};
const char *hv_reason_name(unsigned reason);

/* One domain's life state, from getdomaininfo. */
struct hv_life {
    bool shutdown;          /* shut down (reason says why), not yet destroyed */
    bool dying;             /* destroyed; waiting for dom0's daemons to let go */
    unsigned reason;        /* enum hv_shutdown_reason when shutdown */
};

struct hv;

/* Connects to the hypervisor.  On failure *out is NULL and err holds a
   sentence such as "/dev/xen/privcmd does not exist (...)". */
enum hv_status hv_open(struct hv **out, char *err, size_t err_len);
void hv_close(struct hv *hv);

/* The last error as a sentence. */
const char *hv_error(const struct hv *hv);

/* Running domains; free *list with free(). */
enum hv_status hv_list(struct hv *hv, struct hv_domain **list, size_t *count);

/* Whether a running domain has this name (false if listing fails). */
bool hv_name_running(struct hv *hv, const char *name);

/* Builds and starts a domain with its disks and interfaces attached
   (devices.h); on failure nothing of it remains.  Problems with a device
   are printed as "ORIGIN:LINE: sentence", ORIGIN the definition's file as
   set by hv_set_origin (default: "the definition of NAME"). */
void hv_set_origin(struct hv *hv, const char *file);
enum hv_status hv_create(struct hv *hv, const struct domain_config *cfg, uint32_t *domid);

/* Shuts the domain down from outside at once (SCHEDOP_remote_shutdown),
   as if the guest had asked for it; the guest gets no say. */
enum hv_status hv_shutdown(struct hv *hv, uint32_t domid, enum hv_shutdown_kind kind);
/* Asks the guest through xenstore (control/shutdown = poweroff or reboot),
   which a Linux guest's xenbus driver acts on by shutting down cleanly.
   HV_NO_PVCONTROL when the guest has not written control/feature-poweroff
   (or -reboot) = 1, i.e. nothing in it listens. */
enum hv_status hv_request_shutdown(struct hv *hv, uint32_t domid, enum hv_shutdown_kind kind);
/* HV_OK with *life filled, HV_NO_DOMAIN when the domain is gone. */
enum hv_status hv_life(struct hv *hv, uint32_t domid, struct hv_life *life);
/* Watches xenstored's @releaseDomain (fired when any domain shuts down or
   goes), then hv_wait_release() sleeps until it fires or timeout_ms
   passes (-1: no limit).  HV_OK either way; HV_FAILED if xenstored went. */
enum hv_status hv_watch_release(struct hv *hv);
enum hv_status hv_wait_release(struct hv *hv, int timeout_ms);

/* Credit scheduler weight and cap (percent of one CPU, 0 = no cap). */
enum hv_status hv_sched_get(struct hv *hv, uint32_t domid, unsigned *weight, unsigned *cap);
/* weight 0 / cap HV_SCHED_KEEP leave that one unchanged. */
#define HV_SCHED_KEEP 0xffffu
enum hv_status hv_sched_set(struct hv *hv, uint32_t domid, unsigned weight, unsigned cap);
/* Detaches the domain's devices (devices.h; a running guest gets a moment
   to close them), releases it from xenstored, removes its nodes, destroys it. */
enum hv_status hv_destroy(struct hv *hv, uint32_t domid);

/* Hot-plug on a running domain (vmctl attach-disk, detach-disk,
   attach-interface, detach-interface); see devices.h. */
enum hv_status hv_attach_disk(struct hv *hv, uint32_t domid, const struct domcfg_disk *disk);
enum hv_status hv_detach_disk(struct hv *hv, uint32_t domid, const char *target);
/* *mac is filled in when the nic has none. */
enum hv_status hv_attach_nic(struct hv *hv, uint32_t domid, struct domcfg_nic *nic);
enum hv_status hv_detach_nic(struct hv *hv, uint32_t domid, const char *mac);
enum hv_status hv_pause(struct hv *hv, uint32_t domid);
enum hv_status hv_unpause(struct hv *hv, uint32_t domid);

/* Connects this terminal to the domain's console (through micaconsoled)
   until the user leaves with Ctrl-] or the domain goes. */
enum hv_status hv_console(struct hv *hv, uint32_t domid);

/* physinfo: the host's CPUs and memory. */
struct hv_host {
    uint32_t nr_cpus;       /* online */
    uint32_t max_cpu_id;    /* CPU numbers go from 0 to this */
    uint32_t cpu_khz;
    uint64_t total_pages, free_pages;
};
enum hv_status hv_host_info(struct hv *hv, struct hv_host *out);

/* One vCPU, as xl vcpu-list shows it (getvcpuinfo, getvcpuaffinity). */
struct hv_vcpu {
    unsigned id;
    bool online, blocked, running;
    unsigned cpu;           /* where it runs or last ran */
    double cpu_seconds;
    struct domcfg_cpuset hard, soft;
};
/* Every vCPU of a running domain, 0 to its maximum; free *list. */
enum hv_status hv_vcpu_list(struct hv *hv, uint32_t domid, struct hv_vcpu **list,
                            size_t *count);
/* The number of vCPUs the domain was created with (its maximum). */
enum hv_status hv_vcpu_count(struct hv *hv, uint32_t domid, unsigned *count);
/* Sets vCPU vcpu's hard affinity (XEN_DOMCTL_setvcpuaffinity); *effective
   (may be NULL) gets the CPUs Mica will use.  The caller checks the CPUs
   exist; Mica refuses a set without an online CPU, and says why in its log. */
enum hv_status hv_vcpu_pin(struct hv *hv, uint32_t domid, unsigned vcpu,
                           const struct domcfg_cpuset *cpus, struct domcfg_cpuset *effective);

/* A Mica PV domain has at most this many vCPUs (Xen's legacy limit,
   which its shared_info holds; createdomain refuses more). */
#define HV_MAX_VCPUS 32

/* A running domain's memory and vCPUs (vmctl setmem, setmaxmem, setvcpus,
   info): what the hypervisor says it holds and allows, and what the
   toolstack has asked of the guest in xenstore (0 when a node is absent). */
struct hv_resources {
    uint64_t memory_kib;      /* tot_pages: what it holds now */
    uint64_t max_memory_kib;  /* max_pages: XEN_DOMCTL_max_mem's ceiling */
    uint64_t target_kib;      /* memory/target: the balloon's target */
    unsigned vcpus_online;    /* vCPUs up in the hypervisor */
    unsigned vcpus_max;       /* made at creation */
    unsigned vcpus_available; /* cpu/N/availability "online" */
};
enum hv_status hv_resources(struct hv *hv, uint32_t domid, struct hv_resources *out);
/* Writes memory/target (KiB); the guest's balloon driver gives pages back
   or takes them until it holds that much.  The caller checks the range. */
enum hv_status hv_set_memory_target(struct hv *hv, uint32_t domid, uint64_t kib);
/* XEN_DOMCTL_max_mem and memory/static-max (KiB), as libxl's setmaxmem. */
enum hv_status hv_set_max_memory(struct hv *hv, uint32_t domid, uint64_t kib);
/* cpu/N/availability "online" for N < count, "offline" for the others up
   to the domain's maximum, in one transaction (as xl vcpu-set). */
enum hv_status hv_set_vcpus(struct hv *hv, uint32_t domid, unsigned count);

/* For save and restore (cmd_save.c), which speak libmica directly: the
   handle's privcmd connection, and its xenstore connection (NULL, with
   the reason as hv_error(), when xenstored cannot be reached). */
struct mica_hv;
struct mica_xs;
struct mica_hv *hv_mica(struct hv *hv);
struct mica_xs *hv_xenstore(struct hv *hv);

/* createdomain for cfg (create, restore, migrate-receive): its vCPUs and
   its <mica:limits>; *domid in: wanted id or 0.  0 or -errno. */
int hv_create_domain_for(struct mica_hv *mica, const struct domain_config *cfg,
                         const uint8_t uuid[16], uint16_t *domid);

/* Records msg as the handle's error and returns st. */
enum hv_status hv_fail(struct hv *hv, enum hv_status st, const char *msg);

#endif
