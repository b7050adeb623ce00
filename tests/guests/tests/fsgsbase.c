/*
 * FSGSBASE for a PV kernel, as Xen 4.17 offers it (a Linux saved on Xen
 * runs with it on and uses RDFSBASE/WRFSBASE after a restore):
 *   - with CR4.FSGSBASE clear in our CR4 view, RDFSBASE is #UD;
 *   - when CPUID 7.0 EBX offers FSGSBASE, setting the bit (MOV to CR4)
 *     shows in the view, and WRFSBASE/RDFSBASE, WRGSBASE/RDGSBASE work
 *     and agree with RDMSR of FS_BASE/GS_BASE and with set_segment_base;
 *   - a GS base user mode writes with WRGSBASE is kept as the user GS
 *     base when a trap takes us to kernel mode (SHADOW_GS_BASE reads it)
 *     and the kernel's own GS base is untouched by it, both ways;
 *   - without the CPUID bit, the CR4 bit cannot be set.
 */
#include "guest.h"

#define CR4_FSGSBASE (1UL << 16)
#define MSR_FS_BASE 0xc0000100u
#define MSR_GS_BASE 0xc0000101u
#define MSR_SHADOW_GS_BASE 0xc0000102u

static char kstack[8192] __attribute__((aligned(4096), section(".bss.page_aligned")));
static char ustack[8192] __attribute__((aligned(4096), section(".bss.page_aligned")));
static uint64_t kword = 0x4b4b4b4b, kword2 = 0x4b4b0002, uword = 0x75757575, uword2 = 0x75750002;
static uint64_t fs_word = 0x46464646;
uint64_t fsg_uword2_addr;

extern char fsg_user_entry[];

static struct {
    uint64_t user_gs_before, user_gs_after, kernel_gs_base, shadow_gs, kernel_gs_value;
    bool bp;
} seen;

static uint64_t read_cr4(void)
{
    uint64_t v;
    __asm__ volatile("mov %%cr4, %0" : "=r"(v));
    return v;
}

static void write_cr4(uint64_t v)
{
    __asm__ volatile("mov %0, %%cr4" :: "r"(v) : "memory");
}

static uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}

/* The instructions by their bytes (REX.W forms, operand RAX). */
static uint64_t rdfsbase(void)
{
    uint64_t v;
    __asm__ volatile(".byte 0xf3, 0x48, 0x0f, 0xae, 0xc0" : "=a"(v));
    return v;
}
static uint64_t rdgsbase(void)
{
    uint64_t v;
    __asm__ volatile(".byte 0xf3, 0x48, 0x0f, 0xae, 0xc8" : "=a"(v));
    return v;
}
static void wrfsbase(uint64_t v)
{
    __asm__ volatile(".byte 0xf3, 0x48, 0x0f, 0xae, 0xd0" :: "a"(v) : "memory");
}
static void wrgsbase(uint64_t v)
{
    __asm__ volatile(".byte 0xf3, 0x48, 0x0f, 0xae, 0xd8" :: "a"(v) : "memory");
}

static bool bp_hook(struct regs *r)
{
    uint64_t v;
    seen.bp = true;
    seen.user_gs_before = r->rbx;
    seen.user_gs_after = r->r12;
    seen.kernel_gs_base = rdgsbase();
    seen.shadow_gs = rdmsr(MSR_SHADOW_GS_BASE);
    __asm__ volatile("movq %%gs:0, %0" : "=r"(v));
    seen.kernel_gs_value = v;
    return true;
}

static bool ud_hook(struct regs *r)
{
    /* Leave user mode for good: resume the kernel where it left off. */
    user_mode_leave(r);
    return true;
}

/* User mode: read GS:0, WRGSBASE another base, read GS:0 again, int3, ud2. */
__asm__(
    ".text\n"
    "fsg_user_entry:\n\t"
    "movq %gs:0, %rbx\n\t"
    "movq fsg_uword2_addr(%rip), %rax\n\t"
    ".byte 0xf3, 0x48, 0x0f, 0xae, 0xd8\n\t"      /* wrgsbase %rax */
    "movq %gs:0, %r12\n\t"
    "int3\n\t"
    "ud2\n\t"
    "jmp .\n");

enum result test_main(void)
{
    uint32_t r[4];

