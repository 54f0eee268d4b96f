/* Just enough of a flattened device tree reader (DT spec v0.4, ch. 5) for boot: /chosen's bootargs and
   initrd start. The blob is the loader's, but checked as untrusted: every offset stays inside totalsize. */
#include "hvm.h"

#define FDT_MAGIC 0xd00dfeedu
#define FDT_BEGIN_NODE 1
#define FDT_END_NODE 2
#define FDT_PROP 3
#define FDT_NOP 4
#define FDT_END 9

static u32 be32(const u8 *p) { return (u32)p[0] << 24 | (u32)p[1] << 16 | (u32)p[2] << 8 | p[3]; }

int fdt_chosen(const void *fdt, const char **bootargs, uintptr_t *initrd_start)
{
    const u8 *b = fdt;
    *bootargs = NULL;
    *initrd_start = 0;
    if (!b || be32(b) != FDT_MAGIC) return 0;
    u32 total = be32(b + 4), off_struct = be32(b + 8), off_strings = be32(b + 12), size_strings = be32(b + 32);
    if (off_struct >= total || off_strings >= total || size_strings > total - off_strings) return 0;
    u32 at = off_struct;
    int depth = 0, in_chosen = 0;
    while (at + 4 <= total) {
        u32 token = be32(b + at);
        at += 4;
        if (token == FDT_BEGIN_NODE) {
            const char *name = (const char *)b + at;
            u32 n = 0;
            while (at + n < total && name[n]) n++;
            depth++;
            if (depth == 2) in_chosen = n == 6 && memcmp(name, "chosen", 6) == 0;
            at = (at + n + 1 + 3) & ~3u;
        } else if (token == FDT_END_NODE) {
            if (depth == 2) in_chosen = 0;
            depth--;
        } else if (token == FDT_PROP) {
            if (at + 8 > total) return 0;
            u32 len = be32(b + at), nameoff = be32(b + at + 4);
            const u8 *value = b + at + 8;
            at += 8;
            if (len > total - at || nameoff >= size_strings) return 0;
            const char *name = (const char *)b + off_strings + nameoff;
            if (in_chosen && depth == 2) {
                if (strcmp(name, "bootargs") == 0 && len > 0 && value[len - 1] == 0) *bootargs = (const char *)value;
                if (strcmp(name, "linux,initrd-start") == 0)
                    *initrd_start = len == 8 ? (uintptr_t)((u64)be32(value) << 32 | be32(value + 4)) : len == 4 ? be32(value) : 0;
            }
            at = (at + len + 3) & ~3u;
        } else if (token == FDT_NOP) {
            continue;
        } else {
            break; /* FDT_END, or garbage */
        }
    }
    return 1;
}
