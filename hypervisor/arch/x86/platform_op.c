/*
 * platform_op (hypercall 7): the control domain's view of the physical
 * machine.  What a Linux 6.1 dom0 issues is answered as Xen 4.17 answers
 * it on a machine like Mica's (one physical CPU in use, no cpufreq or
 * cpuidle driver, no EFI, no EDD or EDID gathered at boot):
 *
 *   settime32/64       sets the wall clock of every domain
 *   get_cpuinfo        the physical CPUs Mica runs on
 *   get_cpu_version    their CPUID vendor, family, model, stepping
 *   firmware_info      keyboard shift flags from the BIOS data area;
 *                      disks and EDID: -ESRCH (none known), EFI: -ENOSYS
 *   set_processor_pminfo  _PDC negotiation as Xen does it with no PM
 *                      driver; Cx/Px/Tx descriptions -ENOSYS
 *   enter_acpi_sleep   S5 (Linux's power off) powers the machine off;
 *                      other states refused with Xen's errors
 *
 * Everything else is -ENOSYS, as for a command Xen does not know; in
 * particular the MTRR, microcode, hotplug and symbol-table commands.
 */
#include <asm/current.h>
#include <asm/guest_access.h>
#include <asm/io.h>
#include <asm/lapic.h>
#include <asm/paging.h>
#include <asm/platform_op.h>
#include <asm/power.h>
#include <mica/acpi.h>
#include <mica/domain.h>
#include <mica/lib.h>
#include <mica/sched.h>
#include <mica/time_guest.h>
#include <mica/unknown_op.h>
#include <public/errno.h>
#include <public/platform.h>
#include <public/sched.h>

/* _PDC capability bits (ACPI processor driver interface, Intel's layout). */
#define PDC_REVISION_ID    1
#define PDC_P_BITS         (0x0001 | 0x0020 | 0x0800)
#define PDC_C_BITS         (0x0002 | 0x0010 | 0x0040 | 0x0100 | 0x0200)
#define PDC_T_BITS         (0x0004 | 0x0080)
#define PDC_SMP_C1PT       0x0008
#define PDC_C_C1_FFH       0x0100
#define PDC_C_C2C3_FFH     0x0200

#define CPUID_MWAIT_LEAF   5
#define MWAIT_ECX_EXT      (1u << 0)   /* enumerates extensions */
#define MWAIT_ECX_INTBREAK (1u << 1)   /* interrupts break MWAIT even when masked */

#define BDA_KBD_SHIFT_FLAGS 0x417

#define OP_FIELD(field) __builtin_offsetof(struct xen_platform_op, field)

static const struct acpi_info *machine_acpi;
static u8 kbd_shift_flags;

void platform_op_init(const struct acpi_info *acpi)
{
    machine_acpi = acpi;
    /* The BIOS's keyboard flags as they were when Mica started. */
    if (directmap_covers(BDA_KBD_SHIFT_FLAGS, 1))
        kbd_shift_flags = *(const volatile u8 *)maddr_to_virt(BDA_KBD_SHIFT_FLAGS);
}

/* Physical CPU numbers as dom0 sees them: Mica runs on the boot CPU, 0. */
static const unsigned max_present_cpu = 0;

static u32 boot_cpu_acpi_id(void)
{
    u32 apic = lapic_id();

    for (unsigned i = 0; machine_acpi && i < machine_acpi->ncpus; i++)
        if (machine_acpi->cpus[i].apic_id == apic)
            return machine_acpi->cpus[i].acpi_uid;
    return 0;       /* no MADT: the one CPU a legacy machine has */
}

static long get_cpuinfo(struct xenpf_pcpuinfo *info)
{
    if (info->xen_cpuid > max_present_cpu) {
        info->flags = XEN_PCPU_FLAGS_INVALID;
    } else {
        info->apic_id = lapic_id();
        info->acpi_id = boot_cpu_acpi_id();
        info->flags = XEN_PCPU_FLAGS_ONLINE;
    }
    info->max_present = max_present_cpu;
    return 0;
}

