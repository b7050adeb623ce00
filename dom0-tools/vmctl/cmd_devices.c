/*
 * Hot-plug on a running domain: attach-disk, detach-disk,
 * attach-interface, detach-interface, in virsh's argument shapes.  The
 * device work itself is devices.c's, the same as at create.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "defs.h"
#include "devices.h"
#include "exitcodes.h"
#include "hv.h"

/* A running domU by name or ID (dom0's devices are not vmctl's). */
static int running(const struct vmctl_command *cmd, const char *wanted, struct hv **hv,
                   uint32_t *domid)
{
    int rc = defs_connect_running(cmd, wanted, hv, domid);
    if (rc == VMCTL_EXIT_OK && *domid == 0) {
        hv_close(*hv);
        return cli_fail(cmd, VMCTL_EXIT_FAILURE, "devices are attached to domUs; dom0 has "
                        "its own");
    }
    return rc;
}

static bool parse_mac(const char *text, uint8_t mac[6])
{
    unsigned v[6];
    char tail;
    if (strlen(text) != 17 ||
        sscanf(text, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
               &tail) != 6)
        return false;
    for (int i = 0; i < 6; i++)
        mac[i] = (uint8_t)v[i];
    /* The same rule as the definition's <mac>: unicast and not all zeros. */
    return !(mac[0] & 1) && (mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]);
}

int cmd_attach_disk(const struct vmctl_command *cmd, int argc, char **argv)
{
    const char *mode = NULL;
    const struct cli_flag flags[] = { { .name = "mode", .arg = &mode }, { .name = NULL } };
    static const char *const names[] = { "NAME", "SOURCE", "TARGET" };
    const char *a[3];
    int status;
    if (!cli_begin_args(cmd, argc, argv, flags, names, 3, a, &status))
        return status;
    if (mode && strcmp(mode, "readonly") != 0)
        return cli_usage_error(cmd, "--mode takes 'readonly' (read-write is the default), "
                               "not '%s'", mode);
    if (devices_vbd_number(a[2]) < 0)
        return cli_usage_error(cmd, "TARGET '%s' is not a Xen PV disk name; use xvd followed "
                               "by 1 to 3 letters (xvdb, xvdc, ...)", a[2]);
    if (a[1][0] != '/')
        return cli_usage_error(cmd, "SOURCE must be an absolute path, not '%s'", a[1]);
    struct stat st;
    struct domcfg_disk disk = { .readonly = mode != NULL, .source = (char *)a[1] };
    disk.type = stat(a[1], &st) == 0 && S_ISBLK(st.st_mode) ? DOMCFG_DISK_BLOCK
                                                             : DOMCFG_DISK_FILE;
    snprintf(disk.target, sizeof(disk.target), "%s", a[2]);
    struct hv *hv;
    uint32_t domid;
    int rc = running(cmd, a[0], &hv, &domid);
    if (rc != VMCTL_EXIT_OK)
        return rc;
    if (hv_attach_disk(hv, domid, &disk) != HV_OK)
        rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "%s", hv_error(hv));
    else
        printf("Disk %s attached to '%s' as %s%s\n", a[1], a[0], a[2],
               disk.readonly ? " (read-only)" : "");
    hv_close(hv);
    return rc;
}

int cmd_detach_disk(const struct vmctl_command *cmd, int argc, char **argv)
{
    static const char *const names[] = { "NAME", "TARGET" };
    const char *a[2];
    int status;
    if (!cli_begin_args(cmd, argc, argv, NULL, names, 2, a, &status))
        return status;
    if (devices_vbd_number(a[1]) < 0)
        return cli_usage_error(cmd, "TARGET '%s' is not a Xen PV disk name (xvda, xvdb, ...)",
                               a[1]);
    struct hv *hv;
    uint32_t domid;
    int rc = running(cmd, a[0], &hv, &domid);
    if (rc != VMCTL_EXIT_OK)
        return rc;
    if (hv_detach_disk(hv, domid, a[1]) != HV_OK)
        rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "%s", hv_error(hv));
    else
        printf("Disk %s detached from '%s'\n", a[1], a[0]);
    hv_close(hv);
    return rc;
}

int cmd_attach_interface(const struct vmctl_command *cmd, int argc, char **argv)
{
    const char *bridge = NULL, *mac_text = NULL;
    const struct cli_flag flags[] = {
        { .name = "bridge", .arg = &bridge },
        { .name = "mac", .arg = &mac_text },
        { .name = NULL },
    };
    const char *wanted;
    int status;
    if (!cli_begin(cmd, argc, argv, flags, "NAME", &wanted, &status))
        return status;
    if (!bridge || !*bridge)
        return cli_usage_error(cmd, "--bridge BR is required (the dom0 bridge to join)");
    struct domcfg_nic nic = { .type = DOMCFG_NIC_BRIDGE, .bridge = (char *)bridge };
    if (mac_text) {
        if (!parse_mac(mac_text, nic.mac))
            return cli_usage_error(cmd, "--mac wants a unicast address such as "
                                   "00:16:3e:12:34:56, not '%s'", mac_text);
        nic.has_mac = true;
    }
    struct hv *hv;
    uint32_t domid;
    int rc = running(cmd, wanted, &hv, &domid);
    if (rc != VMCTL_EXIT_OK)
        return rc;
    if (hv_attach_nic(hv, domid, &nic) != HV_OK)
        rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "%s", hv_error(hv));
    else
        printf("Interface %02x:%02x:%02x:%02x:%02x:%02x attached to '%s' on bridge %s\n",
               nic.mac[0], nic.mac[1], nic.mac[2], nic.mac[3], nic.mac[4], nic.mac[5], wanted,
               bridge);
    hv_close(hv);
    return rc;
}

int cmd_detach_interface(const struct vmctl_command *cmd, int argc, char **argv)
{
    static const char *const names[] = { "NAME", "MAC" };
    const char *a[2];
    int status;
    uint8_t mac[6];
    if (!cli_begin_args(cmd, argc, argv, NULL, names, 2, a, &status))
        return status;
    if (!parse_mac(a[1], mac))
        return cli_usage_error(cmd, "MAC '%s' is not a unicast address such as "
                               "00:16:3e:12:34:56", a[1]);
    struct hv *hv;
    uint32_t domid;
    int rc = running(cmd, a[0], &hv, &domid);
    if (rc != VMCTL_EXIT_OK)
        return rc;
    if (hv_detach_nic(hv, domid, a[1]) != HV_OK)
        rc = cli_fail(cmd, VMCTL_EXIT_FAILURE, "%s", hv_error(hv));
    else
        printf("Interface %s detached from '%s'\n", a[1], a[0]);
    hv_close(hv);
    return rc;
}
