/*
 * `selftest=` triggers: each raises one kind of failure after the banner.
 *   fault-pf   read an unmapped address (page fault)
 *   fault-ud   execute an invalid opcode
 *   fault-gp   load a non-canonical address (general protection)
 *   fault-de   divide by zero
 *   fault-df   page fault with a broken stack (double fault, IST stack)
 *   panic      call panic()
 *   db-foreign a #DB (INT 1) raised on a stack that is not Mica's,
 *              whose top holds a poisoned struct cpu_info: the handler runs
 *              on its IST stack, finds the real one, and boot goes on
 *              (a guest's RSP at the SYSCALL entry is such a stack, XSA-260)
 *   nmi-foreign an NMI (sent to this CPU through its local APIC) taken
 *              on the same kind of foreign stack: the handler finds its
 *              CPU from its IST stack, logs what it interrupted and acts
 *              per `nmi=` (dom0 with no dom0 yet, ignore: boot goes on;
 *              fatal: the report)
 *   mce-foreign waits on the same kind of foreign stack for a machine
 *              check (QEMU's monitor command `mce`, sent by the boot
 *              test): the report must name CPU0 and the bank
 *   lock-order take two locks against the lock order (CONFIG_DEBUG_LOCKS)
 *   ipi-lock   a function run by on_selected_cpus() takes a lock, which
 *              such functions must not (CONFIG_DEBUG_LOCKS)
 *   panic-smp  once the CPUs are up: CPU 1 prints numbered ticks with
 *              interrupts off and answering no IPI, and CPU 0 panics
 *              while it does; the panic must stop CPU 1 (by NMI) before
 *              its report, so no tick follows the report
 */
#include <asm/current.h>
#include <asm/io.h>
#include <asm/ipi.h>
#include <asm/lapic.h>
#include <asm/smp.h>
#include <asm/traps.h>
#include <asm/time.h>
#include <mica/lib.h>
#include <mica/param.h>
#include <mica/selftest.h>
#include <mica/spinlock.h>

#ifdef CONFIG_BOOT_SELFTEST

static char opt_selftest[16];
static u8 foreign_stack[STACK_SIZE] __aligned(STACK_SIZE);
string_param("selftest", opt_selftest);

/* Two locks of real classes, taken inner first: the checker must stop Mica. */
static void take_locks_out_of_order(void)
{
    static DEFINE_SPINLOCK(selftest_inner, LOCK_ORDER_HEAP);
    static DEFINE_SPINLOCK(selftest_outer, LOCK_ORDER_EVENT);

    spin_lock(&selftest_inner);
    spin_lock(&selftest_outer);
    spin_unlock(&selftest_outer);
    spin_unlock(&selftest_inner);
#ifndef CONFIG_DEBUG_LOCKS
    pr_err("selftest: lock-order needs CONFIG_DEBUG_LOCKS to be detected\n");
#endif
}

static void ipi_fn_taking_lock(void *info)
{
    static DEFINE_SPINLOCK(selftest_ipi_lock, LOCK_ORDER_TEST);

    (void)info;
    spin_lock(&selftest_ipi_lock);
    spin_unlock(&selftest_ipi_lock);
}

static unsigned ticks;           /* CPU 1's ticks printed so far (atomic) */
static bool ticks_wanted;       /* CPU 0 asks CPU 1 to tick (atomic) */

#define TICKER_CPU 1

void selftest_secondary(void)
{
    unsigned me = smp_processor_id();

    if (me != TICKER_CPU || !__atomic_load_n(&ticks_wanted, __ATOMIC_ACQUIRE))
        return;
    /* Interrupts stay off and nothing here answers an IPI: only an NMI stops this. */
    for (unsigned n = 1;; n++) {
        u64 until;

        printk("selftest: CPU%u tick %u\n", me, n);
        __atomic_store_n(&ticks, n, __ATOMIC_RELEASE);
        until = now_ns() + 2000000;
        while (now_ns() < until)
            __asm__ volatile("pause" ::: "memory");
    }
}

static void wake_fn(void *info)
{
    (void)info;
}

void selftest_run_smp(void)
{
    unsigned me = smp_processor_id();
    cpumask_t ticker;
    u64 give_up;

    if (strcmp(opt_selftest, "panic-smp"))
        return;
    if (num_online_cpus() <= TICKER_CPU || !cpu_online(TICKER_CPU)) {
        pr_err("selftest: panic-smp needs CPU %u online (QEMU -smp 2 or more)\n", TICKER_CPU);
        return;
    }
    __atomic_store_n(&ticks_wanted, true, __ATOMIC_RELEASE);
    cpumask_clear(&ticker);
    cpumask_set_cpu(TICKER_CPU, &ticker);
    on_selected_cpus(&ticker, wake_fn, NULL);   /* wakes it from its wait for the scheduler */
    give_up = now_ns() + 30000000000ULL;
    while (__atomic_load_n(&ticks, __ATOMIC_ACQUIRE) < 3) {
        if (now_ns() > give_up) {
            pr_err("selftest: CPU %u never printed 3 ticks\n", TICKER_CPU);
            return;
        }
        cpu_relax();
    }
    panic("selftest: panic on CPU %u while CPU %u prints with interrupts off\n", me, TICKER_CPU);
}

