/*
 * Physical CPUs: which are online, and bringing up the secondary ones.
 *
 * CPU numbers are Mica's own: 0 is the boot CPU, the others follow the
 * order of the enabled CPUs in ACPI's MADT.  A CPU that fails to start
 * keeps its number and stays offline, so numbers never move.
 */
#ifndef ASM_SMP_H
#define ASM_SMP_H

#include <mica/acpi.h>
#include <mica/bootinfo.h>
#include <mica/cpumask.h>
#include <mica/smp.h>
#include <mica/types.h>

/* The CPUs that finished bring-up; bits are only ever set (at boot). */
extern cpumask_t cpu_online_map;

/*
 * Starts every enabled CPU the MADT lists (acpi NULL: none), at most
 * `maxcpus=` of them counting the boot CPU, and waits until each one is
 * online or has been given up on.  Returns the number of CPUs online.
 * The boot CPU must have finished its own set-up (pv_cpu_init()).
 */
unsigned smp_boot_cpus(const struct acpi_info *acpi, const struct boot_info *bi);

unsigned num_online_cpus(void);
static inline bool cpu_online(unsigned cpu)
{
    return cpu < NR_CPUS && cpumask_test_cpu(cpu, &cpu_online_map);
}
/* Highest CPU number in use (online or not), as sysctl physinfo's max_cpu_id. */
unsigned smp_max_cpu_id(void);
u32 cpu_apic_id(unsigned cpu);
void cpu_topology_ids(unsigned cpu, u32 *core, u32 *socket);
/* The thread within its core (the APIC ID's SMT bits; 0 without CPUID leaf 0xb). */
u32 cpu_thread_id(unsigned cpu);
/* Topology of the online CPUs, as Xen's physinfo reports it. */
void smp_topology(u32 *threads_per_core, u32 *cores_per_socket);

/* The stacks ap_start64 picks by initial APIC ID; 0: not expected. */
extern u64 ap_stack_top[256];

#endif
