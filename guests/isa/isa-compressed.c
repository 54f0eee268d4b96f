/* C extension: each compressed instruction, written explicitly, computes what its 32-bit expansion would,
   including the sign and zero extension of its short immediates; the all-zero halfword is illegal;
   c.ebreak traps with a 2-byte length. */
#include "test.h"

#define C1(name, body) static xlen_t name(xlen_t a) { register xlen_t x asm("a0") = a; \
    asm volatile(".option push\n.option rvc\n" body "\n.option pop" : "+r"(x) :: "memory"); return x; }
#define C2(name, body) static xlen_t name(xlen_t a, xlen_t b) { register xlen_t x asm("a0") = a; \
    register xlen_t y asm("a1") = b; \
    asm volatile(".option push\n.option rvc\n" body "\n.option pop" : "+r"(x) : "r"(y) : "memory"); return x; }

C1(c_li, "c.li a0, -32") C1(c_addi, "c.addi a0, -1") C1(c_lui, "c.lui a0, 0xfffff") C1(c_lui_pos, "c.lui a0, 1")
C1(c_srli, "c.srli a0, 4") C1(c_srai, "c.srai a0, 4") C1(c_andi, "c.andi a0, -2") C1(c_slli, "c.slli a0, 3")
C2(c_mv, "c.mv a0, a1") C2(c_add, "c.add a0, a1") C2(c_sub, "c.sub a0, a1") C2(c_xor, "c.xor a0, a1")
C2(c_or, "c.or a0, a1") C2(c_and, "c.and a0, a1")
#if XLEN == 64
C1(c_addiw, "c.addiw a0, 1") C2(c_addw, "c.addw a0, a1") C2(c_subw, "c.subw a0, a1")
#endif

static void alu(void)
{
    test_group("c alu");
    CHECK_EQ(c_li(0), (xlen_t)-32);
    CHECK_EQ(c_addi(0), (xlen_t)-1);
    CHECK_EQ(c_lui(0), (xlen_t)-4096);          /* nzimm sign-extended from bit 17 */
    CHECK_EQ(c_lui_pos(0), 4096);
    CHECK_EQ(c_srli((xlen_t)-1), (xlen_t)-1 >> 4);
    CHECK_EQ(c_srai((xlen_t)-256), (xlen_t)-16);
    CHECK_EQ(c_andi(7), 6);
    CHECK_EQ(c_slli(5), 40);
    CHECK_EQ(c_mv(1, 99), 99);
    CHECK_EQ(c_add(40, 2), 42);
    CHECK_EQ(c_sub(40, 2), 38);
    CHECK_EQ(c_xor(0xF0, 0xFF), 0x0F);
    CHECK_EQ(c_or(0xF0, 0x0F), 0xFF);
    CHECK_EQ(c_and(0xF0, 0x3C), 0x30);
#if XLEN == 64
    CHECK_EQ(c_addiw(0x7FFFFFFF), 0xFFFFFFFF80000000UL);
    CHECK_EQ(c_addw(0x7FFFFFFF, 1), 0xFFFFFFFF80000000UL);
    CHECK_EQ(c_subw(0x80000000UL, 1), 0x7FFFFFFF);
#endif
}

static void memory(void)
{
    test_group("c loads/stores");
    static volatile xlen_t slots[8] __attribute__((aligned(16)));
    static volatile double fslots[2] __attribute__((aligned(16)));
    /* c.lw/c.sw/c.ld/c.sd only name x8-x15: pin the operands there. */
    register xlen_t base asm("a4") = (xlen_t)slots;
    register xlen_t v asm("a3");
    asm volatile(".option push\n.option rvc\n c.li a5, -1\n c.sw a5, 4(a4)\n c.lw a3, 4(a4)\n.option pop"
                 : "=r"(v) : "r"(base) : "a5", "memory");
    CHECK_EQ(v, (xlen_t)-1);                    /* c.lw sign-extends */
#if XLEN == 64
    asm volatile(".option push\n.option rvc\n c.li a5, -2\n c.sd a5, 16(a4)\n c.ld a3, 16(a4)\n.option pop"
                 : "=r"(v) : "r"(base) : "a5", "memory");
    CHECK_EQ(v, (xlen_t)-2);
#endif
    fslots[1] = 0;
    double d = 2.5, back = 0;
    register xlen_t fbase asm("a4") = (xlen_t)fslots;
    asm volatile(".option push\n.option rvc\n fld fa5, %2\n c.fsd fa5, 8(a4)\n c.fld fa4, 8(a4)\n fsd fa4, %0\n.option pop"
                 : "=m"(back) : "r"(fbase), "m"(d) : "fa4", "fa5", "memory");
    CHECK(back == 2.5);
    /* Stack-pointer relative forms on a scratch stack. */
    static xlen_t scratch[16] __attribute__((aligned(16)));
    xlen_t w;
    asm volatile(".option push\n.option rvc\n mv t0, sp\n mv sp, %1\n c.li a5, 7\n c.swsp a5, 8(sp)\n"
                 " c.lwsp %0, 8(sp)\n c.addi16sp sp, 32\n c.addi4spn a5, sp, 16\n sub a5, a5, %1\n add %0, %0, a5\n"
                 " mv sp, t0\n.option pop"
                 : "=&r"(w) : "r"(scratch) : "t0", "a5", "memory");
    CHECK_EQ(w, 7 + 32 + 16);
}

static void control(void)
{
    test_group("c control flow");
    xlen_t v;
    asm volatile(".option push\n.option rvc\n c.li %0, 1\n c.j 1f\n c.li %0, 2\n1:\n.option pop" : "=r"(v));
    CHECK_EQ(v, 1);
    asm volatile(".option push\n.option rvc\n c.li a5, 0\n c.li %0, 3\n c.beqz a5, 1f\n c.li %0, 4\n1:\n.option pop" : "=&r"(v) :: "a5");
    CHECK_EQ(v, 3);
    asm volatile(".option push\n.option rvc\n c.li a5, 1\n c.li %0, 3\n c.bnez a5, 1f\n c.li %0, 4\n1:\n.option pop" : "=&r"(v) :: "a5");
    CHECK_EQ(v, 3);
    /* c.jalr links pc + 2; c.jr jumps without linking. */
    xlen_t link, target;
    asm volatile(".option push\n.option rvc\n la %1, 2f\n c.mv t0, ra\n c.jalr %1\n1: j 3f\n2: mv %0, ra\n c.mv ra, t0\n"
                 " la t1, 1b\n sub %0, %0, t1\n la t1, 3f\n c.jr t1\n3:\n.option pop"
                 : "=&r"(link), "=&r"(target) :: "t0", "t1", "ra");
    CHECK_EQ(link, 0);
}

static void traps(void)
{
    test_group("c traps");
    EXPECT_TRAP(asm volatile(".2byte 0x0000"), EXC_ILLEGAL);
    xlen_t before, after;
    trap_expect_reset();
    asm volatile(".option push\n.option rvc\n la %0, 1f\n1: c.ebreak\n la %1, 2f\n2:\n.option pop" : "=&r"(before), "=&r"(after));
    CHECK_EQ(last_trap.cause, EXC_BREAKPOINT);
    CHECK_EQ(last_trap.epc, before);
    CHECK_EQ(last_trap.count, 1);
}

int main(void)
{
    alu();
    memory();
    control();
    traps();
    return test_done();
}
