/*
 * Hostile: an exception with no handler registered.  The hypervisor has
 * nowhere to bounce it, so it must crash the domain (for dom0: the
 * machine stops with the hypervisor's crash message); it must neither
 * hang nor let the kernel carry on.
 */
#include "guest.h"

enum result test_main(void)
{
    printk("executing ud2 with no trap table: the domain must be crashed\n");
    __asm__ volatile("ud2");
    printk("still running after an unhandled #UD\n");
    return RESULT_FAILURE;
}
