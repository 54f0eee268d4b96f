/* Integer ISA (I and M): arithmetic corner cases, shifts, comparisons, loads with sign extension, lui/auipc,
   branches, and on RV64 the W forms and their sign extension. Operands pass through asm so the compiler
   cannot fold them; each check names the instruction. */
#include "test.h"

#define OP_RR(name, insn) static xlen_t name(xlen_t a, xlen_t b) \
    { xlen_t r; asm volatile(insn " %0, %1, %2" : "=r"(r) : "r"(a), "r"(b)); return r; }
#define OP_RI(name, insn, imm) static xlen_t name(xlen_t a) \
    { xlen_t r; asm volatile(insn " %0, %1, %2" : "=r"(r) : "r"(a), "i"(imm)); return r; }

OP_RR(op_add, "add") OP_RR(op_sub, "sub") OP_RR(op_sll, "sll") OP_RR(op_srl, "srl") OP_RR(op_sra, "sra")
OP_RR(op_slt, "slt") OP_RR(op_sltu, "sltu") OP_RR(op_xor, "xor") OP_RR(op_or, "or") OP_RR(op_and, "and")
OP_RR(op_mul, "mul") OP_RR(op_mulh, "mulh") OP_RR(op_mulhsu, "mulhsu") OP_RR(op_mulhu, "mulhu")
OP_RR(op_div, "div") OP_RR(op_divu, "divu") OP_RR(op_rem, "rem") OP_RR(op_remu, "remu")
OP_RI(op_slti_m1, "slti", -1) OP_RI(op_sltiu_m1, "sltiu", -1) OP_RI(op_addi_m2048, "addi", -2048)
OP_RI(op_xori_m1, "xori", -1) OP_RI(op_srai_1, "srai", 1) OP_RI(op_srli_1, "srli", 1)
OP_RI(op_slli_max, "slli", XLEN - 1) OP_RI(op_srai_max, "srai", XLEN - 1)
#if XLEN == 64
OP_RR(op_addw, "addw") OP_RR(op_subw, "subw") OP_RR(op_sllw, "sllw") OP_RR(op_srlw, "srlw") OP_RR(op_sraw, "sraw")
OP_RR(op_mulw, "mulw") OP_RR(op_divw, "divw") OP_RR(op_divuw, "divuw") OP_RR(op_remw, "remw") OP_RR(op_remuw, "remuw")
OP_RI(op_addiw_1, "addiw", 1) OP_RI(op_addiw_0, "addiw", 0) OP_RI(op_slliw_31, "slliw", 31)
OP_RI(op_srliw_0, "srliw", 0) OP_RI(op_sraiw_4, "sraiw", 4)
#endif

#define MIN ((xlen_t)1 << (XLEN - 1))
#define ALL ((xlen_t)-1)

static void arithmetic(void)
{
    test_group("arithmetic");
    CHECK_EQ(op_add(ALL, 1), 0);
    CHECK_EQ(op_add(MIN - 1, 1), MIN);          /* signed overflow wraps */
    CHECK_EQ(op_sub(0, 1), ALL);
    CHECK_EQ(op_sub(MIN, 1), MIN - 1);
    CHECK_EQ(op_addi_m2048(0), (xlen_t)-2048);
    CHECK_EQ(op_xori_m1(0x1234), ~(xlen_t)0x1234);
    CHECK_EQ(op_xor(0xF0F0, 0xFF00), 0x0FF0);
    CHECK_EQ(op_or(0xF0F0, 0xFF00), 0xFFF0);
    CHECK_EQ(op_and(0xF0F0, 0xFF00), 0xF000);
}

static void shifts(void)
{
    test_group("shifts");
    CHECK_EQ(op_sll(1, XLEN - 1), MIN);
    CHECK_EQ(op_sll(1, XLEN), 1);               /* only the low log2(XLEN) bits of the amount count */
    CHECK_EQ(op_sll(1, XLEN + 3), 8);
    CHECK_EQ(op_srl(MIN, XLEN - 1), 1);
    CHECK_EQ(op_sra(MIN, XLEN - 1), ALL);
    CHECK_EQ(op_sra(MIN, 2 * XLEN + 1), MIN | (MIN >> 1));
    CHECK_EQ(op_srai_1(ALL), ALL);
    CHECK_EQ(op_srli_1(ALL), ALL >> 1);
    CHECK_EQ(op_slli_max(3), MIN);
    CHECK_EQ(op_srai_max(MIN), ALL);
}

