#pragma once
#include "types.h"
#include <stdarg.h>
/* Output goes through a replaceable sink: the SBI console at boot, the PV console ring once the OS has one. */
extern void (*console_sink)(const char *text, size_t length);
void console_write(const char *text, size_t length);
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void puts(const char *s);
