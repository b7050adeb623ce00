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

typedef void (*irq_handler_t)(struct cpu_regs *regs);

/* Routes an interrupt vector (>= 0x20) to handler. */
void set_irq_handler(unsigned vector, irq_handler_t handler);

void do_trap(struct cpu_regs *regs);

/* Prints a stack trace starting from the frame pointer rbp. */
void show_stack_trace(u64 rip, u64 rbp);
void show_registers(const struct cpu_regs *regs);

#endif
