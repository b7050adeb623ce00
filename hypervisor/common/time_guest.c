/*
 * Publishing time to PV guests: each vCPU's vcpu_time_info and the
 * domain's wall clock, both under the ABI's version protocol (odd while
 * being written, so a guest that sees an odd or changed version reads
 * again).
 */
#include <asm/time.h>
#include <mica/domain.h>
#include <mica/lib.h>
#include <mica/time_guest.h>

#define REPUBLISH_NS 1000000000ULL

static void barrier(void)
{
    __asm__ volatile("" ::: "memory");
}

void update_vcpu_time(struct vcpu *v)
{
    volatile struct vcpu_time_info *t = &v->vcpu_info->time;
    u64 tsc, sys;
    u32 mul;
    s8 shift;

    time_pvclock(&tsc, &sys, &mul, &shift);
    t->version++;
    barrier();
    t->tsc_timestamp = tsc;
    t->system_time = sys;
    t->tsc_to_system_mul = mul;
    t->tsc_shift = shift;
    t->flags = 0;
    barrier();
    t->version++;
    v->time_published_ns = sys;
}

void maybe_update_vcpu_time(struct vcpu *v, u64 now)
{
    if (v->time_published_ns == 0 || now - v->time_published_ns >= REPUBLISH_NS)
        update_vcpu_time(v);
}

void update_domain_wallclock(struct domain *d)
{
    volatile struct shared_info *s = d->shared_info;
    u64 sec = time_boot_wallclock();

    s->wc_version++;
    barrier();
    s->wc_sec = (u32)sec;
    s->wc_sec_hi = (u32)(sec >> 32);
    s->wc_nsec = 0;
    barrier();
    s->wc_version++;
}
