/*
 * What the snapshot and clone commands (cmd_snapshot.c, cmd_clone.c) run:
 * qemu-img (Debian's qemu-utils; $MICA_QEMU_IMG to use another) and vmctl
 * itself for save, restore, destroy and define, so that those keep one
 * implementation.  docs/snapshots.md.
 */
#ifndef VMCTL_IMGTOOLS_H
#define VMCTL_IMGTOOLS_H

#include <stdbool.h>
#include <stddef.h>

/* Runs argv (argv[0] looked up in PATH; "vmctl" means this program) and
   waits: its exit status, -1 when it could not run.  With out, stdout is
   collected there (NUL-terminated, cut at outlen); stderr goes to ours. */
int img_run(char *const argv[], char *out, size_t outlen);

/* qemu-img create -f qcow2 -F backing_fmt -b backing path: 0 or -1 (said). */
int img_create_overlay(const char *path, const char *backing, const char *backing_fmt);

/* The backing file of a qcow2 image (absolute, "" when none) and its
   format ("qcow2", "raw"): 0, or -1 when qemu-img info failed (said). */
int img_backing(const char *path, char *backing, size_t blen, char *fmt, size_t flen);

/* qemu-img rebase (safe: data the new backing lacks is copied in) of path
   onto backing ("" makes it stand alone): 0 or -1 (said). */
int img_rebase(const char *path, const char *backing, const char *backing_fmt);

/* Bytes a file takes on disk (st_blocks), 0 when it cannot be read. */
unsigned long long img_disk_usage(const char *path);

/* Whether a domain of that name runs (false when Mica cannot be reached). */
bool img_domain_running(const char *name);

/* Waits up to timeout_s for the named domain to be gone; true when gone. */
bool img_wait_domain_gone(const char *name, int timeout_s);

#endif
