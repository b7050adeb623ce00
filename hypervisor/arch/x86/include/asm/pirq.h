/*
 * Physical IRQs for the control domain: a GSI mapped to a "pirq" with
 * physdev_op, bound to an event channel with EVTCHNOP_bind_pirq, and
 * delivered as an event; level-triggered lines stay masked until dom0
 * says it is done (PHYSDEVOP_eoi).
 */
#ifndef ASM_PIRQ_H
#define ASM_PIRQ_H

#include <mica/domain.h>

long pirq_physdev_op(struct domain *d, int cmd, u64 arg);

/* For event_channel.c: bind/unbind pirq of d to port; 0 or -XEN_E*. */
long pirq_bind(struct domain *d, u32 pirq, u32 port);
void pirq_unbind(struct domain *d, u32 pirq);
/* PHYSDEVOP_pirq_eoi_gmfn_v2 (any PV domain); the teardown's release of that page. */
long pirq_eoi_map_register(struct domain *d, u64 arg);
void pirq_eoi_map_release(struct domain *d);

/* True when cmd is one of the interrupt-routing physdev ops handled here. */
bool pirq_physdev_handles(int cmd);

#endif
