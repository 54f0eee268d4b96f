/* Entry, trap frame save/restore and a user-mode page for privileged-differential.c. */
.section .text.start
.global _start
_start:
  la sp, stack_top
  la t0, trap_entry
  csrw stvec, t0
  call main_
1: j 1b
.align 4
.global trap_entry
trap_entry:
  addi sp, sp, -256
  sd ra, 0(sp)
  sd a0, 8(sp)
  sd a1, 16(sp)
  sd a2, 24(sp)
  sd a3, 32(sp)
  sd a4, 40(sp)
  sd a5, 48(sp)
  sd a6, 56(sp)
  sd a7, 64(sp)
  sd t0, 72(sp)
  sd t1, 80(sp)
  sd t2, 88(sp)
  sd t3, 96(sp)
  sd t4, 104(sp)
  sd t5, 112(sp)
  sd t6, 120(sp)
  call trap_c
  ld ra, 0(sp)
  ld a0, 8(sp)
  ld a1, 16(sp)
  ld a2, 24(sp)
  ld a3, 32(sp)
  ld a4, 40(sp)
  ld a5, 48(sp)
  ld a6, 56(sp)
  ld a7, 64(sp)
  ld t0, 72(sp)
  ld t1, 80(sp)
  ld t2, 88(sp)
  ld t3, 96(sp)
  ld t4, 104(sp)
  ld t5, 112(sp)
  ld t6, 120(sp)
  addi sp, sp, 256
  sret
.global user_code
.align 12
user_code:
  li a0, 7
  ecall
  ld a1, 0(zero)
  j user_code
.align 12
.bss
.space 16384
stack_top:
