#include "xmlload.h"

#include <errno.h>
#include <fcntl.h>
#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "domcfg.h"

int domcfg_read_file(const char *path, char **buf, size_t *len,
                     struct domcfg_diags *diags)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            domcfg_diag_add(diags, 0, "no such file");
        else
            domcfg_diag_add(diags, 0, "cannot open: %s", strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        domcfg_diag_add(diags, 0, "not a regular file; give the path of a domain XML file");
        close(fd);
        return -1;
    }
    if (st.st_size > DOMCFG_FILE_MAX) {
        domcfg_diag_add(diags, 0, "file is %lld bytes; a domain definition may be at most %d bytes",
                        (long long)st.st_size, DOMCFG_FILE_MAX);
        close(fd);
        return -1;
    }
    /* Read up to one byte past the limit: the file may grow under us. */
    char *data = malloc(DOMCFG_FILE_MAX + 2);
    if (!data) {
        domcfg_diag_add(diags, 0, "out of memory");
        close(fd);
        return -1;
    }
    size_t have = 0;
    while (have <= DOMCFG_FILE_MAX) {
        ssize_t n = read(fd, data + have, DOMCFG_FILE_MAX + 1 - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            domcfg_diag_add(diags, 0, "cannot read: %s", strerror(errno));
            free(data);
            close(fd);
            return -1;
        }
        if (n == 0)
            break;
        have += (size_t)n;
    }
    close(fd);
    if (have > DOMCFG_FILE_MAX) {
        domcfg_diag_add(diags, 0, "file is larger than %d bytes, the limit for a domain definition",
                        DOMCFG_FILE_MAX);
        free(data);
        return -1;
    }
    data[have] = '\0';
    *buf = data;
    *len = have;
    return 0;
}

struct parse_errors {
    struct domcfg_diags *diags;
    int reported;
};

static void chomp(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' '))
        s[--n] = '\0';
}

/* libxml2 goes on reporting after the first fatal error, mostly echoes
   of it; the first one is the one the user has to fix. */
static void on_parse_error(void *ctx, xmlErrorPtr err)
{
    struct parse_errors *pe = ctx;
    if (pe->reported || err->level < XML_ERR_ERROR)
        return;
    pe->reported = 1;
    char *raw = strdup(err->message ? err->message : "unknown error");
    if (!raw) {
        domcfg_diag_add(pe->diags, err->line, "the XML is not well-formed");
        return;
    }
    chomp(raw);
    switch (err->code) {
    case XML_ERR_DOCUMENT_EMPTY:
        domcfg_diag_add(pe->diags, 0, "the file is empty; a definition starts with <domain type='xen'>");
        break;
    case XML_ERR_TAG_NAME_MISMATCH:
        domcfg_diag_add(pe->diags, err->line,
                        "</%s> does not close <%s> opened on line %d; check the element names",
                        err->str2 ? err->str2 : "?", err->str1 ? err->str1 : "?", err->int1);
        break;
    case XML_ERR_TAG_NOT_FINISHED:
        domcfg_diag_add(pe->diags, err->line,
                        "the file ends before <%s> is closed; add its closing tag",
                        err->str1 ? err->str1 : "?");
        break;
    case XML_ERR_DOCUMENT_END:
        domcfg_diag_add(pe->diags, err->line,
                        "text after the end of the root element; a definition holds exactly one <domain>");
        break;
    case XML_ERR_UNDECLARED_ENTITY:
    case XML_WAR_UNDECLARED_ENTITY:
        domcfg_diag_add(pe->diags, err->line,
                        "unknown entity reference (%s); write '&amp;' for a literal '&'", raw);
        break;
    case XML_ERR_ATTRIBUTE_WITHOUT_VALUE:
    case XML_ERR_ATTRIBUTE_NOT_STARTED:
        domcfg_diag_add(pe->diags, err->line,
                        "an attribute value must be in quotes, e.g. unit='MiB' (%s)", raw);
        break;
    case XML_NS_ERR_UNDEFINED_NAMESPACE:
        domcfg_diag_add(pe->diags, err->line, "%s; declare the prefix, e.g. "
                        "xmlns:mica='" DOMCFG_MICA_NS "' on <domain>", raw);
        break;
    default:
        domcfg_diag_add(pe->diags, err->line, "the XML is not well-formed: %s", raw);
        break;
    }
    free(raw);
}

/* libxml2 keeps no line for the DTD node; find the declaration itself. */
static int doctype_line(const char *buf, size_t len)
{
    int line = 1;
    static const char marker[] = "<!DOCTYPE";
    bool in_comment = false;
    for (size_t i = 0; i < len; i++) {
        if (!in_comment && len - i >= 4 && memcmp(buf + i, "<!--", 4) == 0)
            in_comment = true;
        else if (in_comment && len - i >= 3 && memcmp(buf + i, "-->", 3) == 0)
            in_comment = false;
        else if (!in_comment && len - i >= sizeof(marker) - 1 &&
                 memcmp(buf + i, marker, sizeof(marker) - 1) == 0)
            return line;
        if (buf[i] == '\n')
            line++;
    }
    return 1;
}

xmlDocPtr domcfg_parse_xml(const char *buf, size_t len, struct domcfg_diags *diags)
{
    if (len > (size_t)DOMCFG_FILE_MAX) {
        domcfg_diag_add(diags, 0, "input is larger than %d bytes, the limit for a domain definition",
                        DOMCFG_FILE_MAX);
        return NULL;
    }
    struct parse_errors pe = { .diags = diags };
    xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
    if (!ctxt) {
        domcfg_diag_add(diags, 0, "out of memory");
        return NULL;
    }
    xmlSetStructuredErrorFunc(&pe, on_parse_error);
    /* No NOENT (no entity substitution), no DTDLOAD, no network. */
    xmlDocPtr doc = xmlCtxtReadMemory(ctxt, buf, (int)len, diags->file, NULL,
                                      XML_PARSE_NONET | XML_PARSE_BIG_LINES |
                                      XML_PARSE_NOWARNING);
    xmlSetStructuredErrorFunc(NULL, NULL);
    int well_formed = ctxt->wellFormed;
    xmlFreeParserCtxt(ctxt);
    /* Namespace errors (an undeclared prefix) leave the document "well
       formed" to libxml2, but its names would then be meaningless. */
    if (!doc || !well_formed || pe.reported) {
        if (!pe.reported)
            domcfg_diag_add(diags, 0, "the XML is not well-formed");
        xmlFreeDoc(doc);
        return NULL;
    }
    if (doc->intSubset || doc->extSubset) {
        domcfg_diag_add(diags, doctype_line(buf, len),
                        "a <!DOCTYPE> declaration is not allowed in a domain definition; remove it");
        xmlFreeDoc(doc);
        return NULL;
    }
    return doc;
}
