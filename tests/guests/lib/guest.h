/*
 * The test-kernel framework: what every test file includes.
 *
 * A test defines TEST_NAME-free entry `enum result test_main(void)`; the
 * framework prints "Test result: <result>" as the last line and powers the
 * domain off.  CHECK* record a failure and go on, so one run shows every
 * broken check; REQUIRE* stop the test at once.
 */
#ifndef GUEST_H
#define GUEST_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdarg.h>
#include "hypercall.h"

#define VIRT_BASE 0xffffffff80000000UL
#define PAGE_SIZE 4096UL

enum result { RESULT_SUCCESS, RESULT_FAILURE, RESULT_SKIP, RESULT_ERROR };

enum result test_main(void);

/* Registers at _start, saved by head.S before anything touched them. */
struct boot_regs {
    uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp, rsp;
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
    uint64_t rflags;
    uint16_t cs, ss, ds, es, fs, gs;
};
extern struct boot_regs boot_regs;
extern struct start_info *start_info;
extern char _image_start[], _image_end[], _bss_start[], _bss_end[];

/* Frame built by entry.S for every exception and callback. */
struct regs {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error_code;
    uint64_t rip, cs, rflags, rsp, ss;
};
#define VEC_EVENT    256
#define VEC_SYSCALL  257
#define VEC_FAILSAFE 258