static long get_cpu_version(struct xenpf_pcpu_version *ver)
{
    u32 a, b, c, d;

    if (ver->xen_cpuid > max_present_cpu) {
        memset(ver->vendor_id, 0, sizeof(ver->vendor_id));
        ver->family = ver->model = ver->stepping = 0;
    } else {
        cpuid(0, 0, &a, &b, &c, &d);
        memcpy(ver->vendor_id, &b, 4);
        memcpy(ver->vendor_id + 4, &d, 4);
        memcpy(ver->vendor_id + 8, &c, 4);
        cpuid(1, 0, &a, &b, &c, &d);
        ver->family = (a >> 8) & 0xf;
        ver->model = (a >> 4) & 0xf;
        if (ver->family == 0xf)
            ver->family += (a >> 20) & 0xff;
        if (ver->family >= 6)
            ver->model |= ((a >> 16) & 0xf) << 4;
        ver->stepping = a & 0xf;
    }
    ver->max_present = max_present_cpu;
    return 0;
}

static long firmware_info(struct xenpf_firmware_info *fw)
{
    switch (fw->type) {
    case XEN_FW_DISK_INFO:
    case XEN_FW_DISK_MBR_SIGNATURE:
    case XEN_FW_VBEDDC_INFO:
        return -XEN_ESRCH;          /* Mica gathers no EDD or EDID at boot */
    case XEN_FW_EFI_INFO:
        return -XEN_ENOSYS;         /* as Xen booted without EFI */
    case XEN_FW_KBD_SHIFT_FLAGS:
        if (fw->index != 0)
            return -XEN_ESRCH;
        fw->u.kbd_shift_flags = kbd_shift_flags;
        return 0;
    default:
        return -XEN_EINVAL;
    }
}

/*
 * _PDC: dom0 offers bits[2] of a {revision, count, capabilities} buffer
 * and gets back what it may tell the firmware.  With no PM driver in the
 * hypervisor nothing is added and only the C-, P- and T-state bits stay;
 * FFH C-states need MWAIT that breaks on masked interrupts.
 */
static long set_pdc(const struct xenpf_set_processor_pminfo *pm)
{
    u32 bits[3];
    u32 a, b, c, d;

    if (copy_from_guest(bits, pm->u.pdc, 2 * sizeof(u32)))
        return -XEN_EFAULT;
    if (bits[0] != PDC_REVISION_ID || bits[1] == 0)
        return -XEN_EINVAL;
    if (copy_from_guest(&bits[2], pm->u.pdc + 2 * sizeof(u32), sizeof(u32)))
        return -XEN_EFAULT;
    if (pm->id != 0xffffffffu && pm->id != boot_cpu_acpi_id())
        return -XEN_EINVAL;         /* not a CPU Mica runs on */
    bits[2] &= PDC_C_BITS | PDC_P_BITS | PDC_T_BITS | PDC_SMP_C1PT;
    cpuid(1, 0, &a, &b, &c, &d);
    if (c & (1u << 3)) {            /* MONITOR/MWAIT */
        cpuid(0, 0, &a, &b, &c, &d);
        c = a >= CPUID_MWAIT_LEAF ? (cpuid(CPUID_MWAIT_LEAF, 0, &a, &b, &c, &d), c) : 0;
    } else {
        c = 0;
    }
    if (!(c & MWAIT_ECX_EXT) || !(c & MWAIT_ECX_INTBREAK))
        bits[2] &= ~(u32)(PDC_C_C1_FFH | PDC_C_C2C3_FFH);
    if (copy_to_guest(pm->u.pdc + 2 * sizeof(u32), &bits[2], sizeof(u32)))
        return -XEN_EFAULT;
    return 0;
}

static long set_processor_pminfo(const struct xenpf_set_processor_pminfo *pm)
{
    switch (pm->type) {
    case XEN_PM_CX:
    case XEN_PM_PX:
    case XEN_PM_TX:
        return -XEN_ENOSYS;         /* Mica runs no cpuidle/cpufreq/throttling */
    case XEN_PM_PDC:
        return set_pdc(pm);
    default:
        return -XEN_EINVAL;
    }
}

