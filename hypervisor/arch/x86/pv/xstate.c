/*
 * XSAVE/AVX state of PV vCPUs (see asm/xstate.h).
 *
 * Each vCPU's area lives inside its struct vcpu (allocated with it), so
 * nothing is allocated on the switch path.  Guests may enable x87, SSE and
 * AVX only: that bounds the area at 832 bytes in the standard format, and
 * is what Mica can check a guest's XCR0 against without more state.
 */
#include <asm/current.h>
#include <asm/io.h>
#include <asm/xstate.h>
#include <mica/domain.h>
#include <asm/guest_access.h>
#include <mica/lib.h>
#include <public/domctl.h>
#include <public/errno.h>

#define CR4_OSXSAVE     (1ULL << 18)
#define CPUID1_XSAVE    (1u << 26)
#define FCW_DEFAULT     0x037f
#define MXCSR_DEFAULT   0x1f80
#define FXSAVE_FCW      0
#define FXSAVE_MXCSR    24

static u64 guest_xcr0_max;      /* 0: the host has no XSAVE; FXSAVE is used */

_Static_assert(XSTATE_AREA_SIZE >= 832, "x87+SSE+AVX standard-format area");
_Static_assert(XSTATE_BUF_SIZE - 48 >= XSTATE_AREA_SIZE, "room to align the area to 64");

static inline void xsetbv(u32 index, u64 v)
{
    __asm__ volatile("xsetbv" :: "c"(index), "a"((u32)v), "d"((u32)(v >> 32)) : "memory");
}

static inline u64 xgetbv(u32 index)
{
    u32 lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(index));
    return ((u64)hi << 32) | lo;
}

static inline void xsave(u8 *area, u64 rfbm)
{
    __asm__ volatile("xsave64 %0" : "+m"(*(u8 (*)[XSTATE_AREA_SIZE])area)
                     : "a"((u32)rfbm), "d"((u32)(rfbm >> 32)) : "memory");
}

static inline void xrstor(const u8 *area, u64 rfbm)
{
    __asm__ volatile("xrstor64 %0" :: "m"(*(const u8 (*)[XSTATE_AREA_SIZE])area),
                     "a"((u32)rfbm), "d"((u32)(rfbm >> 32)) : "memory");
}

void xstate_cpu_init(void)
{
    u32 a, b, c, d;
    /* Every CPU is set up alike, one at a time; the first one reports. */
    static bool reported;
    bool report = !reported;

    reported = true;

    cpuid(1, 0, &a, &b, &c, &d);
    if (!(c & CPUID1_XSAVE)) {
        if (report)
            pr_info("xstate: no XSAVE; guests get FXSAVE switching and no AVX\n");
        return;
    }
    write_cr4(read_cr4() | CR4_OSXSAVE);
    cpuid(0xd, 0, &a, &b, &c, &d);
    u64 max = (((u64)d << 32) | a) & XSTATE_GUEST_ALLOWED;
    if ((max & (XSTATE_X87 | XSTATE_SSE)) != (XSTATE_X87 | XSTATE_SSE)) {
        if (report)
            pr_info("xstate: XCR0 lacks x87/SSE (%#llx); XSAVE not offered to guests\n",
                    (unsigned long long)max);
        return;
    }
    /* The area must hold everything a guest may enable, at the CPU's offsets. */
    xsetbv(0, max);
    cpuid(0xd, 0, &a, &b, &c, &d);
    if (b > XSTATE_AREA_SIZE) {
        if (report)
            pr_info("xstate: XSAVE area of %u bytes exceeds Mica's %u; AVX not offered\n",
                    b, XSTATE_AREA_SIZE);
        max = XSTATE_X87 | XSTATE_SSE;
    }
    xsetbv(0, XSTATE_X87 | XSTATE_SSE);
    guest_xcr0_max = max;
    if (report)
        pr_info("xstate: guests may enable XCR0 %#llx\n", (unsigned long long)max);
}

u64 xstate_guest_xcr0_max(void)
{
    return guest_xcr0_max;
}

u8 *xstate_area(struct vcpu *v)
{
    return (u8 *)(((uintptr_t)v->arch.xsave_buf + 63) & ~(uintptr_t)63);
}

/*
 * A vCPU's first switch-in: the power-on state (x87 control word 0x37f,
 * MXCSR 0x1f80, all XSAVE components in their initial configuration).
 */
static void power_on_area(u8 *area)
{
    u16 fcw = FCW_DEFAULT;
    u32 mxcsr = MXCSR_DEFAULT;

    memset(area, 0, XSTATE_AREA_SIZE);
    memcpy(area + FXSAVE_FCW, &fcw, sizeof(fcw));
    memcpy(area + FXSAVE_MXCSR, &mxcsr, sizeof(mxcsr));
}

static void init_area(struct vcpu *v)
{
    power_on_area(xstate_area(v));
    v->arch.xcr0 = XSTATE_X87 | XSTATE_SSE;
    v->arch.xcr0_accum |= XSTATE_X87 | XSTATE_SSE;
    v->arch.fpu_initialised = true;
}

