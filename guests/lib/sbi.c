#include "sbi.h"

xlen_t boot_hart_id;

struct sbiret sbi_call(long ext, long fid, long a0, long a1, long a2)
{
    register long x10 asm("a0") = a0;
    register long x11 asm("a1") = a1;
    register long x12 asm("a2") = a2;
    register long x16 asm("a6") = fid;
    register long x17 asm("a7") = ext;
    asm volatile("ecall" : "+r"(x10), "+r"(x11) : "r"(x12), "r"(x16), "r"(x17) : "memory");
    return (struct sbiret){ x10, x11 };
}

long sbi_probe(long ext) { return sbi_call(SBI_EXT_BASE, 3, ext, 0, 0).value; }

void sbi_putchar(int c) { sbi_call(SBI_EXT_LEGACY_PUTCHAR, 0, c, 0, 0); }

int sbi_getchar(void) { return (int)sbi_call(SBI_EXT_LEGACY_GETCHAR, 0, 0, 0, 0).error; }

void sbi_set_timer(u64 deadline)
{
#if XLEN == 64
    sbi_call(SBI_EXT_TIME, 0, (long)deadline, 0, 0);
#else
    sbi_call(SBI_EXT_TIME, 0, (long)(u32)deadline, (long)(u32)(deadline >> 32), 0);
#endif
}

long sbi_send_ipi(xlen_t hart_mask, xlen_t hart_mask_base)
{
    return sbi_call(SBI_EXT_IPI, 0, (long)hart_mask, (long)hart_mask_base, 0).error;
}

void sbi_shutdown(long reason)
{
    sbi_call(SBI_EXT_SRST, 0, SBI_SRST_SHUTDOWN, reason, 0);
    for (;;) asm volatile("wfi");
}

void sbi_exit(int status) { sbi_shutdown(status == 0 ? SBI_SRST_REASON_NONE : SBI_SRST_REASON_FAILURE); }
