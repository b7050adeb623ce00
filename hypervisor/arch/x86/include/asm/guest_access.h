/*
 * Reading and writing guest memory from a hypercall or a trap.
 *
 * Guest addresses are virtual addresses in the current guest page tables
 * (the running vCPU's).  Every access goes through routines that survive
 * a page fault: a bad guest pointer yields -XEN_EFAULT, never a Mica
 * crash.  Addresses inside the hypervisor's range are refused before any
 * access, so a guest cannot make Mica read or write Mica.
 */
#ifndef ASM_GUEST_ACCESS_H
#define ASM_GUEST_ACCESS_H

#include <mica/types.h>

/* 0 on success, -XEN_EFAULT if any byte could not be accessed. */
int copy_from_guest(void *dst, u64 guest_va, size_t len);
int copy_to_guest(u64 guest_va, const void *src, size_t len);

/* True when [va, va+len) is canonical and outside Mica's range. */
bool guest_range_ok(u64 va, size_t len);

/* Exception-table lookup for the fault handler: fixup address or 0. */
u64 search_exception_table(u64 rip);

#endif
