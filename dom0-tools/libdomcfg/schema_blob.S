/* The RelaxNG schema, built into the library so that validation does not
   depend on where (or whether) xml-schemas/ is installed. */
    .section .rodata
    .global domcfg_schema_text
    .type domcfg_schema_text, @object
domcfg_schema_text:
    .incbin DOMCFG_SCHEMA_PATH
    .byte 0
    .size domcfg_schema_text, . - domcfg_schema_text
    .section .note.GNU-stack, "", @progbits
