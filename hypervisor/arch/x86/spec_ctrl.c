/*
 * Speculative-execution issues: the L1TF handling of PV page tables
 * (asm/spec_ctrl.h; the rules themselves in l1tf.c), and for Spectre v2
 * the choice of indirect-branch thunk and the RSB overwrite on entry from
 * guests (indirect_thunk.S, asm/spec_entry.h; `spec-ctrl=`, spec_opts.c),
 * and for Spectre v1 the branch-hardening barriers (mica/nospec.h).
 * docs/spec-ctrl.md lists the other classes.
 */
#include <asm/indirect_thunk.h>
#include <asm/io.h>
#include <asm/l1tf.h>
#include <asm/paging.h>
#include <asm/spec_ctrl.h>
#include <asm/spec_opts.h>
#include <mica/bootinfo.h>
#include <mica/domain.h>
#include <mica/lib.h>
#include <mica/param.h>
#include <mica/percpu.h>

#define MSR_ARCH_CAPABILITIES 0x10a
#define ARCH_CAPS_RDCL_NO     (1ULL << 0)
#define CPUID7_EDX_ARCH_CAPS  (1u << 29)

/* -1: not given on the command line (the default is worked out at boot). */
static int opt_pv_l1tf_hwdom = -1, opt_pv_l1tf_domu = -1;

/* Set once at boot, read-only afterwards. */
static struct l1tf_state l1tf;

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

static int parse_pv_l1tf(const char *value, char *err, size_t errlen)
{
    return l1tf_parse_option(value, &opt_pv_l1tf_hwdom, &opt_pv_l1tf_domu, err, errlen);
}
custom_param("pv-l1tf", parse_pv_l1tf);

/* `xpti=` (Xen 4.17's option); -1: not given, the default is worked out at boot. */
static int opt_xpti_hwdom = -1, opt_xpti_domu = -1;

static int parse_xpti(const char *value, char *err, size_t errlen)
{
    return xpti_parse_option(value, &opt_xpti_hwdom, &opt_xpti_domu, err, errlen);
}
custom_param("xpti", parse_xpti);

/* The `spec-ctrl=` options, in command-line order; applied in spec_ctrl_init(). */
static struct spec_opts spec_opts = { .thunk = BTI_THUNK_DEFAULT, .rsb_pv = -1, .branch_harden = -1 };

static int parse_spec_ctrl(const char *value, char *err, size_t errlen)
{
    return spec_opts_parse(value, &spec_opts, err, errlen);
}
custom_param("spec-ctrl", parse_spec_ctrl);

/*
 * Writes len (4 or 8) bytes of code at text (len-aligned) through the
 * direct map: the image's own mapping of its text is read-only.  One
 * aligned store, so an NMI that runs the code meanwhile sees the old bytes
 * or the new ones, never half of each.
 */
static void patch_text(u64 text, const u8 *bytes, size_t len)
{
    void *alias = maddr_to_virt(virt_to_maddr((const void *)(uintptr_t)text));

    ASSERT((len == 4 || len == 8) && !(text & (len - 1)));
    if (len == 8) {
        u64 v;
        memcpy(&v, bytes, 8);
        __atomic_store_n((u64 *)alias, v, __ATOMIC_RELAXED);
    } else {
        u32 v;
        memcpy(&v, bytes, 4);
        __atomic_store_n((u32 *)alias, v, __ATOMIC_RELAXED);
    }
    /* Read back where the CPU fetches it: the alias must be the same frame. */
    if (memcmp((const void *)(uintptr_t)text, bytes, len))
        panic("patching the code at %#llx did not take\n", (unsigned long long)text);
}

/*
 * Each evaluate_nospec() barrier (asm/nospec.h): checked to be the LFENCE
 * it was assembled as, and with branch-harden off replaced by a NOP of the
 * same length (the fourth byte, the next instruction's, is kept).
 * Returns the number of sites.
 */
static unsigned patch_nospec_sites(bool harden)
{
    static const u8 lfence[3] = { 0x0f, 0xae, 0xe8 }, nop3[3] = { 0x0f, 0x1f, 0x00 };
    unsigned n = 0;

    for (const u64 *site = __nospec_sites_start; site < __nospec_sites_end; site++, n++) {
        const u8 *code = (const u8 *)(uintptr_t)*site;
        u8 word[4];

        if ((*site & 3) || memcmp(code, lfence, 3))
            panic("branch-harden site %#llx is not an aligned LFENCE\n", (unsigned long long)*site);
        if (harden)
            continue;
        memcpy(word, nop3, 3);
        word[3] = code[3];
        patch_text(*site, word, 4);
    }
    return n;
}

/*
 * Puts the chosen body into every thunk, skips the RSB overwrites if
 * they are off and removes the branch-hardening barriers if they are off;
 * returns the number of barrier sites.  Runs once, on the boot CPU before the others start and
 * before any guest exists, so no other CPU can be inside the code being
 * changed (the reason Mica needs no alternatives framework for this).
 */
