/*
 * rtl.c - the little C runtime the kernel and the world link against:
 * mem and str functions (clang emits calls to memcpy/memset for struct copies even
 * when freestanding) and a vsnprintf with the Windows DbgPrint extras
 * (%ws, %wZ, %I64x).
 */
#include "ke.h"

int _fltused = 0;   /* MSVC-target clang references it when floats appear */

void *memcpy(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    while (n--)
        *d++ = *s++;
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    if (d < s) {
        while (n--)
            *d++ = *s++;
    } else {
        while (n--)
            d[n] = s[n];
    }
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    uint8_t *d = dst;
    while (n--)
        *d++ = (uint8_t)c;
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const uint8_t *x = a, *y = b;
    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

int strcmp(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return (unsigned char)*a - (unsigned char)*b;
}

size_t wcslen(const uint16_t *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

typedef struct OUTBUF {
    char *buf;
    size_t size, pos;
} OUTBUF;

static void out_ch(OUTBUF *o, char c)
{
    if (o->pos + 1 < o->size)
        o->buf[o->pos] = c;
    o->pos++;
}

static void out_num(OUTBUF *o, uint64_t v, int neg, unsigned base, int upper, int width,
                    int zero, int left)
{
    char tmp[24];
    int n = 0;
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    do {
        tmp[n++] = digits[v % base];
        v /= base;
    } while (v);
    int len = n + (neg ? 1 : 0);
    if (!left && !zero)
        for (int i = len; i < width; i++)
            out_ch(o, ' ');
    if (neg)
        out_ch(o, '-');
    if (!left && zero)
        for (int i = len; i < width; i++)
            out_ch(o, '0');
    while (n)
        out_ch(o, tmp[--n]);
    if (left)
        for (int i = len; i < width; i++)
            out_ch(o, ' ');
}

/* UNICODE_STRING as laid out on x64: Length, MaximumLength, pad, Buffer. */
typedef struct RTLP_USTR {
    uint16_t Length;
    uint16_t MaximumLength;
    uint16_t *Buffer;
} RTLP_USTR;

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    OUTBUF o = { buf, size, 0 };
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            out_ch(&o, *fmt);
            continue;
        }
        fmt++;
        int left = 0, zero = 0, width = 0, lng = 0, wide = 0;
        for (;; fmt++) {
            if (*fmt == '-')
                left = 1;
            else if (*fmt == '0')
                zero = 1;
            else if (*fmt == '#' || *fmt == '+' || *fmt == ' ')
                ;
            else
                break;
        }
        if (*fmt == '*') {
            width = va_arg(ap, int);
            fmt++;
        }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        if (*fmt == '.') {                  /* precision: accepted, ignored for numbers */
            fmt++;
            while ((*fmt >= '0' && *fmt <= '9') || *fmt == '*')
                fmt++;
        }
        for (;; fmt++) {
            if (*fmt == 'l')
                lng++;
            else if (*fmt == 'h')
                ;
            else if (*fmt == 'z' || *fmt == 'j')
                lng = 2;
            else if (*fmt == 'w')
                wide = 1;
            else if (fmt[0] == 'I' && fmt[1] == '6' && fmt[2] == '4') {
                lng = 2;
                fmt += 2;
            } else
                break;
        }
        switch (*fmt) {
        case 'd':
        case 'i': {
            int64_t v = lng >= 2 ? va_arg(ap, long long) : va_arg(ap, int);
            out_num(&o, v < 0 ? (uint64_t)-v : (uint64_t)v, v < 0, 10, 0, width, zero, left);
            break;
        }
        case 'u':
        case 'x':
        case 'X': {
            uint64_t v = lng >= 2 ? va_arg(ap, unsigned long long) : va_arg(ap, unsigned);
            out_num(&o, v, 0, *fmt == 'u' ? 10 : 16, *fmt == 'X', width, zero, left);
            break;
        }
        case 'p':
            out_num(&o, (uint64_t)va_arg(ap, void *), 0, 16, 1, 16, 1, 0);
            break;
        case 'c':
            out_ch(&o, (char)va_arg(ap, int));
            break;
        case 'S':
            wide = 1;
            /* fallthrough */
        case 's':
            if (wide) {
                const uint16_t *w = va_arg(ap, const uint16_t *);
                if (!w)
                    w = (const uint16_t *)L"(null)";
                for (; *w; w++)
                    out_ch(&o, *w < 0x80 ? (char)*w : '?');
            } else {
                const char *s = va_arg(ap, const char *);
                if (!s)
                    s = "(null)";
                size_t n = strlen(s);
                if (!left)
                    for (size_t i = n; i < (size_t)width; i++)
                        out_ch(&o, ' ');
                while (*s)
                    out_ch(&o, *s++);
                if (left)
                    for (size_t i = n; i < (size_t)width; i++)
                        out_ch(&o, ' ');
            }
            break;
        case 'Z': {
            const RTLP_USTR *u = va_arg(ap, const RTLP_USTR *);
            if (u && u->Buffer)
                for (unsigned i = 0; i < u->Length / 2u; i++)
                    out_ch(&o, u->Buffer[i] < 0x80 ? (char)u->Buffer[i] : '?');
            break;
        }
        case '%':
            out_ch(&o, '%');
            break;
        case 0:
            fmt--;
            break;
        default:
            out_ch(&o, '%');
            out_ch(&o, *fmt);
            break;
        }
    }
    if (o.size)
        o.buf[o.pos < o.size ? o.pos : o.size - 1] = 0;
    return (int)o.pos;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
