/* COM1 serial console (16550). */
#ifndef ASM_UART_H
#define ASM_UART_H

#include <mica/types.h>

/* Programs COM1 per `com1=` and, if `console=` wants it, starts the console. */
void uart_console_start(void);
void uart_init(void);
/* Takes serial input by interrupt (needs the I/O APIC set up). */
void uart_input_start(void);
/* A received byte, or -1 when none is waiting. */
int uart_getc(void);
/* "port 0x3f8, 115200 baud, 8n1" for the banner. */
void uart_describe(char *buf, size_t len);

#endif
