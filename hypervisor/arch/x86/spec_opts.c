/*
 * The `spec-ctrl=` option's syntax (asm/spec_opts.h).  Names and rules are
 * Xen 4.17's (docs/misc/xen-command-line.pandoc, `spec-ctrl (x86)`), so a
 * Xen command line boots Mica with the same meaning for what Mica has.
 */
#include <asm/spec_opts.h>
#include <mica/lib.h>
#include <mica/param.h>

/* Xen's items for mitigations Mica does not have (docs/spec-ctrl.md). */
static const char *const xen_only[] = {
    "hvm", "msr-sc", "verw", "md-clear", "ibpb-entry", "bhb-entry", "bhb-seq",
    "ibrs", "ibpb", "stibp", "ssbd", "psfd", "eager-fpu", "l1d-flush",
    "srb-lock", "unpriv-mmio", "gds-mit", "div-scrub",
    "lock-harden", "bhi-dis-s", "bp-spec-reduce",
};

/*
 * Whether item is about `name`: `name` or `no-name` (*rest NULL, *b
 * true or false) or `name=...` (*rest after the '=').
 */
static bool item_is(const char *item, const char *name, bool *b, const char **rest)
{
    size_t n = strlen(name);

    *b = true;
    *rest = NULL;
    if (!strncmp(item, "no-", 3)) {
        if (strcmp(item + 3, name))
            return false;
        *b = false;
        return true;
    }
    if (strncmp(item, name, n))
        return false;
    if (item[n] == '=')
        *rest = item + n + 1;
    return item[n] == '\0' || item[n] == '=';
}

/* `name`, `no-name` or `name=<bool>`: 0 with *b set, or -1. */
static int bool_item(const char *item, const char *name, bool *b)
{
    const char *rest;

    if (!item_is(item, name, b, &rest))
        return -1;
    return rest ? parse_bool(rest, b) : 0;
}

/*
 * The next item of a comma-separated option value at *s into item (size
 * bytes), *s moved past it; empty items are nothing, as on Xen.  1 with
 * item set, 0 at the end, -1 for an item too long for item: then item
 * holds its first 24 characters and "...", for the error.
 */
static int next_item(const char **s, char *item, size_t size)
{
    const char *p = *s;
    size_t n = 0;

    while (*p == ',')
        p++;
    if (!*p) {
        *s = p;
        return 0;
    }
    while (p[n] && p[n] != ',')
        n++;
    *s = p + n + (p[n] == ',');
    if (n >= size) {
        snprintf(item, size, "%.24s...", p);
        return -1;
    }
    memcpy(item, p, n);
    item[n] = '\0';
    return 1;
}

static void note_ignored(struct spec_opts *o, const char *item)
{
    size_t n = strlen(o->ignored);

    if (n + 1 + strlen(item) + 1 > sizeof(o->ignored))
        return;                         /* the warning names the first ones */
    snprintf(o->ignored + n, sizeof(o->ignored) - n, "%s%s", n ? "," : "", item);
}

static void mica_off(struct spec_opts *o)
{
    o->thunk = BTI_THUNK_JMP;
    o->rsb_pv = 0;
    o->branch_harden = 0;
}

/*
 * `name`, `no-name` or `name=<bool>` into *field: 0, -1 with a sentence in
 * why for a bad value, 1 when item is not about `name`.
 */
static int bool_setting(const char *item, const char *name, s8 *field, char *why, size_t whylen)
{
    const char *rest;
    bool b;

    if (!item_is(item, name, &b, &rest))
        return 1;
    if (bool_item(item, name, &b)) {
        snprintf(why, whylen, "'%s' is not %s=<bool>", item, name);
        return -1;
    }
    *field = b;
    return 0;
}

/* One item into *o: 0, or -1 with a sentence in why (*o unchanged then). */
static int parse_item(const char *item, struct spec_opts *o, char *why, size_t whylen)
{
    const char *rest;
    bool b, known = false;
    int rc;

    if (!parse_bool(item, &b)) {
        if (b) {
            snprintf(why, whylen, "'%s': only a negative boolean is valid here (as on Xen)", item);
            return -1;
        }
        mica_off(o);
        o->all_off = true;
        return 0;
    }
    if (item_is(item, "xen", &b, &rest)) {
        if (bool_item(item, "xen", &b) || b) {
            snprintf(why, whylen, "'%s': only no-xen or xen=0 is valid", item);
            return -1;
        }
        mica_off(o);
        return 0;
    }
    if ((rc = bool_setting(item, "pv", &o->rsb_pv, why, whylen)) <= 0)
        return rc;
    if (item_is(item, "rsb", &b, &rest)) {
        if (rest && (!strncmp(rest, "pv=", 3) || !strncmp(rest, "hvm=", 4))) {
            bool pv = rest[0] == 'p';
            if (parse_bool(rest + (pv ? 3 : 4), &b)) {
                snprintf(why, whylen, "'%s' is not rsb=pv=<bool> or rsb=hvm=<bool>", item);
                return -1;
            }
            if (pv)
                o->rsb_pv = b;
            else
                note_ignored(o, item);          /* Mica has no HVM guests */
            return 0;
        }
        if (bool_item(item, "rsb", &b)) {
            snprintf(why, whylen, "'%s' is not rsb=<bool>, rsb=pv=<bool> or rsb=hvm=<bool>", item);
            return -1;
        }
        o->rsb_pv = b;
        return 0;
    }
    if ((rc = bool_setting(item, "branch-harden", &o->branch_harden, why, whylen)) <= 0)
        return rc;
    if (!strncmp(item, "bti-thunk=", 10)) {
        rest = item + 10;
        if (!strcmp(rest, "retpoline"))
            o->thunk = BTI_THUNK_RETPOLINE;
        else if (!strcmp(rest, "lfence"))
            o->thunk = BTI_THUNK_LFENCE;
        else if (!strcmp(rest, "jmp"))
            o->thunk = BTI_THUNK_JMP;
        else {
            snprintf(why, whylen, "'%s': want bti-thunk=retpoline, lfence or jmp", item);
            return -1;
        }
        return 0;
    }
    for (size_t i = 0; i < ARRAY_SIZE(xen_only) && !known; i++)
        known = item_is(item, xen_only[i], &b, &rest);
    if (!known) {
        snprintf(why, whylen, "'%s' is not an item of spec-ctrl (Xen 4.17's list)", item);
        return -1;
    }
    note_ignored(o, item);
    return 0;
}