/* ---- console and formatting ---- */
int printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vsnprintk(char *buf, size_t size, const char *fmt, va_list ap);
int snprintk(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void console_write(const char *s, size_t len);

/* ---- results ---- */
extern unsigned check_failures;
void check_failed(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void __attribute__((noreturn)) finish(enum result r);
void __attribute__((noreturn)) error_exit(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

#define CHECK(cond, ...) do {                                             \
        if (!(cond))                                                      \
            check_failed(__FILE__, __LINE__, "CHECK(" #cond ") " __VA_ARGS__); \
    } while (0)

/* Compares as signed 64-bit values, printing both in decimal and hex. */
#define CHECK_EQ(got, want) do {                                          \
        long long _g = (long long)(got), _w = (long long)(want);          \
        if (_g != _w)                                                     \
            check_failed(__FILE__, __LINE__, "%s == %lld (%#llx), expected %s == %lld (%#llx)", \
                         #got, _g, (unsigned long long)_g, #want, _w,     \
                         (unsigned long long)_w);                         \
    } while (0)

#define REQUIRE(cond, ...) do {                                           \
        if (!(cond)) {                                                    \
            check_failed(__FILE__, __LINE__, "REQUIRE(" #cond ") " __VA_ARGS__); \
            finish(RESULT_FAILURE);                                       \
        }                                                                 \
    } while (0)

#define REQUIRE_EQ(got, want) do {                                        \
        unsigned _before = check_failures;                                \
        CHECK_EQ(got, want);                                              \
        if (check_failures != _before)                                    \
            finish(RESULT_FAILURE);                                       \
    } while (0)

/* ---- strings and memory ---- */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
const char *strstr(const char *h, const char *n);
/* Value of "key=<number>" in the start_info command line, or def. */
unsigned long cmdline_number(const char *key, unsigned long def);

/* ---- memory ---- */
static inline uint64_t va_to_pfn(const void *va)
{ return ((uint64_t)va - VIRT_BASE) >> 12; }
uint64_t pfn_to_mfn(uint64_t pfn);
uint64_t va_to_mfn(const void *va);
uint64_t m2p(uint64_t mfn);
#define PTE_P   0x001UL
#define PTE_RW  0x002UL
#define PTE_US  0x004UL
#define PTE_A   0x020UL
#define PTE_D   0x040UL
/* Maps mfn at the (page-aligned, in-image) va with update_va_mapping. */
long map_mfn(void *va, uint64_t mfn, uint64_t flags);
/* Reads the L1 entry that maps va by walking from start_info->pt_base. */
bool lookup_pte(uint64_t va, uint64_t *pte);
/* The L1 entry itself (in a read-only mapped table), or NULL. */
uint64_t *pte_slot(uint64_t va);
/* mmuext INVLPG_LOCAL of one address. */
long flush_va(uint64_t va);
/* First unmapped VA above the image: the end of the bootstrap region. */
uint64_t bootstrap_end(void);

/* ---- shared_info, vcpu_info ---- */
extern struct shared_info *shared;
extern struct vcpu_info *vcpu0;   /* moves if VCPUOP_register_vcpu_info */
struct shared_info *map_shared_info(void);

/* ---- guest user mode (user.c) ---- */
/*
 * Enters user mode at rip with rsp on cs (FLAT_USER_CS64, or
 * FLAT_USER_CS32 for compatibility mode; SS follows), events unmasked,
 * through the iret hypercall; returns once a trap hook has called
 * user_mode_leave() on its frame.
 */
void user_mode_run(uint64_t rip, uint64_t rsp, uint16_t cs);
/* In a trap hook: the hook's return resumes the kernel after user_mode_run(). */
void user_mode_leave(struct regs *r);

/* ---- traps ---- */
struct trap_record {
    int64_t vector;       /* -1: nothing caught since trap_clear() */
    uint64_t error_code, rip, cs, rflags, rsp, ss, cr2;
    unsigned count;
};
extern volatile struct trap_record last_trap;
extern volatile unsigned trap_counts[256];
/* If nonzero, the next exception resumes here (then it is cleared). */
extern volatile uint64_t trap_resume;
/* Optional per-vector hook; return true if handled (frame may be edited). */
typedef bool (*trap_hook_t)(struct regs *r);
extern trap_hook_t trap_hooks[259];
void trap_clear(void);
/* Installs handlers for vectors 0-21 (int3/into DPL 3); returns rc. */
long traps_install(void);
void dump_regs(const struct regs *r);
/* Fills a vcpu_guest_context's trap_ctxt with the same handlers. */
void traps_fill_context(struct trap_info *ctxt);

/*
 * Runs the instruction(s) `insn`; if they fault, execution resumes after
 * them.  `insn` must put the label 9990: on the instruction expected to
 * fault, whose address lands in trap_probe_insn.  RAX, RCX, RDX and R11
 * are free for `insn` to use.  Yields the vector caught, or -1.
 */
extern volatile uint64_t trap_probe_insn, trap_probe_rsp;
#define TRAP_PROBE(insn) ({                                               \
        trap_clear();                                                     \
        __asm__ volatile("leaq 9991f(%%rip), %%r11\n\t"                   \
                         "movq %%r11, trap_resume(%%rip)\n\t"             \
                         "leaq 9990f(%%rip), %%r11\n\t"                   \
                         "movq %%r11, trap_probe_insn(%%rip)\n\t"         \
                         "movq %%rsp, trap_probe_rsp(%%rip)\n\t"          \
                         insn "\n"                                        \
                         "9991:\n\t"                                      \
                         "movq $0, trap_resume(%%rip)"                    \
                         ::: "rax", "rcx", "rdx", "r11", "memory", "cc"); \
        (int)last_trap.vector;                                            \
    })

/* ---- events ---- */
typedef void (*evt_handler_t)(evtchn_port_t port);
extern volatile unsigned evt_counts[EVTCHN_2L_NR_CHANNELS];
extern evt_handler_t evt_handlers[EVTCHN_2L_NR_CHANNELS];
extern volatile unsigned upcall_count;
/* Maps shared_info and registers the event and failsafe callbacks. */
long events_init(void);
/* Clears the upcall mask and forces delivery of anything pending. */
void events_enable(void);
void events_disable(void);
/*
 * An event pending and unmasked without the hypervisor having been told
 * (masked, an IPI to ourselves on `ipi`, the mask cleared behind its
 * back): its next preemption check says yes, and the upcall lands where
 * it next returns to us, a continued hypercall's SYSCALL included.  0,
 * the IPI's error, or -1 when no upcall became pending.
 */
long events_arm_pending(evtchn_port_t ipi);
/*
 * The first upcall since events_arm_pending(): its RIP as delivered
 * (before any hook changes it), and how many upcalls came since.
 */
