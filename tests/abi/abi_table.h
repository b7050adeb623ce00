/*
 * Differential ABI test: the table each side exports.  abi_ours.c fills
 * one from Mica's public headers, abi_xen.c one from Debian's libxen-dev
 * headers, both from the same generated item list; abi_compare.c matches
 * them by name.
 */
#ifndef MICA_TESTS_ABI_TABLE_H
#define MICA_TESTS_ABI_TABLE_H

struct abi_item {
    const char *name;          /* "const/NAME", "sizeof/type", "offsetof/type.member" */
    unsigned long long value;
    const char *problem;       /* non-NULL: a rule of the headers is broken */
};

extern const struct abi_item abi_ours_items[];
extern const unsigned abi_ours_count;
extern const struct abi_item abi_xen_items[];
extern const unsigned abi_xen_count;

/*
 * Entries of the generated list.  The name is stringified here, before the
 * argument is macro-expanded, so it is the ABI name and not its value.
 */
#define ABI_CONST(n)       { "const/" #n, (unsigned long long)(n), 0 },
#define ABI_SIZE(t)        { "sizeof/" #t, (unsigned long long)sizeof(t), 0 },
#define ABI_OFFSET(t, m)   { "offsetof/" #t "." #m,                        \
                             (unsigned long long)__builtin_offsetof(t, m), 0 },
/* Hand-written entries for the PV rings, whose index fields sit in a
 * header struct on our side and directly in each ring struct on Xen's. */
#define ABI_SRING(ring, field, off) { "offsetof/struct_" #ring "_sring." #field, \
                                      (unsigned long long)(off), 0 },
#define ABI_RING_SLOTS(ring, n)     { "ring-slots/" #ring "/4096",                \
                                      (unsigned long long)(n), 0 },

#endif
