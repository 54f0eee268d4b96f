/* Event channels over Xen's 2-level ABI (spec §2; kernel: TwoLevelEventDelivery). The kernel sets a
   port's bit in evtchn_pending, its word's bit in vcpu_info.evtchn_pending_sel and
   evtchn_upcall_pending, and raises the supervisor external interrupt; the upcall handler below
   clears upcall_pending, takes the selector, and runs the handler of every pending, unmasked port,
   clearing its pending bit first. The event words are u64 on both widths; RV32 has no 64-bit AMOs,
   so there each word is two independently atomic halves, which is all these operations need. */
#include "os.h"

static struct { evtchn_handler_t handler; void *data; } handlers[NR_EVENT_CHANNELS];
static u64 unbound_events;

#if XLEN == 64
static inline u64 xchg64(volatile u64 *p, u64 v)
{
    u64 old;
    asm volatile("amoswap.d.aqrl %0, %2, %1" : "=r"(old), "+A"(*p) : "r"(v) : "memory");
    return old;
}
static inline void and64(volatile u64 *p, u64 v) { asm volatile("amoand.d.aqrl zero, %1, %0" : "+A"(*p) : "r"(v) : "memory"); }
static inline void or64(volatile u64 *p, u64 v) { asm volatile("amoor.d.aqrl zero, %1, %0" : "+A"(*p) : "r"(v) : "memory"); }
#else
static inline u32 xchg32(volatile u32 *p, u32 v)
{
    u32 old;
    asm volatile("amoswap.w.aqrl %0, %2, %1" : "=r"(old), "+A"(*p) : "r"(v) : "memory");
    return old;
}
static inline u64 xchg64(volatile u64 *p, u64 v)
{
    volatile u32 *h = (volatile u32 *)p;
    u32 lo = xchg32(&h[0], (u32)v);
    u32 hi = xchg32(&h[1], (u32)(v >> 32));
    return ((u64)hi << 32) | lo;
}
static inline void and64(volatile u64 *p, u64 v)
{
    volatile u32 *h = (volatile u32 *)p;
    if ((u32)v != ~0U) asm volatile("amoand.w.aqrl zero, %1, %0" : "+A"(h[0]) : "r"((u32)v) : "memory");
    if ((u32)(v >> 32) != ~0U) asm volatile("amoand.w.aqrl zero, %1, %0" : "+A"(h[1]) : "r"((u32)(v >> 32)) : "memory");
}
static inline void or64(volatile u64 *p, u64 v)
{
    volatile u32 *h = (volatile u32 *)p;
    if ((u32)v) asm volatile("amoor.w.aqrl zero, %1, %0" : "+A"(h[0]) : "r"((u32)v) : "memory");
    if ((u32)(v >> 32)) asm volatile("amoor.w.aqrl zero, %1, %0" : "+A"(h[1]) : "r"((u32)(v >> 32)) : "memory");
}
#endif

static inline u64 read64(volatile u64 *p)
{
#if XLEN == 64
    return *p;
#else
    volatile u32 *h = (volatile u32 *)p;
    return ((u64)h[1] << 32) | h[0];
#endif
}

static inline int lowest_bit(u64 v)
{
    int n = 0;
    if (!(u32)v) { n = 32; v >>= 32; }
    u32 w = (u32)v;
    while (!(w & 1)) { w >>= 1; n++; }
    return n;
}

void evtchn_do_upcall(void)
{
    struct vcpu_info *v = &shared_info->vcpu_info[0];
    do {
        WRITE_ONCE(v->evtchn_upcall_pending, 0);
        mb();
        u64 sel = xchg64(&v->evtchn_pending_sel, 0);
        while (sel) {
            int w = lowest_bit(sel);
            sel &= sel - 1;
            for (;;) {
                u64 pend = read64(&shared_info->evtchn_pending[w]) & ~read64(&shared_info->evtchn_mask[w]);
                if (!pend) break;
                int b = lowest_bit(pend);
                evtchn_port_t port = (evtchn_port_t)(w * 64 + b);
                and64(&shared_info->evtchn_pending[w], ~(1ULL << b));
                if (handlers[port].handler) handlers[port].handler(port, handlers[port].data);
                else unbound_events++;
            }
        }
    } while (READ_ONCE(v->evtchn_upcall_pending));
    /* No SBI call needed here: the kernel drops the external interrupt line as soon as it sees
       evtchn_upcall_pending cleared (Hart.SetExternalInterruptLevel), so one event is one upcall. */
}

void evtchn_mask(evtchn_port_t port)
{
    or64(&shared_info->evtchn_mask[port / 64], 1ULL << (port % 64));
}

