/* Time as PV guests see it: vcpu_time_info and the shared wall clock. */
#ifndef MICA_TIME_GUEST_H
#define MICA_TIME_GUEST_H

#include <mica/domain.h>

void update_vcpu_time(struct vcpu *v);
/* Republishes when v's copy is older than a second (or never written). */
void maybe_update_vcpu_time(struct vcpu *v, u64 now);
void update_domain_wallclock(struct domain *d);
/* platform_op settime: the wall clock reads secs.nsecs at system_time. */
void set_wallclock(u64 secs, u32 nsecs, u64 system_time);

#endif
