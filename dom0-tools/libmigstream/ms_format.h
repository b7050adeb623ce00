/*
 * The on-disk layout of a Mica state file: Xen's migration stream v2
 * (the libxl stream, with the libxc stream inside its LIBXC_CONTEXT
 * record), plus Mica's optional records.  Facts from Xen's
 * docs/specs/libxl-migration-stream.pandoc and
 * libxc-migration-stream.pandoc; docs/state-files.md says how Mica uses
 * them and what it adds.
 *
 * Headers are big-endian; records are in the image's byte order, which
 * Mica only writes and reads as little-endian (x86-64 hosts).
 */
#ifndef MICA_MS_FORMAT_H
#define MICA_MS_FORMAT_H

#include <stddef.h>
#include <stdint.h>

/* ---- libxl layer ---------------------------------------------------- */

#define MS_LIBXL_IDENT      UINT64_C(0x4c6962786c466d74)   /* "LibxlFmt" */
#define MS_LIBXL_VERSION    2u
#define MS_LIBXL_OPT_BIG_ENDIAN  (1u << 0)
#define MS_LIBXL_OPT_LEGACY      (1u << 1)

struct ms_libxl_header {             /* all big-endian */
    uint64_t ident;
    uint32_t version;
    uint32_t options;
};
_Static_assert(sizeof(struct ms_libxl_header) == 16, "libxl header is 16 octets");
_Static_assert(offsetof(struct ms_libxl_header, version) == 8, "libxl version at 8");

#define MS_LIBXL_END                    0x00000000u
#define MS_LIBXL_LIBXC_CONTEXT          0x00000001u
#define MS_LIBXL_EMULATOR_XENSTORE_DATA 0x00000002u
#define MS_LIBXL_EMULATOR_CONTEXT       0x00000003u
#define MS_LIBXL_CHECKPOINT_END         0x00000004u

/* ---- libxc layer ---------------------------------------------------- */

#define MS_IMAGE_MARKER     UINT64_C(0xffffffffffffffff)
#define MS_IMAGE_ID         0x58454e46u              /* "XENF" */
/* Version 2 is what Mica writes; 3 (Xen 4.15 and later) frames records
   the same way and adds record types, so a reader can accept both. */
#define MS_IMAGE_VERSION    2u
#define MS_IMAGE_VERSION_MAX 3u
#define MS_IMAGE_OPT_BIG_ENDIAN (1u << 0)

struct ms_image_header {             /* all big-endian */
    uint64_t marker;
    uint32_t id;
    uint32_t version;
    uint16_t options;
    uint16_t reserved[3];
};
_Static_assert(sizeof(struct ms_image_header) == 24, "image header is 24 octets");
_Static_assert(offsetof(struct ms_image_header, options) == 16, "image options at 16");

#define MS_DOMAIN_X86_PV    1u
#define MS_DOMAIN_X86_HVM   2u
#define MS_DOMAIN_X86_PVH   3u
#define MS_DOMAIN_ARM       4u

struct ms_domain_header {            /* image byte order */
    uint32_t type;
    uint16_t page_shift;
    uint16_t reserved;
    uint32_t xen_major;
    uint32_t xen_minor;
};
_Static_assert(sizeof(struct ms_domain_header) == 16, "domain header is 16 octets");
_Static_assert(offsetof(struct ms_domain_header, xen_major) == 8, "xen_major at 8");

#define MS_REC_END                    0x00u
#define MS_REC_PAGE_DATA              0x01u
#define MS_REC_X86_PV_INFO            0x02u
#define MS_REC_X86_PV_P2M_FRAMES      0x03u
#define MS_REC_X86_PV_VCPU_BASIC      0x04u
#define MS_REC_X86_PV_VCPU_EXTENDED   0x05u
#define MS_REC_X86_PV_VCPU_XSAVE      0x06u
#define MS_REC_SHARED_INFO            0x07u
#define MS_REC_TSC_INFO               0x08u
#define MS_REC_HVM_CONTEXT            0x09u
#define MS_REC_HVM_PARAMS             0x0au
#define MS_REC_TOOLSTACK              0x0bu
#define MS_REC_X86_PV_VCPU_MSRS       0x0cu
#define MS_REC_VERIFY                 0x0du
#define MS_REC_CHECKPOINT             0x0eu
/* Added in version 3 (Xen 4.15+); a version-2 reader never sees them. */
#define MS_REC_CHECKPOINT_DIRTY_PFN_LIST 0x0fu
#define MS_REC_STATIC_DATA_END        0x10u
#define MS_REC_X86_CPUID_POLICY       0x11u
#define MS_REC_X86_MSR_POLICY         0x12u

