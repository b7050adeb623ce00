/*
 * Speculative-execution issues (docs/spec-ctrl.md says what Mica does for
 * each class and what it does not do yet).
 */
#ifndef ASM_SPEC_CTRL_H
#define ASM_SPEC_CTRL_H

#include <mica/types.h>

struct boot_info;
struct domain;

/* At boot, after the command line: works out L1TF exposure and the options. */
void spec_ctrl_init(const struct boot_info *bi);

/*
 * L1TF (XSA-273, CVE-2018-3620) for PV guests.  The CPU sends the address
 * bits of a *non-present* entry to the L1D cache before it notices the
 * entry is not present, so a guest that writes one naming host memory
 * can read that memory speculatively.  Present entries are safe: the
 * validation rules make them name the guest's own frames.
 *
 * Whether a non-present entry of a table of `level` (1-4) that domain d
 * writes or asks to validate is one that could leak: checked only for
 * domains `pv-l1tf` covers (Xen 4.17's option: by default domUs on
 * affected CPUs).  An entry is unsafe when its address bits name a frame
 * other than 0 below the first address the L1D cannot hold cacheable
 * data for, or when it has PSE at levels 2-4 (a speculative superpage
 * from frame 0 up; an L4 entry is walked as an L3 entry through a linear
 * slot).  Mica cannot rewrite such an entry (the guest may keep its own
 * data in it) and has no shadow paging to hide it behind, so the caller
 * crashes the domain, as Xen 4.17 built without shadow paging does
 * (Debian's build).
 */
bool pv_l1tf_unsafe(const struct domain *d, unsigned level, u64 pte);

/*
 * The crash, deferred: callers hold page-table locks, and a crash takes
 * event locks, which come first.  pv_l1tf_defer_crash() records it for
 * this CPU (the first entry of a call is the one reported);
 * pv_l1tf_crash_deferred(), on every return to a guest, carries it out.
 */
void pv_l1tf_defer_crash(const struct domain *d, unsigned level, u64 pte);
void pv_l1tf_crash_deferred(void);

/*
 * XPTI (XSA-254, Meltdown; `xpti=`, asm/xpti.h): whether any domain kind
 * runs with it (then every CPU gets a root page table at bring-up).
 */
bool spec_xpti_any(void);

#endif
