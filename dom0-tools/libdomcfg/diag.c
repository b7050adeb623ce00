#define _GNU_SOURCE /* vasprintf */
#include "diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void domcfg_diags_init(struct domcfg_diags *diags, const char *file)
{
    memset(diags, 0, sizeof(*diags));
    diags->file = strdup(file ? file : "(input)");
    if (!diags->file)
        diags->truncated = 1;
}

void domcfg_diags_free(struct domcfg_diags *diags)
{
    for (size_t i = 0; i < diags->count; i++)
        free(diags->items[i].message);
    free(diags->items);
    free(diags->file);
    memset(diags, 0, sizeof(*diags));
}

void domcfg_diag_add(struct domcfg_diags *diags, int line, const char *fmt, ...)
{
    if (diags->count == diags->capacity) {
        size_t cap = diags->capacity ? diags->capacity * 2 : 8;
        struct domcfg_diag *items = realloc(diags->items, cap * sizeof(*items));
        if (!items) {
            diags->truncated = 1;
            return;
        }
        diags->items = items;
        diags->capacity = cap;
    }
    va_list ap;
    va_start(ap, fmt);
    char *message = NULL;
    int n = vasprintf(&message, fmt, ap);
    va_end(ap);
    if (n < 0) {
        diags->truncated = 1;
        return;
    }
    diags->items[diags->count].line = line;
    diags->items[diags->count].message = message;
    diags->items[diags->count].from_schema = 0;
    diags->count++;
}

void domcfg_diags_sort(struct domcfg_diags *diags)
{
    /* Insertion sort: stable, and lists are a handful of entries. */
    for (size_t i = 1; i < diags->count; i++) {
        struct domcfg_diag d = diags->items[i];
        size_t j = i;
        while (j > 0 && diags->items[j - 1].line > d.line) {
            diags->items[j] = diags->items[j - 1];
            j--;
        }
        diags->items[j] = d;
    }
}

void domcfg_diags_print(const struct domcfg_diags *diags, FILE *out, size_t limit)
{
    const char *file = diags->file ? diags->file : "(input)";
    size_t shown = diags->count;
    if (limit && shown > limit)
        shown = limit;
    for (size_t i = 0; i < shown; i++) {
        if (diags->items[i].line > 0)
            fprintf(out, "%s:%d: %s\n", file, diags->items[i].line,
                    diags->items[i].message);
        else
            fprintf(out, "%s: %s\n", file, diags->items[i].message);
    }
    if (shown < diags->count)
        fprintf(out, "%s: %zu more problems not shown\n", file, diags->count - shown);
    if (diags->truncated)
        fprintf(out, "%s: out of memory while reporting; more problems may exist\n", file);
}
