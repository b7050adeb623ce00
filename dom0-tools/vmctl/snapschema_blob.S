/* xml-schemas/domainsnapshot.rng, built into vmctl (snapmeta.c) so that
   checking snapshot metadata does not depend on where xml-schemas/ is. */
    .section .rodata
    .global vmctl_snapshot_schema_text
    .type vmctl_snapshot_schema_text, @object
vmctl_snapshot_schema_text:
    .incbin VMCTL_SNAPSHOT_SCHEMA
    .byte 0
    .size vmctl_snapshot_schema_text, . - vmctl_snapshot_schema_text
    .section .note.GNU-stack, "", @progbits
