/*
 * Mica guest ABI: platform_op (hypercall 7), platform_op(struct
 * xen_platform_op *).  Control-domain only.  Numbers and layouts are Xen
 * 4.17's (public/platform.h, XENPF_INTERFACE_VERSION 0x03000001); Mica
 * declares the operations a Linux 6.1 dom0 issues and the numbers of the
 * rest, which it answers with -ENOSYS (see docs/pv-domains.md).
 */
#ifndef MICA_PUBLIC_PLATFORM_H
#define MICA_PUBLIC_PLATFORM_H

#include <public/xen.h>

#define XENPF_INTERFACE_VERSION     0x03000001

#define XENPF_settime32             17
#define XENPF_add_memtype           31
#define XENPF_del_memtype           32
#define XENPF_read_memtype          33
#define XENPF_microcode_update      35
#define XENPF_platform_quirk        39
#define XENPF_get_cpu_version       48
#define XENPF_efi_runtime_call      49
#define XENPF_firmware_info         50
#define XENPF_enter_acpi_sleep      51
#define XENPF_change_freq           52
#define XENPF_getidletime           53
#define XENPF_set_processor_pminfo  54
#define XENPF_get_cpuinfo           55
#define XENPF_cpu_online            56
#define XENPF_cpu_offline           57
#define XENPF_cpu_hotadd            58
#define XENPF_mem_hotadd            59
#define XENPF_core_parking          60
#define XENPF_resource_op           61
#define XENPF_settime64             62
#define XENPF_get_symbol            63

/*
 * Set the wall clock: it reads secs.nsecs (since 1970, UTC) when system
 * time (the vcpu_time_info clock) reads system_time.
 */
struct xenpf_settime32 {
    uint32_t secs;
    uint32_t nsecs;
    uint64_t system_time;
};
XEN_ABI_SIZE(struct xenpf_settime32, 16);
XEN_ABI_OFFSET(struct xenpf_settime32, secs, 0);
XEN_ABI_OFFSET(struct xenpf_settime32, nsecs, 4);
XEN_ABI_OFFSET(struct xenpf_settime32, system_time, 8);

struct xenpf_settime64 {
    uint64_t secs;
    uint32_t nsecs;
    uint32_t mbz;                /* must be zero, else -EINVAL */
    uint64_t system_time;
};
XEN_ABI_SIZE(struct xenpf_settime64, 24);
XEN_ABI_OFFSET(struct xenpf_settime64, secs, 0);
XEN_ABI_OFFSET(struct xenpf_settime64, nsecs, 8);
XEN_ABI_OFFSET(struct xenpf_settime64, mbz, 12);
XEN_ABI_OFFSET(struct xenpf_settime64, system_time, 16);

/* Boot firmware facts Xen gathered before it left real mode. */
#define XEN_FW_DISK_INFO            1   /* EDD, int 13h */
#define XEN_FW_DISK_MBR_SIGNATURE   2
#define XEN_FW_VBEDDC_INFO          3   /* int 10h AX=4f15 */
#define XEN_FW_EFI_INFO             4
#define XEN_FW_EFI_VERSION          0
#define XEN_FW_EFI_CONFIG_TABLE     1
#define XEN_FW_EFI_VENDOR           2
#define XEN_FW_EFI_MEM_INFO         3
#define XEN_FW_EFI_RT_VERSION       4
#define XEN_FW_EFI_PCI_ROM          5
#define XEN_FW_EFI_APPLE_PROPERTIES 6
#define XEN_FW_KBD_SHIFT_FLAGS      5   /* int 16h AH=02 */

