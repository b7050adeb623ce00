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

/* At boot, after the CPUs came up: every online CPU answers a call and a flush. */
void smp_ipi_boot_check(void);

/* Counters for tests and the debug keys: calls sent, and run for others. */
u64 smp_calls_sent(void);
u64 smp_calls_answered(void);

#endif
