/*
 * A page-table tree dom0, as a builder, writes into a new domain's
 * frames (tests mmu_pin_preempt_destroy, mmu_foreign_unpin_preempt,
 * vcpu_reset_preempt, destroy_tree_preempt): frame 0 the L4, 1 the L3, 2.. the NR_L2 L2s, then
 * L1s whose 512 entries all map the last frame (DATA) read-only, so
 * validating or de-validating the L4 walks about FRAMES x 512 entries.
 * Written through foreign mappings at our pool page MAP; nothing pinned.
 */
#ifndef DOM_TREE_H
#define DOM_TREE_H

#define MMU_POOL_PAGES 16
#include "toolstack.h"

#define FRAMES     1024
#define NR_L2      2
#define NR_L1      (FRAMES - 3 - NR_L2)
#define DATA       (FRAMES - 1)
#define MAP        8               /* our pool page for foreign mappings */
#define CODE_VA    0x400000UL      /* where a context on the tree would start */

static uint64_t m[FRAMES];
static domid_t id;

/* Writes dom's frame f through a foreign mapping: zeroes, then entries. */
static inline void dom_tree_fill(unsigned f, unsigned first, unsigned count)
{
    const uint64_t tf = PTE_P | PTE_RW | PTE_US | PTE_A;
    uint64_t *w = pool_page(MAP);

    REQUIRE_EQ(ts_map_foreign(MAP, m[f], true, id), 0);
    memset(w, 0, 4096);
    for (unsigned i = 0; i < count; i++) {
        unsigned t = first + i;
        if (f >= 2 + NR_L2)                             /* an L1: the data frame */
            w[i] = (m[DATA] << 12) | PTE_P | PTE_US | PTE_A;
        else if (f >= 2)                                /* an L2: L1s */
            w[i] = (m[2 + NR_L2 + t] << 12) | tf;
        else if (f == 1)                                /* the L3: L2s */
            w[i] = (m[2 + t] << 12) | tf;
        else                                            /* the L4: the L3 */
            w[i] = (m[1] << 12) | tf;
    }
}

/* A new domain (id) of FRAMES frames (m) holding the tree. */
static inline void dom_tree_create(void)
{
    REQUIRE_EQ(ts_create(), 0);
    id = ts_op.domain;
    REQUIRE_EQ(ts_max_mem(id, FRAMES), 0);
    REQUIRE_EQ(ts_populate(id, m, FRAMES), FRAMES);
    for (unsigned k = 0; k < NR_L1; k++)
        dom_tree_fill(2 + NR_L2 + k, 0, 512);
    for (unsigned j = 0; j < NR_L2; j++)
        dom_tree_fill(2 + j, j * 512, NR_L1 - j * 512 < 512 ? NR_L1 - j * 512 : 512);
    dom_tree_fill(1, 0, NR_L2);
    dom_tree_fill(0, 0, 1);
    REQUIRE_EQ(ts_unmap_foreign(MAP), 0);
}

/*
 * A kernel-mode register context for a vCPU of the new domain with the
 * tree's L4 as its root: what setvcpucontext needs to make the tree a
 * vCPU's CR3 (the vCPU is never run, so CODE_VA need hold no code).
 */
static inline void dom_tree_context(struct vcpu_guest_context *c)
{
    memset(c, 0, sizeof(*c));
    c->flags = VGCF_in_kernel;
    c->user_regs.rip = CODE_VA;
    c->user_regs.rsp = CODE_VA + 0x1000;
    c->user_regs.cs = FLAT_KERNEL_CS;
    c->user_regs.ss = FLAT_KERNEL_SS;
    c->user_regs.rflags = 0x2;
    c->kernel_ss = FLAT_KERNEL_SS;
    c->kernel_sp = CODE_VA + 0x1000;
    c->ctrlreg[3] = m[0] << 12;
}

#endif
