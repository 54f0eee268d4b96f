/* Hypercalls: ecall with a7 = XEN_SBI_EXT, a6 = the Xen hypercall number, a0..a2 = arguments; a0 returns 0,
   a count, or a negated Xen errno (ARCHITECTURE §2; the kernel reads no argument past a2). */
#pragma once
#include "types.h"
#include "xen.h"

static inline long _hypercall3(unsigned number, xlen_t a0, xlen_t a1, xlen_t a2)
{
    register xlen_t x10 asm("a0") = a0;
    register xlen_t x11 asm("a1") = a1;
    register xlen_t x12 asm("a2") = a2;
    register xlen_t x16 asm("a6") = number;
    register xlen_t x17 asm("a7") = XEN_SBI_EXT;
    /* The kernel writes a1 too (the SBI "value"), so it is an output. */
    asm volatile("ecall" : "+r"(x10), "+r"(x11) : "r"(x12), "r"(x16), "r"(x17) : "memory");
    return (long)x10;
}

long HYPERVISOR_event_channel_op(int cmd, void *arg);
long HYPERVISOR_grant_table_op(int cmd, void *arg, unsigned count);
long HYPERVISOR_memory_op(int cmd, void *arg);
long HYPERVISOR_console_io(int cmd, unsigned count, const char *buffer);
long HYPERVISOR_xen_version(int cmd, void *arg);
long HYPERVISOR_sched_op(int cmd, void *arg);

/* Convenience forms. */
__attribute__((noreturn)) void HYPERVISOR_shutdown(unsigned reason);
long HYPERVISOR_block(void);
long HYPERVISOR_yield(void);
long HYPERVISOR_poll(evtchn_port_t *ports, unsigned nr_ports, u64 timeout_ns);
