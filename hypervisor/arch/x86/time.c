/*
 * TSC calibration and conversion.
 *
 * now_ns() scales TSC deltas with a 32.32 fixed-point multiplier so the
 * hot path is one multiply and a shift, never a division.
 */
#include <asm/io.h>
#include <asm/paging.h>
#include <asm/time.h>
#include <mica/lib.h>

#define PIT_HZ 1193182u
#define PIT_CH2_DATA 0x42
#define PIT_COMMAND 0x43
#define PIT_GATE_PORT 0x61      /* bit 0: channel 2 gate, bit 5: OUT2 */

#define HPET_CAPABILITIES 0x000
#define HPET_CONFIG 0x010
#define HPET_MAIN_COUNTER 0x0f0
#define HPET_ENABLE 1u
#define FS_PER_S 1000000000000000ULL

static u64 tsc_at_boot;
static u64 tsc_hz;
/*
 * TSC ticks to ns exactly as PV guests compute it from vcpu_time_info:
 * shift the delta by pv_shift, multiply by pv_mul, keep the top 64 bits
 * of the 96-bit product.  Mica uses the same numbers so that its clock
 * and the guests' never disagree.
 */
static u32 pv_mul;
static s8 pv_shift;
static u64 boot_wallclock;      /* seconds since 1970 at system time 0 */
static enum time_reference reference;
static volatile u64 *hpet_regs;
static u64 hpet_period_fs;

static u64 hpet_read(unsigned reg)
{
    return hpet_regs[reg / 8];
}

static bool hpet_setup(paddr_t pa)
{
    u64 caps;

    hpet_regs = ioremap(pa, 0x400);
    if (!hpet_regs)
        return false;
    caps = hpet_read(HPET_CAPABILITIES);
    hpet_period_fs = caps >> 32;
    /* The spec bounds the period to (0, 100 ns]. */
    if (hpet_period_fs == 0 || hpet_period_fs > 100000000ULL) {
        pr_warn("HPET at %#llx reports a period of %llu fs; not using it\n",
                (unsigned long long)pa, (unsigned long long)hpet_period_fs);
        return false;
    }
    hpet_regs[HPET_CONFIG / 8] = hpet_read(HPET_CONFIG) | HPET_ENABLE;
    return true;
}

/* Busy-waits ms milliseconds on the reference clock. */
static void wait_reference(unsigned ms)
{
    if (reference == TIME_REF_HPET) {
        u64 ticks = (u64)ms * 1000000000000ULL / hpet_period_fs;
        u64 start = hpet_read(HPET_MAIN_COUNTER);
        while (hpet_read(HPET_MAIN_COUNTER) - start < ticks)
            cpu_relax();
        return;
    }
    /* PIT channel 2 in mode 0 counts down once; OUT2 rises at zero. */
    u32 count = PIT_HZ * ms / 1000;
    outb(PIT_GATE_PORT, (inb(PIT_GATE_PORT) & ~0x02) | 0x01);
    outb(PIT_COMMAND, 0xb0);            /* channel 2, lobyte/hibyte, mode 0, binary */
    outb(PIT_CH2_DATA, (u8)count);
    outb(PIT_CH2_DATA, (u8)(count >> 8));
    for (u64 spins = 0; !(inb(PIT_GATE_PORT) & 0x20); spins++)
        if (spins > 100000000ULL) {
            pr_err("PIT channel 2 never reached zero; time calibration is a guess\n");
            break;
        }
}

void time_calibrate_window(unsigned ms, void (*start)(void), void (*stop)(void))
{
    start();
    wait_reference(ms);
    stop();
}

static u64 cal_tsc_start, cal_tsc_end;
static void tsc_mark_start(void) { cal_tsc_start = rdtsc(); }
static void tsc_mark_end(void) { cal_tsc_end = rdtsc(); }

/*
 * One HPET reading and the TSC at that moment: the midpoint of the TSC
 * read just before and just after it, from the tightest of a few tries.
 * An HPET read is slow (and under emulation may be held up for long), so
 * the TSC taken next to it is what makes the pair exact.
 */
static void hpet_tsc_pair(u64 *hpet, u64 *tsc)
{
    u64 best = ~0ULL;

    for (unsigned i = 0; i < 5; i++) {
        u64 t0 = rdtsc(), h = hpet_read(HPET_MAIN_COUNTER), t1 = rdtsc();
        if (t1 - t0 < best) {
            best = t1 - t0;
            *hpet = h;
            *tsc = t0 + (t1 - t0) / 2;
        }
    }
}

/*
 * The TSC's rate against the HPET's elapsed ticks, not against the
 * nominal window: the wait ends some time after the window does (a whole
 * HPET read, or more on a busy host), and counting that overshoot as part
 * of the window made the TSC look fast and guest clocks run slow (0.3 %
 * and worse under QEMU).
 */
