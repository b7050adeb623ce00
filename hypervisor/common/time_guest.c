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
#include <asm/atomic.h>

#define REPUBLISH_NS 1000000000ULL
#define NS_PER_SEC   1000000000ULL

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

/*
 * The wall clock at system time 0.  Until the control domain sets it
 * (platform_op settime), the RTC's reading at start of day, to the second.
 */
static bool wc_was_set;
static u64 wc_sec;
static u32 wc_nsec;

void update_domain_wallclock(struct domain *d)
{
    volatile struct shared_info *s = d->shared_info;
    u64 sec = wc_was_set ? wc_sec : time_boot_wallclock();
    u32 nsec = wc_was_set ? wc_nsec : 0;

    s->wc_version++;
    barrier();
    s->wc_sec = (u32)sec;
    s->wc_sec_hi = (u32)(sec >> 32);
    s->wc_nsec = nsec;
    barrier();
    s->wc_version++;
}

/*
 * The clock reads secs.nsecs when system time reads system_time: store
 * the reading at system time 0 and publish it to every domain.  A time
 * before 1970 + system_time is not representable; it clamps to 0.
 */
void set_wallclock(u64 secs, u32 nsecs, u64 system_time)
{
    u64 ns;

    if (secs > (~0ULL - nsecs) / NS_PER_SEC)
        secs = (~0ULL - nsecs) / NS_PER_SEC;     /* beyond year 2554: saturate */
    ns = secs * NS_PER_SEC + nsecs;
    ns = ns > system_time ? ns - system_time : 0;
    wc_sec = ns / NS_PER_SEC;
    wc_nsec = (u32)(ns % NS_PER_SEC);
    wc_was_set = true;
    for (domid_t id = 0; id < DOMID_FIRST_RESERVED; id++) {
        struct domain *d = domain_by_id(id);
        if (d)
            update_domain_wallclock(d);
    }
}
