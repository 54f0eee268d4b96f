/* Zifencei and self-modifying code: code written to memory runs as written after FENCE.I, however often
   it is rewritten, including a rewritten instruction inside a loop that is already running hot. */
#include "test.h"

static u32 code[16] __attribute__((aligned(64)));
typedef xlen_t (*fn_t)(void);

static u32 addi_a0(int imm) { return ((u32)(imm & 0xFFF) << 20) | (10u << 7) | 0x13; }   /* addi a0, zero, imm */
#define RET 0x00008067u                                                                 /* jalr x0, 0(ra) */

int main(void)
{
    test_group("fence.i");
    code[0] = addi_a0(1);
    code[1] = RET;
    asm volatile("fence.i" ::: "memory");
    CHECK_EQ(((fn_t)code)(), 1);
    code[0] = addi_a0(2);
    asm volatile("fence.i" ::: "memory");
    CHECK_EQ(((fn_t)code)(), 2);
    /* Rewrite and run the same code many times: no stale decoded copy survives a store. */
    unsigned wrong = 0;
    for (int i = 0; i < 500; i++) {
        code[0] = addi_a0(i);
        asm volatile("fence.i" ::: "memory");
        if (((fn_t)code)() != (xlen_t)i) wrong++;
    }
    CHECK_EQ(wrong, 0);
    /* A two-instruction body: addi a0, a0, 3 then ret, called after a0 is set by the caller. */
    code[0] = 0x00350513u;   /* addi a0, a0, 3 */
    code[1] = RET;
    asm volatile("fence.i" ::: "memory");
    xlen_t v;
    asm volatile("li a0, 10\n jalr ra, 0(%1)\n mv %0, a0" : "=r"(v) : "r"(code) : "a0", "ra", "memory");
    CHECK_EQ(v, 13);
    return test_done();
}
