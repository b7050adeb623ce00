/*
 * Back-end counters of a domain's disks and interfaces (devstats.h).
 */
#include "devstats.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices.h"

/* The blkif protocol counts in 512-byte sectors (io/blkif.h). */
#define BLKIF_SECTOR_BYTES 512u

/* One counter file holding a decimal number and a newline; false when it
   cannot be read or holds anything else. */
static bool read_counter(const char *dir, const char *name, uint64_t *out)
{
    char path[768], buf[32];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *end;
    errno = 0;
    unsigned long long v = strtoull(buf, &end, 10);
    if (end == buf || errno || (*end && *end != '\n'))
        return false;
    *out = v;
    return true;
}

/* A back-end node's value copied into buf ("" when absent). */
static void read_node(struct mica_xs *xs, const char *dir, const char *name, char *buf,
                      size_t len)
{
    char *v = devices_read_at(xs, dir, name);
    snprintf(buf, len, "%s", v ? v : "");
    free(v);
}

/* The handles under a back-end directory, sorted. */
struct handles {
    unsigned *ids;
    size_t n, cap;
    int rc;
};

static void note_handle(void *ctx, unsigned id)
{
    struct handles *h = ctx;
    if (h->rc)
        return;
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 8;
        unsigned *ids = realloc(h->ids, cap * sizeof(*ids));
        if (!ids) {
            h->rc = -ENOMEM;
            return;
        }
        h->ids = ids;
        h->cap = cap;
    }
    h->ids[h->n++] = id;
}

static int cmp_unsigned(const void *a, const void *b)
{
    unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
    return x < y ? -1 : x > y;
}

/* A domain without devices of this kind has no directory: no handles. */
static int list_handles(struct mica_xs *xs, const char *kind, uint32_t domid,
                        struct handles *h)
{
    char dir[96];
    snprintf(dir, sizeof(dir), "/local/domain/0/backend/%s/%" PRIu32, kind, domid);
    memset(h, 0, sizeof(*h));
    int rc = devices_each_number(xs, dir, note_handle, h);
    if (rc == -ENOENT)
        rc = 0;
    if (!rc)
        rc = h->rc;
    if (rc) {
        free(h->ids);
        return rc;
    }
    if (h->n)
        qsort(h->ids, h->n, sizeof(*h->ids), cmp_unsigned);
    return 0;
}

/* The handles of domid's devices of kind, and a zeroed array of one elem
   for each (NULL when none); 0, or -errno with nothing to free. */
static int begin_list(struct mica_xs *xs, const char *kind, uint32_t domid, size_t elem,
                      struct handles *h, void **array)
{
    int rc = list_handles(xs, kind, domid, h);
    *array = NULL;
    if (rc)
        return rc;
    if (h->n && !(*array = calloc(h->n, elem))) {
        free(h->ids);
        return -ENOMEM;
    }
    return 0;
}

int devstats_disks(struct mica_xs *xs, const char *sysroot, uint32_t domid,
                   struct devstats_disk **out, size_t *count)
{
    struct handles h;
    struct devstats_disk *d;
    *out = NULL;
    *count = 0;
    int rc = begin_list(xs, "vbd", domid, sizeof(*d), &h, (void **)&d);
    if (rc)
        return rc;
    for (size_t i = 0; i < h.n; i++) {
        char be[128], stats[512];
        uint64_t rd_sect = 0, wr_sect = 0;
        d[i].devid = h.ids[i];
        snprintf(be, sizeof(be), "/local/domain/0/backend/vbd/%" PRIu32 "/%u", domid, h.ids[i]);
        read_node(xs, be, "dev", d[i].name, sizeof(d[i].name));
        read_node(xs, be, "params", d[i].path, sizeof(d[i].path));
        snprintf(stats, sizeof(stats), "%s/sys/bus/xen-backend/devices/vbd-%" PRIu32 "-%u/statistics",
                 sysroot, domid, h.ids[i]);
        d[i].counted = read_counter(stats, "rd_req", &d[i].rd_reqs) &&
                       read_counter(stats, "wr_req", &d[i].wr_reqs) &&
                       read_counter(stats, "f_req", &d[i].fl_reqs) &&
                       read_counter(stats, "rd_sect", &rd_sect) &&
                       read_counter(stats, "wr_sect", &wr_sect);
        if (d[i].counted) {
            d[i].rd_bytes = rd_sect * BLKIF_SECTOR_BYTES;
            d[i].wr_bytes = wr_sect * BLKIF_SECTOR_BYTES;
        } else {
            d[i].rd_reqs = d[i].wr_reqs = d[i].fl_reqs = 0;
        }
    }
    free(h.ids);
    *out = d;
    *count = h.n;
    return 0;
}

int devstats_nics(struct mica_xs *xs, const char *sysroot, uint32_t domid,
                  struct devstats_nic **out, size_t *count)
{
    struct handles h;
    struct devstats_nic *n;
    *out = NULL;
    *count = 0;
    int rc = begin_list(xs, "vif", domid, sizeof(*n), &h, (void **)&n);
    if (rc)
        return rc;
    for (size_t i = 0; i < h.n; i++) {
        char be[128], stats[512];
        n[i].devid = h.ids[i];
        snprintf(be, sizeof(be), "/local/domain/0/backend/vif/%" PRIu32 "/%u", domid, h.ids[i]);
        /* netback names its interface vifDOMID.HANDLE; the toolstack may
           rename it to the definition's <target dev> (vifname). */
        read_node(xs, be, "vifname", n[i].name, sizeof(n[i].name));
        if (!n[i].name[0])
            snprintf(n[i].name, sizeof(n[i].name), "vif%" PRIu32 ".%u", domid % 100000u,
                     h.ids[i] % 1000u);
        read_node(xs, be, "mac", n[i].mac, sizeof(n[i].mac));
        snprintf(stats, sizeof(stats), "%s/sys/class/net/%s/statistics", sysroot, n[i].name);
        struct devstats_nic *c = &n[i];
        c->counted = read_counter(stats, "tx_bytes", &c->rx_bytes) &&
                     read_counter(stats, "tx_packets", &c->rx_pkts) &&
                     read_counter(stats, "tx_errors", &c->rx_errs) &&
                     read_counter(stats, "tx_dropped", &c->rx_drop) &&
                     read_counter(stats, "rx_bytes", &c->tx_bytes) &&
                     read_counter(stats, "rx_packets", &c->tx_pkts) &&
                     read_counter(stats, "rx_errors", &c->tx_errs) &&
                     read_counter(stats, "rx_dropped", &c->tx_drop);
        if (!c->counted)
            c->rx_bytes = c->rx_pkts = c->rx_errs = c->rx_drop = c->tx_bytes = c->tx_pkts =
                c->tx_errs = c->tx_drop = 0;
    }
    free(h.ids);
    *out = n;
    *count = h.n;
    return 0;
}
