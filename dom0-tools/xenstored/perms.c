#include "perms.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int xs_perm_parse(const char *s, struct xs_perm *out)
{
    switch (s[0]) {
    case 'n': out->access = 0; break;
    case 'r': out->access = XS_ACCESS_READ; break;
    case 'w': out->access = XS_ACCESS_WRITE; break;
    case 'b': out->access = XS_ACCESS_ALL; break;
    default: return EINVAL;
    }
    /* Domain ids are 16-bit; refuse anything else rather than wrap. */
    const char *d = s + 1;
    if (*d == '\0' || strlen(d) > 5)
        return EINVAL;
    uint32_t v = 0;
    for (; *d; d++) {
        if (*d < '0' || *d > '9')
            return EINVAL;
        v = v * 10 + (uint32_t)(*d - '0');
    }
    if (v > 0xffff)
        return EINVAL;
    out->domid = v;
    return 0;
}

static char access_letter(uint8_t access)
{
    switch (access & XS_ACCESS_ALL) {
    case XS_ACCESS_READ: return 'r';
    case XS_ACCESS_WRITE: return 'w';
    case XS_ACCESS_ALL: return 'b';
    default: return 'n';
    }
}

size_t xs_perms_format(const struct xs_perms *perms, char *out, size_t outsz)
{
    size_t used = 0;
    for (unsigned i = 0; i < perms->n; i++) {
        int n = snprintf(out + used, outsz - used, "%c%u",
                         access_letter(perms->p[i].access), perms->p[i].domid);
        if (n < 0 || (size_t)n + 1 > outsz - used)
            return 0;
        used += (size_t)n + 1;   /* keep the NUL snprintf wrote */
    }
    return used;
}

unsigned xs_perms_access(const struct xs_perms *perms, const struct xs_caller *who)
{
    if (who->privileged)
        return XS_ACCESS_ALL;
    if (perms->n == 0)
        return 0;
    uint32_t owner = perms->p[0].domid;
    if (who->domid == owner ||
        (who->target != XS_NO_TARGET && who->target == owner))
        return XS_ACCESS_ALL;

    /* A domain acting for a target gets the target's grants as well as
     * its own; the default entry applies only when neither is listed. */
    bool listed = false;
    unsigned access = 0;
    for (unsigned i = 1; i < perms->n; i++) {
        if (perms->p[i].domid == who->domid ||
            (who->target != XS_NO_TARGET && perms->p[i].domid == who->target)) {
            access |= perms->p[i].access;
            listed = true;
        }
    }
    return listed ? access : perms->p[0].access;
}

int xs_perms_copy(struct xs_perms *dst, const struct xs_perms *src)
{
    struct xs_perm *p = malloc(sizeof(*p) * (src->n ? src->n : 1));
    if (!p)
        return ENOMEM;
    memcpy(p, src->p, sizeof(*p) * src->n);
    free(dst->p);
    dst->p = p;
    dst->n = src->n;
    return 0;
}

int xs_perms_set_single(struct xs_perms *dst, uint32_t owner, uint8_t access)
{
    struct xs_perm *p = malloc(sizeof(*p));
    if (!p)
        return ENOMEM;
    p->domid = owner;
    p->access = access;
    free(dst->p);
    dst->p = p;
    dst->n = 1;
    return 0;
}

void xs_perms_free(struct xs_perms *perms)
{
    free(perms->p);
    perms->p = NULL;
    perms->n = 0;
}

bool xs_perms_equal(const struct xs_perms *a, const struct xs_perms *b)
{
    if (a->n != b->n)
        return false;
    for (unsigned i = 0; i < a->n; i++)
        if (a->p[i].domid != b->p[i].domid || a->p[i].access != b->p[i].access)
            return false;
    return true;
}
