/* Node permissions as Xen encodes them: a list whose first entry names
 * the owner and the access every unlisted domain gets; later entries
 * grant a specific domain n(one), r(ead), w(rite) or b(oth). */
#ifndef XS_PERMS_H
#define XS_PERMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define XS_ACCESS_READ  1u
#define XS_ACCESS_WRITE 2u
#define XS_ACCESS_ALL   (XS_ACCESS_READ | XS_ACCESS_WRITE)

/* No target set for a connection (SET_TARGET not used). */
#define XS_NO_TARGET UINT32_MAX

struct xs_perm {
    uint32_t domid;
    uint8_t access;
};

struct xs_perms {
    unsigned n;            /* >= 1 for every live node */
    struct xs_perm *p;     /* heap array */
};

/* Who is asking: the privileged (dom0) side sees and changes everything. */
struct xs_caller {
    uint32_t domid;
    bool privileged;
    uint32_t target;       /* XS_NO_TARGET or the domain it acts for */
};

/* Parses one "r5"-style string; returns 0 or EINVAL. */
int xs_perm_parse(const char *s, struct xs_perm *out);

/* Formats every entry as "<letter><domid>\0" into out (NUL-separated),
 * returns the byte count or 0 if outsz is too small. */
size_t xs_perms_format(const struct xs_perms *perms, char *out, size_t outsz);

/* Access bits (XS_ACCESS_*) the caller has on a node with these perms. */
unsigned xs_perms_access(const struct xs_perms *perms, const struct xs_caller *who);

int xs_perms_copy(struct xs_perms *dst, const struct xs_perms *src);
int xs_perms_set_single(struct xs_perms *dst, uint32_t owner, uint8_t access);
void xs_perms_free(struct xs_perms *perms);
bool xs_perms_equal(const struct xs_perms *a, const struct xs_perms *b);

#endif
