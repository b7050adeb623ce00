/*
 * Inter-processor interrupts (docs/smp.md, "IPIs and TLB shootdown").
 *
 * - Reschedule (RESCHEDULE_VECTOR): "look at your run queue"; the
 *   scheduler sends it and nothing waits for an answer.
 * - Call function (CALL_FUNCTION_VECTOR): run fn(info) on a set of CPUs
 *   and wait until every one has.  TLB shootdown (asm/tlbflush.h) is one
 *   such call.
 *
 * Rules for a function run this way: it runs with interrupts off, on
 * whatever the target CPU was doing (a guest, idle, or any point of
 * Mica's code where it waits in cpu_relax(), locks held included), so it
 * takes no lock, sends no IPI, does not print, does not fault, and is
 * short.  The wait for the answers may happen with any lock held: no
 * CPU needs a lock to answer.
 */
#ifndef ASM_IPI_H
#define ASM_IPI_H

#include <mica/cpumask.h>
#include <mica/types.h>

typedef void (*ipi_fn_t)(void *info);

/*
 * Runs fn(info) on every online CPU in mask (here too, directly, if this
 * CPU is in it) and returns once all have returned.  A CPU that does not
 * answer for a long time is reported, and after CALL_GIVE_UP_S the
 * machine stops with a panic naming it (never a silent hang).
 */
void on_selected_cpus(const cpumask_t *mask, ipi_fn_t fn, void *info);

/*
 * Runs fn(info) here while every other online CPU waits in Mica's code,
 * interrupts off, touching no device (each answers a call whose function
 * waits until fn has returned); returns once they all went back to what
 * they were doing.  For an action that must not overlap any other CPU's
 * device access: a PCI configuration write (arch/x86/pci_conf.c says
 * why).  fn runs under the usual rules, not those of a called function.
 * The caller serialises holds (one at a time; a second at once stops
 * Mica with a panic), and like on_selected_cpus() may hold any lock.
 */
void smp_call_others_held(ipi_fn_t fn, void *info);

/* Sends the reschedule IPI to cpu (another CPU, online); nothing waits. */
void smp_send_reschedule(unsigned cpu);

/*
 * Called on the interrupt path for CALL_FUNCTION_VECTOR, before any lock
 * is taken: runs what is queued for this CPU and acknowledges the
 * interrupt.
 */
void smp_call_function_interrupt(void);

/* Runs what other CPUs queued for this one (from cpu_relax()). */
void smp_ipi_poll(void);

/*
 * On a crash, before the report: the first CPU to call it stops every
 * other online CPU with an NMI (each halts for good) and waits up to 2 s
 * for them, then writes into report (for the crash report; empty on one
 * CPU) how many stopped.  A CPU calling it while another CPU reports a
 * crash halts at once, silently.  Interrupts must be off.
 */
void smp_crash_stop_others(char *report, size_t size);
/*
 * The NMI handler's first step: if another CPU is reporting a crash,
 * halts this CPU for good (does not return); otherwise returns false.
 */
bool smp_crash_nmi(void);

/* At boot, after the CPUs came up: every online CPU answers a call and a flush. */
void smp_ipi_boot_check(void);

/* Counters for tests and the debug keys: calls sent, and run for others. */
u64 smp_calls_sent(void);
u64 smp_calls_answered(void);

#endif
