/*
 * One console line for each hypercall or sub-operation Mica does not
 * implement, so that the next gap a guest or toolstack runs into names
 * itself (domain, hypercall number, sub-operation number).
 */
#ifndef MICA_UNKNOWN_OP_H
#define MICA_UNKNOWN_OP_H

#include <mica/types.h>

/* Sub-operation number for a hypercall that has none. */
#define UNKNOWN_OP_NO_SUB (~0U)

/*
 * Logs (rate-limited) that the current domain asked for sub-operation sub
 * of hypercall nr, which Mica lacks, and returns -ENOSYS, the answer Xen
 * gives for an operation it does not know.
 */
long unknown_op(u64 nr, u32 sub);

#endif
