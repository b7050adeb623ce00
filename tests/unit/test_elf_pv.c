/*
 * Tests of the PV kernel ELF loader, on ELF images built in memory: a
 * Linux-like good image and its variants, malformed and hostile ones (each
 * refusal must name the problem), random mutations, and a real Debian
 * kernel when one can be found (SKIP otherwise).
 * unit-sources: hypervisor/common/elf_pv.c tests/unit/log_capture.c
 */
#define UNIT_SUITE "elf_pv"
#include "unit.h"

#include <stdint.h>
#include <stdlib.h>
#include <glob.h>
#include <unistd.h>
#include <mica/lib.h>
#include <mica/elf.h>
#include <mica/elf_pv.h>
#include <public/xen.h>
#include <public/elfnote.h>
#include <public/errno.h>
#include "log_capture.h"

/* ------------------------------------------------------------------ */
/* In-memory ELF builder                                               */

#define IMG_MAX    (256 * 1024)
#define NOTES_MAX  4096
#define MAX_SEGS   20

struct seg_spec {
    uint32_t type;          /* PT_LOAD unless set */
    uint32_t flags;
    uint64_t vaddr, paddr, filesz, memsz;
    uint8_t fill;           /* file bytes are fill, fill+1, ... */
};

struct spec {
    uint16_t machine, type;
    uint8_t class_, data;
    uint64_t entry;
    unsigned nsegs;
    struct seg_spec seg[MAX_SEGS];
    uint8_t notes[NOTES_MAX];
    size_t notes_len;
    bool notes_in_section;  /* SHT_NOTE section instead of PT_NOTE */
    bool no_notes;
};

struct image {
    uint8_t *buf;
    size_t len;
    /* where the builder put things, for tests that corrupt them */
    size_t phoff, notes_off, shoff;
    unsigned note_phdr;     /* index of the PT_NOTE program header */
    size_t seg_off[MAX_SEGS];
};

static uint8_t image_buf[IMG_MAX];

static void note_add(struct spec *sp, const char *name, uint32_t type,
                     const void *desc, uint32_t descsz)
{
    struct elf_note_hdr nh = { (uint32_t)strlen(name) + 1, descsz, type };
    size_t n = sp->notes_len;

    memcpy(sp->notes + n, &nh, sizeof(nh));
    n += sizeof(nh);
    memcpy(sp->notes + n, name, nh.n_namesz);
    n += ALIGN_UP(nh.n_namesz, 4);
    memcpy(sp->notes + n, desc, descsz);
    n += ALIGN_UP(descsz, 4);
    CHECK(n <= NOTES_MAX);
    sp->notes_len = n;
}

static void note_str(struct spec *sp, uint32_t type, const char *s)
{
    note_add(sp, "Xen", type, s, (uint32_t)strlen(s) + 1);
}

static void note_u64(struct spec *sp, uint32_t type, uint64_t v)
{
    note_add(sp, "Xen", type, &v, 8);
}

static void note_u32(struct spec *sp, uint32_t type, uint32_t v)
{
    note_add(sp, "Xen", type, &v, 4);
}

#define LINUX_BASE   0xffffffff80000000ULL
#define LINUX_ENTRY  0xffffffff81000100ULL

/* Notes as Debian's 6.1 kernel carries them, plus non-Xen notes. */
static void linux_notes(struct spec *sp, bool with_entry)
{
    uint8_t build_id[20];
    uint64_t l1[2] = { 1, 1 };

    memset(build_id, 0x42, sizeof(build_id));
    note_add(sp, "GNU", 3, build_id, sizeof(build_id));
    note_str(sp, XEN_ELFNOTE_GUEST_OS, "linux");
    note_str(sp, XEN_ELFNOTE_GUEST_VERSION, "2.6");
    note_str(sp, XEN_ELFNOTE_XEN_VERSION, "xen-3.0");
    note_u64(sp, XEN_ELFNOTE_VIRT_BASE, LINUX_BASE);
    note_u64(sp, XEN_ELFNOTE_INIT_P2M, 0x8000000000ULL);
    if (with_entry)
        note_u64(sp, XEN_ELFNOTE_ENTRY, LINUX_ENTRY);
    /* Linux writes this one without a terminating NUL. */
    note_add(sp, "Xen", XEN_ELFNOTE_FEATURES, "!writable_page_tables|pae_pgdir_above_4gb", 41);
    note_u32(sp, XEN_ELFNOTE_SUPPORTED_FEATURES, 0x8801);
    note_str(sp, XEN_ELFNOTE_PAE_MODE, "yes");
    note_str(sp, XEN_ELFNOTE_LOADER, "generic");
    note_add(sp, "Xen", XEN_ELFNOTE_L1_MFN_VALID, l1, sizeof(l1));
    note_u32(sp, XEN_ELFNOTE_SUSPEND_CANCEL, 1);
    note_u32(sp, XEN_ELFNOTE_MOD_START_PFN, 1);
    note_u64(sp, XEN_ELFNOTE_HV_START_LOW, 0xffff800000000000ULL);
    note_u64(sp, XEN_ELFNOTE_PADDR_OFFSET, 0);
    note_u32(sp, XEN_ELFNOTE_PHYS32_ENTRY, 0x1000850);
    note_add(sp, "Linux", 0x100, "\x01\x02\x03\x04", 4);
}

/* A small Linux-shaped kernel: text, data with BSS, per-cpu at vaddr 0. */
static void linux_spec(struct spec *sp)
{
    memset(sp, 0, sizeof(*sp));
    sp->machine = EM_X86_64;
    sp->type = ET_EXEC;
    sp->class_ = ELFCLASS64;
    sp->data = ELFDATA2LSB;
    sp->entry = 0x1000000;  /* physical, as in Linux; the ENTRY note wins */
    sp->nsegs = 3;
    sp->seg[0] = (struct seg_spec){ PT_LOAD, PF_R | PF_X, 0xffffffff81000000ULL,
                                    0x1000000, 0x3000, 0x3000, 0x10 };
    sp->seg[1] = (struct seg_spec){ PT_LOAD, PF_R | PF_W, 0xffffffff81004000ULL,
                                    0x1004000, 0x1100, 0x3000, 0x20 };
    sp->seg[2] = (struct seg_spec){ PT_LOAD, PF_R | PF_W, 0,
                                    0x1008000, 0x800, 0x800, 0x30 };
    linux_notes(sp, true);
}

static struct image build(const struct spec *sp)
{
    struct image im = { image_buf, 0, 0, 0, 0, 0, { 0 } };
    struct elf64_ehdr eh;
    unsigned nph = sp->nsegs + ((sp->notes_in_section || sp->no_notes) ? 0 : 1);
    size_t off;