extern volatile unsigned armed_upcalls;
extern volatile uint64_t armed_upcall_rip;
/*
 * A call a preemption check must stop (the tests of continued calls):
 * prepare(arg) (the case set up, the test's own record of the upcall
 * cleared; may be NULL), an event armed on ipi (events_arm_pending),
 * call(arg) made, events masked again; the attempt counts when the first
 * upcall came on hypercall nr's SYSCALL (the call continued there, or,
 * if the test's upcall hook skips the SYSCALL, abandoned).  An interrupt
 * between arming and the SYSCALL brings the upcall before the call,
 * which then runs unpreempted: the miss is printed, missed(arg, rc) puts
 * the case back (may be NULL) and it is tried again, up to `attempts`
 * times (missed() is not called after the last).
 */
struct preempt_call {
    evtchn_port_t ipi;              /* an IPI to ourselves (evtchn_bind_ipi) */
    unsigned nr;                    /* the __HYPERVISOR_* call() makes */
    const char *what;               /* the call, for the log: "the unpin" */
    unsigned attempts;
    void *arg;
    void (*prepare)(void *arg);
    long (*call)(void *arg);
    void (*missed)(void *arg, long rc);
};
/* True when an attempt's upcall came on the call's SYSCALL; *rc: the last call's result. */
bool preempt_call(const struct preempt_call *p, long *rc);
static inline void sync_set_bit(unsigned nr, volatile uint64_t *words)
{ __asm__ volatile("lock btsq %1, %0" : "+m"(words[nr / 64]) : "r"((uint64_t)(nr % 64)) : "memory"); }
static inline void sync_clear_bit(unsigned nr, volatile uint64_t *words)
{ __asm__ volatile("lock btrq %1, %0" : "+m"(words[nr / 64]) : "r"((uint64_t)(nr % 64)) : "memory"); }
static inline bool test_bit(unsigned nr, const volatile uint64_t *words)
{ return (words[nr / 64] >> (nr % 64)) & 1; }
/* Takes vi's pending events: each pending, unmasked port that mine()
   accepts (all when mine is NULL) is cleared and handed to deliver(). */
void evtchn_scan(struct vcpu_info *vi, bool (*mine)(unsigned port),
                 void (*deliver)(unsigned port));
/* Unmasks vi's events; one that arrived while masked is delivered now. */
void events_enable_on(struct vcpu_info *vi);
/* Waits, yielding between looks, until evt_counts[port] reaches target;
   false once limit_ns has passed. */
bool evt_wait_count(evtchn_port_t port, unsigned target, uint64_t limit_ns);
long evtchn_alloc_unbound_self(evtchn_port_t *port);
/* Binds to dom's remote_port, retrying until limit_ns while it is not
 * open yet; the binding's own event is taken off the new port's count. */
long evtchn_bind_peer(domid_t dom, evtchn_port_t remote_port, uint64_t limit_ns,
                      evtchn_port_t *port);
long evtchn_bind_ipi(unsigned vcpu, evtchn_port_t *port);
long evtchn_bind_virq(unsigned virq, unsigned vcpu, evtchn_port_t *port);
long evtchn_send(evtchn_port_t port);
long evtchn_close(evtchn_port_t port);
long evtchn_unmask(evtchn_port_t port);
long evtchn_status(evtchn_port_t port, struct evtchn_status *st);

/* ---- SMP: tests booted with dom0_max_vcpus=2 (vcpu_fresh.h: 4) (lib/smp.c) ---- */
#define SMP_MAX_VCPUS 4
#define SMP_PORTS     64
struct smp_percpu { uint64_t id; uint64_t scratch[7]; };
extern struct smp_percpu smp_percpu[SMP_MAX_VCPUS];
/* Events seen by each vCPU's own upcall, per port (ports below SMP_PORTS). */
extern volatile unsigned smp_evt_counts[SMP_MAX_VCPUS][SMP_PORTS];
/* Which vCPU's upcall handles each port (0 unless a test says otherwise). */
extern volatile uint8_t smp_port_cpu[SMP_PORTS];
typedef void (*smp_fn_t)(uint64_t arg, uint64_t arg2);
/* vCPU 0: GS base for smp_this_cpu() and the per-vCPU upcall hook; rc. */
long smp_init_boot_cpu(void);
unsigned smp_this_cpu(void);
/* CR3 of our (only) L4, as vcpu_guest_context.ctrlreg[3] wants it. */
uint64_t smp_kernel_cr3(void);
/*
 * A context for vCPU `cpu` that calls fn(arg, rdx) on stack_top in kernel
 * mode with our page tables, trap handlers and event/failsafe callbacks.
 */
