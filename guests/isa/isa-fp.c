/* F and D: results bit-exact, the five rounding modes (static and dynamic), fflags for every exception,
   NaN boxing and canonical NaNs, min/max and comparisons with NaNs and signed zeros, fclass, fused
   multiply-add rounding once, conversions that saturate, fcsr layout, reserved rounding modes, and the
   FS field (off traps, writes make it dirty). Values are raw bit patterns in and out. */
#include "test.h"

#define NV 0x10
#define DZ 0x08
#define OF 0x04
#define UF 0x02
#define NX 0x01

#define S_ONE 0x3f800000u
#define S_TWO 0x40000000u
#define S_THREE 0x40400000u
#define S_HALF 0x3f000000u
#define S_MINUS_ONE 0xbf800000u
#define S_INF 0x7f800000u
#define S_NINF 0xff800000u
#define S_QNAN 0x7fc00000u
#define S_SNAN 0x7f800001u
#define S_MAX 0x7f7fffffu
#define S_ZERO 0u
#define S_NZERO 0x80000000u
#define S_DENORM 0x00000001u
#define D_QNAN 0x7ff8000000000000ULL

static xlen_t take_flags(void) { xlen_t f; asm volatile("csrrw %0, fflags, zero" : "=r"(f)); return f; }
static void set_frm(xlen_t rm) { asm volatile("csrw frm, %0" :: "r"(rm)); }

#define FS2(name, insn) static u32 name(u32 a, u32 b) { u32 r; asm volatile( \
    "fmv.w.x ft0, %1\n fmv.w.x ft1, %2\n " insn " ft2, ft0, ft1\n fmv.x.w %0, ft2" \
    : "=r"(r) : "r"(a), "r"(b) : "ft0", "ft1", "ft2"); return r; }
#define FS1(name, insn) static u32 name(u32 a) { u32 r; asm volatile( \
    "fmv.w.x ft0, %1\n " insn " ft2, ft0\n fmv.x.w %0, ft2" : "=r"(r) : "r"(a) : "ft0", "ft2"); return r; }
#define FS3(name, insn) static u32 name(u32 a, u32 b, u32 c) { u32 r; asm volatile( \
    "fmv.w.x ft0, %1\n fmv.w.x ft1, %2\n fmv.w.x ft3, %3\n " insn " ft2, ft0, ft1, ft3\n fmv.x.w %0, ft2" \
    : "=r"(r) : "r"(a), "r"(b), "r"(c) : "ft0", "ft1", "ft2", "ft3"); return r; }
#define FSCMP(name, insn) static xlen_t name(u32 a, u32 b) { xlen_t r; asm volatile( \
    "fmv.w.x ft0, %1\n fmv.w.x ft1, %2\n " insn " %0, ft0, ft1" : "=r"(r) : "r"(a), "r"(b) : "ft0", "ft1"); return r; }
#define FSTOI(name, insn) static xlen_t name(u32 a) { xlen_t r; asm volatile( \
    "fmv.w.x ft0, %1\n " insn : "=r"(r) : "r"(a) : "ft0"); return r; }

FS2(fadd_s, "fadd.s") FS2(fsub_s, "fsub.s") FS2(fmul_s, "fmul.s") FS2(fdiv_s, "fdiv.s")
FS1(fsqrt_s, "fsqrt.s")
FS2(fmin_s, "fmin.s") FS2(fmax_s, "fmax.s") FS2(fsgnj_s, "fsgnj.s") FS2(fsgnjn_s, "fsgnjn.s") FS2(fsgnjx_s, "fsgnjx.s")
FS3(fmadd_s, "fmadd.s") FS3(fmsub_s, "fmsub.s") FS3(fnmadd_s, "fnmadd.s") FS3(fnmsub_s, "fnmsub.s")
FSCMP(feq_s, "feq.s") FSCMP(flt_s, "flt.s") FSCMP(fle_s, "fle.s")
FSTOI(fclass_s, "fclass.s %0, ft0")
FSTOI(fcvt_w_s_rne, "fcvt.w.s %0, ft0, rne") FSTOI(fcvt_w_s_rtz, "fcvt.w.s %0, ft0, rtz")
FSTOI(fcvt_w_s_rdn, "fcvt.w.s %0, ft0, rdn") FSTOI(fcvt_w_s_rup, "fcvt.w.s %0, ft0, rup")
FSTOI(fcvt_w_s_rmm, "fcvt.w.s %0, ft0, rmm") FSTOI(fcvt_w_s_dyn, "fcvt.w.s %0, ft0")
FSTOI(fcvt_wu_s_rtz, "fcvt.wu.s %0, ft0, rtz") FSTOI(fmv_x_w, "fmv.x.w %0, ft0")

