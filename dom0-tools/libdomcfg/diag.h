/*
 * Diagnostics: the list of "file:line: sentence" problems found in one
 * definition.  Kept apart from the loader so that every checking stage
 * reports the same way and the tests can inspect what was said.
 */
#ifndef MICA_DOMCFG_DIAG_H
#define MICA_DOMCFG_DIAG_H

#include <stddef.h>
#include <stdio.h>

struct domcfg_diag {
    int line;       /* 0: about the file as a whole */
    char *message;  /* a plain sentence, no trailing period or newline */
    /* Found only by the RelaxNG validator, so worded from libxml2's
       message; tests and the fuzzer look for these. */
    int from_schema;
};

struct domcfg_diags {
    char *file;     /* as the user named it */
    struct domcfg_diag *items;
    size_t count, capacity;
    /* Set when an allocation failed while reporting; the list is then
       incomplete but still says the document was rejected. */
    int truncated;
};

void domcfg_diags_init(struct domcfg_diags *diags, const char *file);
void domcfg_diags_free(struct domcfg_diags *diags);

__attribute__((format(printf, 3, 4)))
void domcfg_diag_add(struct domcfg_diags *diags, int line, const char *fmt, ...);

/* Orders by line, keeping the order of reports made for the same line. */
void domcfg_diags_sort(struct domcfg_diags *diags);

/* Prints "file:line: message" lines, at most limit of them (0: all). */
void domcfg_diags_print(const struct domcfg_diags *diags, FILE *out, size_t limit);

#endif
