/*
 * CPU policies in Xen 4.17's toolstack interface (see asm/cpu_policy.h).
 *
 * Serialised form, as Xen writes it and libxc parses it: basic leaves
 * 0..max (leaf 4 subleaves up to the first of cache type 0, leaf 7
 * subleaves 0..max subleaf, leaf 0xb subleaves up to the first of level
 * type 0, leaf 0xd subleaves 0, 1 and one per further XSAVE component),
 * then 0x40000000 and 0x40000100 carrying the hypervisor-leaf limits,
 * then the extended leaves 0x80000000..max.  A leaf without subleaves
 * has subleaf XEN_CPUID_NO_SUBLEAF.
 *
 * Setting a domain's policy follows Xen's update_domain_cpu_policy: the
 * given leaves are merged into the domain's current policy; a leaf or
 * subleaf outside the arrays is -ERANGE, more entries than a policy has
 * -E2BIG; then max leaves above the PV maximum policy's, or MSR
 * PLATFORM_INFO bits it lacks, are refused with -EINVAL (err_leaf/
 * err_subleaf/err_msr say which); feature bits beyond the maximum are
 * cleared (Xen's recalculation), not refused.  Only before the domain
 * first runs (-EEXIST after).
 */
#include <asm/cpu_policy.h>
#include <asm/current.h>
#include <asm/guest_access.h>
#include <asm/io.h>
#include <mica/domain.h>
#include <mica/lib.h>
#include <public/domctl.h>
#include <public/errno.h>
#include <public/sysctl.h>

#define NO_SUB              XEN_CPUID_NO_SUBLEAF
#define MSR_PLATFORM_INFO   0xce
#define MSR_ARCH_CAPS       0x10a
#define EXTD_BASE           0x80000000u
#define CACHE_TYPE(r)       ((r).a & 0x1f)          /* leaf 4 EAX[4:0]: 0 = no more caches */
#define TOPO_TYPE(r)        (((r).c >> 8) & 0xff)   /* leaf 0xb ECX[15:8]: 0 = no more levels */

/* Where a policy's values come from: the CPU itself, or Mica's PV view of it. */
struct cpuid_source {
    bool pv;
    bool privileged;                /* the PV view for dom0 (local APIC shown) */
};

static void read_leaf(const struct cpuid_source *src, u32 leaf, u32 sub, struct cpuid_regs *r)
{
    if (src->pv)
        pv_cpuid_base(src->privileged, leaf, sub, &r->a, &r->b, &r->c, &r->d);
    else
        cpuid(leaf, sub, &r->a, &r->b, &r->c, &r->d);
}

/* XSAVE components the policy describes beyond x87 and SSE (leaf 0xd subleaves 2..). */
static u64 policy_xstates(const struct cpu_policy *p)
{
    return ((u64)p->xstate[0].d << 32 | p->xstate[0].a | (u64)p->xstate[1].d << 32 |
            p->xstate[1].c) >> 2;
}