/*
 * The sentence cmdline.c prints as it is after an option with bad items
 * (why: what was wrong with the first): what was left out, what was
 * taken.  Returns bad, the parsers' answer (0: all taken).
 */
static int bad_items_said(const char *why, unsigned bad, unsigned taken, char *err, size_t errlen)
{
    char more[32] = "";

    if (!bad)
        return 0;
    if (bad > 1)
        snprintf(more, sizeof(more), ", and %u more bad items", bad - 1);
    snprintf(err, errlen, "%s%s; %s", why, more,
             !taken ? "no item of this option is taken" :
             bad == 1 ? "that item is left out, the option's other items are taken (as Xen 4.17)" :
                        "those are left out, the option's other items are taken (as Xen 4.17)");
    return (int)bad;
}

int spec_opts_parse(const char *value, struct spec_opts *o, char *err, size_t errlen)
{
    const char *s = value ? value : "";
    char item[48], why[128] = "", later[128] = "";
    unsigned bad = 0, taken = 0;
    int got;

    if (!*s) {
        snprintf(err, errlen, "wants a value: no, no-xen, bti-thunk=retpoline|lfence|jmp, rsb=<bool>, branch-harden=<bool>, ...");
        return -1;
    }
    while ((got = next_item(&s, item, sizeof(item)))) {
        if (got < 0) {                  /* no item of Xen's is this long */
            snprintf(bad ? later : why, sizeof(why), "'%s' is not an item of spec-ctrl", item);
            bad++;
        } else if (parse_item(item, o, bad ? later : why, sizeof(why))) {
            bad++;
        } else {
            taken++;
        }
    }
    return bad_items_said(why, bad, taken, err, errlen);
}

const char *bti_thunk_name(enum bti_thunk t)
{
    switch (t) {
    case BTI_THUNK_RETPOLINE:
        return "RETPOLINE";
    case BTI_THUNK_LFENCE:
        return "LFENCE";
    case BTI_THUNK_JMP:
        return "JMP";
    case BTI_THUNK_DEFAULT:
        break;
    }
    return "default";
}

int spec_dom_list_parse(const char *value, bool allow_default, int *hwdom, int *domu,
                        char *err, size_t errlen)
{
    int h = *hwdom, u = *domu, got;
    const char *s = value;
    char word[32], why[128] = "";
    unsigned bad = 0, taken = 0;

    if (!value || !*value) {
        *hwdom = *domu = 1;
        return 0;
    }
    /* A bad item is left out and the others apply, as Xen 4.17's parsers. */
    while ((got = next_item(&s, word, sizeof(word)))) {
        bool b;

        if (got > 0 && !parse_bool(word, &b))
            h = u = b;
        else if (got > 0 && allow_default && !strcmp(word, "default"))
            h = u = -1;
        else if (got > 0 && !bool_item(word, "dom0", &b))
            h = b;
        else if (got > 0 && !bool_item(word, "domu", &b))
            u = b;
        else {
            if (!bad++)
                snprintf(why, sizeof(why), "'%s' is not <bool>,%s dom0[=<bool>] or domu[=<bool>]", word,
                         allow_default ? " default," : "");
            continue;
        }
        taken++;
    }
    *hwdom = h;
    *domu = u;
    return bad_items_said(why, bad, taken, err, errlen);
}

int xpti_parse_option(const char *value, int *hwdom, int *domu, char *err, size_t errlen)
{
    return spec_dom_list_parse(value, true, hwdom, domu, err, errlen);
}

void xpti_resolve_default(bool amd_or_hygon, bool rdcl_no, bool spec_ctrl_no, int *hwdom, int *domu)
{
    /* Only Intel-style cores without RDCL_NO let a user load read supervisor data. */
    int def = !(amd_or_hygon || rdcl_no || spec_ctrl_no);

    if (*hwdom < 0)
        *hwdom = def;
    if (*domu < 0)
        *domu = def;
}
