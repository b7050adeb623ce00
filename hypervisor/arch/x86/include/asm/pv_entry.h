/*
 * Labels of pv/entry.S: the guest system-call entries pv/cpu.c writes
 * into the SYSCALL/SYSENTER MSRs, and the SYSENTER window pv/traps.c
 * checks a #DB against (the flags are not yet saved before that label).
 */
#ifndef ASM_PV_ENTRY_H
#define ASM_PV_ENTRY_H

extern const char pv_syscall_entry[], pv_syscall32_entry[];
extern const char pv_sysenter_entry[], pv_sysenter_flags_saved[];

#endif