static void build_policy(struct cpu_policy *p, const struct cpuid_source *src)
{
    u32 max;

    memset(p, 0, sizeof(*p));
    read_leaf(src, 0, 0, &p->basic[0]);
    if (p->basic[0].a > CPU_POLICY_NR_BASIC - 1)
        p->basic[0].a = CPU_POLICY_NR_BASIC - 1;
    for (u32 leaf = 1; leaf <= p->basic[0].a; leaf++) {
        switch (leaf) {
        case 4:
            for (u32 i = 0; i < CPU_POLICY_NR_CACHE; i++) {
                read_leaf(src, 4, i, &p->cache[i]);
                if (!CACHE_TYPE(p->cache[i]))
                    break;
            }
            break;
        case 7:
            read_leaf(src, 7, 0, &p->feat[0]);
            if (p->feat[0].a > CPU_POLICY_NR_FEAT - 1)
                p->feat[0].a = CPU_POLICY_NR_FEAT - 1;
            for (u32 i = 1; i <= p->feat[0].a; i++)
                read_leaf(src, 7, i, &p->feat[i]);
            break;
        case 0xb:
            for (u32 i = 0; i < CPU_POLICY_NR_TOPO; i++) {
                read_leaf(src, 0xb, i, &p->topo[i]);
                if (!TOPO_TYPE(p->topo[i]))
                    break;
            }
            break;
        case 0xd: {
            u64 xs;
            read_leaf(src, 0xd, 0, &p->xstate[0]);
            read_leaf(src, 0xd, 1, &p->xstate[1]);
            xs = policy_xstates(p);
            for (u32 i = 2; xs && i < CPU_POLICY_NR_XSTATE; i++, xs >>= 1)
                if (xs & 1)
                    read_leaf(src, 0xd, i, &p->xstate[i]);
            break;
        }
        default:
            read_leaf(src, leaf, 0, &p->basic[leaf]);
            break;
        }
    }
    read_leaf(src, EXTD_BASE, 0, &p->extd[0]);
    if ((p->extd[0].a & 0xffff0000) != EXTD_BASE) {
        memset(&p->extd[0], 0, sizeof(p->extd[0]));   /* no extended leaves */
    } else {
        if (p->extd[0].a > EXTD_BASE + CPU_POLICY_NR_EXTD - 1)
            p->extd[0].a = EXTD_BASE + CPU_POLICY_NR_EXTD - 1;
        max = p->extd[0].a & 0xffff;
        for (u32 i = 1; i <= max; i++)
            read_leaf(src, EXTD_BASE | i, 0, &p->extd[i]);
    }
    /* No CPUID faulting offered, no ARCH_CAPABILITIES (its CPUID bit is hidden). */
}

/* The system policies: raw and host are the CPU's; PV max and default Mica's view. */
static void system_policy(struct cpu_policy *p, bool pv, bool privileged)
{
    const struct cpuid_source src = { pv, privileged };

    build_policy(p, &src);
    /*
     * Mica's PV view goes up to the last extended leaf it describes, the
     * leaves past the CPU's own maximum reading 0, as Xen 4.17's does
     * (0x80000021): a policy saved on Xen, with that maximum, is then
     * within Mica's and its restore is not refused for it.
     */
    if (pv && (p->extd[0].a & 0xffff0000) == EXTD_BASE)
        p->extd[0].a = EXTD_BASE + CPU_POLICY_NR_EXTD - 1;
}

/* Featureset word i (Xen's FEATURESET_* numbering) inside policy p. */
static u32 *feature_word(struct cpu_policy *p, unsigned i)
{
    switch (i) {
    case 0:  return &p->basic[1].d;
    case 1:  return &p->basic[1].c;
    case 2:  return &p->extd[1].d;
    case 3:  return &p->extd[1].c;
    case 4:  return &p->xstate[1].a;
    case 5:  return &p->feat[0].b;
    case 6:  return &p->feat[0].c;
    case 7:  return &p->extd[7].d;
    case 8:  return &p->extd[8].b;
    case 9:  return &p->feat[0].d;
    case 10: return &p->feat[1].a;
    case 11: return &p->extd[0x21].a;
    case 12: return &p->feat[1].b;
    case 13: return &p->feat[2].d;
    case 14: return &p->feat[1].c;
    case 15: return &p->feat[1].d;
    case 16: return (u32 *)&p->arch_caps;          /* low half (little-endian) */
    case 17: return (u32 *)&p->arch_caps + 1;
    default: return &p->extd[0x21].c;              /* 18 */
    }
}

