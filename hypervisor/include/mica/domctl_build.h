/*
 * MICA_DOMCTL_build_pv (public/mica_domctl.h): building a toolstack
 * domain with the boot-time builder.
 */
#ifndef MICA_DOMCTL_BUILD_H
#define MICA_DOMCTL_BUILD_H

#include <mica/domain.h>
#include <public/domctl.h>

/*
 * Builds d for the caller self from op->u (struct mica_domctl_build_pv),
 * writing the results back into op->u.  On failure of a fresh domain, d
 * is destroyed; a built one (-EEXIST) is left alone.
 */
long domctl_build_pv(struct domain *self, struct domain *d, struct xen_domctl *op);

#endif