    memset(image_buf, 0, sizeof(image_buf));
    memset(&eh, 0, sizeof(eh));
    eh.e_ident[EI_MAG0] = ELFMAG0;
    eh.e_ident[EI_MAG1] = ELFMAG1;
    eh.e_ident[EI_MAG2] = ELFMAG2;
    eh.e_ident[EI_MAG3] = ELFMAG3;
    eh.e_ident[EI_CLASS] = sp->class_;
    eh.e_ident[EI_DATA] = sp->data;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_type = sp->type;
    eh.e_machine = sp->machine;
    eh.e_version = EV_CURRENT;
    eh.e_entry = sp->entry;
    eh.e_ehsize = sizeof(eh);
    eh.e_phentsize = sizeof(struct elf64_phdr);
    eh.e_phnum = (uint16_t)nph;
    eh.e_phoff = im.phoff = sizeof(eh);

    off = sizeof(eh) + nph * sizeof(struct elf64_phdr);
    im.notes_off = off;
    memcpy(image_buf + off, sp->notes, sp->notes_len);
    off = ALIGN_UP(off + sp->notes_len, 4096);

    for (unsigned i = 0; i < sp->nsegs; i++) {
        const struct seg_spec *s = &sp->seg[i];
        struct elf64_phdr ph = { s->type ? s->type : PT_LOAD, s->flags, off, s->vaddr,
                                 s->paddr, s->filesz, s->memsz, 4096 };

        CHECK(off + s->filesz <= IMG_MAX);
        for (uint64_t b = 0; b < s->filesz; b++)
            image_buf[off + b] = (uint8_t)(s->fill + b);
        memcpy(image_buf + im.phoff + i * sizeof(ph), &ph, sizeof(ph));
        im.seg_off[i] = off;
        off = ALIGN_UP(off + s->filesz, 4096);
    }
    if (!sp->notes_in_section && !sp->no_notes) {
        struct elf64_phdr ph = { PT_NOTE, PF_R, im.notes_off, 0, 0, sp->notes_len,
                                 sp->notes_len, 4 };

        im.note_phdr = sp->nsegs;
        memcpy(image_buf + im.phoff + sp->nsegs * sizeof(ph), &ph, sizeof(ph));
    }
    if (sp->notes_in_section) {
        /* null section, a .text-like one, then .notes */
        struct elf64_shdr sh[3];

        memset(sh, 0, sizeof(sh));
        sh[1].sh_type = 1;   /* SHT_PROGBITS */
        sh[1].sh_offset = im.seg_off[0];
        sh[1].sh_size = 16;
        sh[2].sh_type = SHT_NOTE;
        sh[2].sh_offset = im.notes_off;
        sh[2].sh_size = sp->notes_len;
        im.shoff = off;
        memcpy(image_buf + off, sh, sizeof(sh));
        eh.e_shoff = off;
        eh.e_shnum = 3;
        eh.e_shentsize = sizeof(struct elf64_shdr);
        off += sizeof(sh);
    }
    memcpy(image_buf, &eh, sizeof(eh));
    im.len = off;
    return im;
}

static const struct elf_pv_policy domu_policy = { ELF_PV_HV_FEATURES, false };
static const struct elf_pv_policy dom0_policy = {
    ELF_PV_HV_FEATURES | (1U << XENFEAT_dom0), true
};

static struct elf_pv_info info;

static int parse(const struct image *im)
{
    log_clear();
    return elf_pv_parse(im->buf, im->len, &domu_policy, &info);
}

/* The parse must fail with `err`, one error message containing `msg`. */
#define CHECK_REFUSED(im, err, msg)                                         \
    do {                                                                    \
        int rc_ = parse(im);                                                \
        if (rc_ != -(err) || !strstr(logbuf, (msg)))                        \
            fprintf(stderr, "  rc %d, log: %s", rc_, logbuf);               \
        CHECK_EQ(rc_, -(err));                                              \
        CHECK_STR(logbuf, (msg));                                           \
        CHECK(log_errors >= 1);                                              \
    } while (0)

static struct elf64_phdr get_phdr(const struct image *im, unsigned i)
{
    struct elf64_phdr ph;
    memcpy(&ph, im->buf + im->phoff + i * sizeof(ph), sizeof(ph));
    return ph;
}

static void put_phdr(struct image *im, unsigned i, const struct elf64_phdr *ph)
{
    memcpy(im->buf + im->phoff + i * sizeof(*ph), ph, sizeof(*ph));
}

static struct elf64_ehdr get_ehdr(const struct image *im)
{
    struct elf64_ehdr eh;
    memcpy(&eh, im->buf, sizeof(eh));
    return eh;
}

static void put_ehdr(struct image *im, const struct elf64_ehdr *eh)
{
    memcpy(im->buf, eh, sizeof(*eh));
}

/* ------------------------------------------------------------------ */
/* Fake guest memory for elf_pv_load                                   */

struct guest_mem {
    uint64_t base;
    size_t size;
    uint8_t *mem;
    unsigned calls;
    int fail_at;            /* call number that fails, -1 = none */
};

