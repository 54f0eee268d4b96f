/* Time and waiting in the HVM flavour: the time CSR at the board's 10 MHz timebase, the SBI timer, and
   wfi. No trap handlers: sstatus.SIE stays clear, sie enables the timer and external interrupts only
   around wfi (which wakes on a pending enabled interrupt whatever SIE says), and a wait that ends on the
   PLIC claims the source and runs its routed handler here, in thread context. */
#include "hvm.h"
#include "sbi.h"

#define PLIC_PRIORITY(irq) (PLIC_BASE + 4 * (irq))
/* One context per hart, its S-mode (the kernel's device tree lists only <&intcH 9>): context = hart id. */
#define PLIC_ENABLE(ctx, irq) (PLIC_BASE + 0x2000 + 0x80 * (ctx) + 4 * ((irq) / 32))
#define PLIC_THRESHOLD(ctx) (PLIC_BASE + 0x200000 + 0x1000 * (ctx))
#define PLIC_CLAIM(ctx) (PLIC_THRESHOLD(ctx) + 4)
#define PLIC_SOURCES 96
#define NS_PER_TICK (1000000000ULL / TIMEBASE_HZ)

static struct { irq_handler_t handler; void *data; } routes[PLIC_SOURCES];

u64 monotonic_ns(void) { return read_time() * NS_PER_TICK; }

void plic_route(unsigned irq, irq_handler_t handler, void *data)
{
    if (irq == 0 || irq >= PLIC_SOURCES) return;
    unsigned ctx = (unsigned)boot_hart_id;
    routes[irq].handler = handler;
    routes[irq].data = data;
    mmio_write32(PLIC_PRIORITY(irq), 1);
    mmio_write32(PLIC_ENABLE(ctx, irq), mmio_read32(PLIC_ENABLE(ctx, irq)) | 1u << (irq % 32));
    mmio_write32(PLIC_THRESHOLD(ctx), 0);
}

/* Claims and handles every source the PLIC has for us. The PLIC is the kernel's: these accesses are not
   I/O requests. */
static void plic_dispatch(void)
{
    unsigned ctx = (unsigned)boot_hart_id;
    for (int n = 0; n < PLIC_SOURCES; n++) {
        u32 irq = mmio_read32(PLIC_CLAIM(ctx));
        if (!irq) return;
        if (irq < PLIC_SOURCES && routes[irq].handler) routes[irq].handler(routes[irq].data);
        mmio_write32(PLIC_CLAIM(ctx), irq);
    }
}

void block_until(u64 deadline_ns)
{
    if (monotonic_ns() < deadline_ns) {
        sbi_set_timer(deadline_ns / NS_PER_TICK + 1);
        csr_set(sie, SIE_STIE | SIE_SEIE);
        asm volatile("wfi" ::: "memory");
        csr_clear(sie, SIE_STIE | SIE_SEIE);
        sbi_set_timer(~0ULL); /* woken early: no stale timer interrupt for the next wait */
    }
    plic_dispatch();
}

void msleep(u64 ms)
{
    u64 deadline = monotonic_ns() + ms * 1000000ULL;
    while (monotonic_ns() < deadline) block_until(deadline);
}
