/*
 * Domains and their virtual CPUs.
 *
 * A domain owns frames (page_info.owner), a shared_info page and up to
 * max_vcpus vCPUs.  Everything per domain lives here, never in globals,
 * so that one domain's misbehaviour stays its own.
 */
#ifndef MICA_DOMAIN_H
#define MICA_DOMAIN_H

#include <asm/domain.h>
#include <mica/console_limit.h>
#include <mica/cpumask.h>
#include <mica/nospec.h>
#include <mica/rcu.h>
#include <mica/spinlock.h>
#include <mica/types.h>
#include <public/xen.h>
#include <public/vcpu.h>

#define MAX_VIRT_CPUS XEN_LEGACY_MAX_VCPUS

struct domain;
struct evtchn_table;
struct evtchn_fifo;
struct grant_table;

enum vcpu_state {
    VCPU_DOWN,          /* not brought up */
    VCPU_RUNNABLE,      /* may run (running or waiting for a CPU) */
    VCPU_BLOCKED,       /* waits for an event (SCHEDOP_block / poll) */
};

struct vcpu {
    unsigned vcpu_id;
    struct domain *domain;
    /*
     * Scheduler fields (common/sched.c): guarded by the run-queue lock of
     * the CPU `processor` names, which only changes while v is not
     * running, under that lock and the destination's.  is_running: v's
     * state is loaded on that CPU (others read it with an acquire load).
     */
    enum vcpu_state state;
    bool paused;                    /* by its domain's shutdown or the toolstack */
    struct vcpu *runq_next;         /* scheduler run queue */
    unsigned processor;             /* the CPU whose queue holds v (or would) */
    bool on_runq;
    bool is_running;
    struct vcpu_info *vcpu_info;    /* in shared_info, or registered elsewhere */
    bool vcpu_info_registered;      /* moved by VCPUOP_register_vcpu_info */

    /* Timers (set_timer_op, VCPUOP_set_*_timer): absolute ns, 0 = off. */
    u64 singleshot_deadline;
    /*
     * The periodic timer (run-queue lock for writes): it counts only while
     * periodic_armed, which the vCPU's switch-in and VCPUOP_set_periodic_timer
     * set and its switch-out clears, as Xen 4.17 stops it at deschedule, so
     * a blocked vCPU is not woken by it (docs/pv-domains.md, Guest timers).
     */
    u64 periodic_period;
    u64 periodic_next;
    bool periodic_armed;

    bool initialised;               /* has a register context (VCPUOP_initialise or builder) */
    /*
     * A reset (domctl setvcpucontext without a context) stopped part way
     * and not finished yet: v keeps `initialised` but neither runs nor
     * takes a new context until a reset finishes (Xen 4.17's _VPF_in_reset
     * left set).  Written by the toolstack's domctl while v is down.
     */
    bool in_reset;
    u64 time_published_ns;

    /* Runstate accounting (RUNSTATE_*), and where the guest wants a copy. */
    int runstate;
    u64 runstate_entry_ns;
    u64 runstate_time[4];
    u64 runstate_guest_va;          /* 0: none registered */          /* system time of the last vcpu_time_info update */

    /* SCHEDOP_poll: the ports waited on, and the deadline (0: none). */
    bool polling;
    u32 nr_poll_ports;
    u32 poll_ports[128];
    u64 poll_deadline;

    /*
     * Hypercall continuation (docs/hypercalls.md): set while this vCPU is
     * in a hypercall; mc_call is the multicall entry being run (NULL
     * outside a multicall), whose args a continued sub-call rewrites.
     */
    bool in_hypercall;
    struct multicall_entry *mc_call;
    bool mc_call_preempted;

    /* Accounting. */
    u64 runtime_ns;
    u64 run_start_ns;               /* the running CPU's own */
    s64 credit;                     /* credit scheduler, in ns; atomic updates */
    bool boosted;                   /* just woken: runs ahead of credit order; run-queue lock */
#ifdef CONFIG_PERF_COUNTERS
    u64 woken_ns;                   /* perfc: when last woken from blocking (0: not waiting); run-queue lock */
#endif
    /* Physical CPUs it may run on (run-queue lock), and prefers (recorded, not yet used). */
    cpumask_t cpu_hard_affinity;
    cpumask_t cpu_soft_affinity;

    struct arch_vcpu arch;
};

struct domain {
    domid_t domid;
    bool is_privileged;
    bool is_dying;                  /* being torn down */
    bool kill_in_progress;          /* a preempted domain_kill is not finished */
    bool is_shutdown;               /* shut itself down (or crashed) */
    u8 shutdown_reason;             /* SHUTDOWN_* */
    bool shutdown_code_set;
    u8 shutdown_code;

    /* Guards tot_pages, held_frames and teardown_done. */
    spinlock_t page_alloc_lock;
    u64 tot_pages;                  /* frames owned */
    /* Dying: frames other domains still reference; d is freed at 0. */
    u64 held_frames;
    /* domain_destroy() has released all it can: the last held frame frees d. */
    bool teardown_done;
    u64 max_pages;
    /* XENMEM_claim_pages: frames promised, not yet given; host_frames.lock (mica/page_alloc.h). */
    u64 outstanding_pages;

    struct shared_info *shared_info;
    mfn_t shared_info_mfn;

    unsigned max_vcpus;
    struct vcpu *vcpus[MAX_VIRT_CPUS];

    /*
     * Toolstack pauses (domctl pausedomain/unpausedomain), counted: the
     * domain's vCPUs do not run while it is above 0.  A domain made by
     * domctl createdomain starts at 1, as on Xen.
     */
    u32 controller_pause_count;
    bool creation_finished;         /* first toolstack unpause done (Xen's flag of that name) */
    u8 handle[16];                  /* the toolstack's handle (UUID); set at creation, never changed */

    /* Set by the toolstack before it builds the domain (common/domctl_pv_setup.c). */
    u32 tsc_mode;                   /* XEN_DOMCTL_settscinfo's mode: native TSC modes only */
    u32 tsc_incarnation;
    u64 node_affinity;              /* NUMA nodes asked for; 0: not set (all) */

    u32 sched_weight;               /* credit scheduler weight (default 256) */
    u32 sched_cap;                  /* percent of one CPU, 0 = no cap */
    u64 sched_spent_ns;             /* CPU time used against the cap this period; atomic */
    u32 sched_refill_gen;           /* credit_lock (sched.c): the refill that last counted d */
    u32 sched_refill_active;        /* credit_lock: d's runnable vCPUs in that refill */

    /* Guards evtchn, evtchn_fifo and every port in them (common/event_channel.c). */
    spinlock_t event_lock;
    struct evtchn_table *evtchn;    /* NULL until first used; guarded by event_lock */
    struct evtchn_fifo *evtchn_fifo;    /* NULL: 2-level ABI (mica/event_fifo.h); event_lock */
    /* Highest event channel port d may use (createdomain's max_evtchn_port); set at creation. */
    u32 max_evtchn_port;
    struct grant_table *grant;      /* common/grant_table.c; made with the domain */

    /*
     * The memory map the toolstack gave the guest (XENMEM_set_memory_map;
     * common/memory_op.c), NULL until then.  Replaced whole by an atomic
     * exchange, the old one freed after an RCU grace period; readers load
     * it once and use it until they leave the hypervisor (mica/rcu.h).
     */
    struct guest_memory_map *memory_map;

    /* An unprivileged guest's console_io output, gathered into lines. */
    char console_line[120];
    u32 console_len;
    /* What of those lines reaches the console (common/console_io.c). */
    spinlock_t console_rate_lock;
    struct line_bucket console_rate;    /* guarded by console_rate_lock */
    /* Mica's own lines about this domain's refused requests (a page table
       or pin refused: domain_refusal_log_allowed()). */
    struct line_bucket refusal_rate;    /* guarded by console_rate_lock */

    struct arch_domain arch;
    struct domain *next;            /* list of all domains; guarded by domlist_lock */
    struct rcu_head rcu;            /* the deferred free after destruction */
};

/*
 * vCPU id of d, or NULL when d has none by that id.  For an id a guest or
 * the toolstack chose: the read of d->vcpus[] is clamped against a
 * mispredicted bounds check (mica/nospec.h).
 */
