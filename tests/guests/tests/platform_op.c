/*
 * platform_op (7), as a Linux dom0 uses it: settime64/settime32 (the
 * effect must show in shared_info's wall clock, exactly), get_cpuinfo,
 * get_cpu_version, firmware_info and the _PDC part of
 * set_processor_pminfo; and hostile calls: a wrong interface version,
 * unknown commands and subtypes, bad pointers for the argument and for
 * buffers it names.  The Cx/Px descriptions are left out: Xen 4.17 takes
 * them when its cpufreq/cpuidle drivers run, Mica has none and refuses.
 */
#include "guest.h"
#include <public/platform.h>

#define NS 1000000000ULL

static long platform_op(void *op)
{
    return HC(__HYPERVISOR_platform_op, op, 0, 0);
}

static void prepare(struct xen_platform_op *op, uint32_t cmd)
{
    memset(op, 0, sizeof(*op));
    op->cmd = cmd;
    op->interface_version = XENPF_INTERFACE_VERSION;
}

/* The wall clock at system time 0, in ns, read under the version protocol. */
static uint64_t wallclock_ns(uint32_t *version)
{
    uint64_t sec;
    uint32_t nsec;
    uint32_t v = wallclock_read(&sec, &nsec);

    CHECK(nsec < NS, "wc_nsec %u", nsec);
    if (version)
        *version = v;
    return sec * NS + nsec;
}

static void check_settime(void)
{
    struct xen_platform_op op;
    uint32_t v0, v1;
    uint64_t before = wallclock_ns(&v0), t, want;

    /* settime64: 2033-05-18T03:33:20.5Z as of now. */
    t = system_time_ns();
    prepare(&op, XENPF_settime64);
    op.u.settime64.secs = 2000000000ULL;
    op.u.settime64.nsecs = 500000000;
    op.u.settime64.system_time = t;
    CHECK_EQ(platform_op(&op), 0);
    want = 2000000000ULL * NS + 500000000 - t;
    CHECK_EQ(wallclock_ns(&v1), want);
    CHECK(v1 != v0, "wc_version did not move (%u)", v1);
    printk("settime64: wall clock at system time 0 %lu -> %lu ns\n", before, want);

    /* mbz set: refused, nothing changes. */
    op.u.settime64.mbz = 1;
    op.u.settime64.secs = 1;
    CHECK_EQ(platform_op(&op), -XEN_EINVAL);
    CHECK_EQ(wallclock_ns(NULL), want);

    /* Wrong interface version: refused before anything else. */
    prepare(&op, XENPF_settime64);
    op.interface_version = XENPF_INTERFACE_VERSION + 1;
    op.u.settime64.secs = 1;
    CHECK_EQ(platform_op(&op), -XEN_EACCES);
    op.interface_version = 0;
    CHECK_EQ(platform_op(&op), -XEN_EACCES);
    CHECK_EQ(wallclock_ns(NULL), want);

    /* settime32, the fallback of kernels that find no settime64. */
    t = system_time_ns();
    prepare(&op, XENPF_settime32);
    op.u.settime32.secs = 1900000000U;
    op.u.settime32.nsecs = 123456789;
    op.u.settime32.system_time = t;
    CHECK_EQ(platform_op(&op), 0);
    want = 1900000000ULL * NS + 123456789 - t;
    CHECK_EQ(wallclock_ns(NULL), want);

    /* Put back roughly what it was, for anything that runs after us. */
    prepare(&op, XENPF_settime64);
    op.u.settime64.secs = before / NS;
    op.u.settime64.nsecs = (uint32_t)(before % NS);
    op.u.settime64.system_time = 0;
    CHECK_EQ(platform_op(&op), 0);
    CHECK_EQ(wallclock_ns(NULL), before);
}