/*
 * XENPF_enter_acpi_sleep: a Linux dom0 issues it from its ACPI power-off
 * path (S5) just before it would write PM1 control itself.  Xen 4.17's
 * checks and errors, in its order: S3 needs a firmware waking vector
 * (Mica resumes from nothing: -EOPNOTSUPP, Xen's answer without one); the
 * extended (hardware-reduced) sleep registers -EPERM (Mica does not read
 * them from the FADT, Xen's answer when the FADT has none, as QEMU's pc);
 * no PM1a control block -EPERM; SLP_EN differing between the PM1a and
 * PM1b values or any flag -EINVAL; a state outside S1-S5 -EINVAL.  Xen
 * then freezes the domains and enters the state: S5 writes dom0's values
 * to PM1 control, S1, S2 and S4 end in -EINVAL.  Mica powers off its own
 * way for S5: dom0 is shut down with SHUTDOWN_poweroff and the machine
 * follows it (domain_check_machine_end), writing the SLP_TYP Mica read
 * from \_S5, so every CPU leaves its guests first.
 */
static long enter_acpi_sleep(const struct xenpf_enter_acpi_sleep *s)
{
    struct domain *d = current_vcpu()->domain;

    if (s->sleep_state == 3)
        return -XEN_EOPNOTSUPP;
    if (s->flags & XENPF_ACPI_SLEEP_EXTENDED)
        return -XEN_EPERM;
    if (!machine_has_acpi_s5())
        return -XEN_EPERM;
    if (s->val_b && ((s->val_a ^ s->val_b) & ACPI_PM1_SLP_EN))
        return -XEN_EINVAL;
    if (s->flags)
        return -XEN_EINVAL;
    if (s->sleep_state != 5)
        return -XEN_EINVAL;             /* S0, S1, S2, S4 and beyond */
    if (d->domid != 0)
        return -XEN_EPERM;              /* a second control domain cannot power off the host */
    printk("d%u: ACPI S5 requested (XENPF_enter_acpi_sleep): shutting dom0 down, powering off\n",
           d->domid);
    domain_shutdown(d, SHUTDOWN_poweroff);
    return 0;
}

static long copy_field_back(u64 arg, const struct xen_platform_op *op, u64 offset, u64 len)
{
    return copy_to_guest(arg + offset, (const u8 *)op + offset, len) ? -XEN_EFAULT : 0;
}

long do_platform_op(u64 arg)
{
    struct xen_platform_op op;
    long rc;

    if (copy_from_guest(&op, arg, sizeof(op)))
        return -XEN_EFAULT;
    if (op.interface_version != XENPF_INTERFACE_VERSION)
        return -XEN_EACCES;
    if (!is_control_domain(current_vcpu()->domain))
        return -XEN_EPERM;

    switch (op.cmd) {
    case XENPF_settime32:
        set_wallclock(op.u.settime32.secs, op.u.settime32.nsecs, op.u.settime32.system_time);
        return 0;
    case XENPF_settime64:
        if (op.u.settime64.mbz)
            return -XEN_EINVAL;
        set_wallclock(op.u.settime64.secs, op.u.settime64.nsecs, op.u.settime64.system_time);
        return 0;
    case XENPF_get_cpuinfo:
        rc = get_cpuinfo(&op.u.pcpu_info);
        return rc ? rc : copy_field_back(arg, &op, OP_FIELD(u.pcpu_info), sizeof(op.u.pcpu_info));
    case XENPF_get_cpu_version:
        rc = get_cpu_version(&op.u.pcpu_version);
        return rc ? rc : copy_field_back(arg, &op, OP_FIELD(u.pcpu_version),
                                         sizeof(op.u.pcpu_version));
    case XENPF_firmware_info:
        rc = firmware_info(&op.u.firmware_info);
        if (rc == 0 && op.u.firmware_info.type == XEN_FW_KBD_SHIFT_FLAGS)
            rc = copy_field_back(arg, &op, OP_FIELD(u.firmware_info.u.kbd_shift_flags), 1);
        return rc;
    case XENPF_set_processor_pminfo:
        return set_processor_pminfo(&op.u.set_pminfo);
    case XENPF_enter_acpi_sleep:
        return enter_acpi_sleep(&op.u.enter_acpi_sleep);
    default:
        return unknown_op(__HYPERVISOR_platform_op, op.cmd);
    }
}
