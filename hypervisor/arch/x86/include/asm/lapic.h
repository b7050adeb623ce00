/* The local APIC of each CPU: timer and interrupt acknowledge. */
#ifndef ASM_LAPIC_H
#define ASM_LAPIC_H

#include <mica/types.h>

/* Maps and enables this CPU's local APIC; calibrates its timer. */
void lapic_init(void);
/* Enables this CPU's LAPIC with the timer masked (secondary CPUs). */
void lapic_enable_this_cpu(void);
u32 lapic_id(void);
/* INIT and startup IPIs; false when the ICR never reported delivery. */
bool lapic_send_init(u32 apic_id);
bool lapic_send_startup(u32 apic_id, paddr_t entry);   /* entry: 4 KiB aligned, below 1 MiB */
/* A fixed interrupt on vector to one CPU. */
void lapic_send_ipi(u32 apic_id, unsigned vector);
/* An NMI to apic_id (stopping CPUs on a crash); false if the ICR stayed busy. */
bool lapic_send_nmi(u32 apic_id);
/* A fixed interrupt on vector to this CPU, safe to send from an NMI handler. */
void lapic_self_ipi_from_nmi(unsigned vector);
/*
 * Self tests: addresses the next ICR command to apic_id and returns the
 * ICR's low half and, in *low, the value that sends it an NMI, for code
 * that must send it without calling anything (on a foreign stack).
 */
volatile u32 *lapic_nmi_icr_prepare(u32 apic_id, u32 *low);
void lapic_eoi(void);
/* Timer ticks (after the divider) per millisecond. */
u32 lapic_timer_ticks_per_ms(void);
/* Arms a one-shot timer interrupt `ns` from now on LAPIC_TIMER_VECTOR. */
void lapic_timer_oneshot(u64 ns);
/* Timer interrupts taken so far. */
u64 lapic_timer_interrupts(void);
/* Masks the legacy 8259 PICs so they cannot raise stray vectors. */
void pic_disable(void);

#endif
