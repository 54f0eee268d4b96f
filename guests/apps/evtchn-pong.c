/* The guest half of bench/evtchn: answers every event on its xenstore channel with an event back, as fast
   as it can (it spins on its pending bit, like a polling driver), until the service writes 0xFFFFFFFF into
   word 0 of the shared page; then it shuts down. */
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
    volatile u32 *page = (volatile u32 *)(xlen_t)(si->store_mfn << 12);
    u32 port = si->store_evtchn;
    volatile u32 *pending = (volatile u32 *)((xlen_t)si->shared_info + __builtin_offsetof(struct shared_info, evtchn_pending));
    u32 bit = 1u << (port & 31);
    u64 rounds = 0;
    while (page[0] != 0xFFFFFFFFu) {
        if (!(pending[port >> 5] & bit)) continue;
        __atomic_fetch_and(&pending[port >> 5], ~bit, __ATOMIC_SEQ_CST);
        page[1] = (u32)++rounds;
        notify(port);
    }
    printf("evtchn-pong: %llu rounds\n", rounds);
    return 0;
}