static u32 fcvt_s_w(xlen_t v) { u32 r; asm volatile("fcvt.s.w ft0, %1\n fmv.x.w %0, ft0" : "=r"(r) : "r"(v) : "ft0"); return r; }
static u32 fcvt_s_wu(xlen_t v) { u32 r; asm volatile("fcvt.s.wu ft0, %1\n fmv.x.w %0, ft0" : "=r"(r) : "r"(v) : "ft0"); return r; }

/* Doubles go through memory so the same code works on RV32. */
#define FD2(name, insn) static u64 name(u64 a, u64 b) { u64 r; asm volatile( \
    "fld ft0, %1\n fld ft1, %2\n " insn " ft2, ft0, ft1\n fsd ft2, %0" \
    : "=m"(r) : "m"(a), "m"(b) : "ft0", "ft1", "ft2"); return r; }
FD2(fadd_d, "fadd.d") FD2(fmul_d, "fmul.d") FD2(fdiv_d, "fdiv.d") FD2(fmin_d, "fmin.d")
static u64 fsqrt_d(u64 a) { u64 r; asm volatile("fld ft0, %1\n fsqrt.d ft2, ft0\n fsd ft2, %0" : "=m"(r) : "m"(a) : "ft0", "ft2"); return r; }
static u64 fmadd_d(u64 a, u64 b, u64 c) { u64 r; asm volatile("fld ft0, %1\n fld ft1, %2\n fld ft3, %3\n fmadd.d ft2, ft0, ft1, ft3\n fsd ft2, %0"
    : "=m"(r) : "m"(a), "m"(b), "m"(c) : "ft0", "ft1", "ft2", "ft3"); return r; }
static u32 fcvt_s_d(u64 a) { u32 r; asm volatile("fld ft0, %1\n fcvt.s.d ft2, ft0\n fmv.x.w %0, ft2" : "=r"(r) : "m"(a) : "ft0", "ft2"); return r; }
static u64 fcvt_d_s(u32 a) { u64 r; asm volatile("fmv.w.x ft0, %1\n fcvt.d.s ft2, ft0\n fsd ft2, %0" : "=m"(r) : "r"(a) : "ft0", "ft2"); return r; }
static xlen_t fcvt_w_d_rdn(u64 a) { xlen_t r; asm volatile("fld ft0, %1\n fcvt.w.d %0, ft0, rdn" : "=r"(r) : "m"(a) : "ft0"); return r; }
static xlen_t feq_d(u64 a, u64 b) { xlen_t r; asm volatile("fld ft0, %1\n fld ft1, %2\n feq.d %0, ft0, ft1" : "=r"(r) : "m"(a), "m"(b) : "ft0", "ft1"); return r; }
static xlen_t fclass_d(u64 a) { xlen_t r; asm volatile("fld ft0, %1\n fclass.d %0, ft0" : "=r"(r) : "m"(a) : "ft0"); return r; }
/* A single-precision op on a register loaded as a raw 64-bit pattern: tests NaN boxing. */
static u32 fadd_s_of_raw64(u64 raw) { u32 r; asm volatile("fld ft0, %1\n fadd.s ft2, ft0, ft0\n fmv.x.w %0, ft2" : "=r"(r) : "m"(raw) : "ft0", "ft2"); return r; }
static u64 flw_then_fsd(u32 v) { u64 r; asm volatile("flw ft0, %1\n fsd ft0, %0" : "=m"(r) : "m"(v) : "ft0"); return r; }

static void arithmetic_and_flags(void)
{
    test_group("fp arithmetic/flags");
    take_flags();
    CHECK_EQ(fadd_s(S_ONE, S_TWO), S_THREE); CHECK_EQ(take_flags(), 0);
    CHECK_EQ(fsub_s(S_ONE, S_TWO), S_MINUS_ONE);
    CHECK_EQ(fmul_s(S_HALF, S_TWO), S_ONE);
    CHECK_EQ(fdiv_s(S_ONE, S_THREE), 0x3eaaaaabu); CHECK_EQ(take_flags(), NX);
    CHECK_EQ(fdiv_s(S_ONE, S_ZERO), S_INF); CHECK_EQ(take_flags(), DZ);
    CHECK_EQ(fdiv_s(S_MINUS_ONE, S_ZERO), S_NINF); CHECK_EQ(take_flags(), DZ);
    CHECK_EQ(fdiv_s(S_ZERO, S_ZERO), S_QNAN); CHECK_EQ(take_flags(), NV);
    CHECK_EQ(fsqrt_s(S_MINUS_ONE), S_QNAN); CHECK_EQ(take_flags(), NV);
    CHECK_EQ(fsqrt_s(0x40800000u), S_TWO); CHECK_EQ(take_flags(), 0);
    CHECK_EQ(fsqrt_s(S_NZERO), S_NZERO);
    CHECK_EQ(fmul_s(S_MAX, S_TWO), S_INF); CHECK_EQ(take_flags(), OF | NX);
    CHECK_EQ(fmul_s(S_DENORM, S_HALF), S_ZERO); CHECK_EQ(take_flags(), UF | NX);
    CHECK_EQ(fadd_s(S_INF, S_NINF), S_QNAN); CHECK_EQ(take_flags(), NV);
    /* Any NaN result is the canonical NaN, whatever the inputs' payloads. */
    CHECK_EQ(fadd_s(0x7fc12345u, S_ONE), S_QNAN); CHECK_EQ(take_flags(), 0);
    CHECK_EQ(fadd_s(S_SNAN, S_ONE), S_QNAN); CHECK_EQ(take_flags(), NV);
    /* Flags accrue until cleared. */
    fdiv_s(S_ONE, S_ZERO);
    fdiv_s(S_ONE, S_THREE);
    CHECK_EQ(take_flags(), DZ | NX);
    CHECK_EQ(take_flags(), 0);
}

static void rounding_modes(void)
{
    test_group("fp rounding");
    static const u32 third[5] = { 0x3eaaaaabu, 0x3eaaaaaau, 0x3eaaaaaau, 0x3eaaaaabu, 0x3eaaaaabu };
    static const u32 minus_third[5] = { 0xbeaaaaabu, 0xbeaaaaaau, 0xbeaaaaabu, 0xbeaaaaaau, 0xbeaaaaabu };
    for (int rm = 0; rm < 5; rm++) {
        set_frm((xlen_t)rm);
        CHECK_EQ(fdiv_s(S_ONE, S_THREE), third[rm]);
        CHECK_EQ(fdiv_s(S_MINUS_ONE, S_THREE), minus_third[rm]);
    }
    set_frm(0);
    u32 two_half = 0x40200000u, minus_two_half = 0xc0200000u;
    CHECK_EQ(fcvt_w_s_rne(two_half), 2); CHECK_EQ(fcvt_w_s_rne(minus_two_half), (xlen_t)-2);
    CHECK_EQ(fcvt_w_s_rtz(two_half), 2); CHECK_EQ(fcvt_w_s_rtz(minus_two_half), (xlen_t)-2);
    CHECK_EQ(fcvt_w_s_rdn(two_half), 2); CHECK_EQ(fcvt_w_s_rdn(minus_two_half), (xlen_t)-3);
    CHECK_EQ(fcvt_w_s_rup(two_half), 3); CHECK_EQ(fcvt_w_s_rup(minus_two_half), (xlen_t)-2);
    CHECK_EQ(fcvt_w_s_rmm(two_half), 3); CHECK_EQ(fcvt_w_s_rmm(minus_two_half), (xlen_t)-3);
    CHECK_EQ(take_flags(), NX);
    set_frm(3);
    CHECK_EQ(fcvt_w_s_dyn(0x3fc00000u), 2);            /* 1.5 rounded up by the dynamic mode */
    set_frm(0);
    CHECK_EQ(fcvt_w_s_dyn(0x3fc00000u), 2);            /* 1.5 to even */
    CHECK_EQ(fcvt_w_s_dyn(0x40100000u), 2);            /* 2.25 */
    take_flags();
}

