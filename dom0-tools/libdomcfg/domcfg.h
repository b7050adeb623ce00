/*
 * libdomcfg: Mica domain definitions (the XML described by
 * xml-schemas/domain.rng and docs/domain-xml.md) loaded, validated and
 * turned into a struct domain_config for vmctl and the domain builder.
 *
 * A definition is valid when it matches the schema *and* passes the
 * checks a schema cannot express (memory limits against each other,
 * unique devices, files that must exist).  Every problem found is
 * reported as "file:line: sentence" through struct domcfg_diags.
 */
#ifndef MICA_DOMCFG_H
#define MICA_DOMCFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cpuset.h"
#include "diag.h"

/* Namespace of Mica's own elements; see docs/domain-xml.md. */
#define DOMCFG_MICA_NS "https://mica.example/xmlns/domain/1"

#define DOMCFG_NAME_MAX 64
/* Definitions are small; anything larger is a mistake or an attack. */
#define DOMCFG_FILE_MAX (1024 * 1024)

enum domcfg_action {
    DOMCFG_ACTION_DESTROY,
    DOMCFG_ACTION_RESTART,
    DOMCFG_ACTION_PRESERVE,
    DOMCFG_ACTION_RENAME_RESTART,
    DOMCFG_ACTION_COREDUMP_DESTROY,
    DOMCFG_ACTION_COREDUMP_RESTART,
};

enum domcfg_clock { DOMCFG_CLOCK_UTC, DOMCFG_CLOCK_LOCALTIME };

enum domcfg_disk_type { DOMCFG_DISK_FILE, DOMCFG_DISK_BLOCK };
enum domcfg_disk_driver { DOMCFG_DRIVER_DEFAULT, DOMCFG_DRIVER_FILE, DOMCFG_DRIVER_PHY };
/* <driver type=>: raw is served by blkback through a loop device, qcow2
   through qemu-nbd's /dev/nbdN (docs/snapshots.md). */
enum domcfg_disk_format { DOMCFG_FORMAT_RAW, DOMCFG_FORMAT_QCOW2 };

struct domcfg_disk {
    enum domcfg_disk_type type;
    enum domcfg_disk_driver driver;
    enum domcfg_disk_format format;
    bool cdrom;
    bool readonly;
    bool shareable;
    char *source;     /* absolute path of the image file or block device */
    char target[8];   /* "xvda" .. "xvdzz" */
    int line;         /* where the <disk> element starts, for later errors */
};

enum domcfg_nic_type { DOMCFG_NIC_BRIDGE, DOMCFG_NIC_ETHERNET };

struct domcfg_nic {
    enum domcfg_nic_type type;
    bool has_mac;     /* false: the builder picks one when the domain starts */
    uint8_t mac[6];
    char *bridge;     /* DOMCFG_NIC_BRIDGE only */
    char *target_dev; /* back-end interface name in dom0, or NULL */
    int line;
};

/* <cputune><vcpupin vcpu= cpuset=>: where one vCPU may run (hard affinity). */
struct domcfg_vcpupin {
    unsigned vcpu;
    struct domcfg_cpuset cpus;
    int line;
};

struct domain_config {
    char *name;
    bool has_uuid;
    uint8_t uuid[16];
    char *title;        /* NULL when absent */
    char *description;  /* NULL when absent */

    /* All sizes in KiB, rounded up as libvirt does. */
    uint64_t memory_kib;          /* <memory>: the boot allocation ceiling */
    uint64_t current_memory_kib;  /* <currentMemory>, defaults to memory */
    bool has_max_memory;
    uint64_t max_memory_kib;      /* <maxMemory>: hot-plug ceiling */
    unsigned max_memory_slots;

    unsigned vcpus_max;           /* <vcpu> content, default 1 */
    unsigned vcpus_current;       /* current= attribute, default vcpus_max */
    /* Hard affinity, as in libvirt: <vcpu cpuset=> for every vCPU, a
       <vcpupin> for one vCPU overrides it.  CPU numbers are the host's;
       whether they exist is checked when the domain starts. */
    bool has_cpuset;
    struct domcfg_cpuset cpuset;
    int cpuset_line;
    struct domcfg_vcpupin *vcpupins;
    size_t n_vcpupins;

