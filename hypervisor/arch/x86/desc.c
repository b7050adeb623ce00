/*
 * GDT, TSS and IDT of each CPU.  The boot CPU's tables are static (they
 * are needed before the heap exists); each secondary CPU gets its own GDT
 * page and TSS from the heap when it is brought up (smpboot.c).  Every
 * CPU's IST stacks are the lowest pages of its own stack block
 * (asm/current.h), so an IST handler finds its CPU from its own RSP.
 * The IDT is one table shared by every CPU.
 */
#include <asm/current.h>
#include <asm/desc.h>
#include <asm/entry.h>
#include <mica/heap.h>
#include <mica/lib.h>

struct idt_gate {
    u16 offset_lo;
    u16 selector;
    u8 ist;
    u8 type_attr;
    u16 offset_mid;
    u32 offset_hi;
    u32 reserved;
} __attribute__((packed));
_Static_assert(sizeof(struct idt_gate) == 16, "IDT gate size");

struct desc_ptr {
    u16 limit;
    u64 base;
} __attribute__((packed));

#define GATE_INTERRUPT 0x8e     /* present, DPL 0, 64-bit interrupt gate */

/* The IST stacks must leave most of the stack block to the primary stack. */
_Static_assert(NR_IST_STACKS * IST_STACK_SIZE <= STACK_SIZE / 4, "IST stacks in the stack block");

struct cpu_desc {
    u64 *gdt_page;                  /* 512 descriptors, seen from selector 0xe000 */
    struct tss64 *tss;
    u8 *stack_block;                /* STACK_SIZE, IST slot n's stack in page n - 1 */
};

/*
 * The IDT and every TSS fill pages of their own: XPTI's root page tables
 * (xpti.c) map these pages, and must show a guest nothing else.
 */
static u64 boot_gdt_page[512] __aligned(4096);
static struct idt_gate idt[NR_VECTORS] __aligned(4096);
_Static_assert(sizeof(idt) == PAGE_SIZE, "the IDT is one page");
static union {
    struct tss64 tss;
    u8 page[PAGE_SIZE];
} boot_tss_page __aligned(4096);
/* Written by the CPU bringing CPU n up, before n runs; read by n only after. */
static struct cpu_desc cpu_desc[CONFIG_MAX_CPUS];

static unsigned gdt_index(unsigned selector)
{
    return (selector - FIRST_RESERVED_GDT_BYTE) >> 3;
}