void cpu_policy_cpuid(const struct cpu_policy *p, u32 leaf, u32 sub,
                      u32 *a, u32 *b, u32 *c, u32 *d)
{
    const struct cpuid_regs *r = NULL;

    if (leaf <= p->basic[0].a) {
        switch (leaf) {
        case 4:   r = sub < CPU_POLICY_NR_CACHE ? &p->cache[sub] : NULL; break;
        case 7:   r = sub <= p->feat[0].a ? &p->feat[sub] : NULL; break;
        case 0xb: r = sub < CPU_POLICY_NR_TOPO ? &p->topo[sub] : NULL; break;
        case 0xd: r = sub < CPU_POLICY_NR_XSTATE ? &p->xstate[sub] : NULL; break;
        default:  r = &p->basic[leaf]; break;
        }
    } else if (leaf >= EXTD_BASE && leaf <= p->extd[0].a) {
        r = &p->extd[leaf - EXTD_BASE];
    }
    if (r) {
        *a = r->a; *b = r->b; *c = r->c; *d = r->d;
    } else {
        *a = *b = *c = *d = 0;          /* beyond the policy's leaves, as on Xen */
    }
}

/* ---- serialisation ---------------------------------------------------- */

struct leaf_out {
    u64 buf;
    u32 room, n;
};

static long put_leaf(struct leaf_out *o, u32 leaf, u32 sub, const struct cpuid_regs *r)
{
    struct xen_cpuid_leaf l = { leaf, sub, r->a, r->b, r->c, r->d };

    if (o->n == o->room)
        return -XEN_ENOBUFS;
    if (copy_to_guest(o->buf + (u64)o->n * sizeof(l), &l, sizeof(l)))
        return -XEN_EFAULT;
    o->n++;
    return 0;
}

#define PUT(leaf, sub, r) do { if ((rc = put_leaf(&o, leaf, sub, r))) return rc; } while (0)

static long leaves_to_guest(const struct cpu_policy *p, u64 buf, u32 *nr)
{
    struct leaf_out o = { buf, *nr, 0 };
    struct cpuid_regs hv;
    long rc;

    for (u32 leaf = 0; leaf <= p->basic[0].a && leaf < CPU_POLICY_NR_BASIC; leaf++) {
        switch (leaf) {
        case 4:
            for (u32 i = 0; i < CPU_POLICY_NR_CACHE; i++) {
                PUT(4, i, &p->cache[i]);
                if (!CACHE_TYPE(p->cache[i]))
                    break;
            }
            break;
        case 7:
            for (u32 i = 0; i <= p->feat[0].a && i < CPU_POLICY_NR_FEAT; i++)
                PUT(7, i, &p->feat[i]);
            break;
        case 0xb:
            for (u32 i = 0; i < CPU_POLICY_NR_TOPO; i++) {
                PUT(0xb, i, &p->topo[i]);
                if (!TOPO_TYPE(p->topo[i]))
                    break;
            }
            break;
        case 0xd: {
            u64 xs = policy_xstates(p);
            PUT(0xd, 0, &p->xstate[0]);
            PUT(0xd, 1, &p->xstate[1]);
            for (u32 i = 2; xs && i < CPU_POLICY_NR_XSTATE; i++, xs >>= 1)
                PUT(0xd, i, &p->xstate[i]);
            break;
        }
        default:
            PUT(leaf, NO_SUB, &p->basic[leaf]);
            break;
        }
    }
    hv = (struct cpuid_regs){ p->hv_limit, 0, 0, 0 };
    PUT(0x40000000, NO_SUB, &hv);
    hv = (struct cpuid_regs){ p->hv2_limit, 0, 0, 0 };
    PUT(0x40000100, NO_SUB, &hv);
    for (u32 i = 0; i <= (p->extd[0].a & 0xffff) && i < CPU_POLICY_NR_EXTD; i++)
        PUT(EXTD_BASE | i, NO_SUB, &p->extd[i]);
    *nr = o.n;
    return 0;
}

#undef PUT

static long msrs_to_guest(const struct cpu_policy *p, u64 buf, u32 *nr)
{
    const struct xen_msr_entry e[CPU_POLICY_MAX_MSRS] = {
        { MSR_PLATFORM_INFO, 0, p->platform_info },
        { MSR_ARCH_CAPS, 0, p->arch_caps },
    };

    if (*nr < CPU_POLICY_MAX_MSRS)
        return -XEN_ENOBUFS;
    if (copy_to_guest(buf, e, sizeof(e)))
        return -XEN_EFAULT;
    *nr = CPU_POLICY_MAX_MSRS;
    return 0;
}

