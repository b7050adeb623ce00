/*
 * A pseudo-terminal per guest console, as Xen's xenconsoled offers one:
 * the daemon holds the master side; the slave's path (/dev/pts/N) goes
 * into xenstore as the console's `tty` node, where `xl console` (Xen's
 * xenconsole) and libvirt's libxl driver look for it.
 *
 * The daemon keeps the slave open itself (a Linux pty master reads EIO
 * once the last slave descriptor is closed), in raw mode (no echo, no
 * line editing, bytes pass unchanged), and the master non-blocking.
 * Guest output that the pty cannot take now (nobody reads the slave and
 * its buffer is full) waits here, at most CONS_PTY_PENDING_MAX bytes,
 * the newest kept; the guest is never held up by a pty nobody reads.
 */
#ifndef CONS_PTY_H
#define CONS_PTY_H

#include <stdbool.h>
#include <stddef.h>

#define CONS_PTY_PENDING_MAX (64 * 1024)

struct cons_pty {
    int master;                 /* -1: no pty */
    int slave;                  /* held open by the daemon */
    char path[64];              /* the slave's name, for the tty node */
    char *pending;              /* CONS_PTY_PENDING_MAX bytes */
    size_t pending_len;
    unsigned long long dropped; /* output lost to a full pty and buffer */
};

/* Sets p to "no pty" (master -1); safe to close afterwards. */
void cons_pty_init(struct cons_pty *p);

/* Makes the pair; 0, or -errno with p left as "no pty". */
int cons_pty_open(struct cons_pty *p);

void cons_pty_close(struct cons_pty *p);

/* Guest output: queued behind what is pending, then written as far as the
 * pty takes it.  0, or -errno when the pty is broken (the caller makes a
 * new one). */
int cons_pty_output(struct cons_pty *p, const char *buf, size_t n);

/* Writes pending output (on POLLOUT); as cons_pty_output. */
int cons_pty_flush(struct cons_pty *p);

static inline bool cons_pty_has_pending(const struct cons_pty *p)
{
    return p->master >= 0 && p->pending_len > 0;
}

/* What a client typed on the slave: up to max bytes.  The count (0:
 * nothing now), or -errno when the pty is broken. */
long cons_pty_input(struct cons_pty *p, char *buf, size_t max);

#endif