    char *kernel;
    char *initrd;       /* NULL when absent */
    char *cmdline;      /* NULL when absent */

    enum domcfg_action on_poweroff, on_reboot, on_crash;
    enum domcfg_clock clock;

    struct domcfg_disk *disks;
    size_t n_disks;
    struct domcfg_nic *nics;
    size_t n_nics;
    bool has_console;

    /* Mica namespace; 0 means "hypervisor default". */
    /* <mica:template/>: only for cloning (vmctl clone), never started. */
    bool is_template;
    unsigned sched_weight;
    unsigned sched_cap;
    unsigned max_grant_frames;
    unsigned max_event_channels;
};

enum domcfg_flags {
    /* Check that kernel, initrd and disk sources exist on this machine. */
    DOMCFG_CHECK_FILES = 1u << 0,
};

enum domcfg_status {
    DOMCFG_OK = 0,
    DOMCFG_INVALID,    /* the document is wrong; diags say where and why */
    DOMCFG_IO_ERROR,   /* the file could not be read; diags say why */
};

/* The parsed XML, kept so that a definition can be stored as written. */
struct domcfg_document;

/*
 * Loads and validates a definition.  On DOMCFG_OK *cfg is filled (free it
 * with domcfg_free) and, when doc_out is not NULL, *doc_out holds the
 * parsed document.  On failure nothing needs freeing except diags.
 */
enum domcfg_status domcfg_load_file(const char *path, unsigned flags,
                                    struct domain_config *cfg,
                                    struct domcfg_diags *diags,
                                    struct domcfg_document **doc_out);

/* Same, from memory; display_name stands for the file in messages. */
enum domcfg_status domcfg_load_memory(const char *buf, size_t len,
                                      const char *display_name, unsigned flags,
                                      struct domain_config *cfg,
                                      struct domcfg_diags *diags,
                                      struct domcfg_document **doc_out);

void domcfg_free(struct domain_config *cfg);

/* Adds <uuid> right after <name> in a document that has none. */
int domcfg_document_set_uuid(struct domcfg_document *doc, const uint8_t uuid[16]);

/* Adds <mica:template/> (declaring the Mica namespace on <domain> when it
   is not yet); nothing when the document has one.  0, or -1 (no memory). */
int domcfg_document_set_template(struct domcfg_document *doc);

/* Sets <memory> and <currentMemory> (in KiB, unit='KiB'), adding
   <currentMemory> after <memory> when it is missing: vmctl setmem and
   setmaxmem --config.  0, or -1 (no <memory>, or no memory). */
int domcfg_document_set_memory(struct domcfg_document *doc, uint64_t memory_kib,
                               uint64_t current_kib);

/* Sets <vcpu>'s maximum and its current= (left out when it equals the
   maximum, as libvirt writes it), adding <vcpu> after the memory
   elements when it is missing: vmctl setvcpus --config.  0 or -1. */
int domcfg_document_set_vcpus(struct domcfg_document *doc, unsigned max, unsigned current);

/* The document as XML text (malloc'd, NUL-terminated); NULL on ENOMEM. */
char *domcfg_document_to_xml(struct domcfg_document *doc, size_t *len);

void domcfg_document_free(struct domcfg_document *doc);

/* Helpers shared with vmctl. */
void domcfg_format_uuid(const uint8_t uuid[16], char out[37]);
bool domcfg_parse_uuid(const char *text, uint8_t uuid[16]);
const char *domcfg_action_name(enum domcfg_action action);
/* The CPUs vCPU vcpu is pinned to by the definition (its <vcpupin>, else
   <vcpu cpuset>), or NULL for "anywhere"; *line (may be NULL) is where. */
const struct domcfg_cpuset *domcfg_vcpu_affinity(const struct domain_config *cfg,
                                                 unsigned vcpu, int *line);

#endif
