#include "schema.h"

#include <libxml/relaxng.h>
#include <libxml/xmlerror.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Compiled once: the schema is fixed and compiling it dominates the cost
   of validating a small definition (the fuzzer validates thousands). */
static xmlRelaxNGPtr compiled_schema;

static void ignore_error(void *ctx, xmlErrorPtr err)
{
    (void)ctx;
    (void)err;
}

static xmlRelaxNGPtr schema(void)
{
    if (compiled_schema)
        return compiled_schema;
    xmlRelaxNGParserCtxtPtr pctxt =
        xmlRelaxNGNewMemParserCtxt(domcfg_schema_text, (int)strlen(domcfg_schema_text));
    if (!pctxt)
        return NULL;
    xmlRelaxNGSetParserStructuredErrors(pctxt, ignore_error, NULL);
    compiled_schema = xmlRelaxNGParse(pctxt);
    xmlRelaxNGFreeParserCtxt(pctxt);
    return compiled_schema;
}

struct schema_errors {
    struct domcfg_diags *diags;
    /* Follow-on messages ("failed to validate content") are kept apart
       and shown only when libxml2 said nothing more specific. */
    int specific;
    int generic_line;
    char generic_element[64];
};

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void on_validity_error(void *ctx, xmlErrorPtr err)
{
    struct schema_errors *se = ctx;
    xmlNodePtr node = err->node;
    int line = node ? (int)xmlGetLineNo(node) : err->line;
    const char *element = node && node->name ? (const char *)node->name : "domain";
    char message[512];
    snprintf(message, sizeof(message), "%s", err->message ? err->message : "");
    size_t n = strlen(message);
    while (n > 0 && message[n - 1] == '\n')
        message[--n] = '\0';

    if (starts_with(message, "Element ") &&
        (strstr(message, "failed to validate content") ||
         strstr(message, "failed to validate attributes"))) {
        if (!se->generic_line) {
            se->generic_line = line;
            snprintf(se->generic_element, sizeof(se->generic_element), "%s", element);
        }
        return;
    }
    if (starts_with(message, "Invalid sequence in interleave") ||
        starts_with(message, "Error validating datatype"))
        return;

    se->specific++;
    if (starts_with(message, "Invalid attribute ")) {
        domcfg_diag_add(se->diags, line,
                        "<%s> has an attribute that is not allowed here, or a value that is not allowed "
                        "(schema: %s); see docs/domain-xml.md", element, message);
    } else if (starts_with(message, "Expecting an element ")) {
        domcfg_diag_add(se->diags, line,
                        "<%s> lacks an element the schema requires, or has elements in a wrong place "
                        "(schema: %s)", element, message);
    } else if (starts_with(message, "Did not expect element ") ||
               starts_with(message, "Extra element ")) {
        domcfg_diag_add(se->diags, line,
                        "<%s> is not allowed here, or appears more than once (schema: %s)",
                        element, message);
    } else if (starts_with(message, "Type ")) {
        domcfg_diag_add(se->diags, line, "<%s> has a value of the wrong form (schema: %s)",
                        element, message);
    } else {
        domcfg_diag_add(se->diags, line, "<%s> does not match the Mica domain schema (schema: %s)",
                        element, message);
    }
}

int domcfg_schema_validate(xmlDocPtr doc, struct domcfg_diags *diags)
{
    xmlRelaxNGPtr rng = schema();
    if (!rng) {
        domcfg_diag_add(diags, 0, "internal error: the built-in schema does not compile");
        return -1;
    }
    xmlRelaxNGValidCtxtPtr vctxt = xmlRelaxNGNewValidCtxt(rng);
    if (!vctxt) {
        domcfg_diag_add(diags, 0, "out of memory");
        return -1;
    }
    struct schema_errors se = { .diags = diags };
    xmlRelaxNGSetValidStructuredErrors(vctxt, on_validity_error, &se);
    int rc = xmlRelaxNGValidateDoc(vctxt, doc);
    xmlRelaxNGFreeValidCtxt(vctxt);
    if (rc == 0)
        return 0;
    if (se.specific == 0)
        domcfg_diag_add(diags, se.generic_line > 0 ? se.generic_line : 1,
                        "<%s> does not match the Mica domain schema; compare it with "
                        "xml-schemas/domain.rng or docs/domain-xml.md",
                        se.generic_line ? se.generic_element : "domain");
    return -1;
}
