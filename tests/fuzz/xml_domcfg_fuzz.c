/*
 * libFuzzer target for the domain XML loader (libdomcfg): any input must
 * be either rejected with at least one diagnostic or accepted, and an
 * accepted definition must survive what vmctl define does to it (insert
 * a UUID, serialize, load again) with the same name and sizes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "domcfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct domain_config cfg;
    struct domcfg_diags diags;
    struct domcfg_document *doc = NULL;
    domcfg_diags_init(&diags, "fuzz.xml");
    enum domcfg_status st =
        domcfg_load_memory((const char *)data, size, "fuzz.xml", 0, &cfg, &diags, &doc);
    if (st != DOMCFG_OK) {
        if (diags.count == 0 && !diags.truncated)
            abort(); /* rejected without saying why */
        /* Only the schema saw the problem: libdomcfg's walk lacks a rule,
           and the user gets libxml2's wording instead of a sentence. */
        for (size_t i = 0; getenv("FUZZ_STRICT_MESSAGES") && i < diags.count; i++)
            if (diags.items[i].from_schema)
                abort();
        domcfg_diags_free(&diags);
        return 0;
    }
    if (diags.count != 0)
        abort(); /* accepted but complained */
    if (!cfg.has_uuid) {
        static const uint8_t uuid[16] = { 1, 2, 3, 4, 5, 6, 0x47, 8, 0x89, 10, 11, 12, 13, 14, 15, 16 };
        if (domcfg_document_set_uuid(doc, uuid) != 0)
            abort();
    }
    size_t len;
    char *xml = domcfg_document_to_xml(doc, &len);
    if (xml) {
        struct domain_config again;
        struct domcfg_diags diags2;
        domcfg_diags_init(&diags2, "again.xml");
        if (domcfg_load_memory(xml, len, "again.xml", 0, &again, &diags2, NULL) != DOMCFG_OK)
            abort(); /* what define would store does not load back */
        if (strcmp(again.name, cfg.name) != 0 || again.memory_kib != cfg.memory_kib ||
            again.vcpus_max != cfg.vcpus_max || again.n_disks != cfg.n_disks || !again.has_uuid)
            abort();
        domcfg_free(&again);
        domcfg_diags_free(&diags2);
        free(xml);
    }
    domcfg_document_free(doc);
    domcfg_free(&cfg);
    domcfg_diags_free(&diags);
    return 0;
}
