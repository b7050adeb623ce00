/*
 * Saving and restoring this CPU's interrupt flag, for locks that are also
 * taken from interrupt handlers (spin_lock_irqsave()).
 */
#ifndef ASM_IRQFLAGS_H
#define ASM_IRQFLAGS_H

#include <mica/types.h>

#define IRQFLAGS_IF (1UL << 9)

#ifdef MICA_HOST_TEST
/* Host unit tests run in user mode: no interrupt flag to change. */
static inline unsigned long local_save_flags(void) { return 0; }
static inline unsigned long local_irq_save(void) { return 0; }
static inline void local_irq_restore(unsigned long f) { (void)f; }
static inline bool local_irq_is_enabled(void) { return false; }
#else
static inline unsigned long local_save_flags(void)
{
    unsigned long f;

    __asm__ volatile("pushfq; popq %0" : "=r"(f) :: "memory");
    return f;
}

/* Disables interrupts; returns the flags to give local_irq_restore(). */
static inline unsigned long local_irq_save(void)
{
    unsigned long f = local_save_flags();

    __asm__ volatile("cli" ::: "memory");
    return f;
}

static inline void local_irq_restore(unsigned long f)
{
    if (f & IRQFLAGS_IF)
        __asm__ volatile("sti" ::: "memory");
}

static inline bool local_irq_is_enabled(void)
{
    return local_save_flags() & IRQFLAGS_IF;
}
#endif

#endif