void selftest_run(void)
{
    if (!opt_selftest[0])
        return;
    if (!strcmp(opt_selftest, "panic-smp"))
        return;                 /* selftest_run_smp(), once the CPUs are up */
    printk("selftest: triggering '%s'\n", opt_selftest);
    if (!strcmp(opt_selftest, "fault-pf")) {
        volatile u64 *p = (volatile u64 *)0xffff87fffffff000ULL;
        (void)*p;
    } else if (!strcmp(opt_selftest, "fault-ud")) {
        __asm__ volatile("ud2");
    } else if (!strcmp(opt_selftest, "fault-gp")) {
        volatile u64 *p = (volatile u64 *)0x8000000000000000ULL;
        (void)*p;
    } else if (!strcmp(opt_selftest, "fault-de")) {
        volatile unsigned zero = 0;
        // cppcheck-suppress zerodiv ; the fault is the point of this test
        printk("%u\n", 1u / zero);
    } else if (!strcmp(opt_selftest, "fault-df")) {
        /* A fault whose frame cannot be pushed escalates to #DF. */
        __asm__ volatile("mov $0xffff87fffffff000, %%rsp; movq $0, (%%rsp)" ::: "memory");
    } else if (!strcmp(opt_selftest, "db-foreign")) {
        memset(foreign_stack + STACK_SIZE - CPU_INFO_SIZE, 0xa5, CPU_INFO_SIZE);
        __asm__ volatile("mov %%rsp, %%rbx\n\t"
                         "mov %0, %%rsp\n\t"
                         "int $1\n\t"
                         "mov %%rbx, %%rsp"
                         :: "r"(foreign_stack + STACK_SIZE / 2) : "rbx", "memory");
        printk("selftest: #DB on a foreign stack handled, boot goes on\n");
        return;
    } else if (!strcmp(opt_selftest, "nmi-foreign")) {
        const volatile u32 *seen = nmi_seen_counter();
        u32 before = *seen, low;
        volatile u32 *icr = lapic_nmi_icr_prepare(lapic_id(), &low);
        u64 left = 1ULL << 32;

        memset(foreign_stack + STACK_SIZE - CPU_INFO_SIZE, 0xa5, CPU_INFO_SIZE);
        /* Sent and waited for on the foreign stack, calling nothing there. */
        __asm__ volatile("mov %%rsp, %%rbx\n\t"
                         "mov %[stack], %%rsp\n\t"
                         "movl %[low], (%[icr])\n"
                         "1:\tcmpl %[before], (%[seen])\n\t"
                         "jne 2f\n\t"
                         "pause\n\t"
                         "dec %[left]\n\t"
                         "jnz 1b\n"
                         "2:\tmov %%rbx, %%rsp"
                         : [left] "+r"(left)
                         : [stack] "r"(foreign_stack + STACK_SIZE / 2), [low] "r"(low),
                           [icr] "r"(icr), [before] "r"(before), [seen] "r"(seen)
                         : "rbx", "memory", "cc");
        if (*seen == before) {
            pr_err("selftest: the NMI sent to this CPU never arrived\n");
            return;
        }
        /* Its report comes from NMI_WORK_VECTOR, once interrupts are on. */
        local_irq_enable();
        udelay(10000);
        local_irq_disable();
        printk("selftest: NMI on a foreign stack handled, boot goes on\n");
        return;
    } else if (!strcmp(opt_selftest, "mce-foreign")) {
        u64 left = 1ULL << 32;

        memset(foreign_stack + STACK_SIZE - CPU_INFO_SIZE, 0xa5, CPU_INFO_SIZE);
        printk("selftest: waiting on a foreign stack for a machine check (QEMU monitor: mce)\n");
        __asm__ volatile("mov %%rsp, %%rbx\n\t"
                         "mov %[stack], %%rsp\n"
                         "1:\tpause\n\t"
                         "dec %[left]\n\t"
                         "jnz 1b\n\t"
                         "mov %%rbx, %%rsp"
                         : [left] "+r"(left)
                         : [stack] "r"(foreign_stack + STACK_SIZE / 2)
                         : "rbx", "memory", "cc");
        pr_err("selftest: no machine check arrived\n");
        return;
    } else if (!strcmp(opt_selftest, "panic")) {
        panic("selftest: panic requested on the command line\n");
    } else if (!strcmp(opt_selftest, "lock-order")) {
        take_locks_out_of_order();
    } else if (!strcmp(opt_selftest, "ipi-lock")) {
        cpumask_t me;

        cpumask_clear(&me);
        cpumask_set_cpu(smp_processor_id(), &me);
        on_selected_cpus(&me, ipi_fn_taking_lock, NULL);
#ifndef CONFIG_DEBUG_LOCKS
        pr_err("selftest: ipi-lock needs CONFIG_DEBUG_LOCKS to be detected\n");
#endif
    } else {
        pr_err("selftest: unknown test '%s' (known: fault-pf fault-ud fault-gp fault-de fault-df db-foreign nmi-foreign mce-foreign panic lock-order ipi-lock panic-smp)\n",
               opt_selftest);
        return;
    }
    pr_err("selftest: '%s' did not fault\n", opt_selftest);
}

#endif
