/*
 * Hypercall 48, `mca` (machine-check telemetry), as a Linux dom0 uses it
 * (drivers/xen/mcelog.c: XEN_MC_physcpuinfo with a null buffer for the
 * CPU count, then with a buffer for the records; XEN_MC_fetch, urgent and
 * not, until XEN_MC_NODATA) and with hostile arguments: a wrong interface
 * version, an unreadable argument, a buffer of no CPUs, bad fetch flags,
 * a fetch without a buffer, notifydomain and unknown commands.  Nothing
 * is queued on either hypervisor here (no machine check happened), so
 * every fetch answers flags NODATA (only), fetch_id 0, and an ACK of
 * nothing answers 0.  Checked on both: the CPU count is physinfo's, records go to
 * the online CPUs in order and no further, CPU 0's record carries the
 * CPUID vendor string, Xen's vendor number, family, model and stepping
 * the guest's own CPUID shows, and APIC ID 0.
 */
#include "guest.h"
#include <public/xen_mca.h>

#define MAX_REC 8

static struct xen_mc op;
static struct mcinfo_logical_cpu rec[MAX_REC + 2];

static long mca(void *arg)
{
    return HC(__HYPERVISOR_mca, arg, 0, 0);
}

static void prepare(uint32_t cmd)
{
    memset(&op, 0, sizeof(op));
    op.cmd = cmd;
    op.interface_version = XEN_MCA_INTERFACE_VERSION;
}

static uint32_t vendor_number(const char *id)
{
    if (!memcmp(id, "GenuineIntel", 12)) return 1u << 0;
    if (!memcmp(id, "AuthenticAMD", 12)) return 1u << 1;
    if (!memcmp(id, "CentaurHauls", 12)) return 1u << 2;
    if (!memcmp(id, "  Shanghai  ", 12)) return 1u << 3;
    if (!memcmp(id, "HygonGenuine", 12)) return 1u << 4;
    return 0;
}

/* Where a record would go (struct mc_info, 3 KiB and a bit); never written here. */
static uint8_t mc_info_buf[4096] __attribute__((aligned(4096)));

static void fetch_nodata(uint32_t which, const char *what)
{
    prepare(XEN_MC_fetch);
    op.u.mc_fetch.flags = which;
    op.u.mc_fetch.fetch_id = 0x1234;
    CHECK_EQ(mca(&op), -XEN_EINVAL);          /* no buffer */
    prepare(XEN_MC_fetch);
    op.u.mc_fetch.flags = which;
    op.u.mc_fetch.fetch_id = 0x1234;
    op.u.mc_fetch.data = (uint64_t)mc_info_buf;
    memset(mc_info_buf, 0x5a, sizeof(mc_info_buf));
    CHECK_EQ(mca(&op), 0);
    printk("fetch %s: flags %#x, fetch_id %#lx\n", what, op.u.mc_fetch.flags,
           (unsigned long)op.u.mc_fetch.fetch_id);
    CHECK_EQ(op.u.mc_fetch.flags, XEN_MC_NODATA);
    CHECK_EQ(op.u.mc_fetch.fetch_id, 0);
    CHECK_EQ(mc_info_buf[0], 0x5a);
    /* An acknowledgement of nothing: 0, the argument left as it was. */
    prepare(XEN_MC_fetch);
    op.u.mc_fetch.flags = which | XEN_MC_ACK;
    CHECK_EQ(mca(&op), 0);
    CHECK_EQ(op.u.mc_fetch.flags, which | XEN_MC_ACK);
}

enum result test_main(void)
{
    uint32_t r[4], fam, model, n = physinfo_nr_cpus();
    char vendor[13];

    REQUIRE(n >= 1 && n <= MAX_REC, "physinfo says %u CPUs", n);

    /* Refusals, in Xen's order. */
    prepare(XEN_MC_physcpuinfo);
    op.interface_version = XEN_MCA_INTERFACE_VERSION + 1;
    CHECK_EQ(mca(&op), -XEN_EACCES);
    CHECK_EQ(mca((void *)0xffff800000000000UL), -XEN_EFAULT);
    prepare(XEN_MC_notifydomain);
    CHECK_EQ(mca(&op), -XEN_EINVAL);
    prepare(99);
    CHECK_EQ(mca(&op), -XEN_EINVAL);

