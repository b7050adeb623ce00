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
 */
#ifndef MICA_RCU_H
#define MICA_RCU_H

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

#endif