    REQUIRE_EQ(traps_install(), 0);
    map_shared_info();
    pv_cpuid(0, 0, r);
    bool has = false;
    if (r[0] >= 7) {
        pv_cpuid(7, 0, r);
        has = r[1] & 1;
    }
    uint64_t cr4 = read_cr4();
    printk("CPUID FSGSBASE %d, CR4 view %#lx\n", has, cr4);

    /* ---- off: #UD ---- */
    write_cr4(cr4 & ~CR4_FSGSBASE);
    CHECK_EQ(read_cr4() & CR4_FSGSBASE, 0);
    CHECK_EQ(TRAP_PROBE("9990: .byte 0xf3, 0x48, 0x0f, 0xae, 0xc0"), 6);
    if (!has) {
        write_cr4(cr4 | CR4_FSGSBASE);
        CHECK_EQ(read_cr4() & CR4_FSGSBASE, 0);
        CHECK_EQ(TRAP_PROBE("9990: .byte 0xf3, 0x48, 0x0f, 0xae, 0xc0"), 6);
        return RESULT_SUCCESS;
    }

    /* ---- on: the instructions, the MSRs and set_segment_base agree ---- */
    write_cr4(cr4 | CR4_FSGSBASE);
    CHECK_EQ(read_cr4() & CR4_FSGSBASE, CR4_FSGSBASE);
    wrfsbase((uint64_t)&fs_word);
    CHECK_EQ(rdfsbase(), (uint64_t)&fs_word);
    CHECK_EQ(rdmsr(MSR_FS_BASE), (uint64_t)&fs_word);
    uint64_t f;
    __asm__ volatile("movq %%fs:0, %0" : "=r"(f));
    CHECK_EQ(f, 0x46464646);
    REQUIRE_EQ(HYPERVISOR_set_segment_base(SEGBASE_FS, 0x12345000), 0);
    CHECK_EQ(rdfsbase(), 0x12345000);
    wrfsbase(0);

    REQUIRE_EQ(HYPERVISOR_set_segment_base(SEGBASE_GS_KERNEL, (uint64_t)&kword), 0);
    CHECK_EQ(rdgsbase(), (uint64_t)&kword);
    wrgsbase((uint64_t)&kword2);
    CHECK_EQ(rdgsbase(), (uint64_t)&kword2);
    CHECK_EQ(rdmsr(MSR_GS_BASE), (uint64_t)&kword2);

    /* ---- user mode's WRGSBASE: its base, kept apart from the kernel's ---- */
    REQUIRE_EQ(HYPERVISOR_stack_switch(FLAT_KERNEL_SS, (uint64_t)(kstack + sizeof(kstack))), 0);
    REQUIRE_EQ(HYPERVISOR_set_segment_base(SEGBASE_GS_USER, (uint64_t)&uword), 0);
    struct mmuext_op op = { .cmd = MMUEXT_NEW_USER_BASEPTR,
                            .arg1.mfn = va_to_mfn((void *)start_info->pt_base) };
    REQUIRE_EQ(HYPERVISOR_mmuext_op(&op, 1, NULL, DOMID_SELF), 0);
    fsg_uword2_addr = (uint64_t)&uword2;
    trap_hooks[3] = bp_hook;
    trap_hooks[6] = ud_hook;
    user_mode_run((uint64_t)fsg_user_entry, (uint64_t)(ustack + sizeof(ustack)), FLAT_USER_CS64);
    trap_hooks[3] = trap_hooks[6] = NULL;

    CHECK(seen.bp, "no int3 from user mode");
    CHECK_EQ(seen.user_gs_before, 0x75757575);
    CHECK_EQ(seen.user_gs_after, 0x75750002);
    CHECK_EQ(seen.kernel_gs_base, (uint64_t)&kword2);
    CHECK_EQ(seen.kernel_gs_value, 0x4b4b0002);
    CHECK_EQ(seen.shadow_gs, (uint64_t)&uword2);
    /* Back in kernel mode for good: still the kernel's base. */
    CHECK_EQ(rdgsbase(), (uint64_t)&kword2);
    CHECK_EQ(rdmsr(MSR_SHADOW_GS_BASE), (uint64_t)&uword2);

    write_cr4(cr4);
    return RESULT_SUCCESS;
}
