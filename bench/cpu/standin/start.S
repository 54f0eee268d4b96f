.section .text.start
.global _start
_start: la sp, stack_top
  call main_
1: j 1b
.bss
.space 16384
stack_top:
