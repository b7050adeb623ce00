/*
 * Labels of entry.S that C code compares faulting addresses with or
 * installs in the IDT.
 */
#ifndef ASM_ENTRY_H
#define ASM_ENTRY_H

#include <mica/types.h>

#define NR_VECTORS 256

/* One stub per vector, each pushing its number and the common frame. */
extern const u64 vector_stubs[NR_VECTORS];

/* The IRETQ back to a guest: a fault here is the guest's (pv/traps.c). */
extern const char restore_all_iret[];

#endif
