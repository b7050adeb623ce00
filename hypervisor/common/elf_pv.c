/*
 * PV kernel ELF loader: validates an ELF64 x86-64 executable held in
 * memory, reads its "Xen" notes and computes where it goes in the guest's
 * virtual address space, then copies its segments through a callback.
 *
 * The image is untrusted (it may be a dom0 module or come from a domain
 * builder request), so:
 *   - every header, note header and note value is copied out of the image
 *     once, into a local variable, and checked there before use;
 *   - every offset + size is checked against the image length without
 *     overflowing;
 *   - every address the guest will run at must be canonical and outside
 *     the hypervisor's range HYPERVISOR_VIRT_START..HYPERVISOR_VIRT_END;
 *   - each refusal says what is wrong with pr_err() and returns a negative
 *     XEN_E* error: ENOEXEC (not a PV kernel for this machine), EINVAL
 *     (malformed or inconsistent), E2BIG (beyond Mica's limits),
 *     EOPNOTSUPP (requires a feature the hypervisor does not offer).
 *
 * Rules taken over from the Xen PV boot ABI (docs/abi.md):
 *   - notes come from PT_NOTE segments; only if those hold no Xen note are
 *     SHT_NOTE sections searched;
 *   - XEN_VERSION must start with "xen-3.0"; LOADER must start with
 *     "generic" or GUEST_OS with "linux";
 *   - VIRT_BASE defaults to 0, PADDR_OFFSET to 0; PADDR_OFFSET without
 *     VIRT_BASE is an error; segments are placed by physical address:
 *     VA = p_paddr + VIRT_BASE - PADDR_OFFSET (p_vaddr is ignored: Linux
 *     links its per-cpu segment at 0);
 *   - ENTRY defaults to e_entry and must lie inside the loaded image, as
 *     must a HYPERCALL_PAGE; INIT_P2M must not overlap the image;
 *   - FEATURES names features separated by '|', a leading '!' marks one
 *     as required; an unknown required name is an error, unknown plain
 *     names are ignored; required features must all be offered by the
 *     hypervisor (policy->hv_features).
 * Choices of Mica's own (the simplest safe reading): a note type given
 * twice, overlapping PT_LOAD segments, a string note longer than Mica's
 * buffers, a numeric note that is not 1, 2, 4 or 8 bytes, a misaligned
 * HYPERCALL_PAGE or INIT_P2M are all refused; BSD_SYMTAB is accepted but
 * no symbol table is loaded.
 */
#include <mica/types.h>
#include <mica/lib.h>
#include <mica/elf.h>
#include <mica/elf_pv.h>
#include <public/xen.h>
#include <public/elfnote.h>
#include <public/errno.h>
#include <public/features.h>

#define XEN_NOTE_NAME      "Xen"
#define XEN_NOTE_NAMESZ    4            /* "Xen" and its NUL */

static const char *const note_names[] = {
    [XEN_ELFNOTE_INFO]               = "INFO",
    [XEN_ELFNOTE_ENTRY]              = "ENTRY",
    [XEN_ELFNOTE_HYPERCALL_PAGE]     = "HYPERCALL_PAGE",
    [XEN_ELFNOTE_VIRT_BASE]          = "VIRT_BASE",
    [XEN_ELFNOTE_PADDR_OFFSET]       = "PADDR_OFFSET",
    [XEN_ELFNOTE_XEN_VERSION]        = "XEN_VERSION",
    [XEN_ELFNOTE_GUEST_OS]           = "GUEST_OS",
    [XEN_ELFNOTE_GUEST_VERSION]      = "GUEST_VERSION",
    [XEN_ELFNOTE_LOADER]             = "LOADER",
    [XEN_ELFNOTE_PAE_MODE]           = "PAE_MODE",
    [XEN_ELFNOTE_FEATURES]           = "FEATURES",
    [XEN_ELFNOTE_BSD_SYMTAB]         = "BSD_SYMTAB",
    [XEN_ELFNOTE_HV_START_LOW]       = "HV_START_LOW",
    [XEN_ELFNOTE_L1_MFN_VALID]       = "L1_MFN_VALID",
    [XEN_ELFNOTE_SUSPEND_CANCEL]     = "SUSPEND_CANCEL",
    [XEN_ELFNOTE_INIT_P2M]           = "INIT_P2M",
    [XEN_ELFNOTE_MOD_START_PFN]      = "MOD_START_PFN",
    [XEN_ELFNOTE_SUPPORTED_FEATURES] = "SUPPORTED_FEATURES",
    [XEN_ELFNOTE_PHYS32_ENTRY]       = "PHYS32_ENTRY",
};