static int guest_write(void *ctx, u64 va, const void *src, u64 len)
{
    struct guest_mem *g = ctx;

    if ((int)g->calls++ == g->fail_at)
        return -XEN_ENOMEM;
    if (va < g->base || len > g->size || va - g->base > g->size - len)
        return -XEN_EFAULT;
    if (src)
        memcpy(g->mem + (va - g->base), src, len);
    else
        memset(g->mem + (va - g->base), 0, len);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Good images                                                         */

UNIT_TEST(linux_like_image_parses)
{
    struct spec sp;
    struct image im;

    linux_spec(&sp);
    im = build(&sp);
    CHECK_EQ(parse(&im), 0);
    CHECK_EQ(log_errors, 0);
    CHECK_EQ(info.virt_base, LINUX_BASE);
    CHECK_EQ(info.paddr_offset, 0);
    CHECK_EQ(info.virt_kstart, 0xffffffff81000000ULL);
    CHECK_EQ(info.virt_kend, 0xffffffff81008800ULL);
    CHECK_EQ(info.virt_entry, LINUX_ENTRY);
    CHECK_EQ(info.virt_hypercall, ELF_PV_UNSET);
    CHECK_EQ(info.init_p2m, 0x8000000000ULL);
    CHECK_EQ(info.hv_start_low, 0xffff800000000000ULL);
    CHECK_EQ(info.phys32_entry, 0x1000850);
    CHECK_EQ(info.suspend_cancel, 1);
    CHECK(info.mod_start_pfn);
    CHECK(!info.bsd_symtab);
    CHECK(!info.notes_from_sections);
    CHECK_EQ(info.l1_mfn_valid_mask, 1);
    CHECK_EQ(info.l1_mfn_valid_value, 1);
    CHECK_EQ(info.f_required, 1U << XENFEAT_writable_page_tables);
    CHECK_EQ(info.f_supported, 0x8801 | (1U << XENFEAT_pae_pgdir_above_4gb));
    CHECK(info.has_supported_features_note);
    CHECK(strcmp(info.xen_version, "xen-3.0") == 0);
    CHECK(strcmp(info.guest_os, "linux") == 0);
    CHECK(strcmp(info.guest_version, "2.6") == 0);
    CHECK(strcmp(info.loader, "generic") == 0);
    CHECK(strcmp(info.pae_mode, "yes") == 0);
    CHECK_EQ(info.nr_segments, 3);
    /* placed by p_paddr: the per-cpu segment (p_vaddr 0) too */
    CHECK_EQ(info.seg[2].vaddr, 0xffffffff81008000ULL);
    CHECK_EQ(info.seg[1].memsz, 0x3000);
    /* the same image is fine as dom0: SUPPORTED_FEATURES has dom0 */
    log_clear();
    CHECK_EQ(elf_pv_parse(im.buf, im.len, &dom0_policy, &info), 0);
}

UNIT_TEST(load_copies_segments_and_zeroes_bss)
{
    struct spec sp;
    struct image im;
    static uint8_t mem[0x8800];
    struct guest_mem g = { 0xffffffff81000000ULL, sizeof(mem), mem, 0, -1 };

    linux_spec(&sp);
    im = build(&sp);
    CHECK_EQ(parse(&im), 0);
    memset(mem, 0xaa, sizeof(mem));
    CHECK_EQ(elf_pv_load(im.buf, im.len, &info, guest_write, &g), 0);
    CHECK_EQ(g.calls, 4);   /* 3 copies + 1 BSS */
    CHECK_EQ(mem[0], 0x10);
    CHECK_EQ(mem[0x2fff], (uint8_t)(0x10 + 0x2fff));
    CHECK_EQ(mem[0x3000], 0xaa);            /* hole between segments untouched */
    CHECK_EQ(mem[0x4000], 0x20);
    CHECK_EQ(mem[0x50ff], (uint8_t)(0x20 + 0x10ff));
    for (size_t i = 0x5100; i < 0x7000; i++)
        CHECK_EQ(mem[i], 0);                /* BSS zeroed */
    CHECK_EQ(mem[0x8000], 0x30);
    CHECK_EQ(mem[0x87ff], (uint8_t)(0x30 + 0x7ff));
}

UNIT_TEST(load_reports_callback_failure_and_stale_info)
{
    struct spec sp;
    struct image im;
    static uint8_t mem[0x8800];
    struct guest_mem g = { 0xffffffff81000000ULL, sizeof(mem), mem, 0, 2 };

    linux_spec(&sp);
    im = build(&sp);
    CHECK_EQ(parse(&im), 0);
    log_clear();
    CHECK_EQ(elf_pv_load(im.buf, im.len, &info, guest_write, &g), -XEN_ENOMEM);
    CHECK_STR(logbuf, "zeroing 0x1f00 bytes at 0xffffffff81005100");
    log_clear();
    CHECK_EQ(elf_pv_load(im.buf, im.len - 1, &info, guest_write, &g), -XEN_EINVAL);
    CHECK_STR(logbuf, "not parsed");
    log_clear();
    CHECK_EQ(elf_pv_load(im.buf, im.len, &info, NULL, &g), -XEN_EINVAL);
    CHECK(log_errors == 1);
}

UNIT_TEST(notes_found_in_sections_when_no_pt_note)
{
    struct spec sp;
    struct image im;

    linux_spec(&sp);
    sp.notes_in_section = true;
    im = build(&sp);
    CHECK_EQ(parse(&im), 0);
    CHECK(info.notes_from_sections);
    CHECK_EQ(info.virt_entry, LINUX_ENTRY);
}

UNIT_TEST(defaults_without_base_offset_or_entry)
{
    struct spec sp;
    struct image im;

    memset(&sp, 0, sizeof(sp));
    sp.machine = EM_X86_64;
    sp.type = ET_EXEC;
    sp.class_ = ELFCLASS64;
    sp.data = ELFDATA2LSB;
    sp.entry = 0x400080;
    sp.nsegs = 1;
    sp.seg[0] = (struct seg_spec){ PT_LOAD, PF_R | PF_X, 0x400000, 0x400000, 0x200,
                                   0x2000, 1 };
    note_str(&sp, XEN_ELFNOTE_XEN_VERSION, "xen-3.0");
    note_str(&sp, XEN_ELFNOTE_LOADER, "generic");
    note_u32(&sp, XEN_ELFNOTE_HYPERCALL_PAGE, 0x401000);   /* 4-byte number */
    note_str(&sp, XEN_ELFNOTE_FEATURES, "|frobnicate||writable_descriptor_tables|");
    note_str(&sp, XEN_ELFNOTE_BSD_SYMTAB, "yes");
    im = build(&sp);
    CHECK_EQ(parse(&im), 0);
    CHECK_EQ(info.virt_base, 0);
    CHECK_EQ(info.paddr_offset, 0);
    CHECK_EQ(info.virt_entry, 0x400080);   /* e_entry */
    CHECK_EQ(info.virt_kstart, 0x400000);
    CHECK_EQ(info.virt_kend, 0x402000);
    CHECK_EQ(info.virt_hypercall, 0x401000);
    CHECK_EQ(info.f_supported, 1U << XENFEAT_writable_descriptor_tables);
    CHECK_EQ(info.f_required, 0);
    CHECK(info.bsd_symtab);
    CHECK(!info.has_supported_features_note);
    CHECK(!info.mod_start_pfn);
    /* No SUPPORTED_FEATURES note: Xen's dom0 rule does not apply. */
    log_clear();
    CHECK_EQ(elf_pv_parse(im.buf, im.len, &dom0_policy, &info), 0);
}

UNIT_TEST(paddr_offset_moves_the_image)
{
    struct spec sp;
    struct image im;

    linux_spec(&sp);
    sp.notes_len = 0;
    note_str(&sp, XEN_ELFNOTE_XEN_VERSION, "xen-3.0");
    note_str(&sp, XEN_ELFNOTE_GUEST_OS, "linux");
    note_u64(&sp, XEN_ELFNOTE_VIRT_BASE, LINUX_BASE);
    note_u64(&sp, XEN_ELFNOTE_PADDR_OFFSET, 0x1000000);
    note_u64(&sp, XEN_ELFNOTE_ENTRY, 0xffffffff80000010ULL);
    im = build(&sp);
    CHECK_EQ(parse(&im), 0);
    CHECK_EQ(info.virt_kstart, LINUX_BASE);
    CHECK_EQ(info.seg[1].vaddr, LINUX_BASE + 0x4000);
}

/* ------------------------------------------------------------------ */
/* Header-level refusals                                               */

UNIT_TEST(refuses_bad_file_headers)
{
    struct spec sp;
    struct image im;
    struct elf64_ehdr eh;

    linux_spec(&sp);
    im = build(&sp);

    log_clear();
    CHECK_EQ(elf_pv_parse(im.buf, 63, &domu_policy, &info), -XEN_ENOEXEC);
    CHECK_STR(logbuf, "too small for an ELF header");
    log_clear();
    CHECK_EQ(elf_pv_parse(NULL, 100, &domu_policy, &info), -XEN_EINVAL);
    CHECK(log_errors == 1);

    im.buf[1] = 'X';
    CHECK_REFUSED(&im, XEN_ENOEXEC, "bad magic");
    im.buf[1] = 'E';

    sp.class_ = ELFCLASS32;
    im = build(&sp);
    CHECK_REFUSED(&im, XEN_ENOEXEC, "class 1 is not ELFCLASS64");
    linux_spec(&sp);
    sp.data = 2;
    im = build(&sp);
    CHECK_REFUSED(&im, XEN_ENOEXEC, "not little-endian");
    linux_spec(&sp);
    sp.machine = EM_386;
    im = build(&sp);
    CHECK_REFUSED(&im, XEN_ENOEXEC, "machine 3, not x86-64");
    linux_spec(&sp);
    sp.type = ET_DYN;
    im = build(&sp);
    CHECK_REFUSED(&im, XEN_ENOEXEC, "not an executable");

    linux_spec(&sp);
    im = build(&sp);
    eh = get_ehdr(&im);
    eh.e_version = 7;
    put_ehdr(&im, &eh);
    CHECK_REFUSED(&im, XEN_ENOEXEC, "unknown ELF version");

    im = build(&sp);
    eh = get_ehdr(&im);
    eh.e_phnum = 0;
    put_ehdr(&im, &eh);
    CHECK_REFUSED(&im, XEN_ENOEXEC, "no program headers");

    im = build(&sp);
    eh = get_ehdr(&im);
    eh.e_phentsize = 32;
    put_ehdr(&im, &eh);
    CHECK_REFUSED(&im, XEN_EINVAL, "program header size 32");

    im = build(&sp);
    eh = get_ehdr(&im);
    eh.e_phnum = ELF_PV_MAX_PHDRS + 1;
    put_ehdr(&im, &eh);
    CHECK_REFUSED(&im, XEN_E2BIG, "65 program headers");

    im = build(&sp);
    eh = get_ehdr(&im);
    eh.e_phoff = im.len - 100;
    put_ehdr(&im, &eh);
    CHECK_REFUSED(&im, XEN_EINVAL, "program header table");

    im = build(&sp);
    eh = get_ehdr(&im);
    eh.e_phoff = ~0ULL - 60;     /* offset + size overflows */
    put_ehdr(&im, &eh);
    CHECK_REFUSED(&im, XEN_EINVAL, "lies outside the");
}

UNIT_TEST(refuses_bad_load_segments)
{
    struct spec sp;
    struct image im;
    struct elf64_phdr ph;

    linux_spec(&sp);
    im = build(&sp);
    im.len = im.seg_off[2] + 0x100;          /* truncated in the last segment */
    CHECK_REFUSED(&im, XEN_EINVAL, "program header 2 (PT_LOAD): file range");

    im = build(&sp);
    ph = get_phdr(&im, 1);
    ph.p_offset = ~0ULL - 15;                /* offset + filesz overflows */
    ph.p_filesz = 32;
    put_phdr(&im, 1, &ph);
    CHECK_REFUSED(&im, XEN_EINVAL, "program header 1 (PT_LOAD): file range");

    im = build(&sp);
    ph = get_phdr(&im, 0);
    ph.p_memsz = ph.p_filesz - 1;
    put_phdr(&im, 0, &ph);
    CHECK_REFUSED(&im, XEN_EINVAL, "file size 0x3000 exceeds memory size 0x2fff");

    im = build(&sp);
    ph = get_phdr(&im, 2);
    ph.p_paddr = ~0ULL - 0x10;
    put_phdr(&im, 2, &ph);
    CHECK_REFUSED(&im, XEN_EINVAL, "wraps around");

    /* second segment overlaps the first */
    linux_spec(&sp);
    sp.seg[1].paddr = 0x1002000;
    im = build(&sp);
    CHECK_REFUSED(&im, XEN_EINVAL, "overlap");

    /* a segment with no access rights is not loaded */
    linux_spec(&sp);
    sp.seg[2].flags = 0;
    im = build(&sp);
    CHECK_EQ(parse(&im), 0);
    CHECK_EQ(info.nr_segments, 2);

    linux_spec(&sp);
    sp.seg[0].type = 5;                      /* PT_SHLIB */
    sp.seg[1].type = 6;                      /* PT_PHDR */
    sp.seg[2].flags = 0;
    im = build(&sp);
    CHECK_REFUSED(&im, XEN_ENOEXEC, "no loadable (PT_LOAD) segment");

    linux_spec(&sp);
    sp.nsegs = ELF_PV_MAX_LOADS + 1;
    for (unsigned i = 0; i < sp.nsegs; i++)
        sp.seg[i] = (struct seg_spec){ PT_LOAD, PF_R, 0, 0x1000000 + i * 0x1000,
                                       0x10, 0x1000, 0 };
    im = build(&sp);
    CHECK_REFUSED(&im, XEN_E2BIG, "more than 16 PT_LOAD segments");

    linux_spec(&sp);
    for (unsigned i = 0; i < 3; i++)
        sp.seg[i].memsz = sp.seg[i].filesz = 0;
    im = build(&sp);
    CHECK_REFUSED(&im, XEN_ENOEXEC, "no PT_LOAD segment has a non-zero size");
}

/* ------------------------------------------------------------------ */
/* Note-level refusals                                                 */

UNIT_TEST(refuses_bad_note_sizes)
{
    struct spec sp;
    struct image im;
    struct elf_note_hdr nh;
    struct elf64_phdr ph;

    linux_spec(&sp);
    im = build(&sp);
    memcpy(&nh, im.buf + im.notes_off, sizeof(nh));
    nh.n_namesz = 0xffffffff;
    memcpy(im.buf + im.notes_off, &nh, sizeof(nh));
    CHECK_REFUSED(&im, XEN_EINVAL, "runs past the end");

    im = build(&sp);
    nh.n_namesz = 4;
    nh.n_descsz = 0xfffffffd;
    memcpy(im.buf + im.notes_off, &nh, sizeof(nh));
    CHECK_REFUSED(&im, XEN_EINVAL, "value 4294967293 bytes");

    im = build(&sp);
    ph = get_phdr(&im, im.note_phdr);
    ph.p_filesz += 5;                        /* 5 stray bytes */
    put_phdr(&im, im.note_phdr, &ph);
    CHECK_REFUSED(&im, XEN_EINVAL, "5 stray bytes");

    im = build(&sp);
    ph = get_phdr(&im, im.note_phdr);
    ph.p_offset = im.len - 8;
    put_phdr(&im, im.note_phdr, &ph);
    CHECK_REFUSED(&im, XEN_EINVAL, "(PT_NOTE)");

    /* section fallback with a section outside the image */
    sp.notes_in_section = true;
    im = build(&sp);
    {
        struct elf64_shdr sh;
        memcpy(&sh, im.buf + im.shoff + 2 * sizeof(sh), sizeof(sh));
        sh.sh_size = im.len;
        memcpy(im.buf + im.shoff + 2 * sizeof(sh), &sh, sizeof(sh));
    }
    CHECK_REFUSED(&im, XEN_EINVAL, "section 2 (SHT_NOTE)");
    im = build(&sp);
    {
        struct elf64_ehdr eh = get_ehdr(&im);
        eh.e_shoff = im.len - 64;
        put_ehdr(&im, &eh);
    }
    CHECK_REFUSED(&im, XEN_EINVAL, "section header table");
}

UNIT_TEST(refuses_bad_note_values)
{
    struct spec sp;
    struct image im;
    uint8_t three[3] = { 1, 2, 3 };

    linux_spec(&sp);
    note_add(&sp, "Xen", XEN_ELFNOTE_HYPERCALL_PAGE, three, 3);
    im = build(&sp);
    CHECK_REFUSED(&im, XEN_EINVAL, "note HYPERCALL_PAGE has a 3-byte value");

    linux_spec(&sp);
    note_add(&sp, "Xen", XEN_ELFNOTE_INFO, "ok", 3);
    note_add(&sp, "Xen", XEN_ELFNOTE_GUEST_VERSION - 0, "x", 1);  /* duplicate */
    im = build(&sp);
    CHECK_REFUSED(&im, XEN_EINVAL, "note GUEST_VERSION appears more than once");

    /* Strings end at their first NUL or at the end of the value. */
    linux_spec(&sp);
    sp.notes_len = 0;
    note_add(&sp, "Xen", XEN_ELFNOTE_XEN_VERSION, "xen-3.0", 7);   /* no NUL */
    note_add(&sp, "Xen", XEN_ELFNOTE_GUEST_OS, "linux\0junk", 10);
    note_u64(&sp, XEN_ELFNOTE_VIRT_BASE, LINUX_BASE);
    note_u64(&sp, XEN_ELFNOTE_ENTRY, LINUX_ENTRY);
    {
        char full[ELF_PV_STR_MAX];               /* exactly fills the buffer */
        memset(full, 'v', sizeof(full) - 1);
        full[sizeof(full) - 1] = '\0';
        note_add(&sp, "Xen", XEN_ELFNOTE_GUEST_VERSION, full, sizeof(full));
    }
    im = build(&sp);
    CHECK_EQ(parse(&im), 0);
    CHECK(strcmp(info.xen_version, "xen-3.0") == 0);
    CHECK(strcmp(info.guest_os, "linux") == 0);
    CHECK_EQ(strlen(info.guest_version), ELF_PV_STR_MAX - 1);
    {
        char over[ELF_PV_STR_MAX];               /* one byte too long: no room for NUL */
        memset(over, 'v', sizeof(over));
        linux_spec(&sp);
        note_add(&sp, "Xen", XEN_ELFNOTE_INFO, "x", 1);
        sp.notes_len = 0;
        note_str(&sp, XEN_ELFNOTE_XEN_VERSION, "xen-3.0");
        note_add(&sp, "Xen", XEN_ELFNOTE_LOADER, over, sizeof(over));
        im = build(&sp);
        CHECK_REFUSED(&im, XEN_E2BIG, "note LOADER is 64 bytes long, more than the 63");
    }

    linux_spec(&sp);
    {
        char big[ELF_PV_STR_MAX + 1];
        memset(big, 'a', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        note_add(&sp, "Xen", XEN_ELFNOTE_INFO, big, sizeof(big));   /* INFO: not kept */
        im = build(&sp);
        CHECK_EQ(parse(&im), 0);
        note_add(&sp, "Xen", XEN_ELFNOTE_BSD_SYMTAB, big, sizeof(big));
        im = build(&sp);
        CHECK_REFUSED(&im, XEN_E2BIG, "note BSD_SYMTAB is 65 bytes long");
    }

    linux_spec(&sp);
    note_u64(&sp, XEN_ELFNOTE_HV_START_LOW + 0, 0);   /* duplicate again */
    im = build(&sp);
    CHECK_REFUSED(&im, XEN_EINVAL, "HV_START_LOW appears more than once");

    linux_spec(&sp);
    sp.notes_len = 0;
    linux_notes(&sp, true);
    /* replace SUPPORTED_FEATURES by an 8-byte value with high bits */
    {
        struct spec sp2;
        linux_spec(&sp2);
        sp2.notes_len = 0;
        note_str(&sp2, XEN_ELFNOTE_XEN_VERSION, "xen-3.0");
        note_str(&sp2, XEN_ELFNOTE_GUEST_OS, "linux");
        note_u64(&sp2, XEN_ELFNOTE_VIRT_BASE, LINUX_BASE);
        note_u64(&sp2, XEN_ELFNOTE_ENTRY, LINUX_ENTRY);
        note_u64(&sp2, XEN_ELFNOTE_SUPPORTED_FEATURES, 1ULL << 40);
        im = build(&sp2);
        CHECK_REFUSED(&im, XEN_EINVAL, "bits beyond submap 0");
    }

    linux_spec(&sp);
    note_add(&sp, "Xen", XEN_ELFNOTE_L1_MFN_VALID + 0, "abcdefgh", 8);
    im = build(&sp);
    CHECK_REFUSED(&im, XEN_EINVAL, "L1_MFN_VALID");
}

/* A spec with the minimal valid notes, then `extra` notes appended. */
static void minimal_spec(struct spec *sp)
{
    linux_spec(sp);
    sp->notes_len = 0;
    note_str(sp, XEN_ELFNOTE_XEN_VERSION, "xen-3.0");
    note_str(sp, XEN_ELFNOTE_GUEST_OS, "linux");
    note_u64(sp, XEN_ELFNOTE_VIRT_BASE, LINUX_BASE);
}

UNIT_TEST(refuses_missing_or_wrong_identity_notes)
{
    struct spec sp;
    struct image im;

    linux_spec(&sp);
    sp.no_notes = true;
    im = build(&sp);
    CHECK_REFUSED(&im, XEN_ENOEXEC, "no Xen ELF notes");

    /* only non-Xen notes */
    linux_spec(&sp);
    sp.notes_len = 0;
    note_add(&sp, "GNU", 3, "abcd", 4);
    note_add(&sp, "Xen2", XEN_ELFNOTE_XEN_VERSION, "xen-3.0", 8);
    im = build(&sp);
    CHECK_REFUSED(&im, XEN_ENOEXEC, "no Xen ELF notes");

    linux_spec(&sp);
    sp.notes_len = 0;
    note_str(&sp, XEN_ELFNOTE_GUEST_OS, "linux");
    im = build(&sp);
    CHECK_REFUSED(&im, XEN_ENOEXEC, "XEN_VERSION is '(missing)'");

    linux_spec(&sp);
    sp.notes_len = 0;
    note_str(&sp, XEN_ELFNOTE_XEN_VERSION, "xen-2.0");
    note_str(&sp, XEN_ELFNOTE_GUEST_OS, "linux");
    im = build(&sp);
    CHECK_REFUSED(&im, XEN_ENOEXEC, "XEN_VERSION is 'xen-2.0'");

    linux_spec(&sp);
    sp.notes_len = 0;
    note_str(&sp, XEN_ELFNOTE_XEN_VERSION, "xen-3.0");
    note_str(&sp, XEN_ELFNOTE_GUEST_OS, "netbsd");
    note_str(&sp, XEN_ELFNOTE_LOADER, "special");
    im = build(&sp);
    CHECK_REFUSED(&im, XEN_ENOEXEC, "LOADER 'special', GUEST_OS 'netbsd'");

    linux_spec(&sp);
    sp.notes_len = 0;
    note_str(&sp, XEN_ELFNOTE_XEN_VERSION, "xen-3.0");
    note_str(&sp, XEN_ELFNOTE_GUEST_OS, "linux");
    note_u64(&sp, XEN_ELFNOTE_PADDR_OFFSET, 0);
    im = build(&sp);
    CHECK_REFUSED(&im, XEN_EINVAL, "PADDR_OFFSET is given without VIRT_BASE");
}

UNIT_TEST(refuses_bad_addresses)
{
    struct spec sp;
    struct image im;

    minimal_spec(&sp);
    note_u64(&sp, XEN_ELFNOTE_ENTRY, 0xffffffff80000000ULL);   /* below the image */
    im = build(&sp);
    CHECK_REFUSED(&im, XEN_EINVAL, "entry point 0xffffffff80000000 lies outside");

    minimal_spec(&sp);
    note_u64(&sp, XEN_ELFNOTE_ENTRY, 0xffffffff81008800ULL);   /* just past the end */
    im = build(&sp);
    CHECK_REFUSED(&im, XEN_EINVAL, "entry point 0xffffffff81008800 lies outside");

    /* no ENTRY note and e_entry is the physical address */
    minimal_spec(&sp);
    im = build(&sp);
    CHECK_REFUSED(&im, XEN_EINVAL, "entry point 0x1000000 lies outside");

    /* VIRT_BASE puts the image at the canonical hole */
    minimal_spec(&sp);
    sp.notes_len = 0;
    note_str(&sp, XEN_ELFNOTE_XEN_VERSION, "xen-3.0");
    note_str(&sp, XEN_ELFNOTE_GUEST_OS, "linux");
    note_u64(&sp, XEN_ELFNOTE_VIRT_BASE, 0x00007fffff000000ULL);
    note_u64(&sp, XEN_ELFNOTE_ENTRY, 0x0000800000000000ULL);
    im = build(&sp);
    CHECK_REFUSED(&im, XEN_EINVAL, "not a canonical address range");

    /* ... in the hypervisor's range */
    minimal_spec(&sp);
    sp.notes_len = 0;
    note_str(&sp, XEN_ELFNOTE_XEN_VERSION, "xen-3.0");
    note_str(&sp, XEN_ELFNOTE_GUEST_OS, "linux");
    note_u64(&sp, XEN_ELFNOTE_VIRT_BASE, HYPERVISOR_VIRT_START);
    note_u64(&sp, XEN_ELFNOTE_ENTRY, HYPERVISOR_VIRT_START + 0x1000000);
    im = build(&sp);
    CHECK_REFUSED(&im, XEN_EINVAL, "overlaps the hypervisor's range");

    /* ... straddling its end */
    minimal_spec(&sp);
    sp.notes_len = 0;
    note_str(&sp, XEN_ELFNOTE_XEN_VERSION, "xen-3.0");
    note_str(&sp, XEN_ELFNOTE_GUEST_OS, "linux");
    note_u64(&sp, XEN_ELFNOTE_VIRT_BASE, HYPERVISOR_VIRT_END - 0x1001000);
    note_u64(&sp, XEN_ELFNOTE_ENTRY, HYPERVISOR_VIRT_END + 0x100);
    im = build(&sp);
    CHECK_REFUSED(&im, XEN_EINVAL, "overlaps the hypervisor's range");

    /* VIRT_BASE above the image (the offset makes it lower) */
    minimal_spec(&sp);
    sp.notes_len = 0;
    note_str(&sp, XEN_ELFNOTE_XEN_VERSION, "xen-3.0");
    note_str(&sp, XEN_ELFNOTE_GUEST_OS, "linux");
    note_u64(&sp, XEN_ELFNOTE_VIRT_BASE, LINUX_BASE);
    note_u64(&sp, XEN_ELFNOTE_PADDR_OFFSET, 0x2000000);
    note_u64(&sp, XEN_ELFNOTE_ENTRY, LINUX_BASE - 0x1000000 + 0x100);
    im = build(&sp);
    CHECK_REFUSED(&im, XEN_EINVAL, "VIRT_BASE 0xffffffff80000000 lies above");

    /* bootstrap region from a low VIRT_BASE across the holes */
    minimal_spec(&sp);
    sp.notes_len = 0;
    note_str(&sp, XEN_ELFNOTE_XEN_VERSION, "xen-3.0");
    note_str(&sp, XEN_ELFNOTE_GUEST_OS, "linux");
    note_u64(&sp, XEN_ELFNOTE_VIRT_BASE, 0x1000);
    note_u64(&sp, XEN_ELFNOTE_PADDR_OFFSET, 0x1000 - 0xffffffff80000000ULL);
    note_u64(&sp, XEN_ELFNOTE_ENTRY, LINUX_ENTRY);
    im = build(&sp);
    CHECK_REFUSED(&im, XEN_EINVAL, "bootstrap region");

    /* segment ending exactly at the top of the address space */
    minimal_spec(&sp);
    sp.seg[2].paddr = 0x80000000 - 0x800;
    note_u64(&sp, XEN_ELFNOTE_ENTRY, LINUX_ENTRY);
    im = build(&sp);
    CHECK_REFUSED(&im, XEN_EINVAL, "ends at the top of the address space");

    /* segment wrapping past the top */
    minimal_spec(&sp);
    sp.seg[2].paddr = 0x80000000 - 0x400;
    note_u64(&sp, XEN_ELFNOTE_ENTRY, LINUX_ENTRY);
    im = build(&sp);
    CHECK_REFUSED(&im, XEN_EINVAL, "wraps around the address space");
}

UNIT_TEST(refuses_bad_hypercall_page_and_p2m)
{
    struct spec sp;
    struct image im;

    minimal_spec(&sp);
    note_u64(&sp, XEN_ELFNOTE_ENTRY, LINUX_ENTRY);
    note_u64(&sp, XEN_ELFNOTE_HYPERCALL_PAGE, 0xffffffff81001000ULL);
    im = build(&sp);
    CHECK_EQ(parse(&im), 0);
    CHECK_EQ(info.virt_hypercall, 0xffffffff81001000ULL);

    minimal_spec(&sp);
    note_u64(&sp, XEN_ELFNOTE_ENTRY, LINUX_ENTRY);
    note_u64(&sp, XEN_ELFNOTE_HYPERCALL_PAGE, 0xffffffff81001800ULL);
    im = build(&sp);
    CHECK_REFUSED(&im, XEN_EINVAL, "HYPERCALL_PAGE 0xffffffff81001800");

    minimal_spec(&sp);
    note_u64(&sp, XEN_ELFNOTE_ENTRY, LINUX_ENTRY);
    note_u64(&sp, XEN_ELFNOTE_HYPERCALL_PAGE, 0xffffffff81008000ULL);  /* half a page left */
    im = build(&sp);
    CHECK_REFUSED(&im, XEN_EINVAL, "HYPERCALL_PAGE 0xffffffff81008000");

    minimal_spec(&sp);
    note_u64(&sp, XEN_ELFNOTE_ENTRY, LINUX_ENTRY);
    note_u64(&sp, XEN_ELFNOTE_HYPERCALL_PAGE, 0xffff800000000000ULL);
    im = build(&sp);
    CHECK_REFUSED(&im, XEN_EINVAL, "HYPERCALL_PAGE 0xffff800000000000");

    minimal_spec(&sp);
    note_u64(&sp, XEN_ELFNOTE_ENTRY, LINUX_ENTRY);
    note_u64(&sp, XEN_ELFNOTE_INIT_P2M, 0xffffffff81002000ULL);
    im = build(&sp);
    CHECK_REFUSED(&im, XEN_EINVAL, "INIT_P2M 0xffffffff81002000 lies inside");

    minimal_spec(&sp);
    note_u64(&sp, XEN_ELFNOTE_ENTRY, LINUX_ENTRY);
    note_u64(&sp, XEN_ELFNOTE_INIT_P2M, 0x8000000800ULL);
    im = build(&sp);
    CHECK_REFUSED(&im, XEN_EINVAL, "INIT_P2M 0x8000000800 is not page-aligned");

    minimal_spec(&sp);
    note_u64(&sp, XEN_ELFNOTE_ENTRY, LINUX_ENTRY);
    note_u64(&sp, XEN_ELFNOTE_INIT_P2M, 0xffff801000000000ULL);
    im = build(&sp);
    CHECK_REFUSED(&im, XEN_EINVAL, "INIT_P2M address");
}

UNIT_TEST(required_features)
{
    struct spec sp;
    struct image im;

    minimal_spec(&sp);
    note_u64(&sp, XEN_ELFNOTE_ENTRY, LINUX_ENTRY);
    note_str(&sp, XEN_ELFNOTE_FEATURES, "pae_pgdir_above_4gb|!frobnicate");
    im = build(&sp);
    CHECK_REFUSED(&im, XEN_EOPNOTSUPP, "requires unknown feature 'frobnicate'");

    minimal_spec(&sp);
    note_u64(&sp, XEN_ELFNOTE_ENTRY, LINUX_ENTRY);
    note_str(&sp, XEN_ELFNOTE_FEATURES, "!writable_page_tables|!supervisor_mode_kernel");
    im = build(&sp);
    CHECK_REFUSED(&im, XEN_EOPNOTSUPP, "requires feature 'supervisor_mode_kernel'");

    minimal_spec(&sp);
    note_u64(&sp, XEN_ELFNOTE_ENTRY, LINUX_ENTRY);
    note_str(&sp, XEN_ELFNOTE_FEATURES, "!dom0");
    im = build(&sp);
    CHECK_REFUSED(&im, XEN_EOPNOTSUPP, "requires feature 'dom0'");
    log_clear();
    CHECK_EQ(elf_pv_parse(im.buf, im.len, &dom0_policy, &info), 0);
    CHECK_EQ(info.f_required, 1U << XENFEAT_dom0);

    /* dom0 builder: SUPPORTED_FEATURES present but without dom0 */
    minimal_spec(&sp);
    note_u64(&sp, XEN_ELFNOTE_ENTRY, LINUX_ENTRY);
    note_u32(&sp, XEN_ELFNOTE_SUPPORTED_FEATURES, 0x1);
    im = build(&sp);
    CHECK_EQ(parse(&im), 0);
    log_clear();
    CHECK_EQ(elf_pv_parse(im.buf, im.len, &dom0_policy, &info), -XEN_EOPNOTSUPP);
    CHECK_STR(logbuf, "cannot run as dom0");
}

/* ------------------------------------------------------------------ */
/* Random mutations of the good image: never a crash (ASan/UBSan watch),
 * every refusal explained, every acceptance self-consistent. */

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

UNIT_TEST(random_mutations_are_refused_cleanly_or_accepted_consistently)
{
    static uint8_t pristine[IMG_MAX];
    struct spec sp;
    struct image im;
    size_t len, hdr_area;
    unsigned accepted = 0, refused = 0;

    linux_spec(&sp);
    im = build(&sp);
    len = im.len;
    hdr_area = im.notes_off + sp.notes_len;
    memcpy(pristine, im.buf, len);

    for (unsigned iter = 0; iter < 20000; iter++) {
        size_t cut = len;
        int rc;

        memcpy(im.buf, pristine, len);
        for (unsigned k = 1 + next_rand() % 4; k; k--) {
            size_t at = next_rand() % hdr_area;
            switch (next_rand() % 4) {
            case 0: im.buf[at] ^= (uint8_t)(1u << (next_rand() % 8)); break;
            case 1: im.buf[at] = (uint8_t)next_rand(); break;
            case 2: im.buf[at] = 0xff; break;
            default: cut = next_rand() % (len + 1); break;
            }
        }
        log_clear();
        rc = elf_pv_parse(im.buf, cut, &domu_policy, &info);
        if (rc) {
            CHECK(rc < 0);
            CHECK(log_errors >= 1);
            CHECK(strncmp(logbuf, "elf: ", 5) == 0);
            refused++;
            continue;
        }
        accepted++;
        CHECK_EQ(log_errors, 0);
        CHECK(info.nr_segments >= 1 && info.nr_segments <= ELF_PV_MAX_LOADS);
        CHECK(info.virt_kstart < info.virt_kend);
        CHECK(info.virt_entry >= info.virt_kstart && info.virt_entry < info.virt_kend);
        CHECK(info.virt_base <= info.virt_kstart);
        CHECK(info.virt_kend <= HYPERVISOR_VIRT_START ||
              info.virt_kstart >= HYPERVISOR_VIRT_END);
        for (unsigned i = 0; i < info.nr_segments; i++) {
            const struct elf_pv_segment *s = &info.seg[i];
            CHECK(s->offset <= cut && s->filesz <= cut - s->offset);
            CHECK(s->filesz <= s->memsz);
            if (s->memsz)
                CHECK(s->vaddr >= info.virt_kstart &&
                      s->vaddr + s->memsz <= info.virt_kend);
        }
    }
    fprintf(stderr, "  mutations: %u accepted, %u refused\n", accepted, refused);
    CHECK(accepted > 0 && refused > 0);
}

/* ------------------------------------------------------------------ */
/* A real kernel: $MICA_VMLINUX (an ELF vmlinux), or the vmlinux inside
 * $MICA_BZIMAGE or /boot/vmlinuz-* (XZ payload, unpacked with xz). */

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    long n;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)n);
        if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
            free(buf);
            buf = NULL;
        }
        *len = (size_t)n;
    }
    fclose(f);
    return buf;
}