void evtchn_clear(evtchn_port_t port)
{
    and64(&shared_info->evtchn_pending[port / 64], ~(1ULL << (port % 64)));
}

int evtchn_is_pending(evtchn_port_t port)
{
    return (read64(&shared_info->evtchn_pending[port / 64]) >> (port % 64)) & 1;
}

long evtchn_unmask(evtchn_port_t port)
{
    /* The hypercall clears the mask and re-delivers an event that arrived while it was masked. */
    struct evtchn_port_op op = { .port = port };
    return HYPERVISOR_event_channel_op(EVTCHNOP_unmask, &op);
}

int evtchn_bind(evtchn_port_t port, evtchn_handler_t handler, void *data)
{
    if (port >= NR_EVENT_CHANNELS) return -XEN_EINVAL;
    xlen_t flags = irq_save();
    if (handlers[port].handler) printf("pvos: events: port %u rebound\n", port);
    handlers[port].handler = handler;
    handlers[port].data = data;
    irq_restore(flags);
    wmb();
    return (int)evtchn_unmask(port);
}

void evtchn_unbind(evtchn_port_t port)
{
    if (port >= NR_EVENT_CHANNELS) return;
    evtchn_mask(port);
    xlen_t flags = irq_save();
    handlers[port].handler = NULL;
    handlers[port].data = NULL;
    irq_restore(flags);
}

long evtchn_alloc_unbound(domid_t remote, evtchn_port_t *port)
{
    struct evtchn_alloc_unbound op = { .dom = DOMID_SELF, .remote_dom = remote };
    long rc = HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &op);
    if (rc == 0) *port = op.port;
    return rc;
}

long evtchn_bind_interdomain(domid_t remote, evtchn_port_t remote_port, evtchn_port_t *port)
{
    struct evtchn_bind_interdomain op = { .remote_dom = remote, .remote_port = remote_port };
    long rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_interdomain, &op);
    if (rc == 0) *port = op.local_port;
    return rc;
}

long evtchn_bind_virq(u32 virq, evtchn_port_t *port)
{
    struct evtchn_bind_virq op = { .virq = virq, .vcpu = 0 };
    long rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_virq, &op);
    if (rc == 0) *port = op.port;
    return rc;
}

long evtchn_bind_ipi(evtchn_port_t *port)
{
    struct evtchn_bind_ipi op = { .vcpu = 0 };
    long rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_ipi, &op);
    if (rc == 0) *port = op.port;
    return rc;
}

long evtchn_send(evtchn_port_t port)
{
    struct evtchn_port_op op = { .port = port };
    return HYPERVISOR_event_channel_op(EVTCHNOP_send, &op);
}

long evtchn_close(evtchn_port_t port)
{
    evtchn_unbind(port);
    struct evtchn_port_op op = { .port = port };
    return HYPERVISOR_event_channel_op(EVTCHNOP_close, &op);
}

static volatile int self_test_hits;
static void self_test_handler(evtchn_port_t port, void *data) { self_test_hits++; }

void events_init(void)
{
    /* Every port starts masked (Mini-OS does the same); binding a handler unmasks its port. */
    for (int w = 0; w < EVTCHN_WORDS; w++) or64(&shared_info->evtchn_mask[w], ~0ULL);
    WRITE_ONCE(shared_info->vcpu_info[0].evtchn_upcall_mask, 0);

    /* Self-test the whole path once: an IPI port to ourselves, sent and seen through the upcall. */
    evtchn_port_t port;
    long rc = evtchn_bind_ipi(&port);
    if (rc) {
        printf("pvos: events: bind_ipi failed: %ld\n", rc);
        return;
    }
    evtchn_bind(port, self_test_handler, NULL);
    u64 before = upcalls_taken;
    evtchn_send(port);
    irq_enable();
    u64 deadline = monotonic_ns() + 1000000000ULL;
    while (!self_test_hits && monotonic_ns() < deadline) block_until(deadline);
    irq_disable();
    struct evtchn_status st = { .dom = DOMID_SELF, .port = port };
    long src = HYPERVISOR_event_channel_op(EVTCHNOP_status, &st);
    printf("pvos: events: 2-level ABI, %d ports; ipi port %u (status %ld: state %u) self-test %s (%llu upcall%s)\n",
           NR_EVENT_CHANNELS, port, src, st.status, self_test_hits == 1 ? "ok" : "FAILED", upcalls_taken - before,
           upcalls_taken - before == 1 ? "" : "s");
    evtchn_close(port);
}