/* Merges guest leaves into p; -ERANGE names the leaf in err_leaf and err_sub. */
static long leaves_from_guest(struct cpu_policy *p, u64 buf, u32 nr, u32 *err_leaf, u32 *err_sub)
{
    struct xen_cpuid_leaf l;

    *err_leaf = *err_sub = ~0u;
    if (nr > CPU_POLICY_MAX_LEAVES)
        return -XEN_E2BIG;
    for (u32 i = 0; i < nr; i++) {
        struct cpuid_regs *r = NULL;

        if (copy_from_guest(&l, buf + (u64)i * sizeof(l), sizeof(l)))
            return -XEN_EFAULT;
        if (l.leaf < CPU_POLICY_NR_BASIC) {
            switch (l.leaf) {
            case 4:   r = l.subleaf < CPU_POLICY_NR_CACHE ? &p->cache[l.subleaf] : NULL; break;
            case 7:   r = l.subleaf < CPU_POLICY_NR_FEAT ? &p->feat[l.subleaf] : NULL; break;
            case 0xb: r = l.subleaf < CPU_POLICY_NR_TOPO ? &p->topo[l.subleaf] : NULL; break;
            case 0xd: r = l.subleaf < CPU_POLICY_NR_XSTATE ? &p->xstate[l.subleaf] : NULL; break;
            default:  r = l.subleaf == NO_SUB ? &p->basic[l.leaf] : NULL; break;
            }
        } else if (l.leaf == 0x40000000 || l.leaf == 0x40000100) {
            if (l.subleaf == NO_SUB) {
                *(l.leaf == 0x40000000 ? &p->hv_limit : &p->hv2_limit) = l.a;
                continue;
            }
        } else if (l.leaf >= EXTD_BASE && l.leaf < EXTD_BASE + CPU_POLICY_NR_EXTD) {
            r = l.subleaf == NO_SUB ? &p->extd[l.leaf - EXTD_BASE] : NULL;
        }
        if (!r) {
            *err_leaf = l.leaf;
            *err_sub = l.subleaf;
            return -XEN_ERANGE;
        }
        *r = (struct cpuid_regs){ l.a, l.b, l.c, l.d };
    }
    return 0;
}

static long msrs_from_guest(struct cpu_policy *p, u64 buf, u32 nr, u32 *err_msr)
{
    struct xen_msr_entry e;
    long rc;

    *err_msr = ~0u;
    if (nr > CPU_POLICY_MAX_MSRS)
        return -XEN_E2BIG;
    for (u32 i = 0; i < nr; i++) {
        if (copy_from_guest(&e, buf + (u64)i * sizeof(e), sizeof(e)))
            return -XEN_EFAULT;
        if (e.flags) {
            rc = -XEN_EINVAL;           /* flags must be zero */
        } else if (e.idx == MSR_PLATFORM_INFO) {
            if (e.val == (u32)e.val) {
                p->platform_info = (u32)e.val;
                continue;
            }
            rc = -XEN_EOVERFLOW;        /* a 32-bit MSR in the policy */
        } else if (e.idx == MSR_ARCH_CAPS) {
            p->arch_caps = e.val;
            continue;
        } else {
            rc = -XEN_ERANGE;
        }
        *err_msr = e.idx;
        return rc;
    }
    return 0;
}

/* Leaves past the (new) maximum leaves and subleaf count mean nothing: clear them. */
static u32 first_past(u32 max, u32 nr)
{
    return max < nr ? max + 1 : nr;     /* no wrap-around for a max of ~0 */
}

