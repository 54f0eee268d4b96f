/* CSR access and the S-mode bits the guest software uses. */
#pragma once
#include "types.h"

#define csr_read(csr) ({ xlen_t v_; asm volatile("csrr %0, " #csr : "=r"(v_) :: "memory"); v_; })
#define csr_write(csr, val) ({ asm volatile("csrw " #csr ", %0" :: "rK"((xlen_t)(val)) : "memory"); })
#define csr_set(csr, bits) ({ asm volatile("csrs " #csr ", %0" :: "rK"((xlen_t)(bits)) : "memory"); })
#define csr_clear(csr, bits) ({ asm volatile("csrc " #csr ", %0" :: "rK"((xlen_t)(bits)) : "memory"); })
#define csr_swap(csr, val) ({ xlen_t v_; asm volatile("csrrw %0, " #csr ", %1" : "=r"(v_) : "rK"((xlen_t)(val)) : "memory"); v_; })

#define SSTATUS_SIE  (1UL << 1)
#define SSTATUS_SPIE (1UL << 5)
#define SSTATUS_SPP  (1UL << 8)
#define SSTATUS_FS   (3UL << 13)
#define SSTATUS_FS_INITIAL (1UL << 13)
#define SSTATUS_SUM  (1UL << 18)
#define SSTATUS_MXR  (1UL << 19)

#define SIE_SSIE (1UL << 1)
#define SIE_STIE (1UL << 5)
#define SIE_SEIE (1UL << 9)

#define CAUSE_INTERRUPT (1UL << (XLEN - 1))
#define IRQ_S_SOFT  1
#define IRQ_S_TIMER 5
#define IRQ_S_EXT   9

#define EXC_INST_MISALIGNED  0
#define EXC_INST_ACCESS      1
#define EXC_ILLEGAL          2
#define EXC_BREAKPOINT       3
#define EXC_LOAD_MISALIGNED  4
#define EXC_LOAD_ACCESS      5
#define EXC_STORE_MISALIGNED 6
#define EXC_STORE_ACCESS     7
#define EXC_ECALL_U          8
#define EXC_ECALL_S          9
#define EXC_INST_PAGE_FAULT  12
#define EXC_LOAD_PAGE_FAULT  13
#define EXC_STORE_PAGE_FAULT 15

static inline u64 read_time(void)
{
#if XLEN == 64
    return csr_read(time);
#else
    u32 hi, lo, hi2;
    do { hi = csr_read(timeh); lo = csr_read(time); hi2 = csr_read(timeh); } while (hi != hi2);
    return ((u64)hi << 32) | lo;
#endif
}

static inline u64 read_instret(void)
{
#if XLEN == 64
    return csr_read(instret);
#else
    u32 hi, lo, hi2;
    do { hi = csr_read(instreth); lo = csr_read(instret); hi2 = csr_read(instreth); } while (hi != hi2);
    return ((u64)hi << 32) | lo;
#endif
}

static inline u64 read_cycle(void)
{
#if XLEN == 64
    return csr_read(cycle);
#else
    u32 hi, lo, hi2;
    do { hi = csr_read(cycleh); lo = csr_read(cycle); hi2 = csr_read(cycleh); } while (hi != hi2);
    return ((u64)hi << 32) | lo;
#endif
}
