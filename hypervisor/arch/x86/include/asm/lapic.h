/* The local APIC of each CPU: timer and interrupt acknowledge. */
#ifndef ASM_LAPIC_H
#define ASM_LAPIC_H

#include <mica/types.h>

/* Maps and enables this CPU's local APIC; calibrates its timer. */
void lapic_init(void);
u32 lapic_id(void);
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
