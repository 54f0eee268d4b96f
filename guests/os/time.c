/* Time and the timer. System time (ns since boot) comes from vcpu_time_info exactly as Xen defines it:
   ns = system_time + ((time - tsc_timestamp) << tsc_shift) * tsc_to_system_mul >> 32, read under its
   version seqlock; the "tsc" is the `time` CSR (10 MHz). The one timer is SBI set_timer (the kernel
   raises VIRQ_TIMER never; DomainPlatform serves SBI TIME): it is armed for the earlier of the next
   periodic tick and the deadline a sleeper asked for. Tickless by default (hz=0): the timer is armed
   only while something waits for a deadline, and cancelled when that wait ends early, so an idle guest
   blocked without a deadline takes no interrupt at all (hz=N brings a periodic tick back for whoever
   wants one). Sleeping is SCHEDOP_block with interrupts held off, so a wake-up between the check and
   the block is not lost. */
#include "os.h"
#include "sbi.h"

#define NO_DEADLINE (~0ULL)
static unsigned hz;
static u64 tick_period_ns, next_tick_ns = NO_DEADLINE, wake_deadline_ns = NO_DEADLINE;
static volatile u64 tick_count;
static tick_hook_t hooks[8];
static unsigned nr_hooks;

u64 monotonic_ns(void)
{
    volatile struct vcpu_time_info *t = &shared_info->vcpu_info[0].time;
    u32 version, mul;
    u64 stamp, system;
    s8 shift;
    do {
        version = t->version;
        rmb();
        stamp = t->tsc_timestamp;
        system = t->system_time;
        mul = t->tsc_to_system_mul;
        shift = t->tsc_shift;
        rmb();
    } while ((version & 1) || version != t->version);
    u64 delta = read_time() - stamp;
    delta = shift >= 0 ? delta << shift : delta >> -shift;
    /* 64 x 32 -> 96-bit product, keep bits 32..95 (Xen's scale_delta). */
    u64 product = (((u64)(u32)delta * mul) >> 32) + (delta >> 32) * mul;
    return system + product;
}

static void timer_program(void)
{
    u64 deadline = MIN(next_tick_ns, wake_deadline_ns);
    if (deadline == NO_DEADLINE) {
        sbi_set_timer(~0ULL); /* clears a pending timer interrupt too */
        return;
    }
    u64 now = monotonic_ns(), t = read_time();
    sbi_set_timer(deadline <= now ? t : t + (deadline - now) / (1000000000ULL / TIMEBASE_HZ));
}

void timer_interrupt(void)
{
    u64 now = monotonic_ns();
    if (hz && now >= next_tick_ns) {
        u64 missed = (now - next_tick_ns) / tick_period_ns;
        tick_count += 1 + missed;
        next_tick_ns += (1 + missed) * tick_period_ns;
        for (unsigned i = 0; i < nr_hooks; i++) hooks[i](tick_count);
    }
    timer_program();
}

u64 ticks(void) { return tick_count; }

unsigned tick_hz(void) { return hz; }

void tick_hook_add(tick_hook_t hook)
{
    if (nr_hooks < ARRAY_SIZE(hooks)) hooks[nr_hooks++] = hook;
}

void block_until(u64 deadline_ns)
{
    suspend_check(); /* every sleep is a point where a requested suspend may happen (suspend.c) */
    xlen_t was = irq_save();
    if (monotonic_ns() < deadline_ns) {
        wake_deadline_ns = deadline_ns;
        timer_program();
        /* Returns at once if an enabled interrupt or an event is already pending. */
        HYPERVISOR_block();
        wake_deadline_ns = NO_DEADLINE;
        timer_program(); /* woken early: the deadline's interrupt would only be a spurious wake-up */
    }
    irq_enable(); /* whatever woke us is handled here */
    if (!was) irq_disable();
}

void msleep(u64 ms)
{
    u64 deadline = monotonic_ns() + ms * 1000000ULL;
    while (monotonic_ns() < deadline) block_until(deadline);
}

void time_init(void)
{
    struct vcpu_time_info *t = &shared_info->vcpu_info[0].time;
    hz = (unsigned)cmdline_u64("hz", 0);
    if (hz > 10000) hz = 10000;
    if (hz) {
        tick_period_ns = 1000000000ULL / hz;
        next_tick_ns = monotonic_ns() + tick_period_ns;
    }
    timer_program();
    printf("pvos: time: system time %llu ns (time CSR %llu, mul %u shift %d); SBI timer, %u Hz tick%s\n",
           monotonic_ns(), read_time(), t->tsc_to_system_mul, t->tsc_shift, hz, hz ? "" : " (tickless)");
}
