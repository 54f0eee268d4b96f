/* CPU-bound guest benchmark: a mix of integer, memory, branchy and floating-point work that real guests do
   (CRC32, Shell sort, matrix multiply, string search, a bytecode interpreter loop). The last line is a
   checksum, so bench/cpu/run can check that the engine and QEMU computed the same thing. */
#include "console.h"
#include "csr.h"

#define ROUNDS 40

static u8 buf[65536];
static u32 words[20000];
static double A[40][40], B[40][40], C[40][40];
static char text[16384];
static u64 seed = 12345;

static u32 next_random(void)
{
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return (u32)(seed >> 32);
}

static u32 crc32(const u8 *p, int n)
{
    u32 c = ~0u;
    for (int i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & -(c & 1));
    }
    return ~c;
}

static void shell_sort(u32 *a, int n)
{
    for (int gap = n / 2; gap > 0; gap /= 2)
        for (int i = gap; i < n; i++) {
            u32 t = a[i];
            int j = i;
            while (j >= gap && a[j - gap] > t) { a[j] = a[j - gap]; j -= gap; }
            a[j] = t;
        }
}

static double matmul(void)
{
    for (int i = 0; i < 40; i++)
        for (int j = 0; j < 40; j++) { A[i][j] = i + j * 0.5; B[i][j] = i - j * 0.25; }
    for (int i = 0; i < 40; i++)
        for (int j = 0; j < 40; j++) {
            double s = 0;
            for (int k = 0; k < 40; k++) s += A[i][k] * B[k][j];
            C[i][j] = s;
        }
    return C[7][9] + C[39][1];
}

/* Naive search: counts occurrences of a needle in text made of a small alphabet (many partial matches). */
static int search(const char *hay, int n, const char *needle, int m)
{
    int count = 0;
    for (int i = 0; i + m <= n; i++) {
        int j = 0;
        while (j < m && hay[i + j] == needle[j]) j++;
        if (j == m) count++;
    }
    return count;
}

/* A stack-machine interpreter running a loop that sums i*i mod 7 — dispatch-heavy, like a scripting VM. */
enum { OP_PUSH, OP_LOAD, OP_STORE, OP_ADD, OP_MUL, OP_MOD, OP_LT, OP_JZ, OP_JMP, OP_HALT };
static const int program[] = {
    OP_PUSH, 0, OP_STORE, 0,            /* i = 0 */
    OP_PUSH, 0, OP_STORE, 1,            /* sum = 0 */
    OP_LOAD, 0, OP_PUSH, 20000, OP_LT, OP_JZ, 38,   /* 8: while (i < 20000) */
    OP_LOAD, 1, OP_LOAD, 0, OP_LOAD, 0, OP_MUL, OP_PUSH, 7, OP_MOD, OP_ADD, OP_STORE, 1,   /* sum += i*i % 7 */
    OP_LOAD, 0, OP_PUSH, 1, OP_ADD, OP_STORE, 0, OP_JMP, 8,   /* i++ */
    OP_HALT,                             /* 38 */
};

static long interpret(void)
{
    long stack[16], vars[2] = { 0, 0 };
    int sp = 0, pc = 0;
    for (;;) {
        switch (program[pc++]) {
        case OP_PUSH: stack[sp++] = program[pc++]; break;
        case OP_LOAD: stack[sp++] = vars[program[pc++]]; break;
        case OP_STORE: vars[program[pc++]] = stack[--sp]; break;
        case OP_ADD: sp--; stack[sp - 1] += stack[sp]; break;
        case OP_MUL: sp--; stack[sp - 1] *= stack[sp]; break;
        case OP_MOD: sp--; stack[sp - 1] %= stack[sp]; break;
        case OP_LT: sp--; stack[sp - 1] = stack[sp - 1] < stack[sp]; break;
        case OP_JZ: { int target = program[pc++]; if (!stack[--sp]) pc = target; break; }
        case OP_JMP: pc = program[pc]; break;
        default: return vars[1];
        }
    }
}

int main(void)
{
    u64 acc = 0;
    u64 t0 = read_time(), i0 = read_instret();
    for (int r = 0; r < ROUNDS; r++) {
        for (int i = 0; i < (int)sizeof buf; i++) buf[i] = (u8)next_random();
        acc += crc32(buf, sizeof buf);
        for (int i = 0; i < 20000; i++) words[i] = next_random();
        shell_sort(words, 20000);
        acc += words[100];
        acc += (u64)(s32)matmul();
        for (int i = 0; i < (int)sizeof text; i++) text[i] = "abc"[next_random() % 3];
        acc += (u64)search(text, sizeof text, "abcab", 5);
        acc += (u64)interpret();
    }
    u64 instructions = read_instret() - i0, ticks = read_time() - t0;
    printf("instructions: %llu ticks: %llu\n", instructions, ticks);
    printf("checksum: %016llx\n", acc);
    return 0;
}
