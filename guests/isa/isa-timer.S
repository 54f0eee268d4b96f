/* A vectored trap table for isa-timer: entry k notes k in last_vector, then joins the common trap entry. */
#include "asm.h"
  .text
  .align 8
  .global vector_table
vector_table:
  .option push
  .option norvc
  .irp k, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
  j vector_\k
  .endr
  .option pop

  .irp k, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
vector_\k:
  csrrw sp, sscratch, sp
  addi sp, sp, -16
  REG_S t0, 0(sp)
  REG_S t1, REGBYTES(sp)
  la t0, last_vector
  li t1, \k
  REG_S t1, 0(t0)
  REG_L t0, 0(sp)
  REG_L t1, REGBYTES(sp)
  addi sp, sp, 16
  csrrw sp, sscratch, sp
  j trap_entry
  .endr
