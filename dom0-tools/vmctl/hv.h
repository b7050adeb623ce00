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

#include <stddef.h>
#include <stdint.h>

#include "domcfg.h"

enum hv_status {
    HV_OK = 0,
    HV_UNREACHABLE,   /* no hypervisor interface on this machine */
    HV_NO_DOMAIN,     /* no running domain by that name or id */
    HV_FAILED,        /* the hypervisor refused or the call failed */
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

struct hv_domain {
    uint32_t domid;
    char name[DOMCFG_NAME_MAX + 1];
    uint8_t uuid[16];
    uint64_t memory_kib;
    unsigned vcpus;
    unsigned state;        /* enum hv_domain_state bits */
    double cpu_seconds;
};

enum hv_shutdown_kind { HV_SHUTDOWN_POWEROFF, HV_SHUTDOWN_REBOOT };

struct hv;

/* Connects to the hypervisor.  On failure *out is NULL and err holds a
   sentence such as "/dev/xen/privcmd does not exist (...)". */
enum hv_status hv_open(struct hv **out, char *err, size_t err_len);
void hv_close(struct hv *hv);

/* The last error as a sentence. */
const char *hv_error(const struct hv *hv);

/* Running domains; free *list with free(). */
enum hv_status hv_list(struct hv *hv, struct hv_domain **list, size_t *count);

/* Builds and starts a domain; on failure nothing of it remains. */
enum hv_status hv_create(struct hv *hv, const struct domain_config *cfg, uint32_t *domid);

enum hv_status hv_shutdown(struct hv *hv, uint32_t domid, enum hv_shutdown_kind kind);
enum hv_status hv_destroy(struct hv *hv, uint32_t domid);
enum hv_status hv_pause(struct hv *hv, uint32_t domid);
enum hv_status hv_unpause(struct hv *hv, uint32_t domid);

/* Connects this terminal to the domain's console (through micaconsoled)
   until the user leaves with Ctrl-] or the domain goes. */
enum hv_status hv_console(struct hv *hv, uint32_t domid);

/* physinfo: the host's CPUs and memory. */
struct hv_host {
    uint32_t nr_cpus;
    uint32_t cpu_khz;
    uint64_t total_pages, free_pages;
};
enum hv_status hv_host_info(struct hv *hv, struct hv_host *out);

/* Records msg as the handle's error and returns st. */
enum hv_status hv_fail(struct hv *hv, enum hv_status st, const char *msg);

#endif
