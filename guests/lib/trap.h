/* Trap handling shared by tests and the OS: a C view of the frame trap.S saves, a hook per program, and
   the expectation helpers tests use to provoke a fault and check its cause and stval. */
#pragma once
#include "types.h"
#include "csr.h"

struct trap_frame {
    xlen_t x[32];   /* x[2] is the interrupted sp */
    xlen_t sepc;
    xlen_t sstatus;
    xlen_t scause;
    xlen_t stval;
};

/* Returns nonzero when it handled the trap; otherwise trap_dispatch applies the default rules. */
typedef int (*trap_hook_t)(struct trap_frame *frame);
extern trap_hook_t trap_hook;

/* The last exception recorded by the default rules (interrupts are left to the hook). */
struct trap_record { volatile xlen_t count, cause, tval, epc; };
extern struct trap_record last_trap;

void trap_dispatch(struct trap_frame *frame);
void trap_entry(void);
xlen_t run_user(void *entry, xlen_t arg);
void user_return(void);
void trap_expect_reset(void);