const char *elf_pv_note_name(u32 type)
{
    if (type < ARRAY_SIZE(note_names) && note_names[type])
        return note_names[type];
    return "unknown";
}

/* Feature names a FEATURES note may use, with their XENFEAT bit. */
static const struct {
    const char *name;
    unsigned bit;
} feature_names[] = {
    { "writable_page_tables",       XENFEAT_writable_page_tables },
    { "writable_descriptor_tables", XENFEAT_writable_descriptor_tables },
    { "auto_translated_physmap",    XENFEAT_auto_translated_physmap },
    { "supervisor_mode_kernel",     XENFEAT_supervisor_mode_kernel },
    { "pae_pgdir_above_4gb",        XENFEAT_pae_pgdir_above_4gb },
    { "hvm_callback_vector",        XENFEAT_hvm_callback_vector },
    { "dom0",                       XENFEAT_dom0 },
};

static const char *feature_name(unsigned bit)
{
    for (unsigned i = 0; i < ARRAY_SIZE(feature_names); i++)
        if (feature_names[i].bit == bit)
            return feature_names[i].name;
    return "unnamed";
}

/* ------------------------------------------------------------------ */
/* Range and address helpers.                                          */

/* [off, off + size) lies inside an image of `len` bytes. */
static bool in_image(u64 off, u64 size, u64 len)
{
    return off <= len && size <= len - off;
}

static bool is_canonical(u64 va)
{
    return (u64)((s64)(va << 16) >> 16) == va;
}

/*
 * Checks that the guest may use [start, start + size) (a single address
 * when size is 0): no wrap-around, canonical, outside the hypervisor.
 */
