/*
 * Reads a state file (ms_format.h) record by record, checking framing,
 * the headers (version, byte order, architecture), each known record's
 * layout and the x86 PV record order.  In a checksummed stream (one whose
 * first libxc record is Mica's info record) a libxc record is returned
 * only after the checksum record that covers it has matched, so a restore
 * never acts on unverified data; the two END records that close the file
 * lie in no checksum span and are checked exactly.  Checksum records
 * themselves are consumed here.
 *
 * Errors name the file, the record number (1 = first record of the file,
 * counting every record), its type and its offset, and what is wrong.
 */
#ifndef MICA_MS_READER_H
#define MICA_MS_READER_H

#include <stddef.h>
#include <stdint.h>

#include "ms_digest.h"
#include "ms_format.h"

enum ms_layer { MS_LAYER_LIBXL, MS_LAYER_LIBXC };

/* Refuse a stream without Mica's checksums (vmctl restore does). */
#define MS_READ_REQUIRE_CHECKSUMS (1u << 0)

/* A stream over a pipe or socket that carries more after the final END
   (live migration's answers): do not read past END to check that nothing
   follows it. */
#define MS_READ_STOP_AT_END (1u << 1)

/* A second pass over a file this process has read whole with its checksums
   verified and knows to be unchanged since (vmctl restore checks the
   file's inode, size, mtime and ctime around both passes): every framing,
   layout and checksum-record field is checked as always, but the spans are
   not hashed again.  XXH3 guards against accidental corruption, which
   cannot happen to an unchanged file between two reads. */
#define MS_READ_VERIFIED (1u << 2)

/* A regular file is read through one read-only mapping of it (no copy
   through the kernel; record bodies point into the mapping) instead of
   read().  A file that shrinks while it is mapped reads as zeros past its
   new end (a SIGBUS handler maps zeros there), so its checksums fail, and
   ms_reader_map_lost() says so; vmctl restore also checks the file
   unchanged around both passes.  Other files (pipes, block devices) are
   read as without the flag. */
#define MS_READ_MAP (1u << 3)
/* With MS_READ_MAP: closing the reader leaves the mapping (and the SIGBUS
   handler) in place, and the next reader with MS_READ_MAP of the same file
   (device, inode and size) takes it over: a second pass without mapping
   the file again (in a PV dom0 every PTE set and cleared is a trap into
   the hypervisor) and without faulting its pages in again.  Whoever keeps
   a mapping gives it back with ms_reader_drop_kept_map() if no reader
   takes it over; a reader without the flag unmaps it when closed. */
#define MS_READ_KEEP_MAP (1u << 4)
/* A body is at most this long: a full PAGE_DATA batch fits. */
#define MS_MAX_BODY (8u << 20)

struct ms_record {
    enum ms_layer layer;
    uint32_t type;
    uint32_t length;
    const void *body;                /* valid until the next ms_reader_next */
    uint64_t number;                 /* 1-based, every record of the file */
    uint64_t offset;                 /* of its header */
};

struct ms_reader {
    int fd;
    char *name;
    unsigned flags;
    unsigned char *in;               /* input buffer */
    size_t in_len, in_pos;
    uint64_t offset;                 /* octets consumed */
    const unsigned char *map;        /* MS_READ_MAP: the whole file, or NULL */
    size_t map_len;
    unsigned char *body;             /* grows to the longest body read */
    size_t body_cap;
    enum ms_layer layer;
    int started, finished, checksummed;
    int libxc_seen;                  /* a libxc record was read */
    uint32_t image_version;
    struct ms_domain_header domain;
    struct ms_mica_info info;
    uint64_t records;                /* headers read */
    uint64_t checksums;              /* checksum records verified */
    uint64_t span_start;
    struct ms_digest digest;
    unsigned pv_stage;               /* x86 PV record order */
    uint64_t data_pages;             /* page_data seen so far */
    char error[400];
};

/* name is used in messages only.  0 or -errno. */
int ms_reader_open(struct ms_reader *r, int fd, const char *name, unsigned flags);
/* The stream starts at file offset base (after xl's header, ms_xl.h) and
   fd is positioned there: offsets in records and messages are the file's,
   and the first checksum span of a checksummed stream starts at base. */
int ms_reader_open_at(struct ms_reader *r, int fd, const char *name, unsigned flags,
                      uint64_t base);
/* 1: *rec is the next record; 0: the final END was read and nothing
   follows it; -EINVAL/-EIO/-ENOMEM: see ms_reader_error. */
int ms_reader_next(struct ms_reader *r, struct ms_record *rec);
const char *ms_reader_error(const struct ms_reader *r);
void ms_reader_close(struct ms_reader *r);

/* True once a mapped file (MS_READ_MAP) was found shorter than when it was
   mapped: what lay past its new end read as zeros. */
int ms_reader_map_lost(void);
/* Unmaps a mapping MS_READ_KEEP_MAP left that no reader took over (no-op
   when there is none). */
void ms_reader_drop_kept_map(void);
/* Forgets a mapping MS_READ_KEEP_MAP left, without unmapping it (and puts
   the SIGBUS handler back): the process's exit takes it down.  In a PV
   dom0 that is much cheaper than munmap, which clears every PTE with a
   trapped write, while exit_mmap first unpins the page tables and then
   clears them as ordinary memory.  For a process about to end; no child
   inherits the mapping (MADV_DONTFORK), and no later reader finds it. */
void ms_reader_leave_kept_map(void);
/* Reads the whole stream, checking everything; 0 or -errno. */
int ms_reader_verify_all(struct ms_reader *r);

/* "PAGE_DATA", "MICA_CHECKSUM", "type 0x..." */
const char *ms_record_name(enum ms_layer layer, uint32_t type, char buf[24]);

#endif
