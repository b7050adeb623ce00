/*
 * Small library every part of the hypervisor uses: logging, string and
 * memory helpers, arithmetic helpers and assertions.
 *
 * In host unit tests (MICA_HOST_TEST) the string functions come from the C
 * library and printk() is provided by the test, which lets tests assert on
 * the diagnostics code prints.
 */
#ifndef MICA_LIB_H
#define MICA_LIB_H

#include <mica/types.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define ALIGN_UP(x, a)   (((x) + ((a) - 1)) & ~((__typeof__(x))(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a) - 1))
#define IS_ALIGNED(x, a) (((x) & ((__typeof__(x))(a) - 1)) == 0)

#define __packed   __attribute__((packed))
#define __aligned(n) __attribute__((aligned(n)))
#define __noreturn __attribute__((noreturn))
#define __printf(a, b) __attribute__((format(printf, a, b)))
#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* Log levels, as `loglvl=` names them. */
enum log_level {
    LOG_NONE = 0,
    LOG_ERR = 1,
    LOG_WARN = 2,
    LOG_INFO = 3,
    LOG_DEBUG = 4,
};

/* printk() logs at LOG_INFO; the others name their level. */
void printk(const char *fmt, ...) __printf(1, 2);
void printk_level(enum log_level level, const char *fmt, ...) __printf(2, 3);
#define pr_err(...)   printk_level(LOG_ERR, __VA_ARGS__)
#define pr_warn(...)  printk_level(LOG_WARN, __VA_ARGS__)
#define pr_info(...)  printk_level(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) printk_level(LOG_DEBUG, __VA_ARGS__)

#ifdef MICA_HOST_TEST
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define panic(...) (printk(__VA_ARGS__), abort())
/* glibc before 2.38 has no strlcpy; hosted tests get this one. */
static inline size_t mica_host_strlcpy(char *dst, const char *src, size_t size)
{
    size_t len = strlen(src);
    if (size) {
        size_t n = len < size - 1 ? len : size - 1;
        memcpy(dst, src, n);
        dst[n] = '\0';
    }
    return len;
}
#define strlcpy mica_host_strlcpy
#define ASSERT(c) do { if (!(c)) panic("ASSERT failed: %s at %s:%d\n", #c, __FILE__, __LINE__); } while (0)
#else
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
size_t strlcpy(char *dst, const char *src, size_t size);

/* Stops the machine after printing the message and a stack trace. */
void panic(const char *fmt, ...) __printf(1, 2) __noreturn;

#ifdef CONFIG_DEBUG
#define ASSERT(c) do { if (unlikely(!(c))) panic("ASSERT failed: %s at %s:%d\n", #c, __FILE__, __LINE__); } while (0)
#else
#define ASSERT(c) do { (void)sizeof(c); } while (0)
#endif
#endif /* MICA_HOST_TEST */

#define BUILD_BUG_ON(c) _Static_assert(!(c), #c)

#endif