/* Called with CR0.TS clear and the vCPU's XCR0 in the hardware. */
void xstate_save(struct vcpu *v)
{
    u8 *area = xstate_area(v);

    if (!guest_xcr0_max) {
        __asm__ volatile("fxsave64 %0" : "=m"(*(u8 (*)[512])area));
        return;
    }
    xsave(area, v->arch.xcr0);
    /*
     * XSAVE leaves XSTATE_BV bits outside XCR0 as they were; after the
     * guest dropped a component they would make XRSTOR fault.
     */
    u64 bv;
    memcpy(&bv, area + XSTATE_HDR_OFFSET, sizeof(bv));
    bv &= v->arch.xcr0;
    memcpy(area + XSTATE_HDR_OFFSET, &bv, sizeof(bv));
}

/* Called with CR0.TS clear. */
void xstate_restore(struct vcpu *v)
{
    u8 *area = xstate_area(v);

    if (!v->arch.fpu_initialised)
        init_area(v);
    if (!guest_xcr0_max) {
        __asm__ volatile("fxrstor64 %0" :: "m"(*(const u8 (*)[512])area));
        return;
    }
    if (xgetbv(0) != v->arch.xcr0)
        xsetbv(0, v->arch.xcr0);
    xrstor(area, v->arch.xcr0);
}

/*
 * The rules hardware applies (x87 always, AVX only with SSE), within what
 * Mica offers.  Components the guest newly enables start in their initial
 * state: the registers may still hold another vCPU's values, which were
 * not restored while the component was off.
 */
int xstate_guest_xsetbv(struct vcpu *v, u32 index, u64 value)
{
    u64 newly;

    if (index != 0 || (value & ~guest_xcr0_max) || !(value & XSTATE_X87) ||
        ((value & XSTATE_YMM) && !(value & XSTATE_SSE)))
        return -1;
    newly = value & ~v->arch.xcr0;
    xsetbv(0, value);
    v->arch.xcr0 = value;
    v->arch.xcr0_accum |= value;
    if (newly & ~(XSTATE_X87 | XSTATE_SSE)) {
        u8 buf[XSTATE_AREA_SIZE + 64];
        u8 *init = (u8 *)(((uintptr_t)buf + 63) & ~(uintptr_t)63);
        bool ts = (read_cr0() & CR0_TS) != 0;

        memset(init, 0, 576);           /* legacy area and header: XSTATE_BV 0 */
        write_cr0_ts(false);
        /* XRSTOR loads MXCSR along with AVX state: keep the guest's. */
        __asm__ volatile("stmxcsr %0" : "=m"(*(u32 *)(init + FXSAVE_MXCSR)));
        xrstor(init, newly & ~(XSTATE_X87 | XSTATE_SSE));
        write_cr0_ts(ts);
    }
    return 0;
}

/* a..d arrive holding the hardware's answer, taken with the guest's XCR0 loaded. */
void xstate_guest_cpuid(u32 sub, u32 *a, u32 *b, u32 *c, u32 *d)
{
    u32 ea, eb, ec, ed;

    if (!guest_xcr0_max) {
        *a = *b = *c = *d = 0;
        return;
    }
    switch (sub) {
    case 0:
        /* EBX follows the XCR0 loaded now, which is the guest's. */
        *a = (u32)guest_xcr0_max;
        *d = 0;
        *c = 576;
        if (guest_xcr0_max & XSTATE_YMM) {
            cpuid(0xd, 2, &ea, &eb, &ec, &ed);
            *c = eb + ea;
        }
        break;
    case 1:
        /* XSAVEOPT, XSAVEC, XGETBV with ECX=1; XSAVES/XFD need ring 0 or MSRs. */
        *a &= 0x7;
        *c = *d = 0;
        break;
    case 2:
        if (!(guest_xcr0_max & XSTATE_YMM))
            *a = *b = *c = *d = 0;
        break;
    default:
        *a = *b = *c = *d = 0;
        break;
    }
}

/*
 * XEN_DOMCTL_{get,set}vcpuextstate (Xen 4.17's layout and rules).  The
 * buffer: XCR0, XCR0_ACCUM, then the area in the standard format for
 * XCR0_ACCUM's components.  Mica keeps the area in that format already
 * (XSAVE, never XSAVEC/XSAVES), so both directions are plain copies.
 */
#define EXTSTATE_HDR        16u         /* xcr0 and xcr0_accum */
#define XSTATE_MIN_SIZE     576u        /* legacy area and XSAVE header */
#define XSTATE_YMM_OFFSET   576u        /* architectural in the standard format */
#define XSTATE_YMM_SIZE     256u
#define XSTATE_COMPACTED    (1ULL << 63)

_Static_assert(XSTATE_YMM_OFFSET + XSTATE_YMM_SIZE <= XSTATE_AREA_SIZE, "AVX fits the area");

