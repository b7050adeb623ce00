/*
 * The exception table: for each instruction that may fault on a guest
 * address (usercopy.S, the guest-access macros), where to resume.  The
 * linker gathers the entries into one array (mica.lds, __ex_table).
 */
#ifndef ASM_EXTABLE_H
#define ASM_EXTABLE_H

#include <mica/types.h>

/* Layout the assembler emits: two absolute addresses per entry. */
struct exception_entry {
    u64 insn;
    u64 fixup;
};
_Static_assert(sizeof(struct exception_entry) == 16, "two .quad per entry");

extern const struct exception_entry __ex_table_start[], __ex_table_end[];

#endif
