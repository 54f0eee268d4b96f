/* The console. Early output (and the fallback) is console_io CONSOLEIO_write, which lands in the kernel
   message log (`disagg dmesg`). The PV console is the xencons_interface ring in the page start_info
   names: the guest produces `out` and consumes `in`, indices free-running u32s masked by each array's
   size, a notify on the console event channel after each change (io/console.h). Its reader (the
   toolstack's console backend) may be absent or stuck, so a full ring is waited on for a bounded time
   (console-wait= ms, default 100, by SCHEDOP_poll on the console port: no spinning); after that the
   ring is declared stalled, its output dropped (and counted) until the reader moves out_cons again.
   console= chooses where printf goes:
     auto (default)  the ring, and console_io as well while the ring has no live reader
     ring            the ring only        xen   console_io only        both  always both
   Newlines go to the ring as CR LF (a terminal's view, as Linux's tty layer sends them), to
   console_io as LF (the kernel log is line-based). */
#include "os.h"
#include "sbi.h"

enum mode { MODE_AUTO, MODE_RING, MODE_XEN, MODE_BOTH };
static const char *mode_names[] = { "auto", "ring", "xen", "both" };
static enum mode mode = MODE_AUTO;
static struct xencons_interface *intf;
static evtchn_port_t port;
static int consumer_seen, stalled, broken;
static XENCONS_RING_IDX last_cons;
static u64 wait_ns = 100000000ULL;
volatile int console_input_event;
u64 console_ring_bytes, console_ring_dropped;
static int sbi_getchar_available;

void xen_console_io_write(const char *text, size_t length)
{
    while (length) {
        unsigned n = length > 4096 ? 4096 : (unsigned)length;
        if (HYPERVISOR_console_io(CONSOLEIO_write, n, text) < 0) return;
        text += n;
        length -= n;
    }
}

/* What was printed before the ring was set up, replayed into it then, so the ring's reader sees the
   whole boot (it went to console_io at once as well). */
static char early_buf[2048];
static size_t early_len;

static void early_sink(const char *text, size_t length)
{
    xen_console_io_write(text, length);
    size_t n = MIN(length, sizeof early_buf - early_len);
    memcpy(early_buf + early_len, text, n);
    early_len += n;
}

void console_early_init(void) { console_sink = early_sink; }

const char *console_mode_name(void) { return mode_names[mode]; }

static void note_consumer(XENCONS_RING_IDX cons)
{
    if (cons == last_cons) return;
    last_cons = cons;
    if (!consumer_seen) consumer_seen = 1;
    if (stalled) {
        stalled = 0;
        char msg[96];
        int n = snprintf(msg, sizeof msg, "pvos: console: ring reader is back (%llu bytes dropped so far)\n",
                         console_ring_dropped);
        xen_console_io_write(msg, (size_t)n);
    }
}

/* Before each SCHEDOP_poll on the console port. Interrupts may be off here (printf from a handler,
   or ring_put's own exclusion), and a pending timer or upcall would end every poll at once, so they
   are serviced first: that is what keeps the wait a sleep and not a spin. */
static void poll_prepare(void)
{
    xlen_t sip = csr_read(sip);
    if ((sip & SIE_STIE) && !(csr_read(sstatus) & SSTATUS_SIE)) timer_interrupt();
    if ((sip & SIE_SEIE) && !(csr_read(sstatus) & SSTATUS_SIE)) evtchn_do_upcall();
    evtchn_clear(port); /* an old notification must not turn the poll into a spin */
    console_input_event = 1;
    mb();
}

/* Waits, bounded, for the reader to free space; 0 when it did not. */
static int wait_for_space(XENCONS_RING_IDX cons)
{
    u64 deadline = monotonic_ns() + wait_ns;
    for (;;) {
        poll_prepare();
        if (READ_ONCE(intf->out_cons) != cons) return 1;
        u64 now = monotonic_ns();
        if (now >= deadline) break;
        HYPERVISOR_poll(&port, 1, deadline);
    }
    stalled = 1;
    char msg[128];
    int n = snprintf(msg, sizeof msg, "pvos: console: ring not read for %llu ms; its output is dropped until the reader moves\n",
                     wait_ns / 1000000);
    xen_console_io_write(msg, (size_t)n);
    return 0;
}

