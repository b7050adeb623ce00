/*
 * Hypercall handlers that are not architecture specific.  Arguments are
 * the guest's raw register values; pointers are guest virtual addresses
 * and are only ever touched through copy_from_guest/copy_to_guest.
 */
#ifndef MICA_HYPERCALL_H
#define MICA_HYPERCALL_H

#include <mica/types.h>

long do_xen_version(int cmd, u64 arg);
long do_console_io(int cmd, u64 count, u64 buf);
long do_sched_op(int cmd, u64 arg);
long do_set_timer_op(u64 timeout);
long do_vcpu_op(int cmd, unsigned vcpuid, u64 arg);
long do_vm_assist(unsigned cmd, unsigned type);
/* The assists a 64-bit PV guest may set, as Xen 4.17 defines them. */
#define VMASST_KNOWN_MASK ((1ULL << VMASST_TYPE_4gb_segments) |             \
                           (1ULL << VMASST_TYPE_4gb_segments_notify) |      \
                           (1ULL << VMASST_TYPE_writable_pagetables) |      \
                           (1ULL << VMASST_TYPE_pae_extended_cr3) |         \
                           (1ULL << VMASST_TYPE_architectural_iopl) |       \
                           (1ULL << VMASST_TYPE_runstate_update_flag) |     \
                           (1ULL << VMASST_TYPE_m2p_strict))
long do_event_channel_op(int cmd, u64 arg);
long do_memory_op(u64 cmd, u64 arg);

/*
 * Long hypercalls give the CPU back (docs/hypercalls.md), with Xen's
 * continuation model: between two pieces of work (never before the
 * first) a handler asks hypercall_preempt_check(); when it says yes the
 * handler records how far it got in the guest-visible arguments with
 * hypercall_continue_args() and returns HYPERCALL_CONTINUE.  A top-level
 * call then has its argument registers rewritten and its SYSCALL
 * re-executed; a call inside a multicall has its entry's arguments
 * rewritten, and the multicall itself continues at that entry.  Either
 * way the continued call starts from scratch: it reads and checks every
 * argument again, as any other call.
 */
#define HYPERCALL_CONTINUE (-85L)    /* XEN_ERESTART: never seen by a guest */
bool hypercall_preempt_check(void);
void hypercall_continue_args(u64 a0, u64 a1, u64 a2);
/* The same with the fourth argument too (Xen's "carry the result" continuations). */
void hypercall_continue_args4(u64 a0, u64 a1, u64 a2, u64 a3);
/* A continuation that re-issues the call with its arguments as they are. */
void hypercall_continue_unchanged(void);

/*
 * Guest output on the console (dom0's console_io, domU lines): domid's
 * text as it is.  more: this is a piece of a longer write whose next
 * piece follows (console_io.c); while such a write leaves its line open,
 * other output (Mica's messages, other domains' lines) waits, so the
 * guest's line is not cut (console.c).
 */
void console_guest_write(unsigned domid, const char *s, size_t n, bool more);

#endif
