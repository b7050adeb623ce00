/*
 * Debug keys: what Mica tells a person at the serial console once input
 * has been switched to it (Ctrl-A three times).
 */
#include <mica/console.h>
#include <mica/context.h>
#include <mica/domain.h>
#include <mica/lib.h>
#include <mica/perfc.h>

#ifdef CONFIG_PERF_COUNTERS
#define IS_ENABLED_PERFC 1
#else
#define IS_ENABLED_PERFC 0
#endif

static const char *const state_names[] = { "down", "runnable", "blocked" };

static void show_domains(void)
{
    for (domid_t id = 0; id < DOMID_FIRST_RESERVED; id++) {
        struct domain *d = domain_by_id(id);
        if (!d)
            continue;
        printk("d%u: %s%s, %llu pages of %llu, weight %u cap %u\n", d->domid,
               d->is_privileged ? "privileged" : "guest", d->is_shutdown ? ", shut down" : "",
               (unsigned long long)d->tot_pages, (unsigned long long)d->max_pages,
               d->sched_weight, d->sched_cap);
        for (unsigned i = 0; i < d->max_vcpus; i++) {
            struct vcpu *v = d->vcpus[i];
            printk("  vcpu %u: %s%s, %llu ms run, upcall pending %u mask %u\n", i,
                   state_names[v->state], v->paused ? " (paused)" : "",
                   (unsigned long long)(v->runtime_ns / 1000000),
                   v->vcpu_info->evtchn_upcall_pending, v->vcpu_info->evtchn_upcall_mask);
        }
    }
}

void debug_key(char c)
{
    switch (c) {
    case 'd':
        show_domains();
        break;
    case 'r':
        arch_show_guest_frame();
        break;
#ifdef CONFIG_PERF_COUNTERS
    case 'p':
        perfc_dump("debug key");
        break;
#endif
    case 'h':
    default:
        printk("Mica debug keys: 'd' domains and vCPUs, 'r' the running guest's registers, %s'h' this help; "
               "Ctrl-A three times gives input back to dom0\n",
               IS_ENABLED_PERFC ? "'p' performance counters since the last dump, " : "");
        break;
    }
}