struct xenpf_firmware_info {
    uint32_t type;               /* IN: XEN_FW_* */
    uint32_t index;              /* IN: which disk, table, ... */
    union {                      /* OUT */
        struct {
            uint8_t device;
            uint8_t version;
            uint16_t interface_support;
            uint16_t legacy_max_cylinder;
            uint8_t legacy_max_head;
            uint8_t legacy_sectors_per_track;
            xen_guest_handle_t edd_params;   /* buffer; first u16 is its size */
        } disk_info;
        struct {
            uint8_t device;
            uint32_t mbr_signature;
        } disk_mbr_signature;
        struct {
            uint8_t capabilities;
            uint8_t edid_transfer_time;
            xen_guest_handle_t edid;         /* 128-byte buffer */
        } vbeddc_info;
        uint8_t kbd_shift_flags;
        uint8_t _efi_info[32];   /* XEN_FW_EFI_INFO results: Mica boots without EFI */
    } u;
};
XEN_ABI_SIZE(struct xenpf_firmware_info, 40);
XEN_ABI_OFFSET(struct xenpf_firmware_info, type, 0);
XEN_ABI_OFFSET(struct xenpf_firmware_info, index, 4);
XEN_ABI_OFFSET(struct xenpf_firmware_info, u, 8);
XEN_ABI_OFFSET(struct xenpf_firmware_info, u.disk_info.device, 8);
XEN_ABI_OFFSET(struct xenpf_firmware_info, u.disk_info.version, 9);
XEN_ABI_OFFSET(struct xenpf_firmware_info, u.disk_info.interface_support, 10);
XEN_ABI_OFFSET(struct xenpf_firmware_info, u.disk_info.legacy_max_cylinder, 12);
XEN_ABI_OFFSET(struct xenpf_firmware_info, u.disk_info.legacy_max_head, 14);
XEN_ABI_OFFSET(struct xenpf_firmware_info, u.disk_info.legacy_sectors_per_track, 15);
XEN_ABI_OFFSET(struct xenpf_firmware_info, u.disk_info.edd_params, 16);
XEN_ABI_OFFSET(struct xenpf_firmware_info, u.disk_mbr_signature.device, 8);
XEN_ABI_OFFSET(struct xenpf_firmware_info, u.disk_mbr_signature.mbr_signature, 12);
XEN_ABI_OFFSET(struct xenpf_firmware_info, u.vbeddc_info.capabilities, 8);
XEN_ABI_OFFSET(struct xenpf_firmware_info, u.vbeddc_info.edid_transfer_time, 9);
XEN_ABI_OFFSET(struct xenpf_firmware_info, u.vbeddc_info.edid, 16);
XEN_ABI_OFFSET(struct xenpf_firmware_info, u.kbd_shift_flags, 8);
MICA_ABI_OFFSET(struct xenpf_firmware_info, u._efi_info, 8);

#define XENPF_ACPI_SLEEP_EXTENDED   0x00000001

struct xenpf_enter_acpi_sleep {
    uint16_t val_a;              /* PM1a control value, or sleep type A */
    uint16_t val_b;
    uint32_t sleep_state;        /* S-state number */
    uint32_t flags;              /* XENPF_ACPI_SLEEP_* */
};
XEN_ABI_SIZE(struct xenpf_enter_acpi_sleep, 12);
XEN_ABI_OFFSET(struct xenpf_enter_acpi_sleep, val_a, 0);
XEN_ABI_OFFSET(struct xenpf_enter_acpi_sleep, val_b, 2);
XEN_ABI_OFFSET(struct xenpf_enter_acpi_sleep, sleep_state, 4);
XEN_ABI_OFFSET(struct xenpf_enter_acpi_sleep, flags, 8);

/* What the hypervisor itself manages (nothing, on Mica: no cpufreq/cpuidle). */
#define XEN_PROCESSOR_PM_CX  1
#define XEN_PROCESSOR_PM_PX  2
#define XEN_PROCESSOR_PM_TX  4

#define XEN_PM_CX   0
#define XEN_PM_PX   1
#define XEN_PM_TX   2
#define XEN_PM_PDC  3

struct xenpf_set_processor_pminfo {
    uint32_t id;                 /* ACPI processor ID; ~0 for the boot CPU (PDC) */
    uint32_t type;               /* XEN_PM_* */
    union {
        xen_guest_handle_t pdc;  /* XEN_PM_PDC: uint32_t[3] _PDC buffer */
        uint8_t _cx_px[104];     /* XEN_PM_CX/PX descriptions: refused, never read */
    } u;
};
XEN_ABI_SIZE(struct xenpf_set_processor_pminfo, 112);
XEN_ABI_OFFSET(struct xenpf_set_processor_pminfo, id, 0);
XEN_ABI_OFFSET(struct xenpf_set_processor_pminfo, type, 4);
XEN_ABI_OFFSET(struct xenpf_set_processor_pminfo, u, 8);
XEN_ABI_OFFSET(struct xenpf_set_processor_pminfo, u.pdc, 8);
MICA_ABI_OFFSET(struct xenpf_set_processor_pminfo, u._cx_px, 8);