static void set_tss_descriptor(u64 *gdt, unsigned selector, const struct tss64 *tss)
{
    u64 base = (u64)(uintptr_t)tss, limit = sizeof(*tss) - 1;
    unsigned i = gdt_index(selector);

    gdt[i] = (limit & 0xffff) | ((base & 0xffffff) << 16) |
             (0x89ULL << 40) |                 /* present, available 64-bit TSS */
             (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
    gdt[i + 1] = base >> 32;
}

static void set_gate(unsigned vec, u64 handler, unsigned ist)
{
    idt[vec] = (struct idt_gate){
        .offset_lo = (u16)handler,
        .selector = HYPERVISOR_CS,
        .ist = (u8)ist,
        /* INT3, INTO and INT 0x80 are reachable from ring 3 (PV guests); the rest #GP. */
        .type_attr = GATE_INTERRUPT | ((vec == 3 || vec == 4 || vec == 0x80) ? 0x60 : 0),
        .offset_mid = (u16)(handler >> 16),
        .offset_hi = (u32)(handler >> 32),
    };
}

u64 *this_cpu_gdt_page(void)
{
    return cpu_desc[get_cpu_info()->processor_id].gdt_page;
}

struct tss64 *this_cpu_tss(void)
{
    return cpu_desc[get_cpu_info()->processor_id].tss;
}

/* Loads gdt (Mica's page of it) and tss into this CPU, and the shared IDT. */
static void load_tables(u64 *gdt, struct tss64 *tss, u8 *stack_block)
{
    struct desc_ptr gdtr, idtr;

    gdt[gdt_index(HYPERVISOR_CS)]   = 0x00af9b000000ffffULL;
    gdt[gdt_index(HYPERVISOR_DS)]   = 0x00cf93000000ffffULL;
    gdt[gdt_index(RING3_CS32)]      = 0x00cffb000000ffffULL;
    gdt[gdt_index(RING3_DS)]        = 0x00cff3000000ffffULL;
    gdt[gdt_index(RING3_CS64)]      = 0x00affb000000ffffULL;
    gdt[gdt_index(HYPERVISOR_CS32)] = 0x00cf9b000000ffffULL;

    for (unsigned slot = 1; slot <= NR_IST_STACKS; slot++)
        tss->ist[slot] = (u64)(uintptr_t)(stack_block + slot * IST_STACK_SIZE);
    tss->iomap_base = sizeof(*tss);             /* no I/O bitmap: ring 3 gets no ports */
    set_tss_descriptor(gdt, TSS_SELECTOR, tss);

    /* The CPU indexes from 0; Mica's page starts at selector 0xe000. */
    gdtr.base = (u64)(uintptr_t)gdt - FIRST_RESERVED_GDT_BYTE;
    gdtr.limit = FIRST_RESERVED_GDT_BYTE + PAGE_SIZE - 1;
    __asm__ volatile(
        "lgdt %0\n\t"
        "pushq %1\n\t"
        "leaq 1f(%%rip), %%rax\n\t"
        "pushq %%rax\n\t"
        "lretq\n"
        "1:\n\t"
        "mov %2, %%ds\n\t"
        "mov %2, %%es\n\t"
        "mov %2, %%ss\n\t"
        :: "m"(gdtr), "i"(HYPERVISOR_CS), "r"(HYPERVISOR_DS) : "rax", "memory");
    __asm__ volatile("ltr %w0" :: "r"(TSS_SELECTOR));

    idtr.base = (u64)(uintptr_t)idt;
    idtr.limit = sizeof(idt) - 1;
    __asm__ volatile("lidt %0" :: "m"(idtr));
}

void desc_init_boot_cpu(void)
{
    u8 *stack_block = (u8 *)get_cpu_info() + CPU_INFO_SIZE - STACK_SIZE;

    cpu_desc[0] = (struct cpu_desc){ boot_gdt_page, &boot_tss_page.tss, stack_block };
    for (unsigned v = 0; v < NR_VECTORS; v++)
        set_gate(v, vector_stubs[v], 0);
    set_gate(2, vector_stubs[2], IST_NMI);
    set_gate(8, vector_stubs[8], IST_DF);
    set_gate(18, vector_stubs[18], IST_MC);
    set_gate(1, vector_stubs[1], IST_DB);
    load_tables(boot_gdt_page, &boot_tss_page.tss, stack_block);
}

bool desc_alloc_cpu(unsigned cpu, u8 *stack_block)
{
    u64 *gdt = xmalloc_aligned(PAGE_SIZE, PAGE_SIZE);
    struct tss64 *tss = xmalloc_aligned(PAGE_SIZE, PAGE_SIZE);     /* a page alone (above) */

    if (!gdt || !tss) {
        xfree(gdt);
        xfree(tss);
        return false;
    }
    memset(gdt, 0, PAGE_SIZE);
    memset(tss, 0, PAGE_SIZE);
    cpu_desc[cpu] = (struct cpu_desc){ gdt, tss, stack_block };
    return true;
}

void desc_init_secondary_cpu(void)
{
    const struct cpu_desc *c = &cpu_desc[get_cpu_info()->processor_id];

    load_tables(c->gdt_page, c->tss, c->stack_block);
}

void desc_cpu_pages(unsigned cpu, const void **gdt, const void **tss, const void **idt_page)
{
    *gdt = cpu_desc[cpu].gdt_page;
    *tss = cpu_desc[cpu].tss;
    *idt_page = idt;
}
