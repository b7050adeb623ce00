/*
 * The L1TF rules for PV page tables (XSA-273), as pure functions of the
 * CPU's identity and the option, so that host unit tests can check them
 * (tests/unit/test_l1tf.c).  spec_ctrl.c feeds them the real CPU.
 */
#ifndef ASM_L1TF_H
#define ASM_L1TF_H

#include <mica/types.h>

/* What the decision needs to know about the boot CPU and the machine. */
struct l1tf_cpu {
    bool intel;                 /* vendor GenuineIntel */
    unsigned family, model;     /* display family and model (extended fields folded in) */
    bool rdcl_no;               /* MSR_ARCH_CAPABILITIES.RDCL_NO */
    unsigned paddr_bits;        /* CPUID 0x80000008 EAX[7:0] (36 without the leaf) */
    u64 mmap_end;               /* end of the firmware memory map's last entry, or 0 */
    bool amd_or_hygon;          /* AuthenticAMD or HygonGenuine (only XPTI's default needs it) */
};

struct l1tf_state {
    bool affected;              /* the CPU is believed affected */
    unsigned l1d_bits;          /* address bits the L1D looks up */
    u64 addr_mask;              /* the frame bits of a PTE the L1D sees */
    u64 safe_maddr;             /* from here up nothing cacheable can be hit */
};

void l1tf_compute(const struct l1tf_cpu *c, struct l1tf_state *s);

/*
 * Whether `pte`, an entry of a level-`level` table (1-4), could leak host
 * memory: non-present, and either PSE at levels 2-4 or an address, other
 * than 0, below the safe address.  Present entries are never unsafe here
 * (validation makes them name the domain's own frames).
 */
bool l1tf_pte_unsafe(const struct l1tf_state *s, unsigned level, u64 pte);

/*
 * `pv-l1tf` = List of [ <bool>, dom0=<bool>, domu=<bool> ] (Xen 4.17's
 * syntax; NULL or empty: both on; `no-dom0` / `no-domu` too).  Sets
 * *hwdom / *domu (0 or 1) for what the value names; returns 0, or -1 with
 * a sentence in err (the settings then stay as they were).
 */
int l1tf_parse_option(const char *value, int *hwdom, int *domu, char *err, size_t errlen);

#endif