/* Unpacks a bzImage's XZ payload to an ELF in memory; NULL if not possible. */
static uint8_t *vmlinux_from_bzimage(const char *path, size_t *len, char *why, size_t whylen)
{
    size_t blen = 0, got = 0, cap = 0;
    uint8_t *bz = read_file(path, &blen), *out = NULL;
    uint32_t poff, plen;
    size_t start;
    char tmp[] = "/tmp/mica-elfpv-XXXXXX", cmd[128];
    FILE *p;
    int fd;

    if (!bz) {
        snprintf(why, whylen, "cannot read %s", path);
        return NULL;
    }
    if (blen < 0x250 || memcmp(bz + 0x202, "HdrS", 4) != 0) {
        snprintf(why, whylen, "%s is not a bzImage", path);
        free(bz);
        return NULL;
    }
    start = ((size_t)(bz[0x1f1] ? bz[0x1f1] : 4) + 1) * 512;
    memcpy(&poff, bz + 0x248, 4);
    memcpy(&plen, bz + 0x24c, 4);
    if (start + poff + plen > blen || plen < 8 ||
        memcmp(bz + start + poff, "\xfd" "7zXZ", 6) != 0) {
        snprintf(why, whylen, "%s has no XZ payload", path);
        free(bz);
        return NULL;
    }
    fd = mkstemp(tmp);
    if (fd < 0 || write(fd, bz + start + poff, plen - 4) != (ssize_t)(plen - 4)) {
        snprintf(why, whylen, "cannot write a temporary file");
        free(bz);
        return NULL;
    }
    close(fd);
    free(bz);
    snprintf(cmd, sizeof(cmd), "xz -dc %s 2>/dev/null", tmp);
    p = popen(cmd, "r");
    if (p) {
        for (;;) {
            size_t n;
            if (got == cap) {
                uint8_t *nb = realloc(out, cap = cap ? cap * 2 : (64u << 20));
                if (!nb)
                    break;
                out = nb;
            }
            n = fread(out + got, 1, cap - got, p);
            if (n == 0)
                break;
            got += n;
        }
        pclose(p);
    }
    unlink(tmp);
    if (got < 64) {
        snprintf(why, whylen, "xz could not unpack %s", path);
        free(out);
        return NULL;
    }
    *len = got;
    return out;
}

