/* JSON text for --json output: strings escaped per RFC 8259. */
#ifndef VMCTL_OUTPUT_H
#define VMCTL_OUTPUT_H

#include <stdio.h>

/* Writes s as a JSON string, or null when s is NULL. */
void json_string(FILE *out, const char *s);

#endif
