/*
 * vmctl's exit statuses.  Scripts depend on these numbers: they are
 * documented in vmctl(1) and docs/vmctl.md and must not change meaning.
 */
#ifndef VMCTL_EXITCODES_H
#define VMCTL_EXITCODES_H

enum vmctl_exit {
    VMCTL_EXIT_OK = 0,
    VMCTL_EXIT_FAILURE = 1,        /* the operation failed at run time */
    VMCTL_EXIT_USAGE = 2,          /* bad command line */
    VMCTL_EXIT_INVALID = 3,        /* the domain XML is not a valid definition */
    VMCTL_EXIT_NOT_FOUND = 4,      /* no such domain */
    VMCTL_EXIT_HV_UNREACHABLE = 5, /* the Mica hypervisor cannot be reached */
    VMCTL_EXIT_EXISTS = 6,         /* a domain with that name or UUID already exists */
};

#endif
