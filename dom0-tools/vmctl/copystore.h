/*
 * vmctl migrate --copy-storage (docs/migration.md, "Copying local disks"):
 * each image file the domain uses is copied to the same path on the
 * destination while the guest runs.
 *
 * Sender: a read-write image is served through the dm-linear device
 * "mica-loopN" (devices.c); its table is switched to a dm-mirror whose
 * second leg is a kernel NBD device whose socket is one end of a
 * socketpair, the other end being the standard input and output of
 * `ssh DEST vmctl migrate-receive --token T --disk TARGET`, which writes
 * into the file the receiver created.  The mirror copies every region in
 * the background and sends each guest write to both legs; a region the
 * guest writes before it was copied is copied after the write (the
 * kernel's region hash is the dirty-block tracking).  When the guest is
 * suspended, the dm device is suspended (every write in flight finishes
 * on both legs), checked in sync, switched back to linear, and the NBD
 * device disconnected: the destination fsyncs the file and exits 0.  A
 * read-only image is copied once, by vmctl, over the same kind of ssh.
 *
 * Receiver: "copy-disk TARGET BYTES" lines before the stream name the
 * disks; with the definition it checks each path (must not exist, room in
 * its file system), creates it, lists it in /run/mica/migrate-in/TOKEN
 * (what --disk may open), and removes them all on any failure.
 */
#ifndef VMCTL_COPYSTORE_H
#define VMCTL_COPYSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "domcfg.h"
#include "xs.h"

struct cs_disk {
    char target[16];
    char path[4096];
    uint64_t bytes;
    bool readonly;
    char loop[32];
    char dmname[64];
    dev_t loop_rdev;
    uint64_t sectors;
    /* while copying */
    pid_t ssh;
    int sock;            /* our end of the ssh's socketpair, -1 when handed over */
    char nbd[32];
    int nbd_fd;
    pid_t keeper;        /* the process in NBD_DO_IT */
    bool mirrored;       /* the dm table is the mirror */
    bool dm_suspended;
    bool done;           /* the destination has it complete (exit 0) */
};

struct copystore {
    struct cs_disk *d;
    size_t n;
    const char *ssh;     /* the ssh command (sh text) */
    const char *dest;
    const char *token;
    uint64_t total_bytes;
    char err[700];
};

/* The domain's disks from xenstore; refuses (0 / -1 with cs->err) a
   stored definition NAME with a <shareable/> disk, block devices, qcow2
   images and images served without device-mapper. */
int cs_plan(struct copystore *cs, struct mica_xs *xs, uint32_t domid, const char *name);
/* -1 with a sentence in err when a disk of cfg is <shareable/>: another
   domain's writes during the copy would be missed. */
int cs_refuse_shareable(const struct domain_config *cfg, char *err, size_t errlen);
/* Where the part of an image of `bytes` octets past its device of
   `sectors` 512-octet sectors begins (bytes when there is none). */
uint64_t cs_tail_start(uint64_t bytes, uint64_t sectors);
/* The "copy-disk" lines and "copy-end" to the receiver. */
int cs_announce(struct copystore *cs, int fd);
/* After the receiver's "ok": read-only images copied, the mirrors set up
   and waited for until in sync (progress on a terminal). */
int cs_start(struct copystore *cs);
/* While the memory is sent: -1 with cs->err when a mirror's destination
   leg failed or its ssh ended. */
int cs_check(struct copystore *cs);
/* The guest suspended: the last writes, the mirrors taken down, the
   destination's files complete. */
int cs_finish(struct copystore *cs);
/* On any failure: the source's tables back to linear, NBD devices and ssh
   processes gone.  Safe to call at any point, more than once. */
void cs_abort(struct copystore *cs);
void cs_free(struct copystore *cs);

/* ---- receiver ---- */
struct cs_in {
    char target[16];
    uint64_t bytes;
    char *path;
    bool created;
};

struct cs_recv {
    struct cs_in *d;
    size_t n;
    char registry[160];
    bool registry_made;
};

/* Reads the "copy-disk" lines up to "copy-end" from fd (unbuffered). */
int cs_recv_lines(struct cs_recv *v, int fd, char *err, size_t errlen);
/* With the definition: checks and creates the files. */
int cs_recv_create(struct cs_recv *v, const struct domain_config *cfg, const char *token,
                   char *err, size_t errlen);
/* Failure: removes the files created and the registry. */
void cs_recv_undo(struct cs_recv *v);
/* Success: the files stay, the registry goes. */
void cs_recv_done(struct cs_recv *v);

/* vmctl migrate-receive --token T --disk TARGET: serves the NBD
   transmission phase on stdin/stdout into the file the receiver created;
   exit status 0 once the sender disconnected cleanly and the file is
   fsynced. */
int cs_disk_server(const char *token, const char *target);

#endif
