/* Width-neutral assembler helpers: one source for RV64 and RV32. */
#pragma once
#if __riscv_xlen == 64
#define REG_S sd
#define REG_L ld
#define REGBYTES 8
#else
#define REG_S sw
#define REG_L lw
#define REGBYTES 4
#endif
/* Trap frame: x0..x31 at i*REGBYTES (x0 slot unused, x2 holds the interrupted sp), then these. */
#define FRAME_SEPC    (32 * REGBYTES)
#define FRAME_SSTATUS (33 * REGBYTES)
#define FRAME_SCAUSE  (34 * REGBYTES)
#define FRAME_STVAL   (35 * REGBYTES)
#define FRAME_SIZE    (36 * REGBYTES)
