/*
 * printk() and the console ring.
 *
 * Lines are prefixed with "(MICA) " so that Mica's output stays apart
 * from a guest's on a shared serial line, as Xen does with "(XEN) ".
 */
#include <asm/guest_access.h>
#include <asm/time.h>
#include <mica/console.h>
#include <mica/hypercall.h>
#include <mica/lib.h>
#include <mica/param.h>
#include <mica/spinlock.h>
#include <public/errno.h>
#include <public/sysctl.h>

#define CONRING_SIZE 16384       /* power of two */
#define LINE_PREFIX "(MICA) "

/*
 * Guards conring, conring_prod, devices, at_line_start, line_owner and
 * the held output below, and so the UART: Mica's messages and guests'
 * console_io output come out whole.
 * Innermost of all locks, since anything may print; taken with
 * interrupts off, as interrupt handlers print too.
 */
static DEFINE_SPINLOCK(console_lock, LOCK_ORDER_CONSOLE);
/* Guards the input ring further down; never held with console_lock. */
static DEFINE_SPINLOCK(input_lock, LOCK_ORDER_CONSOLE);
static char conring[CONRING_SIZE];
static u64 conring_prod;         /* total bytes ever written */
static u32 conring_clear;        /* readconsole's clear mark, in the 32-bit index space */
static struct console_device *devices;
static bool at_line_start = true;
/* Who wrote the open line (at_line_start false): a domid, or Mica. */
#define OWNER_MICA (-1)
static int line_owner = OWNER_MICA;

/*
 * A guest's write longer than one chunk goes out in pieces (console_io.c),
 * each under its own hold of console_lock.  While such a write is under
 * way with its line open, output for the devices from anyone else waits
 * here and goes out when the write ends, on a line of its own: Mica's
 * messages (which still reach the ring at once) and other domains' lines.
 * Bounded: when `held` is full, or after HOLD_MAX_NS (the writer stalled
 * in the middle of its write), the line is broken and the rest goes out.
 */
#define HELD_SIZE 2048
#define HOLD_MAX_NS 200000000ULL
static int hold_owner = -2;             /* the domid writing, or -2: no hold */
static u64 hold_since;
static char held[HELD_SIZE];
static size_t held_len;
static bool held_at_line_start = true;

static enum log_level loglevel = CONFIG_LOGLEVEL_DEFAULT;
static char opt_console[64] = "com1";
string_param("console", opt_console);

