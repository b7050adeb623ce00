/*
 * Writable page tables (PV ABI guide 7.8): a guest kernel that stores
 * into one of its own L1 tables, which it can only map read-only, takes a
 * write fault; Mica decodes the one faulting instruction, checks the
 * resulting entry like any other L1 update and applies it.  Xen 4.17 does
 * this whether or not VMASST_TYPE_writable_pagetables is on (the guide
 * says otherwise; see docs/test-guests.md), and stock Linux relies on it.
 *
 * Decoded: MOV r/m,reg (88, 89), MOV r/m,imm (C6 /0, C7 /0), XCHG (87),
 * CMPXCHG (0F B1), and the read-modify-write forms Linux's bit helpers
 * use on entries (clear_bit on _PAGE_RW when a fork write-protects a
 * page): AND/OR/XOR with a register (20/21, 08/09, 30/31) or an immediate
 * (80, 81, 83 /1 /4 /6), BTS/BTR (0F AB, 0F B3, 0F BA /5 /6), with
 * operand-size, LOCK, segment and REX prefixes,
 * naturally aligned accesses of 1, 2, 4 or 8 bytes.  The target is the
 * fault address itself, so the decoder only needs the instruction's
 * length, its register operand and its immediate.  Anything else, or an
 * entry validation refuses, leaves the #PF for the guest.
 */
#include <asm/guest_access.h>
#include <asm/paging.h>
#include <asm/pv_mm.h>
#include <asm/layout.h>
#include <mica/lib.h>

#define PF_PRESENT 0x1u
#define PF_WRITE   0x2u
#define PF_RSVD    0x8u
#define PF_INSN    0x10u

#define EFLAGS_ARITH 0x8d5u     /* CF PF AF ZF SF OF */

struct insn {
    u8 bytes[15];
    unsigned len, fetched;
    u64 rip;
};

static bool fetch(struct insn *in, u8 *out)
{
    if (in->len >= sizeof(in->bytes))
        return false;
    if (in->len == in->fetched) {
        if (copy_from_guest(&in->bytes[in->len], in->rip + in->len, 1))
            return false;
        in->fetched++;
    }
    *out = in->bytes[in->len++];
    return true;
}

static u64 *reg_slot(struct cpu_regs *r, unsigned n)
{
    switch (n) {
    case 0: return &r->rax;  case 1: return &r->rcx;  case 2: return &r->rdx;
    case 3: return &r->rbx;  case 4: return &r->rsp;  case 5: return &r->rbp;
    case 6: return &r->rsi;  case 7: return &r->rdi;  case 8: return &r->r8;
    case 9: return &r->r9;   case 10: return &r->r10; case 11: return &r->r11;
    case 12: return &r->r12; case 13: return &r->r13; case 14: return &r->r14;
    default: return &r->r15;
    }
}

/* Reads register n at size bytes; 8-bit AH-BH without REX. */
static u64 reg_read(struct cpu_regs *r, unsigned n, unsigned size, bool rex)
{
    if (size == 1 && !rex && n >= 4 && n < 8)
        return (*reg_slot(r, n - 4) >> 8) & 0xff;
    return *reg_slot(r, n) & (size == 8 ? ~0ULL : (1ULL << (size * 8)) - 1);
}

/* Writes a value of size bytes as a load would: 32-bit zero-extends. */
static void reg_write(struct cpu_regs *r, unsigned n, unsigned size, bool rex, u64 val)
{
    u64 *p;

    if (size == 1 && !rex && n >= 4 && n < 8) {
        p = reg_slot(r, n - 4);
        *p = (*p & ~0xff00ULL) | ((val & 0xff) << 8);
        return;
    }
    p = reg_slot(r, n);
    if (size == 8 || size == 4)
        *p = size == 8 ? val : (u32)val;
    else
        *p = (*p & ~((1ULL << (size * 8)) - 1)) | val;
}

/* Skips a memory ModRM operand's SIB and displacement; false for a register form. */
static bool skip_modrm_mem(struct insn *in, u8 modrm)
{
    unsigned mod = modrm >> 6, rm = modrm & 7, disp = 0;
    u8 b;

    if (mod == 3)
        return false;
    if (rm == 4) {
        if (!fetch(in, &b))
            return false;
        if (mod == 0 && (b & 7) == 5)
            disp = 4;
    }
    if (mod == 0 && rm == 5)
        disp = 4;
    disp = mod == 1 ? 1 : mod == 2 ? 4 : disp;
    while (disp--)
        if (!fetch(in, &b))
            return false;
    return true;
}

