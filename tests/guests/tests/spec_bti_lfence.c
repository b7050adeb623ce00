/*
 * compat_user booted with `spec-ctrl=bti-thunk=lfence`: every indirect
 * branch in the hypervisor runs the patched `lfence; jmp *%reg` thunk,
 * and every kind of entry from a guest (64-bit and 32-bit SYSCALL,
 * SYSENTER, INT $0x80, exceptions) still overwrites the RSB; the log says
 * "BTI-Thunk: LFENCE" (tests/guests/expected-log; docs/spec-ctrl.md).
 */
#include "compat_user.c"
