/*
 * Domain life cycle: creation, shutdown, crash.
 */
#include <mica/domain.h>
#include <mica/event.h>
#include <mica/grant_table.h>
#include <mica/heap.h>
#include <mica/hypercall.h>
#include <mica/lib.h>
#include <mica/perfc.h>
#include <mica/page_alloc.h>
#include <mica/rcu.h>
#include <mica/sched.h>
#include <mica/spinlock.h>
#include <mica/time_guest.h>
#include <asm/guest_access.h>
#include <asm/paging.h>
#include <asm/power.h>
#include <asm/pv_teardown.h>
#include <asm/m2p.h>
#include <public/errno.h>
#include <public/sched.h>

/*
 * All domains, live and dying.  Readers look up under the read lock and
 * may use what they found until their CPU passes an RCU quiescent point
 * (mica/rcu.h): domain_free() unlinks under the write lock and frees the
 * struct only after a grace period.
 */
static DEFINE_RWLOCK(domlist_lock, LOCK_ORDER_DOMLIST);
static struct domain *domain_list;      /* guarded by domlist_lock */

static struct domain *find_locked(domid_t domid, bool dying_too)
{
    for (struct domain *d = domain_list; d; d = d->next)
        if (d->domid == domid && (dying_too || !READ_ONCE(d->is_dying)))
            return d;
    return NULL;
}

struct domain *domain_by_id(domid_t domid)
{
    struct domain *d;

    read_lock(&domlist_lock);
    d = find_locked(domid, false);
    read_unlock(&domlist_lock);
    return d;
}

struct domain *domain_by_id_any(domid_t domid)
{
    struct domain *d;

    read_lock(&domlist_lock);
    d = find_locked(domid, true);
    read_unlock(&domlist_lock);
    return d;
}

struct domain *domain_create(domid_t domid, bool privileged, unsigned max_vcpus)
{
    struct domain *d;
    mfn_t si;

    /* A dying domain's id stays taken: its held frames still carry it as owner. */
    if (max_vcpus == 0 || max_vcpus > MAX_VIRT_CPUS || domid >= DOMID_FIRST_RESERVED ||
        domain_by_id_any(domid))
        return NULL;
    d = xzalloc(sizeof(*d));
    if (!d)
        return NULL;
    si = alloc_frames(&host_frames, 0);
    if (si == INVALID_MFN) {
        xfree(d);
        return NULL;
    }
    d->domid = domid;
    spin_lock_init(&d->page_alloc_lock, "d->page_alloc_lock", LOCK_ORDER_PAGE_ALLOC);
    spin_lock_init(&d->event_lock, "d->event_lock", LOCK_ORDER_EVENT);
    spin_lock_init(&d->console_rate_lock, "d->console_rate_lock", LOCK_ORDER_GUEST_CONSOLE);
    arch_domain_locks_init(&d->arch);
    d->is_privileged = privileged;
    arch_domain_spec_init(d);
    d->max_vcpus = max_vcpus;
    /* No limit but the ABI's, as Xen's dom0 (createdomain sets its own). */
    d->max_evtchn_port = ~0u;
    d->sched_weight = 256;
    d->shared_info_mfn = si;
    d->shared_info = maddr_to_virt(si << PAGE_SHIFT);
    memset(d->shared_info, 0, PAGE_SIZE);
    mfn_to_page(&host_frames, si)->owner = domid;

    for (unsigned i = 0; i < max_vcpus; i++) {
        struct vcpu *v = xzalloc(sizeof(*v));
        if (!v) {
            /* A toolstack request must not bring Mica down: undo and refuse. */
            pr_err("out of heap creating vCPU %u of domain %u\n", i, domid);
            while (i--)
                xfree(d->vcpus[i]);
            mfn_to_page(&host_frames, si)->owner = PAGE_OWNER_NONE;
            free_frames(&host_frames, si, 0);
            xfree(d);
            return NULL;
        }
        v->vcpu_id = i;
        v->domain = d;
        v->state = VCPU_DOWN;
        v->runstate = RUNSTATE_offline;
        /* Like Xen, every vCPU starts with a 10 ms periodic timer. */
        v->periodic_period = 10000000ULL;
        v->vcpu_info = &d->shared_info->vcpu_info[i];
        /* Events start masked: the guest unmasks when it is ready. */
        v->vcpu_info->evtchn_upcall_mask = 1;
        sched_init_vcpu(v);
        d->vcpus[i] = v;
    }
    for (unsigned i = max_vcpus; i < XEN_LEGACY_MAX_VCPUS; i++)
        d->shared_info->vcpu_info[i].evtchn_upcall_mask = 1;
    sched_place_domain(d);
    if (grant_table_create(d)) {
        pr_err("out of memory creating the grant table of domain %u\n", domid);
        for (unsigned i = 0; i < max_vcpus; i++)
            xfree(d->vcpus[i]);
        mfn_to_page(&host_frames, si)->owner = PAGE_OWNER_NONE;
        free_frames(&host_frames, si, 0);
        xfree(d);
        return NULL;
    }

