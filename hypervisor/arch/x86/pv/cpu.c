/*
 * Per-CPU setup for running PV guests: SYSCALL enters Mica at
 * pv_syscall_entry on the hypervisor selectors, and SYSRET/IRET return to
 * the guest's flat ring-3 selectors (STAR's layout is why Mica's GDT
 * keeps Xen's selector numbers); FXSAVE/SSE are enabled for guests.
 */
#include <asm/current.h>
#include <asm/desc.h>
#include <asm/io.h>
#include <asm/pv.h>

#define MSR_STAR           0xc0000081
#define MSR_LSTAR          0xc0000082
#define MSR_CSTAR          0xc0000083
#define MSR_SYSCALL_MASK   0xc0000084
#define MSR_SHADOW_GS_BASE 0xc0000102
#define EFER_SCE           (1ULL << 0)
#define CR4_OSFXSR         (1ULL << 9)
#define CR4_OSXMMEXCPT     (1ULL << 10)
#define CR0_MP             (1ULL << 1)
#define CR0_EM             (1ULL << 2)
#define CR0_NE             (1ULL << 5)
#define RFLAGS_MASK_ON_SYSCALL 0x47700   /* TF, IF, DF, IOPL, NT, AC */

extern const char pv_syscall_entry[];
extern struct tss64 *boot_cpu_tss(void);

void pv_cpu_init(void)
{
    struct cpu_info *ci = get_cpu_info();

    ci->rsp0 = (u64)(uintptr_t)(&ci->guest_regs + 1);
    boot_cpu_tss()->rsp[0] = ci->rsp0;

    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
    wrmsr(MSR_STAR, ((u64)(RING3_CS32 & ~3) << 48) | ((u64)HYPERVISOR_CS << 32));
    wrmsr(MSR_LSTAR, (u64)(uintptr_t)pv_syscall_entry);
    wrmsr(MSR_CSTAR, 0);
    wrmsr(MSR_SYSCALL_MASK, RFLAGS_MASK_ON_SYSCALL);
    wrmsr(MSR_SHADOW_GS_BASE, (u64)(uintptr_t)ci);

    write_cr0((read_cr0() & ~CR0_EM) | CR0_MP | CR0_NE);
    write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
    __asm__ volatile("fninit");
}
