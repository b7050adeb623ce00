/*
 * The rules a schema cannot express: values checked against each other
 * (memory limits, vCPU counts, unique disks and MACs) and against this
 * machine (files that must exist).
 */
#ifndef MICA_DOMCFG_CHECK_H
#define MICA_DOMCFG_CHECK_H

#include "diag.h"
#include "domcfg.h"
#include "parse.h"

/* 0 when every rule holds, -1 after reporting each one that does not. */
int domcfg_check(const struct domain_config *cfg, const struct domcfg_where *where,
                 unsigned flags, struct domcfg_diags *diags);

#endif
