/*
 * The x86 branch-call-jump filter as .xz uses it (filter ID 0x04), decoding
 * direction.  The encoder turned the 32-bit relative targets of E8 (call)
 * and E9 (jmp) instructions into absolute ones so that repeated calls to the
 * same function compress better; this turns them back.
 *
 * Which E8/E9 bytes were converted is decided from the bytes alone, with a
 * small history of E8/E9 bytes seen in the three preceding positions that
 * were left alone: the rule has to match the encoder's exactly, so it is
 * kept literally as the format defines it.
 */
#include "decompress_priv.h"

/* Only a displacement whose top byte is 0x00 or 0xFF (within +-16 MiB) is converted. */
static inline bool near_msbyte(u8 b)
{
    return b == 0x00 || b == 0xff;
}

void bcj_x86_decode(u8 *buf, size_t len, u32 start_offset)
{
    /* For each 3-bit history: may a conversion happen, and which byte decides. */
    static const bool allowed[8] = { true, true, true, false, true, false, false, false };
    static const u8 probe[8] = { 0, 1, 2, 2, 3, 3, 3, 3 };

    if (len < 5)
        return;
    /* history bit k set: an unconverted E8/E9 sat k+1 bytes before the last one seen. */
    u32 history = 0;
    size_t last = (size_t)0 - 1;       /* position of the previous E8/E9 */
    u32 base = start_offset + 5;       /* offset of the byte after a 5-byte call */
    size_t i = 0;

    while (i + 5 <= len) {
        if ((buf[i] & 0xfe) != 0xe8) {
            i++;
            continue;
        }
        size_t gap = i - last;
        if (gap > 3) {
            history = 0;
        } else {
            history = (history << (gap - 1)) & 7;
            if (history && (!allowed[history] || near_msbyte(buf[i + 4 - probe[history]]))) {
                last = i;
                history = ((history << 1) & 7) | 1;
                i++;
                continue;
            }
        }
        last = i;
        if (!near_msbyte(buf[i + 4])) {
            history = ((history << 1) & 7) | 1;
            i++;
            continue;
        }
        u32 src = get_le32(buf + i + 1), dest;
        for (;;) {
            dest = src - (base + (u32)i);
            if (!history)
                break;
            unsigned shift = probe[history] * 8;
            if (!near_msbyte((u8)(dest >> (24 - shift))))
                break;
            src = dest ^ ((1u << (32 - shift)) - 1);
        }
        /* Bit 24 of the target decides between 0x00 and 0xFF as top byte. */
        buf[i + 4] = (dest >> 24) & 1 ? 0xff : 0x00;
        buf[i + 3] = (u8)(dest >> 16);
        buf[i + 2] = (u8)(dest >> 8);
        buf[i + 1] = (u8)dest;
        i += 5;
    }
}
