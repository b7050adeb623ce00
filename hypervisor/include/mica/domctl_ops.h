/*
 * domctl sub-operations that live in their own files, called from
 * do_domctl's dispatch for an existing domain d (self is the caller's
 * domain).  Each returns 0 or a negative Xen errno and sets *copyback
 * when the domctl goes back to the caller, as on Xen.
 */
#ifndef MICA_DOMCTL_OPS_H
#define MICA_DOMCTL_OPS_H

#include <mica/domain.h>
#include <public/domctl.h>

long domctl_pv_setup(struct domain *self, struct domain *d, struct xen_domctl *op,
                     bool *copyback);

#endif