/* Where the real kernel comes from; empty when there is none. */
static char kernel_path[512];
static bool kernel_is_elf;

static uint8_t *real_img;      /* global: a failed CHECK must not leak it */

static void real_debian_kernel(void)
{
    char why[1024];
    uint8_t *img;
    size_t len = 0;
    int rc;

    if (kernel_is_elf) {
        img = read_file(kernel_path, &len);
        snprintf(why, sizeof(why), "cannot read %s", kernel_path);
    } else {
        img = vmlinux_from_bzimage(kernel_path, &len, why, sizeof(why));
    }
    real_img = img;
    if (!img)
        fprintf(stderr, "  %s\n", why);
    CHECK(img != NULL);
    fprintf(stderr, "  kernel: %s (%zu bytes of ELF)\n", kernel_path, len);
    log_clear();
    rc = elf_pv_parse(img, len, &dom0_policy, &info);
    if (rc)
        fprintf(stderr, "  %s", logbuf);
    CHECK_EQ(rc, 0);
    CHECK_EQ(info.virt_base, LINUX_BASE);
    CHECK_EQ(info.paddr_offset, 0);
    CHECK_EQ(info.virt_kstart, 0xffffffff81000000ULL);
    CHECK(info.virt_entry > info.virt_kstart && info.virt_entry < info.virt_kend);
    CHECK_EQ(info.init_p2m, 0x8000000000ULL);
    CHECK(info.mod_start_pfn);
    CHECK(strcmp(info.guest_os, "linux") == 0);
    CHECK(strcmp(info.xen_version, "xen-3.0") == 0);
    CHECK(info.f_required & (1U << XENFEAT_writable_page_tables));
    CHECK(info.f_supported & (1U << XENFEAT_dom0));
    CHECK(info.nr_segments >= 3);
    fprintf(stderr, "  kstart %#lx kend %#lx entry %#lx hypercall page %#lx\n",
            info.virt_kstart, info.virt_kend, info.virt_entry, info.virt_hypercall);
    {
        /* Load it and compare a byte of each segment with the file. */
        struct guest_mem g = { info.virt_kstart, info.virt_kend - info.virt_kstart,
                               NULL, 0, -1 };
        g.mem = malloc(g.size);
        CHECK(g.mem != NULL);
        memset(g.mem, 0xaa, g.size);
        rc = elf_pv_load(img, len, &info, guest_write, &g);
        for (unsigned i = 0; !rc && i < info.nr_segments; i++) {
            const struct elf_pv_segment *s = &info.seg[i];
            if (s->filesz && (g.mem[s->vaddr - g.base] != img[s->offset] ||
                              g.mem[s->vaddr - g.base + s->filesz - 1] !=
                                  img[s->offset + s->filesz - 1]))
                rc = 1;
        }
        free(g.mem);
        CHECK_EQ(rc, 0);
    }
    free(img);
    real_img = NULL;
}

