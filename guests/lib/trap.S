/* The one trap entry: every trap saves the whole integer state into a frame on the trap stack (sscratch),
   lets trap_dispatch read and change it (sepc, sstatus, registers), and returns with sret. The frame is
   how tests resume after a fault or leave U-mode (see run_user). */
#include "asm.h"
  .text
  .align 4
  .global trap_entry
trap_entry:
  csrrw sp, sscratch, sp
  addi sp, sp, -FRAME_SIZE
  REG_S x1, 1*REGBYTES(sp)
  REG_S x3, 3*REGBYTES(sp)
  REG_S x4, 4*REGBYTES(sp)
  REG_S x5, 5*REGBYTES(sp)
  REG_S x6, 6*REGBYTES(sp)
  REG_S x7, 7*REGBYTES(sp)
  REG_S x8, 8*REGBYTES(sp)
  REG_S x9, 9*REGBYTES(sp)
  REG_S x10, 10*REGBYTES(sp)
  REG_S x11, 11*REGBYTES(sp)
  REG_S x12, 12*REGBYTES(sp)
  REG_S x13, 13*REGBYTES(sp)
  REG_S x14, 14*REGBYTES(sp)
  REG_S x15, 15*REGBYTES(sp)
  REG_S x16, 16*REGBYTES(sp)
  REG_S x17, 17*REGBYTES(sp)
  REG_S x18, 18*REGBYTES(sp)
  REG_S x19, 19*REGBYTES(sp)
  REG_S x20, 20*REGBYTES(sp)
  REG_S x21, 21*REGBYTES(sp)
  REG_S x22, 22*REGBYTES(sp)
  REG_S x23, 23*REGBYTES(sp)
  REG_S x24, 24*REGBYTES(sp)
  REG_S x25, 25*REGBYTES(sp)
  REG_S x26, 26*REGBYTES(sp)
  REG_S x27, 27*REGBYTES(sp)
  REG_S x28, 28*REGBYTES(sp)
  REG_S x29, 29*REGBYTES(sp)
  REG_S x30, 30*REGBYTES(sp)
  REG_S x31, 31*REGBYTES(sp)
  csrr t0, sscratch
  REG_S t0, 2*REGBYTES(sp)
  csrr t0, sepc
  REG_S t0, FRAME_SEPC(sp)
  csrr t0, sstatus
  REG_S t0, FRAME_SSTATUS(sp)
  csrr t0, scause
  REG_S t0, FRAME_SCAUSE(sp)
  csrr t0, stval
  REG_S t0, FRAME_STVAL(sp)
  mv a0, sp
  call trap_dispatch
  REG_L t0, FRAME_SEPC(sp)
  csrw sepc, t0
  REG_L t0, FRAME_SSTATUS(sp)
  csrw sstatus, t0
  addi t0, sp, FRAME_SIZE
  csrw sscratch, t0
  REG_L x1, 1*REGBYTES(sp)
  REG_L x3, 3*REGBYTES(sp)
  REG_L x4, 4*REGBYTES(sp)
  REG_L x5, 5*REGBYTES(sp)
  REG_L x6, 6*REGBYTES(sp)
  REG_L x7, 7*REGBYTES(sp)
  REG_L x8, 8*REGBYTES(sp)
  REG_L x9, 9*REGBYTES(sp)
  REG_L x10, 10*REGBYTES(sp)
  REG_L x11, 11*REGBYTES(sp)
  REG_L x12, 12*REGBYTES(sp)
  REG_L x13, 13*REGBYTES(sp)
  REG_L x14, 14*REGBYTES(sp)
  REG_L x15, 15*REGBYTES(sp)
  REG_L x16, 16*REGBYTES(sp)
  REG_L x17, 17*REGBYTES(sp)
  REG_L x18, 18*REGBYTES(sp)
  REG_L x19, 19*REGBYTES(sp)
  REG_L x20, 20*REGBYTES(sp)
  REG_L x21, 21*REGBYTES(sp)
  REG_L x22, 22*REGBYTES(sp)
  REG_L x23, 23*REGBYTES(sp)
  REG_L x24, 24*REGBYTES(sp)
  REG_L x25, 25*REGBYTES(sp)
  REG_L x26, 26*REGBYTES(sp)
  REG_L x27, 27*REGBYTES(sp)
  REG_L x28, 28*REGBYTES(sp)
  REG_L x29, 29*REGBYTES(sp)
  REG_L x30, 30*REGBYTES(sp)
  REG_L x31, 31*REGBYTES(sp)
  REG_L x2, 2*REGBYTES(sp)
  sret

/* run_user(entry, arg): runs entry(arg) in U-mode with interrupts off. U code cannot return; the first
   trap it takes ends the run (trap_dispatch steers sepc to user_return) and run_user returns the scause. */
  .global run_user
run_user:
  la t0, user_context
  REG_S ra, 0*REGBYTES(t0)
  REG_S sp, 1*REGBYTES(t0)
  REG_S s0, 2*REGBYTES(t0)
  REG_S s1, 3*REGBYTES(t0)
  REG_S s2, 4*REGBYTES(t0)
  REG_S s3, 5*REGBYTES(t0)
  REG_S s4, 6*REGBYTES(t0)
  REG_S s5, 7*REGBYTES(t0)
  REG_S s6, 8*REGBYTES(t0)
  REG_S s7, 9*REGBYTES(t0)
  REG_S s8, 10*REGBYTES(t0)
  REG_S s9, 11*REGBYTES(t0)
  REG_S s10, 12*REGBYTES(t0)
  REG_S s11, 13*REGBYTES(t0)
  REG_S gp, 14*REGBYTES(t0)
  REG_S tp, 15*REGBYTES(t0)
  csrw sepc, a0
  li t0, (1 << 8) | (1 << 5)   /* SPP = U, SPIE = 0 */
  csrc sstatus, t0
  mv a0, a1
  sret

  .global user_return
user_return:
  mv t1, a0
  la t0, user_context
  REG_L ra, 0*REGBYTES(t0)
  REG_L sp, 1*REGBYTES(t0)
  REG_L s0, 2*REGBYTES(t0)
  REG_L s1, 3*REGBYTES(t0)
  REG_L s2, 4*REGBYTES(t0)
  REG_L s3, 5*REGBYTES(t0)
  REG_L s4, 6*REGBYTES(t0)
  REG_L s5, 7*REGBYTES(t0)
  REG_L s6, 8*REGBYTES(t0)
  REG_L s7, 9*REGBYTES(t0)
  REG_L s8, 10*REGBYTES(t0)
  REG_L s9, 11*REGBYTES(t0)
  REG_L s10, 12*REGBYTES(t0)
  REG_L s11, 13*REGBYTES(t0)
  REG_L gp, 14*REGBYTES(t0)
  REG_L tp, 15*REGBYTES(t0)
  mv a0, t1
  ret

  .bss
  .align 4
user_context:
  .space 16*REGBYTES
