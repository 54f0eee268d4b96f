/* The SBI as a guest sees it: base extension queries, probing what exists and what does not, the
   NOT_SUPPORTED answer for unknown extensions and functions, HSM status, remote fences, and DBCN writes
   where the firmware offers DBCN. */
#include "test.h"
#include "sbi.h"
#include "string.h"

static void base(void)
{
    test_group("base");
    struct sbiret r = sbi_call(SBI_EXT_BASE, 0, 0, 0, 0);           /* spec version */
    CHECK_EQ(r.error, 0);
    CHECK(r.value >= 2);                                            /* at least 0.2 */
    CHECK_EQ(sbi_call(SBI_EXT_BASE, 1, 0, 0, 0).error, 0);          /* implementation id */
    CHECK(sbi_probe(SBI_EXT_TIME) != 0);
    CHECK(sbi_probe(SBI_EXT_IPI) != 0);
    CHECK(sbi_probe(SBI_EXT_RFENCE) != 0);
    CHECK(sbi_probe(SBI_EXT_HSM) != 0);
    CHECK(sbi_probe(SBI_EXT_SRST) != 0);
    CHECK_EQ(sbi_probe(0x0A000001), 0);                             /* nobody's extension */
    CHECK_EQ(sbi_call(0x0A000001, 0, 0, 0, 0).error, SBI_ERR_NOT_SUPPORTED);
    CHECK_EQ(sbi_call(SBI_EXT_BASE, 99, 0, 0, 0).error, SBI_ERR_NOT_SUPPORTED);
    CHECK_EQ(sbi_call(SBI_EXT_TIME, 7, 0, 0, 0).error, SBI_ERR_NOT_SUPPORTED);
}

static void hsm_and_fences(void)
{
    test_group("hsm/rfence");
    struct sbiret r = sbi_call(SBI_EXT_HSM, 2, (long)boot_hart_id, 0, 0);   /* hart_get_status */
    CHECK_EQ(r.error, 0);
    CHECK_EQ(r.value, 0);                                           /* STARTED */
    CHECK_EQ(sbi_call(SBI_EXT_HSM, 2, 4000, 0, 0).error, SBI_ERR_INVALID_PARAM);
    CHECK_EQ(sbi_call(SBI_EXT_RFENCE, 0, 1, (long)boot_hart_id, 0).error, 0);     /* remote fence.i */
    CHECK_EQ(sbi_call(SBI_EXT_RFENCE, 1, 1, (long)boot_hart_id, 0).error, 0);     /* sfence.vma, start 0, size 0 */
    CHECK_EQ(sbi_call(SBI_EXT_TIME, 0, -1, XLEN == 32 ? -1 : 0, 0).error, 0);     /* set_timer(never) */
}

static void debug_console(void)
{
    test_group("dbcn");
    if (sbi_probe(SBI_EXT_DBCN) == 0) {
        printf("(the firmware has no DBCN; the legacy console carried this output)\n");
        return;
    }
    static const char text[] = "written through DBCN\n";
    struct sbiret r = sbi_call(SBI_EXT_DBCN, 0, (long)sizeof text - 1, (long)(xlen_t)text, 0);
    CHECK_EQ(r.error, 0);
    CHECK_EQ(r.value, sizeof text - 1);
    r = sbi_call(SBI_EXT_DBCN, 2, '!', 0, 0);                      /* write_byte */
    CHECK_EQ(r.error, 0);
    sbi_putchar('\n');
}

int main(void)
{
    base();
    hsm_and_fences();
    debug_console();
    return test_done();
}