/*
 * The real-kernel case is registered only when a kernel is there;
 * otherwise it is reported as SKIP (never as a pass).
 */
__attribute__((constructor)) static void register_real_kernel(void)
{
    const char *elf = getenv("MICA_VMLINUX"), *bz = getenv("MICA_BZIMAGE");
    glob_t g;

    if (elf) {
        snprintf(kernel_path, sizeof(kernel_path), "%s", elf);
        kernel_is_elf = true;
    } else if (bz) {
        snprintf(kernel_path, sizeof(kernel_path), "%s", bz);
    } else if (glob("/boot/vmlinuz-*", 0, NULL, &g) == 0) {
        snprintf(kernel_path, sizeof(kernel_path), "%s", g.gl_pathv[g.gl_pathc - 1]);
        globfree(&g);
    }
    if (!kernel_path[0]) {
        printf("SKIP: %s/real_debian_kernel no kernel found (no /boot/vmlinuz-*; "
               "set MICA_BZIMAGE or MICA_VMLINUX)\n", UNIT_SUITE);
        return;
    }
    if (unit_ncases < UNIT_MAX_CASES)
        unit_cases[unit_ncases++] = (struct unit_case){ "real_debian_kernel",
                                                        real_debian_kernel };
}

UNIT_MAIN()
