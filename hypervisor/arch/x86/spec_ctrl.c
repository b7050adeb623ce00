/*
 * Speculative-execution issues: for now the L1TF handling of PV page
 * tables (asm/spec_ctrl.h); docs/spec-ctrl.md lists the other classes.
 *
 * Facts from Xen 4.17 (xen/arch/x86/spec_ctrl.c, asm/shadow.h, the
 * `pv-l1tf` entry of docs/misc/xen-command-line.pandoc) and Intel's L1TF
 * guidance: only Intel family 6 cores are affected, none that report
 * RDCL_NO in MSR_ARCH_CAPABILITIES; several families cache more address
 * bits in the L1D than CPUID's physical address width reports.
 */
#include <asm/io.h>
#include <asm/spec_ctrl.h>
#include <mica/bootinfo.h>
#include <mica/domain.h>
#include <mica/lib.h>
#include <mica/param.h>
#include <mica/percpu.h>

#define MSR_ARCH_CAPABILITIES 0x10a
#define ARCH_CAPS_RDCL_NO     (1ULL << 0)
#define CPUID7_EDX_ARCH_CAPS  (1u << 29)
#define PTE_PRESENT           (1ULL << 0)
#define PTE_PSE               (1ULL << 7)
#define PTE_FRAME_BITS        0x000ffffffffff000ULL

/* -1: not given on the command line (the default is worked out at boot). */
static int opt_pv_l1tf_hwdom = -1, opt_pv_l1tf_domu = -1;

/*
 * A crash decided under a page-table lock, carried out on this CPU's next
 * return to a guest, where no lock is held (crashing notifies dom0, which
 * takes event locks: they come before the page-table lock).
 */
struct l1tf_crash {
    bool pending;
    domid_t domid;
    unsigned level;
    u64 pte;
};
static DEFINE_PER_CPU(struct l1tf_crash, l1tf_crash);

/* Set once at boot, read-only afterwards. */
static bool cpu_has_bug_l1tf;
static unsigned l1d_addr_bits, cpu_paddr_bits;
static u64 l1tf_addr_mask, l1tf_safe_maddr;

/*
 * pv-l1tf = List of [ <bool>, dom0=<bool>, domu=<bool> ] (Xen 4.17's
 * syntax).  "pv-l1tf" alone means both.
 */
static int parse_pv_l1tf(const char *value, char *err, size_t errlen)
{
    char word[32];
    const char *s = value;

    if (!value || !*value) {
        opt_pv_l1tf_hwdom = opt_pv_l1tf_domu = 1;
        return 0;
    }
    while (*s) {
        size_t n = 0;
        bool b;
        int *which = NULL;
        const char *v;

        while (s[n] && s[n] != ',')
            n++;
        if (n >= sizeof(word)) {
            snprintf(err, errlen, "item too long; want a list of <bool>, dom0=<bool>, domu=<bool>");
            return -1;
        }
        memcpy(word, s, n);
        word[n] = 0;
        s += n + (s[n] == ',');
        if (!parse_bool(word, &b)) {
            opt_pv_l1tf_hwdom = opt_pv_l1tf_domu = b;
            continue;
        }
        v = word;
        b = true;
        if (!strncmp(v, "no-", 3)) {
            b = false;
            v += 3;
        }
        if (!strncmp(v, "dom0", 4))
            which = &opt_pv_l1tf_hwdom;
        else if (!strncmp(v, "domu", 4))
            which = &opt_pv_l1tf_domu;
        if (!which || (v[4] && (v[4] != '=' || !b || parse_bool(v + 5, &b)))) {
            snprintf(err, errlen, "'%s' is not <bool>, dom0[=<bool>] or domu[=<bool>]", word);
            return -1;
        }
        *which = b;
    }
    return 0;
}
custom_param("pv-l1tf", parse_pv_l1tf);

