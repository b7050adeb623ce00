/*
 * XPTI (XSA-254, Meltdown): while a vCPU of a domain with `xpti=` on
 * (d->arch.xpti) runs in guest mode, the CPU runs on a root page table of
 * its own instead of the guest's L4.  The root table holds the guest's
 * own L4 slots (copied from the L4 in use) and of Mica's slots 256-271
 * only the read-only M2P (slot 256), the per-domain area (slot 260: the
 * guest's GDT and LDT views) and copies of the few pages the CPU needs
 * to take an interrupt or exception and run the entry code: the entry
 * text (.text.entry), this CPU's stack block (cpu_info, the primary and
 * IST stacks), its GDT and TSS pages and the IDT's page.  No direct map,
 * no image beyond that: a Meltdown-affected CPU then has nothing of
 * Mica's to read speculatively from guest mode.
 *
 * Entry code loads the full tables before anything else, the exit loads
 * the root table last (entry.S, cpu_info's xen_cr3 / pv_cr3).  The root
 * table's copy of the guest slots is refreshed on the exit whenever the
 * L4 in CR3 is another one than last time or root_pgt_changed is set:
 * by a context switch, a guest root loaded (xpti_guest_root_loaded()),
 * and on every CPU running the domain when one of
 * its L4 entries changes (xpti_l4_written()).  While such a vCPU runs,
 * CR4.PGE is off (as Xen's pv_make_cr4), so that no global translation
 * of Mica's survives the switch to the root table; Mica never uses PCID,
 * so every switch flushes the TLB.
 */
#ifndef ASM_XPTI_H
#define ASM_XPTI_H

#include <asm/current.h>
#include <mica/types.h>

struct domain;
struct vcpu;

/*
 * Builds CPU cpu's root page table (run by the boot CPU, before cpu
 * runs, with the frame allocator up) when any domain kind uses XPTI.
 * False, with a message, if Mica's tables lack one of the pages.
 */
bool xpti_cpu_setup(unsigned cpu, const u8 *stack_block);

/*
 * The last C code of every exit to a vCPU of an XPTI domain, interrupts
 * off: refreshes the root table's guest slots if needed and arms the
 * switch (pv_cr3).  The caller tests d->arch.xpti: without XPTI the exit
 * costs that one branch (pv_cr3 stays 0 from the context switch).
 */
void xpti_prepare_exit(void);

/*
 * At a context switch, after next's tables are loaded (next NULL: idle):
 * disarms the switch until next's first exit, asks for a fresh copy (the
 * L4 in use may be a recycled frame at the same address), and sets
 * CR4.PGE for next (off for XPTI vCPUs, on for others; left alone idle).
 */
void xpti_context_switch(const struct vcpu *next);

/*
 * A guest root was just loaded into CR3 on this CPU (a new baseptr, the
 * kernel/user switch): copy the guest slots again before the exit, as
 * Xen's write_ptbase and toggle_guest_mode do.  Comparing the L4's
 * address with the last one copied is not enough: within one multicall
 * a guest can leave an L4, unpin it, rewrite it as a plain page, pin it
 * again and load it, and the root table would keep the old entries,
 * whose tables may no longer be tables by then.
 */
static inline void xpti_guest_root_loaded(void)
{
    get_cpu_info()->root_pgt_changed = 1;
}

/*
 * An entry of one of d's L4 tables was written (under d's pt_lock): this
 * CPU and every other CPU that may run d refresh their root table's guest
 * slots before they next run d's guest code.  Synchronous: when it
 * returns, no CPU runs d on a stale copy.
 */
void xpti_l4_written(const struct domain *d);

#endif
