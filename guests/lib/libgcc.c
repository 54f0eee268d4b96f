/* 64-bit division for RV32 (the compiler calls these for u64 / and %); we link no libgcc. */
#include "types.h"
#if XLEN == 32
static u64 udivmod(u64 n, u64 d, u64 *rem)
{
    if (d == 0) { if (rem) *rem = n; return ~0ULL; }
    u64 q = 0, r = 0;
    for (int i = 63; i >= 0; i--) {
        r = (r << 1) | ((n >> i) & 1);
        if (r >= d) { r -= d; q |= 1ULL << i; }
    }
    if (rem) *rem = r;
    return q;
}
u64 __udivdi3(u64 n, u64 d) { return udivmod(n, d, NULL); }
u64 __umoddi3(u64 n, u64 d) { u64 r; udivmod(n, d, &r); return r; }
s64 __divdi3(s64 n, s64 d)
{
    int neg = (n < 0) != (d < 0);
    u64 q = udivmod(n < 0 ? -(u64)n : (u64)n, d < 0 ? -(u64)d : (u64)d, NULL);
    return neg ? -(s64)q : (s64)q;
}
s64 __moddi3(s64 n, s64 d)
{
    u64 r;
    udivmod(n < 0 ? -(u64)n : (u64)n, d < 0 ? -(u64)d : (u64)d, &r);
    return n < 0 ? -(s64)r : (s64)r;
}
#endif
