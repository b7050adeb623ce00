/*
 * memdirty ALLOC_MIB WSS_MIB RATE [WORDS]: the busy process of the state benches
 * (bench/save-restore, bench/migrate; docs/benchmarks.md), run in the
 * Linux domU's busybox initramfs (mica.domu=dirty).
 *
 * Allocates ALLOC_MIB MiB, fills every page with non-zero data (so that a
 * save stores them), then writes one 8-octet word into each page of the
 * first WSS_MIB MiB in turn, round and round, at RATE pages per second
 * (0: as fast as it can), WORDS 8-octet words per page visit (default 1;
 * 512 writes the whole page).  Every 2 s it prints how many pages it wrote
 * and its rate over those 2 s:
 *     memdirty: t 12 pages 24576 rate 2048 pages/s
 * A save and restore or a migration must leave the count going on; with
 * RATE 0 the printed rate is the guest's memory-writing speed (log-dirty
 * overhead: the same with tracking on and off).
 *
 * No libc: raw Linux system calls, so that the static binary is a few KiB
 * in the domU's initramfs.  Built by dom0-tools/image/build-dom0-image.
 */
typedef unsigned long u64;
typedef long s64;

#define SYS_write 1
#define SYS_mmap 9
#define SYS_nanosleep 35
#define SYS_exit 60
#define SYS_clock_gettime 228
#define CLOCK_MONOTONIC 1
#define PAGE 4096UL

struct ts {
    s64 sec, nsec;
};

static s64 sys(s64 n, s64 a, s64 b, s64 c, s64 d, s64 e, s64 f)
{
    s64 ret;
    register s64 r10 __asm__("r10") = d;
    register s64 r8 __asm__("r8") = e;
    register s64 r9 __asm__("r9") = f;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}

static void out(const char *s, u64 n) { sys(SYS_write, 1, (s64)s, (s64)n, 0, 0, 0); }

static u64 slen(const char *s)
{
    u64 n = 0;
    while (s[n])
        n++;
    return n;
}

static void say(const char *s) { out(s, slen(s)); }

static void say_num(u64 v)
{
    char b[24];
    int i = 23;
    b[i] = 0;
    do {
        b[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v && i > 0);
    say(b + i);
}

static __attribute__((noreturn)) void quit(int code)
{
    for (;;)
        sys(SYS_exit, code, 0, 0, 0, 0, 0);
}

static int number(const char *s, u64 *v)
{
    u64 n = 0;
    if (!*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || n > (1UL << 40))
            return -1;
        n = n * 10 + (u64)(*s - '0');
    }
    *v = n;
    return 0;
}

/* Monotonic time in microseconds. */
static u64 now_us(void)
{
    struct ts t;
    sys(SYS_clock_gettime, CLOCK_MONOTONIC, (s64)&t, 0, 0, 0, 0);
    return (u64)t.sec * 1000000UL + (u64)t.nsec / 1000UL;
}

static void sleep_us(u64 us)
{
    struct ts t = {(s64)(us / 1000000UL), (s64)(us % 1000000UL) * 1000};
    sys(SYS_nanosleep, (s64)&t, 0, 0, 0, 0, 0);
}

static int run(int argc, char **argv)
{
    u64 alloc, wss, rate, words = 1;
    if ((argc != 4 && argc != 5) || number(argv[1], &alloc) || number(argv[2], &wss) ||
        number(argv[3], &rate) || (argc == 5 && number(argv[4], &words)) || !alloc || !wss ||
        wss > alloc || alloc > 65536 || !words || words > PAGE / 8) {
        say("usage: memdirty ALLOC_MIB WSS_MIB RATE [WORDS] (RATE pages/s, 0: no limit; "
            "WORDS per page 1-512); 0 < WSS_MIB <= ALLOC_MIB\n");
        return 2;
    }
    u64 npages = alloc << 8, nwss = wss << 8;
    /* MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE */
    s64 p = sys(SYS_mmap, 0, (s64)(npages * PAGE), 3, 0x22 | 0x8000, -1, 0);
    if (p < 0 && p > -4096) {
        say("memdirty: mmap of ");
        say_num(alloc);
        say(" MiB failed\n");
        return 1;
    }
    volatile u64 *mem = (volatile u64 *)p;
    /* Non-zero, different in every page (a save stores them all). */
    for (u64 i = 0; i < npages; i++)
        for (u64 w = 0; w < PAGE / 8; w += 64)
            mem[i * (PAGE / 8) + w] = 0x9e3779b97f4a7c15UL * (i + 1) + w;
    say("memdirty: start, ");
    say_num(alloc);
    say(" MiB filled, writing ");
    say_num(wss);
    say(" MiB at ");
    if (rate) {
        say_num(rate);
        say(" pages/s\n");
    } else {
        say("full speed\n");
    }
    u64 t0 = now_us(), last = t0, last_pages = 0, pages = 0, at = 0;
    /* Rate control in steps of 1/50 s. */
    u64 step = rate ? (rate / 50 ? rate / 50 : 1) : 4096;
    for (;;) {
        for (u64 k = 0; k < step; k++) {
            volatile u64 *pg = mem + at * (PAGE / 8);
            if (words == 1)
                pg[pages & 511] = pages;
            else
                for (u64 w = 0; w < words; w++)
                    pg[w] = pages + w;
            pages++;
            if (++at == nwss)
                at = 0;
        }
        u64 t = now_us();
        if (rate) {
            /* Where the count should be by now; sleep off any lead. */
            u64 due_us = pages * 1000000UL / rate;
            /* More than 1 s behind (the guest was paused, suspended or
               short of CPU): start counting afresh, no catch-up burst. */
            if (t - t0 > due_us + 1000000UL)
                t0 = t - due_us;
            if (due_us > t - t0)
                sleep_us(due_us - (t - t0));
            t = now_us();
        }
        if (t - last >= 2000000UL) {
            say("memdirty: t ");
            say_num((t - t0) / 1000000UL);
            say(" pages ");
            say_num(pages);
            say(" rate ");
            say_num((pages - last_pages) * 1000000UL / (t - last));
            say(" pages/s\n");
            last = t;
            last_pages = pages;
        }
    }
}

/* The entry point: argc, argv on the stack as the kernel leaves them. */
__attribute__((used)) static void start_c(u64 *sp)
{
    quit(run((int)sp[0], (char **)(sp + 1)));
}

__asm__(".globl _start\n"
        "_start:\n"
        "    mov %rsp, %rdi\n"
        "    and $-16, %rsp\n"
        "    call start_c\n"
        "    hlt\n");