static void conversions(void)
{
    test_group("fp conversions");
    take_flags();
    CHECK_EQ(fcvt_w_s_rtz(S_QNAN), 0x7fffffff); CHECK_EQ(take_flags(), NV);
    CHECK_EQ(fcvt_w_s_rtz(S_INF), 0x7fffffff); CHECK_EQ(take_flags(), NV);
    CHECK_EQ(fcvt_w_s_rtz(S_NINF), SEXT32(0x80000000)); CHECK_EQ(take_flags(), NV);
    CHECK_EQ(fcvt_w_s_rtz(0x4f32d05eu), 0x7fffffff); CHECK_EQ(take_flags(), NV);   /* 3e9 */
    CHECK_EQ(fcvt_wu_s_rtz(S_MINUS_ONE), 0); CHECK_EQ(take_flags(), NV);
    CHECK_EQ(fcvt_wu_s_rtz(0xbf000000u), 0); CHECK_EQ(take_flags(), NX);            /* -0.5 truncates to 0 */
    /* fcvt.wu.s sign-extends its 32-bit result on RV64. */
    CHECK_EQ(fcvt_wu_s_rtz(0x4f32d05eu), SEXT32(0xB2D05E00u)); CHECK_EQ(take_flags(), 0);
    CHECK_EQ(fcvt_s_w((xlen_t)-7), 0xc0e00000u);
    CHECK_EQ(fcvt_s_wu(0xFFFFFFFFu), 0x4f800000u); CHECK_EQ(take_flags(), NX);
    CHECK_EQ(fmv_x_w(S_NZERO), SEXT32(0x80000000u));                                /* sign-extends on RV64 */
    CHECK_EQ(fcvt_s_d(0x3fd5555555555555ULL), 0x3eaaaaabu); CHECK_EQ(take_flags(), NX);
    CHECK_EQ(fcvt_d_s(0x3eaaaaabu), 0x3fd5555560000000ULL); CHECK_EQ(take_flags(), 0);
    CHECK_EQ(fcvt_s_d(0x7ff0000000000001ULL), S_QNAN); CHECK_EQ(take_flags(), NV);
    CHECK_EQ(fcvt_d_s(S_SNAN), D_QNAN); CHECK_EQ(take_flags(), NV);
    CHECK_EQ(fcvt_w_d_rdn(0xc004000000000000ULL), (xlen_t)-3);                      /* -2.5 */
    take_flags();
#if XLEN == 64
    xlen_t l;
    asm volatile("fmv.w.x ft0, %1\n fcvt.l.s %0, ft0, rtz" : "=r"(l) : "r"(S_QNAN) : "ft0");
    CHECK_EQ(l, 0x7fffffffffffffffUL);
    asm volatile("fmv.w.x ft0, %1\n fcvt.lu.s %0, ft0, rtz" : "=r"(l) : "r"(S_NINF) : "ft0");
    CHECK_EQ(l, 0);
    u64 d;
    asm volatile("fcvt.d.l ft0, %1\n fmv.x.d %0, ft0" : "=r"(d) : "r"((xlen_t)-1) : "ft0");
    CHECK_EQ(d, 0xbff0000000000000ULL);
    CHECK_EQ(take_flags(), NV);
#endif
}