static void check_cpus(void)
{
    struct xen_platform_op op;
    uint32_t r[4];
    char vendor[13];

    prepare(&op, XENPF_get_cpuinfo);
    op.u.pcpu_info.xen_cpuid = 0;
    REQUIRE_EQ(platform_op(&op), 0);
    printk("cpu 0: flags %#x apic %u acpi %u, max_present %u\n", op.u.pcpu_info.flags,
           op.u.pcpu_info.apic_id, op.u.pcpu_info.acpi_id, op.u.pcpu_info.max_present);
    CHECK_EQ(op.u.pcpu_info.flags, XEN_PCPU_FLAGS_ONLINE);
    CHECK(op.u.pcpu_info.max_present < 4096, "max_present %u", op.u.pcpu_info.max_present);
    CHECK(op.u.pcpu_info.apic_id < 0xffffffffu, "apic_id");
    CHECK_EQ(op.cmd, XENPF_get_cpuinfo);

    uint32_t beyond = op.u.pcpu_info.max_present + 1;
    prepare(&op, XENPF_get_cpuinfo);
    op.u.pcpu_info.xen_cpuid = 100000;
    op.u.pcpu_info.apic_id = 0x1234;
    CHECK_EQ(platform_op(&op), 0);
    CHECK_EQ(op.u.pcpu_info.flags, XEN_PCPU_FLAGS_INVALID);
    CHECK_EQ(op.u.pcpu_info.max_present + 1, beyond);
    CHECK_EQ(op.u.pcpu_info.apic_id, 0x1234);      /* not written for a CPU that is not there */

    prepare(&op, XENPF_get_cpu_version);
    op.u.pcpu_version.xen_cpuid = 0;
    REQUIRE_EQ(platform_op(&op), 0);
    pv_cpuid(0, 0, r);
    memcpy(vendor, &r[1], 4);
    memcpy(vendor + 4, &r[3], 4);
    memcpy(vendor + 8, &r[2], 4);
    vendor[12] = 0;
    char got[13];
    memcpy(got, op.u.pcpu_version.vendor_id, 12);
    got[12] = 0;
    printk("cpu 0: %s family %u model %u stepping %u\n", got,
           op.u.pcpu_version.family, op.u.pcpu_version.model, op.u.pcpu_version.stepping);
    CHECK(memcmp(got, vendor, 12) == 0, "vendor %s, CPUID says %s", got, vendor);
    pv_cpuid(1, 0, r);
    CHECK_EQ(op.u.pcpu_version.stepping, r[0] & 0xf);
    CHECK(op.u.pcpu_version.family >= 6, "family %u", op.u.pcpu_version.family);
    CHECK_EQ(op.u.pcpu_version.max_present + 1, beyond);

    prepare(&op, XENPF_get_cpu_version);
    op.u.pcpu_version.xen_cpuid = 100000;
    memset(op.u.pcpu_version.vendor_id, 'x', 12);
    op.u.pcpu_version.family = 7;
    CHECK_EQ(platform_op(&op), 0);
    CHECK_EQ(op.u.pcpu_version.vendor_id[0], 0);
    CHECK_EQ(op.u.pcpu_version.vendor_id[11], 0);
    CHECK_EQ(op.u.pcpu_version.family, 0);
}