/*
 * Family 6 models: how many address bits their L1D caches (0: the CPUID
 * width), or -1 for the ones not affected.  Models not listed are
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

static void l1tf_init(const struct boot_info *bi)
{
    u32 a, b, c, d, max, family, model;
    char vendor[13];
    int bits = -1;

    cpuid(0, 0, &max, &b, &c, &d);
    memcpy(vendor, &b, 4);
    memcpy(vendor + 4, &d, 4);
    memcpy(vendor + 8, &c, 4);
    vendor[12] = 0;
    cpuid(1, 0, &a, &b, &c, &d);
    family = (a >> 8) & 0xf;
    model = ((a >> 4) & 0xf) | (family == 6 || family == 0xf ? ((a >> 12) & 0xf0) : 0);
    cpuid(0x80000000, 0, &a, &b, &c, &d);
    cpu_paddr_bits = 36;
    if (a >= 0x80000008) {
        cpuid(0x80000008, 0, &a, &b, &c, &d);
        cpu_paddr_bits = a & 0xff;
    }
    if (!strcmp(vendor, "GenuineIntel") && family == 6)
        bits = intel_l1d_bits(model);
    if (bits >= 0 && max >= 7) {
        cpuid(7, 0, &a, &b, &c, &d);
        if ((d & CPUID7_EDX_ARCH_CAPS) && (rdmsr(MSR_ARCH_CAPABILITIES) & ARCH_CAPS_RDCL_NO))
            bits = -1;
    }
    cpu_has_bug_l1tf = bits >= 0;
    l1d_addr_bits = bits > 0 ? (unsigned)bits : cpu_paddr_bits;
    l1tf_addr_mask = ((1ULL << l1d_addr_bits) - 1) & PTE_FRAME_BITS;
    /*
     * The lowest address that cannot hit cacheable data.  Where the L1D
     * takes more bits than the CPUID width, any address past that width;
     * otherwise Xen's guess that nothing cacheable lives in the top quarter
     * of the physical address space.  Never below the end of the
     * firmware's memory map.
     */
    l1tf_safe_maddr = l1d_addr_bits > cpu_paddr_bits ? 1ULL << cpu_paddr_bits
                                                    : 3ULL << (cpu_paddr_bits - 2);
    if (bi->nr_mmap) {
        const struct boot_mmap_entry *e = &bi->mmap[bi->nr_mmap - 1];
        u64 end = (e->addr + e->len + 0xfff) & ~0xfffULL;
        if (end > l1tf_safe_maddr)
            l1tf_safe_maddr = end;
    }
}

void spec_ctrl_init(const struct boot_info *bi)
{
    l1tf_init(bi);
    /* Xen 4.17's defaults: dom0 is trusted, domUs checked where it matters. */
    if (opt_pv_l1tf_hwdom < 0)
        opt_pv_l1tf_hwdom = 0;
    if (opt_pv_l1tf_domu < 0)
        opt_pv_l1tf_domu = cpu_has_bug_l1tf;
    printk("L1TF: CPU believed%s affected, L1D address bits %u, CPUID %u, safe address %#llx\n",
           cpu_has_bug_l1tf ? "" : " not", l1d_addr_bits, cpu_paddr_bits,
           (unsigned long long)l1tf_safe_maddr);
    printk("PV L1TF checks (pv-l1tf): dom0 %s, domU %s; an unsafe non-present entry crashes the domain\n",
           opt_pv_l1tf_hwdom ? "on" : "off", opt_pv_l1tf_domu ? "on" : "off");
}

bool pv_l1tf_unsafe(const struct domain *d, unsigned level, u64 pte)
{
    u64 maddr;

    if (pte & PTE_PRESENT)
        return false;
    if (!(d->domid == 0 ? opt_pv_l1tf_hwdom : opt_pv_l1tf_domu))
        return false;
    if (level > 1 && (pte & PTE_PSE))
        return true;
    /* Frame 0 is the real-mode IVT and BIOS data: nothing secret, as for Xen. */
    maddr = pte & l1tf_addr_mask;
    return maddr != 0 && maddr < l1tf_safe_maddr;
}

void pv_l1tf_defer_crash(const struct domain *d, unsigned level, u64 pte)
{
    struct l1tf_crash *c = &this_cpu(l1tf_crash);

    if (c->pending)
        return;                         /* the first one names the entry */
    c->domid = d->domid;
    c->level = level;
    c->pte = pte;
    c->pending = true;
}

void pv_l1tf_crash_deferred(void)
{
    struct l1tf_crash *c = &this_cpu(l1tf_crash);
    struct domain *d;

    if (!c->pending)
        return;
    c->pending = false;
    d = domain_by_id(c->domid);
    if (d && !d->is_dying)
        domain_crash(d, "L1TF-vulnerable L%u entry %#llx (non-present, naming host memory)",
                     c->level, (unsigned long long)c->pte);
}
