/*
 * PIT channel 2 for the control domain.  Linux calibrates its CPU clock
 * against channel 2 (ports 0x42/0x43, gate and output on port 0x61) even
 * as a PV dom0; Xen 4.17 lets the hardware domain reach channel 2 itself
 * while Xen does not use it, and so does Mica.  Refused, as before, the
 * port reads ~0 and Linux's quick calibration loop spins until its own
 * limit of 100000 trapped reads: most of a second under QEMU.
 *
 * Mica touches channel 2 only to calibrate its clocks at start of day,
 * and only when there is no HPET; with the PIT as its reference it keeps
 * the ports to itself.  Channels 0 and 1 and the other bits of port 0x61
 * (NMI enables) stay out of reach: mode writes must select channel 2 and
 * writes to 0x61 change only the gate and speaker bits.
 */
#include <asm/io.h>
#include <asm/pit_ch2.h>
#include <asm/time.h>

#define PIT_CH2      0x42
#define PIT_MODE     0x43
#define PIT_GATE     0x61
#define GATE_BITS    0x03               /* channel 2 gate, speaker data */

static bool channel2_free(void)
{
    return time_reference() != TIME_REF_PIT;
}

bool pit_ch2_port(u16 port, unsigned size)
{
    return size == 1 && (port == PIT_CH2 || port == PIT_MODE || port == PIT_GATE);
}

u8 pit_ch2_in(u16 port)
{
    if (!channel2_free())
        return 0xff;
    switch (port) {
    case PIT_CH2:
        return inb(PIT_CH2);
    case PIT_GATE:
        return inb(PIT_GATE);
    default:
        return 0xff;                    /* the mode register cannot be read */
    }
}

void pit_ch2_out(u16 port, u8 val)
{
    if (!channel2_free())
        return;
    switch (port) {
    case PIT_CH2:
        outb(PIT_CH2, val);
        break;
    case PIT_MODE:
        if ((val & 0xc0) == 0x80)                       /* a command for channel 2 */
            outb(PIT_MODE, val);
        else if ((val & 0xc0) == 0xc0 && (val & 0x08))  /* read-back: channel 2 only */
            outb(PIT_MODE, val & 0xf8);
        break;
    case PIT_GATE:
        outb(PIT_GATE, (u8)((inb(PIT_GATE) & ~GATE_BITS) | (val & GATE_BITS)));
        break;
    }
}
