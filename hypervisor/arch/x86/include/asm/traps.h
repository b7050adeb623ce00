/* Exception and interrupt dispatch. */
#ifndef ASM_TRAPS_H
#define ASM_TRAPS_H

#include <asm/regs.h>

#define FIRST_DYNAMIC_VECTOR 0x20
#define SPURIOUS_VECTOR      0xff
#define LAPIC_TIMER_VECTOR   0xf0
#define UART_VECTOR          0xf1
#define RESCHEDULE_VECTOR    0xf2   /* another CPU made work for this one */
#define CALL_FUNCTION_VECTOR 0xf3   /* another CPU waits for this one to run a function (asm/ipi.h) */
#define NMI_WORK_VECTOR      0xf4   /* an NMI handler left work for this CPU (nmi.c) */

typedef void (*irq_handler_t)(struct cpu_regs *regs);

/* Routes an interrupt vector (>= 0x20) to handler. */
void set_irq_handler(unsigned vector, irq_handler_t handler);

void do_trap(struct cpu_regs *regs);

/* NMI handling (nmi.c): called from do_trap() on the NMI's own stack or the guest frame. */
void do_nmi(struct cpu_regs *regs);
/* #MC (nmi.c): a fatal report naming what it interrupted; does not return. */
void do_machine_check(struct cpu_regs *regs) __attribute__((noreturn));
/* NMIs taken on this CPU so far (self tests wait for one). */
const volatile u32 *nmi_seen_counter(void);
/* Sets up the deferred half of NMI handling; after lapic_init(). */
void nmi_init(void);
/* Reports regs as a fatal event headed by line and stops the machine. */
void fatal_trap_report(struct cpu_regs *regs, const char *line) __attribute__((noreturn));

/* Prints a stack trace starting from the frame pointer rbp. */
void show_stack_trace(u64 rip, u64 rbp);
void show_registers(const struct cpu_regs *regs);

#endif