/* Octets of the standard-format area for these components; 0 for none. */
static unsigned ctxt_size(u64 xcr0)
{
    if (!xcr0)
        return 0;
    return (xcr0 & XSTATE_YMM) ? XSTATE_YMM_OFFSET + XSTATE_YMM_SIZE : XSTATE_MIN_SIZE;
}

/* What a guest's XCR0 may be: x87 always, AVX only with SSE, within Mica's offer. */
static bool valid_xcr0(u64 x)
{
    return (x & XSTATE_X87) && !(x & ~guest_xcr0_max) &&
           (!(x & XSTATE_YMM) || (x & XSTATE_SSE));
}

long pv_get_vcpuextstate(struct vcpu *v, struct xen_domctl_vcpuextstate *evc)
{
    u64 hdr[2];
    unsigned size;

    if (!evc->buffer || (!evc->size && !evc->xfeature_mask)) {
        /* The size query: the most any vCPU could need, and the format's mask. */
        evc->xfeature_mask = guest_xcr0_max;
        evc->size = EXTSTATE_HDR + ctxt_size(guest_xcr0_max);
        return 0;
    }
    hdr[0] = v->arch.xcr0;
    hdr[1] = v->arch.xcr0_accum;
    size = EXTSTATE_HDR + ctxt_size(hdr[1]);
    if (evc->size < size || evc->xfeature_mask != guest_xcr0_max)
        return -XEN_EINVAL;
    if (copy_to_guest(evc->buffer, hdr, sizeof(hdr)))
        return -XEN_EFAULT;
    /* A vCPU that never ran has XCR0 and XCR0_ACCUM 0 and no area, as on Xen. */
    if (size > EXTSTATE_HDR) {
        /* An area that holds nothing yet (after a reset) is the power-on state. */
        u8 init[XSTATE_AREA_SIZE];
        const u8 *area = xstate_area(v);

        if (!v->arch.fpu_initialised) {
            power_on_area(init);
            area = init;
        }
        if (copy_to_guest(evc->buffer + EXTSTATE_HDR, area, size - EXTSTATE_HDR))
            return -XEN_EFAULT;
    }
    evc->size = size;
    return 0;
}

/*
 * Checked whole before anything changes.  Beyond Xen's checks Mica makes
 * sure its own XRSTOR of the area cannot fault: MXCSR's reserved bits,
 * and XSTATE_BV is cut to XCR0 (a component the guest has switched off
 * starts in its initial state when it is switched on again, as
 * xstate_guest_xsetbv does).
 */
long pv_set_vcpuextstate(struct vcpu *v, const struct xen_domctl_vcpuextstate *evc)
{
    u8 buf[EXTSTATE_HDR + XSTATE_AREA_SIZE];
    u64 xcr0, accum, bv, xcomp;
    u32 mxcsr;
    u8 *area = buf + EXTSTATE_HDR;

    if (evc->size < EXTSTATE_HDR || evc->size > EXTSTATE_HDR + ctxt_size(guest_xcr0_max))
        return -XEN_EINVAL;
    if (copy_from_guest(buf, evc->buffer, evc->size))
        return -XEN_EFAULT;
    memcpy(&xcr0, buf, 8);
    memcpy(&accum, buf + 8, 8);
    if (!accum) {
        /* Only "never used XSAVE state" goes with no area. */
        if (xcr0)
            return -XEN_EINVAL;
        if (evc->size != EXTSTATE_HDR)
            return -XEN_EINVAL;
        return 0;               /* nothing to restore, as Xen */
    }
    if (evc->size < EXTSTATE_HDR + XSTATE_MIN_SIZE)
        return -XEN_EINVAL;
    memcpy(&bv, area + XSTATE_HDR_OFFSET, 8);
    memcpy(&xcomp, area + XSTATE_HDR_OFFSET + 8, 8);
    if ((bv & ~accum) || (xcr0 & ~accum) || !valid_xcr0(xcr0) || !valid_xcr0(accum))
        return -XEN_EINVAL;
    if (xcomp)
        return -XEN_EOPNOTSUPP;     /* compacted areas are not taken, as Xen */
    for (unsigned i = 16; i < 64; i++)
        if (area[XSTATE_HDR_OFFSET + i])
            return -XEN_EIO;        /* reserved header octets, as Xen */
    if (evc->size != EXTSTATE_HDR + ctxt_size(accum))
        return -XEN_EINVAL;
    memcpy(&mxcsr, area + FXSAVE_MXCSR, 4);
    if (mxcsr & ~0xffffu)
        return -XEN_EINVAL;         /* XRSTOR would fault inside Mica */

    u8 *dst = xstate_area(v);
    unsigned len = evc->size - EXTSTATE_HDR;
    memset(dst, 0, XSTATE_AREA_SIZE);
    memcpy(dst, area, len);
    bv &= xcr0;
    memcpy(dst + XSTATE_HDR_OFFSET, &bv, 8);
    v->arch.xcr0 = xcr0;
    v->arch.xcr0_accum = accum;
    v->arch.fpu_initialised = true;
    return 0;
}
