/* A small printf: %d %i %u %x %X %p %s %c %% with l/ll/z, width, '0' and '-' flags. Enough for tests and
   the OS; no floating point (guests print fixed-point themselves). */
#include "console.h"
#include "sbi.h"
#include "string.h"

static void sbi_sink(const char *text, size_t length)
{
    for (size_t i = 0; i < length; i++) sbi_putchar(text[i]);
}

void (*console_sink)(const char *text, size_t length) = sbi_sink;

void console_write(const char *text, size_t length) { console_sink(text, length); }

struct out { char *buf; size_t size; size_t len; };

static void emit(struct out *o, char c)
{
    if (o->len + 1 < o->size) o->buf[o->len] = c;
    o->len++;
}

static void emit_number(struct out *o, u64 v, int base, int upper, int negative, int width, int zero, int left)
{
    char tmp[24];
    int n = 0;
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    do {
        tmp[n++] = digits[v % (unsigned)base];
        v /= (unsigned)base;
    } while (v);
    int len = n + negative;
    if (!left && !zero) for (; width > len; width--) emit(o, ' ');
    if (negative) emit(o, '-');
    if (!left && zero) for (; width > len; width--) emit(o, '0');
    while (n) emit(o, tmp[--n]);
    if (left) for (; width > len; width--) emit(o, ' ');
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct out o = { buf, size, 0 };
    for (; *fmt; fmt++) {
        if (*fmt != '%') { emit(&o, *fmt); continue; }
        fmt++;
        int zero = 0, left = 0, width = 0, lng = 0;
        for (;; fmt++) {
            if (*fmt == '0') zero = 1;
            else if (*fmt == '-') left = 1;
            else break;
        }
        while (*fmt >= '0' && *fmt <= '9') width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l' || *fmt == 'z') { lng += *fmt == 'z' ? (XLEN == 64 ? 1 : 0) : 1; fmt++; }
        u64 v;
        switch (*fmt) {
        case 'd': case 'i': {
            s64 s = lng >= 2 ? va_arg(ap, s64) : lng == 1 ? va_arg(ap, long) : va_arg(ap, int);
            emit_number(&o, s < 0 ? (u64)-s : (u64)s, 10, 0, s < 0, width, zero, left);
            break;
        }
        case 'u': case 'x': case 'X':
            v = lng >= 2 ? va_arg(ap, u64) : lng == 1 ? va_arg(ap, unsigned long) : va_arg(ap, unsigned);
            emit_number(&o, v, *fmt == 'u' ? 10 : 16, *fmt == 'X', 0, width, zero, left);
            break;
        case 'p':
            emit(&o, '0'); emit(&o, 'x');
            emit_number(&o, (uintptr_t)va_arg(ap, void *), 16, 0, 0, width, 1, 0);
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s) s = "(null)";
            int len = (int)strlen(s);
            if (!left) for (; width > len; width--) emit(&o, ' ');
            while (*s) emit(&o, *s++);
            if (left) for (; width > len; width--) emit(&o, ' ');
            break;
        }
        case 'c': emit(&o, (char)va_arg(ap, int)); break;
        case '%': emit(&o, '%'); break;
        case 0: fmt--; break;
        default: emit(&o, '%'); emit(&o, *fmt); break;
        }
    }
    if (size) buf[o.len < size ? o.len : size - 1] = 0;
    return (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

int printf(const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    console_write(buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
    return n;
}

void puts(const char *s)
{
    console_write(s, strlen(s));
    console_write("\n", 1);
}
