/*
 * Releasing a dead PV domain's memory: the MM teardown (mm_teardown.c)
 * drops every reference the domain's own tables, pins, roots and
 * registered pages hold, frees what nobody else references, and keeps
 * the frames other domains still map until they let go.
 *
 * A domain's frames are found through the frame table: page_info.owner
 * names the domain for every frame the builder or memory_op gave it.
 * The walk covers the whole table a few times, O(host frames), and may
 * be preempted and continued (docs/hypercalls.md); a per-domain page
 * list can replace it when domains get large and many.
 */
#include <asm/descriptor.h>
#include <asm/pv_mm.h>
#include <asm/pv_teardown.h>

long pv_domain_relinquish_memory(struct domain *d, bool preemptible)
{
    long rc = pv_mm_teardown(d, preemptible);

    if (rc)
        return rc;
    /* The per-domain area's tables are Mica's own frames: not in the owner walk. */
    pv_gdt_domain_destroy(d);
    return 0;
}
