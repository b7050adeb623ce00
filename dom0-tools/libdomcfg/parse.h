/*
 * The walk from a libxml2 tree to struct domain_config.  It reads every
 * element and attribute the schema allows and reports anything else --
 * unknown names, duplicates, values of the wrong form -- with the line
 * and a sentence saying what would be right, which libxml2's RelaxNG
 * messages do not.
 */
#ifndef MICA_DOMCFG_PARSE_H
#define MICA_DOMCFG_PARSE_H

#include <libxml/tree.h>

#include "diag.h"
#include "domcfg.h"

/* Lines of elements that later cross-checks point at. */
struct domcfg_where {
    int domain;
    int name;
    int memory;
    int current_memory;
    int max_memory;
    int vcpu;
    int kernel;
    int initrd;
};

/* 0 when everything was understood, -1 after reporting.  cfg is filled
   as far as possible either way; free it with domcfg_free. */
int domcfg_parse_tree(xmlDocPtr doc, struct domain_config *cfg,
                      struct domcfg_where *where, struct domcfg_diags *diags);

#endif
