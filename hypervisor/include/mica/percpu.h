/*
 * Per-CPU variables.
 *
 *     static DEFINE_PER_CPU(struct foo, foo);     in one .c file
 *     DECLARE_PER_CPU(struct foo, foo);           in its header, if shared
 *     this_cpu(foo).x = 1;                        this CPU's copy
 *     per_cpu(foo, cpu).x                         another CPU's copy
 *
 * DEFINE_PER_CPU places the variable in the linker's .bss.percpu range;
 * that range is CPU 0's copy.  Every other CPU gets a zeroed copy of the
 * whole range from percpu_area_init() before it runs C code that touches
 * per-CPU data, and per_cpu_offset[cpu] is the distance from CPU 0's copy
 * to its own.  Per-CPU variables therefore start out zero on every CPU;
 * initialisers are not allowed (the section holds no data).  Until its
 * area exists, a CPU's offset points into non-canonical addresses, so a
 * stray use faults at once instead of silently sharing CPU 0's copy.
 */
#ifndef MICA_PERCPU_H
#define MICA_PERCPU_H

#include <mica/smp.h>

#define DEFINE_PER_CPU(type, name) \
    __attribute__((section(".bss.percpu"), aligned(8))) __typeof__(type) per_cpu__##name
#define DECLARE_PER_CPU(type, name) extern __typeof__(type) per_cpu__##name

/* CPU 0's copy: the linker's .bss.percpu range. */
extern char __per_cpu_start[], __per_cpu_end[];

/* Offset of each CPU's copy from CPU 0's; guarded by the CPU bring-up path. */
extern unsigned long per_cpu_offset[NR_CPUS];

/* Hides the addition from the compiler's object-bounds reasoning. */
#define per_cpu_ptr(name, cpu) ({                                           \
    unsigned long pcp_ = (unsigned long)&per_cpu__##name;                    \
    __asm__("" : "+r"(pcp_));                                               \
    (__typeof__(&per_cpu__##name))(pcp_ + per_cpu_offset[(cpu)]);           \
})
#define per_cpu(name, cpu) (*per_cpu_ptr(name, cpu))
#define this_cpu(name)     per_cpu(name, smp_processor_id())

/*
 * Gives CPU cpu its zeroed copy of every per-CPU variable (CPU 0 has its
 * copy in the image).  Called on the boot CPU before cpu starts.
 * Returns 0, or -1 when the heap has no room (the CPU must stay down).
 */
int percpu_area_init(unsigned int cpu);

#endif
