/*
 * Addresses the linker script (mica.lds) and the boot code (boot/head.S)
 * define: where Mica's own image and its parts lie in the direct map.
 * Only their addresses mean anything; the char arrays have no contents.
 */
#ifndef ASM_SECTIONS_H
#define ASM_SECTIONS_H

/* mica.lds: the image, its code, read-only data, and data through BSS. */
extern const char __image_start[], __image_end[];
extern const char __text_start[], __text_end[];
extern const char __rodata_start[], __rodata_end[];
extern const char __data_start[], __bss_end[];
/* The entry and exit code (.text.entry), in whole pages of its own. */
extern const char __entry_start[], __entry_end[];

/* boot/head.S: the boot CPU's stack until its per-CPU stack exists. */
extern const char boot_stack[];

#endif
