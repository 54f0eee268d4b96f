/* SBI calls (v2.0 calling convention: a7 = extension, a6 = function, a0/a1 = error/value). */
#pragma once
#include "types.h"

#define SBI_EXT_LEGACY_PUTCHAR 0x01
#define SBI_EXT_LEGACY_GETCHAR 0x02
#define SBI_EXT_BASE 0x10
#define SBI_EXT_TIME 0x54494D45
#define SBI_EXT_IPI  0x735049
#define SBI_EXT_RFENCE 0x52464E43
#define SBI_EXT_HSM  0x48534D
#define SBI_EXT_SRST 0x53525354
#define SBI_EXT_DBCN 0x4442434E

#define SBI_SUCCESS 0
#define SBI_ERR_FAILED -1
#define SBI_ERR_NOT_SUPPORTED -2
#define SBI_ERR_INVALID_PARAM -3

#define SBI_SRST_SHUTDOWN 0
#define SBI_SRST_COLD_REBOOT 1
#define SBI_SRST_REASON_NONE 0
#define SBI_SRST_REASON_FAILURE 1

struct sbiret { long error; long value; };

struct sbiret sbi_call(long ext, long fid, long a0, long a1, long a2);
long sbi_probe(long ext);
void sbi_putchar(int c);
int sbi_getchar(void);
void sbi_set_timer(u64 deadline);
long sbi_send_ipi(xlen_t hart_mask, xlen_t hart_mask_base);
__attribute__((noreturn)) void sbi_shutdown(long reason);
__attribute__((noreturn)) void sbi_exit(int status);
extern xlen_t boot_hart_id;
