/*
 * console_io: the control domain's console on Mica's serial line.
 *
 * Writes go out as the guest wrote them (no "(MICA)" prefix), so dom0's
 * console reads as it would on bare metal.  Reads hand over what the
 * serial line has received.  Other domains are refused, as on Xen, whose
 * release builds keep the hypervisor console to the control domain.
 */
#include <asm/current.h>
#include <asm/guest_access.h>
#include <asm/uart.h>
#include <mica/console.h>
#include <mica/domain.h>
#include <mica/hypercall.h>
#include <mica/lib.h>
#include <public/errno.h>
#include <public/xen.h>

#define CHUNK 128
/* Work done before giving the CPU back (see HYPERCALL_CONTINUE). */
#define BYTES_PER_PASS 65536

long do_console_io(int cmd, u64 count, u64 buf)
{
    struct domain *d = current_vcpu()->domain;
    char chunk[CHUNK];

    if (!d->is_privileged)
        return -XEN_EPERM;
    switch (cmd) {
    case CONSOLEIO_write: {
        u64 done = 0;
        count = (u32)count;             /* the ABI's count is an unsigned int */
        while (done < count) {
            size_t n = MIN((u64)CHUNK, count - done);
            if (done >= BYTES_PER_PASS && hypercall_may_continue()) {
                hypercall_continue_args((u64)cmd, count - done, buf + done);
                return HYPERCALL_CONTINUE;
            }
            if (copy_from_guest(chunk, buf + done, n))
                return -XEN_EFAULT;
            console_guest_write(chunk, n);
            done += n;
        }
        return 0;
    }
    case CONSOLEIO_read: {
        u64 n = 0;
        int c;
        count = (u32)count;
        while (n < count && (c = uart_getc()) >= 0) {
            char ch = (char)c;
            if (copy_to_guest(buf + n, &ch, 1))
                return -XEN_EFAULT;
            n++;
        }
        return (long)n;
    }
    default:
        return -XEN_ENOSYS;
    }
}