    /* How many CPUs: a null buffer. */
    prepare(XEN_MC_physcpuinfo);
    CHECK_EQ(mca(&op), 0);
    printk("physcpuinfo: %u CPUs (physinfo: %u)\n", op.u.mc_physcpuinfo.ncpus, n);
    CHECK_EQ(op.u.mc_physcpuinfo.ncpus, n);

    /* A buffer with room for none. */
    prepare(XEN_MC_physcpuinfo);
    op.u.mc_physcpuinfo.info = (uint64_t)rec;
    CHECK_EQ(mca(&op), -XEN_EINVAL);

    /* Room for more than there are: n records, the rest untouched. */
    memset(rec, 0xa5, sizeof(rec));
    prepare(XEN_MC_physcpuinfo);
    op.u.mc_physcpuinfo.ncpus = MAX_REC + 2;
    op.u.mc_physcpuinfo.info = (uint64_t)rec;
    CHECK_EQ(mca(&op), 0);
    CHECK_EQ(op.u.mc_physcpuinfo.ncpus, n);
    for (uint32_t i = 0; i < n; i++) {
        memcpy(vendor, rec[i].mc_vendorid, 12);
        vendor[12] = 0;
        printk("cpu %u: chip %u core %u thread %u apic %u; cores %u/%u threads %u; level %d "
               "family %u model %u step %u vendor %u '%s'\n",
               rec[i].mc_cpunr, rec[i].mc_chipid, rec[i].mc_coreid, rec[i].mc_threadid,
               rec[i].mc_apicid, rec[i].mc_ncores_active, rec[i].mc_ncores, rec[i].mc_nthreads,
               rec[i].mc_cpuid_level, rec[i].mc_family, rec[i].mc_model, rec[i].mc_step,
               rec[i].mc_vendor, vendor);
        CHECK_EQ(rec[i].mc_cpunr, i);
    }
    CHECK_EQ(*(volatile uint32_t *)&rec[n], 0xa5a5a5a5);

    pv_cpuid(0, 0, r);
    memcpy(vendor, &r[1], 4);
    memcpy(vendor + 4, &r[3], 4);
    memcpy(vendor + 8, &r[2], 4);
    vendor[12] = 0;
    CHECK(!memcmp(rec[0].mc_vendorid, vendor, 12), "vendor '%s' in the record, CPUID says '%s'",
          rec[0].mc_vendorid, vendor);
    CHECK_EQ(rec[0].mc_vendor, vendor_number(vendor));
    pv_cpuid(1, 0, r);
    fam = (r[0] >> 8) & 0xf;
    model = (r[0] >> 4) & 0xf;
    if (fam == 0xf)
        fam += (r[0] >> 20) & 0xff;
    if (fam >= 6)
        model |= (r[0] >> 12) & 0xf0;
    CHECK_EQ(rec[0].mc_family, fam);
    CHECK_EQ(rec[0].mc_model, model);
    CHECK_EQ(rec[0].mc_step, r[0] & 0xf);
    CHECK_EQ(rec[0].mc_apicid, 0);

    /* Room for one. */
    memset(rec, 0xa5, sizeof(rec));
    prepare(XEN_MC_physcpuinfo);
    op.u.mc_physcpuinfo.ncpus = 1;
    op.u.mc_physcpuinfo.info = (uint64_t)rec;
    CHECK_EQ(mca(&op), 0);
    CHECK_EQ(op.u.mc_physcpuinfo.ncpus, 1);
    CHECK_EQ(rec[0].mc_cpunr, 0);
    CHECK_EQ(*(volatile uint32_t *)&rec[1], 0xa5a5a5a5);

    /* Fetch: nothing queued; bad flags refused. */
    fetch_nodata(XEN_MC_URGENT, "urgent");
    fetch_nodata(XEN_MC_NONURGENT, "non-urgent");
    prepare(XEN_MC_fetch);
    CHECK_EQ(mca(&op), -XEN_EINVAL);
    prepare(XEN_MC_fetch);
    op.u.mc_fetch.flags = XEN_MC_URGENT | XEN_MC_NONURGENT;
    CHECK_EQ(mca(&op), -XEN_EINVAL);
    return check_failures ? RESULT_FAILURE : RESULT_SUCCESS;
}
