/* Snapshot metadata and chain bookkeeping (see snapmeta.h). */
#include "snapmeta.h"

#include <errno.h>
#include <inttypes.h>
#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <libxml/tree.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const char vmctl_snapshot_schema_text[];

bool snapmeta_name_valid(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > 64 || name[0] == '.')
        return false;
    for (const char *c = name; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '_' || *c == '-' || *c == '+' || *c == '.'))
            return false;
    return true;
}

const char *snapmeta_state_name(enum snap_state s)
{
    return s == SNAP_RUNNING ? "running" : s == SNAP_SHUTOFF ? "shutoff" : "disk-snapshot";
}

/* ---- writing ---- */

struct buf {
    char *p;
    size_t len, cap;
    bool oom;
};

static void addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void addf(struct buf *b, const char *fmt, ...)
{
    if (b->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = true;
            return;
        }
        if (b->p && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = (b->cap ? b->cap * 2 : 1024) + (size_t)n;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
}

/* Text and attribute values with &, <, >, ' and " escaped. */
static void add_escaped(struct buf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': addf(b, "&amp;"); break;
        case '<': addf(b, "&lt;"); break;
        case '>': addf(b, "&gt;"); break;
        case '\'': addf(b, "&apos;"); break;
        case '"': addf(b, "&quot;"); break;
        default: addf(b, "%c", *s);
        }
    }
}

char *snapmeta_to_xml(const struct snap_meta *m)
{
    struct buf b = { 0 };
    addf(&b, "<domainsnapshot>\n  <name>");
    add_escaped(&b, m->name);
    addf(&b, "</name>\n");
    if (m->description) {
        addf(&b, "  <description>");
        add_escaped(&b, m->description);
        addf(&b, "</description>\n");
    }
    addf(&b, "  <state>%s</state>\n  <creationTime>%" PRIu64 "</creationTime>\n",
         snapmeta_state_name(m->state), m->creation_time);
    if (m->parent) {
        addf(&b, "  <parent>\n    <name>");
        add_escaped(&b, m->parent);
        addf(&b, "</name>\n  </parent>\n");
    }
    if (m->memory_file) {
        addf(&b, "  <memory snapshot='external' file='");
        add_escaped(&b, m->memory_file);
        addf(&b, "'/>\n");
    } else {
        addf(&b, "  <memory snapshot='no'/>\n");
    }
    addf(&b, "  <disks>\n");
    for (size_t i = 0; i < m->n_disks; i++) {
        const struct snap_disk *d = &m->disks[i];
        if (!d->external) {
            addf(&b, "    <disk name='%s' snapshot='no'/>\n", d->target);
            continue;
        }
        addf(&b, "    <disk name='%s' snapshot='external' type='file'>\n"
             "      <driver type='qcow2'/>\n      <source file='", d->target);
        add_escaped(&b, d->layer);
        addf(&b, "'/>\n    </disk>\n");
    }
    addf(&b, "  </disks>\n  <domain>\n    <name>");
    add_escaped(&b, m->domain_name);
    addf(&b, "</name>\n    <uuid>%s</uuid>\n  </domain>\n</domainsnapshot>\n", m->domain_uuid);
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

/* ---- reading ---- */

struct perr {
    char *err;
    size_t errlen;
    const char *origin;
    bool set;
};

static void on_error(void *ctx, xmlErrorPtr e)
{
    struct perr *p = ctx;
    if (p->set || !e)
        return;
    char msg[300];
    snprintf(msg, sizeof(msg), "%s", e->message ? e->message : "invalid");
    size_t n = strlen(msg);
    while (n && msg[n - 1] == '\n')
        msg[--n] = '\0';
    int line = e->node ? (int)xmlGetLineNo((xmlNodePtr)e->node) : e->line;
    snprintf(p->err, p->errlen, "%s:%d: %s (xml-schemas/domainsnapshot.rng)", p->origin, line,
             msg);
    p->set = true;
}

static void ignore(void *ctx, xmlErrorPtr e)
{
    (void)ctx;
    (void)e;
}

static xmlRelaxNGPtr snapshot_schema(void)
{
    static xmlRelaxNGPtr compiled;
    if (compiled)
        return compiled;
    xmlRelaxNGParserCtxtPtr pc = xmlRelaxNGNewMemParserCtxt(vmctl_snapshot_schema_text,
                                                            (int)strlen(vmctl_snapshot_schema_text));
    if (!pc)
        return NULL;
    xmlRelaxNGSetParserStructuredErrors(pc, ignore, NULL);
    compiled = xmlRelaxNGParse(pc);
    xmlRelaxNGFreeParserCtxt(pc);
    return compiled;
}

static xmlNodePtr child(xmlNodePtr n, const char *name)
{
    for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && xmlStrEqual(c->name, BAD_CAST name))
            return c;
    return NULL;
}

