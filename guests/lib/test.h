/* The ISA suite's harness: checks count and report; test_done() prints the verdict and the program
   exits through SBI SRST with reason 0 (pass) or 1 (failure), which run-elf turns into its exit code. */
#pragma once
#include "types.h"
#include "console.h"
#include "trap.h"

void test_group(const char *name);
void test_check(int ok, const char *what, const char *file, int line);
void test_check_eq(u64 got, u64 want, const char *what, const char *file, int line);
int test_done(void);

#define CHECK(cond) test_check(!!(cond), #cond, __FILE__, __LINE__)
#define CHECK_EQ(got, want) test_check_eq((u64)(got), (u64)(want), #got " == " #want, __FILE__, __LINE__)
/* Runs STMT and checks that it trapped exactly once with CAUSE (and stval TVAL when given). */
#define EXPECT_TRAP(stmt, cause_) do { trap_expect_reset(); stmt; \
    CHECK_EQ(last_trap.count, 1); CHECK_EQ(last_trap.cause, (cause_)); } while (0)
#define EXPECT_TRAP_TVAL(stmt, cause_, tval_) do { trap_expect_reset(); stmt; \
    CHECK_EQ(last_trap.count, 1); CHECK_EQ(last_trap.cause, (cause_)); CHECK_EQ(last_trap.tval, (xlen_t)(tval_)); } while (0)
#define EXPECT_NO_TRAP(stmt) do { trap_expect_reset(); stmt; CHECK_EQ(last_trap.count, 0); } while (0)

/* A check where QEMU 7.2 (the reference we compare with) is known to break the spec: on our firmware an
   ordinary check; on OpenSBI a miss is printed as a known difference and not counted (docs/GUESTS.md). */
void test_check_spec(int ok, const char *what, const char *file, int line);
#define CHECK_SPEC(cond) test_check_spec(!!(cond), #cond, __FILE__, __LINE__)
#define EXPECT_TRAP_TVAL_SPEC(stmt, cause_, tval_) do { trap_expect_reset(); stmt; \
    CHECK_SPEC(last_trap.count == 1 && last_trap.cause == (cause_) && last_trap.tval == (xlen_t)(tval_)); } while (0)

/* Sign-extend a 32-bit value to the register width (what W ops produce on RV64). */
#define SEXT32(v) ((xlen_t)(sxlen_t)(s32)(v))
