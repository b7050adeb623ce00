/* Ending the machine: power off, reset, or halt for a person to look. */
#ifndef ASM_POWER_H
#define ASM_POWER_H

#include <mica/lib.h>

struct acpi_info;

/* Remembers how ACPI says to enter S5 and to reset (info may be NULL). */
void power_init(const struct acpi_info *info);

/* True when ACPI told Mica how to enter S5 (PM1 control registers and \_S5). */
bool machine_has_acpi_s5(void);

void machine_power_off(void) __noreturn;
void machine_restart(void) __noreturn;
void machine_halt(void) __noreturn;

/* After a fatal error: halt if `noreboot` was given, else reboot after a delay. */
void machine_crash_stop(void) __noreturn;

#endif
