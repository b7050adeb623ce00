/*
 * exceptions booted with `spec-ctrl=bti-thunk=jmp,rsb=0`: the plain
 * `jmp *%reg` thunk and no RSB overwrite on entry (both sites patched to
 * jump over it); the log says "BTI-Thunk: JMP" and no RSB among the PV
 * protections (tests/guests/expected-log; docs/spec-ctrl.md).
 */
#include "exceptions.c"