/* Bit 31 marks an optional record, in both layers' specs: a reader that
   does not know one skips it; an unknown mandatory record fails the
   restore.  (Xen's libxc does so; Xen's libxl refuses any unknown one.) */
#define MS_REC_OPTIONAL               0x80000000u

struct ms_rec_header {
    uint32_t type;
    uint32_t length;                 /* body octets, without the padding */
};
_Static_assert(sizeof(struct ms_rec_header) == 8, "record header is 8 octets");

/* Every record (header, body, padding) is a multiple of 8 octets. */
#define MS_ALIGN 8u
static inline uint64_t ms_padded(uint64_t len) { return (len + MS_ALIGN - 1) & ~(uint64_t)(MS_ALIGN - 1); }

/* PAGE_DATA: a header, count pfn words, then the pages that carry data. */
struct ms_page_data_header {
    uint32_t count;
    uint32_t reserved;
};
_Static_assert(sizeof(struct ms_page_data_header) == 8, "page data header is 8 octets");

#define MS_PFN_MASK          UINT64_C(0x000fffffffffffff)   /* bits 51-0 */
#define MS_PFN_TYPE_SHIFT    60
/* XEN_DOMCTL_PFINFO_* >> 28, i.e. the 4-bit type in bits 63-60. */
#define MS_PAGE_NOTAB        0x0u
#define MS_PAGE_L1TAB        0x1u
#define MS_PAGE_L2TAB        0x2u
#define MS_PAGE_L3TAB        0x3u
#define MS_PAGE_L4TAB        0x4u
#define MS_PAGE_PINNED       0x8u            /* added to L1..L4 */
#define MS_PAGE_BROKEN       0xdu
#define MS_PAGE_XALLOC       0xeu            /* allocate, no data: Mica's zero pages */
#define MS_PAGE_XTAB         0xfu

/* Whether a page of this type has page_data; -1 for an unknown type. */
static inline int ms_page_type_has_data(unsigned type)
{
    if (type <= MS_PAGE_L4TAB || (type >= (MS_PAGE_PINNED | MS_PAGE_L1TAB) &&
                                  type <= (MS_PAGE_PINNED | MS_PAGE_L4TAB)))
        return 1;
    if (type == MS_PAGE_BROKEN || type == MS_PAGE_XALLOC || type == MS_PAGE_XTAB)
        return 0;
    return -1;
}

struct ms_x86_pv_info {
    uint8_t guest_width;             /* 8 for x86-64 */
    uint8_t pt_levels;               /* 4 */
    uint8_t reserved[6];
};
_Static_assert(sizeof(struct ms_x86_pv_info) == 8, "X86_PV_INFO is 8 octets");

struct ms_x86_pv_p2m_frames {        /* followed by the p2m frames' PFNs (u64) */
    uint32_t start_pfn;
    uint32_t end_pfn;                /* inclusive */
};
_Static_assert(sizeof(struct ms_x86_pv_p2m_frames) == 8, "P2M_FRAMES header is 8 octets");

struct ms_vcpu_header {              /* BASIC, EXTENDED, XSAVE, MSRS: then the blob */
    uint32_t vcpu_id;
    uint32_t reserved;
};
_Static_assert(sizeof(struct ms_vcpu_header) == 8, "vCPU record header is 8 octets");

/* X86_PV_VCPU_XSAVE's blob is XEN_DOMCTL_getvcpuextstate's buffer: XCR0,
   XCR0_ACCUM, then the XSAVE area in the standard format (as long as
   XCR0_ACCUM's components need).  Mica's readers and savers take at most
   this much (an AMX-sized area is about 11 KiB). */
#define MS_MAX_XSAVE        16384u

/* X86_PV_VCPU_MSRS's blob: XEN_DOMCTL_get_vcpu_msrs's entries (Xen 4.17
   sends at most 11: SPEC_CTRL, MISC_FEATURES_ENABLES, TSC_AUX and AMD's
   four DR address masks); at least one, at most MS_MAX_VCPU_MSRS. */
