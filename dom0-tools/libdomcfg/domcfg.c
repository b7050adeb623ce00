#include "domcfg.h"

#include <libxml/parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "parse.h"
#include "schema.h"
#include "xmlload.h"

struct domcfg_document {
    xmlDocPtr xml;
};

static void init_libxml(void)
{
    static int done;
    if (!done) {
        LIBXML_TEST_VERSION
        xmlInitParser();
        done = 1;
    }
}

enum domcfg_status domcfg_load_memory(const char *buf, size_t len, const char *display_name,
                                      unsigned flags, struct domain_config *cfg,
                                      struct domcfg_diags *diags,
                                      struct domcfg_document **doc_out)
{
    init_libxml();
    memset(cfg, 0, sizeof(*cfg));
    if (doc_out)
        *doc_out = NULL;
    (void)display_name; /* diags->file already names the input */
    xmlDocPtr xml = domcfg_parse_xml(buf, len, diags);
    if (!xml)
        return DOMCFG_INVALID;

    /*
     * The walk gives precise sentences; the schema is the authority on
     * shape.  Both always run, but when the walk found problems its
     * messages are the ones shown: libxml2's RelaxNG reports for the
     * same mistakes are vaguer and sometimes point elsewhere.
     */
    struct domcfg_where where;
    int walk_rc = domcfg_parse_tree(xml, cfg, &where, diags);
    if (walk_rc == 0)
        walk_rc = domcfg_check(cfg, &where, flags, diags);
    struct domcfg_diags schema_diags;
    domcfg_diags_init(&schema_diags, diags->file);
    int schema_rc = domcfg_schema_validate(xml, &schema_diags);
    if (walk_rc == 0 && schema_rc != 0) {
        for (size_t i = 0; i < schema_diags.count; i++) {
            size_t before = diags->count;
            domcfg_diag_add(diags, schema_diags.items[i].line, "%s",
                            schema_diags.items[i].message);
            if (diags->count > before)
                diags->items[before].from_schema = 1;
        }
    }
    domcfg_diags_free(&schema_diags);
    domcfg_diags_sort(diags);

    if (walk_rc != 0 || schema_rc != 0 || diags->truncated) {
        if (diags->count == 0)
            domcfg_diag_add(diags, 0, "the definition is not valid");
        domcfg_free(cfg);
        xmlFreeDoc(xml);
        return DOMCFG_INVALID;
    }
    if (doc_out) {
        *doc_out = calloc(1, sizeof(**doc_out));
        if (!*doc_out) {
            domcfg_diag_add(diags, 0, "out of memory");
            domcfg_free(cfg);
            xmlFreeDoc(xml);
            return DOMCFG_IO_ERROR;
        }
        (*doc_out)->xml = xml;
    } else {
        xmlFreeDoc(xml);
    }
    return DOMCFG_OK;
}

enum domcfg_status domcfg_load_file(const char *path, unsigned flags,
                                    struct domain_config *cfg, struct domcfg_diags *diags,
                                    struct domcfg_document **doc_out)
{
    memset(cfg, 0, sizeof(*cfg));
    if (doc_out)
        *doc_out = NULL;
    char *buf;
    size_t len;
    if (domcfg_read_file(path, &buf, &len, diags) < 0)
        return DOMCFG_IO_ERROR;
    enum domcfg_status st = domcfg_load_memory(buf, len, path, flags, cfg, diags, doc_out);
    free(buf);
    return st;
}

void domcfg_free(struct domain_config *cfg)
{
    free(cfg->name);
    free(cfg->title);
    free(cfg->description);
    free(cfg->kernel);
    free(cfg->initrd);
    free(cfg->cmdline);
    for (size_t i = 0; i < cfg->n_disks; i++)
        free(cfg->disks[i].source);
    free(cfg->disks);
    for (size_t i = 0; i < cfg->n_nics; i++) {
        free(cfg->nics[i].bridge);
        free(cfg->nics[i].target_dev);
    }
    free(cfg->nics);
    free(cfg->vcpupins);
    memset(cfg, 0, sizeof(*cfg));
}

