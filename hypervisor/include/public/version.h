/*
 * Mica guest ABI: xen_version (hypercall 17) sub-ops and result types.
 */
#ifndef MICA_PUBLIC_VERSION_H
#define MICA_PUBLIC_VERSION_H

#include <public/xen.h>
#include <public/features.h>

#define XENVER_version              0   /* returns (major << 16) | minor */
#define XENVER_extraversion         1   /* xen_extraversion_t */
#define XENVER_compile_info         2   /* struct xen_compile_info */
#define XENVER_capabilities         3   /* xen_capabilities_info_t */
#define XENVER_changeset            4   /* xen_changeset_info_t */
#define XENVER_platform_parameters  5   /* struct xen_platform_parameters */
#define XENVER_get_features         6   /* struct xen_feature_info */
#define XENVER_pagesize             7   /* returns the page size */
#define XENVER_guest_handle         8   /* xen_domain_handle_t */
#define XENVER_commandline          9   /* xen_commandline_t */
#define XENVER_build_id            10   /* struct xen_build_id */

typedef char xen_extraversion_t[16];
typedef char xen_capabilities_info_t[1024];
typedef char xen_changeset_info_t[64];
typedef char xen_commandline_t[1024];
typedef uint8_t xen_domain_handle_t[16];
XEN_ABI_SIZE(xen_extraversion_t, 16);
XEN_ABI_SIZE(xen_capabilities_info_t, 1024);
XEN_ABI_SIZE(xen_changeset_info_t, 64);
XEN_ABI_SIZE(xen_commandline_t, 1024);
XEN_ABI_SIZE(xen_domain_handle_t, 16);

#define XEN_EXTRAVERSION_LEN       16
#define XEN_CAPABILITIES_INFO_LEN  1024
#define XEN_CHANGESET_INFO_LEN     64

struct xen_compile_info {
    char compiler[64];
    char compile_by[16];
    char compile_domain[32];
    char compile_date[32];
};
XEN_ABI_SIZE(struct xen_compile_info, 144);
XEN_ABI_OFFSET(struct xen_compile_info, compiler, 0);
XEN_ABI_OFFSET(struct xen_compile_info, compile_by, 64);
XEN_ABI_OFFSET(struct xen_compile_info, compile_domain, 80);
XEN_ABI_OFFSET(struct xen_compile_info, compile_date, 112);

struct xen_platform_parameters {
    uint64_t virt_start;         /* lowest hypervisor-reserved VA */
};
XEN_ABI_SIZE(struct xen_platform_parameters, 8);
XEN_ABI_OFFSET(struct xen_platform_parameters, virt_start, 0);

struct xen_feature_info {
    uint32_t submap_idx;         /* IN: which 32-bit block */
    uint32_t submap;             /* OUT: XENFEAT_* bits of that block */
};
XEN_ABI_SIZE(struct xen_feature_info, 8);
XEN_ABI_OFFSET(struct xen_feature_info, submap_idx, 0);
XEN_ABI_OFFSET(struct xen_feature_info, submap, 4);

/* Variable length: `len` bytes follow in buf[]. */
struct xen_build_id {
    uint32_t len;
    uint8_t  buf[];
};
XEN_ABI_SIZE(struct xen_build_id, 4);
XEN_ABI_OFFSET(struct xen_build_id, len, 0);
XEN_ABI_OFFSET(struct xen_build_id, buf, 4);

#endif /* MICA_PUBLIC_VERSION_H */