struct vcpu_guest_context;
void smp_fill_context(struct vcpu_guest_context *c, unsigned cpu, smp_fn_t fn, uint64_t arg,
                      void *stack_top);
bool smp_event_hook(struct regs *r);
/* Waits (events masked, polling) until this vCPU saw `count` events on port. */
bool smp_wait_event(unsigned port, unsigned count, uint64_t timeout_ns);
/* Unmasks this vCPU's events and lets anything pending arrive. */
void smp_events_enable(void);

/* ---- time ---- */
static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}
/* System time in ns from vcpu0->time, following the version protocol. */
uint64_t system_time_ns(void);
/* shared_info's wallclock (boot time) under its version protocol; returns
   the (even) version it was read at. */
uint32_t wallclock_read(uint64_t *sec, uint32_t *nsec);
/*
 * Blocks (SCHEDOP_block) until `count` events of a single-shot timer,
 * re-armed period_ns ahead after each, have arrived on tport (our
 * VIRQ_TIMER port), or limit_ns has passed; returns how many arrived.
 * Stops our periodic timer first so that only the single-shot events
 * count (Xen's periodic timer does not wake a blocked vCPU anyway).
 */
unsigned timer_block_events(evtchn_port_t tport, unsigned count, uint64_t period_ns,
                            uint64_t limit_ns);
/* The lowest of `batches` results of batch() (benchmarks: cycles). */
uint64_t best_of(unsigned batches, uint64_t (*batch)(void));

/* sysctl physinfo's free_pages (privileged callers); error_exit on failure. */
uint64_t physinfo_free_pages(void);
unsigned physinfo_nr_cpus(void);

/*
 * A test kernel as toolstack (lib/domctl.c; privileged callers).  op is
 * the caller's: it holds the answer afterwards.  Failures marked "ends
 * the test" fail it with the call named, as REQUIRE does.
 */
struct xen_domctl;
/* cmd on dom with op's other fields as the caller set them. */
long domctl_call(struct xen_domctl *op, uint32_t cmd, domid_t dom);
/* The same with op zeroed first. */
long domctl_fresh(struct xen_domctl *op, uint32_t cmd, domid_t dom);
/* A new domain: one vCPU, 1023 ports, default grant frames, grant v1; ends the test on failure. */
domid_t domain_create_small(struct xen_domctl *op);
/* An unbound port of id's for dom0 (a console or store port); ends the test on failure. */
evtchn_port_t port_for_domain(domid_t id);
/* max_mem max_kb, then Mica's build domctl from this kernel's own module
   with cmdline and mem_kb, fresh console and store ports; ends the test on failure. */
void domain_build_from_module(struct xen_domctl *op, domid_t id, const char *cmdline,
                              uint64_t mem_kb, uint64_t max_kb);
/* Returns once dom has shut down (op: its getdomaininfo); ends the test
   after timeout_ns or on a failed call. */
void domain_wait_shutdown(struct xen_domctl *op, domid_t dom, uint64_t timeout_ns);
/*
 * Waits for domain dom to shut down, destroys it and checks (CHECK) that
 * it goes with at least free_before + its tot_pages free again.  Its
 * shutdown reason; *tot its tot_pages.
 */
unsigned domain_reap(struct xen_domctl *op, domid_t dom, uint64_t free_before,
                     uint64_t timeout_ns, uint64_t *tot);
/* Yields until *word == value; false after timeout_ns. */
bool wait_word(volatile uint64_t *word, uint64_t value, uint64_t timeout_ns);
/* Scales a TSC delta as the ABI says (shift, then 32.32 multiply). */
uint64_t tsc_delta_to_ns(uint64_t delta, uint32_t mul, int8_t shift);
/* Waits (blocking) until system time reaches deadline_ns or `cond`. */
void spin_until_ns(uint64_t deadline_ns);

/* Forced-emulation CPUID (ud2; "xen"; cpuid): the PV-filtered view. */
void pv_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4]);

#define barrier() __asm__ volatile("" ::: "memory")
#define READ_ONCE(x) (*(volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
