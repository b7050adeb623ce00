/*
 * 16550-compatible UART on COM1, Mica's serial console.
 *
 * `com1=<baud>[/<clock-hz>][,DPS[,<io-base>]]` follows Xen's spelling:
 * DPS is data bits (5-8), parity (n, o, e, m, s) and stop bits (1, 2),
 * e.g. `com1=115200,8n1`.  `baud` may be "auto" to keep what the
 * firmware or loader programmed.
 */
#include <asm/io.h>
#include <asm/ioapic.h>
#include <asm/lapic.h>
#include <asm/traps.h>
#include <mica/domain.h>
#include <mica/event.h>
#include <asm/uart.h>
#include <mica/console.h>
#include <mica/lib.h>
#include <mica/param.h>

#define UART_CLOCK_HZ 1843200u

/* Register offsets from the base port. */
enum {
    RBR = 0, THR = 0, DLL = 0, IER = 1, DLM = 1, FCR = 2, LCR = 3,
    MCR = 4, LSR = 5,
};
#define LCR_DLAB 0x80
#define LSR_THRE 0x20
#define LSR_DR   0x01

struct uart_config {
    u16 port;
    u32 baud;           /* 0: leave the divisor alone */
    u32 clock_hz;
    u8 lcr;             /* data bits, parity and stop bits */
};

static struct uart_config com1 = {
    .port = CONFIG_CONSOLE_COM1_PORT,
    .baud = CONFIG_CONSOLE_BAUD,
    .clock_hz = UART_CLOCK_HZ,
    .lcr = 0x03,        /* 8n1 */
};

static int parse_dps(const char *s, size_t n, u8 *lcr, char *err, size_t errlen)
{
    u8 v;

    if (n != 3 || s[0] < '5' || s[0] > '8' || (s[2] != '1' && s[2] != '2'))
        goto bad;
    v = (u8)(s[0] - '5');
    switch (s[1]) {
    case 'n': break;
    case 'o': v |= 0x08; break;
    case 'e': v |= 0x18; break;
    case 'm': v |= 0x28; break;
    case 's': v |= 0x38; break;
    default: goto bad;
    }
    if (s[2] == '2')
        v |= 0x04;
    *lcr = v;
    return 0;
bad:
    snprintf(err, errlen, "'%.*s' is not data bits, parity, stop bits (like 8n1)", (int)n, s);
    return -1;
}

static int parse_com1(const char *value, char *err, size_t errlen)
{
    struct uart_config c = com1;
    const char *s = value, *end;
    u64 v;

    if (!value) {
        snprintf(err, errlen, "needs settings, like com1=115200,8n1");
        return -1;
    }
    if (!strncmp(s, "auto", 4)) {
        c.baud = 0;
        s += 4;
    } else {
        if (parse_uint(s, &end, &v) || v == 0 || v > 4000000) {
            snprintf(err, errlen, "baud rate must be a number from 1 to 4000000 or 'auto', like com1=115200,8n1");
            return -1;
        }
        c.baud = (u32)v;
        s = end;
    }
    if (*s == '/') {
        if (parse_uint(s + 1, &end, &v) || v < 1200 || v > 0xffffffffu) {
            snprintf(err, errlen, "clock after '/' must be the UART clock in Hz, like 1843200");
            return -1;
        }
        c.clock_hz = (u32)v;
        s = end;
    }
    if (*s == ',') {
        const char *dps = ++s;
        const char *comma = strchr(dps, ',');
        size_t n = comma ? (size_t)(comma - dps) : strlen(dps);
        if (n && parse_dps(dps, n, &c.lcr, err, errlen))
            return -1;
        s = dps + n;
        if (*s == ',') {
            if (parse_uint(s + 1, &end, &v) || v == 0 || v > 0xfff8) {
                snprintf(err, errlen, "I/O base must be a port number, like 0x3f8");
                return -1;
            }
            c.port = (u16)v;
            s = end;
            if (*s == ',') {
                /* An IRQ may follow; Mica polls, so it is not needed. */
                s += strlen(s);
            }
        }
    }
    if (*s) {
        snprintf(err, errlen, "unexpected '%s'; form is <baud>[/<clock>][,8n1[,<io-base>]]", s);
        return -1;
    }
    if (c.baud && c.clock_hz / 16 / c.baud == 0) {
        snprintf(err, errlen, "baud rate %u is too high for a %u Hz clock", c.baud, c.clock_hz);
        return -1;
    }
    com1 = c;
    return 0;
}
custom_param("com1", parse_com1);

static void uart_putc(char c)
{
    /* Bounded wait: a missing UART must not hang Mica forever. */
    for (unsigned i = 0; i < 100000 && !(inb(com1.port + LSR) & LSR_THRE); i++)
        cpu_relax();
    outb(com1.port + THR, (u8)c);
}

static void uart_write(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n')
            uart_putc('\r');
        uart_putc(s[i]);
    }
}

static struct console_device com1_console = { .name = "com1", .write = uart_write };

void uart_init(void)
{
    if (com1.baud) {
        u32 divisor = com1.clock_hz / 16 / com1.baud;
        outb(com1.port + IER, 0);
        outb(com1.port + LCR, LCR_DLAB);
        outb(com1.port + DLL, (u8)divisor);
        outb(com1.port + DLM, (u8)(divisor >> 8));
    }
    outb(com1.port + LCR, com1.lcr);
    outb(com1.port + FCR, 0x07);        /* enable and clear FIFOs */
    outb(com1.port + MCR, 0x03);        /* DTR, RTS */
}

void uart_console_start(void)
{
    if (!console_wanted("com1"))
        return;
    uart_init();
    console_register(&com1_console);
}

/* Received characters: to the console, and an event for dom0 if queued. */
static void uart_interrupt(struct cpu_regs *regs)
{
    bool for_dom0 = false;
    int c;

    for (unsigned i = 0; i < 64 && (c = uart_getc()) >= 0; i++)
        for_dom0 |= console_input_char((char)c);
    lapic_eoi();
    if (for_dom0)
        send_guest_global_virq(domain_by_id(0), VIRQ_CONSOLE);
}

void uart_input_start(void)
{
    unsigned gsi = 4;
    bool level = false, low = false;

    if (!console_wanted("com1"))
        return;
    ioapic_isa_override(4, &gsi, &level, &low);
    if (!ioapic_route(gsi, UART_VECTOR, level, low))
        return;
    ioapic_claim_gsi(gsi);
    set_irq_handler(UART_VECTOR, uart_interrupt);
    outb(com1.port + IER, 0x01);                /* received data available */
    outb(com1.port + MCR, 0x0b);                /* DTR, RTS, OUT2 (IRQ line on) */
    ioapic_mask(gsi, false);
}

int uart_getc(void)
{
    if (!(inb(com1.port + LSR) & LSR_DR))
        return -1;
    return inb(com1.port + RBR);
}

void uart_describe(char *buf, size_t len)
{
    static const char parity[] = "noxexmxs";
    snprintf(buf, len, "port %#x, %u baud, %u%c%u", com1.port, com1.baud,
             (unsigned)(com1.lcr & 3) + 5, (com1.lcr & 0x08) ? parity[(com1.lcr >> 3) & 7] : 'n',
             (com1.lcr & 0x04) ? 2u : 1u);
}
