/*
 * The virtual IDT: one stub per vector (entry.S) feeding trap_dispatch,
 * which records what arrived and either resumes where the test asked or
 * reports an unexpected exception and ends the test with ERROR.
 */
#include "guest.h"

volatile struct trap_record last_trap = { .vector = -1 };
volatile unsigned trap_counts[256];
volatile uint64_t trap_resume;
volatile uint64_t trap_probe_insn, trap_probe_rsp;
trap_hook_t trap_hooks[259];

void evtchn_do_upcall(struct regs *r);

void trap_clear(void)
{
    last_trap.vector = -1;
    last_trap.count = 0;
}

#define STUBS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) \
    X(11) X(12) X(13) X(14) X(15) X(16) X(17) X(18) X(19) X(20) X(21)
#define DECL(n) extern char trap_entry_##n[];
STUBS(DECL)

long traps_install(void)
{
    static struct trap_info table[24];
    int i = 0;

#define ENTRY(n)                                                         \
    table[i].vector = n;                                                 \
    /* DPL 3 for int3/into: they must work whatever mode the guest is in. */ \
    table[i].flags = (n == 3 || n == 4) ? 3 : 0;                         \
    table[i].cs = FLAT_KERNEL_CS;                                        \
    table[i].address = (uint64_t)trap_entry_##n;                         \
    i++;
    STUBS(ENTRY)
    table[i].address = 0;
    return HYPERVISOR_set_trap_table(table);
}

void traps_fill_context(struct trap_info *ctxt)
{
    /* A vcpu_guest_context's virtual IDT is indexed by vector. */
#define SLOT(n)                                                          \
    ctxt[n].vector = n;                                                  \
    ctxt[n].flags = (n == 3 || n == 4) ? 3 : 0;                          \
    ctxt[n].cs = FLAT_KERNEL_CS;                                         \
    ctxt[n].address = (uint64_t)trap_entry_##n;
    STUBS(SLOT)
#undef SLOT
}

void dump_regs(const struct regs *r)
{
    printk("  vector %lu error %#lx rip %#lx cs %#lx rflags %#lx rsp %#lx ss %#lx\n",
           r->vector, r->error_code, r->rip, r->cs, r->rflags, r->rsp, r->ss);
    printk("  rax %#lx rbx %#lx rcx %#lx rdx %#lx rsi %#lx rdi %#lx\n",
           r->rax, r->rbx, r->rcx, r->rdx, r->rsi, r->rdi);
    if (r->vector == 14 && vcpu0)
        printk("  cr2 (vcpu_info.arch.cr2) %#lx\n", vcpu0->arch.cr2);
}

void trap_dispatch(struct regs *r);
void trap_dispatch(struct regs *r)
{
    if (r->vector == VEC_EVENT && !armed_upcalls++)
        armed_upcall_rip = r->rip;
    if (r->vector == VEC_EVENT && !trap_hooks[VEC_EVENT]) {
        evtchn_do_upcall(r);
        return;
    }
    if (r->vector < 256)
        trap_counts[r->vector]++;
    last_trap.vector = (int64_t)r->vector;
    last_trap.error_code = r->error_code;
    last_trap.rip = r->rip;
    last_trap.cs = r->cs;
    last_trap.rflags = r->rflags;
    last_trap.rsp = r->rsp;
    last_trap.ss = r->ss;
    last_trap.cr2 = (r->vector == 14 && vcpu0) ? vcpu0->arch.cr2 : 0;
    last_trap.count++;

    if (r->vector < ARRAY_SIZE(trap_hooks) && trap_hooks[r->vector] &&
        trap_hooks[r->vector](r))
        return;
    if (trap_resume) {
        r->rip = trap_resume;
        trap_resume = 0;
        return;
    }
    printk("unexpected exception or callback:\n");
    dump_regs(r);
    finish(RESULT_ERROR);
}
