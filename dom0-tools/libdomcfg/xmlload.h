/*
 * Reading a definition file and parsing it into a libxml2 tree, with the
 * libxml2 well-formedness errors rewritten as plain sentences.  Network
 * access, DTDs and entity expansion are refused: definitions come from
 * users and scripts and must not make the tool fetch or expand anything.
 */
#ifndef MICA_DOMCFG_XMLLOAD_H
#define MICA_DOMCFG_XMLLOAD_H

#include <libxml/tree.h>
#include <stddef.h>

#include "diag.h"

/* Reads the whole file (at most DOMCFG_FILE_MAX bytes); 0 or -1 with a
   diagnostic. */
int domcfg_read_file(const char *path, char **buf, size_t *len,
                     struct domcfg_diags *diags);

/* A parsed document, or NULL with diagnostics. */
xmlDocPtr domcfg_parse_xml(const char *buf, size_t len, struct domcfg_diags *diags);

#endif
