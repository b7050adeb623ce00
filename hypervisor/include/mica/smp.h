/*
 * CPU numbering.  Each physical CPU Mica runs on has a number below
 * NR_CPUS, kept in the struct cpu_info at the top of its stack
 * (asm/current.h), so finding it costs one mask of %rsp and a load.
 */
#ifndef MICA_SMP_H
#define MICA_SMP_H

#include <mica/types.h>
#include <asm/current.h>

/* The Kconfig limit on physical CPUs sizes every per-CPU table. */
#define NR_CPUS CONFIG_MAX_CPUS

static inline unsigned int smp_processor_id(void)
{
    return (unsigned int)get_cpu_info()->processor_id;
}

/*
 * True while this CPU runs a function another CPU asked it to run
 * (an IPI call, arch code): such a function must take no lock.
 */
#ifndef MICA_HOST_TEST
bool smp_in_ipi_function(void);
#else
static inline bool smp_in_ipi_function(void) { return false; }
#endif

#endif
