/*
 * Mica guest ABI: ELF note types a PV kernel carries in notes named "Xen"
 * (PT_NOTE segments or SHT_NOTE sections).  What each one means to the
 * loader is described in hypervisor/common/elf_pv.c and docs/abi.md.
 */
#ifndef MICA_PUBLIC_ELFNOTE_H
#define MICA_PUBLIC_ELFNOTE_H

#define XEN_ELFNOTE_INFO                 0   /* string, ignored */
#define XEN_ELFNOTE_ENTRY                1   /* number: entry VA */
#define XEN_ELFNOTE_HYPERCALL_PAGE       2   /* number: VA to fill with stubs */
#define XEN_ELFNOTE_VIRT_BASE            3   /* number: start of the bootstrap map */
#define XEN_ELFNOTE_PADDR_OFFSET         4   /* number: VA = paddr + base - offset */
#define XEN_ELFNOTE_XEN_VERSION          5   /* string: "xen-3.0" */
#define XEN_ELFNOTE_GUEST_OS             6   /* string: "linux", ... */
#define XEN_ELFNOTE_GUEST_VERSION        7   /* string, informational */
#define XEN_ELFNOTE_LOADER               8   /* string: "generic" */
#define XEN_ELFNOTE_PAE_MODE             9   /* string: "yes", "bimodal", ... */
#define XEN_ELFNOTE_FEATURES            10   /* string: a|b|!c ('!' = required) */
#define XEN_ELFNOTE_BSD_SYMTAB          11   /* string: "yes" */
#define XEN_ELFNOTE_HV_START_LOW        12   /* number: 32-bit guests */
#define XEN_ELFNOTE_L1_MFN_VALID        13   /* numbers: mask, value pairs */
#define XEN_ELFNOTE_SUSPEND_CANCEL      14   /* number */
#define XEN_ELFNOTE_INIT_P2M            15   /* number: VA for the p2m list */
#define XEN_ELFNOTE_MOD_START_PFN       16   /* number: initrd may be unmapped */
#define XEN_ELFNOTE_SUPPORTED_FEATURES  17   /* number: XENFEAT bitmap */
#define XEN_ELFNOTE_PHYS32_ENTRY        18   /* number: PVH entry, not for PV */
#define XEN_ELFNOTE_MAX                 18

/* Types used in crash dumps and core files, not by the loader. */
#define XEN_ELFNOTE_CRASH_INFO              0x1000001
#define XEN_ELFNOTE_CRASH_REGS              0x1000002
#define XEN_ELFNOTE_DUMPCORE_NONE           0x2000000
#define XEN_ELFNOTE_DUMPCORE_HEADER         0x2000001
#define XEN_ELFNOTE_DUMPCORE_XEN_VERSION    0x2000002
#define XEN_ELFNOTE_DUMPCORE_FORMAT_VERSION 0x2000003

#endif /* MICA_PUBLIC_ELFNOTE_H */