/* The flags CMP a, b leaves, computed by the CPU itself. */
static u64 cmp_flags(u64 a, u64 b, unsigned size)
{
    u64 f;
    unsigned sh = 64 - size * 8;

    /* Compare in the top bits so every size gets its own CF/SF/OF. */
    a <<= sh;
    b <<= sh;
    __asm__ volatile("cmp %2, %1; pushfq; popq %0" : "=r"(f) : "r"(a), "r"(b) : "cc");
    if (size != 8) {
        /* PF and AF look at the low byte: redo those on the unshifted values. */
        u64 g;
        a >>= sh;
        b >>= sh;
        __asm__ volatile("cmp %2, %1; pushfq; popq %0" : "=r"(g) : "r"(a), "r"(b) : "cc");
        f = (f & ~0x14ULL) | (g & 0x14ULL);
    }
    return f & EFLAGS_ARITH;
}

enum op { OP_MOV, OP_XCHG, OP_CMPXCHG, OP_AND, OP_OR, OP_XOR, OP_BTS, OP_BTR };

/* Result and flags of a logical operation, computed by the CPU itself. */
static u64 logic_op(enum op op, u64 a, u64 b, unsigned size, u64 *flags)
{
    unsigned sh = 64 - size * 8;
    u64 r, f;

    a <<= sh;
    b <<= sh;
    switch (op) {
    case OP_AND: __asm__ volatile("and %2, %0; pushfq; popq %1" : "+r"(a), "=r"(f) : "r"(b) : "cc"); break;
    case OP_OR:  __asm__ volatile("or %2, %0; pushfq; popq %1" : "+r"(a), "=r"(f) : "r"(b) : "cc"); break;
    default:     __asm__ volatile("xor %2, %0; pushfq; popq %1" : "+r"(a), "=r"(f) : "r"(b) : "cc"); break;
    }
    r = a >> sh;
    /* PF looks at the low byte of the result. */
    {
        u64 g, lo = r & 0xff;
        __asm__ volatile("test %1, %1; pushfq; popq %0" : "=r"(g) : "r"(lo) : "cc");
        f = (f & ~0x4ULL) | (g & 0x4ULL);
    }
    *flags = f & EFLAGS_ARITH;
    return r;
}

static enum op group1_op(unsigned ext)
{
    return ext == 1 ? OP_OR : ext == 4 ? OP_AND : ext == 6 ? OP_XOR : OP_MOV;
}

