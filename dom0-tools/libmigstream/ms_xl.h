/*
 * Files from Xen's `xl save`: xl's own header in front of the libxl
 * stream, and the domain configuration it carries (libxl's
 * libxl_domain_config as JSON).  Facts from Xen 4.17's tools/xl/xl.h
 * (struct save_file_header), xl_saverestore.c and xl_vmcontrol.c (what
 * xl writes and reads) and tools/libs/light/libxl_types.idl (the
 * configuration's fields); docs/state-files.md says what Mica takes.
 *
 *   offset 0   32 octets  "Xen saved domain, xl format\n \0 \r"
 *          32  u32        byte order 0x01020304, in the domain's byte order
 *          36  u32        mandatory flags: 1 JSON configuration, 2 stream v2
 *          40  u32        optional flags (xl writes none)
 *          44  u32        optional data length
 *          48  optional data: u32 configuration length, then the
 *              configuration (JSON, with its terminating NUL)
 *          48 + optional data length: the libxl stream
 */
#ifndef MICA_MS_XL_H
#define MICA_MS_XL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MS_XL_MAGIC "Xen saved domain, xl format\n \0 \r"
#define MS_XL_MAGIC_LEN 32u
#define MS_XL_BYTEORDER 0x01020304u
#define MS_XL_FLAG_JSON 1u
#define MS_XL_FLAG_STREAM_V2 2u
/* Mica reads configurations up to this long (xl's are about 1 KiB). */
#define MS_XL_CONFIG_MAX (1u << 20)

struct ms_xl_header {
    char magic[MS_XL_MAGIC_LEN];
    uint32_t byteorder;
    uint32_t mandatory_flags;
    uint32_t optional_flags;
    uint32_t optional_data_len;
};
_Static_assert(sizeof(struct ms_xl_header) == 48, "xl's header is 48 octets");
_Static_assert(__builtin_offsetof(struct ms_xl_header, optional_data_len) == 44,
               "optional data length at 44");

struct ms_xl_file {
    uint32_t mandatory_flags, optional_flags, optional_data_len;
    char *config;                    /* the JSON text, NUL-terminated */
    size_t config_len;               /* octets xl stored, its NUL included */
    uint64_t config_offset;          /* where it starts in the file */
    uint64_t stream_offset;          /* where the libxl stream starts */
};

/* Whether the file at fd starts with xl's header, read with pread (the
   file position is not used).  file_size: the file's length, or
   UINT64_MAX when unknown.  1: an xl file, *x filled (free with
   ms_xl_file_free); 0: no xl magic at offset 0; -1: an xl header that
   is truncated or wrong, err says what and at which offset. */
int ms_xl_header_read(int fd, uint64_t file_size, struct ms_xl_file *x, char *err,
                      size_t errlen);
void ms_xl_file_free(struct ms_xl_file *x);

/* xl's header with json (NUL-terminated) as its configuration: 48 + 4 +
   strlen(json) + 1 octets into a new buffer.  NULL: out of memory or too long. */
void *ms_xl_header_build(const char *json, size_t *len);

/* ---- the configuration -------------------------------------------- */

struct ms_xl_disk {
    char *path;                      /* pdev_path */
    char *vdev;                      /* "xvda" */
    char format[12];                 /* "raw", "qcow2", ... (lower case) */
    bool readwrite, cdrom;
    uint64_t offset;                 /* of the disk's object in the file */
};

struct ms_xl_nic {
    bool has_mac;
    uint8_t mac[6];
    char *bridge;                    /* NULL: xl's default, "xenbr0" */
    char *ifname;                    /* NULL when absent */
    uint64_t offset;
};

struct ms_xl_config {
    char *name;
    bool has_uuid;
    uint8_t uuid[16];
    char type[8];                    /* c_info.type, "pv" */
    uint64_t max_memkb, target_memkb;
    unsigned max_vcpus, avail_vcpus; /* avail: vCPUs online at start */
    char *kernel, *ramdisk, *cmdline;/* NULL when absent */
    /* libxl's action names, lower case: "destroy", "restart", ... */
    char on_poweroff[20], on_reboot[20], on_crash[20];
    bool has_weight, has_cap;
    unsigned weight, cap;
    struct ms_xl_disk *disks;
    size_t n_disks;
    struct ms_xl_nic *nics;
    size_t n_nics;
    /* What the configuration has that is not taken ("2 vfbs, 1 pcidevs"),
       empty when nothing. */
    char not_taken[256];
};

/* The configuration from xl's JSON text (len octets, offsets in messages
   are base + the position).  0, or -1 with err naming the member, its
   offset and what is wrong: not JSON, no c_info.name, no b_info.max_memkb,
   a member of the wrong type or out of range. */
int ms_xl_config_parse(const char *json, size_t len, uint64_t base, struct ms_xl_config *c,
                       char *err, size_t errlen);
void ms_xl_config_free(struct ms_xl_config *c);

#endif