static unsigned apply_spec_choices(enum bti_thunk thunk, bool rsb_pv, bool branch_harden)
{
    u32 a, b, c, d;
    unsigned nospec_sites;

    if (thunk != BTI_THUNK_RETPOLINE)
        for (const struct thunk_body *t = thunk_bodies; t < thunk_bodies_end; t++)
            patch_text(t->thunk, thunk == BTI_THUNK_LFENCE ? t->lfence : t->jmp, 8);
    for (const struct rsb_site *r = __rsb_sites_start; r < __rsb_sites_end; r++) {
        /* jmp rel8 over the sequence; the int3s after it are never reached. */
        u8 skip[8] = { 0xeb, (u8)(r->len - 2), 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc };

        /* The assembler cannot check this: the sequence's jnz is relaxable. */
        if (r->len < 8 || r->len - 2 > 127)
            panic("RSB_OVERWRITE at %#llx is %llu bytes: not skippable by a short jump\n",
                  (unsigned long long)r->addr, (unsigned long long)r->len);
        if (!rsb_pv)
            patch_text(r->addr, skip, 8);
    }
    nospec_sites = patch_nospec_sites(branch_harden);
    /* Serialising: no copy of the old code fetched before the stores stays in use. */
    cpuid(0, 0, &a, &b, &c, &d);
    return nospec_sites;
}

static void read_cpu(const struct boot_info *bi, struct l1tf_cpu *c)
{
    u32 a, b, cx, d, max;
    char vendor[13];

    memset(c, 0, sizeof(*c));
    cpuid(0, 0, &max, &b, &cx, &d);
    memcpy(vendor, &b, 4);
    memcpy(vendor + 4, &d, 4);
    memcpy(vendor + 8, &cx, 4);
    vendor[12] = 0;
    c->intel = !strcmp(vendor, "GenuineIntel");
    c->amd_or_hygon = !strcmp(vendor, "AuthenticAMD") || !strcmp(vendor, "HygonGenuine");
    cpuid(1, 0, &a, &b, &cx, &d);
    c->family = (a >> 8) & 0xf;
    c->model = ((a >> 4) & 0xf) | (c->family == 6 || c->family == 0xf ? ((a >> 12) & 0xf0) : 0);
    if (c->family == 0xf)
        c->family += (a >> 20) & 0xff;
    cpuid(0x80000000, 0, &a, &b, &cx, &d);
    c->paddr_bits = 36;
    if (a >= 0x80000008) {
        cpuid(0x80000008, 0, &a, &b, &cx, &d);
        c->paddr_bits = a & 0xff;
    }
    /* The MSR exists only where CPUID says so. */
    if (max >= 7) {
        cpuid(7, 0, &a, &b, &cx, &d);
        if (d & CPUID7_EDX_ARCH_CAPS)
            c->rdcl_no = rdmsr(MSR_ARCH_CAPABILITIES) & ARCH_CAPS_RDCL_NO;
    }
    if (bi->nr_mmap)
        c->mmap_end = bi->mmap[bi->nr_mmap - 1].addr + bi->mmap[bi->nr_mmap - 1].len;
}

/*
 * The speculation controls the CPU advertises, printed as Xen's
 * "Hardware features" line is, so a log shows what a mitigation could have
 * used.  Mica uses none of them yet (docs/spec-ctrl.md; its retpolines and
 * RSB overwrite need no MSR); under QEMU's TCG the list is empty.
 */
static void print_spec_features(void)
{
    static const struct { u32 leaf; u8 reg, bit; const char *name; } bits[] = {
        { 7, 3, 26, "IBRS/IBPB" }, { 7, 3, 27, "STIBP" }, { 7, 3, 28, "L1D_FLUSH" },
        { 7, 3, 29, "ARCH_CAPS" }, { 7, 3, 31, "SSBD" }, { 7, 3, 10, "MD_CLEAR" },
        { 0x80000008, 1, 12, "IBPB" }, { 0x80000008, 1, 14, "IBRS" },
        { 0x80000008, 1, 15, "STIBP" }, { 0x80000008, 1, 24, "AMD_SSBD" },
        { 0x80000008, 1, 25, "VIRT_SSBD" },
    };
    char line[160];
    size_t n = 0;
    u32 max, max_ext, r[4];

    cpuid(0, 0, &max, &r[1], &r[2], &r[3]);
    cpuid(0x80000000, 0, &max_ext, &r[1], &r[2], &r[3]);
    line[0] = '\0';
    for (unsigned i = 0; i < ARRAY_SIZE(bits); i++) {
        if (bits[i].leaf < 0x80000000 ? max < bits[i].leaf : max_ext < bits[i].leaf)
            continue;
        cpuid(bits[i].leaf, 0, &r[0], &r[1], &r[2], &r[3]);
        if ((r[bits[i].reg] >> bits[i].bit) & 1)
            n += (size_t)snprintf(line + n, sizeof(line) - n, " %s", bits[i].name);
        if (n >= sizeof(line))
            break;
    }
    printk("Speculation controls the CPU offers:%s (Mica uses none of them)\n",
           line[0] ? line : " none");
}

