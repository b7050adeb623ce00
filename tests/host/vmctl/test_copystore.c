/*
 * vmctl migrate --copy-storage, the parts that need no dom0
 * (dom0-tools/vmctl/copystore.c, docs/migration.md "Copying local
 * disks"): a <shareable/> disk in the definition is refused naming the
 * disk, its file and the way out; where the part of an image past its
 * device's last whole sector begins (copied once by vmctl, not by the
 * mirror).
 */
#define _GNU_SOURCE
#define UNIT_SUITE "copystore"
#include "unit.h"

#include <stdlib.h>

#include "copystore.h"

static const char *xml_head =
    "<domain type='xen'><name>c2</name><memory unit='MiB'>64</memory>"
    "<os><type>linux</type><kernel>/boot/vmlinuz</kernel></os><devices>"
    "<disk type='file'><source file='/var/lib/mica/c2.img'/><target dev='xvda'/></disk>";

static int load(const char *disks, struct domain_config *cfg)
{
    char xml[2048];
    snprintf(xml, sizeof(xml), "%s%s</devices></domain>", xml_head, disks);
    struct domcfg_diags diags;
    domcfg_diags_init(&diags, "test.xml");
    enum domcfg_status st = domcfg_load_memory(xml, strlen(xml), "test.xml", 0, cfg, &diags,
                                               NULL);
    if (st != DOMCFG_OK)
        domcfg_diags_print(&diags, stderr, 10);
    domcfg_diags_free(&diags);
    return st == DOMCFG_OK ? 0 : -1;
}

UNIT_TEST(private_disks_pass)
{
    struct domain_config cfg;
    char err[700] = "";
    CHECK(load("<disk type='file'><source file='/srv/ro.iso'/><target dev='xvdb'/>"
               "<readonly/></disk>", &cfg) == 0);
    CHECK_EQ(cs_refuse_shareable(&cfg, err, sizeof(err)), 0);
    CHECK_EQ(err[0], 0);
    domcfg_free(&cfg);
}

UNIT_TEST(shareable_refused_with_its_name_and_the_way_out)
{
    struct domain_config cfg;
    char err[700] = "";
    CHECK(load("<disk type='file'><source file='/srv/shared.img'/><target dev='xvdc'/>"
               "<shareable/></disk>", &cfg) == 0);
    CHECK_EQ(cs_refuse_shareable(&cfg, err, sizeof(err)), -1);
    CHECK_STR(err, "disk xvdc (/srv/shared.img) is <shareable/>");
    CHECK_STR(err, "the copy would miss their writes");
    CHECK_STR(err, "migrate without --copy-storage");
    CHECK_STR(err, "take <shareable/> out of the definition");
    domcfg_free(&cfg);
}

UNIT_TEST(shareable_and_readonly_refused_too)
{
    /* Read-only here says nothing of the other domains' writes. */
    struct domain_config cfg;
    char err[700] = "";
    CHECK(load("<disk type='file'><source file='/srv/s.img'/><target dev='xvdb'/>"
               "<readonly/><shareable/></disk>", &cfg) == 0);
    CHECK_EQ(cs_refuse_shareable(&cfg, err, sizeof(err)), -1);
    CHECK_STR(err, "disk xvdb (/srv/s.img) is <shareable/>");
    domcfg_free(&cfg);
}

UNIT_TEST(tail_past_the_last_whole_sector)
{
    /* A loop device is the file's size rounded down to 512 octets. */
    CHECK_EQ(cs_tail_start(8388608, 16384), 8388608);        /* none */
    CHECK_EQ(cs_tail_start(8388708, 16384), 8388608);        /* 100 octets */
    CHECK_EQ(cs_tail_start(8389119, 16384), 8388608);        /* 511 */
    CHECK_EQ(cs_tail_start(100, 0), 0);                      /* all tail */
    /* A device larger than the file (it shrank): nothing to copy past it. */
    CHECK_EQ(cs_tail_start(8388608, 16385), 8388608);
}

UNIT_MAIN()
