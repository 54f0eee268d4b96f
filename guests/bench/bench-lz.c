/* Compression benchmark: an LZ77 compressor with hash chains (the core of deflate/gzip: hash the next
   three bytes, walk the chain of earlier positions with that hash, keep the longest match) and its
   decompressor, over generated text with the repetition structure of real text (a vocabulary of words
   drawn with a skewed distribution). Round-trips every round and checks the output equals the input.
   Integer, memory- and branch-heavy, no FP. The last line is a checksum, as in bench-cpu. */
#include "console.h"
#include "csr.h"

#define ROUNDS 80
#define INPUT 65536
#define WINDOW 32768
#define HASH_BITS 14
#define MAX_CHAIN 48
#define MIN_MATCH 3
#define MAX_MATCH 258

static u8 input[INPUT];
static u8 packed[INPUT * 2];
static u8 unpacked[INPUT];
static int head[1 << HASH_BITS];
static int prev[INPUT];
static u64 seed = 88172645463325252ULL;

static u32 next_random(void)
{
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return (u32)seed;
}

/* Text from a 256-word vocabulary, words of 2-9 letters, a word's rank drawn roughly Zipf-like. */
static void make_text(u8 *out, int n)
{
    static char words[256][10];
    for (int w = 0; w < 256; w++) {
        int len = 2 + (int)(next_random() % 8);
        for (int i = 0; i < len; i++) words[w][i] = (char)('a' + next_random() % 26);
        words[w][len] = 0;
    }
    int at = 0;
    while (at < n) {
        u32 r = next_random();
        int w = (int)((r & 0xFF) * ((r >> 8) & 0xFF) >> 8);
        for (const char *p = words[w]; *p && at < n; p++) out[at++] = (u8)*p;
        if (at < n) out[at++] = (r >> 16) % 11 == 0 ? '.' : ' ';
        if (at < n && (r >> 20) % 37 == 0) out[at++] = '\n';
    }
}

static inline u32 hash3(const u8 *p)
{
    return ((u32)p[0] << 10 ^ (u32)p[1] << 5 ^ p[2]) & ((1u << HASH_BITS) - 1);
}

/* Output: a flag byte before every 8 items; a literal is one byte, a match is 3 bytes
   (length - MIN_MATCH, then a 16-bit distance). */
static int compress(const u8 *in, int n, u8 *out)
{
    for (int i = 0; i < (1 << HASH_BITS); i++) head[i] = -1;
    int o = 0, flags_at = 0, items = 8;
    int i = 0;
    while (i < n) {
        if (items == 8) { flags_at = o++; out[flags_at] = 0; items = 0; }
        int best = 0, dist = 0;
        if (i + MIN_MATCH <= n) {
            u32 h = hash3(in + i);
            int cand = head[h], chain = MAX_CHAIN;
            int limit = n - i < MAX_MATCH ? n - i : MAX_MATCH;
            while (cand >= 0 && i - cand <= WINDOW && chain-- > 0) {
                if (in[cand + best] == in[i + best]) {
                    int len = 0;
                    while (len < limit && in[cand + len] == in[i + len]) len++;
                    if (len > best) { best = len; dist = i - cand; if (len == limit) break; }
                }
                cand = prev[cand];
            }
            prev[i] = head[h];
            head[h] = i;
        }
        if (best >= MIN_MATCH) {
            out[flags_at] |= (u8)(1 << items);
            out[o++] = (u8)(best - MIN_MATCH);
            out[o++] = (u8)dist;
            out[o++] = (u8)(dist >> 8);
            for (int k = 1; k < best; k++) {
                if (i + k + MIN_MATCH <= n) {
                    u32 h = hash3(in + i + k);
                    prev[i + k] = head[h];
                    head[h] = i + k;
                }
            }
            i += best;
        } else {
            out[o++] = in[i++];
        }
        items++;
    }
    return o;
}

static int decompress(const u8 *in, int n, u8 *out)
{
    int i = 0, o = 0;
    while (i < n) {
        u8 flags = in[i++];
        for (int item = 0; item < 8 && i < n; item++) {
            if (flags & (1 << item)) {
                int len = in[i] + MIN_MATCH;
                int dist = in[i + 1] | in[i + 2] << 8;
                i += 3;
                for (int k = 0; k < len; k++, o++) out[o] = out[o - dist];
            } else {
                out[o++] = in[i++];
            }
        }
    }
    return o;
}

int main(void)
{
    u64 acc = 0;
    u64 t0 = read_time(), i0 = read_instret();
    for (int r = 0; r < ROUNDS; r++) {
        make_text(input, INPUT);
        int size = compress(input, INPUT, packed);
        int back = decompress(packed, size, unpacked);
        if (back != INPUT) { printf("FAIL: round %d decompressed %d bytes, not %d\n", r, back, INPUT); return 1; }
        for (int k = 0; k < INPUT; k++)
            if (unpacked[k] != input[k]) { printf("FAIL: round %d differs at %d\n", r, k); return 1; }
        u32 h = 2166136261u;
        for (int k = 0; k < size; k++) h = (h ^ packed[k]) * 16777619u;
        acc = acc * 31 + h + (u64)size;
    }
    u64 instructions = read_instret() - i0, ticks = read_time() - t0;
    printf("instructions: %llu ticks: %llu\n", instructions, ticks);
    printf("checksum: %016llx\n", acc);
    return 0;
}
