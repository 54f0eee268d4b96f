/* The guest half of bench/evtchn: answers every event on its xenstore channel with an event back, as fast
   as it can (it spins on its pending bit, like a polling driver), until the service writes 0xFFFFFFFF into
   word 0 of the shared page; then it shuts down. */
#include "console.h"

#define SBI_EXT_XEN 0x0A58454E
#define HYPERCALL_EVENT_CHANNEL_OP 32
#define EVTCHNOP_SEND 4
#define SHARED_INFO_PENDING 1536

static long notify(u32 port)
{
    u32 send = port;
    register long x10 asm("a0") = EVTCHNOP_SEND;
    register long x11 asm("a1") = (long)(xlen_t)&send;
    register long x16 asm("a6") = HYPERCALL_EVENT_CHANNEL_OP;
    register long x17 asm("a7") = SBI_EXT_XEN;
    asm volatile("ecall" : "+r"(x10), "+r"(x11) : "r"(x16), "r"(x17) : "memory");
    return x10;
}

int main(xlen_t hart, xlen_t start_info)
{
    u8 *info = (u8 *)start_info;
    volatile u32 *page = (volatile u32 *)(xlen_t)(*(u64 *)(info + 56) << 12);
    u32 port = *(u32 *)(info + 64);
    volatile u32 *pending = (volatile u32 *)((xlen_t)*(u64 *)(info + 40) + SHARED_INFO_PENDING);
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