static bool ptwr_fault_locked(struct vcpu *v, struct cpu_regs *regs, u64 addr, u32 error)
{
    struct domain *d = v->domain;
    struct insn in = { .rip = regs->rip };
    bool rex_w = false, rex = false, opsize = false, flush = false;
    unsigned rex_r = 0, size, reg = 0, shift, opcode;
    enum op op;
    u64 src = 0, mask, old, cur, val, *pte, pte_now;
    mfn_t l1, target;
    struct page_info *pg;
    u8 b, modrm;

    if ((error & (PF_PRESENT | PF_WRITE | PF_RSVD | PF_INSN)) != (PF_PRESENT | PF_WRITE) ||
        !v->arch.kernel_mode || !guest_range_ok(addr, 1))
        return false;

    /* The faulting address must be a read-only mapping of one of our L1s. */
    l1 = pt_find_l1(v, addr, true);
    if (l1 == INVALID_MFN)
        return false;
    pte_now = ((u64 *)maddr_to_virt(l1 << PAGE_SHIFT))[L1_SLOT(addr)];
    if ((pte_now & (PTE_P | PTE_RW)) != PTE_P)
        return false;
    target = (pte_now & PTE_ADDR_MASK) >> PAGE_SHIFT;
    pg = pv_frame(target);
    if (!pg || pg->owner != d->domid || page_type(pg) != PGT_L1 ||
        !(pg->type_info & PGT_VALIDATED))
        return false;

    /* Prefixes, then the opcode. */
    for (;;) {
        if (!fetch(&in, &b))
            return false;
        if (b == 0x66)
            opsize = true;
        else if (b == 0xf0 || b == 0x2e || b == 0x36 || b == 0x3e || b == 0x26 ||
                 b == 0x64 || b == 0x65)
            ;
        else
            break;
    }
    if ((b & 0xf0) == 0x40) {
        rex = true;
        rex_w = b & 8;
        rex_r = (b & 4) ? 8 : 0;
        if (!fetch(&in, &b))
            return false;
    }
    size = rex_w ? 8 : opsize ? 2 : 4;
    opcode = b;
    switch (b) {
    case 0x88: op = OP_MOV; size = 1; break;
    case 0x89: op = OP_MOV; break;
    case 0xc6: op = OP_MOV; size = 1; break;
    case 0xc7: op = OP_MOV; break;
    case 0x87: op = OP_XCHG; break;
    case 0x20: op = OP_AND; size = 1; break;
    case 0x21: op = OP_AND; break;
    case 0x08: op = OP_OR; size = 1; break;
    case 0x09: op = OP_OR; break;
    case 0x30: op = OP_XOR; size = 1; break;
    case 0x31: op = OP_XOR; break;
    case 0x80: case 0x81: case 0x83:
        op = OP_MOV;                    /* decided by the ModRM extension below */
        if (b == 0x80)
            size = 1;
        break;
    case 0x0f:
        if (!fetch(&in, &b))
            return false;
        opcode = 0x0f00 | b;
        if (b == 0xb1)
            op = OP_CMPXCHG;
        else if (b == 0xab)
            op = OP_BTS;
        else if (b == 0xb3)
            op = OP_BTR;
        else if (b == 0xba)
            op = OP_BTS;                /* decided by the ModRM extension below */
        else
            return false;
        break;
    default:
        return false;
    }
    if (!fetch(&in, &modrm) || !skip_modrm_mem(&in, modrm))
        return false;
    if (opcode == 0x80 || opcode == 0x81 || opcode == 0x83 || opcode == 0x0fba) {
        /* Immediate forms: the ModRM reg field picks the operation. */
        unsigned ext = (modrm >> 3) & 7, n;
        if (opcode == 0x0fba)
            op = ext == 5 ? OP_BTS : ext == 6 ? OP_BTR : OP_MOV;
        else
            op = group1_op(ext);
        if (op == OP_MOV)
            return false;
        n = (opcode == 0x81 && size != 1) ? (size == 2 ? 2 : 4) : 1;
        for (unsigned i = 0; i < n; i++) {
            if (!fetch(&in, &b))
                return false;
            src |= (u64)b << (8 * i);
        }
        /* imm8 (83) and imm32 (81) sign-extend to the operand size. */
        if (opcode == 0x83 && (src & 0x80))
            src |= ~0xffULL;
        if (opcode == 0x81 && n == 4 && (src & 0x80000000u))
            src |= 0xffffffff00000000ULL;
    } else if (b == 0xc6 || b == 0xc7) {
        unsigned n = b == 0xc6 ? 1 : size == 2 ? 2 : 4;
        if ((modrm >> 3) & 7)
            return false;
        for (unsigned i = 0; i < n; i++) {
            if (!fetch(&in, &b))
                return false;
            src |= (u64)b << (8 * i);
        }
        if (n == 4 && size == 8 && (src & 0x80000000u))
            src |= 0xffffffff00000000ULL;       /* imm32 sign-extends */
    } else {
        reg = ((modrm >> 3) & 7) | rex_r;
        src = reg_read(regs, reg, size, rex);
    }

    if (addr & (size - 1))
        return false;                           /* straddles two entries */
    pte = (u64 *)maddr_to_virt(target << PAGE_SHIFT) + ((addr & (PAGE_SIZE - 1)) >> 3);
    old = *pte;
    shift = (addr & 7) * 8;
    mask = (size == 8 ? ~0ULL : (1ULL << (size * 8)) - 1) << shift;
    cur = (old & mask) >> shift;

    if (op == OP_CMPXCHG) {
        u64 acc = reg_read(regs, 0, size, rex);
        regs->rflags = (regs->rflags & ~(u64)EFLAGS_ARITH) | cmp_flags(acc, cur, size);
        if (acc != cur) {
            reg_write(regs, 0, size, rex, cur);
            regs->rip += in.len;
            return true;
        }
    }
    if (op == OP_AND || op == OP_OR || op == OP_XOR) {
        u64 flags;
        src = logic_op(op, cur, src, size, &flags);
        regs->rflags = (regs->rflags & ~(u64)EFLAGS_ARITH) | flags;
    } else if (op == OP_BTS || op == OP_BTR) {
        unsigned bit = (unsigned)(src & (size * 8 - 1));
        regs->rflags = (regs->rflags & ~1ULL) | ((cur >> bit) & 1);     /* CF = old bit */
        src = op == OP_BTS ? cur | (1ULL << bit) : cur & ~(1ULL << bit);
    }
    val = (old & ~mask) | ((src << shift) & mask);
    if (pt_update_entry(d, target, (addr & (PAGE_SIZE - 1)) >> 3, val, false, &flush))
        return false;
    if (op == OP_XCHG)
        reg_write(regs, reg, size, rex, cur);
    regs->rip += in.len;
    return true;
}

bool pv_ptwr_fault(struct vcpu *v, struct cpu_regs *regs, u64 addr, u32 error)
{
    bool handled;

    spin_lock(&v->domain->arch.pt_lock);
    handled = ptwr_fault_locked(v, regs, addr, error);
    spin_unlock(&v->domain->arch.pt_lock);
    return handled;
}