static void boxing(void)
{
    test_group("fp NaN boxing");
    take_flags();
    CHECK_EQ(fadd_s_of_raw64(0xffffffff3f800000ULL), S_TWO);      /* properly boxed 1.0f */
    CHECK_EQ(fadd_s_of_raw64(0x000000003f800000ULL), S_QNAN);     /* not boxed: read as the canonical NaN */
    CHECK_EQ(fadd_s_of_raw64(0xfffffffe3f800000ULL), S_QNAN);
    CHECK_EQ(take_flags(), 0);
    CHECK_EQ(flw_then_fsd(0x12345678u), 0xffffffff12345678ULL);   /* flw boxes */
#if XLEN == 64
    u64 raw;
    asm volatile("fmv.w.x ft0, %1\n fmv.x.d %0, ft0" : "=r"(raw) : "r"((xlen_t)0x3f800000) : "ft0");
    CHECK_EQ(raw, 0xffffffff3f800000ULL);                          /* fmv.w.x boxes */
#endif
}

static void min_max_compare_class(void)
{
    test_group("fp min/max/compare/class");
    take_flags();
    CHECK_EQ(fmin_s(S_ZERO, S_NZERO), S_NZERO);
    CHECK_EQ(fmax_s(S_NZERO, S_ZERO), S_ZERO);
    CHECK_EQ(fmin_s(S_QNAN, S_ONE), S_ONE); CHECK_EQ(take_flags(), 0);
    CHECK_EQ(fmax_s(S_ONE, S_SNAN), S_ONE); CHECK_EQ(take_flags(), NV);
    CHECK_EQ(fmin_s(S_QNAN, 0x7fc00001u), S_QNAN);
    CHECK_EQ(fmin_d(D_QNAN, 0x3ff0000000000000ULL), 0x3ff0000000000000ULL);
    CHECK_EQ(feq_s(S_QNAN, S_ONE), 0); CHECK_EQ(take_flags(), 0);   /* quiet compare */
    CHECK_EQ(feq_s(S_SNAN, S_ONE), 0); CHECK_EQ(take_flags(), NV);
    CHECK_EQ(flt_s(S_QNAN, S_ONE), 0); CHECK_EQ(take_flags(), NV);  /* signalling compare */
    CHECK_EQ(fle_s(S_ONE, S_ONE), 1);
    CHECK_EQ(flt_s(S_NZERO, S_ZERO), 0);                            /* -0 == +0 */
    CHECK_EQ(feq_s(S_NZERO, S_ZERO), 1);
    CHECK_EQ(feq_d(0x8000000000000000ULL, 0), 1);
    CHECK_EQ(fsgnj_s(S_ONE, S_NZERO), S_MINUS_ONE);
    CHECK_EQ(fsgnjn_s(S_ONE, S_NZERO), S_ONE);
    CHECK_EQ(fsgnjx_s(S_MINUS_ONE, S_NZERO), S_ONE);
    static const u32 values[10] = { S_NINF, 0xbf800000u, 0x80000001u, S_NZERO, S_ZERO, S_DENORM, S_ONE, S_INF, S_SNAN, S_QNAN };
    for (int i = 0; i < 10; i++) CHECK_EQ(fclass_s(values[i]), 1u << i);
    CHECK_EQ(fclass_d(D_QNAN), 1u << 9);
    CHECK_EQ(fclass_d(0x0000000000000001ULL), 1u << 5);
    take_flags();
}

