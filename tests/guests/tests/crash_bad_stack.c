/*
 * Hostile: an exception while the stack pointer lies in the hypervisor's
 * reserved range.  The bounce frame cannot be written there (and must not
 * be), so the hypervisor must crash the domain rather than write it or
 * fault itself.
 */
#include "guest.h"

enum result test_main(void)
{
    REQUIRE_EQ(traps_install(), 0);
    printk("faulting with RSP in the hypervisor's range: the domain must be crashed\n");
    __asm__ volatile("movq %%rsp, %%rbx\n\t"
                     "movabs $0xffff830000100000, %%rsp\n\t"
                     "ud2\n\t"
                     "movq %%rbx, %%rsp" ::: "rbx", "memory");
    printk("still running after a bounce onto the hypervisor's memory\n");
    return RESULT_FAILURE;
}
