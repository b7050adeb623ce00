/*
 * Deferred freeing after a grace period, the read side of which costs
 * nothing: a pointer found under a lock (a domain from domain_by_id())
 * stays valid until the CPU that found it next passes a quiescent point,
 * i.e. leaves the hypervisor for a guest or goes idle.  call_rcu() runs
 * its callback only once every CPU taking part has passed one since.
 *
 * Rule for readers: never keep such a pointer past the hypercall or trap
 * that found it; keep the id and look it up again.
 *
 * Every CPU calls rcu_quiescent() on its way back to a guest and in its
 * idle loop, and joins with rcu_cpu_online() before it handles hypercalls
 * (CPU 0 is in from the start); a CPU going down leaves with
 * rcu_cpu_offline() or grace periods stop ending.
 *
 * A CPU that halts with nothing to do brackets the halt with
 * rcu_idle_enter() / rcu_idle_exit(): grace periods do not wait for it
 * meanwhile.  An interrupt handler that runs during the halt may look
 * pointers up, so the interrupt path brackets handlers with
 * rcu_irq_enter() / rcu_irq_exit(), which leave idle for the handler.
 */
#ifndef MICA_RCU_H
#define MICA_RCU_H

#include <mica/types.h>

struct rcu_head {
    struct rcu_head *next;
    void (*func)(struct rcu_head *head);
};

void call_rcu(struct rcu_head *head, void (*func)(struct rcu_head *head));
/* This CPU holds no pointer found under RCU rules; cheap when nothing waits. */
void rcu_quiescent(void);
/* The same for CPU cpu (rcu_quiescent() is this with the caller's number). */
void rcu_quiescent_cpu(unsigned int cpu);
void rcu_cpu_online(unsigned int cpu);
void rcu_cpu_offline(unsigned int cpu);
void rcu_idle_enter(void);     /* runs callbacks: no lock may be held */
void rcu_idle_exit(void);
/* True if this CPU was idle; pass the answer to rcu_irq_exit(). */
bool rcu_irq_enter(void);
void rcu_irq_exit(bool was_idle);

#endif
