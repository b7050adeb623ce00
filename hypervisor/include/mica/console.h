/*
 * Mica's console: every message goes into a ring buffer (so nothing
 * printed before the serial port is set up is lost) and then to each
 * registered output device.
 */
#ifndef MICA_CONSOLE_H
#define MICA_CONSOLE_H

#include <mica/types.h>

struct console_device {
    const char *name;
    void (*write)(const char *s, size_t n);
    struct console_device *next;
};

struct domain;
/*
 * May Mica print one more line about a request of d it refused (why a
 * page table or a pin was refused)?  At the default log level, so that a
 * failure explains itself, but rate-limited per domain (a burst, then one
 * a second), so a guest that provokes refusals floods nothing.  Lines
 * dropped are counted in the next one allowed.
 */
bool domain_refusal_log_allowed(struct domain *d);

/* Starts sending output to dev, first replaying what the ring holds. */
void console_register(struct console_device *dev);

/* True when `console=` lists name (e.g. "com1"); the default is "com1". */
bool console_wanted(const char *name);

/* Current threshold from `loglvl=`. */
enum log_level console_loglevel(void);

/*
 * A character from the console: true when it was queued for dom0 (which
 * should then be told), false when Mica consumed it.
 */
bool console_input_char(char c);
/* Takes up to n queued characters for dom0. */
size_t console_input_read(char *buf, size_t n);
/* Mica's own debug keys (debug_keys.c). */
void debug_key(char c);

/* After a panic: drop locks and rate limits, just print. */
void console_force_unlock(void);
/*
 * Sends out what waits for a guest's open line (console.c), before a last
 * message: the machine is about to stop, the guest will not finish it.
 */
void console_end_hold(void);

/* XEN_SYSCTL_readconsole on Mica's console ring (see console.c). */
struct xen_sysctl_readconsole;
long console_ring_read(struct xen_sysctl_readconsole *op);

#endif
