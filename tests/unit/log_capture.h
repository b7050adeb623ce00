/*
 * What the code under test prints: unit tests list log_capture.c among
 * their unit-sources to get a printk()/printk_level() that keeps the text
 * in logbuf (and echoes it to stderr, for the test log), so they can
 * assert on diagnostics.
 */
#ifndef MICA_TESTS_LOG_CAPTURE_H
#define MICA_TESTS_LOG_CAPTURE_H

extern char logbuf[];
/* Messages at LOG_ERR, and at LOG_WARN or worse, since log_clear(). */
extern unsigned log_errors, log_warnings;
void log_clear(void);

#endif