static void fused(void)
{
    test_group("fp fused multiply-add");
    take_flags();
    /* (1 + 2^-23)(1 - 2^-23) - 1 = -2^-46 exactly when rounded once; 0 if the product were rounded first. */
    CHECK_EQ(fmadd_s(0x3f800001u, 0x3f7ffffeu, S_MINUS_ONE), 0xa8800000u);
    CHECK_EQ(take_flags(), 0);
    CHECK_EQ(fmadd_s(S_TWO, S_THREE, S_ONE), 0x40e00000u);           /* 7 */
    CHECK_EQ(fmsub_s(S_TWO, S_THREE, S_ONE), 0x40a00000u);           /* 5 */
    CHECK_EQ(fnmadd_s(S_TWO, S_THREE, S_ONE), 0xc0e00000u);          /* -7 */
    CHECK_EQ(fnmsub_s(S_TWO, S_THREE, S_ONE), 0xc0a00000u);          /* -5 */
    CHECK_EQ(fmadd_s(S_INF, S_ZERO, S_QNAN), S_QNAN); CHECK_EQ(take_flags(), NV);   /* inf * 0 is invalid */
    CHECK_EQ(fmadd_d(0x3ff0000000000001ULL, 0x3feffffffffffffeULL, 0xbff0000000000000ULL), 0xb970000000000000ULL);   /* -2^-104 */
    CHECK_EQ(fadd_d(0x3ff0000000000000ULL, 0x4000000000000000ULL), 0x4008000000000000ULL);
    CHECK_EQ(fmul_d(0x4000000000000000ULL, 0x4008000000000000ULL), 0x4018000000000000ULL);
    CHECK_EQ(fdiv_d(0x3ff0000000000000ULL, 0x4008000000000000ULL), 0x3fd5555555555555ULL);
    CHECK_EQ(fdiv_d(0, 0), D_QNAN); CHECK_EQ(take_flags(), NV | NX);
    CHECK_EQ(fsqrt_d(0x4000000000000000ULL), 0x3ff6a09e667f3bcdULL);
    take_flags();
}

static void fcsr_and_fs(void)
{
    test_group("fcsr/FS");
    xlen_t v;
    asm volatile("csrw fcsr, %0" :: "r"((xlen_t)0x39F));    /* bits above 7 are ignored */
    asm volatile("csrr %0, fcsr" : "=r"(v)); CHECK_EQ(v, 0x9F);
    asm volatile("csrr %0, frm" : "=r"(v)); CHECK_EQ(v, 4);
    asm volatile("csrr %0, fflags" : "=r"(v)); CHECK_EQ(v, 0x1F);
    asm volatile("csrw fcsr, zero");
    /* A reserved dynamic rounding mode makes a rounding instruction illegal; so does a reserved static one. */
    set_frm(5);
    EXPECT_TRAP(fadd_s(S_ONE, S_ONE), EXC_ILLEGAL);
    set_frm(0);
    EXPECT_TRAP(asm volatile(".word 0x00105153" ::: "ft2"), EXC_ILLEGAL);   /* fadd.s ft2, ft0, ft1 with rm=5 */
    /* FS = Off: every FP instruction and FP CSR access is illegal. */
    csr_clear(sstatus, SSTATUS_FS);
    EXPECT_TRAP(asm volatile("fadd.s ft2, ft0, ft1" ::: "ft2"), EXC_ILLEGAL);
    EXPECT_TRAP(asm volatile("fmv.w.x ft0, zero" ::: "ft0"), EXC_ILLEGAL);
    EXPECT_TRAP(asm volatile("csrr %0, fcsr" : "=r"(v)), EXC_ILLEGAL);
    /* FS = Initial, then an FP write marks the state Dirty and sets SD. */
    csr_set(sstatus, SSTATUS_FS_INITIAL);
    CHECK_EQ(csr_read(sstatus) & SSTATUS_FS, SSTATUS_FS_INITIAL);
    fadd_s(S_ONE, S_ONE);
    xlen_t s = csr_read(sstatus);
    CHECK_EQ(s & SSTATUS_FS, SSTATUS_FS);
    CHECK(s & CAUSE_INTERRUPT);   /* SD is the top bit, like the interrupt bit of scause */
}

int main(void)
{
    arithmetic_and_flags();
    rounding_modes();
    conversions();
    boxing();
    min_max_compare_class();
    fused();
    fcsr_and_fs();
    return test_done();
}