static void comparisons(void)
{
    test_group("comparisons");
    CHECK_EQ(op_slt(ALL, 0), 1);                /* -1 < 0 signed */
    CHECK_EQ(op_sltu(ALL, 0), 0);               /* max > 0 unsigned */
    CHECK_EQ(op_slt(MIN, MIN - 1), 1);
    CHECK_EQ(op_sltu(MIN, MIN - 1), 0);
    CHECK_EQ(op_slti_m1(MIN), 1);
    CHECK_EQ(op_slti_m1(0), 0);
    CHECK_EQ(op_sltiu_m1(ALL - 1), 1);          /* the immediate is sign-extended, then compared unsigned */
    CHECK_EQ(op_sltiu_m1(ALL), 0);
}

static void multiply_divide(void)
{
    test_group("mul/div");
    CHECK_EQ(op_mul(ALL, ALL), 1);
    CHECK_EQ(op_mulh(ALL, ALL), 0);
    CHECK_EQ(op_mulhu(ALL, ALL), ALL - 1);
    CHECK_EQ(op_mulhsu(ALL, ALL), ALL);         /* -1 * (2^XLEN - 1): high half is -1 */
    CHECK_EQ(op_mulhsu(1, ALL), 0);
    CHECK_EQ(op_mulh(MIN, MIN), MIN >> 1);
    CHECK_EQ(op_mulhu(MIN, 4), 2);
    CHECK_EQ(op_div(7, 0), ALL);                /* division by zero: quotient all ones, remainder the dividend */
    CHECK_EQ(op_divu(7, 0), ALL);
    CHECK_EQ(op_rem(7, 0), 7);
    CHECK_EQ(op_remu(7, 0), 7);
    CHECK_EQ(op_div(MIN, ALL), MIN);            /* overflow: quotient the dividend, remainder zero */
    CHECK_EQ(op_rem(MIN, ALL), 0);
    CHECK_EQ(op_div((xlen_t)-7, 2), (xlen_t)-3); /* rounds toward zero */
    CHECK_EQ(op_rem((xlen_t)-7, 2), (xlen_t)-1); /* remainder takes the dividend's sign */
    CHECK_EQ(op_divu((xlen_t)-7, 2), ((xlen_t)-7) / 2);
    CHECK_EQ(op_remu((xlen_t)-7, 2), 1);
}

static void loads_stores(void)
{
    test_group("loads/stores");
    static volatile u8 mem[16] __attribute__((aligned(16)));
    for (int i = 0; i < 16; i++) mem[i] = (u8)(0x80 + i);
    xlen_t v;
    asm volatile("lb %0, 0(%1)" : "=r"(v) : "r"(mem));
    CHECK_EQ(v, (xlen_t)(sxlen_t)(s8)0x80);
    asm volatile("lbu %0, 0(%1)" : "=r"(v) : "r"(mem));
    CHECK_EQ(v, 0x80);
    asm volatile("lh %0, 0(%1)" : "=r"(v) : "r"(mem));
    CHECK_EQ(v, (xlen_t)(sxlen_t)(s16)0x8180);
    asm volatile("lhu %0, 0(%1)" : "=r"(v) : "r"(mem));
    CHECK_EQ(v, 0x8180);
    asm volatile("lw %0, 0(%1)" : "=r"(v) : "r"(mem));
    CHECK_EQ(v, SEXT32(0x83828180));
#if XLEN == 64
    asm volatile("lwu %0, 0(%1)" : "=r"(v) : "r"(mem));
    CHECK_EQ(v, 0x83828180);
    asm volatile("ld %0, 8(%1)" : "=r"(v) : "r"(mem));
    CHECK_EQ(v, 0x8F8E8D8C8B8A8988UL);
    asm volatile("sd %1, 0(%0)" :: "r"(mem), "r"(0x1122334455667788UL) : "memory");
    CHECK_EQ(mem[0], 0x88);
    CHECK_EQ(mem[7], 0x11);
#endif
    asm volatile("sb %1, 1(%0)" :: "r"(mem), "r"((xlen_t)0xABCD) : "memory");
    CHECK_EQ(mem[1], 0xCD);
    asm volatile("sh %1, 2(%0)" :: "r"(mem), "r"((xlen_t)0x12345678) : "memory");
    CHECK_EQ(mem[2], 0x78);
    CHECK_EQ(mem[3], 0x56);
    asm volatile("sw %1, 4(%0)" :: "r"(mem), "r"((xlen_t)0xDEADBEEF) : "memory");
    CHECK_EQ(*(volatile u32 *)(mem + 4), 0xDEADBEEF);
    /* Negative offsets. */
    asm volatile("lbu %0, -1(%1)" : "=r"(v) : "r"(mem + 9));
    CHECK_EQ(v, mem[8]);
}

static void upper_immediates_and_branches(void)
{
    test_group("lui/auipc/branches");
    xlen_t v;
    asm volatile("lui %0, 0x80000" : "=r"(v));
    CHECK_EQ(v, SEXT32(0x80000000));            /* sign-extended on RV64 */
    xlen_t here, pc;
    asm volatile("1: auipc %0, 0\n la %1, 1b" : "=r"(here), "=r"(pc));
    CHECK_EQ(here, pc);
    asm volatile("auipc %0, 1" : "=r"(v));
    CHECK(v - (xlen_t)&upper_immediates_and_branches < 0x10000 + 0x1000);
    int taken = 0;
    xlen_t minus = ALL, one = 1;
    asm volatile("blt %1, %2, 1f\n li %0, 0\n j 2f\n1: li %0, 1\n2:" : "=r"(taken) : "r"(minus), "r"(one));
    CHECK_EQ(taken, 1);
    asm volatile("bltu %1, %2, 1f\n li %0, 0\n j 2f\n1: li %0, 1\n2:" : "=r"(taken) : "r"(minus), "r"(one));
    CHECK_EQ(taken, 0);
    asm volatile("bge %1, %2, 1f\n li %0, 0\n j 2f\n1: li %0, 1\n2:" : "=r"(taken) : "r"(one), "r"(one));
    CHECK_EQ(taken, 1);
    asm volatile("bgeu %1, %2, 1f\n li %0, 0\n j 2f\n1: li %0, 1\n2:" : "=r"(taken) : "r"(minus), "r"(one));
    CHECK_EQ(taken, 1);
    asm volatile("bne %1, %2, 1f\n li %0, 0\n j 2f\n1: li %0, 1\n2:" : "=r"(taken) : "r"(one), "r"(one));
    CHECK_EQ(taken, 0);
    /* jalr clears bit 0 of the target and links pc + 4. */
    xlen_t link, target;
    asm volatile("la %1, 1f\n addi %1, %1, 1\n jalr %0, 0(%1)\n1:" : "=r"(link), "=&r"(target));
    CHECK_EQ(link, target - 1);
    /* x0 stays zero whatever is written to it. */
    asm volatile("li x0, 5\n mv %0, x0" : "=r"(v));
    CHECK_EQ(v, 0);
}

#if XLEN == 64
static void word_ops(void)
{
    test_group("rv64 W ops");
    CHECK_EQ(op_addw(0x7FFFFFFF, 1), 0xFFFFFFFF80000000UL);
    CHECK_EQ(op_addw(0xFFFFFFFF00000001UL, 0x12300000000UL), 1);   /* upper input bits ignored */
    CHECK_EQ(op_subw(0, 1), ALL);
    CHECK_EQ(op_subw(0x80000000UL, 1), 0x7FFFFFFF);
    CHECK_EQ(op_sllw(1, 31), 0xFFFFFFFF80000000UL);
    CHECK_EQ(op_sllw(1, 32), 1);                                    /* 5-bit shift amount */
    CHECK_EQ(op_srlw(0xFFFFFFFF80000000UL, 31), 1);
    CHECK_EQ(op_srlw(0xFFFFFFFF80000000UL, 0), 0xFFFFFFFF80000000UL);
    CHECK_EQ(op_sraw(0x80000000UL, 4), 0xFFFFFFFFF8000000UL);
    CHECK_EQ(op_mulw(0x10000, 0x10000), 0);
    CHECK_EQ(op_mulw(0x7FFFFFFF, 2), ALL - 1);
    CHECK_EQ(op_divw(0x80000000UL, ALL), 0xFFFFFFFF80000000UL);     /* INT_MIN / -1 overflow */
    CHECK_EQ(op_remw(0x80000000UL, ALL), 0);
    CHECK_EQ(op_divw(5, 0), ALL);
    CHECK_EQ(op_divuw(5, 0), ALL);
    CHECK_EQ(op_remw(0x123456789UL, 0), 0x23456789);
    CHECK_EQ(op_remuw(0xF0000000UL, 0), 0xFFFFFFFFF0000000UL);      /* dividend's low word, sign-extended */
    CHECK_EQ(op_divuw(0xFFFFFFFFUL, 1), ALL);                       /* result sign-extended from bit 31 */
    CHECK_EQ(op_addiw_1(0x7FFFFFFF), 0xFFFFFFFF80000000UL);
    CHECK_EQ(op_addiw_0(0x1FFFFFFFFUL), ALL);                       /* sext.w */
    CHECK_EQ(op_slliw_31(1), 0xFFFFFFFF80000000UL);
    CHECK_EQ(op_srliw_0(0x180000000UL), 0xFFFFFFFF80000000UL);
    CHECK_EQ(op_sraiw_4(0x80000000UL), 0xFFFFFFFFF8000000UL);
}
#endif

int main(void)
{
    arithmetic();
    shifts();
    comparisons();
    multiply_divide();
    loads_stores();
    upper_immediates_and_branches();
#if XLEN == 64
    word_ops();
#endif
    return test_done();
}
