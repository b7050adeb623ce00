/*
 * The TLB-flush clock: when a frame may still sit in some CPU's TLB or
 * paging-structure caches.
 *
 * The clock ticks with every full flush done through flush_tlb_local(),
 * and each CPU remembers the tick of its last one.  A frame that loses
 * its last type reference (a page table leaving its type, a writable
 * page its last writable mapping) is stamped with the clock; before it
 * takes a different type, every CPU whose last flush is not later than
 * the stamp flushes (tlbflush_before_retype), because until then its
 * caches may still walk through the frame as the table it was, or write
 * it through a mapping that no longer exists.  Flushes not made through
 * flush_tlb_local() (CR3 loads at a context switch) do not tick: at worst
 * a retype flushes once more than needed.
 *
 * One CPU runs guests today, so "every CPU" is this one; with several,
 * the CPUs that may cache a domain's translations (its dirty mask) are
 * filtered by the same test and flushed with one IPI.
 */
#ifndef ASM_TLBFLUSH_H
#define ASM_TLBFLUSH_H

#include <mica/types.h>

/* The clock now: the stamp for a frame leaving its type. */
u32 tlbflush_now(void);
/* Full flush of this CPU's guest translations (CR3 reload), recorded. */
void flush_tlb_local(void);
/* Flushes every CPU that may still cache what was live at `stamp`. */
void tlbflush_before_retype(u32 stamp);

#endif