static const char *const level_names[] = {
    [LOG_NONE] = "none", [LOG_ERR] = "error", [LOG_WARN] = "warning",
    [LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

/*
 * `loglvl=<level>[/<rate-limited level>]` as Xen spells it; "all" is
 * debug.  The rate-limited half is accepted and ignored: Mica has no rate
 * limiting yet.
 */
static int parse_loglvl(const char *value, char *err, size_t errlen)
{
    char word[16];
    size_t n;

    if (!value)
        goto bad;
    n = strchr(value, '/') ? (size_t)(strchr(value, '/') - value) : strlen(value);
    if (n == 0 || n >= sizeof(word))
        goto bad;
    memcpy(word, value, n);
    word[n] = '\0';
    if (!strcmp(word, "all")) {
        loglevel = LOG_DEBUG;
        return 0;
    }
    for (unsigned i = 0; i < ARRAY_SIZE(level_names); i++) {
        if (!strcmp(word, level_names[i])) {
            loglevel = (enum log_level)i;
            return 0;
        }
    }
bad:
    snprintf(err, errlen, "use one of none, error, warning, info, debug, all");
    return -1;
}
custom_param("loglvl", parse_loglvl);

enum log_level console_loglevel(void)
{
    return loglevel;
}

bool console_wanted(const char *name)
{
    size_t n = strlen(name);

    for (const char *s = opt_console; *s; ) {
        const char *comma = strchr(s, ',');
        size_t len = comma ? (size_t)(comma - s) : strlen(s);
        if (len == n && !strncmp(s, name, n))
            return true;
        s += len + (comma ? 1 : 0);
    }
    return false;
}

static void emit_to_devices(const char *s, size_t n)
{
    for (struct console_device *d = devices; d; d = d->next)
        d->write(s, n);
}

/* Ends the hold: a newline if the holder's line is open, then what waited. */
static void hold_release(void)
{
    if (hold_owner == -2)
        return;
    hold_owner = -2;
    if (!held_len)
        return;
    if (!at_line_start)
        emit_to_devices("\n", 1);
    emit_to_devices(held, held_len);
    at_line_start = held_at_line_start;
    line_owner = OWNER_MICA;
    held_len = 0;
}

/* Output for the devices from anyone but the holder while a hold lasts. */
static void hold_add(const char *s, size_t n)
{
    if (held_len + n > sizeof(held) || now_ns() - hold_since > HOLD_MAX_NS) {
        hold_release();
        emit_to_devices(s, n);
        return;
    }
    memcpy(held + held_len, s, n);
    held_len += n;
}

static void emit(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        conring[(conring_prod + i) & (CONRING_SIZE - 1)] = s[i];
    conring_prod += n;
    if (hold_owner != -2)
        hold_add(s, n);
    else
        emit_to_devices(s, n);
}

static void emit_with_prefixes(const char *s)
{
    while (*s) {
        const char *nl = strchr(s, '\n');
        size_t len = nl ? (size_t)(nl - s) + 1 : strlen(s);
        bool holding = hold_owner != -2;

        /* A guest's open line is the guest's: Mica starts a line of its own. */
        if (!holding && !at_line_start && line_owner != OWNER_MICA) {
            emit_to_devices("\n", 1);
            at_line_start = true;
        }
        if (holding ? held_at_line_start : at_line_start)
            emit(LINE_PREFIX, sizeof(LINE_PREFIX) - 1);
        emit(s, len);
        if (hold_owner != -2) {
            held_at_line_start = nl != NULL;
        } else {                /* no hold, or it ended in emit() (full, or too long) */
            at_line_start = nl != NULL;
            line_owner = OWNER_MICA;
        }
        s += len;
    }
}

/*
 * Guest text goes out unprefixed; Mica's next message, or another
 * domain's text, starts on a line of its own so they never share a line.
 * It stays out of the ring, as on Xen (without console_to_ring): the ring
 * is the hypervisor's own log, which `xl dmesg` reads, and dom0's boot
 * would push Mica's out of it.
 */
void console_guest_write(unsigned domid, const char *s, size_t n, bool more)
{
    unsigned long flags;

    if (n == 0)
        return;
    spin_lock_irqsave(&console_lock, flags);
    if (hold_owner != -2 && hold_owner != (int)domid) {
        /* Another domain's write is under way with its line open: wait. */
        if (held_len && !held_at_line_start)
            hold_add("\n", 1);
        hold_add(s, n);
        if (hold_owner != -2) {
            held_at_line_start = s[n - 1] == '\n';
        } else {
            at_line_start = s[n - 1] == '\n';
            line_owner = (int)domid;
        }
        goto out;
    }
    if (!at_line_start && line_owner != (int)domid)
        emit_to_devices("\n", 1);
    emit_to_devices(s, n);
    at_line_start = s[n - 1] == '\n';
    line_owner = (int)domid;
    if (more && !at_line_start) {
        if (hold_owner == -2) {
            hold_owner = (int)domid;
            hold_since = now_ns();
            held_at_line_start = true;
        }
    } else {
        hold_release();
    }
out:
    spin_unlock_irqrestore(&console_lock, flags);
}

static void vprintk_level(enum log_level level, const char *fmt, va_list ap)
{
    char buf[512];
    unsigned long flags;

    if (level > loglevel)
        return;
    vsnprintf(buf, sizeof(buf), fmt, ap);
    spin_lock_irqsave(&console_lock, flags);
    emit_with_prefixes(buf);
    spin_unlock_irqrestore(&console_lock, flags);
}

void printk(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vprintk_level(LOG_INFO, fmt, ap);
    va_end(ap);
}

void printk_level(enum log_level level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vprintk_level(level, fmt, ap);
    va_end(ap);
}

void console_register(struct console_device *dev)
{
    unsigned long flags;
    u64 start;

    spin_lock_irqsave(&console_lock, flags);
    /* Registering twice would link the device to itself. */
    for (struct console_device *d = devices; d; d = d->next)
        if (d == dev)
            goto out;
    start = conring_prod > CONRING_SIZE ? conring_prod - CONRING_SIZE : 0;
    for (u64 i = start; i < conring_prod; i++)
        dev->write(&conring[i & (CONRING_SIZE - 1)], 1);
    dev->next = devices;
    devices = dev;
out:
    spin_unlock_irqrestore(&console_lock, flags);
}

/*
 * XEN_SYSCTL_readconsole.  Indices are the low 32 bits of the count of
 * bytes ever written, as Xen's: the oldest readable byte is the clear mark
 * or, once that has been overwritten, the oldest byte still in the ring.
 * An incremental read starts at op->index when that lies within what is
 * readable; clear moves the mark to where this read stopped.
 */
long console_ring_read(struct xen_sysctl_readconsole *op)
{
    /*
     * The ring moves while we read it, and copy_to_guest may fault: copy
     * a bounded piece under console_lock into a buffer, then to the guest
     * with the lock dropped, and work out afresh each time where the
     * oldest readable byte is (printk may have overwritten it meanwhile).
     */
    char piece[256];
    unsigned long flags;
    u32 done = 0;
    u32 from = op->index;
    bool first = true;

    for (;;) {
        u32 prod, oldest, len = 0;

        spin_lock_irqsave(&console_lock, flags);
        prod = (u32)conring_prod;
        oldest = prod - conring_clear > CONRING_SIZE ? prod - CONRING_SIZE : conring_clear;
        if (first) {
            if (!(op->incremental && from - oldest <= prod - oldest))
                from = oldest;
            first = false;
        } else if (from - oldest > prod - oldest) {
            from = oldest;              /* overwritten while we copied: skip ahead */
        }
        while (from + len != prod && done + len < op->count && len < sizeof(piece)) {
            piece[len] = conring[(from + len) & (CONRING_SIZE - 1)];
            len++;
        }
        if (len == 0 && op->clear)
            conring_clear = from;
        spin_unlock_irqrestore(&console_lock, flags);
        if (len == 0)
            break;
        if (copy_to_guest(op->buffer + done, piece, len))
            return -XEN_EFAULT;
        done += len;
        from += len;
    }
    op->count = done;
    op->index = from;
    return 0;
}

void console_end_hold(void)
{
    unsigned long flags;

    spin_lock_irqsave(&console_lock, flags);
    hold_release();
    spin_unlock_irqrestore(&console_lock, flags);
}

void console_force_unlock(void)
{
    /* A panic may come while this CPU (or a stuck one) holds the lock. */
    lock_debug_stop();
    spin_lock_init(&console_lock, "console_lock", LOCK_ORDER_CONSOLE);
    spin_lock_init(&input_lock, "console input_lock", LOCK_ORDER_CONSOLE);
    hold_release();             /* what waited for a guest's line goes out before the report */
}

/*
 * Console input.  Characters from the serial line go to dom0 (its
 * console_io reads drain this ring, and VIRQ_CONSOLE tells it there is
 * something to read), except that three Ctrl-A in a row switch input to
 * Mica's own debug keys and back, as on Xen.
 */
#define INPUT_RING 256
#define SWITCH_CHAR 0x01        /* Ctrl-A */

static char input_ring[INPUT_RING];     /* guarded by input_lock, as are the indexes */
static unsigned input_prod, input_cons;
/* Only the serial interrupt handler touches these: one CPU at a time. */
static bool input_to_mica;
static unsigned switch_presses;

bool console_input_char(char c)
{
    unsigned long flags;
    bool full;

    if (c == SWITCH_CHAR) {
        if (++switch_presses == 3) {
            switch_presses = 0;
            input_to_mica = !input_to_mica;
            printk("*** Serial input to %s (type Ctrl-A three times to switch)\n",
                   input_to_mica ? "Mica (press 'h' for help)" : "dom0");
        }
        return false;
    }
    switch_presses = 0;
    if (input_to_mica) {
        debug_key(c);
        return false;
    }
    spin_lock_irqsave(&input_lock, flags);
    full = input_prod - input_cons == INPUT_RING;
    if (!full)                  /* dom0 is not reading: drop rather than block */
        input_ring[input_prod++ % INPUT_RING] = c;
    spin_unlock_irqrestore(&input_lock, flags);
    return !full;
}

size_t console_input_read(char *buf, size_t n)
{
    unsigned long flags;
    size_t got = 0;

    spin_lock_irqsave(&input_lock, flags);
    while (got < n && input_cons != input_prod)
        buf[got++] = input_ring[input_cons++ % INPUT_RING];
    spin_unlock_irqrestore(&input_lock, flags);
    return got;
}
