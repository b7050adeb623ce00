/*
 * Writes a Mica state file (ms_format.h): the libxl stream with the libxc
 * stream inside, a checksum record after every libxc record but END, zero
 * pages not stored.  The file is written under a temporary name in the target's
 * directory and renamed into place by ms_writer_commit, so a failed or
 * interrupted save never leaves a partial file under the real name.
 *
 * Every function returns 0 or -errno; on failure ms_writer_error() says
 * what went wrong.  ms_writer_abort() ends every use of a writer.
 */
#ifndef MICA_MS_WRITER_H
#define MICA_MS_WRITER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "ms_digest.h"
#include "ms_format.h"

#define MS_PAGE_SIZE 4096u
/* Pages in one PAGE_DATA record at most (Xen's savers batch 1024). */
#define MS_MAX_BATCH 1024u

struct ms_writer {
    int fd;
    char *path;                      /* final name */
    char *tmp_path;                  /* what is written */
    unsigned char *buf;              /* output buffer */
    size_t buf_used;
    uint64_t offset;                 /* octets written (buffered or not) */
    uint64_t span_start;             /* where the open checksum span begins */
    uint64_t checksums;              /* checksum records written */
    uint64_t records;                /* records written, checksums included */
    struct ms_digest digest;
    int borrowed_fd;                 /* ms_writer_open_fd: fd is the caller's */
    char error[256];
};

/* Creates the temporary file next to path and writes the libxl header, the
   LIBXC_CONTEXT record, the libxc image and domain headers (x86 PV, 4 KiB
   pages, the saving hypervisor's version) and Mica's info record
   (nr_pfns, nr_data_pages: for a reader's progress).  Every record after
   that is a libxc record: Xen's libxc skips optional records, Xen's libxl
   refuses any it does not know, so Mica's records live in the libxc
   stream. */
int ms_writer_open(struct ms_writer *w, const char *path, uint64_t nr_pfns,
                   uint64_t nr_data_pages, uint32_t xen_major, uint32_t xen_minor);

/* The same, after prefix_len octets of prefix (xl's header, ms_xl.h, for
   a file Xen's `xl restore` reads): the prefix lies in no checksum span,
   and the first span starts after it (ms_reader_open_at's base). */
int ms_writer_open_prefixed(struct ms_writer *w, const char *path, const void *prefix,
                            size_t prefix_len, uint64_t nr_pfns, uint64_t nr_data_pages,
                            uint32_t xen_major, uint32_t xen_minor);

/* The same stream onto an open file descriptor (a pipe or socket, for
   live migration): nothing is created or renamed; name is used in
   messages.  The writer does not close fd.  End with ms_writer_finish. */
int ms_writer_open_fd(struct ms_writer *w, int fd, const char *name, uint64_t nr_pfns,
                      uint64_t nr_data_pages, uint32_t xen_major, uint32_t xen_minor);

/* Writes out what is buffered (a stream over a pipe: before waiting for
   the other side's answer). */
int ms_writer_flush(struct ms_writer *w);

/* For a writer from ms_writer_open_fd: the two END records, flushed.  The
   writer is released afterwards (fd stays open), whatever the result. */
int ms_writer_finish(struct ms_writer *w);

/* One libxc record with its checksum. */
int ms_writer_record(struct ms_writer *w, uint32_t type, const void *body, uint32_t len);
int ms_writer_record_iov(struct ms_writer *w, uint32_t type, const struct iovec *iov, int n);

/* One PAGE_DATA record for n <= MS_MAX_BATCH pages: pfn[i] with its page
   type (MS_PAGE_*) and, for types with data, pages[i].  An all-zero
   ordinary page is written as XALLOC without data.  *stored counts the
   pages whose data went into the file. */
int ms_writer_pages(struct ms_writer *w, uint32_t n, const uint64_t *pfn, const uint8_t *type,
                    const void *const *pages, uint32_t *stored);

/* The libxc END and libxl END records (no checksum after either: Xen's
   libxl reads the libxl END next, and the reader checks both exactly);
   flush, fsync, rename over path, fsync the directory.  The writer is
   closed afterwards, whatever the result. */
int ms_writer_commit(struct ms_writer *w);

/* Releases the writer, removing the temporary file if it was not
   committed: call it last, after a failure and after commit alike. */
void ms_writer_abort(struct ms_writer *w);

const char *ms_writer_error(const struct ms_writer *w);

#endif