#define XEN_PCPU_FLAGS_ONLINE   1
#define XEN_PCPU_FLAGS_INVALID  2

struct xenpf_pcpuinfo {
    uint32_t xen_cpuid;          /* IN */
    uint32_t max_present;        /* OUT: highest present CPU number */
    uint32_t flags;              /* OUT: XEN_PCPU_FLAGS_* */
    uint32_t apic_id;
    uint32_t acpi_id;
};
XEN_ABI_SIZE(struct xenpf_pcpuinfo, 20);
XEN_ABI_OFFSET(struct xenpf_pcpuinfo, xen_cpuid, 0);
XEN_ABI_OFFSET(struct xenpf_pcpuinfo, max_present, 4);
XEN_ABI_OFFSET(struct xenpf_pcpuinfo, flags, 8);
XEN_ABI_OFFSET(struct xenpf_pcpuinfo, apic_id, 12);
XEN_ABI_OFFSET(struct xenpf_pcpuinfo, acpi_id, 16);

struct xenpf_pcpu_version {
    uint32_t xen_cpuid;          /* IN */
    uint32_t max_present;        /* OUT */
    char vendor_id[12];          /* CPUID leaf 0 EBX, EDX, ECX */
    uint32_t family;
    uint32_t model;
    uint32_t stepping;
};
XEN_ABI_SIZE(struct xenpf_pcpu_version, 32);
XEN_ABI_OFFSET(struct xenpf_pcpu_version, xen_cpuid, 0);
XEN_ABI_OFFSET(struct xenpf_pcpu_version, max_present, 4);
XEN_ABI_OFFSET(struct xenpf_pcpu_version, vendor_id, 8);
XEN_ABI_OFFSET(struct xenpf_pcpu_version, family, 20);
XEN_ABI_OFFSET(struct xenpf_pcpu_version, model, 24);
XEN_ABI_OFFSET(struct xenpf_pcpu_version, stepping, 28);

struct xen_platform_op {
    uint32_t cmd;                /* XENPF_* */
    uint32_t interface_version;  /* XENPF_INTERFACE_VERSION */
    union {
        struct xenpf_settime32            settime32;
        struct xenpf_settime64            settime64;
        struct xenpf_firmware_info        firmware_info;
        struct xenpf_enter_acpi_sleep     enter_acpi_sleep;
        struct xenpf_set_processor_pminfo set_pminfo;
        struct xenpf_pcpuinfo             pcpu_info;
        struct xenpf_pcpu_version         pcpu_version;
        uint8_t pad[128];        /* fixes the union's size for every op */
    } u;
};
XEN_ABI_SIZE(struct xen_platform_op, 136);
XEN_ABI_OFFSET(struct xen_platform_op, cmd, 0);
XEN_ABI_OFFSET(struct xen_platform_op, interface_version, 4);
XEN_ABI_OFFSET(struct xen_platform_op, u, 8);
XEN_ABI_OFFSET(struct xen_platform_op, u.settime32, 8);
XEN_ABI_OFFSET(struct xen_platform_op, u.settime64, 8);
XEN_ABI_OFFSET(struct xen_platform_op, u.firmware_info, 8);
XEN_ABI_OFFSET(struct xen_platform_op, u.enter_acpi_sleep, 8);
XEN_ABI_OFFSET(struct xen_platform_op, u.set_pminfo, 8);
XEN_ABI_OFFSET(struct xen_platform_op, u.pcpu_info, 8);
XEN_ABI_OFFSET(struct xen_platform_op, u.pcpu_version, 8);
XEN_ABI_OFFSET(struct xen_platform_op, u.pad, 8);

#endif
