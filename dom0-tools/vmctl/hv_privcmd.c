/*
 * hv.h over /dev/xen/privcmd.  The privcmd device is how dom0 reaches
 * the hypervisor; Mica's domctl interface behind it is not written yet,
 * so this backend can tell *why* the hypervisor is unreachable but does
 * not yet carry out any operation.
 */
#include "hv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_PRIVCMD "/dev/xen/privcmd"

struct hv {
    int privcmd_fd;
    char error[256];
};

/* Tests point this at files of their own to exercise every case. */
static const char *privcmd_path(void)
{
    const char *path = getenv("MICA_PRIVCMD");
    return path && *path ? path : DEFAULT_PRIVCMD;
}

enum hv_status hv_open(struct hv **out, char *err, size_t err_len)
{
    *out = NULL;
    const char *path = privcmd_path();
    struct stat st;
    if (stat(path, &st) < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            snprintf(err, err_len, "%s does not exist (vmctl runs in dom0 on Mica)", path);
        else
            snprintf(err, err_len, "cannot examine %s: %s", path, strerror(errno));
        return HV_UNREACHABLE;
    }
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, err_len, "cannot open %s: %s%s", path, strerror(errno),
                 errno == EACCES ? " (run vmctl as root in dom0)" : "");
        return HV_UNREACHABLE;
    }
    /*
     * A privcmd device alone does not mean Mica is behind it (Xen's dom0
     * has one too), and Mica's domctl interface does not exist yet: say
     * so instead of sending hypercalls nobody will understand.
     */
    close(fd);
    snprintf(err, err_len, "%s is present, but this vmctl cannot speak to the hypervisor yet "
             "(Mica's domctl interface is not implemented)", path);
    return HV_UNREACHABLE;
}

void hv_close(struct hv *hv)
{
    if (!hv)
        return;
    if (hv->privcmd_fd >= 0)
        close(hv->privcmd_fd);
    free(hv);
}

const char *hv_error(const struct hv *hv)
{
    return hv->error;
}

/* hv_open never returns a handle yet, so nothing below can be reached;
   each says what is missing rather than pretending to work. */
static enum hv_status not_implemented(struct hv *hv, const char *what)
{
    snprintf(hv->error, sizeof(hv->error), "%s is not implemented: no domctl interface yet",
             what);
    return HV_UNREACHABLE;
}

enum hv_status hv_list(struct hv *hv, struct hv_domain **list, size_t *count)
{
    *list = NULL;
    *count = 0;
    return not_implemented(hv, "listing domains");
}

enum hv_status hv_create(struct hv *hv, const struct domain_config *cfg, uint32_t *domid)
{
    (void)cfg;
    (void)domid;
    return not_implemented(hv, "creating a domain");
}

enum hv_status hv_shutdown(struct hv *hv, uint32_t domid, enum hv_shutdown_kind kind)
{
    (void)domid;
    return not_implemented(hv, kind == HV_SHUTDOWN_REBOOT ? "reboot" : "shutdown");
}

enum hv_status hv_destroy(struct hv *hv, uint32_t domid)
{
    (void)domid;
    return not_implemented(hv, "destroy");
}

enum hv_status hv_pause(struct hv *hv, uint32_t domid)
{
    (void)domid;
    return not_implemented(hv, "pause");
}

enum hv_status hv_unpause(struct hv *hv, uint32_t domid)
{
    (void)domid;
    return not_implemented(hv, "unpause");
}

enum hv_status hv_console(struct hv *hv, uint32_t domid)
{
    (void)domid;
    return not_implemented(hv, "console");
}
