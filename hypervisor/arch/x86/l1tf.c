/*
 * L1TF rules for PV page tables (asm/l1tf.h).
 *
 * Facts from Xen 4.17 (xen/arch/x86/spec_ctrl.c's L1TF calculations,
 * asm/shadow.h's PV checks, the `pv-l1tf` entry of
 * docs/misc/xen-command-line.pandoc) and Intel's L1TF guidance: only
 * Intel family 6 cores are affected, none that report RDCL_NO; several
 * families look up more address bits in the L1D than CPUID's physical
 * address width reports.
 */
#include <asm/l1tf.h>
#include <asm/spec_opts.h>
#include <mica/lib.h>
#include <mica/param.h>

#define PTE_PRESENT    (1ULL << 0)
#define PTE_PSE        (1ULL << 7)
#define PTE_FRAME_BITS 0x000ffffffffff000ULL

/*
 * Family 6 models: how many address bits their L1D looks up (0: the
 * CPUID width), or -1 for those not affected.  Models not listed are
 * assumed affected, with the CPUID width.
 */
static int intel_l1d_bits(unsigned model)
{
    static const u8 l1d44[] = { 0x1a, 0x1e, 0x1f, 0x25, 0x2c, 0x2e, 0x2f };
    static const u8 l1d46[] = { 0x2a, 0x2d, 0x3a, 0x3c, 0x3d, 0x3e, 0x3f, 0x45, 0x46, 0x47,
                                0x4e, 0x4f, 0x55, 0x56, 0x5e, 0x66, 0x67, 0x8e, 0x9e };
    /* Atoms (Bonnell to Goldmont Plus) and Xeon Phi (Knights). */
    static const u8 unaffected[] = { 0x1c, 0x26, 0x27, 0x35, 0x36, 0x37, 0x4a, 0x4c, 0x4d,
                                     0x5a, 0x5c, 0x5f, 0x7a, 0x57, 0x85 };

    for (unsigned i = 0; i < ARRAY_SIZE(l1d44); i++)
        if (model == l1d44[i])
            return 44;
    for (unsigned i = 0; i < ARRAY_SIZE(l1d46); i++)
        if (model == l1d46[i])
            return 46;
    for (unsigned i = 0; i < ARRAY_SIZE(unaffected); i++)
        if (model == unaffected[i])
            return -1;
    return 0;                           /* Penryn, Dunnington, and unknown ones */
}

void l1tf_compute(const struct l1tf_cpu *c, struct l1tf_state *s)
{
    int bits = c->intel && c->family == 6 && !c->rdcl_no ? intel_l1d_bits(c->model) : -1;
    unsigned paddr = c->paddr_bits >= 12 && c->paddr_bits <= 52 ? c->paddr_bits : 36;

    s->affected = bits >= 0;
    s->l1d_bits = bits > 0 ? (unsigned)bits : paddr;
    s->addr_mask = ((1ULL << s->l1d_bits) - 1) & PTE_FRAME_BITS;
    /*
     * The lowest address that cannot hit cacheable data.  Where the L1D
     * looks up more bits than the CPUID width, any address past that
     * width; otherwise Xen's guess that nothing cacheable lives in the
     * top quarter of the physical address space.  Never below the end of
     * the firmware's memory map.
     */
    s->safe_maddr = s->l1d_bits > paddr ? 1ULL << paddr : 3ULL << (paddr - 2);
    if (c->mmap_end) {
        u64 end = (c->mmap_end + 0xfff) & ~0xfffULL;
        if (end > s->safe_maddr)
            s->safe_maddr = end;
    }
}

bool l1tf_pte_unsafe(const struct l1tf_state *s, unsigned level, u64 pte)
{
    u64 maddr;

    if (pte & PTE_PRESENT)
        return false;
    if (level > 1 && (pte & PTE_PSE))
        return true;
    /* Frame 0 is the real-mode IVT and BIOS data: nothing secret, as for Xen. */
    maddr = pte & s->addr_mask;
    return maddr != 0 && maddr < s->safe_maddr;
}

int l1tf_parse_option(const char *value, int *hwdom, int *domu, char *err, size_t errlen)
{
    return spec_dom_list_parse(value, false, hwdom, domu, err, errlen);
}
