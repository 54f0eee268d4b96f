/* Default trap rules, so a test can provoke a fault inline and go on:
   - from U-mode: record, then leave U-mode (run_user returns scause);
   - a fetch fault (cause 0, 1, 12): record and resume at ra (the faulting jump was a call);
   - any other exception: record and skip the instruction (2 or 4 bytes);
   - an interrupt nobody hooked: a failure, the program stops. */
#include "trap.h"
#include "console.h"
#include "sbi.h"

trap_hook_t trap_hook;
struct trap_record last_trap;

void trap_expect_reset(void)
{
    last_trap.count = 0;
    last_trap.cause = ~0UL;
    last_trap.tval = 0;
    last_trap.epc = 0;
}

void trap_dispatch(struct trap_frame *f)
{
    if (trap_hook && trap_hook(f)) return;
    if (f->scause & CAUSE_INTERRUPT) {
        printf("unexpected interrupt scause=%lx sepc=%lx\n", f->scause, f->sepc);
        sbi_shutdown(SBI_SRST_REASON_FAILURE);
    }
    last_trap.count++;
    last_trap.cause = f->scause;
    last_trap.tval = f->stval;
    last_trap.epc = f->sepc;
    if ((f->sstatus & SSTATUS_SPP) == 0) {
        f->sepc = (xlen_t)user_return;
        f->sstatus |= SSTATUS_SPP;
        f->x[10] = f->scause;
        return;
    }
    if (f->scause == EXC_INST_MISALIGNED || f->scause == EXC_INST_ACCESS || f->scause == EXC_INST_PAGE_FAULT) {
        f->sepc = f->x[1];
        return;
    }
    u16 low = *(volatile u16 *)f->sepc;
    f->sepc += (low & 3) == 3 ? 4 : 2;
}
