/*
 * gnt_v2 booted with `spec-ctrl=branch-harden=0`: every evaluate_nospec()
 * barrier patched to a NOP at boot, and the code around them still right
 * on the paths the barriers guard most here (the grant-table version
 * checks, the control-domain checks of grant and memory operations, the
 * frame-number check of every mapped frame).  The log says "Other:" with
 * no BRANCH_HARDEN, on Mica and on Xen 4.17 for the same option, and Mica
 * how many sites it patched (tests/guests/expected-log; docs/spec-ctrl.md).
 */
#include "gnt_v2.c"
