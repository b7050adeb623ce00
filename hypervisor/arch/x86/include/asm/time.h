/*
 * Time: the TSC as Mica's monotonic clock, calibrated at boot against the
 * HPET when ACPI describes one, else against the PIT.
 */
#ifndef ASM_TIME_H
#define ASM_TIME_H

#include <mica/types.h>

/* Calibration reference chosen at boot. */
enum time_reference { TIME_REF_NONE, TIME_REF_PIT, TIME_REF_HPET };

/*
 * Calibrates the TSC (and the local APIC timer, through lapic.c) over one
 * reference interval.  hpet_pa is 0 when there is no HPET.
 */
void time_init(paddr_t hpet_pa);

/* Nanoseconds since time_init(); monotonic. */
u64 now_ns(void);
u64 tsc_to_ns(u64 tsc_delta);

/* A consistent sample for a PV guest's vcpu_time_info. */
void time_pvclock(u64 *tsc, u64 *system_ns, u32 *mul, s8 *shift);
/* Wall-clock seconds (UTC, since 1970) at system time 0. */
u64 time_boot_wallclock(void);
u64 rtc_read_seconds(void);

u64 tsc_khz(void);
enum time_reference time_reference(void);
const char *time_reference_name(void);

/* Busy waits; before calibration they assume a fast (4 GHz) TSC. */
void udelay(u64 us);
void mdelay(u64 ms);

/*
 * Runs fn(arg) at the start and end of a reference interval of
 * about ms milliseconds, for calibrating other counters against the same
 * window as the TSC.
 */
void time_calibrate_window(unsigned ms, void (*start)(void), void (*stop)(void));

#endif
