/* Interrupts: the SBI timer raises STIP at its deadline and set_timer again clears it; WFI sleeps until
   an interrupt is pending (also with SIE off, without trapping); software interrupts from sip and from
   an SBI IPI to ourselves; priority (software before timer); vectored stvec; and S-mode interrupts
   taken in U-mode whatever sstatus.SIE says. */
#include "test.h"
#include "sbi.h"

#define TICKS_PER_MS 10000   /* both machines run time at 10 MHz */

volatile xlen_t last_vector = ~0UL;
extern char vector_table[];
static volatile xlen_t irq_log[8];
static volatile unsigned irq_count;

__attribute__((section(".user_text"), naked, noinline)) static void user_spin(void) { asm volatile("1: j 1b"); }

static int interrupt_hook(struct trap_frame *f)
{
    if (!(f->scause & CAUSE_INTERRUPT)) return 0;
    xlen_t code = f->scause & ~CAUSE_INTERRUPT;
    if (irq_count < ARRAY_SIZE(irq_log)) irq_log[irq_count] = code;
    irq_count++;
    if (code == IRQ_S_TIMER) sbi_set_timer(~0ULL);
    else if (code == IRQ_S_SOFT) csr_clear(sip, SIE_SSIE);
    else return 0;
    if ((f->sstatus & SSTATUS_SPP) == 0) {      /* interrupted U-mode: end the user run */
        f->sepc = (xlen_t)user_return;
        f->sstatus |= SSTATUS_SPP;
        f->x[10] = f->scause;
    }
    return 1;
}

static void reset_log(void) { irq_count = 0; for (unsigned i = 0; i < ARRAY_SIZE(irq_log); i++) irq_log[i] = ~0UL; }

static int wait_pending(xlen_t bit, u64 timeout_ticks)
{
    u64 end = read_time() + timeout_ticks;
    while (!(csr_read(sip) & bit))
        if (read_time() > end) return 0;
    return 1;
}

static void timer_pending_and_taken(void)
{
    test_group("timer");
    csr_clear(sstatus, SSTATUS_SIE);
    csr_write(sie, 0);
    reset_log();
    sbi_set_timer(read_time());
    CHECK(wait_pending(1UL << IRQ_S_TIMER, 100 * TICKS_PER_MS));   /* pending even while not enabled */
    CHECK_EQ(irq_count, 0);
    csr_set(sie, SIE_STIE);
    CHECK_EQ(irq_count, 0);                                        /* SIE still off */
    csr_set(sstatus, SSTATUS_SIE);
    CHECK_EQ(irq_count, 1);                                        /* taken at once */
    CHECK_EQ(irq_log[0], IRQ_S_TIMER);
    CHECK_EQ(csr_read(sip) & (1UL << IRQ_S_TIMER), 0);             /* set_timer(max) cleared STIP */
    /* A deadline in the future: WFI sleeps until it, the interrupt wakes it. */
    reset_log();
    u64 deadline = read_time() + 5 * TICKS_PER_MS;
    sbi_set_timer(deadline);
    int sleeps = 0;
    while (irq_count == 0 && sleeps < 1000) { asm volatile("wfi"); sleeps++; }
    CHECK_EQ(irq_count, 1);
    CHECK(read_time() >= deadline);
    CHECK(sleeps <= 3);                                            /* WFI waited, it did not return at once */
    csr_clear(sstatus, SSTATUS_SIE);
}

static void wfi_with_interrupts_off(void)
{
    test_group("wfi with SIE off");
    reset_log();
    csr_clear(sstatus, SSTATUS_SIE);
    csr_write(sie, SIE_STIE);
    u64 deadline = read_time() + 2 * TICKS_PER_MS;
    sbi_set_timer(deadline);
    int sleeps = 0;
    while (!(csr_read(sip) & (1UL << IRQ_S_TIMER)) && sleeps < 1000) { asm volatile("wfi"); sleeps++; }
    CHECK(csr_read(sip) & (1UL << IRQ_S_TIMER));
    CHECK(read_time() >= deadline);
    CHECK(sleeps <= 3);
    CHECK_EQ(irq_count, 0);                                        /* woken, but nothing was taken */
    sbi_set_timer(~0ULL);
    CHECK_EQ(csr_read(sip) & (1UL << IRQ_S_TIMER), 0);
    csr_write(sie, 0);
}

static void software_interrupts(void)
{
    test_group("software interrupts");
    reset_log();
    csr_write(sie, SIE_SSIE);
    csr_set(sstatus, SSTATUS_SIE);
    csr_set(sip, SIE_SSIE);                                        /* S-mode may raise SSIP itself */
    CHECK_EQ(irq_count, 1);
    CHECK_EQ(irq_log[0], IRQ_S_SOFT);
    reset_log();
    CHECK_EQ(sbi_send_ipi(1, boot_hart_id), SBI_SUCCESS);           /* an IPI to ourselves */
    for (int i = 0; i < 1000 && irq_count == 0; i++) asm volatile("nop");
    CHECK_EQ(irq_count, 1);
    CHECK_EQ(irq_log[0], IRQ_S_SOFT);
    csr_clear(sstatus, SSTATUS_SIE);
    /* Both pending at once: software first, then timer. */
    reset_log();
    csr_write(sie, SIE_SSIE | SIE_STIE);
    sbi_set_timer(read_time());
    CHECK(wait_pending(1UL << IRQ_S_TIMER, 100 * TICKS_PER_MS));
    csr_set(sip, SIE_SSIE);
    csr_set(sstatus, SSTATUS_SIE);
    csr_clear(sstatus, SSTATUS_SIE);
    CHECK_EQ(irq_count, 2);
    CHECK_EQ(irq_log[0], IRQ_S_SOFT);
    CHECK_EQ(irq_log[1], IRQ_S_TIMER);
    csr_write(sie, 0);
}

static void vectored(void)
{
    test_group("vectored stvec");
    xlen_t saved = csr_read(stvec);
    csr_write(stvec, (xlen_t)vector_table | 1);
    reset_log();
    last_vector = ~0UL;
    csr_write(sie, SIE_STIE);
    sbi_set_timer(read_time());
    CHECK(wait_pending(1UL << IRQ_S_TIMER, 100 * TICKS_PER_MS));
    csr_set(sstatus, SSTATUS_SIE);
    csr_clear(sstatus, SSTATUS_SIE);
    CHECK_EQ(irq_count, 1);
    CHECK_EQ(last_vector, IRQ_S_TIMER);                            /* base + 4 * cause */
    /* Exceptions all go to the base. */
    last_vector = ~0UL;
    EXPECT_TRAP(asm volatile("ebreak"), EXC_BREAKPOINT);
    CHECK_EQ(last_vector, 0);
    csr_write(stvec, saved);
    csr_write(sie, 0);
}

static void interrupts_in_user_mode(void)
{
    test_group("interrupts in U-mode");
    reset_log();
    csr_clear(sstatus, SSTATUS_SIE);
    csr_write(sie, SIE_STIE);
    sbi_set_timer(read_time() + TICKS_PER_MS);
    /* In U-mode S-level interrupts are always enabled: the timer ends the endless user loop. */
    CHECK_EQ(run_user(user_spin, 0), CAUSE_INTERRUPT | IRQ_S_TIMER);
    CHECK_EQ(irq_count, 1);
    csr_write(sie, 0);
}

int main(void)
{
    trap_hook = interrupt_hook;
    timer_pending_and_taken();
    wfi_with_interrupts_off();
    software_interrupts();
    vectored();
    interrupts_in_user_mode();
    return test_done();
}
