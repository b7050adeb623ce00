/*
 * domctl get/set_vcpu_msrs (save/restore's X86_PV_VCPU_MSRS) and the
 * TSC_AUX MSR behind it, dom0 as the toolstack and as a guest:
 *   - our own TSC_AUX: when our CPUID offers RDTSCP or RDPID, WRMSR sets
 *     it, RDMSR and RDTSCP read it back, a value above 32 bits is #GP and
 *     leaves it; without them RDMSR and WRMSR of it are #GP;
 *   - a new domain's vCPU 0: a null array asks for the most entries
 *     (Xen 4.17's seven MSRs, eleven with AMD's DR address masks); a
 *     fresh vCPU has none to report (zero values are not sent); TSC_AUX
 *     set reads back as one entry, a short array is -ENOBUFS with the
 *     count needed; set stops at the first entry it cannot take with
 *     -EINVAL and msr_count its index (an MSR outside the list, a
 *     reserved field, a value above 32 bits), keeping the entries before
 *     it; more entries than the list is -EINVAL; vCPU 1 of a one-vCPU
 *     domain and an unknown domain are -ESRCH, our own running vCPU
 *     -EINVAL.  The domain goes and its memory comes back.
 */
#include "toolstack.h"

#define MSR_TSC_AUX 0xc0000103u
#define MSR_PAT     0x00000277u

static struct xen_domctl_vcpu_msr buf[16];
static uint64_t probe_val;

static long msrs(uint32_t cmd, domid_t dom, uint32_t vcpu, uint32_t count, bool with_buf)
{
    memset(&ts_op, 0, sizeof(ts_op));
    ts_op.u.vcpu_msrs.vcpu = vcpu;
    ts_op.u.vcpu_msrs.msr_count = count;
    ts_op.u.vcpu_msrs.msrs = with_buf ? (uint64_t)buf : 0;
    return ts_domctl(cmd, dom);
}

static void put(unsigned i, uint32_t index, uint64_t value)
{
    buf[i].index = index;
    buf[i].reserved = 0;
    buf[i].value = value;
}

/* Our own TSC_AUX through RDMSR: the vector caught, or -1 (value in probe_val). */
static int rdmsr_aux(void)
{
    return TRAP_PROBE("movl $0xc0000103, %%ecx; 9990: rdmsr; shlq $32, %%rdx; "
                      "movl %%eax, %%eax; orq %%rdx, %%rax; movq %%rax, probe_val(%%rip)");
}

static int wrmsr_aux(void)
{
    return TRAP_PROBE("movl $0xc0000103, %%ecx; movq probe_val(%%rip), %%rax; "
                      "movq %%rax, %%rdx; shrq $32, %%rdx; 9990: wrmsr");
}

static uint32_t rdtscp_aux(void)
{
    uint32_t lo, hi, aux;
    __asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux));
    return aux;
}

enum result test_main(void)
{
    uint32_t r[4];
    bool rdtscp = false, rdpid = false;

    REQUIRE_EQ(traps_install(), 0);
    map_shared_info();
    pv_cpuid(0x80000000, 0, r);
    if (r[0] >= 0x80000001) {
        pv_cpuid(0x80000001, 0, r);
        rdtscp = (r[3] >> 27) & 1;
    }
    pv_cpuid(0, 0, r);
    if (r[0] >= 7) {
        pv_cpuid(7, 0, r);
        rdpid = (r[2] >> 22) & 1;
    }
    bool aux = rdtscp || rdpid;
    printk("RDTSCP %d RDPID %d\n", rdtscp, rdpid);

    /* ---- our own TSC_AUX ---- */
    if (aux) {
        probe_val = 0x5a5a17;
        CHECK_EQ(wrmsr_aux(), -1);
        probe_val = 0;
        CHECK_EQ(rdmsr_aux(), -1);
        CHECK_EQ(probe_val, 0x5a5a17);
        if (rdtscp)
            CHECK_EQ(rdtscp_aux(), 0x5a5a17);
        probe_val = 1UL << 32;
        CHECK_EQ(wrmsr_aux(), 13);
        CHECK_EQ(rdmsr_aux(), -1);
        CHECK_EQ(probe_val, 0x5a5a17);
        probe_val = 0;
        CHECK_EQ(wrmsr_aux(), -1);
    } else {
        CHECK_EQ(rdmsr_aux(), 13);
        probe_val = 1;
        CHECK_EQ(wrmsr_aux(), 13);
    }

    uint64_t free_before = physinfo_free_pages();
    REQUIRE_EQ(ts_create(), 0);
    domid_t id = ts_op.domain;
    printk("created d%u\n", id);

