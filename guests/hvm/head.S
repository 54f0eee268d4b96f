/* The Linux RISC-V Image header (Documentation/arch/riscv/boot-image-header.rst), 64 bytes at the start
   of the HVM flavour's text, so the HVM builder's Image loader boots pvos as it boots Linux: it reads
   text_offset (RAM + 2 MiB, where link.ld puts the text) and image_size (through .bss: the loader keeps
   that much free), and starts here with a0 = hart id, a1 = the device tree. code0 jumps over the
   header to crt0's _start, which follows it in .text.start (head.S is linked first). */
  .section .text.start, "ax"
  .global _image_head
_image_head:
  j _start                    /* code0 (and code1: a 2-byte c.j or a 4-byte jal, then padding) */
  .balign 8
  .quad 0x200000              /* text_offset */
  .quad __image_end - 0x80200000 /* image_size */
  .quad 0                     /* flags: little-endian */
  .word 2                     /* version 0.2 */
  .word 0                     /* res1 */
  .quad 0                     /* res2 */
  .ascii "RISCV\0\0\0"        /* magic, deprecated but what the loader checks first */
  .ascii "RSC\x05"            /* magic2 */
  .word 0                     /* res3: no PE header */