static inline struct vcpu *domain_vcpu(const struct domain *d, u64 id)
{
    if (id >= d->max_vcpus)
        return NULL;
    return d->vcpus[array_index_nospec(id, d->max_vcpus)];
}

/*
 * Whether d is the control domain (dom0: the toolstack's privileges).
 * Every permission check on a hypercall path asks this rather than reading
 * d->is_privileged, so that a mispredicted "no" cannot run the privileged
 * path speculatively (evaluate_nospec(), Xen's is_control_domain()).
 */
static inline __attribute__((always_inline)) bool is_control_domain(const struct domain *d)
{
    return evaluate_nospec(d->is_privileged);
}

/* Moves v to a new RUNSTATE_*, accounting the time spent in the old one. */
void vcpu_runstate_change(struct vcpu *v, int state, u64 now);
/* Copies v's runstate to its registered area (v's page tables must be live). */
void vcpu_runstate_publish(struct vcpu *v);

/*
 * Creates a domain with max_vcpus vCPUs (all down) and a zeroed
 * shared_info.  Callers serialise (boot, or domctl under domctl_lock).
 */
struct domain *domain_create(domid_t domid, bool privileged, unsigned max_vcpus);
/*
 * Lookups.  The result stays valid until this CPU next passes an RCU
 * quiescent point (returns to a guest, or idles; mica/rcu.h), never
 * longer: keep a domain id across hypercalls, not a pointer.
 */
struct domain *domain_by_id(domid_t domid);
/* Also a dying domain kept for frames others still reference (ids stay taken). */
struct domain *domain_by_id_any(domid_t domid);
/* One held frame of dying d is gone; after the last, d itself goes. */
void domain_release_held(struct domain *d);

/* The domain, live or dying, with the lowest id >= first, or NULL (id order). */
struct domain *domain_next_from(domid_t first);

/*
 * Toolstack pause and unpause (domctl), counted.  0, -XEN_EOVERFLOW past
 * 255 pauses, -XEN_EINVAL when unpausing a domain that is not paused.
 */
int domain_pause_by_controller(struct domain *d);
int domain_unpause_by_controller(struct domain *d);
/* Mica's own pause around an operation on d (under domctl_lock); never fails. */
void domain_pause_internal(struct domain *d);
void domain_unpause_internal(struct domain *d);

/*
 * Tears d down at once: its vCPUs leave the scheduler and are freed, its
 * event channels and every frame it owns are released (frames back to the
 * allocator), and d is freed.  d must not be the current domain.  Sends
 * VIRQ_DOM_EXC to domain 0, as Xen does when a domain dies.
 */
void domain_destroy(struct domain *d);
/*
 * The same work, for XEN_DOMCTL_destroydomain: when `preemptible` it may
 * stop part way with HYPERCALL_CONTINUE (as Xen's domain_kill returns
 * -ERESTART), d dying and kill_in_progress set; calling it again goes on
 * where it stopped.  Returns 0 once d is torn down (and maybe freed).
 */
long domain_kill(struct domain *d, bool preemptible);

/* The toolstack hypercalls (common/domctl.c, common/sysctl.c). */
long do_domctl(u64 arg);
long do_sysctl(u64 arg);
/* d's getdomaininfo record, shared by domctl and sysctl. */
struct xen_domctl_getdomaininfo;
void domctl_domain_info(const struct domain *d, struct xen_domctl_getdomaininfo *info);

/* The domain shut itself down, or is forced to: stop its vCPUs. */
void domain_shutdown(struct domain *d, u8 reason);
/*
 * XEN_DOMCTL_resumedomain, as Xen's domain_resume: the shutdown (and any
 * recorded shutdown code) is forgotten and the vCPUs that are up run again
 * unless the toolstack still has the domain paused.  A suspended guest
 * returns from SCHEDOP_shutdown with what its vCPU's rax holds (0, or 1
 * when the toolstack set it to say the suspend was cancelled).
 */
void domain_resume(struct domain *d);

/*
 * Ends a misbehaving domain with a diagnostic; Mica and other domains go
 * on.  For the initial domain that means the machine stops (per
 * `noreboot`), as there is nobody left to manage it.
 */
void domain_crash(struct domain *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* What happens when the last domain is gone or dom0 shuts down. */
void domain_check_machine_end(void);

#endif