static void check_firmware_info(void)
{
    struct xen_platform_op op;
    static uint8_t buf[128];

    /*
     * EDD: Xen asks the BIOS in real mode and may know the boot CD-ROM;
     * Mica, started by multiboot2, knows no disk (-ESRCH).  Either way a
     * disk it does report must fit the buffer it was given.
     */
    prepare(&op, XENPF_firmware_info);
    op.u.firmware_info.type = XEN_FW_DISK_INFO;
    op.u.firmware_info.u.disk_info.edd_params = (uint64_t)buf;
    *(uint16_t *)buf = 30;
    long rc = platform_op(&op);
    printk("EDD disk 0: rc %ld device %#x version %#x, params length %u\n", rc,
           op.u.firmware_info.u.disk_info.device, op.u.firmware_info.u.disk_info.version,
           *(uint16_t *)buf);
    CHECK(rc == 0 || rc == -XEN_ESRCH, "rc %ld", rc);
    if (rc == 0)
        CHECK(*(uint16_t *)buf <= 30, "EDD params length %u beyond the 30 offered",
              *(uint16_t *)buf);
    op.u.firmware_info.index = 1000;
    CHECK_EQ(platform_op(&op), -XEN_ESRCH);
    op.u.firmware_info.index = 0;
    op.u.firmware_info.type = XEN_FW_DISK_MBR_SIGNATURE;
    CHECK_EQ(platform_op(&op), -XEN_ESRCH);
    /* EDID: Xen asks the VBE BIOS (QEMU's VGA answers), Mica does not. */
    op.u.firmware_info.type = XEN_FW_VBEDDC_INFO;
    op.u.firmware_info.u.vbeddc_info.edid = (uint64_t)buf;
    memset(buf, 0, sizeof(buf));
    rc = platform_op(&op);
    printk("EDID: rc %ld, header %02x %02x %02x\n", rc, buf[0], buf[1], buf[7]);
    CHECK(rc == 0 || rc == -XEN_ESRCH, "rc %ld", rc);
    if (rc == 0)
        CHECK(buf[0] == 0 && buf[1] == 0xff && buf[7] == 0, "not an EDID block header");
    op.u.firmware_info.index = 1;
    CHECK_EQ(platform_op(&op), -XEN_ESRCH);
    op.u.firmware_info.index = 0;
    /* Booted without EFI. */
    op.u.firmware_info.type = XEN_FW_EFI_INFO;
    op.u.firmware_info.index = XEN_FW_EFI_VERSION;
    CHECK_EQ(platform_op(&op), -XEN_ENOSYS);

    /* Keyboard shift flags: index 0 only; exactly one byte written back. */
    prepare(&op, XENPF_firmware_info);
    op.u.firmware_info.type = XEN_FW_KBD_SHIFT_FLAGS;
    memset(&op.u.firmware_info.u, 0x5a, sizeof(op.u.firmware_info.u));
    CHECK_EQ(platform_op(&op), 0);
    printk("keyboard shift flags %#x\n", op.u.firmware_info.u.kbd_shift_flags);
    CHECK_EQ(((uint8_t *)&op.u.firmware_info.u)[1], 0x5a);
    CHECK_EQ(((uint8_t *)&op.u.firmware_info.u)[31], 0x5a);
    op.u.firmware_info.index = 1;
    CHECK_EQ(platform_op(&op), -XEN_ESRCH);

    /* Unknown firmware-info type. */
    op.u.firmware_info.type = 99;
    op.u.firmware_info.index = 0;
    CHECK_EQ(platform_op(&op), -XEN_EINVAL);
}

/* _PDC bits a Linux dom0 offers (xen_check_mwait): C-state SMP + EST SW SMP. */
#define PDC_OFFER   (0x0010 | 0x0008 | 0x0200 | 0x0020)
#define PDC_KNOWN   (0x0002 | 0x0010 | 0x0040 | 0x0100 | 0x0200 | 0x0001 | 0x0020 | \
                     0x0800 | 0x0004 | 0x0080 | 0x0008)

static void check_pdc(void)
{
    struct xen_platform_op op;
    static uint32_t pdc[3];

    prepare(&op, XENPF_set_processor_pminfo);
    op.u.set_pminfo.id = 0xffffffffu;      /* the boot CPU */
    op.u.set_pminfo.type = XEN_PM_PDC;
    op.u.set_pminfo.u.pdc = (uint64_t)pdc;
    pdc[0] = 1;
    pdc[1] = 1;
    pdc[2] = PDC_OFFER | 0x80000000u;      /* plus a bit no one knows */
    CHECK_EQ(platform_op(&op), 0);
    printk("_PDC: offered %#x, answer %#x\n", PDC_OFFER | 0x80000000u, pdc[2]);
    CHECK(!(pdc[2] & ~PDC_KNOWN), "answer %#x has bits outside C/P/T", pdc[2]);
    CHECK_EQ(pdc[0], 1);
    CHECK_EQ(pdc[1], 1);

    pdc[0] = 2;                            /* unknown revision */
    CHECK_EQ(platform_op(&op), -XEN_EINVAL);
    pdc[0] = 1;
    pdc[1] = 0;                            /* no capability word */
    CHECK_EQ(platform_op(&op), -XEN_EINVAL);
    pdc[1] = 1;
    op.u.set_pminfo.id = 12345;            /* no such processor */
    CHECK_EQ(platform_op(&op), -XEN_EINVAL);
    op.u.set_pminfo.id = 0xffffffffu;
    op.u.set_pminfo.u.pdc = 0x1000;        /* unmapped */
    CHECK_EQ(platform_op(&op), -XEN_EFAULT);
    op.u.set_pminfo.u.pdc = 0xffff830000000000UL;   /* the hypervisor's */
    CHECK_EQ(platform_op(&op), -XEN_EFAULT);

    /* Throttling states: never managed by the hypervisor here. */
    prepare(&op, XENPF_set_processor_pminfo);
    op.u.set_pminfo.type = XEN_PM_TX;
    CHECK_EQ(platform_op(&op), -XEN_ENOSYS);
    op.u.set_pminfo.type = 7;
    CHECK_EQ(platform_op(&op), -XEN_EINVAL);
}

