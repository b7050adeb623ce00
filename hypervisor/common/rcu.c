/*
 * Grace periods for deferred frees (mica/rcu.h), in batches: callbacks
 * queued meanwhile wait in `next`; the batch in `cur` ends when every CPU
 * in `waiting` has passed a quiescent point, then `next` becomes the new
 * batch with all online CPUs to wait for, except those halted in idle:
 * a halted CPU holds no pointer and may not wake for a long time, so
 * waiting for it would hold every deferred free back until it did.
 */
#include <mica/rcu.h>
#include <mica/cpumask.h>
#include <mica/percpu.h>
#include <mica/spinlock.h>

static struct {
    spinlock_t lock;
    struct rcu_head *next;      /* guarded by lock: queued, batch not started */
    struct rcu_head *cur;       /* guarded by lock: the batch waiting for CPUs */
    cpumask_t waiting;          /* guarded by lock: CPUs cur still waits for */
    cpumask_t online;           /* guarded by lock: CPUs that take part */
    cpumask_t idle;             /* guarded by lock: online CPUs between idle enter and exit */
    bool pending;               /* next or cur not empty; read without the lock */
} rcu = {
    .lock = SPIN_LOCK_UNLOCKED("rcu.lock", LOCK_ORDER_RCU),
    .online = { .bits = { 1 } },            /* the boot CPU */
};

/* This CPU's bit in rcu.idle, read by the interrupt path without the lock. */
static DEFINE_PER_CPU(bool, rcu_idle);

void call_rcu(struct rcu_head *head, void (*func)(struct rcu_head *head))
{
    head->func = func;
    spin_lock(&rcu.lock);
    head->next = rcu.next;
    rcu.next = head;
    WRITE_ONCE(rcu.pending, true);
    spin_unlock(&rcu.lock);
}

/* Under rcu.lock: cpu has passed a quiescent point; returns a finished batch. */
static struct rcu_head *note_quiescent(unsigned int cpu)
{
    struct rcu_head *done = NULL;

    if (rcu.cur)
        __cpumask_clear_cpu(cpu, &rcu.waiting);
    for (;;) {
        if (rcu.cur && cpumask_empty(&rcu.waiting)) {
            /* Chain the finished batch onto what earlier rounds finished. */
            struct rcu_head **tail = &rcu.cur;
            while (*tail)
                tail = &(*tail)->next;
            *tail = done;
            done = rcu.cur;
            rcu.cur = NULL;
        }
        if (rcu.cur || !rcu.next)
            break;
        rcu.cur = rcu.next;
        rcu.next = NULL;
        cpumask_andnot(&rcu.waiting, &rcu.online, &rcu.idle);
        /* Whatever this CPU queued, it queued before this point. */
        __cpumask_clear_cpu(cpu, &rcu.waiting);
    }
    WRITE_ONCE(rcu.pending, rcu.cur || rcu.next);
    return done;
}

static void run_callbacks(struct rcu_head *h)
{
    while (h) {
        struct rcu_head *next = h->next;
        h->func(h);
        h = next;
    }
}

void rcu_quiescent_cpu(unsigned int cpu)
{
    struct rcu_head *done;

    if (!READ_ONCE(rcu.pending))
        return;
    spin_lock(&rcu.lock);
    done = note_quiescent(cpu);
    spin_unlock(&rcu.lock);
    run_callbacks(done);
}

void rcu_quiescent(void)
{
    rcu_quiescent_cpu(smp_processor_id());
}

void rcu_cpu_online(unsigned int cpu)
{
    spin_lock(&rcu.lock);
    __cpumask_set_cpu(cpu, &rcu.online);
    spin_unlock(&rcu.lock);
}

void rcu_idle_enter(void)
{
    unsigned int cpu = smp_processor_id();
    struct rcu_head *done;

    spin_lock(&rcu.lock);
    __cpumask_set_cpu(cpu, &rcu.idle);
    this_cpu(rcu_idle) = true;
    done = note_quiescent(cpu);
    spin_unlock(&rcu.lock);
    run_callbacks(done);
}

/*
 * The lock orders this against the batch start on other CPUs: a batch
 * started before it may leave this CPU out, and such a batch's objects
 * were unlinked before, so this CPU cannot find them afterwards.
 */
void rcu_idle_exit(void)
{
    spin_lock(&rcu.lock);
    __cpumask_clear_cpu(smp_processor_id(), &rcu.idle);
    this_cpu(rcu_idle) = false;
    spin_unlock(&rcu.lock);
}

bool rcu_irq_enter(void)
{
    if (!this_cpu(rcu_idle))
        return false;
    rcu_idle_exit();
    return true;
}

void rcu_irq_exit(bool was_idle)
{
    if (was_idle)
        rcu_idle_enter();
}

void rcu_cpu_offline(unsigned int cpu)
{
    struct rcu_head *done;

    spin_lock(&rcu.lock);
    __cpumask_clear_cpu(cpu, &rcu.online);
    __cpumask_clear_cpu(cpu, &rcu.idle);
    done = note_quiescent(cpu);
    spin_unlock(&rcu.lock);
    run_callbacks(done);
}
