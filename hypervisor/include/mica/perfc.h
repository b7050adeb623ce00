/*
 * Performance counters (CONFIG_PERF_COUNTERS): event counts and TSC
 * cycles on the paths the PV block and network benchmarks exercise
 * (hypercalls, grant operations, TLB flushes, event channels, vCPU
 * switches).  Per-CPU arrays, bumped without locks by the CPU that does
 * the work; perfc_dump() prints the sum over CPUs since its last call
 * (debug key 'p', each domU's destruction, the machine's end).
 * Without the option every use compiles to nothing.
 */
#ifndef MICA_PERFC_H
#define MICA_PERFC_H

#include <mica/types.h>

/* X(name, number of slots): an array counter is indexed 0..slots-1. */
#define PERFC_LIST(X) \
    X(hypercall, 64)            /* hypercalls by number (multicalls counted once) */ \
    X(hypercall_cycles, 64)     /* TSC cycles inside each (a multicall's include its sub-calls) */ \
    X(multicall_sub, 64)        /* sub-calls of multicalls, by number */ \
    X(hc_dom0, 1)               /* hypercalls by dom0 */ \
    X(hc_domu, 1)               /* hypercalls by other domains */ \
    X(hypercall_domu, 64)       /* the hypercalls of other domains than dom0, by number */ \
    X(sched_op_domu, 16)        /* their sched_op calls, by cmd */ \
    X(sched_op_dom0, 16)        /* dom0's sched_op calls, by cmd */ \
    X(guest_exc_domu, 32)       /* exceptions from other domains than dom0, by vector */ \
    X(syscall_bounce_domu, 1)   /* user system calls bounced in other domains than dom0 */ \
    X(upcall_domu, 1)           /* event upcalls to other domains than dom0 */ \
    X(mmuext, 32)               /* mmuext_op sub-ops by cmd */ \
    X(mmu_update_req, 1)        /* mmu_update requests (entries) */ \
    X(uvm_flush, 4)             /* update_va_mapping: 0 none, 1 local full, 2 local one, 3 mask */ \
    X(guest_exc, 32)            /* exceptions from guests, by vector */ \
    X(guest_exc_cycles, 32)     /* cycles handling them (entry to exit) */ \
    X(guest_syscall_bounce, 1)  /* guest user system calls bounced to the guest kernel */ \
    X(guest_irq, 1)             /* interrupts taken while a guest ran */ \
    X(emulate_gp, 1)            /* #GP/#UD emulated privileged instructions */ \
    X(emulate_insn, 512)        /* #GP emulations tried, by opcode (256 + second byte after 0x0f) */ \
    X(emulate_port, 1024)       /* port I/O emulated, by port (1023: 1023 and above) */ \
    X(ptwr_emul, 1)             /* trapped page-table writes emulated */ \
    X(tlb_flush_full, 1)        /* full local TLB flushes (CR3 reload) */ \
    X(tlb_flush_one, 1)         /* single-address local flushes */ \
    X(tlb_flush_ipi, 1)         /* shootdown IPIs sent (per target CPU) */ \
    X(tlb_flush_domain, 1)      /* flush_tlb_domain calls */ \
    X(gnt_batch, 8)             /* grant_table_op calls by cmd (0..7) */ \
    X(gnt_map, 1)               /* GNTTABOP_map_grant_ref elements */ \
    X(gnt_unmap, 1)             /* unmap_grant_ref and unmap_and_replace elements */ \
    X(gnt_unmap_flush, 1)       /* TLB flushes made for grant unmaps */ \
    X(gnt_map_flush, 1)         /* TLB flushes made for grant maps over a present PTE */ \
    X(gnt_copy, 1)              /* GNTTABOP_copy elements */ \
    X(gnt_copy_bytes, 1)        /* bytes they copied */ \
    X(evtchn_send, 1)           /* EVTCHNOP_send */ \
    X(evtchn_send_remote, 1)    /* ... to another domain */ \
    X(evtchn_upcall, 1)         /* event upcalls bounced to guests */ \
    X(vcpu_wake_blocked, 1)     /* blocked vCPUs woken (and boosted) */ \
    X(vcpu_block, 1)            /* SCHEDOP_block and friends */ \
    X(sched_switch, 1)          /* switches from one vCPU to another */ \
    X(sched_switch_domain, 1)   /* ... of different domains */ \
    X(sched_preempt, 1)         /* switches away from a vCPU that could still run */ \
    X(sched_idle, 1)            /* times a CPU went idle */ \
    X(wake_cpu_idle, 1)         /* blocked vCPUs woken whose CPU was idle */ \
    X(wake_cpu_busy, 1)         /* ... whose CPU ran another vCPU (it waits behind it) */ \
    X(wake_remote_ipi, 1)       /* ... on another CPU than the waker's (reschedule IPI sent) */ \
    X(event_running_ipi, 1)     /* events for a vCPU running on another CPU (IPI at once) */ \
    X(wake_latency, 8)          /* woken -> running, us: <10 <50 <200 <1000 <2000 <5000 <20000 more */ \
    X(wake_latency_ns, 1)       /* the sum of those latencies, ns */ \
    X(run_preempted, 8)         /* run lengths ended by preemption, same buckets */ \
    X(run_blocked, 8)           /* run lengths ended by blocking (or going down), same buckets */ \
    X(sched_idle_cycles, 1)     /* cycles idle */ \
    X(sched_switch_cycles, 1)   /* cycles in the context switches (arch_context_switch) */ \
    X(guest_irq_cycles, 1)      /* cycles handling interrupts taken while a guest ran (entry to exit) */ \
    X(wake_cpu_busy_boosted, 1) /* wake_cpu_busy where the running vCPU was boosted itself */ \
    X(wake_deferred, 1)         /* woken vCPUs held back behind the sender of their event (sched.c held_back()) */ \
    X(hv_cycles_dom0, 1)        /* cycles in Mica on entries from dom0 (idle excluded) */ \
    X(hv_cycles_domu, 1)        /* cycles in Mica on entries from other domains */ \
    X(run_ns_dom0, 1)           /* ns dom0's vCPUs ran (runstate running: Mica's time on their entries included) */ \
    X(run_ns_domu, 1)           /* the same for other domains' vCPUs */