    update_domain_wallclock(d);
    /*
     * The id check at the top and this insertion are not one step under
     * domlist_lock: creations are serialised instead (boot, or domctl
     * under domctl_lock).
     */
    write_lock(&domlist_lock);
    d->next = domain_list;
    domain_list = d;
    write_unlock(&domlist_lock);
    return d;
}

struct domain *domain_next_from(domid_t first)
{
    struct domain *best = NULL;

    read_lock(&domlist_lock);
    for (struct domain *d = domain_list; d; d = d->next)
        if (d->domid >= first && (!best || d->domid < best->domid))
            best = d;
    read_unlock(&domlist_lock);
    return best;
}

/* A vCPU runs only while its domain is neither toolstack-paused nor shut down. */
static void domain_sync_vcpu_pause(struct domain *d)
{
    bool paused = d->controller_pause_count > 0 || d->is_shutdown;

    for (unsigned i = 0; i < d->max_vcpus; i++)
        if (d->vcpus[i])
            sched_set_paused(d->vcpus[i], paused);
}

int domain_pause_by_controller(struct domain *d)
{
    /* Bounded, as on Xen, so that repeated calls cannot wrap the count. */
    if (d->controller_pause_count >= 255)
        return -XEN_EOVERFLOW;
    d->controller_pause_count++;
    domain_sync_vcpu_pause(d);
    sched_sync_domain(d);       /* paused means not running, on any CPU */
    return 0;
}

/*
 * Mica's own short pauses (a log-dirty round): the same count as the
 * toolstack's, without ending the creation phase when it drops to 0.
 * Only under domctl_lock, like the toolstack's.
 */
void domain_pause_internal(struct domain *d)
{
    d->controller_pause_count++;
    domain_sync_vcpu_pause(d);
    sched_sync_domain(d);
}

void domain_unpause_internal(struct domain *d)
{
    if (d->controller_pause_count)
        d->controller_pause_count--;
    domain_sync_vcpu_pause(d);
}

int domain_unpause_by_controller(struct domain *d)
{
    if (d->controller_pause_count == 0)
        return -XEN_EINVAL;
    d->controller_pause_count--;
    if (!d->controller_pause_count)
        d->creation_finished = true;
    domain_sync_vcpu_pause(d);
    return 0;
}

/* VIRQ_DOM_EXC for dom0, as Xen sends it on shutdown, dying and death. */
static void notify_dom0_domain_exception(void)
{
    struct domain *d0 = domain_by_id(0);

    if (d0)
        send_guest_global_virq(d0, VIRQ_DOM_EXC);
}

static void domain_free_rcu(struct rcu_head *head)
{
    struct domain *d = (struct domain *)((char *)head - __builtin_offsetof(struct domain, rcu));

    /*
     * The vCPUs go with the domain, after the grace period: another CPU
     * may have found d (and one of its vCPUs) before it was dying.
     */
    for (unsigned i = 0; i < d->max_vcpus; i++)
        xfree(d->vcpus[i]);
    /* Nobody can set or read it now: the grace period covers both. */
    xfree(d->memory_map);
    xfree(d);
    /*
     * Whoever watches for dead domains (xenstored, through dom0) is told.
     * Here, with no lock held, rather than where the last held frame went
     * (under a page-table lock, below dom0's event lock in the order);
     * dom0 sees it before it runs again either way.
     */
    notify_dom0_domain_exception();
}

