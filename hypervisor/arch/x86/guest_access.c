/*
 * Guest memory access with fault recovery; see asm/guest_access.h.
 */
#include <asm/extable.h>
#include <asm/guest_access.h>
#include <asm/layout.h>
#include <asm/nospec.h>
#include <mica/lib.h>
#include <public/errno.h>

u64 raw_copy(void *dst, const void *src, u64 len);

u64 search_exception_table(u64 rip)
{
    /* The linker bounds one table; comparing the two is well defined here. */
    // cppcheck-suppress comparePointers
    for (const struct exception_entry *e = __ex_table_start; e < __ex_table_end; e++)
        if (e->insn == rip)
            return e->fixup;
    return 0;
}

bool guest_range_ok(u64 va, size_t len)
{
    u64 last = va + len - 1;

    if (len == 0)
        return true;
    if (last < va || !is_canonical(va) || !is_canonical(last))
        return false;
    /* Neither end inside Mica's area, and not spanning it. */
    if (va < HYPERVISOR_AREA_END && last >= HYPERVISOR_AREA_START)
        return false;
    return true;
}

/* The checked pointer, harmless should the check be run past (asm/nospec.h). */
static inline u64 guest_va_nospec(u64 va)
{
    return arch_guest_va_nospec(va, HYPERVISOR_AREA_END);
}

int copy_from_guest(void *dst, u64 guest_va, size_t len)
{
    if (!guest_range_ok(guest_va, len))
        return -XEN_EFAULT;
    guest_va = guest_va_nospec(guest_va);
    return raw_copy(dst, (const void *)(uintptr_t)guest_va, len) ? -XEN_EFAULT : 0;
}

int copy_to_guest(u64 guest_va, const void *src, size_t len)
{
    if (!guest_range_ok(guest_va, len))
        return -XEN_EFAULT;
    guest_va = guest_va_nospec(guest_va);
    return raw_copy((void *)(uintptr_t)guest_va, src, len) ? -XEN_EFAULT : 0;
}
