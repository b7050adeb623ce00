/* PIT channel 2 (and its gate in port 0x61) as the control domain sees it. */
#ifndef MICA_ASM_PIT_CH2_H
#define MICA_ASM_PIT_CH2_H

#include <mica/types.h>

/* True for a one-byte access to 0x42, 0x43 or 0x61. */
bool pit_ch2_port(u16 port, unsigned size);
u8 pit_ch2_in(u16 port);
void pit_ch2_out(u16 port, u8 val);

#endif
