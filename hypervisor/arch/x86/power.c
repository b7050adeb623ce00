/*
 * Power off, reset and halt.
 *
 * Power off uses ACPI S5: SLP_TYP from the DSDT's \_S5 package and SLP_EN
 * written to the FADT's PM1 control registers.  When that is unknown or
 * does not take, a test build falls back to QEMU's isa-debug-exit device
 * so a test run ends instead of hanging.
 */
#include <asm/io.h>
#include <asm/ipi.h>
#include <asm/power.h>
#include <asm/time.h>
#include <mica/acpi.h>
#include <mica/console.h>
#include <mica/param.h>

#define QEMU_DEBUG_EXIT_PORT 0xf4
#define KBC_COMMAND_PORT 0x64
#define KBC_PULSE_RESET 0xfe
#define CRASH_REBOOT_DELAY_S 5

static struct acpi_poweroff s5;
static bool have_s5;
static struct acpi_gas reset_reg;
static u8 reset_value;
static bool have_reset_reg;
static bool opt_noreboot;
boolean_param("noreboot", opt_noreboot);

void power_init(const struct acpi_info *info)
{
    if (!info)
        return;
    have_s5 = acpi_poweroff_values(info, &s5);
    if (have_s5 && (s5.pm1a_cnt.space_id != ACPI_GAS_IO ||
                    (s5.pm1b_cnt.address && s5.pm1b_cnt.space_id != ACPI_GAS_IO))) {
        pr_warn("ACPI PM1 control registers are not in I/O space; power off through ACPI is not supported\n");
        have_s5 = false;
    }
    have_reset_reg = info->reset_supported && info->reset_reg.space_id == ACPI_GAS_IO;
    reset_reg = info->reset_reg;
    reset_value = info->reset_value;
}

bool machine_has_acpi_s5(void)
{
    return have_s5;
}

/* PM1 control is a 16-bit register: keep its other bits, set SLP_TYP and SLP_EN. */
static void pm1_write(const struct acpi_gas *reg, u16 value)
{
    u16 port = (u16)reg->address;

    outw(port, (u16)((inw(port) & ~ACPI_PM1_SLP_MASK) | value));
}

void machine_halt(void)
{
    local_irq_disable();
    console_end_hold();
    for (;;)
        halt();
}

void machine_power_off(void)
{
    local_irq_disable();
    if (have_s5) {
        printk("Powering off (ACPI S5)\n");
        pm1_write(&s5.pm1a_cnt, s5.pm1a_value);
        if (s5.pm1b_cnt.address)
            pm1_write(&s5.pm1b_cnt, s5.pm1b_value);
        mdelay(100);
        pr_err("ACPI S5 power-off did not take effect\n");
    } else {
        pr_err("Cannot power off through ACPI: no FADT PM1 control port or no \\_S5 in the DSDT\n");
    }
#ifdef CONFIG_QEMU_DEBUG_EXIT
    outb(QEMU_DEBUG_EXIT_PORT, 0);
#endif
    printk("Mica halted: power off by hand\n");
    machine_halt();
}

void machine_restart(void)
{
    local_irq_disable();
    printk("Rebooting\n");
    if (have_reset_reg) {
        outb((u16)reset_reg.address, reset_value);
        mdelay(50);
    }
    for (unsigned i = 0; i < 10; i++) {
        outb(KBC_COMMAND_PORT, KBC_PULSE_RESET);
        mdelay(10);
    }
    /* Last resort: a triple fault with an empty IDT. */
    {
        struct { u16 limit; u64 base; } __attribute__((packed)) empty = { 0, 0 };
        __asm__ volatile("lidt %0; int3" :: "m"(empty));
    }
    machine_halt();
}

void machine_crash_stop(void)
{
    char stop[160];

    local_irq_disable();
    /* Already done (nothing printed) when a panic got here; else the others stop now. */
    smp_crash_stop_others(stop, sizeof(stop));
    console_end_hold();
    if (stop[0])
        printk("%s\n", stop);
    if (opt_noreboot) {
        printk("Manual reset required ('noreboot' specified)\n");
        machine_halt();
    }
    printk("Reboot in %u seconds...\n", CRASH_REBOOT_DELAY_S);
    mdelay(CRASH_REBOOT_DELAY_S * 1000);
    machine_restart();
}
