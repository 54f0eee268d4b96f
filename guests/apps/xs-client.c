/* xs-client: a PV guest speaking xs_wire on its xenstore ring (start_info store_mfn / store_evtchn), for the
   xenstored tests (tests/Disagg.Xenstored.Tests/KernelRingTests.cs). No OS underneath: plain hypercalls
   through the XEN SBI extension, and it sleeps in SCHEDOP_poll on its port (never spins).
   The command line picks what it does:
     (empty)     the conversation: write data/greeting and read it back, watch data/ping and wait until it
                 fires with "pong-1"; pause 2 s (the test kills xenstored meanwhile), then write data/after
                 and read data/ping (queued while xenstored is down, answered by the restarted one), then
                 wait for the watch to fire again with "pong-2" (the watch survived the restart).
     peek=PATH   reads and writes PATH (another guest's key), expecting EACCES for both.
   Each step prints an "xs-client: " line on the SBI console. Anything unexpected prints "xs-client: FAIL why"
   and returns 1, which shuts the domain down with a failure reason (SRST reason 1: crashed). */
#include "console.h"
#include "csr.h"
#include "sbi.h"
#include "string.h"

#define SBI_EXT_XEN 0x0A58454E
#define HYPERCALL_SCHED_OP 29
#define HYPERCALL_EVENT_CHANNEL_OP 32
#define SCHEDOP_POLL 3
#define EVTCHNOP_SEND 4
#define SHARED_INFO_PENDING 1536
#define TICKS_PER_MS 10000ull /* the time CSR counts 100 ns */

enum { XS_READ = 2, XS_WATCH = 4, XS_WRITE = 11, XS_WATCH_EVENT = 15, XS_ERROR = 16 };

struct xs_ring { /* xenstore_domain_interface */
    char req[1024];
    char rsp[1024];
    volatile u32 req_cons, req_prod, rsp_cons, rsp_prod;
    volatile u32 server_features, connection, error;
};

struct xs_header { u32 type, req_id, tx_id, len; };

struct sched_poll { u64 ports; u32 nr_ports; u32 pad; u64 timeout; };

static struct xs_ring *ring;
static u32 port;
static volatile u32 *pending;
static u32 next_req = 1;
static u64 deadline;

/* The last reply (NUL-terminated) and the watch events seen so far. */
static char reply[4097];
static u32 reply_type, reply_len;
static int watch_events;
static char watch_path[256];

static long hypercall2(long number, long a0, long a1)
{
    register long x10 asm("a0") = a0;
    register long x11 asm("a1") = a1;
    register long x16 asm("a6") = number;
    register long x17 asm("a7") = SBI_EXT_XEN;
    asm volatile("ecall" : "+r"(x10), "+r"(x11) : "r"(x16), "r"(x17) : "memory");
    return x10;
}

static void notify(void)
{
    u32 send = port;
    hypercall2(HYPERCALL_EVENT_CHANNEL_OP, EVTCHNOP_SEND, (long)(xlen_t)&send);
}

static void fail(const char *why)
{
    printf("xs-client: FAIL %s (reply type %u '%s')\n", why, reply_type, reply);
    sbi_exit(1);
}

/* Clears our port's pending bit: call before looking at the ring, then sleep() if there was nothing. */
static void clear_pending(void)
{
    __atomic_fetch_and(&pending[port >> 5], ~(1u << (port & 31)), __ATOMIC_SEQ_CST);
}

/* Sleeps until our port is pending or 100 ms pass; fails the run past the deadline. */
static void sleep_on_port(void)
{
    if (read_time() > deadline) fail("timed out waiting for xenstored");
    u32 ports[1] = { port };
    struct sched_poll poll = { (u64)(xlen_t)ports, 1, 0, (read_time() + 100 * TICKS_PER_MS) * 100 };
    hypercall2(HYPERCALL_SCHED_OP, SCHEDOP_POLL, (long)(xlen_t)&poll);
}

static void ring_write(const void *data, u32 len)
{
    const char *p = data;
    while (len) {
        clear_pending();
        u32 cons = ring->req_cons, prod = ring->req_prod;
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if (prod - cons > sizeof(ring->req)) fail("request ring indices broken");
        u32 space = sizeof(ring->req) - (prod - cons);
        if (space == 0) {
            notify();
            sleep_on_port();
            continue;
        }
        u32 off = prod % sizeof(ring->req), chunk = sizeof(ring->req) - off;
        if (chunk > space) chunk = space;
        if (chunk > len) chunk = len;
        memcpy(ring->req + off, p, chunk);
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        ring->req_prod = prod + chunk;
        p += chunk;
        len -= chunk;
    }
}

static void ring_read(void *data, u32 len)
{
    char *p = data;
    while (len) {
        clear_pending();
        u32 cons = ring->rsp_cons, prod = ring->rsp_prod;
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if (prod - cons > sizeof(ring->rsp)) fail("response ring indices broken");
        if (prod == cons) {
            sleep_on_port();
            continue;
        }
        u32 off = cons % sizeof(ring->rsp), chunk = sizeof(ring->rsp) - off;
        if (chunk > prod - cons) chunk = prod - cons;
        if (chunk > len) chunk = len;
        memcpy(p, ring->rsp + off, chunk);
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        ring->rsp_cons = cons + chunk;
        p += chunk;
        len -= chunk;
    }
}