static void domain_free(struct domain *d)
{
    write_lock(&domlist_lock);
    for (struct domain **pp = &domain_list; *pp; pp = &(*pp)->next)
        if (*pp == d) {
            *pp = d->next;
            break;
        }
    write_unlock(&domlist_lock);
    printk("Domain %u destroyed\n", d->domid);
    /* Lookups on other CPUs may still hold d until their next quiescent point. */
    call_rcu(&d->rcu, domain_free_rcu);
}

/*
 * Like Xen, a domain whose frames another domain still maps stays, dying,
 * until the last of them is let go (pv_domain_relinquish_memory keeps
 * those frames and counts them in held_frames); getdomaininfo shows it.
 */
long domain_kill(struct domain *d, bool preemptible)
{
    struct page_info *pg;
    bool free_now;

    /* Already torn down, only waiting for other domains' mappings to go. */
    if (d->is_dying && !d->kill_in_progress)
        return 0;
    if (!d->is_dying) {
        if (d->domid != 0) {
            char why[40];
            snprintf(why, sizeof(why), "d%u destroyed", d->domid);
            perfc_dump(why);
        }
        /* From here on lookups (domain_by_id, event delivery) no longer see d. */
        d->is_dying = true;
        d->kill_in_progress = true;
        for (unsigned i = 0; i < d->max_vcpus; i++)
            if (d->vcpus[i]) {
                sched_set_paused(d->vcpus[i], true);
                sched_remove_vcpu(d->vcpus[i]);
            }
        sched_sync_domain(d);   /* no CPU may still run d on the memory freed below */

        /* Its claim goes (under the lock claim_pages checks is_dying under). */
        spin_lock(&d->page_alloc_lock);
        frame_pool_claim(&host_frames, &d->outstanding_pages, 0, 0, 0);
        spin_unlock(&d->page_alloc_lock);
    }
    /* Its ports (preemptible: up to 2^17 with FIFO), then, before the
     * memory, the mappings it holds go and its grant table is detached.
     * Both do nothing once done. */
    if (evtchn_domain_destroy(d, preemptible))
        return HYPERCALL_CONTINUE;
    grant_domain_destroy(d);
    if (pv_domain_relinquish_memory(d, preemptible))
        return HYPERCALL_CONTINUE;
    d->kill_in_progress = false;
    /* shared_info is the common code's own frame: scrub and free it here,
     * unless another domain still maps it (then it went with the held ones). */
    pg = mfn_to_page(&host_frames, d->shared_info_mfn);
    if (!(pg->count_info & PGC_HELD)) {
        memset(d->shared_info, 0, PAGE_SIZE);
        pg->owner = PAGE_OWNER_NONE;
        pg->count_info = 0;
        pg->type_info = 0;
        m2p_set(d->shared_info_mfn, INVALID_M2P_ENTRY);
        free_frames(&host_frames, d->shared_info_mfn, 0);
    }
    d->shared_info = NULL;

    /* From here the last domain_release_held() frees d, or this does now. */
    spin_lock(&d->page_alloc_lock);
    d->teardown_done = true;
    free_now = !d->held_frames;
    spin_unlock(&d->page_alloc_lock);
    if (!free_now) {
        printk("Domain %u dying: %llu frames still mapped by other domains\n", d->domid,
               (unsigned long long)d->held_frames);
        /* Dying (Xen raises it here too): dom0's daemons that still map the
         * domain's pages hear of it and let go, so that it can go. */
        notify_dom0_domain_exception();
        return 0;
    }
    domain_free(d);
    return 0;
}

void domain_destroy(struct domain *d)
{
    domain_kill(d, false);
}

void domain_release_held(struct domain *d)
{
    bool last;

    /*
     * Exactly one caller (or domain_kill()) sees the count reach 0 after
     * teardown; a preempted teardown has not set teardown_done, and frees
     * d itself when it has finished.
     */
    spin_lock(&d->page_alloc_lock);
    if (d->held_frames)
        d->held_frames--;
    last = d->is_dying && d->teardown_done && !d->held_frames;
    spin_unlock(&d->page_alloc_lock);
    if (last)
        domain_free(d);
}

void vcpu_runstate_change(struct vcpu *v, int state, u64 now)
{
    if (now > v->runstate_entry_ns) {
        v->runstate_time[v->runstate] += now - v->runstate_entry_ns;
        if (v->runstate == RUNSTATE_running) {
            if (v->domain->domid == 0)
                perfc_add(run_ns_dom0, now - v->runstate_entry_ns);
            else
                perfc_add(run_ns_domu, now - v->runstate_entry_ns);
        }
    }
    v->runstate = state;
    v->runstate_entry_ns = now;
}