static int check_guest_range(const char *what, u64 start, u64 size)
{
    u64 last = start;

    if (size) {
        last = start + size - 1;
        if (last < start) {
            pr_err("elf: %s [%#lx, +%#lx) wraps around the address space\n",
                   what, start, size);
            return -XEN_EINVAL;
        }
    }
    if (!is_canonical(start) || !is_canonical(last) || ((start ^ last) >> 63)) {
        pr_err("elf: %s [%#lx, %#lx] is not a canonical address range\n",
               what, start, last);
        return -XEN_EINVAL;
    }
    if (start < HYPERVISOR_VIRT_END && last >= HYPERVISOR_VIRT_START) {
        pr_err("elf: %s [%#lx, %#lx] overlaps the hypervisor's range "
               "[%#llx, %#llx)\n", what, start, last,
               HYPERVISOR_VIRT_START, HYPERVISOR_VIRT_END);
        return -XEN_EINVAL;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Notes.                                                              */

struct note_state {
    u32 seen;                   /* bit per XEN_ELFNOTE_* type (< 32) found */
    unsigned xen_notes;         /* Xen notes found */
};

static int note_numeric(u32 type, const u8 *desc, u32 descsz, u64 *val)
{
    u8 buf[8];

    if (descsz != 1 && descsz != 2 && descsz != 4 && descsz != 8) {
        pr_err("elf: note %s has a %u-byte value (expected 1, 2, 4 or 8 bytes)\n",
               elf_pv_note_name(type), descsz);
        return -XEN_EINVAL;
    }
    memcpy(buf, desc, descsz);
    *val = 0;
    for (u32 i = 0; i < descsz; i++)
        *val |= (u64)buf[i] << (8 * i);
    return 0;
}

/*
 * Copies a string note into out[max] and NUL-terminates it.  The value
 * ends at its first NUL or at the end of the descriptor: Linux writes
 * FEATURES with .ascii, without a terminating NUL.
 */
static int note_string(u32 type, const u8 *desc, u32 descsz, char *out, size_t max)
{
    if (descsz <= max)
        memcpy(out, desc, descsz);
    /* Checked on the copy: room is needed for the NUL. */
    if (descsz > max || (descsz == max && out[max - 1] != '\0')) {
        pr_err("elf: note %s is %u bytes long, more than the %zu Mica accepts\n",
               elf_pv_note_name(type), descsz, max - 1);
        return -XEN_E2BIG;
    }
    if (descsz < max)
        out[descsz] = '\0';
    return 0;
}

static int xen_note(u32 type, const u8 *desc, u32 descsz, struct note_state *st,
                    struct elf_pv_info *info)
{
    char scratch[ELF_PV_STR_MAX];
    u64 v = 0;
    int rc = 0;

    if (type < 32) {
        if (st->seen & (1U << type)) {
            pr_err("elf: note %s appears more than once\n", elf_pv_note_name(type));
            return -XEN_EINVAL;
        }
        st->seen |= 1U << type;
    }
    st->xen_notes++;

    switch (type) {
    case XEN_ELFNOTE_ENTRY:
    case XEN_ELFNOTE_HYPERCALL_PAGE:
    case XEN_ELFNOTE_VIRT_BASE:
    case XEN_ELFNOTE_PADDR_OFFSET:
    case XEN_ELFNOTE_HV_START_LOW:
    case XEN_ELFNOTE_SUSPEND_CANCEL:
    case XEN_ELFNOTE_INIT_P2M:
    case XEN_ELFNOTE_MOD_START_PFN:
    case XEN_ELFNOTE_SUPPORTED_FEATURES:
    case XEN_ELFNOTE_PHYS32_ENTRY:
        rc = note_numeric(type, desc, descsz, &v);
        if (rc)
            return rc;
        break;
    default:
        break;
    }

    switch (type) {
    case XEN_ELFNOTE_ENTRY:          info->virt_entry = v; break;
    case XEN_ELFNOTE_HYPERCALL_PAGE: info->virt_hypercall = v; break;
    case XEN_ELFNOTE_VIRT_BASE:      info->virt_base = v; break;
    case XEN_ELFNOTE_PADDR_OFFSET:   info->paddr_offset = v; break;
    case XEN_ELFNOTE_HV_START_LOW:   info->hv_start_low = v; break;
    case XEN_ELFNOTE_SUSPEND_CANCEL: info->suspend_cancel = v; break;
    case XEN_ELFNOTE_INIT_P2M:       info->init_p2m = v; break;
    case XEN_ELFNOTE_MOD_START_PFN:  info->mod_start_pfn = v != 0; break;
    case XEN_ELFNOTE_PHYS32_ENTRY:   info->phys32_entry = v; break;
    case XEN_ELFNOTE_SUPPORTED_FEATURES:
        if (v >> 32) {
            pr_err("elf: note SUPPORTED_FEATURES %#lx has bits beyond submap 0\n", v);
            return -XEN_EINVAL;
        }
        info->f_supported |= (u32)v;
        info->has_supported_features_note = true;
        break;
    case XEN_ELFNOTE_XEN_VERSION:
        rc = note_string(type, desc, descsz, info->xen_version, sizeof(info->xen_version));
        break;
    case XEN_ELFNOTE_GUEST_OS:
        rc = note_string(type, desc, descsz, info->guest_os, sizeof(info->guest_os));
        break;
    case XEN_ELFNOTE_GUEST_VERSION:
        rc = note_string(type, desc, descsz, info->guest_version,
                         sizeof(info->guest_version));
        break;
    case XEN_ELFNOTE_LOADER:
        rc = note_string(type, desc, descsz, info->loader, sizeof(info->loader));
        break;
    case XEN_ELFNOTE_PAE_MODE:
        rc = note_string(type, desc, descsz, info->pae_mode, sizeof(info->pae_mode));
        break;
    case XEN_ELFNOTE_FEATURES:
        rc = note_string(type, desc, descsz, info->features, sizeof(info->features));
        break;
    case XEN_ELFNOTE_BSD_SYMTAB:
        rc = note_string(type, desc, descsz, scratch, sizeof(scratch));
        if (!rc && strncmp(scratch, "yes", 4) == 0)
            info->bsd_symtab = true;
        break;
    case XEN_ELFNOTE_L1_MFN_VALID: {
        /* (mask, value) pairs; Mica keeps the first, as 8-byte values. */
        u8 pair[16];

        if (descsz < 16 || descsz % 16) {
            pr_err("elf: note L1_MFN_VALID is %u bytes, not pairs of 8-byte values\n",
                   descsz);
            return -XEN_EINVAL;
        }
        memcpy(pair, desc, 16);
        for (int i = 0; i < 8; i++) {
            info->l1_mfn_valid_mask |= (u64)pair[i] << (8 * i);
            info->l1_mfn_valid_value |= (u64)pair[8 + i] << (8 * i);
        }
        break;
    }
    default:
        /* INFO, and types newer than this loader: not needed to boot. */
        break;
    }
    return rc;
}

/*
 * Walks the notes in [off, off + size) of the image (already checked to
 * lie inside it).  `what` names the container for messages.
 */
static int walk_notes(const u8 *img, u64 off, u64 size, const char *what, unsigned idx,
                      struct note_state *st, struct elf_pv_info *info)
{
    u64 pos = 0;

    while (pos < size) {
        struct elf_note_hdr nh;
        u64 rem = size - pos, name_len, desc_len;
        u8 name[XEN_NOTE_NAMESZ];
        int rc;

        if (rem < sizeof(nh)) {
            pr_err("elf: %s %u: %lu stray bytes after the last note at offset %#lx\n",
                   what, idx, rem, off + pos);
            return -XEN_EINVAL;
        }
        memcpy(&nh, img + off + pos, sizeof(nh));
        rem -= sizeof(nh);
        name_len = ALIGN_UP((u64)nh.n_namesz, 4);
        desc_len = ALIGN_UP((u64)nh.n_descsz, 4);
        if (name_len > rem || desc_len > rem - name_len) {
            pr_err("elf: %s %u: note at offset %#lx (name %u bytes, value %u bytes) "
                   "runs past the end of its %lu bytes\n", what, idx, off + pos,
                   nh.n_namesz, nh.n_descsz, size);
            return -XEN_EINVAL;
        }
        if (nh.n_namesz == XEN_NOTE_NAMESZ) {
            memcpy(name, img + off + pos + sizeof(nh), sizeof(name));
            if (memcmp(name, XEN_NOTE_NAME, XEN_NOTE_NAMESZ) == 0) {
                rc = xen_note(nh.n_type, img + off + pos + sizeof(nh) + name_len,
                              nh.n_descsz, st, info);
                if (rc)
                    return rc;
            }
        }
        pos += sizeof(nh) + name_len + desc_len;
    }
    return 0;
}

/* Parses info->features into f_supported / f_required. */
static int parse_features(struct elf_pv_info *info)
{
    const char *p = info->features;

    while (*p) {
        const char *end = strchr(p, '|');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        bool required = false;
        const char *name = p;
        size_t len = n;
        unsigned i;

        if (len && name[0] == '!') {
            required = true;
            name++;
            len--;
        }
        for (i = 0; i < ARRAY_SIZE(feature_names); i++)
            if (strlen(feature_names[i].name) == len &&
                strncmp(feature_names[i].name, name, len) == 0)
                break;
        if (i < ARRAY_SIZE(feature_names)) {
            info->f_supported |= 1U << feature_names[i].bit;
            if (required)
                info->f_required |= 1U << feature_names[i].bit;
        } else if (required) {
            pr_err("elf: note FEATURES requires unknown feature '%.*s'\n",
                   (int)len, name);
            return -XEN_EOPNOTSUPP;
        }
        p += n;
        if (*p == '|')
            p++;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Headers.                                                            */

static int check_ehdr(const struct elf64_ehdr *eh, u64 len)
{
    if (eh->e_ident[EI_MAG0] != ELFMAG0 || eh->e_ident[EI_MAG1] != ELFMAG1 ||
        eh->e_ident[EI_MAG2] != ELFMAG2 || eh->e_ident[EI_MAG3] != ELFMAG3) {
        pr_err("elf: not an ELF file (bad magic)\n");
        return -XEN_ENOEXEC;
    }
    if (eh->e_ident[EI_CLASS] != ELFCLASS64) {
        pr_err("elf: ELF class %u is not ELFCLASS64\n", eh->e_ident[EI_CLASS]);
        return -XEN_ENOEXEC;
    }
    if (eh->e_ident[EI_DATA] != ELFDATA2LSB) {
        pr_err("elf: ELF data encoding %u is not little-endian\n", eh->e_ident[EI_DATA]);
        return -XEN_ENOEXEC;
    }
    if (eh->e_ident[EI_VERSION] != EV_CURRENT || eh->e_version != EV_CURRENT) {
        pr_err("elf: unknown ELF version %u/%u\n", eh->e_ident[EI_VERSION], eh->e_version);
        return -XEN_ENOEXEC;
    }
    if (eh->e_machine != EM_X86_64) {
        pr_err("elf: built for machine %u, not x86-64 (%u)\n", eh->e_machine, EM_X86_64);
        return -XEN_ENOEXEC;
    }
    if (eh->e_type != ET_EXEC) {
        pr_err("elf: ELF type %u is not an executable (ET_EXEC)\n", eh->e_type);
        return -XEN_ENOEXEC;
    }
    if (eh->e_ehsize < sizeof(*eh)) {
        pr_err("elf: ELF header size %u is smaller than %zu\n", eh->e_ehsize, sizeof(*eh));
        return -XEN_EINVAL;
    }
    if (eh->e_phnum == 0) {
        pr_err("elf: no program headers\n");
        return -XEN_ENOEXEC;
    }
    if (eh->e_phnum > ELF_PV_MAX_PHDRS) {
        pr_err("elf: %u program headers, more than the %u Mica accepts\n",
               eh->e_phnum, ELF_PV_MAX_PHDRS);
        return -XEN_E2BIG;
    }
    if (eh->e_phentsize != sizeof(struct elf64_phdr)) {
        pr_err("elf: program header size %u is not %zu\n", eh->e_phentsize,
               sizeof(struct elf64_phdr));
        return -XEN_EINVAL;
    }
    if (!in_image(eh->e_phoff, (u64)eh->e_phnum * sizeof(struct elf64_phdr), len)) {
        pr_err("elf: program header table (%u entries at offset %#lx) lies outside "
               "the %lu-byte image\n", eh->e_phnum, eh->e_phoff, len);
        return -XEN_EINVAL;
    }
    return 0;
}

static int take_load(const struct elf64_phdr *ph, unsigned i, u64 len,
                     struct elf_pv_info *info)
{
    struct elf_pv_segment *s;

    if (!in_image(ph->p_offset, ph->p_filesz, len)) {
        pr_err("elf: program header %u (PT_LOAD): file range [%#lx, +%#lx) lies "
               "outside the %lu-byte image\n", i, ph->p_offset, ph->p_filesz, len);
        return -XEN_EINVAL;
    }
    if (ph->p_filesz > ph->p_memsz) {
        pr_err("elf: program header %u (PT_LOAD): file size %#lx exceeds memory "
               "size %#lx\n", i, ph->p_filesz, ph->p_memsz);
        return -XEN_EINVAL;
    }
    if (ph->p_paddr + ph->p_memsz < ph->p_paddr) {
        pr_err("elf: program header %u (PT_LOAD): [%#lx, +%#lx) wraps around\n",
               i, ph->p_paddr, ph->p_memsz);
        return -XEN_EINVAL;
    }
    if (info->nr_segments == ELF_PV_MAX_LOADS) {
        pr_err("elf: more than %u PT_LOAD segments\n", ELF_PV_MAX_LOADS);
        return -XEN_E2BIG;
    }
    s = &info->seg[info->nr_segments++];
    s->offset = ph->p_offset;
    s->filesz = ph->p_filesz;
    s->memsz = ph->p_memsz;
    s->paddr = ph->p_paddr;
    return 0;
}

/* Falls back to SHT_NOTE sections when no PT_NOTE held a Xen note. */
static int section_notes(const u8 *img, const struct elf64_ehdr *eh, u64 len,
                         struct note_state *st, struct elf_pv_info *info)
{
    if (eh->e_shnum == 0)
        return 0;
    if (eh->e_shentsize != sizeof(struct elf64_shdr)) {
        pr_err("elf: section header size %u is not %zu\n", eh->e_shentsize,
               sizeof(struct elf64_shdr));
        return -XEN_EINVAL;
    }
    if (!in_image(eh->e_shoff, (u64)eh->e_shnum * sizeof(struct elf64_shdr), len)) {
        pr_err("elf: section header table (%u entries at offset %#lx) lies outside "
               "the %lu-byte image\n", eh->e_shnum, eh->e_shoff, len);
        return -XEN_EINVAL;
    }
    for (unsigned i = 0; i < eh->e_shnum; i++) {
        struct elf64_shdr sh;
        int rc;

        memcpy(&sh, img + eh->e_shoff + (u64)i * sizeof(sh), sizeof(sh));
        if (sh.sh_type != SHT_NOTE)
            continue;
        if (!in_image(sh.sh_offset, sh.sh_size, len)) {
            pr_err("elf: section %u (SHT_NOTE): [%#lx, +%#lx) lies outside the "
                   "%lu-byte image\n", i, sh.sh_offset, sh.sh_size, len);
            return -XEN_EINVAL;
        }
        rc = walk_notes(img, sh.sh_offset, sh.sh_size, "section", i, st, info);
        if (rc)
            return rc;
    }
    info->notes_from_sections = true;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Xen's rules on the notes, and the virtual layout.                   */

static int check_notes(const struct note_state *st, struct elf_pv_info *info)
{
    if (st->xen_notes == 0) {
        pr_err("elf: no Xen ELF notes: not a PV kernel (legacy __xen_guest "
               "images are not supported)\n");
        return -XEN_ENOEXEC;
    }
    if (strncmp(info->xen_version, "xen-3.0", 7) != 0) {
        pr_err("elf: note XEN_VERSION is '%s', not 'xen-3.0'\n",
               (st->seen & (1U << XEN_ELFNOTE_XEN_VERSION)) ? info->xen_version
                                                             : "(missing)");
        return -XEN_ENOEXEC;
    }
    if (strncmp(info->loader, "generic", 7) != 0 &&
        strncmp(info->guest_os, "linux", 5) != 0) {
        pr_err("elf: neither LOADER 'generic' nor GUEST_OS 'linux' (LOADER '%s', "
               "GUEST_OS '%s')\n", info->loader, info->guest_os);
        return -XEN_ENOEXEC;
    }
    if ((st->seen & (1U << XEN_ELFNOTE_PADDR_OFFSET)) &&
        !(st->seen & (1U << XEN_ELFNOTE_VIRT_BASE))) {
        pr_err("elf: note PADDR_OFFSET is given without VIRT_BASE\n");
        return -XEN_EINVAL;
    }
    if (!(st->seen & (1U << XEN_ELFNOTE_VIRT_BASE)))
        info->virt_base = 0;
    if (!(st->seen & (1U << XEN_ELFNOTE_PADDR_OFFSET)))
        info->paddr_offset = 0;
    return 0;
}

static int check_features(const struct elf_pv_policy *policy, struct elf_pv_info *info)
{
    u32 missing;
    int rc = parse_features(info);

    if (rc)
        return rc;
    missing = info->f_required & ~policy->hv_features;
    if (missing) {
        unsigned bit = (unsigned)__builtin_ctz(missing);

        pr_err("elf: kernel requires feature '%s' (XENFEAT %u), which this "
               "hypervisor does not offer to the guest\n", feature_name(bit), bit);
        return -XEN_EOPNOTSUPP;
    }
    if (policy->dom0 && info->has_supported_features_note &&
        !(info->f_supported & (1U << XENFEAT_dom0))) {
        pr_err("elf: kernel cannot run as dom0: SUPPORTED_FEATURES lacks XENFEAT_dom0\n");
        return -XEN_EOPNOTSUPP;
    }
    return 0;
}

static int place_segments(const struct elf64_ehdr *eh, struct elf_pv_info *info)
{
    u64 virt_offset = info->virt_base - info->paddr_offset;   /* mod 2^64 */
    u64 kstart = ~(u64)0, kend = 0;
    bool any = false;
    int rc;

    for (unsigned i = 0; i < info->nr_segments; i++) {
        struct elf_pv_segment *s = &info->seg[i];

        for (unsigned j = 0; j < i; j++) {
            const struct elf_pv_segment *t = &info->seg[j];

            if (s->memsz && t->memsz && s->paddr < t->paddr + t->memsz &&
                t->paddr < s->paddr + s->memsz) {
                pr_err("elf: PT_LOAD segments [%#lx, +%#lx) and [%#lx, +%#lx) "
                       "overlap\n", t->paddr, t->memsz, s->paddr, s->memsz);
                return -XEN_EINVAL;
            }
        }
        s->vaddr = s->paddr + virt_offset;
        rc = check_guest_range("PT_LOAD segment", s->vaddr, s->memsz);
        if (rc)
            return rc;
        if (!s->memsz)
            continue;
        if (s->vaddr + s->memsz == 0) {
            pr_err("elf: PT_LOAD segment [%#lx, +%#lx) ends at the top of the "
                   "address space\n", s->vaddr, s->memsz);
            return -XEN_EINVAL;
        }
        kstart = MIN(kstart, s->vaddr);
        kend = MAX(kend, s->vaddr + s->memsz);
        any = true;
    }
    if (!any) {
        pr_err("elf: no PT_LOAD segment has a non-zero size\n");
        return -XEN_ENOEXEC;
    }
    /* Segments may sit in different places; the span must be sane too. */
    rc = check_guest_range("kernel image", kstart, kend - kstart);
    if (rc)
        return rc;
    info->virt_kstart = kstart;
    info->virt_kend = kend;

    if (info->virt_base > kstart) {
        pr_err("elf: VIRT_BASE %#lx lies above the kernel's start %#lx\n",
               info->virt_base, kstart);
        return -XEN_EINVAL;
    }
    /* The bootstrap region is mapped from VIRT_BASE up, contiguously. */
    rc = check_guest_range("bootstrap region from VIRT_BASE", info->virt_base,
                           kend - info->virt_base);
    if (rc)
        return rc;
    if (info->virt_entry == ELF_PV_UNSET)
        info->virt_entry = eh->e_entry;
    if (info->virt_entry < kstart || info->virt_entry >= kend) {
        pr_err("elf: entry point %#lx lies outside the kernel image [%#lx, %#lx)\n",
               info->virt_entry, kstart, kend);
        return -XEN_EINVAL;
    }
    if (info->virt_hypercall != ELF_PV_UNSET) {
        if (!IS_ALIGNED(info->virt_hypercall, PAGE_SIZE) ||
            info->virt_hypercall < kstart || info->virt_hypercall > kend ||
            kend - info->virt_hypercall < PAGE_SIZE) {
            pr_err("elf: HYPERCALL_PAGE %#lx is not a page-aligned page inside the "
                   "kernel image [%#lx, %#lx)\n", info->virt_hypercall, kstart, kend);
            return -XEN_EINVAL;
        }
    }
    if (info->init_p2m != ELF_PV_UNSET) {
        rc = check_guest_range("INIT_P2M address", info->init_p2m, 0);
        if (rc)
            return rc;
        if (!IS_ALIGNED(info->init_p2m, PAGE_SIZE)) {
            pr_err("elf: INIT_P2M %#lx is not page-aligned\n", info->init_p2m);
            return -XEN_EINVAL;
        }
        if (info->init_p2m >= kstart && info->init_p2m < kend) {
            pr_err("elf: INIT_P2M %#lx lies inside the kernel image [%#lx, %#lx)\n",
                   info->init_p2m, kstart, kend);
            return -XEN_EINVAL;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ */

int elf_pv_parse(const void *image, size_t len, const struct elf_pv_policy *policy,
                 struct elf_pv_info *info)
{
    const u8 *img = image;
    struct elf64_ehdr eh;
    struct note_state st = { 0, 0 };
    int rc;

    if (!info)
        return -XEN_EINVAL;
    memset(info, 0, sizeof(*info));
    info->image_len = len;
    info->virt_entry = ELF_PV_UNSET;
    info->virt_hypercall = ELF_PV_UNSET;
    info->init_p2m = ELF_PV_UNSET;
    info->hv_start_low = ELF_PV_UNSET;
    info->phys32_entry = ELF_PV_UNSET;
    info->virt_base = ELF_PV_UNSET;
    info->paddr_offset = ELF_PV_UNSET;

    if (!image || !policy) {
        pr_err("elf: no image or no policy given\n");
        return -XEN_EINVAL;
    }
    if (len < sizeof(eh)) {
        pr_err("elf: image is %zu bytes, too small for an ELF header\n", len);
        return -XEN_ENOEXEC;
    }
    memcpy(&eh, img, sizeof(eh));
    rc = check_ehdr(&eh, len);
    if (rc)
        return rc;

    for (unsigned i = 0; i < eh.e_phnum; i++) {
        struct elf64_phdr ph;

        rc = 0;
        memcpy(&ph, img + eh.e_phoff + (u64)i * sizeof(ph), sizeof(ph));
        if (ph.p_type == PT_LOAD) {
            /* Xen loads a PT_LOAD only if it has some access right. */
            if (!(ph.p_flags & (PF_R | PF_W | PF_X)))
                continue;
            rc = take_load(&ph, i, len, info);
        } else if (ph.p_type == PT_NOTE) {
            if (!in_image(ph.p_offset, ph.p_filesz, len)) {
                pr_err("elf: program header %u (PT_NOTE): [%#lx, +%#lx) lies outside "
                       "the %zu-byte image\n", i, ph.p_offset, ph.p_filesz, len);
                return -XEN_EINVAL;
            }
            rc = walk_notes(img, ph.p_offset, ph.p_filesz, "program header", i, &st, info);
        }
        if (rc)
            return rc;
    }
    if (info->nr_segments == 0) {
        pr_err("elf: no loadable (PT_LOAD) segment\n");
        return -XEN_ENOEXEC;
    }
    if (st.xen_notes == 0) {
        rc = section_notes(img, &eh, len, &st, info);
        if (rc)
            return rc;
    }
    rc = check_notes(&st, info);
    if (!rc)
        rc = check_features(policy, info);
    if (!rc)
        rc = place_segments(&eh, info);
    return rc;
}

int elf_pv_load(const void *image, size_t len, const struct elf_pv_info *info,
                elf_pv_write_fn write, void *ctx)
{
    const u8 *img = image;

    if (!image || !info || !write) {
        pr_err("elf: load called without image, info or write function\n");
        return -XEN_EINVAL;
    }
    if (len != info->image_len || info->nr_segments == 0 ||
        info->nr_segments > ELF_PV_MAX_LOADS) {
        pr_err("elf: load of an image that was not parsed (length %zu, parsed %lu)\n",
               len, info->image_len);
        return -XEN_EINVAL;
    }
    for (unsigned i = 0; i < info->nr_segments; i++) {
        const struct elf_pv_segment *s = &info->seg[i];
        int rc;

        if (!in_image(s->offset, s->filesz, len) || s->filesz > s->memsz) {
            pr_err("elf: segment %u no longer fits the image\n", i);
            return -XEN_EINVAL;
        }
        if (s->filesz) {
            rc = write(ctx, s->vaddr, img + s->offset, s->filesz);
            if (rc < 0) {
                pr_err("elf: copying segment %u to %#lx (%#lx bytes) failed: %d\n",
                       i, s->vaddr, s->filesz, rc);
                return rc;
            }
        }
        if (s->memsz > s->filesz) {
            rc = write(ctx, s->vaddr + s->filesz, NULL, s->memsz - s->filesz);
            if (rc < 0) {
                pr_err("elf: zeroing %#lx bytes at %#lx (segment %u) failed: %d\n",
                       s->memsz - s->filesz, s->vaddr + s->filesz, i, rc);
                return rc;
            }
        }
    }
    return 0;
}
