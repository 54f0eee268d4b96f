/* The kernel command line as key=value words (app=, exit=, sizes...), for both flavours of pvos: the PV
   one reads it from start_info, the HVM one from the device tree's /chosen/bootargs. */
#include "os.h"

static char cmdline_copy[MAX_GUEST_CMDLINE];
#define MAX_ARGS 32
static const char *arg_key[MAX_ARGS], *arg_value[MAX_ARGS];
static int nr_args;

void cmdline_parse(const char *line)
{
    size_t n = 0;
    while (n < sizeof cmdline_copy - 1 && line[n]) n++;
    memcpy(cmdline_copy, line, n);
    cmdline_copy[n] = 0;
    char *p = cmdline_copy;
    while (*p && nr_args < MAX_ARGS) {
        while (*p == ' ' || *p == '\t') *p++ = 0;
        if (!*p) break;
        arg_key[nr_args] = p;
        arg_value[nr_args] = "";
        while (*p && *p != ' ' && *p != '\t') {
            if (*p == '=' && arg_value[nr_args][0] == 0 && p != arg_key[nr_args]) {
                *p = 0;
                arg_value[nr_args] = p + 1;
            }
            p++;
        }
        nr_args++;
    }
}

const char *cmdline_get(const char *key)
{
    /* The last occurrence wins, as with Linux's command line. */
    for (int i = nr_args - 1; i >= 0; i--)
        if (strcmp(arg_key[i], key) == 0) return arg_value[i];
    return NULL;
}

int cmdline_has(const char *key) { return cmdline_get(key) != NULL; }

int cmdline_value_is(const char *key, const char *value)
{
    const char *v = cmdline_get(key);
    return v && strcmp(v, value) == 0;
}

static int parse_u64(const char *s, u64 *out, const char **end)
{
    u64 v = 0;
    int base = 10, digits = 0;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) { base = 16; s += 2; }
    for (;; s++, digits++) {
        int d;
        if (*s >= '0' && *s <= '9') d = *s - '0';
        else if (base == 16 && *s >= 'a' && *s <= 'f') d = *s - 'a' + 10;
        else if (base == 16 && *s >= 'A' && *s <= 'F') d = *s - 'A' + 10;
        else break;
        v = v * (u64)base + (u64)d;
    }
    *out = v;
    *end = s;
    return digits > 0;
}

u64 cmdline_u64(const char *key, u64 fallback)
{
    const char *v = cmdline_get(key), *end;
    u64 n;
    if (!v || !parse_u64(v, &n, &end) || *end) return fallback;
    return n;
}

u64 cmdline_size_kib(const char *key, u64 fallback)
{
    const char *v = cmdline_get(key), *end;
    u64 n;
    if (!v || !parse_u64(v, &n, &end)) return fallback;
    switch (*end) {
    case 'k': case 'K': return end[1] ? fallback : n;
    case 'g': case 'G': return end[1] ? fallback : n * 1024 * 1024;
    case 'm': case 'M': return end[1] ? fallback : n * 1024;
    case 0: return n * 1024;
    default: return fallback;
    }
}