void spec_ctrl_init(const struct boot_info *bi)
{
    struct l1tf_cpu cpu;
    enum bti_thunk thunk = spec_opts.thunk;
    bool rsb_pv = spec_opts.rsb_pv != 0;
    /* Xen's default wherever HARDEN_BRANCH is compiled in, as it is here. */
    bool branch_harden = spec_opts.branch_harden != 0;
    unsigned nospec_sites;

    /*
     * Xen 4.17 prefers retpoline unless it uses IBRS instead (CET, or a
     * CPU where retpoline is unsafe and IBRS exists); Mica has no IBRS,
     * so retpoline it is.  RSB overwrite on PV entry: Xen's default
     * wherever it lacks SMEP, and Mica never uses SMEP (asm/spec_entry.h).
     */
    if (thunk == BTI_THUNK_DEFAULT)
        thunk = BTI_THUNK_RETPOLINE;
    nospec_sites = apply_spec_choices(thunk, rsb_pv, branch_harden);
    /* Xen's `spec-ctrl=no` turns off what pv-l1tf does unless that was given. */
    if (spec_opts.all_off) {
        if (opt_pv_l1tf_hwdom < 0)
            opt_pv_l1tf_hwdom = 0;
        if (opt_pv_l1tf_domu < 0)
            opt_pv_l1tf_domu = 0;
    }

    read_cpu(bi, &cpu);
    xpti_resolve_default(cpu.amd_or_hygon, cpu.rdcl_no, spec_opts.all_off, &opt_xpti_hwdom,
                         &opt_xpti_domu);
    print_spec_features();
    if (spec_opts.ignored[0])
        pr_warn("spec-ctrl: %s: not implemented by Mica, ignored (docs/spec-ctrl.md)\n",
                spec_opts.ignored);
    /* Xen's words, so that logs of both compare line by line. */
    printk("Speculative mitigation settings (spec-ctrl):\n");
    printk("  Compiled-in support: INDIRECT_THUNK RETURN_THUNK HARDEN_ARRAY HARDEN_BRANCH HARDEN_GUEST_ACCESS\n");
    printk("  Mica settings: BTI-Thunk: %s, SPEC_CTRL: No, Other:%s\n", bti_thunk_name(thunk),
           branch_harden ? " BRANCH_HARDEN" : "");
    printk("  Support for PV VMs:%s EAGER_FPU\n", rsb_pv ? " RSB" : "");
    /* Mica never uses PCID: every CR3 switch of XPTI flushes the TLB, as Xen's xpti without pcid=. */
    printk("  XPTI (64-bit PV only): Dom0 %s, DomU %s (without PCID)\n",
           opt_xpti_hwdom ? "enabled" : "disabled", opt_xpti_domu ? "enabled" : "disabled");
    printk("Branch hardening (spec-ctrl=branch-harden): %u barrier sites, %s\n", nospec_sites,
           branch_harden ? "LFENCE" : "patched to NOPs");
    l1tf_compute(&cpu, &l1tf);
    /* Xen 4.17's defaults: dom0 is trusted, domUs checked where it matters. */
    if (opt_pv_l1tf_hwdom < 0)
        opt_pv_l1tf_hwdom = 0;
    if (opt_pv_l1tf_domu < 0)
        opt_pv_l1tf_domu = l1tf.affected;
    printk("L1TF: CPU believed%s affected, L1D address bits %u, CPUID %u, safe address %#llx\n",
           l1tf.affected ? "" : " not", l1tf.l1d_bits, cpu.paddr_bits,
           (unsigned long long)l1tf.safe_maddr);
    printk("PV L1TF checks (pv-l1tf): dom0 %s, domU %s; an unsafe non-present entry crashes the domain\n",
           opt_pv_l1tf_hwdom ? "on" : "off", opt_pv_l1tf_domu ? "on" : "off");
}

bool spec_xpti_any(void)
{
    return opt_xpti_hwdom > 0 || opt_xpti_domu > 0;
}

void arch_domain_spec_init(struct domain *d)
{
    /* Xen's hardware domain is dom0 here, as for pv-l1tf. */
    d->arch.xpti = (d->domid == 0 ? opt_xpti_hwdom : opt_xpti_domu) > 0;
}

bool pv_l1tf_unsafe(const struct domain *d, unsigned level, u64 pte)
{
    if (!(d->domid == 0 ? opt_pv_l1tf_hwdom : opt_pv_l1tf_domu))
        return false;
    return l1tf_pte_unsafe(&l1tf, level, pte);
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