const struct domcfg_cpuset *domcfg_vcpu_affinity(const struct domain_config *cfg,
                                                 unsigned vcpu, int *line)
{
    for (size_t i = 0; i < cfg->n_vcpupins; i++) {
        if (cfg->vcpupins[i].vcpu == vcpu) {
            if (line)
                *line = cfg->vcpupins[i].line;
            return &cfg->vcpupins[i].cpus;
        }
    }
    if (line)
        *line = cfg->cpuset_line;
    return cfg->has_cpuset ? &cfg->cpuset : NULL;
}

/* The last child element of root called name, outside any namespace (the
   last, because a duplicate would have been refused when the definition
   was loaded). */
static xmlNodePtr plain_child(xmlNodePtr root, const char *name)
{
    xmlNodePtr found = NULL;
    for (xmlNodePtr c = root ? root->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && !c->ns && xmlStrEqual(c->name, BAD_CAST name))
            found = c;
    return found;
}

/* A new element <name>text</name> right after prev, indented as prev is. */
static xmlNodePtr add_after(struct domcfg_document *doc, xmlNodePtr prev, const char *name,
                            const char *text)
{
    xmlNodePtr element = xmlNewDocNode(doc->xml, NULL, BAD_CAST name, BAD_CAST text);
    if (!element)
        return NULL;
    xmlNodePtr indent = NULL;
    if (prev->prev && prev->prev->type == XML_TEXT_NODE)
        indent = xmlNewDocText(doc->xml, prev->prev->content);
    if (!xmlAddNextSibling(prev, element)) {
        xmlFreeNode(element);
        xmlFreeNode(indent);
        return NULL;
    }
    if (indent && !xmlAddPrevSibling(element, indent))
        xmlFreeNode(indent);
    return element;
}

int domcfg_document_set_uuid(struct domcfg_document *doc, const uint8_t uuid[16])
{
    xmlNodePtr name = plain_child(xmlDocGetRootElement(doc->xml), "name");
    if (!name)
        return -1;
    char text[37];
    domcfg_format_uuid(uuid, text);
    /* Right after <name>, indented as it is, so the stored file stays readable. */
    return add_after(doc, name, "uuid", text) ? 0 : -1;
}

int domcfg_document_set_template(struct domcfg_document *doc)
{
    xmlNodePtr root = xmlDocGetRootElement(doc->xml);
    if (!root)
        return -1;
    for (xmlNodePtr c = root->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && c->ns && c->ns->href &&
            xmlStrEqual(c->ns->href, BAD_CAST DOMCFG_MICA_NS) &&
            xmlStrEqual(c->name, BAD_CAST "template"))
            return 0;
    xmlNsPtr ns = xmlSearchNsByHref(doc->xml, root, BAD_CAST DOMCFG_MICA_NS);
    if (!ns)
        ns = xmlNewNs(root, BAD_CAST DOMCFG_MICA_NS, BAD_CAST "mica");
    if (!ns)
        return -1;
    xmlNodePtr element = xmlNewDocNode(doc->xml, ns, BAD_CAST "template", NULL);
    if (!element)
        return -1;
    if (!xmlAddChild(root, element)) {
        xmlFreeNode(element);
        return -1;
    }
    xmlNodePtr nl = xmlNewDocText(doc->xml, BAD_CAST "\n");
    if (nl && !xmlAddChild(root, nl))
        xmlFreeNode(nl);
    return 0;
}

