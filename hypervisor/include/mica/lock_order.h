/*
 * The lock order: every lock belongs to one class below, and a CPU may
 * only take a lock whose class is above every lock it already holds.
 * CONFIG_DEBUG_LOCKS checks this on every acquisition (mica/spinlock.h).
 * docs/smp.md explains each class and why it sits where it does.
 *
 * Classes are spaced so that two locks of one class can be nested with
 * a subclass (spin_lock_nested(): +1, +2, ...) when the code fixes their
 * order itself, e.g. two domains' event locks, lower domain id first.
 */
#ifndef MICA_LOCK_ORDER_H
#define MICA_LOCK_ORDER_H

enum lock_order {
    LOCK_ORDER_DOMCTL       = 10,  /* domctl_lock: one domctl at a time, as Xen */
    LOCK_ORDER_SYSCTL       = 14,  /* sysctl_lock */
    LOCK_ORDER_EVENT        = 20,  /* d->event_lock (+1: the second domain's) */
    LOCK_ORDER_PIRQ         = 24,  /* pirq_lock: the pirq table */
    LOCK_ORDER_MSI          = 26,  /* msi_lock: MSI device and vector tables */
    LOCK_ORDER_GRANT        = 30,  /* gt->lock (a granter's table; never two at once) */
    LOCK_ORDER_MAPTRACK     = 34,  /* gt->maptrack_lock: the mapper's handles */
    LOCK_ORDER_PAGE_TABLE   = 40,  /* d->arch.pt_lock: PV page-table updates */
    LOCK_ORDER_PAGE_ALLOC   = 50,  /* d->page_alloc_lock: page list, tot_pages */
    LOCK_ORDER_HEAP         = 60,  /* host_frames.lock: the frame allocator */
    LOCK_ORDER_XHEAP        = 62,  /* xheap_lock: xmalloc's heap */
    LOCK_ORDER_SCHED_CREDIT = 63,  /* credit_lock: the credit refill (sched.c) */
    LOCK_ORDER_SCHED        = 64,  /* a CPU's run-queue lock (sched.c); two only by trylock */
    LOCK_ORDER_DOMLIST      = 70,  /* domlist_lock: the domain list and id table */
    LOCK_ORDER_RCU          = 75,  /* rcu.lock: deferred-free batches */
    LOCK_ORDER_PCI_CONF     = 80,  /* pci_conf_lock: the 0xCF8/0xCFC latch */
    LOCK_ORDER_UNKNOWN_OP   = 85,  /* unknown_op_lock: the unknown-call report table */
    LOCK_ORDER_GUEST_CONSOLE = 87, /* d->console_rate_lock: a domU's console rate limit */
    LOCK_ORDER_CONSOLE      = 90,  /* console_lock: ring and UART */
    LOCK_ORDER_LOGDIRTY     = 95,  /* d->arch.logdirty.lock: the dirty bitmap; innermost (no printing under it) */
    LOCK_ORDER_TEST         = 100, /* unit tests and self tests only */
};

/* How far spin_lock_nested() may raise a class. */
#define LOCK_SUBCLASS_MAX 3

#endif