    /* ---- how many there can be; a fresh vCPU has none to send ---- */
    CHECK_EQ(msrs(XEN_DOMCTL_get_vcpu_msrs, id, 0, 0, false), 0);
    uint32_t max = ts_op.u.vcpu_msrs.msr_count;
    CHECK(max == 7 || max == 11, "max msr_count %u, wanted 7 (11 with DBEXT)", max);
    CHECK_EQ(ts_op.domain, id);
    CHECK_EQ(msrs(XEN_DOMCTL_get_vcpu_msrs, id, 0, 16, true), 0);
    CHECK_EQ(ts_op.u.vcpu_msrs.msr_count, 0);
    CHECK_EQ(msrs(XEN_DOMCTL_set_vcpu_msrs, id, 0, 0, true), 0);

    if (aux) {
        /* ---- TSC_AUX set, read back ---- */
        put(0, MSR_TSC_AUX, 0x42);
        CHECK_EQ(msrs(XEN_DOMCTL_set_vcpu_msrs, id, 0, 1, true), 0);
        memset(buf, 0xff, sizeof(buf));
        CHECK_EQ(msrs(XEN_DOMCTL_get_vcpu_msrs, id, 0, 16, true), 0);
        CHECK_EQ(ts_op.u.vcpu_msrs.msr_count, 1);
        CHECK_EQ(buf[0].index, MSR_TSC_AUX);
        CHECK_EQ(buf[0].reserved, 0);
        CHECK_EQ(buf[0].value, 0x42);
        /* A buffer too short: the count needed. */
        CHECK_EQ(msrs(XEN_DOMCTL_get_vcpu_msrs, id, 0, 0, true), -XEN_ENOBUFS);
        CHECK_EQ(ts_op.u.vcpu_msrs.msr_count, 1);
        /* The entries before a bad one are taken. */
        put(0, MSR_TSC_AUX, 0x43);
        put(1, MSR_PAT, 0);
        CHECK_EQ(msrs(XEN_DOMCTL_set_vcpu_msrs, id, 0, 2, true), -XEN_EINVAL);
        CHECK_EQ(ts_op.u.vcpu_msrs.msr_count, 1);
        put(0, MSR_TSC_AUX, 1UL << 32);
        CHECK_EQ(msrs(XEN_DOMCTL_set_vcpu_msrs, id, 0, 1, true), -XEN_EINVAL);
        CHECK_EQ(ts_op.u.vcpu_msrs.msr_count, 0);
        put(0, MSR_TSC_AUX, 0x44);
        buf[0].reserved = 1;
        CHECK_EQ(msrs(XEN_DOMCTL_set_vcpu_msrs, id, 0, 1, true), -XEN_EINVAL);
        CHECK_EQ(ts_op.u.vcpu_msrs.msr_count, 0);
        CHECK_EQ(msrs(XEN_DOMCTL_get_vcpu_msrs, id, 0, 16, true), 0);
        CHECK_EQ(ts_op.u.vcpu_msrs.msr_count, 1);
        CHECK_EQ(buf[0].value, 0x43);
        /* Zero again: nothing to send. */
        put(0, MSR_TSC_AUX, 0);
        CHECK_EQ(msrs(XEN_DOMCTL_set_vcpu_msrs, id, 0, 1, true), 0);
        CHECK_EQ(msrs(XEN_DOMCTL_get_vcpu_msrs, id, 0, 16, true), 0);
        CHECK_EQ(ts_op.u.vcpu_msrs.msr_count, 0);
    } else {
        put(0, MSR_TSC_AUX, 0x42);
        CHECK_EQ(msrs(XEN_DOMCTL_set_vcpu_msrs, id, 0, 1, true), -XEN_EINVAL);
        CHECK_EQ(ts_op.u.vcpu_msrs.msr_count, 0);
    }

    /* ---- refused ---- */
    put(0, MSR_PAT, 0);
    CHECK_EQ(msrs(XEN_DOMCTL_set_vcpu_msrs, id, 0, 1, true), -XEN_EINVAL);
    CHECK_EQ(ts_op.u.vcpu_msrs.msr_count, 0);
    CHECK_EQ(msrs(XEN_DOMCTL_set_vcpu_msrs, id, 0, max + 1, true), -XEN_EINVAL);
    CHECK_EQ(msrs(XEN_DOMCTL_get_vcpu_msrs, id, 1, 16, true), -XEN_ESRCH);
    CHECK_EQ(msrs(XEN_DOMCTL_set_vcpu_msrs, id, 1, 0, true), -XEN_ESRCH);
    CHECK_EQ(msrs(XEN_DOMCTL_get_vcpu_msrs, 0, 0, 16, true), -XEN_EINVAL);   /* running */
    CHECK_EQ(msrs(XEN_DOMCTL_set_vcpu_msrs, 0, 0, 0, true), -XEN_EINVAL);
    CHECK_EQ(msrs(XEN_DOMCTL_get_vcpu_msrs, 0x7000, 0, 16, true), -XEN_ESRCH);

    CHECK_EQ(ts_destroy(id), 0);
    CHECK(TS_SETTLE(ts_gone(id)), "d%u still there after destroydomain", id);
    CHECK(ts_memory_back(free_before), "free pages %lu, before %lu", physinfo_free_pages(),
          free_before);
    return RESULT_SUCCESS;
}