/*
 * enter_acpi_sleep's refusals, in Xen 4.17's order; only those that are
 * safe on Xen (QEMU's pc has a PM1a control block and an S3 waking
 * vector, so S3, S4 and S5 would be entered or attempted: not tried).
 */
static void check_acpi_sleep(void)
{
    struct xen_platform_op op;
    const uint16_t slp_en = 1u << 13;

    prepare(&op, XENPF_enter_acpi_sleep);
    op.u.enter_acpi_sleep.sleep_state = 5;
    op.u.enter_acpi_sleep.flags = 2;                    /* an unknown flag */
    CHECK_EQ(platform_op(&op), -XEN_EINVAL);
    op.u.enter_acpi_sleep.flags = 1;                    /* extended: the FADT has no such registers */
    CHECK_EQ(platform_op(&op), -XEN_EPERM);
    op.u.enter_acpi_sleep.flags = 0;
    op.u.enter_acpi_sleep.val_a = (5u << 10) | slp_en;  /* SLP_EN in PM1a but not PM1b */
    op.u.enter_acpi_sleep.val_b = 5u << 10;
    CHECK_EQ(platform_op(&op), -XEN_EINVAL);
    op.u.enter_acpi_sleep.val_a = op.u.enter_acpi_sleep.val_b = 0;
    op.u.enter_acpi_sleep.sleep_state = 0;              /* S0 is no sleep state */
    CHECK_EQ(platform_op(&op), -XEN_EINVAL);
    op.u.enter_acpi_sleep.sleep_state = 6;
    CHECK_EQ(platform_op(&op), -XEN_EINVAL);
    op.u.enter_acpi_sleep.sleep_state = 0xffffffff;
    CHECK_EQ(platform_op(&op), -XEN_EINVAL);
}

enum result test_main(void)
{
    struct xen_platform_op op;

    REQUIRE_EQ(traps_install(), 0);
    REQUIRE(map_shared_info() != NULL, "cannot map shared_info");

    check_settime();
    check_cpus();
    check_firmware_info();
    check_pdc();
    check_acpi_sleep();

    /* Unknown commands, and one Xen retired (platform_quirk's neighbour 40). */
    prepare(&op, 0);
    CHECK_EQ(platform_op(&op), -XEN_ENOSYS);
    prepare(&op, 40);
    CHECK_EQ(platform_op(&op), -XEN_ENOSYS);
    prepare(&op, 1000);
    CHECK_EQ(platform_op(&op), -XEN_ENOSYS);
    /* An unknown command with a wrong version: the version is checked first. */
    op.interface_version = 0x03000000;
    CHECK_EQ(platform_op(&op), -XEN_EACCES);

    /* The argument itself unreadable. */
    CHECK_EQ(platform_op((void *)0x1000), -XEN_EFAULT);
    CHECK_EQ(platform_op((void *)0xffff830000000000UL), -XEN_EFAULT);
    CHECK_EQ(platform_op(NULL), -XEN_EFAULT);
    return RESULT_SUCCESS;
}
