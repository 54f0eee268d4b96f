/* Entry from the SBI firmware (disagg-kernel, or OpenSBI on QEMU): a0 = hart id, a1 = device tree or 0.
   Sets up the stack, clears .bss, installs the trap vector with its own stack in sscratch, turns the FPU
   on (sstatus.FS = Initial), runs main and reports its result through SBI SRST. */
#include "asm.h"
  .section .text.start, "ax"
  .global _start
_start:
  la sp, boot_stack_top
  mv s0, a0
  mv s1, a1
  la t0, __bss_start
  la t1, __bss_end
1:bgeu t0, t1, 2f
  REG_S zero, 0(t0)
  addi t0, t0, REGBYTES
  j 1b
2:la t0, trap_entry
  csrw stvec, t0
  la t0, trap_stack_top
  csrw sscratch, t0
  li t0, (1 << 13)
  csrs sstatus, t0
  fscsr zero
  la t0, boot_hart_id
  REG_S s0, 0(t0)
  mv a0, s0
  mv a1, s1
  call main
  call sbi_exit
3:j 3b

  .bss
  .align 4
  .space 32768
boot_stack_top:
  .space 8192
trap_stack_top:
