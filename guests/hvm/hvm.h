/* pvos's HVM flavour: the same apps on QEMU virt's machine (an HVM domain, docs/HVM.md) instead of Xen's
   PV interfaces. Booted by the Linux Image loader (head.S) with a0 = hart id, a1 = a device tree; no
   start_info, no hypercalls. Its console is the ns16550a UART, its disk virtio-blk and its NIC
   virtio-net (virtio-mmio version 2, served by qemu-dm), behind blkfront.h and net/net.h so blk-bench,
   blk-verify and the UDP apps run unchanged. One hart, satp = 0, polled I/O with the PLIC used only to
   wake a wait (no trap handlers: sstatus.SIE stays clear and wfi wakes on sie's bits). */
#pragma once
#include "os.h"

/* ---- the machine (QEMU virt as VirtLayout describes it) ---- */
#define UART_BASE 0x10000000UL
#define PLIC_BASE 0x0c000000UL
#define VIRTIO_MMIO_BASE 0x10001000UL
#define VIRTIO_MMIO_STRIDE 0x1000UL
#define VIRTIO_MMIO_SLOTS 8
#define VIRTIO_SLOT_IRQ(n) (1 + (n)) /* PLIC source of slot n */

static inline u32 mmio_read32(uintptr_t a) { u32 v = *(volatile u32 *)a; rmb(); return v; }
static inline void mmio_write32(uintptr_t a, u32 v) { wmb(); *(volatile u32 *)a = v; }
static inline u8 mmio_read8(uintptr_t a) { return *(volatile u8 *)a; }
static inline void mmio_write8(uintptr_t a, u8 v) { *(volatile u8 *)a = v; }

/* ---- boot (main.c, fdt.c) ---- */
/* The device tree's /chosen: bootargs (NULL if none) and where RAM use must stop (the tree and an initrd
   sit at the top of RAM); 0 if the blob is not a device tree. */
int fdt_chosen(const void *fdt, const char **bootargs, uintptr_t *initrd_start);
void hvm_mm_init(uintptr_t end);      /* mm.c: pages from __image_end up to end */
void uart_init(void);                 /* uart.c: printf goes to the UART from here on */

/* ---- waiting (time.c) ---- */
typedef void (*irq_handler_t)(void *data);
/* Routes PLIC source irq to handler, run by block_until when a wait ends on it (thread context). */
void plic_route(unsigned irq, irq_handler_t handler, void *data);
