/* Grant table for the test kernels' front ends (see gnttab.h). */
#include "gnttab.h"

static uint8_t table_page[4096] __attribute__((aligned(4096), section(".bss.page_aligned")));
static volatile struct grant_entry_v1 *table;
static bool taken[GNTTAB_NR_REFS];
static unsigned in_use;

long gnttab_init(void)
{
    struct gnttab_set_version ver = { .version = 1 };
    struct gnttab_setup_table s = { .dom = DOMID_SELF, .nr_frames = 1 };
    uint64_t frame;
    long rc;

    if (table)
        return 0;
    if ((rc = HC(__HYPERVISOR_grant_table_op, GNTTABOP_set_version, &ver, 1)))
        return rc;
    s.frame_list = (uint64_t)&frame;
    if ((rc = HC(__HYPERVISOR_grant_table_op, GNTTABOP_setup_table, &s, 1)))
        return rc;
    if (s.status)
        return s.status;
    if ((rc = map_mfn(table_page, frame, PTE_P | PTE_RW | PTE_A | PTE_D)))
        return rc;
    table = (volatile struct grant_entry_v1 *)table_page;
    return 0;
}

int gnttab_grant_page(uint16_t domid, const void *va, bool readonly)
{
    for (unsigned ref = GNTTAB_FIRST_FREE; ref < GNTTAB_NR_REFS; ref++) {
        if (taken[ref])
            continue;
        taken[ref] = true;
        in_use++;
        table[ref].domid = domid;
        table[ref].frame = (uint32_t)va_to_mfn(va);
        /* The peer may use the entry as soon as the flags say so. */
        __asm__ volatile("" ::: "memory");
        table[ref].flags = (uint16_t)(GTF_permit_access | (readonly ? GTF_readonly : 0));
        return (int)ref;
    }
    return -1;
}

bool gnttab_end(unsigned ref)
{
    uint16_t f;

    if (ref >= GNTTAB_NR_REFS || !taken[ref])
        return false;
    /* Only an entry nobody is reading or writing through may be revoked;
     * the exchange fails if the peer mapped it in between. */
    f = table[ref].flags;
    if (f & (GTF_reading | GTF_writing))
        return false;
    if (!__sync_bool_compare_and_swap(&table[ref].flags, f, 0))
        return false;
    taken[ref] = false;
    in_use--;
    return true;
}

unsigned gnttab_in_use(void)
{
    return in_use;
}
