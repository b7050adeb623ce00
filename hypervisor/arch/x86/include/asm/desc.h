/*
 * Descriptor tables: GDT, TSS and IDT of each physical CPU.
 *
 * The GDT keeps Xen's layout: Mica's own descriptors live in one page
 * that the CPU sees at selector 0xe000 and up, leaving selectors below it
 * free for a PV guest's GDT frames later (the ABI's guest-visible flat
 * selectors FLAT_RING3_* are in that page too).
 */
#ifndef ASM_DESC_H
#define ASM_DESC_H

#define FIRST_RESERVED_GDT_BYTE   (14 * 4096)   /* 0xe000, as the public ABI header says */

#define HYPERVISOR_CS   0xe008      /* ring-0 64-bit code */
#define HYPERVISOR_DS   0xe010      /* ring-0 data */
#define RING3_CS32      0xe023      /* guest 32-bit code (FLAT_RING3_CS32) */
#define RING3_DS        0xe02b      /* guest data and stack (FLAT_RING3_DS32/SS) */
#define RING3_CS64      0xe033      /* guest 64-bit code (FLAT_RING3_CS64) */
#define HYPERVISOR_CS32 0xe038      /* ring-0 32-bit code */
#define TSS_SELECTOR    0xe040
#define LDT_SELECTOR    0xe050

/* Interrupt stack table slots; slot n's stack is page n - 1 of the CPU's stack block. */
#define IST_NMI 1
#define IST_DF  2
#define IST_MC  3
#define IST_DB  4
#define IST_STACK_SIZE 4096
#define NR_IST_STACKS  4

#ifndef __ASSEMBLY__
#include <mica/types.h>

struct tss64 {
    u32 reserved0;
    u64 rsp[3];
    u64 ist[8];         /* ist[0] is reserved: the IST index 0 means none */
    u64 reserved1;
    u16 reserved2;
    u16 iomap_base;
} __attribute__((packed));
_Static_assert(sizeof(struct tss64) == 104, "TSS layout");
_Static_assert(__builtin_offsetof(struct tss64, ist[1]) == 0x24, "TSS IST1 offset");
_Static_assert(__builtin_offsetof(struct tss64, iomap_base) == 0x66, "TSS I/O map offset");

/* Sets up and loads the boot CPU's GDT, TSS and the IDT every CPU shares. */
void desc_init_boot_cpu(void);
/* Allocates CPU cpu's GDT page and TSS; its IST stacks are in stack_block (run by the boot CPU). */
bool desc_alloc_cpu(unsigned cpu, u8 *stack_block);
/* Loads a secondary CPU's own tables (run by that CPU). */
void desc_init_secondary_cpu(void);
/*
 * CPU cpu's GDT page and TSS page (set up by desc_alloc_cpu() or, for the
 * boot CPU, desc_init_boot_cpu()) and the shared IDT's page: what XPTI's
 * root page tables must map for the CPU to take an interrupt.
 */
void desc_cpu_pages(unsigned cpu, const void **gdt, const void **tss, const void **idt_page);
/* The running CPU's page of Mica descriptors and its TSS. */
u64 *this_cpu_gdt_page(void);
struct tss64 *this_cpu_tss(void);
#endif

#endif