/* Reads one message: a watch event is counted (its path kept), anything else becomes the reply. */
static u32 read_message(void)
{
    struct xs_header h;
    ring_read(&h, sizeof(h));
    if (h.len > 4096) fail("reply longer than 4096 bytes");
    static char body[4097];
    ring_read(body, h.len);
    body[h.len] = 0;
    notify(); /* room in the response ring */
    if (h.type == XS_WATCH_EVENT) {
        watch_events++;
        u32 n = strlen(body);
        if (n >= sizeof(watch_path)) n = sizeof(watch_path) - 1;
        memcpy(watch_path, body, n);
        watch_path[n] = 0;
        return 0;
    }
    memcpy(reply, body, h.len + 1);
    reply_type = h.type;
    reply_len = h.len;
    return h.req_id;
}

/* Sends a request of up to three strings (each NUL-terminated unless it is the last of a write) and waits for its reply. */
static u32 request(u32 type, const char *a, const char *b, int b_terminated)
{
    u32 alen = strlen(a) + 1, blen = b ? strlen(b) + (b_terminated ? 1 : 0) : 0;
    struct xs_header h = { type, next_req++, 0, alen + blen };
    ring_write(&h, sizeof(h));
    ring_write(a, alen);
    if (b) ring_write(b, blen);
    notify();
    while (read_message() != h.req_id) {
    }
    return reply_type;
}

static int is_error(const char *name) { return reply_type == XS_ERROR && strcmp(reply, name) == 0; }

static void xs_write(const char *path, const char *value)
{
    if (request(XS_WRITE, path, value, 0) != XS_WRITE) fail("write");
}

static const char *xs_read(const char *path)
{
    if (request(XS_READ, path, 0, 0) != XS_READ) fail("read");
    return reply;
}

static void wait_for_watch(int count)
{
    while (watch_events < count) read_message();
}

static void pause_ms(u64 ms)
{
    u64 until = read_time() + ms * TICKS_PER_MS;
    while (read_time() < until) {
        clear_pending();
        sleep_on_port();
    }
}

static int conversation(void)
{
    xs_write("data/greeting", "hello from the guest");
    if (strcmp(xs_read("data/greeting"), "hello from the guest") != 0) fail("greeting read back differs");
    printf("xs-client: read back '%s'\n", reply);

    if (request(XS_WATCH, "data/ping", "tok", 1) != XS_WATCH) fail("watch");
    wait_for_watch(1); /* a watch fires once when it is set */
    printf("xs-client: watch set on %s\n", watch_path);
    wait_for_watch(2);
    if (strcmp(watch_path, "data/ping") != 0) fail("watch fired for another path");
    if (strcmp(xs_read("data/ping"), "pong-1") != 0) fail("data/ping is not pong-1");
    printf("xs-client: watch fired %s = %s\n", watch_path, reply);

    pause_ms(2000);
    printf("xs-client: sending after the pause\n");
    xs_write("data/after", "queued");
    if (strcmp(xs_read("data/ping"), "pong-1") != 0) fail("data/ping changed");
    printf("xs-client: answered after the pause\n");

    wait_for_watch(3);
    if (strcmp(xs_read("data/ping"), "pong-2") != 0) fail("data/ping is not pong-2");
    printf("xs-client: watch fired again %s = %s\n", watch_path, reply);
    return 0;
}

static int peek(const char *path)
{
    request(XS_READ, path, 0, 0);
    printf("xs-client: read %s -> %s\n", path, reply_type == XS_ERROR ? reply : "(a value)");
    if (!is_error("EACCES")) fail("read of another guest's key was not EACCES");
    request(XS_WRITE, path, "stolen", 0);
    printf("xs-client: write %s -> %s\n", path, reply_type == XS_ERROR ? reply : "(done)");
    if (!is_error("EACCES")) fail("write of another guest's key was not EACCES");
    return 0;
}

int main(xlen_t hart, xlen_t start_info)
{
    u8 *info = (u8 *)start_info;
    ring = (struct xs_ring *)(xlen_t)(*(u64 *)(info + 56) << 12);
    port = *(u32 *)(info + 64);
    pending = (volatile u32 *)((xlen_t) * (u64 *)(info + 40) + SHARED_INFO_PENDING);
    const char *cmdline = (const char *)(info + 128);
    deadline = read_time() + 120000 * TICKS_PER_MS;
    printf("xs-client: ring %p port %u cmdline '%s'\n", (void *)ring, port, cmdline);
    int rc = strncmp(cmdline, "peek=", 5) == 0 ? peek(cmdline + 5) : conversation();
    if (rc == 0) printf("xs-client: PASS\n");
    return rc;
}
