/* Traps: the timer and the event upcall (supervisor external interrupt) are the OS's interrupts; any
   exception is a bug the OS cannot handle, so it prints what and where, then crashes the domain
   (SCHEDOP_shutdown, SHUTDOWN_crash) as Mini-OS does. */
#include "os.h"
#include "trap.h"

volatile u64 upcalls_taken, timer_irqs_taken;
volatile int irq_depth;

static const char *cause_name(xlen_t cause)
{
    switch (cause) {
    case EXC_INST_MISALIGNED: return "instruction address misaligned";
    case EXC_INST_ACCESS: return "instruction access fault";
    case EXC_ILLEGAL: return "illegal instruction";
    case EXC_BREAKPOINT: return "breakpoint";
    case EXC_LOAD_MISALIGNED: return "load address misaligned";
    case EXC_LOAD_ACCESS: return "load access fault";
    case EXC_STORE_MISALIGNED: return "store address misaligned";
    case EXC_STORE_ACCESS: return "store access fault";
    case EXC_ECALL_U: return "ecall from U-mode";
    case EXC_INST_PAGE_FAULT: return "instruction page fault";
    case EXC_LOAD_PAGE_FAULT: return "load page fault";
    case EXC_STORE_PAGE_FAULT: return "store page fault";
    default: return "exception";
    }
}

static int os_trap(struct trap_frame *f)
{
    if (f->scause & CAUSE_INTERRUPT) {
        switch (f->scause & ~CAUSE_INTERRUPT) {
        case IRQ_S_TIMER:
            timer_irqs_taken++;
            irq_depth++;
            timer_interrupt();
            irq_depth--;
            return 1;
        case IRQ_S_EXT:
            upcalls_taken++;
            irq_depth++;
            evtchn_do_upcall();
            irq_depth--;
            return 1;
        case IRQ_S_SOFT:
            csr_clear(sip, SIE_SSIE);
            return 1;
        default:
            os_crash("unexpected interrupt scause=0x%lx at sepc=0x%lx", f->scause, f->sepc);
        }
    }
    os_crash("fatal trap: %s (scause %lu) at sepc=0x%lx stval=0x%lx ra=0x%lx sp=0x%lx", cause_name(f->scause),
             f->scause, f->sepc, f->stval, f->x[1], f->x[2]);
}

void traps_init(void)
{
    trap_hook = os_trap;
    csr_write(sie, SIE_STIE | SIE_SEIE | SIE_SSIE);
}

void os_crash(const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    irq_disable();
    int n = snprintf(buf, sizeof buf, "pvos: CRASH: ");
    va_start(ap, fmt);
    n += vsnprintf(buf + n, sizeof buf - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if ((size_t)n > sizeof buf - 2) n = sizeof buf - 2;
    buf[n++] = '\n';
    buf[n] = 0;
    /* Always into the kernel log, whatever the console mode; the ring too if it has a reader. */
    xen_console_io_write(buf, (size_t)n);
    console_write(buf, (size_t)n);
    HYPERVISOR_shutdown(SHUTDOWN_crash);
}

void os_shutdown(unsigned reason)
{
    static const char *names[] = { "poweroff", "reboot", "suspend", "crash", "watchdog" };
    printf("pvos: shutting down: %s\n", reason < ARRAY_SIZE(names) ? names[reason] : "?");
    console_flush();
    irq_disable();
    HYPERVISOR_shutdown(reason);
}