static char *text_of(xmlNodePtr n)
{
    xmlChar *t = n ? xmlNodeGetContent(n) : NULL;
    char *s = t ? strdup((const char *)t) : NULL;
    xmlFree(t);
    return s;
}

static char *attr_of(xmlNodePtr n, const char *name)
{
    xmlChar *t = n ? xmlGetProp(n, BAD_CAST name) : NULL;
    char *s = t ? strdup((const char *)t) : NULL;
    xmlFree(t);
    return s;
}

void snapmeta_free(struct snap_meta *m)
{
    free(m->name);
    free(m->description);
    free(m->parent);
    free(m->memory_file);
    for (size_t i = 0; i < m->n_disks; i++)
        free(m->disks[i].layer);
    free(m->disks);
    memset(m, 0, sizeof(*m));
}

int snapmeta_parse(const char *xml, size_t len, const char *origin, struct snap_meta *m,
                   char *err, size_t errlen)
{
    memset(m, 0, sizeof(*m));
    struct perr pe = { err, errlen, origin, false };
    xmlParserCtxtPtr pc = xmlNewParserCtxt();
    if (!pc) {
        snprintf(err, errlen, "%s: out of memory", origin);
        return -1;
    }
    xmlSetStructuredErrorFunc(&pe, on_error);
    xmlDocPtr doc = xmlCtxtReadMemory(pc, xml, (int)len, origin, NULL,
                                      XML_PARSE_NONET | XML_PARSE_NOBLANKS);
    xmlFreeParserCtxt(pc);
    int rc = -1;
    if (!doc) {
        if (!pe.set)
            snprintf(err, errlen, "%s: not well-formed XML", origin);
        goto out;
    }
    xmlRelaxNGPtr schema = snapshot_schema();
    xmlRelaxNGValidCtxtPtr vc = schema ? xmlRelaxNGNewValidCtxt(schema) : NULL;
    if (!vc) {
        snprintf(err, errlen, "%s: cannot load the snapshot schema", origin);
        goto out;
    }
    xmlRelaxNGSetValidStructuredErrors(vc, on_error, &pe);
    int valid = xmlRelaxNGValidateDoc(vc, doc);
    xmlRelaxNGFreeValidCtxt(vc);
    if (valid != 0) {
        if (!pe.set)
            snprintf(err, errlen, "%s: does not match xml-schemas/domainsnapshot.rng", origin);
        goto out;
    }
    xmlNodePtr root = xmlDocGetRootElement(doc);
    m->name = text_of(child(root, "name"));
    xmlNodePtr d = child(root, "description");
    m->description = d ? text_of(d) : NULL;
    xmlNodePtr p = child(root, "parent");
    m->parent = p ? text_of(child(p, "name")) : NULL;
    char *state = text_of(child(root, "state"));
    char *ct = text_of(child(root, "creationTime"));
    m->state = !state ? SNAP_RUNNING : strcmp(state, "running") == 0 ? SNAP_RUNNING :
               strcmp(state, "shutoff") == 0 ? SNAP_SHUTOFF : SNAP_DISK_SNAPSHOT;
    m->creation_time = ct ? strtoull(ct, NULL, 10) : 0;
    free(state);
    free(ct);
    xmlNodePtr mem = child(root, "memory");
    char *kind = attr_of(mem, "snapshot");
    if (kind && strcmp(kind, "external") == 0)
        m->memory_file = attr_of(mem, "file");
    free(kind);
    xmlNodePtr dom = child(root, "domain");
    char *dn = text_of(child(dom, "name")), *du = text_of(child(dom, "uuid"));
    snprintf(m->domain_name, sizeof(m->domain_name), "%s", dn ? dn : "");
    snprintf(m->domain_uuid, sizeof(m->domain_uuid), "%s", du ? du : "");
    free(dn);
    free(du);
    xmlNodePtr disks = child(root, "disks");
    size_t n = 0;
    for (xmlNodePtr c = disks ? disks->children : NULL; c; c = c->next)
        n += c->type == XML_ELEMENT_NODE;
    m->disks = calloc(n ? n : 1, sizeof(*m->disks));
    if (!m->name || !m->disks || (p && !m->parent)) {
        snprintf(err, errlen, "%s: out of memory", origin);
        snapmeta_free(m);
        goto out;
    }
    for (xmlNodePtr c = disks ? disks->children : NULL; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        struct snap_disk *sd = &m->disks[m->n_disks++];
        char *t = attr_of(c, "name"), *snap = attr_of(c, "snapshot");
        snprintf(sd->target, sizeof(sd->target), "%s", t ? t : "");
        sd->external = snap && strcmp(snap, "external") == 0;
        free(t);
        free(snap);
        if (sd->external)
            sd->layer = attr_of(child(c, "source"), "file");
        for (size_t i = 0; i + 1 < m->n_disks; i++)
            if (strcmp(m->disks[i].target, sd->target) == 0) {
                snprintf(err, errlen, "%s:%d: disk %s is listed twice", origin,
                         (int)xmlGetLineNo(c), sd->target);
                snapmeta_free(m);
                goto out;
            }
    }
    if (m->parent && strcmp(m->parent, m->name) == 0) {
        snprintf(err, errlen, "%s: snapshot '%s' names itself as its parent", origin, m->name);
        snapmeta_free(m);
        goto out;
    }
    rc = 0;
out:
    xmlSetStructuredErrorFunc(NULL, NULL);
    xmlFreeDoc(doc);
    return rc;
}

