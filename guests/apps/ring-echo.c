/* A PV guest for the service-channel tests: on its xenstore page and event channel (from start_info),
   it answers each event by writing page[0] + 1 into page[1] and notifying back, three times, then
   shuts down. Plain hypercalls through the XEN SBI extension; no OS underneath. */
#include "console.h"
#include "sbi.h"

#define SBI_EXT_XEN 0x0A58454E
#define HYPERCALL_EVENT_CHANNEL_OP 32
#define EVTCHNOP_SEND 4
#define SHARED_INFO_PENDING 1536

static long hypercall2(long number, long a0, long a1)
{
    register long x10 asm("a0") = a0;
    register long x11 asm("a1") = a1;
    register long x16 asm("a6") = number;
    register long x17 asm("a7") = SBI_EXT_XEN;
    asm volatile("ecall" : "+r"(x10), "+r"(x11) : "r"(x16), "r"(x17) : "memory");
    return x10;
}

static long notify(u32 port)
{
    u32 send = port;
    return hypercall2(HYPERCALL_EVENT_CHANNEL_OP, EVTCHNOP_SEND, (long)(xlen_t)&send);
}

int main(xlen_t hart, xlen_t start_info)
{
    u8 *info = (u8 *)start_info;
    xlen_t shared_info = (xlen_t)*(u64 *)(info + 40);
    volatile u32 *page = (volatile u32 *)(xlen_t)(*(u64 *)(info + 56) << 12);
    u32 port = *(u32 *)(info + 64);
    /* The bitmap is little-endian 64-bit words; 32-bit halves address the same bits on both widths. */
    volatile u32 *pending = (volatile u32 *)(shared_info + SHARED_INFO_PENDING);
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
