/*
 * TLB flushes: the flush clock, and flushes of other CPUs (docs/smp.md,
 * "IPIs and TLB shootdown").
 *
 * The clock ticks with every full flush of a CPU's guest translations:
 * flush_tlb_local(), and every CR3 load that leaves one address space
 * for another (switch_cr3(), at a context switch); each CPU remembers
 * the tick of its last one.  A frame that loses its last type reference
 * (a page table leaving its type, a writable page its last writable
 * mapping) is stamped with the clock; before it takes a different type,
 * every CPU that may still cache it and whose last flush is not later
 * than the stamp flushes (tlbflush_before_retype), because until then its
 * caches may still walk through the frame as the table it was, or write
 * it through a mapping that no longer exists.
 *
 * Which CPUs may cache a domain's translations: its dirty mask
 * (d->arch.dirty_cpumask), kept by arch_context_switch().  Guest
 * mappings are never global (PTE_G is stripped), so a CR3 load drops
 * them all.
 */
#ifndef ASM_TLBFLUSH_H
#define ASM_TLBFLUSH_H

#include <mica/cpumask.h>
#include <mica/types.h>

struct domain;

/* The clock now: the stamp for a frame leaving its type. */
u32 tlbflush_now(void);
/* Full flush of this CPU's guest translations (CR3 reload), recorded. */
void flush_tlb_local(void);
/* Loads CR3 with a different address space; counts as a full flush. */
void switch_cr3(u64 cr3);
/* Invalidates one guest linear address on this CPU. */
static inline void flush_tlb_one_local(u64 va)
{
    __asm__ volatile("invlpg (%0)" :: "r"(va) : "memory");
}
/* The clock at cpu's last full flush. */
u32 tlbflush_last(unsigned cpu);
/* Takes out of mask every CPU that has flushed since stamp. */
void tlbflush_filter(cpumask_t *mask, u32 stamp);
/*
 * Flushes every CPU that may still cache what was live at `stamp` in
 * owner's address spaces (owner NULL: any CPU online).
 */
void tlbflush_before_retype(const struct domain *owner, u32 stamp);

/*
 * Flushes (all guest translations / one linear address of) the CPUs in
 * mask, this one included if it is in it, and returns once all have.
 * Offline CPUs in mask are ignored.  May be called with any lock held
 * (the other CPUs answer without taking one; docs/smp.md).
 */
void flush_tlb_mask(const cpumask_t *mask);
void flush_tlb_one_mask(const cpumask_t *mask, u64 va);
/* Flushes the CPUs that may hold d's translations (its dirty mask). */
void flush_tlb_domain(const struct domain *d);

#endif