static u64 tsc_hz_from_hpet(unsigned ms)
{
    u64 h0 = 0, t0 = 0, h1 = 0, t1 = 0, ticks = (u64)ms * 1000000000000ULL / hpet_period_fs;

    hpet_tsc_pair(&h0, &t0);
    while (hpet_read(HPET_MAIN_COUNTER) - h0 < ticks)
        cpu_relax();
    hpet_tsc_pair(&h1, &t1);
    /* TSC ticks per elapsed ns, times 1e9, without a 128-bit division. */
    u64 ns = (h1 - h0) * hpet_period_fs / 1000000, cycles = t1 - t0;
    if (!ns)
        return 0;
    return cycles / ns * 1000000000ULL + cycles % ns * 1000000000ULL / ns;
}

void time_init(paddr_t hpet_pa)
{
    const unsigned window_ms = 20, hpet_window_ms = 50;

    reference = TIME_REF_PIT;
    if (hpet_pa && hpet_setup(hpet_pa))
        reference = TIME_REF_HPET;
    if (reference == TIME_REF_HPET) {
        tsc_hz = tsc_hz_from_hpet(hpet_window_ms);
    } else {
        time_calibrate_window(window_ms, tsc_mark_start, tsc_mark_end);
        tsc_hz = (cal_tsc_end - cal_tsc_start) * (1000 / window_ms);
    }
    if (tsc_hz < 1000000) {
        pr_err("TSC runs at %llu Hz by calibration; assuming 1 GHz\n",
               (unsigned long long)tsc_hz);
        tsc_hz = 1000000000ULL;
    }
    /* 1e9 * 2^33 / hz is the multiplier for shift -1; normalize into [2^31, 2^32). */
    {
        u64 m = (1000000000ULL << 33) / tsc_hz;
        pv_shift = -1;
        while (m >= (1ULL << 32)) { m >>= 1; pv_shift++; }
        while (m < (1ULL << 31)) { m <<= 1; pv_shift--; }
        pv_mul = (u32)m;
    }
    tsc_at_boot = rdtsc();
    boot_wallclock = rtc_read_seconds();
}

u64 tsc_to_ns(u64 delta)
{
    u64 scaled = pv_shift >= 0 ? delta << pv_shift : delta >> -pv_shift;

    return (u64)(((unsigned __int128)scaled * pv_mul) >> 32);
}

u64 now_ns(void)
{
    return tsc_to_ns(rdtsc() - tsc_at_boot);
}

void time_pvclock(u64 *tsc, u64 *system_ns, u32 *mul, s8 *shift)
{
    *tsc = rdtsc();
    *system_ns = tsc_to_ns(*tsc - tsc_at_boot);
    *mul = pv_mul;
    *shift = pv_shift;
}

u64 time_boot_wallclock(void)
{
    return boot_wallclock;
}

/* CMOS real-time clock: registers in BCD unless status B says binary. */
static u8 cmos_read(u8 reg)
{
    outb(0x70, reg);
    return inb(0x71);
}

static unsigned from_bcd(u8 v, bool binary)
{
    return binary ? v : (v >> 4) * 10 + (v & 0xf);
}

u64 rtc_read_seconds(void)
{
    static const u16 days_before_month[12] = {
        0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334,
    };
    unsigned sec, min, hour, day, mon, year;
    bool binary, h24;
    u64 days;

    /* Wait out an update in progress so the fields belong together. */
    for (unsigned i = 0; i < 100000 && (cmos_read(0x0a) & 0x80); i++)
        cpu_relax();
    binary = cmos_read(0x0b) & 0x04;
    h24 = cmos_read(0x0b) & 0x02;
    sec = from_bcd(cmos_read(0x00), binary);
    min = from_bcd(cmos_read(0x02), binary);
    hour = cmos_read(0x04);
    day = from_bcd(cmos_read(0x07), binary);
    mon = from_bcd(cmos_read(0x08), binary);
    year = from_bcd(cmos_read(0x09), binary) + 2000;
    if (!h24) {
        bool pm = hour & 0x80;
        hour = from_bcd(hour & 0x7f, binary) % 12 + (pm ? 12 : 0);
    } else {
        hour = from_bcd(hour, binary);
    }
    if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60)
        return 0;
    days = (u64)(year - 1970) * 365 + (year - 1969) / 4 - (year - 1901) / 100 + (year - 1601) / 400;
    days += days_before_month[mon - 1] + day - 1;
    if (mon > 2 && year % 4 == 0 && (year % 100 != 0 || year % 400 == 0))
        days++;
    return days * 86400 + hour * 3600 + min * 60 + sec;
}

u64 tsc_khz(void)
{
    return tsc_hz / 1000;
}

enum time_reference time_reference(void)
{
    return reference;
}

const char *time_reference_name(void)
{
    return reference == TIME_REF_HPET ? "HPET" : reference == TIME_REF_PIT ? "PIT" : "none";
}

void udelay(u64 us)
{
    u64 hz = tsc_hz ? tsc_hz : 4000000000ULL;
    u64 start = rdtsc(), ticks = us * (hz / 1000000);

    while (rdtsc() - start < ticks)
        cpu_relax();
}

void mdelay(u64 ms)
{
    while (ms--)
        udelay(1000);
}
