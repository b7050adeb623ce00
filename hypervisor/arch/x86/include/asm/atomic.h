/*
 * Atomic operations and memory barriers for x86-64.
 *
 * Built on the compiler's __atomic builtins, which GCC turns into the
 * lock-prefixed instructions (xadd, cmpxchg, ...) without any library
 * call, so the same header works in the freestanding hypervisor and in
 * host unit tests.  x86 is TSO: loads are not reordered with loads, nor
 * stores with stores, so smp_rmb()/smp_wmb() only stop the compiler;
 * smp_mb() orders a store before a later load and needs a real fence.
 */
#ifndef ASM_ATOMIC_H
#define ASM_ATOMIC_H

#include <mica/types.h>

#define barrier()  __asm__ volatile("" ::: "memory")
#define smp_mb()   __asm__ volatile("lock addl $0, -4(%%rsp)" ::: "memory", "cc")
#define smp_rmb()  barrier()
#define smp_wmb()  barrier()

/* One untorn access the compiler may neither merge, repeat nor drop. */
#define READ_ONCE(x)     __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define WRITE_ONCE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

/*
 * cmpxchg(ptr, old, new): if *ptr == old, store new.  Returns the value
 * *ptr had, so the swap happened exactly when the result equals old.
 * Full barrier, like the locked instruction.  Works on 1, 2, 4 and 8 byte
 * objects (u32 and u64 counts, page_info words).
 */
#define cmpxchg(ptr, old, new) ({                                             \
    __typeof__(*(ptr)) cx_old_ = (old);                                       \
    __atomic_compare_exchange_n((ptr), &cx_old_, (new), false,                \
                                __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);          \
    cx_old_;                                                                  \
})

/* *ptr = v, returning the previous value; full barrier. */
#define xchg(ptr, v) __atomic_exchange_n((ptr), (v), __ATOMIC_SEQ_CST)

static inline u32 cmpxchg_u32(u32 *p, u32 old, u32 new_) { return cmpxchg(p, old, new_); }
static inline u64 cmpxchg_u64(u64 *p, u64 old, u64 new_) { return cmpxchg(p, old, new_); }

/* A counter other CPUs may change at the same time. */
typedef struct {
    s32 counter;
} atomic_t;

#define ATOMIC_INIT(v) { (v) }

static inline s32 atomic_read(const atomic_t *a) { return __atomic_load_n(&a->counter, __ATOMIC_RELAXED); }
static inline void atomic_set(atomic_t *a, s32 v) { __atomic_store_n(&a->counter, v, __ATOMIC_RELAXED); }
static inline void atomic_add(s32 n, atomic_t *a) { __atomic_fetch_add(&a->counter, n, __ATOMIC_SEQ_CST); }
static inline void atomic_sub(s32 n, atomic_t *a) { __atomic_fetch_sub(&a->counter, n, __ATOMIC_SEQ_CST); }
static inline void atomic_inc(atomic_t *a) { atomic_add(1, a); }
static inline void atomic_dec(atomic_t *a) { atomic_sub(1, a); }
/* The value after the operation. */
static inline s32 atomic_add_return(s32 n, atomic_t *a) { return __atomic_add_fetch(&a->counter, n, __ATOMIC_SEQ_CST); }
static inline s32 atomic_inc_return(atomic_t *a) { return atomic_add_return(1, a); }
static inline s32 atomic_dec_return(atomic_t *a) { return atomic_add_return(-1, a); }
/* True when this decrement brought the counter to zero. */
static inline bool atomic_dec_and_test(atomic_t *a) { return atomic_dec_return(a) == 0; }
/* The value before; the swap happened when it equals old. */
static inline s32 atomic_cmpxchg(atomic_t *a, s32 old, s32 new_) { return cmpxchg(&a->counter, old, new_); }

/*
 * Adds n unless the counter is u; returns the old value.  The building
 * block of "take a reference unless the object is already dying".
 */
static inline s32 atomic_add_unless(atomic_t *a, s32 n, s32 u)
{
    s32 c = atomic_read(a), old;

    while (c != u && (old = atomic_cmpxchg(a, c, c + n)) != c)
        c = old;
    return c;
}

/* Bit operations on a u64 word array; the atomic ones are full barriers. */
static inline void set_bit64(unsigned int nr, u64 *addr)
{
    __atomic_fetch_or(&addr[nr / 64], 1ULL << (nr % 64), __ATOMIC_SEQ_CST);
}
static inline void clear_bit64(unsigned int nr, u64 *addr)
{
    __atomic_fetch_and(&addr[nr / 64], ~(1ULL << (nr % 64)), __ATOMIC_SEQ_CST);
}
static inline bool test_and_set_bit64(unsigned int nr, u64 *addr)
{
    return __atomic_fetch_or(&addr[nr / 64], 1ULL << (nr % 64), __ATOMIC_SEQ_CST) & (1ULL << (nr % 64));
}
static inline bool test_and_clear_bit64(unsigned int nr, u64 *addr)
{
    return __atomic_fetch_and(&addr[nr / 64], ~(1ULL << (nr % 64)), __ATOMIC_SEQ_CST) & (1ULL << (nr % 64));
}
static inline bool test_bit64(unsigned int nr, const u64 *addr)
{
    return (__atomic_load_n(&addr[nr / 64], __ATOMIC_RELAXED) >> (nr % 64)) & 1;
}

#endif
