/*
 * Per-CPU setup for running PV guests: SYSCALL enters Mica at
 * pv_syscall_entry on the hypervisor selectors, and SYSRET/IRET return to
 * the guest's flat ring-3 selectors (STAR's layout is why Mica's GDT
 * keeps Xen's selector numbers); CSTAR and SYSENTER take 32-bit user code's
 * system calls; FXSAVE/SSE and, where present, XSAVE are enabled for guests.
 */
#include <asm/current.h>
#include <asm/desc.h>
#include <asm/io.h>
#include <asm/pv.h>
#include <asm/pv_entry.h>
#include <asm/xstate.h>
#include <mica/lib.h>

#define MSR_STAR           0xc0000081
#define MSR_LSTAR          0xc0000082
#define MSR_CSTAR          0xc0000083
#define MSR_SYSCALL_MASK   0xc0000084
#define MSR_SHADOW_GS_BASE 0xc0000102
#define MSR_SYSENTER_CS    0x174
#define MSR_SYSENTER_ESP   0x175
#define MSR_SYSENTER_EIP   0x176
#define EFER_SCE           (1ULL << 0)
#define CR4_OSFXSR         (1ULL << 9)
#define CR4_OSXMMEXCPT     (1ULL << 10)
#define CR0_MP             (1ULL << 1)
#define CR0_EM             (1ULL << 2)
#define CR0_NE             (1ULL << 5)
#define RFLAGS_MASK_ON_SYSCALL 0x47700   /* TF, IF, DF, IOPL, NT, AC */

bool pv_sysenter_enabled;

/* Xen's list: Intel, Centaur and Zhaoxin ("  Shanghai  ") keep SEP in long mode. */
static bool sysenter_in_long_mode(void)
{
    static const char *const vendors[] = { "GenuineIntel", "CentaurHauls", "  Shanghai  " };
    u32 a, regs[3];
    char id[13];

    cpuid(0, 0, &a, &regs[0], &regs[2], &regs[1]);     /* EBX, EDX, ECX spell the vendor */
    memcpy(id, regs, 12);
    id[12] = 0;
    cpuid(1, 0, &a, &regs[0], &regs[1], &regs[2]);
    if (!(regs[2] & (1u << 11)))                       /* EDX.SEP */
        return false;
    for (unsigned i = 0; i < sizeof(vendors) / sizeof(vendors[0]); i++)
        if (!memcmp(id, vendors[i], 12))
            return true;
    return false;
}

void pv_cpu_init(void)
{
    struct cpu_info *ci = get_cpu_info();

    ci->rsp0 = (u64)(uintptr_t)(&ci->guest_regs + 1);
    this_cpu_tss()->rsp[0] = ci->rsp0;

    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
    wrmsr(MSR_STAR, ((u64)(RING3_CS32 & ~3) << 48) | ((u64)HYPERVISOR_CS << 32));
    wrmsr(MSR_LSTAR, (u64)(uintptr_t)pv_syscall_entry);
    wrmsr(MSR_CSTAR, (u64)(uintptr_t)pv_syscall32_entry);
    /*
     * SYSENTER lands on the frame area directly (SS is SYSENTER_CS + 8,
     * HYPERVISOR_DS).  Only Intel-compatible CPUs allow SYSENTER in long
     * mode; elsewhere, as on Xen, SYSENTER_CS stays null so the
     * instruction faults (#UD on AMD hardware, #GP(0) where an emulator
     * lets it through) and the guest sees that fault at the instruction.
     */
    pv_sysenter_enabled = sysenter_in_long_mode();
    if (pv_sysenter_enabled) {
        wrmsr(MSR_SYSENTER_CS, HYPERVISOR_CS);
        wrmsr(MSR_SYSENTER_ESP, ci->rsp0);
        wrmsr(MSR_SYSENTER_EIP, (u64)(uintptr_t)pv_sysenter_entry);
    } else {
        wrmsr(MSR_SYSENTER_CS, 0);
    }
    wrmsr(MSR_SYSCALL_MASK, RFLAGS_MASK_ON_SYSCALL);
    wrmsr(MSR_SHADOW_GS_BASE, (u64)(uintptr_t)ci);

    write_cr0((read_cr0() & ~CR0_EM) | CR0_MP | CR0_NE);
    write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
    __asm__ volatile("fninit");
    xstate_cpu_init();
}
