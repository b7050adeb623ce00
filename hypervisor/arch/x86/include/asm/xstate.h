/*
 * Extended FPU state (XSAVE) of PV vCPUs: which XCR0 bits guests may
 * enable, the per-vCPU save area, and the switch of both with the vCPU.
 *
 * While a vCPU runs, the hardware XCR0 is that vCPU's own (XGETBV is
 * unprivileged, so the guest reads it directly); every XSAVE/XRSTOR of a
 * vCPU's area happens with its XCR0 loaded.  Without XSAVE on the host,
 * FXSAVE is used and guests see no XSAVE in CPUID.
 */
#ifndef ASM_XSTATE_H
#define ASM_XSTATE_H

#include <mica/types.h>

#define XSTATE_X87  (1ULL << 0)
#define XSTATE_SSE  (1ULL << 1)
#define XSTATE_YMM  (1ULL << 2)
#define XSTATE_GUEST_ALLOWED (XSTATE_X87 | XSTATE_SSE | XSTATE_YMM)

/* Standard-format area for x87, SSE and AVX: legacy 512 + header 64 + YMM 256. */
#define XSTATE_AREA_SIZE    1024
#define XSTATE_BUF_SIZE     (XSTATE_AREA_SIZE + 48)     /* the buffer is 16-aligned; the area 64 */
#define XSTATE_HDR_OFFSET   512

struct vcpu;

/* Enables XSAVE on this CPU (CR4.OSXSAVE) when the CPU has it; sets up FXSAVE either way. */
void xstate_cpu_init(void);

/* XCR0 bits a guest may set (0: no XSAVE for guests). */
u64 xstate_guest_xcr0_max(void);

/* The vCPU's save area: 64-byte aligned inside arch.xsave_buf. */
u8 *xstate_area(struct vcpu *v);

/* Context switch: save the running vCPU's state, load the next one's. */
void xstate_save(struct vcpu *v);
void xstate_restore(struct vcpu *v);

/*
 * XSETBV by the guest kernel: 0 when accepted (and loaded), -1 when the
 * guest must see #GP(0).
 */
int xstate_guest_xsetbv(struct vcpu *v, u32 index, u64 value);

/* CPUID leaf 0xD for a guest running with its XCR0 loaded. */
void xstate_guest_cpuid(u32 sub, u32 *a, u32 *b, u32 *c, u32 *d);

/*
 * XEN_DOMCTL_{get,set}vcpuextstate for a vCPU that is not running:
 * Xen 4.17's buffer (XCR0, XCR0_ACCUM, standard-format area) and checks.
 */
struct xen_domctl_vcpuextstate;
long pv_get_vcpuextstate(struct vcpu *v, struct xen_domctl_vcpuextstate *evc);
long pv_set_vcpuextstate(struct vcpu *v, const struct xen_domctl_vcpuextstate *evc);

#endif
