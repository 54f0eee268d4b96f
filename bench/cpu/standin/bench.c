/* Stand-in CPU benchmark for bench/cpu/run while guests/build/rv64/bench-cpu.elf does not exist:
   CRC32 (bitwise), Shell sort of 20000 words, 40x40 double matrix multiply, 60 rounds; prints a checksum
   that must match between run-elf and QEMU. */
typedef unsigned long long u64; typedef unsigned int u32;
static long sbi(long ext, long fid, long a0, long a1) {
  register long x10 asm("a0") = a0; register long x11 asm("a1") = a1;
  register long x16 asm("a6") = fid; register long x17 asm("a7") = ext;
  asm volatile("ecall" : "+r"(x10), "+r"(x11) : "r"(x16), "r"(x17) : "memory"); return x10; }
static void putc_(char c) { sbi(1, 0, c, 0); }
static void puts_(const char *s) { while (*s) putc_(*s++); }
static void puthex(u64 v) { for (int i = 60; i >= 0; i -= 4) putc_("0123456789abcdef"[(v >> i) & 15]); putc_('\n'); }
static unsigned char buf[65536]; static u32 arr[20000]; static double A[40][40], B[40][40], C[40][40];
static u32 crc32(const unsigned char *p, int n) { u32 c = ~0u; for (int i = 0; i < n; i++) { c ^= p[i]; for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & -(c & 1)); } return ~c; }
static void sort(u32 *a, int n) { for (int gap = n/2; gap > 0; gap /= 2) for (int i = gap; i < n; i++) { u32 t = a[i]; int j = i; while (j >= gap && a[j-gap] > t) { a[j] = a[j-gap]; j -= gap; } a[j] = t; } }
void main_(void) {
  u64 seed = 12345; u64 acc = 0;
  for (int r = 0; r < 60; r++) {
    for (int i = 0; i < 65536; i++) { seed = seed * 6364136223846793005ull + 1442695040888963407ull; buf[i] = seed >> 33; }
    acc += crc32(buf, 65536);
    for (int i = 0; i < 20000; i++) { seed = seed * 6364136223846793005ull + 1442695040888963407ull; arr[i] = seed >> 32; }
    sort(arr, 20000); acc += arr[100];
    for (int i = 0; i < 40; i++) for (int j = 0; j < 40; j++) { A[i][j] = i + j * 0.5; B[i][j] = i - j; }
    for (int i = 0; i < 40; i++) for (int j = 0; j < 40; j++) { double s = 0; for (int k = 0; k < 40; k++) s += A[i][k] * B[k][j]; C[i][j] = s; }
    acc += (unsigned)(int)C[7][9];
  }
  puthex(acc);
  sbi(0x53525354, 0, 0, 0);
}
