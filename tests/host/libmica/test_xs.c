/*
 * libmica's xenstore client and vmctl's domain nodes against our real
 * xenstored (sanitizer build, --no-domains) on a private socket: requests,
 * error names mapped back to errno, transactions, watches and events kept
 * across requests, INTRODUCE/RELEASE, and the nodes and permissions xl
 * writes for a PV domain (then removed whole); vmctl's device code
 * (devices.c) where it needs no loop device or bridge: xvd numbers, the
 * refusals before a domain exists, finding and detaching a device; and
 * the back-end counters vmctl domstats reads (devstats.c) from a sysfs
 * tree made here.
 *
 * The daemon is XENSTORED_BIN (set by the build) or argv[1].
 */
#define UNIT_SUITE "libmica/xs"
#include "unit.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "devices.h"
#include "devstats.h"
#include "xs.h"
#include "xs_nodes.h"

static const char *daemon_bin;
static char sock[256], dir[64];
static pid_t daemon_pid;

static void start_daemon(void)
{
    char log[128];
    snprintf(dir, sizeof(dir), "/tmp/test_xs.XXXXXX");
    if (!mkdtemp(dir))
        abort();
    snprintf(sock, sizeof(sock), "%s/socket", dir);
    snprintf(log, sizeof(log), "%s/xenstored.log", dir);
    daemon_pid = fork();
    if (daemon_pid == 0) {
        /* Its log would interleave with the PASS lines. */
        if (!freopen(log, "w", stderr))
            _exit(126);
        execl(daemon_bin, daemon_bin, "--socket", sock, "--no-domains", "--foreground",
              (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 500; i++) {
        struct stat st;
        if (stat(sock, &st) == 0)
            return;
        usleep(10000);
    }
    fprintf(stderr, "xenstored did not come up at %s\n", sock);
    abort();
}

static void stop_daemon(void)
{
    int status;
    char log[128];
    kill(daemon_pid, SIGTERM);
    waitpid(daemon_pid, &status, 0);
    snprintf(log, sizeof(log), "%s/xenstored.log", dir);
    unlink(log);
    rmdir(dir);
}

static char *must_read(struct mica_xs *xs, const char *path)
{
    char *v = NULL;
    int rc = mica_xs_read(xs, 0, path, &v);
    return rc ? NULL : v;
}

static int perms_are(struct mica_xs *xs, const char *path, const char *want, size_t want_len)
{
    char *reply = NULL;
    size_t len = 0;
    int rc = mica_xs_request(xs, 3 /* GET_PERMS */, 0, path, strlen(path) + 1, &reply, &len);
    int ok = rc == 0 && len == want_len && memcmp(reply, want, len) == 0;
    free(reply);
    return ok;
}

UNIT_TEST(read_write_errors)
{
    struct mica_xs xs;
    char *v;
    CHECK(mica_xs_open(&xs, sock) == 0);
    CHECK(mica_xs_write(&xs, 0, "/t/a", "hello") == 0);
    CHECK((v = must_read(&xs, "/t/a")) && strcmp(v, "hello") == 0);
    free(v);
    CHECK(mica_xs_read(&xs, 0, "/t/missing", &v) == -ENOENT);
    CHECK(mica_xs_write(&xs, 0, "not-absolute-//", "x") == -EINVAL);
    CHECK(mica_xs_rm(&xs, 0, "/t") == 0);
    CHECK(mica_xs_read(&xs, 0, "/t/a", &v) == -ENOENT);
    mica_xs_close(&xs);
    CHECK(mica_xs_open(&xs, "/nonexistent/socket") == -ENOENT);
}

UNIT_TEST(transactions_and_directory)
{
    struct mica_xs xs;
    uint32_t tx;
    char *names;
    size_t len;
    CHECK(mica_xs_open(&xs, sock) == 0);
    CHECK(mica_xs_tx_start(&xs, &tx) == 0);
    CHECK(mica_xs_write(&xs, tx, "/d/x", "1") == 0);
    CHECK(mica_xs_write(&xs, tx, "/d/y", "2") == 0);
    CHECK(mica_xs_tx_end(&xs, tx, false) == 0);          /* aborted */
    CHECK(mica_xs_directory(&xs, 0, "/d", &names, &len) == -ENOENT);
    CHECK(mica_xs_tx_start(&xs, &tx) == 0);
    CHECK(mica_xs_write(&xs, tx, "/d/x", "1") == 0);
    CHECK(mica_xs_write(&xs, tx, "/d/y", "2") == 0);
    CHECK(mica_xs_tx_end(&xs, tx, true) == 0);
    CHECK(mica_xs_directory(&xs, 0, "/d", &names, &len) == 2);
    CHECK(len == 4 && memcmp(names, "x\0y\0", 4) == 0);
    free(names);
    mica_xs_rm(&xs, 0, "/d");
    mica_xs_close(&xs);
}

UNIT_TEST(watch_events_kept_across_requests)
{
    struct mica_xs a, b;
    char *path, *token;
    CHECK(mica_xs_open(&a, sock) == 0 && mica_xs_open(&b, sock) == 0);
    CHECK(mica_xs_watch(&a, "@introduceDomain", "intro") == 0);
    CHECK(mica_xs_watch(&a, "@releaseDomain", "rel") == 0);
    /* The initial events. */
    CHECK(mica_xs_event(&a, true, &path, &token) == 1 && strcmp(token, "intro") == 0);
    free(path), free(token);
    CHECK(mica_xs_event(&a, true, &path, &token) == 1 && strcmp(token, "rel") == 0);
    free(path), free(token);
    CHECK(mica_xs_event(&a, false, &path, &token) == 0);
    CHECK(mica_xs_introduce(&b, 9, 0x1234, 3) == 0);
    CHECK(mica_xs_is_introduced(&b, 9) == 1);
    CHECK(mica_xs_is_introduced(&b, 10) == 0);
    /* a asks something meanwhile: the event that arrives first is kept. */
    usleep(50000);
    char *v;
    CHECK(mica_xs_read(&a, 0, "/nope", &v) == -ENOENT);
    CHECK(mica_xs_event_pending(&a));
    CHECK(mica_xs_event(&a, false, &path, &token) == 1);
    CHECK(strcmp(path, "@introduceDomain") == 0 && strcmp(token, "intro") == 0);
    free(path), free(token);
    CHECK(mica_xs_release(&b, 9) == 0);
    CHECK(mica_xs_release(&b, 9) == -ENOENT);
    CHECK(mica_xs_event(&a, true, &path, &token) == 1 && strcmp(path, "@releaseDomain") == 0);
    free(path), free(token);
    mica_xs_close(&a);
    mica_xs_close(&b);
}

UNIT_TEST(unwatch_stops_events)
{
    struct mica_xs a;
    char *path, *token;
    CHECK(mica_xs_open(&a, sock) == 0);
    CHECK(mica_xs_watch(&a, "/w/console", "con") == 0);
    CHECK(mica_xs_event(&a, true, &path, &token) == 1);   /* the initial event */
    free(path), free(token);
    CHECK(mica_xs_write(&a, 0, "/w/console/ring-ref", "5") == 0);
    CHECK(mica_xs_event(&a, true, &path, &token) == 1);
    CHECK(strcmp(path, "/w/console/ring-ref") == 0 && strcmp(token, "con") == 0);
    free(path), free(token);
    CHECK(mica_xs_unwatch(&a, "/w/console", "other") == -ENOENT);
    CHECK(mica_xs_unwatch(&a, "/w/console", "con") == 0);
    CHECK(mica_xs_write(&a, 0, "/w/console/port", "3") == 0);
    usleep(50000);
    CHECK(mica_xs_event(&a, false, &path, &token) == 0);
    mica_xs_rm(&a, 0, "/w");
    mica_xs_close(&a);
}

UNIT_TEST(domain_nodes_as_xl_writes_them)
{
    struct mica_xs xs;
    struct domain_config cfg = { 0 };
    struct xs_domain_facts f = { .domid = 7, .store_mfn = 1000, .console_mfn = 1001,
                                 .store_port = 2, .console_port = 1 };
    char err[256], *v;
    for (int i = 0; i < 16; i++)
        f.uuid[i] = (uint8_t)(0x10 + i);
    cfg.name = "guest7";
    cfg.memory_kib = 131072;
    cfg.current_memory_kib = 65536;
    cfg.vcpus_max = 2;
    cfg.vcpus_current = 1;
    CHECK(mica_xs_open(&xs, sock) == 0);
    CHECK(xs_nodes_write(&xs, &cfg, &f, err, sizeof(err)) == 0);
    CHECK((v = must_read(&xs, "/local/domain/7/name")) && strcmp(v, "guest7") == 0);
    free(v);
    CHECK((v = must_read(&xs, "/local/domain/7/domid")) && strcmp(v, "7") == 0);
    free(v);
    CHECK((v = must_read(&xs, "/local/domain/7/memory/target")) && strcmp(v, "65536") == 0);
    free(v);
    CHECK((v = must_read(&xs, "/local/domain/7/memory/static-max")) && strcmp(v, "131072") == 0);
    free(v);
    CHECK((v = must_read(&xs, "/local/domain/7/store/ring-ref")) && strcmp(v, "1000") == 0);
    free(v);
    CHECK((v = must_read(&xs, "/local/domain/7/console/port")) && strcmp(v, "1") == 0);
    free(v);
    CHECK((v = must_read(&xs, "/local/domain/7/cpu/1/availability")) && strcmp(v, "offline") == 0);
    free(v);
    CHECK((v = must_read(&xs, "/local/domain/7/vm")) &&
          strcmp(v, "/vm/10111213-1415-1617-1819-1a1b1c1d1e1f") == 0);
    free(v);
    CHECK((v = must_read(&xs, "/vm/10111213-1415-1617-1819-1a1b1c1d1e1f/name")) &&
          strcmp(v, "guest7") == 0);
    free(v);
    /* dom0 owns the home, the guest reads it; the guest owns its own dirs. */
    CHECK(perms_are(&xs, "/local/domain/7", "n0\0r7\0", 6));
    CHECK(perms_are(&xs, "/local/domain/7/name", "n0\0r7\0", 6));
    CHECK(perms_are(&xs, "/local/domain/7/control/shutdown", "n7\0", 3));
    CHECK(perms_are(&xs, "/local/domain/7/data", "n7\0", 3));
    CHECK(perms_are(&xs, "/local/domain/7/device", "n7\0", 3));
    CHECK(xs_nodes_name(&xs, 7, err, sizeof(err)) == 0 && strcmp(err, "guest7") == 0);
    CHECK(xs_nodes_remove(&xs, 7) == 0);
    CHECK(mica_xs_read(&xs, 0, "/local/domain/7", &v) == -ENOENT);
    CHECK(mica_xs_read(&xs, 0, "/vm/10111213-1415-1617-1819-1a1b1c1d1e1f", &v) == -ENOENT);
    CHECK(xs_nodes_remove(&xs, 7) == 0);                  /* already gone is fine */
    mica_xs_close(&xs);
}

UNIT_TEST(vbd_numbers_as_xen_encodes_them)
{
    CHECK(devices_vbd_number("xvda") == 51712);
    CHECK(devices_vbd_number("xvdb") == 51728);
    CHECK(devices_vbd_number("xvdp") == (202 << 8 | 15 << 4));
    CHECK(devices_vbd_number("xvdq") == (1L << 28 | 16 << 8));
    CHECK(devices_vbd_number("xvdz") == (1L << 28 | 25 << 8));
    CHECK(devices_vbd_number("xvdaa") == (1L << 28 | 26 << 8));
    CHECK(devices_vbd_number("xvdzz") == (1L << 28 | 701 << 8));
    CHECK(devices_vbd_number("xvd") == -1);
    CHECK(devices_vbd_number("xvdA") == -1);
    CHECK(devices_vbd_number("hda") == -1);
    CHECK(devices_vbd_number("xvda1") == -1);
    CHECK(devices_vbd_number("xvdaaaa") == -1);
}

/* devices_check() with its stderr captured: the problem count, and the
   text in out. */
static int checked(struct mica_xs *xs, const struct domain_config *cfg, char *out, size_t len)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/check.err", dir);
    fflush(stderr);
    int saved = dup(2);
    FILE *f = fopen(path, "w+");
    if (!f || saved < 0)
        abort();
    dup2(fileno(f), 2);
    struct devices_origin origin = { .file = "t.xml" };
    int bad = devices_check(xs, cfg, &origin);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rewind(f);
    size_t n = fread(out, 1, len - 1, f);
    out[n] = 0;
    fclose(f);
    return bad;
}

UNIT_TEST(device_refusals_before_a_domain_exists)
{
    struct mica_xs xs;
    char image[128], missing[128], text[1024];
    CHECK(mica_xs_open(&xs, sock) == 0);
    snprintf(image, sizeof(image), "%s/disk.img", dir);
    snprintf(missing, sizeof(missing), "%s/missing.img", dir);
    FILE *f = fopen(image, "w");
    CHECK(f && fputs("image", f) >= 0 && fclose(f) == 0);
    /* Domain 5 holds the image read-write, as blkback's node says. */
    CHECK(mica_xs_write(&xs, 0, "/local/domain/0/backend/vbd/5/51712/params", image) == 0);
    CHECK(mica_xs_write(&xs, 0, "/local/domain/0/backend/vbd/5/51712/mode", "w") == 0);
    CHECK(mica_xs_write(&xs, 0, "/local/domain/5/name", "holder") == 0);

    struct domcfg_disk disk = { .type = DOMCFG_DISK_FILE, .source = image, .line = 12 };
    snprintf(disk.target, sizeof(disk.target), "xvdb");
    struct domain_config cfg = { .disks = &disk, .n_disks = 1 };
    CHECK(checked(&xs, &cfg, text, sizeof(text)) == 1);
    CHECK(strstr(text, "t.xml:12: ") && strstr(text, "already attached read-write to domain 5 'holder'"));
    disk.readonly = true;      /* read-only next to read-write: still refused */
    CHECK(checked(&xs, &cfg, text, sizeof(text)) == 1);
    disk.shareable = true;     /* <shareable/> says the user knows */
    CHECK(checked(&xs, &cfg, text, sizeof(text)) == 0);
    disk.shareable = false;
    CHECK(mica_xs_write(&xs, 0, "/local/domain/0/backend/vbd/5/51712/mode", "r") == 0);
    CHECK(checked(&xs, &cfg, text, sizeof(text)) == 0);     /* both read-only */
    disk.readonly = false;
    CHECK(checked(&xs, &cfg, text, sizeof(text)) == 1);     /* rw next to ro */
    CHECK(strstr(text, "already attached read-only"));
    disk.source = missing;
    CHECK(checked(&xs, &cfg, text, sizeof(text)) == 1 && strstr(text, "t.xml:12: ") &&
          strstr(text, missing));
    disk.source = image;
    disk.type = DOMCFG_DISK_BLOCK;
    CHECK(checked(&xs, &cfg, text, sizeof(text)) == 1 && strstr(text, "not a block device"));

    struct domcfg_nic nics[2] = {
        { .type = DOMCFG_NIC_BRIDGE, .bridge = (char *)"nosuchbr0", .line = 20 },
        { .type = DOMCFG_NIC_ETHERNET, .line = 24 },
    };
    struct domain_config ncfg = { .nics = nics, .n_nics = 2 };
    CHECK(checked(&xs, &ncfg, text, sizeof(text)) == 2);
    CHECK(strstr(text, "t.xml:20: the bridge 'nosuchbr0' does not exist"));
    CHECK(strstr(text, "t.xml:24: <interface type='ethernet'>"));
    CHECK(mica_xs_rm(&xs, 0, "/local/domain") == 0);
    unlink(image);
    mica_xs_close(&xs);
}

UNIT_TEST(device_found_and_detached)
{
    struct mica_xs xs;
    char err[256], *v;
    CHECK(mica_xs_open(&xs, sock) == 0);
    /* A vif whose back-end never connected (state 1): removed at once. */
    CHECK(mica_xs_write(&xs, 0, "/local/domain/0/backend/vif/6/0/frontend",
                        "/local/domain/6/device/vif/0") == 0);
    CHECK(mica_xs_write(&xs, 0, "/local/domain/0/backend/vif/6/0/state", "1") == 0);
    CHECK(mica_xs_write(&xs, 0, "/local/domain/0/backend/vif/6/0/mac", "00:16:3e:0a:0b:0c") == 0);
    CHECK(mica_xs_write(&xs, 0, "/local/domain/6/device/vif/0/state", "1") == 0);
    CHECK(devices_find_vif(&xs, 6, "00:16:3E:0A:0B:0C") == 0);
    CHECK(devices_find_vif(&xs, 6, "00:16:3e:0a:0b:0d") == -ENOENT);
    CHECK(devices_next_vif(&xs, 6) == 1);
    CHECK(devices_next_vif(&xs, 7) == 0);
    CHECK(devices_detach(&xs, 6, DEVICES_VIF, 0, 0, err, sizeof(err)) == 0);
    CHECK(mica_xs_read(&xs, 0, "/local/domain/0/backend/vif/6/0", &v) == -ENOENT);
    CHECK(mica_xs_read(&xs, 0, "/local/domain/6/device/vif/0", &v) == -ENOENT);
    CHECK(devices_detach(&xs, 6, DEVICES_VIF, 0, 0, err, sizeof(err)) == -ENOENT);
    /* detach_all removes what is left of the domain's back-end tree. */
    CHECK(mica_xs_write(&xs, 0, "/local/domain/0/backend/vbd/6/51712/frontend",
                        "/local/domain/6/device/vbd/51712") == 0);
    devices_detach_all(&xs, 6, 0);
    CHECK(mica_xs_read(&xs, 0, "/local/domain/0/backend/vbd/6", &v) == -ENOENT);
    CHECK(mica_xs_read(&xs, 0, "/local/domain/0/backend/vif/6", &v) == -ENOENT);
    mica_xs_rm(&xs, 0, "/local");
    mica_xs_close(&xs);
}

/* One sysfs counter file under root/rel, holding text. */
static void put_counter(const char *root, const char *rel, const char *name, const char *text)
{
    char path[512], cmd[600];
    snprintf(path, sizeof(path), "%s/%s", root, rel);
    snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", path);
    if (system(cmd) != 0)
        abort();
    snprintf(path, sizeof(path), "%s/%s/%s", root, rel, name);
    FILE *f = fopen(path, "w");
    if (!f)
        abort();
    fputs(text, f);
    fclose(f);
}

UNIT_TEST(device_counters)
{
    struct mica_xs xs;
    char root[64], cmd[128];
    snprintf(root, sizeof(root), "/tmp/test_devstats.XXXXXX");
    CHECK(mkdtemp(root) != NULL);
    CHECK(mica_xs_open(&xs, sock) == 0);
    /* Two disks, listed out of handle order by xenstored; one connected. */
    CHECK(mica_xs_write(&xs, 0, "/local/domain/0/backend/vbd/9/51728/dev", "xvdb") == 0);
    CHECK(mica_xs_write(&xs, 0, "/local/domain/0/backend/vbd/9/51712/dev", "xvda") == 0);
    CHECK(mica_xs_write(&xs, 0, "/local/domain/0/backend/vbd/9/51712/params",
                        "/var/lib/mica/images/a.img") == 0);
    const char *vbd = "sys/bus/xen-backend/devices/vbd-9-51712/statistics";
    put_counter(root, vbd, "rd_req", "12\n");
    put_counter(root, vbd, "wr_req", "3\n");
    put_counter(root, vbd, "f_req", "1\n");
    put_counter(root, vbd, "rd_sect", "96\n");
    put_counter(root, vbd, "wr_sect", "8\n");
    struct devstats_disk *d;
    size_t n;
    CHECK(devstats_disks(&xs, root, 9, &d, &n) == 0);
    CHECK(n == 2 && d[0].devid == 51712 && d[1].devid == 51728);
    CHECK(strcmp(d[0].name, "xvda") == 0 && strcmp(d[0].path, "/var/lib/mica/images/a.img") == 0);
    /* blkif sectors are 512 bytes */
    CHECK(d[0].counted && d[0].rd_reqs == 12 && d[0].rd_bytes == 96 * 512 && d[0].wr_reqs == 3 &&
          d[0].wr_bytes == 8 * 512 && d[0].fl_reqs == 1);
    CHECK(strcmp(d[1].name, "xvdb") == 0 && d[1].path[0] == '\0' && !d[1].counted);
    free(d);
    /* A counter that is not a number makes the disk uncounted, not 0. */
    put_counter(root, vbd, "wr_sect", "lots\n");
    CHECK(devstats_disks(&xs, root, 9, &d, &n) == 0);
    CHECK(n == 2 && !d[0].counted && d[0].rd_reqs == 0);
    free(d);

    /* Interfaces: netback's default name and a renamed one; the counters
       are the vif's, so the guest's rx is the vif's tx. */
    CHECK(mica_xs_write(&xs, 0, "/local/domain/0/backend/vif/9/0/mac", "00:16:3e:00:00:09") == 0);
    CHECK(mica_xs_write(&xs, 0, "/local/domain/0/backend/vif/9/1/vifname", "web0") == 0);
    const char *vif = "sys/class/net/vif9.0/statistics";
    const char *names[] = { "rx_bytes", "rx_packets", "rx_errors", "rx_dropped",
                            "tx_bytes", "tx_packets", "tx_errors", "tx_dropped" };
    for (int i = 0; i < 8; i++) {
        char v[16];
        snprintf(v, sizeof(v), "%d\n", 100 + i);
        put_counter(root, vif, names[i], v);
    }
    struct devstats_nic *nic;
    CHECK(devstats_nics(&xs, root, 9, &nic, &n) == 0);
    CHECK(n == 2 && strcmp(nic[0].name, "vif9.0") == 0 && strcmp(nic[1].name, "web0") == 0);
    CHECK(strcmp(nic[0].mac, "00:16:3e:00:00:09") == 0);
    CHECK(nic[0].counted && nic[0].tx_bytes == 100 && nic[0].tx_pkts == 101 &&
          nic[0].tx_errs == 102 && nic[0].tx_drop == 103 && nic[0].rx_bytes == 104 &&
          nic[0].rx_pkts == 105 && nic[0].rx_errs == 106 && nic[0].rx_drop == 107);
    CHECK(!nic[1].counted);
    free(nic);
    /* A domain without devices has none of either, and that is no error. */
    CHECK(devstats_disks(&xs, root, 10, &d, &n) == 0 && n == 0 && d == NULL);
    CHECK(devstats_nics(&xs, root, 10, &nic, &n) == 0 && n == 0 && nic == NULL);
    mica_xs_rm(&xs, 0, "/local");
    mica_xs_close(&xs);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    CHECK(system(cmd) == 0);
}

struct unit_case unit_cases[UNIT_MAX_CASES];
unsigned unit_ncases;
jmp_buf unit_abort;
const char *unit_failed_check;
int unit_failed_line;

int main(int argc, char **argv)
{
    unsigned failures = 0;
    daemon_bin = argc > 1 ? argv[1] : XENSTORED_BIN;
    signal(SIGPIPE, SIG_IGN);
    start_daemon();
    for (unsigned i = 0; i < unit_ncases; i++) {
        if (unit_run_case(&unit_cases[i]) == 0) {
            printf("PASS: %s/%s\n", UNIT_SUITE, unit_cases[i].name);
        } else {
            failures++;
            printf("FAIL: %s/%s: %s at line %d\n", UNIT_SUITE, unit_cases[i].name,
                   unit_failed_check, unit_failed_line);
        }
        fflush(stdout);
    }
    stop_daemon();
    return failures ? 1 : 0;
}