/* <name unit='KiB'>kib</name>, made after prev when missing. */
static xmlNodePtr set_kib(struct domcfg_document *doc, xmlNodePtr root, xmlNodePtr prev,
                          const char *name, uint64_t kib)
{
    char text[24];
    snprintf(text, sizeof(text), "%llu", (unsigned long long)kib);
    xmlNodePtr node = plain_child(root, name);
    if (!node) {
        node = prev ? add_after(doc, prev, name, text) : NULL;
    } else {
        xmlNodeSetContent(node, BAD_CAST text);   /* digits: nothing to escape */
    }
    if (node && !xmlSetProp(node, BAD_CAST "unit", BAD_CAST "KiB"))
        return NULL;
    return node;
}

int domcfg_document_set_memory(struct domcfg_document *doc, uint64_t memory_kib,
                               uint64_t current_kib)
{
    xmlNodePtr root = xmlDocGetRootElement(doc->xml);
    xmlNodePtr memory = plain_child(root, "memory");
    if (!memory || !set_kib(doc, root, NULL, "memory", memory_kib) ||
        !set_kib(doc, root, memory, "currentMemory", current_kib))
        return -1;
    return 0;
}

int domcfg_document_set_vcpus(struct domcfg_document *doc, unsigned max, unsigned current)
{
    xmlNodePtr root = xmlDocGetRootElement(doc->xml);
    char text[16];
    snprintf(text, sizeof(text), "%u", max);
    xmlNodePtr vcpu = plain_child(root, "vcpu");
    if (!vcpu) {
        xmlNodePtr prev = plain_child(root, "currentMemory");
        if (!prev)
            prev = plain_child(root, "memory");
        if (!prev || !(vcpu = add_after(doc, prev, "vcpu", text)))
            return -1;
    } else {
        xmlNodeSetContent(vcpu, BAD_CAST text);
    }
    if (current == max) {
        xmlUnsetProp(vcpu, BAD_CAST "current");
        return 0;
    }
    snprintf(text, sizeof(text), "%u", current);
    return xmlSetProp(vcpu, BAD_CAST "current", BAD_CAST text) ? 0 : -1;
}

char *domcfg_document_to_xml(struct domcfg_document *doc, size_t *len)
{
    xmlChar *mem = NULL;
    int size = 0;
    xmlDocDumpMemoryEnc(doc->xml, &mem, &size, "UTF-8");
    if (!mem)
        return NULL;
    char *out = malloc((size_t)size + 1);
    if (out) {
        memcpy(out, mem, (size_t)size);
        out[size] = '\0';
        *len = (size_t)size;
    }
    xmlFree(mem);
    return out;
}

void domcfg_document_free(struct domcfg_document *doc)
{
    if (!doc)
        return;
    xmlFreeDoc(doc->xml);
    free(doc);
}

void domcfg_format_uuid(const uint8_t u[16], char out[37])
{
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
             u[13], u[14], u[15]);
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool domcfg_parse_uuid(const char *text, uint8_t uuid[16])
{
    size_t len = strlen(text);
    bool dashed = len == 36;
    if (!dashed && len != 32)
        return false;
    size_t digit = 0;
    for (size_t i = 0; i < len; i++) {
        if (dashed && (i == 8 || i == 13 || i == 18 || i == 23)) {
            if (text[i] != '-')
                return false;
            continue;
        }
        int v = hex_value(text[i]);
        if (v < 0)
            return false;
        if (digit % 2 == 0)
            uuid[digit / 2] = (uint8_t)(v << 4);
        else
            uuid[digit / 2] |= (uint8_t)v;
        digit++;
    }
    return digit == 32;
}

const char *domcfg_action_name(enum domcfg_action action)
{
    switch (action) {
    case DOMCFG_ACTION_DESTROY: return "destroy";
    case DOMCFG_ACTION_RESTART: return "restart";
    case DOMCFG_ACTION_PRESERVE: return "preserve";
    case DOMCFG_ACTION_RENAME_RESTART: return "rename-restart";
    case DOMCFG_ACTION_COREDUMP_DESTROY: return "coredump-destroy";
    case DOMCFG_ACTION_COREDUMP_RESTART: return "coredump-restart";
    }
    return "?";
}
