/* The console: QEMU virt's ns16550a at 0x1000_0000 (reg-shift 0), emulated by qemu-dm. Output only.
   Every register access is an I/O request answered by qemu-dm, so the transmitter is checked once per
   16 bytes: THRE set means the 16550A's 16-byte FIFO is empty. */
#include "hvm.h"

#define UART_THR 0
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_LSR 5
#define LSR_THRE 0x20
#define FIFO_BYTES 16

static void uart_sink(const char *text, size_t length)
{
    size_t room = 0;
    for (size_t i = 0; i < length; i++) {
        if (text[i] == '\n') {
            /* as a terminal expects: CR before LF */
            while (!room) room = (mmio_read8(UART_BASE + UART_LSR) & LSR_THRE) ? FIFO_BYTES : 0;
            mmio_write8(UART_BASE + UART_THR, '\r');
            room--;
        }
        while (!room) room = (mmio_read8(UART_BASE + UART_LSR) & LSR_THRE) ? FIFO_BYTES : 0;
        mmio_write8(UART_BASE + UART_THR, (u8)text[i]);
        room--;
    }
}

void uart_init(void)
{
    mmio_write8(UART_BASE + UART_IER, 0);    /* no interrupts: output is polled */
    mmio_write8(UART_BASE + UART_LCR, 0x03); /* 8N1, divisor latch off */
    mmio_write8(UART_BASE + UART_FCR, 0x01); /* FIFOs on */
    console_sink = uart_sink;
}
