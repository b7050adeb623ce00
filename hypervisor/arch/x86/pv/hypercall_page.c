/*
 * The hypercall page a PV guest calls through.  Its contents are part of
 * the ABI: 128 stubs of 32 bytes, stub n making hypercall n with SYSCALL
 * and preserving RCX and R11 (which SYSCALL clobbers); the iret stub
 * pushes the top of the iret frame and never returns.  Unused bytes are
 * INT3 so a stray jump traps.
 */
#include <asm/pv.h>
#include <mica/lib.h>
#include <public/xen.h>

#define STUB_SIZE 32
#define NR_STUBS 128

void pv_fill_hypercall_page(u8 *page)
{
    memset(page, 0xcc, PAGE_SIZE);
    for (unsigned i = 0; i < NR_STUBS; i++) {
        u8 *p = page + i * STUB_SIZE;
        unsigned n = 0;

        p[n++] = 0x51;                          /* push %rcx */
        p[n++] = 0x41; p[n++] = 0x53;           /* push %r11 */
        if (i == __HYPERVISOR_iret)
            p[n++] = 0x50;                      /* push %rax */
        p[n++] = 0xb8;                          /* mov $i, %eax */
        p[n++] = (u8)i; p[n++] = 0; p[n++] = 0; p[n++] = 0;
        p[n++] = 0x0f; p[n++] = 0x05;           /* syscall */
        if (i == __HYPERVISOR_iret)
            continue;
        p[n++] = 0x41; p[n++] = 0x5b;           /* pop %r11 */
        p[n++] = 0x59;                          /* pop %rcx */
        p[n++] = 0xc3;                          /* ret */
    }
}
