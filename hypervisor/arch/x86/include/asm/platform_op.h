/* platform_op (hypercall 7): the control domain's machine-level requests. */
#ifndef MICA_ASM_PLATFORM_OP_H
#define MICA_ASM_PLATFORM_OP_H

#include <mica/acpi.h>
#include <mica/types.h>

/* Remembers the parsed ACPI tables (NULL: none) and the BIOS keyboard flags. */
void platform_op_init(const struct acpi_info *acpi);
long do_platform_op(u64 arg);

#endif
