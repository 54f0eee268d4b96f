/* msbi: the least M-mode SBI firmware that runs our S-mode guests on qemu-system-riscv32 -machine virt
   (Debian ships OpenSBI for RV64 only). QEMU's reset code enters here (the -bios image at 0x80000000)
   with a0 = hart id, a1 = device tree, a2 = fw_dynamic_info, whose next_addr is the -kernel ELF's entry.
   It opens PMP, delegates every trap but ecall-from-S to S-mode and enters the guest in S-mode. Its
   ecalls: legacy putchar/getchar, BASE, TIME (CLINT mtimecmp; the M timer interrupt becomes STIP),
   SRST (the virt machine's test finisher) and DBCN writes. One hart (QEMU's default -smp 1). */
#define UART        0x10000000
#define FINISHER    0x00100000
#define MTIMECMP    0x02004000
#define MIP_STIP    (1 << 5)
#define MIE_MTIE    (1 << 7)

  .section .text.start, "ax"
  .global _start
_start:
  lw s0, 8(a2)              /* fw_dynamic_info.next_addr */
  la sp, stack_top
  csrw mscratch, sp
  la t0, trap
  csrw mtvec, t0
  li t0, -1
  csrw pmpaddr0, t0
  li t0, 0x1f               /* NAPOT over everything, R W X */
  csrw pmpcfg0, t0
  li t0, 0xb1ff             /* every exception but ecall from S and M (9, 11) and 10, 14 (reserved) */
  csrw medeleg, t0
  li t0, 0x222              /* SSIP, STIP, SEIP */
  csrw mideleg, t0
  li t0, 7
  csrw mcounteren, t0
  li t0, -1                 /* no timer until the guest asks */
  li t1, MTIMECMP
  sw t0, 0(t1)
  sw t0, 4(t1)
  li t0, (3 << 11)
  csrc mstatus, t0
  li t0, (1 << 11)          /* MPP = S */
  csrs mstatus, t0
  csrw mepc, s0
  li s0, 0
  mret

  .align 4
trap:
  csrrw sp, mscratch, sp
  addi sp, sp, -32
  sw t0, 0(sp)
  sw t1, 4(sp)
  sw t2, 8(sp)
  sw ra, 12(sp)
  sw a3, 16(sp)
  csrr t0, mcause
  bltz t0, interrupt
  li t1, 9
  bne t0, t1, fatal
  jal ra, ecall
  csrr t0, mepc
  addi t0, t0, 4
  csrw mepc, t0
  j out
interrupt:
  li t1, MIE_MTIE           /* the guest's timer: hand it over as STIP, mask until the next set_timer */
  csrc mie, t1
  li t1, MIP_STIP
  csrs mip, t1
out:
  lw t0, 0(sp)
  lw t1, 4(sp)
  lw t2, 8(sp)
  lw ra, 12(sp)
  lw a3, 16(sp)
  addi sp, sp, 32
  csrrw sp, mscratch, sp
  mret

fatal:                      /* an M-mode fault: report and stop QEMU with a failure code */
  li a0, '!'
  jal ra, putc
  li t1, FINISHER
  li t0, 0x23333
  sw t0, 0(t1)
1:j 1b

/* a7 = extension, a6 = function; returns a0 = error, a1 = value. Uses t0-t2, a3, ra only (saved). */
ecall:
  li t0, 0x01
  beq a7, t0, legacy_putchar
  li t0, 0x02
  beq a7, t0, legacy_getchar
  li t0, 0x10
  beq a7, t0, base
  li t0, 0x54494D45
  beq a7, t0, time
  li t0, 0x53525354
  beq a7, t0, srst
  li t0, 0x4442434E
  beq a7, t0, dbcn
unsupported:
  li a0, -2
  ret
legacy_putchar:
  mv t2, ra
  jal ra, putc
  mv ra, t2
  li a0, 0
  ret
legacy_getchar:
  li a0, -1
  ret
base:
  li a1, 0
  li t0, 3                  /* probe_extension */
  beq a6, t0, probe
  bnez a6, 1f
  li a1, 0x01000000         /* spec version 1.0 */
1:li a0, 0
  ret
probe:
  li t0, 0x54494D45
  beq a0, t0, 2f
  li t0, 0x53525354
  beq a0, t0, 2f
  li t0, 0x4442434E
  beq a0, t0, 2f
  li t0, 0x10
  beq a0, t0, 2f
  li a0, 0
  ret
2:li a1, 1
  li a0, 0
  ret
time:
  bnez a6, unsupported
  li t0, MTIMECMP
  li t1, -1
  sw t1, 0(t0)              /* no spurious match while the halves change */
  sw a1, 4(t0)
  sw a0, 0(t0)
  li t0, MIP_STIP
  csrc mip, t0
  li t0, MIE_MTIE
  csrs mie, t0
  li a0, 0
  ret
srst:
  bnez a6, unsupported
  li t1, FINISHER
  li t0, 0x5555             /* pass */
  beqz a1, 3f
  li t0, 0x13333            /* fail, exit code 1 */
3:sw t0, 0(t1)
4:j 4b
dbcn:
  li t0, 2
  beq a6, t0, dbcn_byte
  bnez a6, unsupported      /* only write (0) and write_byte (2) */
  mv t2, ra
  mv t0, a1                 /* physical base (low half; RAM is below 4 GiB) */
  mv a3, a0                 /* every byte is written: the count returned is num_bytes */
  add a1, a1, a0
5:beq t0, a1, 6f
  lbu a0, 0(t0)
  jal ra, putc
  addi t0, t0, 1
  j 5b
6:mv a1, a3
  mv ra, t2
  li a0, 0
  ret
dbcn_byte:
  mv t2, ra
  jal ra, putc
  mv ra, t2
  li a0, 0
  li a1, 0
  ret

/* putc: a0 to the 16550 when its transmitter is empty. Uses t1 only. */
putc:
  li t1, UART
7:lbu t1, 5(t1)
  andi t1, t1, 0x20
  bnez t1, 8f
  li t1, UART
  j 7b
8:li t1, UART
  sb a0, 0(t1)
  ret

  .bss
  .align 4
  .space 1024
stack_top:
