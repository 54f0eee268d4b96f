/* Synchronous traps: illegal instructions (stval holds the instruction), breakpoints, ecall from U-mode,
   access faults outside memory, misaligned loads and stores (emulated: the right value, no trap), and
   privileged instructions from U-mode. Resumption after each trap is the handler's rule (trap.c). */
#include "test.h"

/* U-mode code, position independent, alone on its page (see link.ld). */
__attribute__((section(".user_text"), naked, noinline)) static void user_ecall(void) { asm volatile("li a7, 42\n ecall"); }
__attribute__((section(".user_text"), naked, noinline)) static void user_sret(void) { asm volatile("sret"); }
__attribute__((section(".user_text"), naked, noinline)) static void user_csr(void) { asm volatile("csrr a0, sstatus\n ecall"); }
__attribute__((section(".user_text"), naked, noinline)) static void user_wfi(void) { asm volatile("wfi\n ecall"); }
__attribute__((section(".user_text"), naked, noinline)) static void user_cycle(void) { asm volatile("csrr a0, instret\n ecall"); }

static void illegal_instructions(void)
{
    test_group("illegal instruction");
    xlen_t epc;
    trap_expect_reset();
    asm volatile("la %0, 1f\n1: .word 0xffffffff" : "=r"(epc));
    CHECK_EQ(last_trap.cause, EXC_ILLEGAL);
    CHECK_EQ(last_trap.epc, epc);
    CHECK_EQ(last_trap.tval, 0xffffffff);
    EXPECT_TRAP_TVAL(asm volatile(".word 0x0000006b"), EXC_ILLEGAL, 0x6b);      /* custom-2 opcode */
    EXPECT_TRAP_TVAL(asm volatile(".word 0xfe000033"), EXC_ILLEGAL, 0xfe000033); /* OP with funct7 0x7f */
    EXPECT_TRAP(asm volatile(".word 0x30200073"), EXC_ILLEGAL);                 /* mret from S-mode */
#if XLEN == 32
    EXPECT_TRAP(asm volatile(".word 0x0000003b"), EXC_ILLEGAL);                 /* addw does not exist on RV32 */
    EXPECT_TRAP(asm volatile(".word 0x02051513"), EXC_ILLEGAL);                 /* slli with shamt[5] set */
#endif
}

static void breakpoints_and_ecall(void)
{
    test_group("ebreak/ecall");
    xlen_t epc;
    trap_expect_reset();
    asm volatile("la %0, 1f\n .option push\n .option norvc\n1: ebreak\n .option pop" : "=r"(epc));
    CHECK_EQ(last_trap.count, 1);
    CHECK_EQ(last_trap.cause, EXC_BREAKPOINT);
    CHECK_EQ(last_trap.epc, epc);
    /* stval for EBREAK is zero or the breakpoint's address, the implementation's choice (priv. spec 4.1.9):
       we give the address, QEMU zero. */
    CHECK(last_trap.tval == epc || last_trap.tval == 0);
    /* ecall from U-mode reaches S-mode with cause 8 (S-mode ecalls go to the SBI, tested elsewhere). */
    trap_expect_reset();
    CHECK_EQ(run_user(user_ecall, 0), EXC_ECALL_U);
    CHECK_EQ(last_trap.epc, (xlen_t)user_ecall + 4);   /* after li a7, 42 (42 does not fit c.li) */
}

static void user_mode_privilege(void)
{
    test_group("U-mode privilege");
    CHECK_EQ(run_user(user_sret, 0), EXC_ILLEGAL);
    CHECK_EQ(run_user(user_csr, 0), EXC_ILLEGAL);
    CHECK_EQ(run_user(user_wfi, 0), EXC_ILLEGAL);
    /* Counters are readable in U-mode only when scounteren allows it. */
    csr_write(scounteren, 0);
    CHECK_EQ(run_user(user_cycle, 0), EXC_ILLEGAL);
    csr_write(scounteren, 7);
    CHECK_EQ(run_user(user_cycle, 0), EXC_ECALL_U);
}

static void access_faults(void)
{
    test_group("access faults");
    volatile u32 *nowhere = (volatile u32 *)0x200000;   /* no memory or device there on either machine */
    xlen_t v;
    EXPECT_TRAP_TVAL(v = *nowhere, EXC_LOAD_ACCESS, 0x200000);
    (void)v;
    EXPECT_TRAP_TVAL(*nowhere = 1, EXC_STORE_ACCESS, 0x200000);
    EXPECT_TRAP_TVAL(((void (*)(void))0x200000)(), EXC_INST_ACCESS, 0x200000);
}

static void misaligned_data(void)
{
    test_group("misaligned load/store");
    static u8 bytes[32] __attribute__((aligned(16)));
    for (int i = 0; i < 32; i++) bytes[i] = (u8)(i * 17 + 3);
    xlen_t v;
    EXPECT_NO_TRAP(asm volatile("lw %0, 1(%1)" : "=r"(v) : "r"(bytes)));
    CHECK_EQ(v, SEXT32(bytes[1] | bytes[2] << 8 | bytes[3] << 16 | (u32)bytes[4] << 24));
    EXPECT_NO_TRAP(asm volatile("lhu %0, 3(%1)" : "=r"(v) : "r"(bytes)));
    CHECK_EQ(v, bytes[3] | bytes[4] << 8);
    EXPECT_NO_TRAP(asm volatile("lh %0, 7(%1)" : "=r"(v) : "r"(bytes)));
    CHECK_EQ(v, (xlen_t)(sxlen_t)(s16)(bytes[7] | bytes[8] << 8));
    EXPECT_NO_TRAP(asm volatile("sw %1, 13(%0)" :: "r"(bytes), "r"((xlen_t)0xA1B2C3D4) : "memory"));
    CHECK_EQ(bytes[13], 0xD4); CHECK_EQ(bytes[14], 0xC3); CHECK_EQ(bytes[15], 0xB2); CHECK_EQ(bytes[16], 0xA1);
    EXPECT_NO_TRAP(asm volatile("sh %1, 21(%0)" :: "r"(bytes), "r"((xlen_t)0xBEEF) : "memory"));
    CHECK_EQ(bytes[21], 0xEF); CHECK_EQ(bytes[22], 0xBE);
#if XLEN == 64
    EXPECT_NO_TRAP(asm volatile("sd %1, 3(%0)" :: "r"(bytes), "r"(0x0102030405060708UL) : "memory"));
    EXPECT_NO_TRAP(asm volatile("ld %0, 3(%1)" : "=r"(v) : "r"(bytes)));
    CHECK_EQ(v, 0x0102030405060708UL);
    CHECK_EQ(bytes[3], 0x08); CHECK_EQ(bytes[10], 0x01);
#endif
}

int main(void)
{
    illegal_instructions();
    breakpoints_and_ecall();
    user_mode_privilege();
    access_faults();
    misaligned_data();
    return test_done();
}
