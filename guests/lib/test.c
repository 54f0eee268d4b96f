#include "test.h"
#include "sbi.h"

static const char *group = "";
static unsigned checks, failures;

void test_group(const char *name) { group = name; }

void test_check(int ok, const char *what, const char *file, int line)
{
    checks++;
    if (!ok) {
        failures++;
        printf("FAIL [%s] %s:%d: %s\n", group, file, line, what);
    }
}

void test_check_eq(u64 got, u64 want, const char *what, const char *file, int line)
{
    checks++;
    if (got != want) {
        failures++;
        printf("FAIL [%s] %s:%d: %s: got 0x%llx want 0x%llx\n", group, file, line, what, got, want);
    }
}

int test_done(void)
{
    printf("%s: %u checks, %u failed (rv%d)\n", failures ? "FAIL" : "PASS", checks, failures, XLEN);
    return failures ? 1 : 0;
}
