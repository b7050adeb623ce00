/*
 * tests/guests/tests/xpti.c with `xpti=0`: the same harness check, asked
 * the other way round (QEMU-MONITOR-REQUEST xpti-exposed), must find the
 * hypervisor's direct map in the guest's page tables: the check behind
 * the xpti test can fail, and without XPTI it would.
 */
#define XPTI_MONITOR_REQUEST "xpti-exposed"
#include "xpti.c"
