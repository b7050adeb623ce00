/*
 * l1tf_pte with `pv-l1tf=domu` (what an affected CPU gets by default): the
 * same safe entries accepted, and the entry naming our own RAM frame, which
 * crashes a checked domain, written without complaint, because dom0 is
 * not checked unless `pv-l1tf` says so (Xen 4.17's default, kept by Mica;
 * docs/spec-ctrl.md).
 */
#define L1TF_DOM0_CHECKED 0
#include "l1tf_pte.c"
