#include "check.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A PV kernel, its start_info and page tables do not fit in less. */
#define MIN_MEMORY_KIB 1024

static void format_kib(uint64_t kib, char out[32])
{
    if (kib % (1024 * 1024) == 0)
        snprintf(out, 32, "%llu GiB", (unsigned long long)(kib / (1024 * 1024)));
    else if (kib % 1024 == 0)
        snprintf(out, 32, "%llu MiB", (unsigned long long)(kib / 1024));
    else
        snprintf(out, 32, "%llu KiB", (unsigned long long)kib);
}

static int check_memory(const struct domain_config *cfg, const struct domcfg_where *where,
                        struct domcfg_diags *diags)
{
    int errors = 0;
    char a[32], b[32];
    if (where->memory && cfg->memory_kib < MIN_MEMORY_KIB) {
        format_kib(cfg->memory_kib, a);
        domcfg_diag_add(diags, where->memory, "<memory> is %s; a domain needs at least 1 MiB", a);
        errors++;
    }
    if (where->memory && cfg->has_max_memory && cfg->memory_kib > cfg->max_memory_kib) {
        format_kib(cfg->memory_kib, a);
        format_kib(cfg->max_memory_kib, b);
        domcfg_diag_add(diags, where->memory, "<memory> (%s) is larger than <maxMemory> (%s, "
                        "line %d); raise maxMemory or lower memory", a, b, where->max_memory);
        errors++;
    }
    if (where->current_memory && cfg->current_memory_kib > cfg->memory_kib) {
        format_kib(cfg->current_memory_kib, a);
        format_kib(cfg->memory_kib, b);
        domcfg_diag_add(diags, where->current_memory, "<currentMemory> (%s) is larger than "
                        "<memory> (%s); currentMemory is what the domain starts with and "
                        "cannot exceed memory", a, b);
        errors++;
    }
    if (where->current_memory && cfg->current_memory_kib == 0) {
        domcfg_diag_add(diags, where->current_memory, "<currentMemory> is 0; leave it out to "
                        "start with all of <memory>");
        errors++;
    }
    return errors;
}

/* Each <vcpupin> names a vCPU the domain has, at most once. */
static int check_vcpupins(const struct domain_config *cfg, struct domcfg_diags *diags)
{
    int errors = 0;
    for (size_t i = 0; i < cfg->n_vcpupins; i++) {
        const struct domcfg_vcpupin *p = &cfg->vcpupins[i];
        if (p->vcpu >= cfg->vcpus_max) {
            domcfg_diag_add(diags, p->line, "<vcpupin vcpu='%u'> pins a vCPU the domain does "
                            "not have: <vcpu> gives it %u (numbered 0 to %u)", p->vcpu,
                            cfg->vcpus_max, cfg->vcpus_max - 1);
            errors++;
            continue;
        }
        for (size_t j = 0; j < i; j++) {
            if (cfg->vcpupins[j].vcpu == p->vcpu) {
                domcfg_diag_add(diags, p->line, "<vcpupin vcpu='%u'> again (first on line %d); "
                                "keep one per vCPU", p->vcpu, cfg->vcpupins[j].line);
                errors++;
                break;
            }
        }
    }
    return errors;
}

static int check_vcpus(const struct domain_config *cfg, const struct domcfg_where *where,
                       struct domcfg_diags *diags)
{
    int errors = check_vcpupins(cfg, diags);
    if (cfg->vcpus_current <= cfg->vcpus_max)
        return errors;
    domcfg_diag_add(diags, where->vcpu, "<vcpu> current='%u' is more than the maximum %u; "
                    "current is how many of the maximum are online at start",
                    cfg->vcpus_current, cfg->vcpus_max);
    return errors + 1;
}

static int check_disks(const struct domain_config *cfg, struct domcfg_diags *diags)
{
    int errors = 0;
    for (size_t i = 0; i < cfg->n_disks; i++) {
        const struct domcfg_disk *d = &cfg->disks[i];
        if (!d->target[0])
            continue;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(cfg->disks[j].target, d->target) == 0) {
                domcfg_diag_add(diags, d->line, "<target dev='%s'> is already used by the "
                                "disk on line %d; give each disk its own xvdX name",
                                d->target, cfg->disks[j].line);
                errors++;
                break;
            }
        }
    }
    return errors;
}

