/*
 * Mica guest ABI: vcpu_op (hypercall 24) sub-ops and arguments.
 * vcpu_op(cmd, vcpuid, arg).
 */
#ifndef MICA_PUBLIC_VCPU_H
#define MICA_PUBLIC_VCPU_H

#include <public/xen.h>

#define VCPUOP_initialise                      0  /* struct vcpu_guest_context */
#define VCPUOP_up                              1
#define VCPUOP_down                            2
#define VCPUOP_is_up                           3  /* returns 0 or 1 */
#define VCPUOP_get_runstate_info               4  /* struct vcpu_runstate_info */
#define VCPUOP_register_runstate_memory_area   5
#define VCPUOP_set_periodic_timer              6
#define VCPUOP_stop_periodic_timer             7
#define VCPUOP_set_singleshot_timer            8
#define VCPUOP_stop_singleshot_timer           9
#define VCPUOP_register_vcpu_info             10
#define VCPUOP_send_nmi                       11
#define VCPUOP_get_physid                     12
#define VCPUOP_register_vcpu_time_memory_area 13

/* Accounting of where a vCPU's time went. */
#define RUNSTATE_running   0
#define RUNSTATE_runnable  1
#define RUNSTATE_blocked   2
#define RUNSTATE_offline   3

/* Set in state_entry_time while the hypervisor rewrites a guest copy
 * (only with VMASST_TYPE_runstate_update_flag). */
#define XEN_RUNSTATE_UPDATE  (1ULL << 63)

struct vcpu_runstate_info {
    int32_t  state;              /* RUNSTATE_* */
    uint32_t _pad;
    uint64_t state_entry_time;   /* system time when `state` was entered */
    uint64_t time[4];            /* ns spent in each RUNSTATE_* */
};
XEN_ABI_SIZE(struct vcpu_runstate_info, 48);
XEN_ABI_OFFSET(struct vcpu_runstate_info, state, 0);
MICA_ABI_OFFSET(struct vcpu_runstate_info, _pad, 4);
XEN_ABI_OFFSET(struct vcpu_runstate_info, state_entry_time, 8);
XEN_ABI_OFFSET(struct vcpu_runstate_info, time, 16);

/* Guest VA where the hypervisor keeps a copy of vcpu_runstate_info. */
struct vcpu_register_runstate_memory_area {
    union {
        uint64_t v;              /* as a guest pointer */
        uint64_t p;              /* as a plain number */
    } addr;
};
XEN_ABI_SIZE(struct vcpu_register_runstate_memory_area, 8);
XEN_ABI_OFFSET(struct vcpu_register_runstate_memory_area, addr, 0);
XEN_ABI_OFFSET(struct vcpu_register_runstate_memory_area, addr.v, 0);
XEN_ABI_OFFSET(struct vcpu_register_runstate_memory_area, addr.p, 0);

struct vcpu_set_periodic_timer {
    uint64_t period_ns;
};
XEN_ABI_SIZE(struct vcpu_set_periodic_timer, 8);
XEN_ABI_OFFSET(struct vcpu_set_periodic_timer, period_ns, 0);

#define _VCPU_SSHOTTMR_future  0
#define VCPU_SSHOTTMR_future   (1U << 0)

struct vcpu_set_singleshot_timer {
    uint64_t timeout_abs_ns;     /* absolute system time */
    uint32_t flags;              /* VCPU_SSHOTTMR_* */
    uint32_t _pad;
};
XEN_ABI_SIZE(struct vcpu_set_singleshot_timer, 16);
XEN_ABI_OFFSET(struct vcpu_set_singleshot_timer, timeout_abs_ns, 0);
XEN_ABI_OFFSET(struct vcpu_set_singleshot_timer, flags, 8);
MICA_ABI_OFFSET(struct vcpu_set_singleshot_timer, _pad, 12);

/* Move this vCPU's vcpu_info to (mfn, offset); 64 bytes, in one page. */
struct vcpu_register_vcpu_info {
    uint64_t mfn;
    uint32_t offset;
    uint32_t rsvd;
};
XEN_ABI_SIZE(struct vcpu_register_vcpu_info, 16);
XEN_ABI_OFFSET(struct vcpu_register_vcpu_info, mfn, 0);
XEN_ABI_OFFSET(struct vcpu_register_vcpu_info, offset, 8);
XEN_ABI_OFFSET(struct vcpu_register_vcpu_info, rsvd, 12);

struct vcpu_get_physid {
    uint64_t phys_id;            /* APIC id in bits 0-31, ACPI id above */
};
XEN_ABI_SIZE(struct vcpu_get_physid, 8);
XEN_ABI_OFFSET(struct vcpu_get_physid, phys_id, 0);

/* Guest VA of a secondary vcpu_time_info copy. */
struct vcpu_register_time_memory_area {
    union {
        uint64_t v;
        uint64_t p;
    } addr;
};
XEN_ABI_SIZE(struct vcpu_register_time_memory_area, 8);
XEN_ABI_OFFSET(struct vcpu_register_time_memory_area, addr, 0);
XEN_ABI_OFFSET(struct vcpu_register_time_memory_area, addr.v, 0);
XEN_ABI_OFFSET(struct vcpu_register_time_memory_area, addr.p, 0);

#endif /* MICA_PUBLIC_VCPU_H */