enum perfc_id {
#define PERFC_ENUM(n, slots) PERFC_##n, PERFC_##n##_end_ = PERFC_##n + (slots) - 1,
    PERFC_LIST(PERFC_ENUM)
#undef PERFC_ENUM
    PERFC_NR
};

#ifdef CONFIG_PERF_COUNTERS
void perfc_add_id(unsigned id, u64 n);
u64 perfc_read_id(unsigned id);
u64 perfc_cycles(void);
void perfc_dump(const char *why);
void perfc_tick(u64 now_ns);
#define perfc_add(name, n)        perfc_add_id(PERFC_##name, (n))
#define perfc_inc(name)           perfc_add_id(PERFC_##name, 1)
/* This CPU's count so far. */
#define perfc_read(name)          perfc_read_id(PERFC_##name)
/* Slot i of an array counter; out-of-range indices count in the last slot. */
#define perfc_add_idx(name, i, n) \
    perfc_add_id(PERFC_##name + ((unsigned)(i) < PERFC_##name##_end_ - PERFC_##name + 1u ? \
                                 (unsigned)(i) : PERFC_##name##_end_ - PERFC_##name), (n))
#define perfc_inc_idx(name, i)    perfc_add_idx(name, i, 1)
#else
#define perfc_add(name, n)        do { (void)(n); } while (0)
#define perfc_inc(name)           do { } while (0)
#define perfc_read(name)          0ULL
#define perfc_add_idx(name, i, n) do { (void)(i); (void)(n); } while (0)
#define perfc_inc_idx(name, i)    do { (void)(i); } while (0)
static inline u64 perfc_cycles(void) { return 0; }
static inline void perfc_dump(const char *why) { (void)why; }
static inline void perfc_tick(u64 now_ns) { (void)now_ns; }
#endif

#endif
