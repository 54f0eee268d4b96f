/* The hypercall layer: one function per hypercall the kernel serves, each exactly its ABI
   (kernel/Disagg.Kernel.Core/Platform/DomainPlatform.Hypercalls.cs). */
#include "hypercall.h"

long HYPERVISOR_event_channel_op(int cmd, void *arg)
{
    return _hypercall3(__HYPERVISOR_event_channel_op, (xlen_t)cmd, (xlen_t)arg, 0);
}

long HYPERVISOR_grant_table_op(int cmd, void *arg, unsigned count)
{
    return _hypercall3(__HYPERVISOR_grant_table_op, (xlen_t)cmd, (xlen_t)arg, count);
}

long HYPERVISOR_memory_op(int cmd, void *arg)
{
    return _hypercall3(__HYPERVISOR_memory_op, (xlen_t)cmd, (xlen_t)arg, 0);
}

long HYPERVISOR_console_io(int cmd, unsigned count, const char *buffer)
{
    return _hypercall3(__HYPERVISOR_console_io, (xlen_t)cmd, count, (xlen_t)buffer);
}

long HYPERVISOR_xen_version(int cmd, void *arg)
{
    return _hypercall3(__HYPERVISOR_xen_version, (xlen_t)cmd, (xlen_t)arg, 0);
}

long HYPERVISOR_sched_op(int cmd, void *arg)
{
    return _hypercall3(__HYPERVISOR_sched_op, (xlen_t)cmd, (xlen_t)arg, 0);
}

void HYPERVISOR_shutdown(unsigned reason)
{
    struct sched_shutdown s = { .reason = reason };
    for (;;) {
        HYPERVISOR_sched_op(SCHEDOP_shutdown, &s);
        /* Only a bad reason returns; a crash is the one that must always work. */
        s.reason = SHUTDOWN_crash;
    }
}

long HYPERVISOR_block(void) { return HYPERVISOR_sched_op(SCHEDOP_block, NULL); }

long HYPERVISOR_yield(void) { return HYPERVISOR_sched_op(SCHEDOP_yield, NULL); }

long HYPERVISOR_poll(evtchn_port_t *ports, unsigned nr_ports, u64 timeout_ns)
{
    struct sched_poll p = { .ports = (uintptr_t)ports, .nr_ports = nr_ports, .timeout = timeout_ns };
    return HYPERVISOR_sched_op(SCHEDOP_poll, &p);
}
