/*
 * XSAVE/AVX helpers for the test kernels (xsave_avx, multi/avx_pair):
 * CR4.OSXSAVE, XSETBV probes, and moving all sixteen YMM registers to and
 * from memory (the C code is general-registers-only, so nothing else
 * touches them).
 */
#ifndef AVX_COMMON_H
#define AVX_COMMON_H

#include "guest.h"

#define CR4_OSXSAVE (1UL << 18)
#define XCR0_X87 1UL
#define XCR0_SSE 2UL
#define XCR0_YMM 4UL

static inline void cpuid_forced(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    __asm__ volatile("ud2; .ascii \"xen\"; cpuid"
                     : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}

static inline uint64_t read_cr4(void)
{
    uint64_t v;
    __asm__ volatile("mov %%cr4, %0" : "=r"(v));
    return v;
}

static inline void write_cr4(uint64_t v)
{
    __asm__ volatile("mov %0, %%cr4" :: "r"(v) : "memory");
}

static inline uint64_t xgetbv0(void)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

/* XSETBV of (xs_index, xs_value): the vector it raised, or -1. */
uint32_t xs_index;
uint64_t xs_value;
static inline int xsetbv_probe(uint32_t index, uint64_t value)
{
    xs_index = index;
    xs_value = value;
    return TRAP_PROBE("movl xs_index(%%rip), %%ecx\n\t"
                      "movl xs_value(%%rip), %%eax\n\t"
                      "movl xs_value+4(%%rip), %%edx\n\t"
                      "9990: xsetbv");
}

typedef uint64_t ymm_set[16][4];

static inline void ymm_load(const ymm_set *s)
{
    __asm__ volatile(
        "vmovdqu 0*32(%0), %%ymm0\n\t"  "vmovdqu 1*32(%0), %%ymm1\n\t"
        "vmovdqu 2*32(%0), %%ymm2\n\t"  "vmovdqu 3*32(%0), %%ymm3\n\t"
        "vmovdqu 4*32(%0), %%ymm4\n\t"  "vmovdqu 5*32(%0), %%ymm5\n\t"
        "vmovdqu 6*32(%0), %%ymm6\n\t"  "vmovdqu 7*32(%0), %%ymm7\n\t"
        "vmovdqu 8*32(%0), %%ymm8\n\t"  "vmovdqu 9*32(%0), %%ymm9\n\t"
        "vmovdqu 10*32(%0), %%ymm10\n\t" "vmovdqu 11*32(%0), %%ymm11\n\t"
        "vmovdqu 12*32(%0), %%ymm12\n\t" "vmovdqu 13*32(%0), %%ymm13\n\t"
        "vmovdqu 14*32(%0), %%ymm14\n\t" "vmovdqu 15*32(%0), %%ymm15\n\t"
        :: "r"(s) : "memory");
}

static inline void ymm_store(ymm_set *s)
{
    __asm__ volatile(
        "vmovdqu %%ymm0, 0*32(%0)\n\t"  "vmovdqu %%ymm1, 1*32(%0)\n\t"
        "vmovdqu %%ymm2, 2*32(%0)\n\t"  "vmovdqu %%ymm3, 3*32(%0)\n\t"
        "vmovdqu %%ymm4, 4*32(%0)\n\t"  "vmovdqu %%ymm5, 5*32(%0)\n\t"
        "vmovdqu %%ymm6, 6*32(%0)\n\t"  "vmovdqu %%ymm7, 7*32(%0)\n\t"
        "vmovdqu %%ymm8, 8*32(%0)\n\t"  "vmovdqu %%ymm9, 9*32(%0)\n\t"
        "vmovdqu %%ymm10, 10*32(%0)\n\t" "vmovdqu %%ymm11, 11*32(%0)\n\t"
        "vmovdqu %%ymm12, 12*32(%0)\n\t" "vmovdqu %%ymm13, 13*32(%0)\n\t"
        "vmovdqu %%ymm14, 14*32(%0)\n\t" "vmovdqu %%ymm15, 15*32(%0)\n\t"
        :: "r"(s) : "memory");
}

/* A pattern per register and lane, distinct for each seed. */
static inline void ymm_pattern(ymm_set *s, uint64_t seed)
{
    for (unsigned r = 0; r < 16; r++)
        for (unsigned l = 0; l < 4; l++)
            (*s)[r][l] = (seed << 32) ^ (0x1000ULL * r + l) ^ 0x5a5a0000a5a50000ULL;
}

/* Index of the first differing 64-bit word, or -1. */
static inline int ymm_diff(const ymm_set *a, const ymm_set *b)
{
    for (unsigned r = 0; r < 16; r++)
        for (unsigned l = 0; l < 4; l++)
            if ((*a)[r][l] != (*b)[r][l])
                return (int)(r * 4 + l);
    return -1;
}

#endif
