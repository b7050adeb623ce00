/*
 * Hypercall 48, `mca` (public/xen_mca.h): machine-check telemetry for
 * the control domain, as far as Mica has any (arch/x86/mca.c).
 */
#ifndef ASM_MCA_H
#define ASM_MCA_H

#include <mica/types.h>

long do_mca(u64 arg);

#endif