static void clear_out_of_range(struct cpu_policy *p)
{
    for (u32 i = first_past(p->basic[0].a, CPU_POLICY_NR_BASIC); i < CPU_POLICY_NR_BASIC; i++) {
        memset(&p->basic[i], 0, sizeof(p->basic[i]));
        if (i == 4)
            memset(p->cache, 0, sizeof(p->cache));
        if (i == 7)
            memset(p->feat + 1, 0, sizeof(p->feat) - sizeof(p->feat[0]));
        if (i == 0xb)
            memset(p->topo, 0, sizeof(p->topo));
        if (i == 0xd)
            memset(p->xstate, 0, sizeof(p->xstate));
    }
    if (p->basic[0].a >= 7)
        for (u32 i = first_past(p->feat[0].a, CPU_POLICY_NR_FEAT); i < CPU_POLICY_NR_FEAT; i++)
            memset(&p->feat[i], 0, sizeof(p->feat[i]));
    for (u32 i = (p->extd[0].a & 0xffff) + 1; i < CPU_POLICY_NR_EXTD; i++)
        memset(&p->extd[i], 0, sizeof(p->extd[i]));
}

/* ---- the hypercalls --------------------------------------------------- */

/* Xen's index order; HVM policies do not exist on Mica (as on a Xen built without HVM). */
static long system_policy_by_index(u32 index, struct cpu_policy *p)
{
    switch (index) {
    case XEN_SYSCTL_cpu_policy_raw:
    case XEN_SYSCTL_cpu_policy_host:
        system_policy(p, false, false);
        return 0;
    case XEN_SYSCTL_cpu_policy_pv_max:
    case XEN_SYSCTL_cpu_policy_pv_default:
        system_policy(p, true, false);
        return 0;
    case XEN_SYSCTL_cpu_policy_hvm_max:
    case XEN_SYSCTL_cpu_policy_hvm_default:
        return -XEN_EOPNOTSUPP;
    default:
        return -XEN_EINVAL;
    }
}

void cpu_policy_host_featureset(u32 *words, unsigned n)
{
    struct cpu_policy p;

    system_policy(&p, false, false);
    for (unsigned i = 0; i < n && i < CPU_FEATURESET_WORDS; i++)
        words[i] = *feature_word(&p, i);
}

long cpu_policy_sysctl_featureset(struct xen_sysctl_cpu_featureset *op)
{
    struct cpu_policy p;
    u32 fs[CPU_FEATURESET_WORDS];
    u32 nr;
    long rc;

    if (!op->features) {
        op->nr_features = CPU_FEATURESET_WORDS;
        return 0;
    }
    nr = op->nr_features < CPU_FEATURESET_WORDS ? op->nr_features : CPU_FEATURESET_WORDS;
    /* The featureset indices name the same policies, in another order. */
    switch (op->index) {
    case XEN_SYSCTL_cpu_featureset_raw:    rc = system_policy_by_index(XEN_SYSCTL_cpu_policy_raw, &p); break;
    case XEN_SYSCTL_cpu_featureset_host:   rc = system_policy_by_index(XEN_SYSCTL_cpu_policy_host, &p); break;
    case XEN_SYSCTL_cpu_featureset_pv:     rc = system_policy_by_index(XEN_SYSCTL_cpu_policy_pv_default, &p); break;
    case XEN_SYSCTL_cpu_featureset_pv_max: rc = system_policy_by_index(XEN_SYSCTL_cpu_policy_pv_max, &p); break;
    case XEN_SYSCTL_cpu_featureset_hvm:
    case XEN_SYSCTL_cpu_featureset_hvm_max: rc = -XEN_EOPNOTSUPP; break;
    default: rc = -XEN_EINVAL; break;
    }
    if (rc)
        return rc;
    for (unsigned i = 0; i < CPU_FEATURESET_WORDS; i++)
        fs[i] = *feature_word(&p, i);
    if (copy_to_guest(op->features, fs, nr * sizeof(u32)))
        return -XEN_EFAULT;
    op->nr_features = nr;
    return nr < CPU_FEATURESET_WORDS ? -XEN_ENOBUFS : 0;
}

