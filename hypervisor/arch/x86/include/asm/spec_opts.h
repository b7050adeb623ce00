/*
 * The `spec-ctrl=` option, Xen 4.17's x86 spelling, as a pure function so
 * that a host unit test can check it (tests/unit/test_spec_opts.c);
 * spec_ctrl.c applies the result at boot.
 */
#ifndef ASM_SPEC_OPTS_H
#define ASM_SPEC_OPTS_H

#include <mica/types.h>

enum bti_thunk {
    BTI_THUNK_DEFAULT,          /* not given: retpoline (spec_ctrl.c) */
    BTI_THUNK_RETPOLINE,
    BTI_THUNK_LFENCE,
    BTI_THUNK_JMP,
};

struct spec_opts {
    u8 thunk;                   /* enum bti_thunk */
    s8 rsb_pv;                  /* RSB overwrite on entry from PV guests; -1: not given */
    s8 branch_harden;           /* barriers of evaluate_nospec(); -1: not given (on) */
    bool all_off;               /* `spec-ctrl=no`: also pv-l1tf's defaults off */
    /* Xen's items Mica has nothing for, comma-separated, for a warning. */
    char ignored[128];
};

/*
 * Parses one `spec-ctrl=` value into *o (several options apply in turn):
 *   no | 0 | off ...         every mitigation Mica has off (bti-thunk=jmp,
 *                            rsb=0, branch-harden=0) and pv-l1tf's
 *                            defaults off (Xen's rule)
 *   no-xen | xen=0           Mica's own mitigations off (bti-thunk=jmp,
 *                            rsb=0, branch-harden=0)
 *   [no-]pv | pv=<bool>      all PV entry protections (for Mica: rsb)
 *   [no-]rsb | rsb=<bool> | rsb=pv=<bool>
 *   bti-thunk=retpoline|lfence|jmp
 *   [no-]branch-harden | branch-harden=<bool>
 * Xen's other items (ibrs=, ssbd=, rsb=hvm=, hvm=, ...) change nothing and
 * are listed in o->ignored.  As Xen 4.17's parse_spec_ctrl, a bad item (a
 * positive global boolean, an unknown item, a bad value) is left out and
 * the value's other items still apply, in order: returns the number of
 * bad items (> 0) with a sentence in err saying which was the first and
 * what was taken (the PARAM_CUSTOM "partly taken" answer, mica/param.h);
 * -1 with err set and *o unchanged for no value at all; otherwise 0.
 */
int spec_opts_parse(const char *value, struct spec_opts *o, char *err, size_t errlen);

const char *bti_thunk_name(enum bti_thunk t);

/*
 * Xen's per-domain-kind option lists (`pv-l1tf=`, `xpti=`): List of
 * [ <bool>, dom0[=<bool>], domu[=<bool>] ], plus `default` (both back to
 * "not given", -1) where allow_default.  NULL or empty: both on (Xen reads
 * a bare `xpti` or `pv-l1tf` as true).  Items apply left to right and a
 * bad item is left out, as Xen 4.17's parse_xpti / parse_pv_l1tf: sets
 * *hwdom / *domu from the good items and returns 0, or the number of bad
 * items with a sentence in err saying what was left out and taken.
 */
int spec_dom_list_parse(const char *value, bool allow_default, int *hwdom, int *domu,
                        char *err, size_t errlen);

/*
 * `xpti=` (XSA-254, Meltdown), Xen 4.17's syntax: <bool>, dom0=<bool>,
 * domu=<bool>, default.  -1 in *hwdom / *domu means "not given".
 */
int xpti_parse_option(const char *value, int *hwdom, int *domu, char *err, size_t errlen);

/*
 * Xen 4.17's default for what `xpti=` left at -1: on, unless the CPU is
 * not affected by Meltdown (vendor AMD or Hygon, or ARCH_CAPABILITIES
 * RDCL_NO), or `spec-ctrl=no` was given (Xen's global negative).
 */
void xpti_resolve_default(bool amd_or_hygon, bool rdcl_no, bool spec_ctrl_no, int *hwdom, int *domu);

#endif
