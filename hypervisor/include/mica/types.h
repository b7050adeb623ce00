/*
 * Basic types for Mica's freestanding code.  The same header serves host
 * unit tests (MICA_HOST_TEST), so it only leans on the compiler's own
 * freestanding headers.
 */
#ifndef MICA_TYPES_H
#define MICA_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>

typedef uint8_t  u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int8_t   s8;
typedef int16_t  s16;
typedef int32_t  s32;
typedef int64_t  s64;

typedef u64 paddr_t;   /* a physical (machine) address */
typedef u64 mfn_t;     /* a machine frame number: paddr >> PAGE_SHIFT */

#define PAGE_SHIFT 12
#define PAGE_SIZE  (1UL << PAGE_SHIFT)
#define PAGE_MASK  (~(PAGE_SIZE - 1))
#define INVALID_MFN (~(mfn_t)0)

#define KiB(x) ((u64)(x) << 10)
#define MiB(x) ((u64)(x) << 20)
#define GiB(x) ((u64)(x) << 30)

#endif