/*
 * The get calls' answer, as Xen's: a null buffer asks for the maximum
 * count, otherwise the policy is serialised into it and the count says
 * how much was written.
 */
static long policy_to_guest(const struct cpu_policy *p, u64 leaves, u32 *nr_leaves,
                            u64 msrs, u32 *nr_msrs)
{
    long rc;

    if (!leaves)
        *nr_leaves = CPU_POLICY_MAX_LEAVES;
    else if ((rc = leaves_to_guest(p, leaves, nr_leaves)))
        return rc;
    if (!msrs)
        *nr_msrs = CPU_POLICY_MAX_MSRS;
    else if ((rc = msrs_to_guest(p, msrs, nr_msrs)))
        return rc;
    return 0;
}

long cpu_policy_sysctl_get(struct xen_sysctl_cpu_policy *op)
{
    struct cpu_policy p;
    long rc;

    if (op->_rsvd || op->index > XEN_SYSCTL_cpu_policy_hvm_default)
        return -XEN_EINVAL;
    if ((rc = system_policy_by_index(op->index, &p)))
        return rc;
    return policy_to_guest(&p, op->leaves, &op->nr_leaves, op->msrs, &op->nr_msrs);
}

/* d's policy: its own once set, else the PV default it starts with. */
static void domain_policy(const struct domain *d, struct cpu_policy *p)
{
    if (d->arch.cpu_policy_set)
        *p = d->arch.cpu_policy;
    else
        system_policy(p, true, d->is_privileged);
}

long cpu_policy_domctl_get(struct domain *d, struct xen_domctl_cpu_policy *op, bool *copyback)
{
    struct cpu_policy p;
    long rc;

    domain_policy(d, &p);
    if ((rc = policy_to_guest(&p, op->leaves, &op->nr_leaves, op->msrs, &op->nr_msrs)))
        return rc;
    *copyback = true;
    return 0;
}

long cpu_policy_domctl_set(struct domain *self, struct domain *d,
                           struct xen_domctl_cpu_policy *op, bool *copyback)
{
    /* 2 x 2 KiB: on the 32 KiB hypercall stack. */
    struct cpu_policy p, max;
    long rc;

    if (d == self)
        return -XEN_EINVAL;
    if (d->creation_finished)
        return -XEN_EEXIST;             /* not once the domain has run */
    domain_policy(d, &p);
    rc = leaves_from_guest(&p, op->leaves, op->nr_leaves, &op->err_leaf, &op->err_subleaf);
    op->err_msr = ~0u;
    if (!rc)
        rc = msrs_from_guest(&p, op->msrs, op->nr_msrs, &op->err_msr);
    if (rc)
        goto refused;
    clear_out_of_range(&p);
    system_policy(&max, true, d->is_privileged);
    rc = -XEN_EINVAL;
    if (p.basic[0].a > max.basic[0].a) {
        op->err_leaf = 0; op->err_subleaf = NO_SUB;
        goto refused;
    }
    if (p.feat[0].a > max.feat[0].a) {
        op->err_leaf = 7; op->err_subleaf = 0;
        goto refused;
    }
    if (p.extd[0].a > max.extd[0].a) {
        op->err_leaf = EXTD_BASE; op->err_subleaf = NO_SUB;
        goto refused;
    }
    if (p.platform_info & ~max.platform_info) {
        op->err_msr = MSR_PLATFORM_INFO;
        goto refused;
    }
    /* Features the PV maximum lacks are dropped, as Xen's recalculation does. */
    for (unsigned i = 0; i < CPU_FEATURESET_WORDS; i++)
        *feature_word(&p, i) &= *feature_word(&max, i);
    d->arch.cpu_policy = p;
    d->arch.cpu_policy_set = true;
    return 0;

refused:
    *copyback = true;                   /* err_leaf/err_subleaf/err_msr go back */
    return rc;
}
