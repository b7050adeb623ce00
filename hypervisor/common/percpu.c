/*
 * Per-CPU areas (mica/percpu.h): CPU 0 uses the copy in the image, every
 * other CPU a zeroed heap copy made before it starts.
 */
#include <mica/percpu.h>
#include <mica/heap.h>
#include <mica/lib.h>

/*
 * Added to a hypervisor address this gives a non-canonical one, so a CPU
 * without an area faults on its first per-CPU access.
 */
#define PERCPU_OFFSET_NONE (-(1UL << 46))

unsigned long per_cpu_offset[NR_CPUS] = {
    [0] = 0,
#if NR_CPUS > 1
    [1 ... NR_CPUS - 1] = PERCPU_OFFSET_NONE,
#endif
};

int percpu_area_init(unsigned int cpu)
{
    size_t size = (size_t)(__per_cpu_end - __per_cpu_start);
    char *area;

    ASSERT(cpu < NR_CPUS);
    if (cpu == 0 || per_cpu_offset[cpu] != PERCPU_OFFSET_NONE)
        return 0;
    area = xmalloc_aligned(size ? size : 64, 64);
    if (!area) {
        pr_err("percpu: no heap room for CPU %u's %zu-byte per-CPU area\n", cpu, size);
        return -1;
    }
    memset(area, 0, size);
    per_cpu_offset[cpu] = (unsigned long)(area - __per_cpu_start);
    return 0;
}
