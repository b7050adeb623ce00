/*
 * boot/trampoline.S: the real-mode start-up code an application
 * processor runs, copied below 1 MiB by smpboot.c, which patches the
 * labelled fields (GDT, CR3, EFER, the jumps' targets) in the copy.
 */
#ifndef ASM_TRAMPOLINE_H
#define ASM_TRAMPOLINE_H

extern const char trampoline_start[], trampoline_end[];
extern const char tramp_gdt[], tramp32[], tramp64[], tramp_gdt_desc[];
extern const char tramp_jump32[], tramp_jump64[];
extern const char tramp_cr3[], tramp_efer[];

#endif