struct ms_vcpu_msr {
    uint32_t index;
    uint32_t reserved;                  /* 0 */
    uint64_t value;
};
_Static_assert(sizeof(struct ms_vcpu_msr) == 16, "an MSR entry is 16 octets");
_Static_assert(__builtin_offsetof(struct ms_vcpu_msr, value) == 8, "value at 8");
#define MS_MAX_VCPU_MSRS    64u
#define MS_XSAVE_HDR        16u

struct ms_tsc_info {
    uint32_t mode;
    uint32_t khz;
    uint64_t nsec;
    uint32_t incarnation;
    uint32_t reserved;
};
_Static_assert(sizeof(struct ms_tsc_info) == 24, "TSC_INFO is 24 octets");
_Static_assert(offsetof(struct ms_tsc_info, incarnation) == 16, "incarnation at 16");

/* ---- Mica's optional records (docs/state-files.md) -------------------
 * 0x804d00xx ('M'), all in the libxc stream: Xen's libxc skips optional
 * records it does not know, Xen's libxl (despite its spec) refuses them. */

/* XXH3-64 of every octet of the file from span_offset up to this record's
   header: the record before it with its padding, and for the first one
   everything from offset 0 (libxl header, LIBXC_CONTEXT, libxc headers).
   A checksummed stream has one after every libxc record but END; the libxc
   and libxl END records that close the file are checked exactly. */
#define MS_MICA_CHECKSUM     0x804d0001u
struct ms_mica_checksum {
    uint64_t span_offset;
    uint64_t span_length;
    uint64_t sequence;               /* 0 for the stream's first checksum */
    uint64_t xxh3;
};
_Static_assert(sizeof(struct ms_mica_checksum) == 32, "checksum record is 32 octets");

/* The first libxc record: says the stream is Mica's and checksummed, and
   how many pages it holds (restore's progress). */
#define MS_MICA_INFO         0x804d0002u
#define MS_MICA_INFO_MAGIC   0x4d494341u             /* "MICA" */
#define MS_MICA_INFO_VERSION 1u
#define MS_MICA_INFO_CHECKSUMS (1u << 0)
struct ms_mica_info {
    uint32_t magic;
    uint32_t version;
    uint32_t flags;
    uint32_t reserved;
    uint64_t nr_pfns;                /* the guest's p2m size */
    uint64_t nr_data_pages;          /* pages that carry data in PAGE_DATA */
};
_Static_assert(sizeof(struct ms_mica_info) == 32, "info record is 32 octets");

/* The domain's definition.  Then name_len octets of name and
   xml_len octets of the domain XML, neither NUL-terminated. */
#define MS_MICA_DEFINITION   0x804d0003u
struct ms_mica_definition {
    uint8_t uuid[16];
    uint32_t name_len;
    uint32_t xml_len;
};
_Static_assert(sizeof(struct ms_mica_definition) == 24, "definition header is 24 octets");

/* Xenstore nodes the guest owns, relative to its home
   (key NUL value NUL ...), in EMULATOR_XENSTORE_DATA's encoding. */
#define MS_MICA_XENSTORE     0x804d0004u

/* One device's state, for back-ends (disks, network) to
   come.  A u32 device kind, a u32 index, then the kind's own blob. */
#define MS_MICA_DEVICE       0x804d0005u
struct ms_mica_device {
    uint32_t kind;
    uint32_t index;
};
_Static_assert(sizeof(struct ms_mica_device) == 8, "device header is 8 octets");

/* Live migration only (vmctl migrate): kernel page-table entries the
   source's last log-dirty round made writable again, which the
   destination sets in the table copies the stream already gave it
   (docs/migration.md, "Stop and copy").  Entries of
   struct ms_mica_kernel_rw, each naming an L1 table whose last copy in
   the stream came before this record. */
#define MS_MICA_KERNEL_RW    0x804d0006u
struct ms_mica_kernel_rw {
    uint64_t pfn;                    /* the L1 table */
    uint64_t slots[8];               /* bit n % 64 of slots[n / 64]: set RW in entry n */
};
_Static_assert(sizeof(struct ms_mica_kernel_rw) == 72, "kernel RW entry is 72 octets");

#endif
