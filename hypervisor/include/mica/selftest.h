/*
 * Deliberate failures on request (`selftest=<what>`), so tests can prove
 * that crash reporting works.  Only built with CONFIG_BOOT_SELFTEST.
 */
#ifndef MICA_SELFTEST_H
#define MICA_SELFTEST_H

#ifdef CONFIG_BOOT_SELFTEST
void selftest_run(void);
#else
static inline void selftest_run(void) { }
#endif

#endif
