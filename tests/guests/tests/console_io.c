/*
 * console_io (18): dom0 writes with CONSOLEIO_write; the hypervisor must
 * check the buffer like any other guest pointer and refuse unknown
 * sub-ops.
 */
#include "guest.h"

enum result test_main(void)
{
    static const char msg[] = "console_io: a line written in one call\n";
    long rc;

    REQUIRE_EQ(traps_install(), 0);

    rc = HYPERVISOR_console_io(CONSOLEIO_write, sizeof(msg) - 1, msg);
    CHECK_EQ(rc, 0);

    /* A line in several pieces, each its own hypercall. */
    CHECK_EQ(HYPERVISOR_console_io(CONSOLEIO_write, 11, "console_io:"), 0);
    CHECK_EQ(HYPERVISOR_console_io(CONSOLEIO_write, 7, " pieces"), 0);
    CHECK_EQ(HYPERVISOR_console_io(CONSOLEIO_write, 1, "\n"), 0);

    /* Nothing to write: nothing to check either, so it succeeds. */
    CHECK_EQ(HYPERVISOR_console_io(CONSOLEIO_write, 0, NULL), 0);

    /* Unmapped, hypervisor-owned and non-canonical buffers. */
    CHECK_EQ(HYPERVISOR_console_io(CONSOLEIO_write, 16, (void *)0x1000), -XEN_EFAULT);
    CHECK_EQ(HYPERVISOR_console_io(CONSOLEIO_write, 16, (void *)HYPERVISOR_VIRT_START + 0x40000000000UL),
             -XEN_EFAULT);
    CHECK_EQ(HYPERVISOR_console_io(CONSOLEIO_write, 16, (void *)0x0000800000000000UL), -XEN_EFAULT);

    /* A buffer that runs off the end of the bootstrap region. */
    const char *edge = (const char *)bootstrap_end() - 16;
    CHECK_EQ(HYPERVISOR_console_io(CONSOLEIO_write, 64, edge), -XEN_EFAULT);
    CHECK_EQ(HYPERVISOR_console_io(CONSOLEIO_write, 0x7fffffff, edge), -XEN_EFAULT);

    /* The count is 32 bits wide: the upper half of the register is ignored. */
    CHECK_EQ(HYPERVISOR_console_io(CONSOLEIO_write, (1UL << 32) | 20, "console_io: 32 bits\n"), 0);

    /* Unknown sub-ops. */
    CHECK_EQ(HYPERVISOR_console_io(2, 1, msg), -XEN_ENOSYS);
    CHECK_EQ(HYPERVISOR_console_io(0x7fffffff, 1, msg), -XEN_ENOSYS);

    /* Reading with no input pending returns no bytes. */
    static char in[16];
    CHECK_EQ(HYPERVISOR_console_io(CONSOLEIO_read, sizeof(in), in), 0);
    return RESULT_SUCCESS;
}
