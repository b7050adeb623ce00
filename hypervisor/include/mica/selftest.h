/*
 * Deliberate failures on request (`selftest=<what>`), so tests can prove
 * that crash reporting works.  Only built with CONFIG_BOOT_SELFTEST.
 */
#ifndef MICA_SELFTEST_H
#define MICA_SELFTEST_H

#ifdef CONFIG_BOOT_SELFTEST
void selftest_run(void);
/* After the other CPUs are up and answer IPIs (the SMP cases). */
void selftest_run_smp(void);
/* A secondary CPU waiting for the scheduler: its part of an SMP case, if any. */
void selftest_secondary(void);
#else
static inline void selftest_run(void) { }
static inline void selftest_run_smp(void) { }
static inline void selftest_secondary(void) { }
#endif

#endif
