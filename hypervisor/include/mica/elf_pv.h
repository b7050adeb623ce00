/*
 * Loader for PV guest kernels: ELF64 x86-64 executables carrying "Xen"
 * ELF notes (the Xen PV boot ABI; see docs/abi.md and
 * hypervisor/common/elf_pv.c for the rules applied).
 *
 * Usage:
 *     struct elf_pv_info info;
 *     rc = elf_pv_parse(image, len, &policy, &info);   validate + read notes
 *     rc = elf_pv_load(image, len, &info, write, ctx);  copy segments
 *
 * elf_pv_parse() reads every header and note of the image exactly once,
 * into local copies, checks them, and keeps what the loader needs in
 * `info`; elf_pv_load() works from `info` and only copies segment bytes.
 * Both return 0 or a negative XEN_E* error and explain every refusal with
 * pr_err().
 */
#ifndef MICA_ELF_PV_H
#define MICA_ELF_PV_H

#include <mica/types.h>
#include <public/features.h>

/* Limits Mica puts on an image (Linux uses 5 program headers, 4 loads). */
#define ELF_PV_MAX_PHDRS     64
#define ELF_PV_MAX_LOADS     16
#define ELF_PV_STR_MAX       64    /* longest string note, NUL included */
#define ELF_PV_FEATURES_MAX  512   /* longest FEATURES note, NUL included */

/* A numeric note that was not present. */
#define ELF_PV_UNSET  (~(u64)0)

/* What the hypervisor can give the guest being built. */
struct elf_pv_policy {
    /*
     * XENFEAT bits (submap 0) the guest may require with a '!' feature.
     * Linux requires writable_page_tables, meaning trap-and-emulate of
     * page-table writes, which Mica provides; see ELF_PV_HV_FEATURES.
     */
    u32 hv_features;
    /* Building the initial domain: a kernel whose SUPPORTED_FEATURES note
     * lacks XENFEAT_dom0 is refused. */
    bool dom0;
};

/* Features any Mica PV guest may require; the dom0 builder adds dom0. */
#define ELF_PV_HV_FEATURES                                                  \
    ((1U << XENFEAT_writable_page_tables) |                                 \
     (1U << XENFEAT_pae_pgdir_above_4gb) |                                  \
     (1U << XENFEAT_mmu_pt_update_preserve_ad) |                            \
     (1U << XENFEAT_highmem_assist) |                                       \
     (1U << XENFEAT_gnttab_map_avail_bits))

/* One PT_LOAD segment, validated. */
struct elf_pv_segment {
    u64 offset;     /* in the image */
    u64 filesz;     /* bytes copied from the image */
    u64 memsz;      /* bytes in memory; the rest is zeroed */
    u64 paddr;      /* p_paddr as linked */
    u64 vaddr;      /* where it goes: paddr + virt_base - paddr_offset */
};

struct elf_pv_info {
    u64 image_len;                  /* length the image was parsed with */

    /* Virtual layout, all addresses canonical and outside the
     * hypervisor's range. */
    u64 virt_base;                  /* VIRT_BASE note, default 0 */
    u64 paddr_offset;               /* PADDR_OFFSET note, default 0 */
    u64 virt_kstart;                /* lowest loaded VA */
    u64 virt_kend;                  /* end of the highest loaded VA (excl.) */
    u64 virt_entry;                 /* ENTRY note, default e_entry */
    u64 virt_hypercall;             /* HYPERCALL_PAGE note or ELF_PV_UNSET */
    u64 init_p2m;                   /* INIT_P2M note or ELF_PV_UNSET */
    u64 hv_start_low;               /* HV_START_LOW note or ELF_PV_UNSET */
    u64 phys32_entry;               /* PHYS32_ENTRY (PVH; unused for PV) */
    u64 suspend_cancel;             /* SUSPEND_CANCEL note, 0 if absent */
    u64 l1_mfn_valid_mask;          /* L1_MFN_VALID pair, 0 if absent */
    u64 l1_mfn_valid_value;
    bool mod_start_pfn;             /* MOD_START_PFN note is non-zero */
    bool bsd_symtab;                /* BSD_SYMTAB "yes" (not loaded by Mica) */
    bool notes_from_sections;       /* notes came from SHT_NOTE sections */

    /* Features: supported = named in FEATURES or SUPPORTED_FEATURES,
     * required = named with '!' in FEATURES (always also supported). */
    u32 f_supported;
    u32 f_required;
    bool has_supported_features_note;

    /* String notes, NUL-terminated ("" when absent). */
    char xen_version[ELF_PV_STR_MAX];
    char guest_os[ELF_PV_STR_MAX];
    char guest_version[ELF_PV_STR_MAX];
    char loader[ELF_PV_STR_MAX];
    char pae_mode[ELF_PV_STR_MAX];
    char features[ELF_PV_FEATURES_MAX];

    unsigned nr_segments;
    struct elf_pv_segment seg[ELF_PV_MAX_LOADS];
};

int elf_pv_parse(const void *image, size_t len, const struct elf_pv_policy *policy,
                 struct elf_pv_info *info);

/*
 * Writes `len` bytes at guest virtual address `va` of the domain being
 * built: copied from `src`, or zeroes when `src` is NULL.  Returns 0 or a
 * negative error, which ends the load.
 */
typedef int (*elf_pv_write_fn)(void *ctx, u64 va, const void *src, u64 len);

int elf_pv_load(const void *image, size_t len, const struct elf_pv_info *info,
                elf_pv_write_fn write, void *ctx);

/* Name of a XEN_ELFNOTE_* type, for messages; "unknown" if not one. */
const char *elf_pv_note_name(u32 type);

#endif /* MICA_ELF_PV_H */
