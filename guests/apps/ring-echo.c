/* A PV guest for the service-channel tests: on its xenstore page and event channel (from start_info),
   it answers each event by writing page[0] + 1 into page[1] and notifying back, three times, then
   shuts down. Plain hypercalls through the XEN SBI extension; no OS underneath. */
#include "console.h"
#include "xen.h"
#include "hypercall.h"


static long notify(u32 port)
{
    struct evtchn_port_op send = { .port = port };
    return _hypercall3(__HYPERVISOR_event_channel_op, EVTCHNOP_send, (xlen_t)&send, 0);
}

int main(xlen_t hart, xlen_t start_info)
{
    const struct start_info *si = (const struct start_info *)start_info;
    xlen_t shared_info = (xlen_t)si->shared_info;
    volatile u32 *page = (volatile u32 *)(xlen_t)(si->store_mfn << 12);
    u32 port = si->store_evtchn;
    /* The bitmap is little-endian 64-bit words; 32-bit halves address the same bits on both widths. */
    volatile u32 *pending = (volatile u32 *)(shared_info + __builtin_offsetof(struct shared_info, evtchn_pending));
    printf("ring-echo: xenstore page %p port %u\n", (void *)page, port);
    for (int round = 0; round < 3; round++) {
        u32 bit = 1u << (port & 31);
        while (!(pending[port >> 5] & bit)) asm volatile("nop");
        __atomic_fetch_and(&pending[port >> 5], ~bit, __ATOMIC_SEQ_CST);
        u32 v = page[0];
        page[1] = v + 1;
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        long rc = notify(port);
        printf("ring-echo: round %d got %u answered %u (send %ld)\n", round, v, v + 1, rc);
    }
    return 0;
}