static int check_nics(const struct domain_config *cfg, struct domcfg_diags *diags)
{
    int errors = 0;
    for (size_t i = 0; i < cfg->n_nics; i++) {
        const struct domcfg_nic *n = &cfg->nics[i];
        if (!n->has_mac)
            continue;
        const uint8_t *m = n->mac;
        char text[18];
        snprintf(text, sizeof(text), "%02x:%02x:%02x:%02x:%02x:%02x",
                 m[0], m[1], m[2], m[3], m[4], m[5]);
        if (m[0] & 1) {
            domcfg_diag_add(diags, n->line, "<mac> address %s is a multicast address; a NIC "
                            "needs a unicast one (even first byte, e.g. 00:16:3e:...)", text);
            errors++;
        } else if (!(m[0] | m[1] | m[2] | m[3] | m[4] | m[5])) {
            domcfg_diag_add(diags, n->line, "<mac> address %s is all zeros; pick a real "
                            "address (e.g. 00:16:3e:...) or leave <mac> out", text);
            errors++;
        }
        for (size_t j = 0; j < i; j++) {
            if (cfg->nics[j].has_mac && memcmp(cfg->nics[j].mac, m, 6) == 0) {
                domcfg_diag_add(diags, n->line, "<mac> address %s is already used by the "
                                "interface on line %d; each interface needs its own", text,
                                cfg->nics[j].line);
                errors++;
                break;
            }
        }
    }
    return errors;
}

enum want { WANT_REGULAR, WANT_BLOCK };

static int check_file(const char *what, const char *path, int line, enum want want,
                      struct domcfg_diags *diags)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            domcfg_diag_add(diags, line, "%s %s does not exist; check the path", what, path);
        else
            domcfg_diag_add(diags, line, "%s %s cannot be examined: %s", what, path,
                            strerror(errno));
        return 1;
    }
    if (want == WANT_REGULAR && !S_ISREG(st.st_mode)) {
        domcfg_diag_add(diags, line, "%s %s is not a regular file%s", what, path,
                        S_ISBLK(st.st_mode) ? "; for a block device use <disk type='block'>"
                                            : "");
        return 1;
    }
    if (want == WANT_BLOCK && !S_ISBLK(st.st_mode)) {
        domcfg_diag_add(diags, line, "%s %s is not a block device%s", what, path,
                        S_ISREG(st.st_mode) ? "; for an image file use <disk type='file'>"
                                            : "");
        return 1;
    }
    if (access(path, R_OK) < 0) {
        domcfg_diag_add(diags, line, "%s %s is not readable: %s", what, path, strerror(errno));
        return 1;
    }
    return 0;
}

static int check_files(const struct domain_config *cfg, const struct domcfg_where *where,
                       struct domcfg_diags *diags)
{
    int errors = 0;
    if (cfg->kernel)
        errors += check_file("<kernel>", cfg->kernel, where->kernel, WANT_REGULAR, diags);
    if (cfg->initrd)
        errors += check_file("<initrd>", cfg->initrd, where->initrd, WANT_REGULAR, diags);
    for (size_t i = 0; i < cfg->n_disks; i++) {
        const struct domcfg_disk *d = &cfg->disks[i];
        if (d->source)
            errors += check_file("disk <source>", d->source, d->line,
                                 d->type == DOMCFG_DISK_BLOCK ? WANT_BLOCK : WANT_REGULAR,
                                 diags);
    }
    return errors;
}

int domcfg_check(const struct domain_config *cfg, const struct domcfg_where *where,
                 unsigned flags, struct domcfg_diags *diags)
{
    int errors = check_memory(cfg, where, diags) + check_vcpus(cfg, where, diags) +
                 check_disks(cfg, diags) + check_nics(cfg, diags);
    if (flags & DOMCFG_CHECK_FILES)
        errors += check_files(cfg, where, diags);
    return errors ? -1 : 0;
}