/* ---- the tree ---- */

int snapchain_find(const struct snap_meta *s, size_t n, const char *name)
{
    for (size_t i = 0; name && i < n; i++)
        if (strcmp(s[i].name, name) == 0)
            return (int)i;
    return -1;
}

bool snapchain_is_ancestor(const struct snap_meta *s, size_t n, const char *a, const char *b)
{
    int i = snapchain_find(s, n, b);
    /* At most n steps: a loop (refused by snapchain_check) cannot hang. */
    for (size_t steps = 0; i >= 0 && steps <= n; steps++) {
        if (strcmp(s[i].name, a) == 0)
            return true;
        i = snapchain_find(s, n, s[i].parent);
    }
    return false;
}

int snapchain_check(const struct snap_meta *s, size_t n, char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t j = i + 1; j < n; j++)
            if (strcmp(s[i].name, s[j].name) == 0) {
                snprintf(err, errlen, "two snapshots are named '%s'", s[i].name);
                return -1;
            }
        if (s[i].parent && snapchain_find(s, n, s[i].parent) < 0) {
            snprintf(err, errlen, "snapshot '%s' names a parent '%s' that does not exist",
                     s[i].name, s[i].parent);
            return -1;
        }
        int k = snapchain_find(s, n, s[i].parent);
        for (size_t steps = 0; k >= 0; steps++) {
            if ((size_t)k == i || steps > n) {
                snprintf(err, errlen, "the parents of snapshot '%s' form a loop", s[i].name);
                return -1;
            }
            k = snapchain_find(s, n, s[k].parent);
        }
    }
    return 0;
}

size_t snapchain_children(const struct snap_meta *s, size_t n, size_t victim, size_t *out)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        if (i != victim && s[i].parent && strcmp(s[i].parent, s[victim].name) == 0)
            out[c++] = i;
    return c;
}

int snapchain_reparent(struct snap_meta *s, size_t n, size_t victim)
{
    for (size_t i = 0; i < n; i++) {
        if (i == victim || !s[i].parent || strcmp(s[i].parent, s[victim].name) != 0)
            continue;
        char *np = s[victim].parent ? strdup(s[victim].parent) : NULL;
        if (s[victim].parent && !np)
            return -ENOMEM;
        free(s[i].parent);
        s[i].parent = np;
    }
    return 0;
}

void snapchain_order(const struct snap_meta *s, size_t n, size_t *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = i;
    /* Insertion sort: a domain has a handful of snapshots. */
    for (size_t i = 1; i < n; i++) {
        size_t v = out[i], j = i;
        while (j > 0 && (s[out[j - 1]].creation_time > s[v].creation_time ||
                         (s[out[j - 1]].creation_time == s[v].creation_time &&
                          strcmp(s[out[j - 1]].name, s[v].name) > 0))) {
            out[j] = out[j - 1];
            j--;
        }
        out[j] = v;
    }
}
