/* Text forms of addresses, for the command line and xenstore ("ip", "mac"): strict, since both come
   from outside the guest and a half-parsed address is worse than none. */
#include "net.h"

static int parse_byte_dec(const char **s, u32 *out)
{
    u32 v = 0;
    int digits = 0;
    while (**s >= '0' && **s <= '9' && digits < 4) { v = v * 10 + (u32)(**s - '0'); (*s)++; digits++; }
    if (!digits || digits > 3 || v > 255) return 0;
    *out = v;
    return 1;
}

int ip_parse(const char *text, u32 *ip, u32 *prefix_len)
{
    const char *s = text;
    u32 v = 0, b;
    for (int i = 0; i < 4; i++) {
        if (!parse_byte_dec(&s, &b)) return 0;
        v = v << 8 | b;
        if (i < 3 && *s++ != '.') return 0;
    }
    u32 prefix = 24;
    if (*s == '/') {
        s++;
        if (!parse_byte_dec(&s, &prefix) || prefix > 32) return 0;
    }
    if (*s) return 0;
    *ip = v;
    if (prefix_len) *prefix_len = prefix;
    return 1;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int mac_parse(const char *text, u8 *mac)
{
    for (int i = 0; i < ETH_ALEN; i++) {
        int hi = hex_digit(text[0]), lo = hi < 0 ? -1 : hex_digit(text[1]);
        if (lo < 0) return 0;
        mac[i] = (u8)(hi << 4 | lo);
        text += 2;
        if (i < ETH_ALEN - 1 && *text++ != ':') return 0;
    }
    return *text == 0;
}

void ip_format(u32 ip, char *out)
{
    snprintf(out, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}
