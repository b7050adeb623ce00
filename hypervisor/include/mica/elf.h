/*
 * ELF64 file format, as far as Mica's loaders need it: the file header,
 * program headers, section headers and note headers, with the constants
 * they use.  Field names follow the ELF specification (System V gABI and
 * the x86-64 psABI); the layouts are fixed by the format.
 */
#ifndef MICA_ELF_H
#define MICA_ELF_H

#include <mica/types.h>

/* e_ident[] */
#define EI_MAG0        0
#define EI_MAG1        1
#define EI_MAG2        2
#define EI_MAG3        3
#define EI_CLASS       4
#define EI_DATA        5
#define EI_VERSION     6
#define EI_OSABI       7
#define EI_NIDENT     16

#define ELFMAG0       0x7f
#define ELFMAG1       'E'
#define ELFMAG2       'L'
#define ELFMAG3       'F'
#define ELFCLASS32     1
#define ELFCLASS64     2
#define ELFDATA2LSB    1
#define EV_CURRENT     1

/* e_type */
#define ET_NONE        0
#define ET_REL         1
#define ET_EXEC        2
#define ET_DYN         3
#define ET_CORE        4

/* e_machine */
#define EM_386         3
#define EM_X86_64     62

/* p_type */
#define PT_NULL        0
#define PT_LOAD        1
#define PT_DYNAMIC     2
#define PT_INTERP      3
#define PT_NOTE        4
#define PT_PHDR        6
#define PT_TLS         7

/* p_flags */
#define PF_X           (1U << 0)
#define PF_W           (1U << 1)
#define PF_R           (1U << 2)

/* sh_type */
#define SHT_NULL       0
#define SHT_NOTE       7
#define SHT_NOBITS     8

struct elf64_ehdr {
    u8  e_ident[EI_NIDENT];
    u16 e_type;
    u16 e_machine;
    u32 e_version;
    u64 e_entry;
    u64 e_phoff;
    u64 e_shoff;
    u32 e_flags;
    u16 e_ehsize;
    u16 e_phentsize;
    u16 e_phnum;
    u16 e_shentsize;
    u16 e_shnum;
    u16 e_shstrndx;
};
_Static_assert(sizeof(struct elf64_ehdr) == 64, "ELF64 file header");
_Static_assert(__builtin_offsetof(struct elf64_ehdr, e_type) == 16, "e_type");
_Static_assert(__builtin_offsetof(struct elf64_ehdr, e_machine) == 18, "e_machine");
_Static_assert(__builtin_offsetof(struct elf64_ehdr, e_version) == 20, "e_version");
_Static_assert(__builtin_offsetof(struct elf64_ehdr, e_entry) == 24, "e_entry");
_Static_assert(__builtin_offsetof(struct elf64_ehdr, e_phoff) == 32, "e_phoff");
_Static_assert(__builtin_offsetof(struct elf64_ehdr, e_shoff) == 40, "e_shoff");
_Static_assert(__builtin_offsetof(struct elf64_ehdr, e_flags) == 48, "e_flags");
_Static_assert(__builtin_offsetof(struct elf64_ehdr, e_ehsize) == 52, "e_ehsize");
_Static_assert(__builtin_offsetof(struct elf64_ehdr, e_phentsize) == 54, "e_phentsize");
_Static_assert(__builtin_offsetof(struct elf64_ehdr, e_phnum) == 56, "e_phnum");
_Static_assert(__builtin_offsetof(struct elf64_ehdr, e_shentsize) == 58, "e_shentsize");
_Static_assert(__builtin_offsetof(struct elf64_ehdr, e_shnum) == 60, "e_shnum");
_Static_assert(__builtin_offsetof(struct elf64_ehdr, e_shstrndx) == 62, "e_shstrndx");

struct elf64_phdr {
    u32 p_type;
    u32 p_flags;
    u64 p_offset;
    u64 p_vaddr;
    u64 p_paddr;
    u64 p_filesz;
    u64 p_memsz;
    u64 p_align;
};
_Static_assert(sizeof(struct elf64_phdr) == 56, "ELF64 program header");
_Static_assert(__builtin_offsetof(struct elf64_phdr, p_flags) == 4, "p_flags");
_Static_assert(__builtin_offsetof(struct elf64_phdr, p_offset) == 8, "p_offset");
_Static_assert(__builtin_offsetof(struct elf64_phdr, p_vaddr) == 16, "p_vaddr");
_Static_assert(__builtin_offsetof(struct elf64_phdr, p_paddr) == 24, "p_paddr");
_Static_assert(__builtin_offsetof(struct elf64_phdr, p_filesz) == 32, "p_filesz");
_Static_assert(__builtin_offsetof(struct elf64_phdr, p_memsz) == 40, "p_memsz");
_Static_assert(__builtin_offsetof(struct elf64_phdr, p_align) == 48, "p_align");

struct elf64_shdr {
    u32 sh_name;
    u32 sh_type;
    u64 sh_flags;
    u64 sh_addr;
    u64 sh_offset;
    u64 sh_size;
    u32 sh_link;
    u32 sh_info;
    u64 sh_addralign;
    u64 sh_entsize;
};
_Static_assert(sizeof(struct elf64_shdr) == 64, "ELF64 section header");
_Static_assert(__builtin_offsetof(struct elf64_shdr, sh_type) == 4, "sh_type");
_Static_assert(__builtin_offsetof(struct elf64_shdr, sh_flags) == 8, "sh_flags");
_Static_assert(__builtin_offsetof(struct elf64_shdr, sh_addr) == 16, "sh_addr");
_Static_assert(__builtin_offsetof(struct elf64_shdr, sh_offset) == 24, "sh_offset");
_Static_assert(__builtin_offsetof(struct elf64_shdr, sh_size) == 32, "sh_size");
_Static_assert(__builtin_offsetof(struct elf64_shdr, sh_link) == 40, "sh_link");
_Static_assert(__builtin_offsetof(struct elf64_shdr, sh_info) == 44, "sh_info");
_Static_assert(__builtin_offsetof(struct elf64_shdr, sh_addralign) == 48, "sh_addralign");
_Static_assert(__builtin_offsetof(struct elf64_shdr, sh_entsize) == 56, "sh_entsize");

/* A note: this header, then the name padded to 4 bytes, then the
 * descriptor padded to 4 bytes. */
struct elf_note_hdr {
    u32 n_namesz;
    u32 n_descsz;
    u32 n_type;
};
_Static_assert(sizeof(struct elf_note_hdr) == 12, "ELF note header");
_Static_assert(__builtin_offsetof(struct elf_note_hdr, n_descsz) == 4, "n_descsz");
_Static_assert(__builtin_offsetof(struct elf_note_hdr, n_type) == 8, "n_type");

#endif /* MICA_ELF_H */