static void ring_put(const char *data, size_t len)
{
    xlen_t flags = irq_save();
    size_t sent = 0;
    int produced = 0;
    while (sent < len && !broken) {
        XENCONS_RING_IDX cons = READ_ONCE(intf->out_cons);
        mb();
        XENCONS_RING_IDX prod = intf->out_prod;
        note_consumer(cons);
        XENCONS_RING_IDX used = prod - cons;
        if (used > sizeof intf->out) {
            /* The other end wrote nonsense into out_cons: stop using the ring, say so once. */
            broken = 1;
            char msg[96];
            int n = snprintf(msg, sizeof msg, "pvos: console: ring indices corrupt (prod %u cons %u); ring disabled\n", prod, cons);
            xen_console_io_write(msg, (size_t)n);
            break;
        }
        if (used == sizeof intf->out) {
            if (produced) { evtchn_send(port); produced = 0; }
            if (stalled || !wait_for_space(cons)) break;
            continue;
        }
        size_t n = MIN(len - sent, sizeof intf->out - used);
        for (size_t i = 0; i < n; i++) intf->out[MASK_XENCONS_IDX(prod + i, intf->out)] = data[sent + i];
        wmb(); /* the bytes before the index that publishes them */
        WRITE_ONCE(intf->out_prod, prod + (XENCONS_RING_IDX)n);
        sent += n;
        produced = 1;
    }
    if (produced) evtchn_send(port);
    console_ring_bytes += sent;
    console_ring_dropped += len - sent;
    irq_restore(flags);
}

static void ring_write(const char *text, size_t length)
{
    char buf[128];
    size_t n = 0;
    for (size_t i = 0; i < length; i++) {
        if (n + 2 > sizeof buf) { ring_put(buf, n); n = 0; }
        if (text[i] == '\n') buf[n++] = '\r';
        buf[n++] = text[i];
    }
    if (n) ring_put(buf, n);
}

static void os_sink(const char *text, size_t length)
{
    int ring = mode != MODE_XEN && intf && !broken;
    int xen = mode == MODE_XEN || mode == MODE_BOTH || !ring || (mode == MODE_AUTO && (!consumer_seen || stalled));
    if (ring) ring_write(text, length);
    /* auto: after a ring write, the reader may have shown itself; re-decide for this text. */
    if (ring && mode == MODE_AUTO) xen = !consumer_seen || stalled;
    if (xen) xen_console_io_write(text, length);
}

void console_flush(void)
{
    if (!intf || broken || stalled || !consumer_seen) return;
    u64 deadline = monotonic_ns() + wait_ns;
    while (READ_ONCE(intf->out_cons) != READ_ONCE(intf->out_prod) && monotonic_ns() < deadline) {
        poll_prepare();
        if (READ_ONCE(intf->out_cons) == READ_ONCE(intf->out_prod)) break;
        HYPERVISOR_poll(&port, 1, deadline);
    }
}

int console_read(char *buf, int max)
{
    int n = 0;
    if (intf && !broken) {
        xlen_t flags = irq_save();
        XENCONS_RING_IDX cons = intf->in_cons, prod = READ_ONCE(intf->in_prod);
        rmb(); /* the index before the bytes it covers */
        if (prod - cons > sizeof intf->in) {
            cons = prod; /* a lying producer: skip what it claims, keep serving */
        } else {
            while (cons != prod && n < max) buf[n++] = intf->in[MASK_XENCONS_IDX(cons++, intf->in)];
        }
        mb(); /* done reading before the space is handed back */
        WRITE_ONCE(intf->in_cons, cons);
        irq_restore(flags);
        if (n) evtchn_send(port);
    }
    while (n < max && sbi_getchar_available) {
        int c = sbi_getchar();
        if (c < 0) break;
        buf[n++] = (char)c;
    }
    return n;
}

/* Input comes through the ring, with an event, once the guest writes to the ring: the toolstack sends
   keystrokes to the ring of a guest that uses it and to the SBI console otherwise. */
int console_input_notifies(void) { return intf && !broken && mode != MODE_XEN; }

static void console_event(evtchn_port_t p, void *data) { console_input_event = 1; }

void console_init(void)
{
    const char *m = cmdline_get("console");
    for (unsigned i = 0; m && i < ARRAY_SIZE(mode_names); i++)
        if (strcmp(m, mode_names[i]) == 0) mode = (enum mode)i;
    wait_ns = cmdline_u64("console-wait", 100) * 1000000ULL;
    intf = (struct xencons_interface *)(uintptr_t)(start_info->console_mfn << PAGE_SHIFT);
    port = start_info->console_evtchn;
    last_cons = READ_ONCE(intf->out_cons);
    sbi_getchar_available = sbi_probe(SBI_EXT_LEGACY_GETCHAR) > 0;
    int rc = evtchn_bind(port, console_event, NULL);
    if (mode != MODE_XEN) ring_write(early_buf, early_len);
    console_sink = os_sink;
    printf("pvos: console: ring at %p (out %u/%u, in %u/%u), evtchn %u (bind %d), mode %s, wait %llu ms\n", (void *)intf,
           intf->out_prod, intf->out_cons, intf->in_prod, intf->in_cons, port, rc, mode_names[mode], wait_ns / 1000000);
}

/* After a restore (suspend.c): the new domain's console port is in start_info, and the backend that now
   serves the ring has seen no event yet; the ring itself (page and indices) came back with our memory. */
void console_resume(void)
{
    evtchn_port_t now = start_info->console_evtchn;
    if (now != port) {
        evtchn_unbind(port);
        port = now;
        evtchn_bind(port, console_event, NULL);
    }
    evtchn_send(port);
}