/*
 * With VMASST_TYPE_runstate_update_flag the guest sees bit 63 of
 * state_entry_time set while the copy is being written, so it can retry.
 */
void vcpu_runstate_publish(struct vcpu *v)
{
    struct vcpu_runstate_info r;
    bool flag = v->domain->arch.vm_assist & (1ULL << VMASST_TYPE_runstate_update_flag);
    u64 va = v->runstate_guest_va;

    if (!va)
        return;
    r.state = v->runstate;
    r._pad = 0;
    r.state_entry_time = v->runstate_entry_ns;
    memcpy(r.time, v->runstate_time, sizeof(r.time));
    if (flag) {
        u64 marked = r.state_entry_time | XEN_RUNSTATE_UPDATE;
        copy_to_guest(va + __builtin_offsetof(struct vcpu_runstate_info, state_entry_time),
                      &marked, sizeof(marked));
        __asm__ volatile("" ::: "memory");
    }
    /* A bad address is the guest's loss: the copy is simply not made. */
    copy_to_guest(va, &r, sizeof(r));
}

static const char *shutdown_reason_name(u8 reason)
{
    static const char *const names[] = {
        "poweroff", "reboot", "suspend", "crash", "watchdog", "soft_reset",
    };
    return reason < ARRAY_SIZE(names) ? names[reason] : "unknown";
}

void domain_shutdown(struct domain *d, u8 reason)
{
    /* Once, whichever CPU gets here first (two vCPUs may shut d down at once). */
    if (__atomic_exchange_n(&d->is_shutdown, true, __ATOMIC_ACQ_REL))
        return;
    d->shutdown_reason = reason;
    printk("Domain %u shut down: %s%s\n", d->domid, shutdown_reason_name(reason),
           d->shutdown_code_set ? " (code recorded earlier)" : "");
    for (unsigned i = 0; i < d->max_vcpus; i++) {
        sched_set_paused(d->vcpus[i], true);
        sched_remove_vcpu(d->vcpus[i]);
    }
    /* As Xen does: dom0's xenstored learns of the shutdown and fires
     * @releaseDomain for the toolstack. */
    if (d->domid != 0)
        notify_dom0_domain_exception();
    domain_check_machine_end();
}

void domain_resume(struct domain *d)
{
    if (d->is_shutdown)
        printk("Domain %u resumed after shutdown (%s)\n", d->domid,
               shutdown_reason_name(d->shutdown_reason));
    d->is_shutdown = false;
    d->shutdown_reason = 0;
    d->shutdown_code_set = false;
    d->shutdown_code = 0;
    /* domain_shutdown took every vCPU off the run queue. */
    for (unsigned i = 0; i < d->max_vcpus; i++)
        if (d->vcpus[i] && d->vcpus[i]->state != VCPU_DOWN)
            sched_add_vcpu(d->vcpus[i]);
    domain_sync_vcpu_pause(d);
}

void domain_crash(struct domain *d, const char *fmt, ...)
{
    char msg[160];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    pr_err("Domain %u crashed: %s\n", d->domid, msg);
    domain_shutdown(d, SHUTDOWN_crash);
}

/*
 * Like Xen: when the initial domain shuts down, the machine follows it
 * (power off, reboot, or for a crash the crash policy of `noreboot`).
 */
void domain_check_machine_end(void)
{
    struct domain *d0 = domain_by_id(0);

    if (!d0 || !d0->is_shutdown)
        return;
    perfc_dump("machine end");
    switch (d0->shutdown_code_set ? d0->shutdown_code : d0->shutdown_reason) {
    case SHUTDOWN_poweroff:
        printk("Domain 0 powered off: powering off the machine\n");
        machine_power_off();
    case SHUTDOWN_reboot:
        printk("Domain 0 rebooted: rebooting the machine\n");
        machine_restart();
    case SHUTDOWN_crash:
        printk("Domain 0 crashed\n");
        machine_crash_stop();
    default:
        printk("Domain 0 shut down (reason %u): halting the machine\n", d0->shutdown_reason);
        machine_halt();
    }
}
