/*
 * Validation against xml-schemas/domain.rng (built in), with libxml2's
 * RelaxNG messages rewritten as sentences about the element concerned.
 */
#ifndef MICA_DOMCFG_SCHEMA_H
#define MICA_DOMCFG_SCHEMA_H

#include <libxml/tree.h>

#include "diag.h"

/* The schema text, NUL-terminated. */
extern const char domcfg_schema_text[];

/* 0 when doc matches the schema; otherwise -1 with diagnostics. */
int domcfg_schema_validate(xmlDocPtr doc, struct domcfg_diags *diags);

#endif
