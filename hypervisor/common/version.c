/*
 * xen_version: what the hypervisor tells guests about itself.
 *
 * Mica reports version 4.17, the Xen interface level it implements (Linux
 * and the tools test the version number for features), and names itself
 * in the extra version and the capabilities it lists.
 */
#include <asm/current.h>
#include <asm/guest_access.h>
#include <asm/layout.h>
#include <mica/bootinfo.h>
#include <mica/domain.h>
#include <mica/hypercall.h>
#include <mica/lib.h>
#include <mica/version.h>
#include <mica/unknown_op.h>
#include <public/errno.h>
#include <public/features.h>
#include <public/version.h>

#define ABI_MAJOR 4
#define ABI_MINOR 17

_Static_assert(sizeof(((struct domain *)0)->handle) == sizeof(xen_domain_handle_t),
               "XENVER_guest_handle copies the domain's handle whole");

static u32 features_submap0(const struct domain *d)
{
    u32 f = (1u << XENFEAT_writable_page_tables) | (1u << XENFEAT_pae_pgdir_above_4gb) |
            (1u << XENFEAT_mmu_pt_update_preserve_ad) | (1u << XENFEAT_highmem_assist) |
            (1u << XENFEAT_gnttab_map_avail_bits);

    if (is_control_domain(d))
        f |= 1u << XENFEAT_dom0;
    return f;
}

static long put_string(u64 arg, const char *s, size_t size)
{
    char buf[1024];

    memset(buf, 0, size);
    strlcpy(buf, s, size);
    return copy_to_guest(arg, buf, size) ? -XEN_EFAULT : 0;
}

long do_xen_version(int cmd, u64 arg)
{
    struct domain *d = current_vcpu()->domain;

    switch (cmd) {
    case XENVER_version:
        return (ABI_MAJOR << 16) | ABI_MINOR;
    case XENVER_extraversion:
        return put_string(arg, ".0-mica" MICA_VERSION_STRING, sizeof(xen_extraversion_t));
    case XENVER_compile_info: {
        struct xen_compile_info ci;
        memset(&ci, 0, sizeof(ci));
        strlcpy(ci.compiler, "gcc " __VERSION__, sizeof(ci.compiler));
        strlcpy(ci.compile_by, "mica", sizeof(ci.compile_by));
        strlcpy(ci.compile_domain, "mica", sizeof(ci.compile_domain));
        strlcpy(ci.compile_date, "unknown", sizeof(ci.compile_date));
        return copy_to_guest(arg, &ci, sizeof(ci)) ? -XEN_EFAULT : 0;
    }
    case XENVER_capabilities:
        return put_string(arg, "xen-3.0-x86_64 ", sizeof(xen_capabilities_info_t));
    case XENVER_changeset:
        return put_string(arg, "mica " MICA_VERSION_STRING, sizeof(xen_changeset_info_t));
    case XENVER_platform_parameters: {
        struct xen_platform_parameters p = { .virt_start = HYPERVISOR_AREA_START };
        return copy_to_guest(arg, &p, sizeof(p)) ? -XEN_EFAULT : 0;
    }
    case XENVER_get_features: {
        struct xen_feature_info fi;
        if (copy_from_guest(&fi, arg, sizeof(fi)))
            return -XEN_EFAULT;
        if (fi.submap_idx != 0)
            return -XEN_EINVAL;
        fi.submap = features_submap0(d);
        return copy_to_guest(arg, &fi, sizeof(fi)) ? -XEN_EFAULT : 0;
    }
    case XENVER_pagesize:
        return PAGE_SIZE;
    case XENVER_guest_handle:
        /*
         * The caller's own handle, the UUID its toolstack gave it at
         * createdomain (dom0's is all zeros).  Linux shows it as
         * /sys/hypervisor/uuid when xenstore has no "vm" node for it.
         * Written before the domain first runs, never changed after.
         */
        return copy_to_guest(arg, d->handle, sizeof(xen_domain_handle_t)) ? -XEN_EFAULT : 0;
    case XENVER_commandline:
        /* Only the control domain may read Mica's command line. */
        if (!is_control_domain(d))
            return -XEN_EPERM;
        return put_string(arg, boot_cmdline(), sizeof(xen_commandline_t));
    case XENVER_build_id:
        return -XEN_ENODATA;        /* no build id note in the image yet */
    default:
        return unknown_op(__HYPERVISOR_xen_version, (u32)cmd);
    }
}
