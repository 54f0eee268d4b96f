/* The xenstore client (xenbus.h): xs_wire messages over the ring page start_info names (spec §6).
   Requests carry a fresh req_id and wait in one of NR_SLOTS slots until the reply with that id arrives;
   replies are read in the store port's event handler (interrupt context), reassembled (a 4 KiB body
   does not fit the 1 KiB ring at once), matched by req_id, and watch events (req_id 0) matched by
   token. A message is written whole by one writer at a time (tx_busy): a request made from interrupt
   context while the thread is mid-message, or while the ring is full, waits in a small queue that the
   next event or the end of the thread's write sends. Everything the ring says is checked: indices
   more than a ring apart, an oversized header or xenstored's error field stop the client for good
   (-XEN_EIO), as xenstored does to a guest that lies; replies nobody waits for are counted. */
#include "os.h"
#include "xenbus.h"

u32 xenbus_timeout_ms = 10000;
struct xenbus_stats xenbus_stats;

static struct xenstore_domain_interface *ring;
static evtchn_port_t port;
static int broken;
static u32 next_req_id = 1, next_token = 1;

#define NR_SLOTS 16
static struct slot {
    int in_use;
    u32 req_id, type;
    volatile int done;
    int err;
    char *buf;
    size_t size;
    u32 len;
    xenbus_done_t cb; /* async: runs in the handler, then the slot is free */
    void *data;
} slots[NR_SLOTS];

static struct xenbus_watch *watches;

/* Requests from interrupt context that could not be written yet. */
#define QUEUE_LEN 8
#define QUEUED_PAYLOAD 256
static struct queued { u32 type, req_id, len; char payload[QUEUED_PAYLOAD]; } queue[QUEUE_LEN];
static unsigned q_head, q_count;

static int tx_busy;
static char tx_buf[sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX];

/* Reassembly of the message being received; xb_process is the only reader and never nests. */
static struct xsd_sockmsg rx_hdr;
static u32 rx_got;
static char rx_body[XENSTORE_PAYLOAD_MAX + 1];
static int in_process, process_again;

struct iov { const void *base; u32 len; };

static const struct { const char *name; int value; } error_names[] = {
    { "EINVAL", XEN_EINVAL }, { "EACCES", XEN_EACCES }, { "EEXIST", XEN_EEXIST }, { "EISDIR", XEN_EISDIR },
    { "ENOENT", XEN_ENOENT }, { "ENOMEM", XEN_ENOMEM }, { "ENOSPC", XEN_ENOSPC }, { "EIO", XEN_EIO },
    { "ENOTEMPTY", XEN_ENOTEMPTY }, { "ENOSYS", XEN_ENOSYS }, { "EROFS", XEN_EROFS }, { "EBUSY", XEN_EBUSY },
    { "EAGAIN", XEN_EAGAIN }, { "EISCONN", XEN_EISCONN }, { "E2BIG", XEN_E2BIG }, { "EPERM", XEN_EPERM },
};

static int errno_of(const char *name)
{
    for (unsigned i = 0; i < ARRAY_SIZE(error_names); i++)
        if (strcmp(error_names[i].name, name) == 0) return -error_names[i].value;
    return -XEN_EINVAL;
}

static void complete(struct slot *s, int err, const char *body, u32 len)
{
    if (s->cb) {
        xenbus_done_t cb = s->cb;
        void *data = s->data;
        s->in_use = 0;
        cb(err, err ? NULL : body, err ? 0 : len, data);
        return;
    }
    if (!err && s->buf && s->size) {
        u32 n = (u32)MIN((size_t)len, s->size - 1);
        memcpy(s->buf, body, n);
        s->buf[n] = 0;
    }
    s->len = len;
    s->err = err;
    wmb();
    s->done = 1;
}

static void ring_broken(const char *why)
{
    if (broken) return;
    broken = 1;
    printf("pvos: xenbus: ring unusable: %s; every xenstore request fails from now on\n", why);
    for (int i = 0; i < NR_SLOTS; i++)
        if (slots[i].in_use && !slots[i].done) complete(&slots[i], -XEN_EIO, NULL, 0);
    q_count = 0;
}

static void dispatch_watch_event(void)
{
    u32 len = rx_hdr.len;
    const char *path = rx_body;
    u32 path_len = (u32)strlen(path);
    if (path_len + 1 >= len) {
        xenbus_stats.bad_messages++;
        return;
    }
    const char *token = path + path_len + 1;
    for (struct xenbus_watch *w = watches; w; w = w->next) {
        if (strcmp(w->token, token) != 0) continue;
        xenbus_stats.watch_events++;
        u32 n = MIN(path_len, (u32)sizeof w->last_path - 1);
        memcpy(w->last_path, path, n);
        w->last_path[n] = 0;
        wmb();
        w->events++;
        if (w->handler) w->handler(w, path);
        return;
    }
    xenbus_stats.stray_events++; /* a watch we dropped; xenstored may still fire it once */
}

static void dispatch(void)
{
    rx_body[rx_hdr.len] = 0;
    if (rx_hdr.type == XS_WATCH_EVENT) {
        dispatch_watch_event();
        return;
    }
    for (int i = 0; i < NR_SLOTS; i++) {
        struct slot *s = &slots[i];
        if (!s->in_use || s->done || s->req_id != rx_hdr.req_id) continue;
        xenbus_stats.replies++;
        int err = 0;
        if (rx_hdr.type == XS_ERROR) {
            err = errno_of(rx_body);
            xenbus_stats.errors++;
        } else if (rx_hdr.type != s->type) {
            err = -XEN_EIO; /* xenstored answers a request with its own type or ERROR, nothing else */
            xenbus_stats.bad_messages++;
        }
        complete(s, err, rx_body, rx_hdr.len);
        return;
    }
    xenbus_stats.stray_replies++; /* its caller timed out, or xenstored made it up */
}

/* Reads every complete message in the response ring; interrupt context or thread with irqs off. */
static void xb_process(void)
{
    if (!ring || broken) return;
    if (in_process) {
        process_again = 1; /* a printf in a handler ran the upcall: the outer loop looks again */
        return;
    }
    in_process = 1;
    int consumed = 0;
    do {
        process_again = 0;
        for (;;) {
            XENSTORE_RING_IDX cons = READ_ONCE(ring->rsp_cons), prod = READ_ONCE(ring->rsp_prod);
            rmb();
            if (prod - cons > XENSTORE_RING_SIZE) {
                ring_broken("response ring indices more than a ring apart");
                break;
            }
            if (prod == cons) break;
            u32 want = rx_got < sizeof rx_hdr ? (u32)sizeof rx_hdr - rx_got : (u32)sizeof rx_hdr + rx_hdr.len - rx_got;
            u32 n = MIN(prod - cons, want), off = MASK_XENSTORE_IDX(cons), first = MIN(n, XENSTORE_RING_SIZE - off);
            char *dst = rx_got < sizeof rx_hdr ? (char *)&rx_hdr + rx_got : rx_body + (rx_got - sizeof rx_hdr);
            memcpy(dst, ring->rsp + off, first);
            memcpy(dst + first, ring->rsp, n - first);
            mb(); /* the bytes are ours before the space goes back */
            WRITE_ONCE(ring->rsp_cons, cons + n);
            consumed = 1;
            rx_got += n;
            if (rx_got == sizeof rx_hdr && rx_hdr.len > XENSTORE_PAYLOAD_MAX) {
                ring_broken("a reply longer than 4096 bytes");
                break;
            }
            if (rx_got == sizeof rx_hdr + rx_hdr.len) {
                rx_got = 0;
                dispatch();
            }
        }
    } while (process_again && !broken);
    in_process = 0;
    if (ring && READ_ONCE(ring->error) != XENSTORE_ERROR_NONE) ring_broken("xenstored set the ring's error field");
    if (consumed) {
        mb();
        evtchn_send(port);
    }
}

static u32 free_space(void)
{
    XENSTORE_RING_IDX cons = READ_ONCE(ring->req_cons), prod = READ_ONCE(ring->req_prod);
    mb();
    if (prod - cons > XENSTORE_RING_SIZE) {
        ring_broken("request ring indices more than a ring apart");
        return 0;
    }
    return XENSTORE_RING_SIZE - (prod - cons);
}

/* Writes one message. may_wait (thread context): waits, interrupts on, for xenstored to make room;
   otherwise the whole message must fit now, else -XEN_EBUSY. */
static int send_msg(u32 type, u32 req_id, u32 tx_id, const struct iov *iov, int n, int may_wait, u64 deadline)
{
    u32 len = 0;
    for (int i = 0; i < n; i++) len += iov[i].len;
    if (len > XENSTORE_PAYLOAD_MAX) return -XEN_E2BIG;
    u32 total = (u32)sizeof(struct xsd_sockmsg) + len;
    xlen_t f = irq_save();
    if (broken) {
        irq_restore(f);
        return -XEN_EIO;
    }
    if (tx_busy || (!may_wait && free_space() < total)) {
        irq_restore(f);
        return -XEN_EBUSY;
    }
    tx_busy = 1;
    irq_restore(f);

    struct xsd_sockmsg h = { .type = type, .req_id = req_id, .tx_id = tx_id, .len = len };
    memcpy(tx_buf, &h, sizeof h);
    u32 at = sizeof h;
    for (int i = 0; i < n; i++) {
        memcpy(tx_buf + at, iov[i].base, iov[i].len);
        at += iov[i].len;
    }
    int rc = 0;
    for (u32 done = 0; done < total;) {
        u32 space = free_space();
        if (broken) {
            rc = -XEN_EIO;
            break;
        }
        if (space == 0) {
            evtchn_send(port);
            u64 now = monotonic_ns();
            if (now >= deadline) {
                /* Half a message in the ring: the stream cannot be resynchronised. */
                ring_broken("xenstored stopped reading in the middle of a request");
                rc = -XEN_ETIMEDOUT;
                break;
            }
            block_until(MIN(deadline, now + 10000000ULL));
            continue;
        }
        XENSTORE_RING_IDX prod = READ_ONCE(ring->req_prod);
        u32 off = MASK_XENSTORE_IDX(prod), chunk = MIN(MIN(space, total - done), XENSTORE_RING_SIZE - off);
        memcpy(ring->req + off, tx_buf + done, chunk);
        wmb(); /* the bytes before the index that publishes them */
        WRITE_ONCE(ring->req_prod, prod + chunk);
        done += chunk;
    }
    tx_busy = 0;
    if (rc == 0) xenbus_stats.requests++;
    evtchn_send(port);
    return rc;
}

static struct slot *slot_alloc(u32 type)
{
    xlen_t f = irq_save();
    for (int i = 0; i < NR_SLOTS; i++) {
        if (slots[i].in_use) continue;
        struct slot *s = &slots[i];
        memset(s, 0, sizeof *s);
        s->in_use = 1;
        s->type = type;
        s->req_id = next_req_id++;
        if (!next_req_id) next_req_id = 1; /* 0 is the id of watch events */
        irq_restore(f);
        return s;
    }
    irq_restore(f);
    return NULL;
}

/* Sends what interrupt context queued, in order, while it fits. */
static void flush_queue(void)
{
    xlen_t f = irq_save();
    while (q_count && !broken) {
        struct queued *q = &queue[q_head];
        struct iov iov = { q->payload, q->len };
        int rc = send_msg(q->type, q->req_id, XBT_NIL, &iov, 1, 0, 0);
        if (rc == -XEN_EBUSY) break;
        if (rc < 0)
            for (int i = 0; i < NR_SLOTS; i++)
                if (slots[i].in_use && slots[i].req_id == q->req_id) complete(&slots[i], rc, NULL, 0);
        q_head = (q_head + 1) % QUEUE_LEN;
        q_count--;
    }
    irq_restore(f);
}

static void store_event(evtchn_port_t p, void *data)
{
    xb_process();
    flush_queue();
}

/* An asynchronous request of up to two strings (NUL-terminated), answered to done. */
static int request_async(u32 type, const char *a, const char *b, xenbus_done_t done, void *data)
{
    if (!ring) return -XEN_ENODEV;
    size_t alen = strlen(a) + 1, blen = b ? strlen(b) + 1 : 0;
    if (alen + blen > QUEUED_PAYLOAD) return -XEN_E2BIG;
    xlen_t f = irq_save();
    if (broken || q_count == QUEUE_LEN) {
        irq_restore(f);
        return broken ? -XEN_EIO : -XEN_EBUSY;
    }
    struct slot *s = slot_alloc(type);
    if (!s) {
        irq_restore(f);
        return -XEN_EBUSY;
    }
    s->cb = done;
    s->data = data;
    struct queued *q = &queue[(q_head + q_count) % QUEUE_LEN];
    q->type = type;
    q->req_id = s->req_id;
    q->len = (u32)(alen + blen);
    memcpy(q->payload, a, alen);
    if (b) memcpy(q->payload + alen, b, blen);
    q_count++;
    irq_restore(f);
    flush_queue();
    return 0;
}

/* A blocking request: sends, waits for the reply (copied into buf), returns its length or -errno. */
static int call(u32 type, xenbus_transaction_t t, const struct iov *iov, int n, char *buf, size_t size)
{
    if (in_interrupt()) return -XEN_EDEADLK;
    if (!ring) return -XEN_ENODEV;
    if (broken) return -XEN_EIO;
    u64 deadline = monotonic_ns() + (u64)xenbus_timeout_ms * 1000000ULL;
    struct slot *s = slot_alloc(type);
    if (!s) return -XEN_EBUSY;
    s->buf = buf;
    s->size = size;
    int rc = send_msg(type, s->req_id, t, iov, n, 1, deadline);
    flush_queue();
    xlen_t f = irq_save();
    if (rc == 0) {
        while (!s->done && !broken && monotonic_ns() < deadline) block_until(deadline);
        if (s->done) rc = s->err ? s->err : (int)s->len;
        else if (broken) rc = -XEN_EIO;
        else {
            rc = -XEN_ETIMEDOUT;
            xenbus_stats.timeouts++;
        }
    }
    s->in_use = 0; /* a reply that comes after this is a stray: req_ids are not reused soon */
    irq_restore(f);
    return rc;
}

static int call_strings(u32 type, xenbus_transaction_t t, const char *a, const char *b, int b_nul, char *buf, size_t size)
{
    struct iov iov[2] = { { a, (u32)strlen(a) + 1 }, { b, b ? (u32)strlen(b) + (b_nul ? 1 : 0) : 0 } };
    return call(type, t, iov, b ? 2 : 1, buf, size);
}

int xenbus_read(xenbus_transaction_t t, const char *path, char *buf, size_t size)
{
    return call_strings(XS_READ, t, path, NULL, 0, buf, size);
}

int xenbus_read_u64(xenbus_transaction_t t, const char *path, u64 *value)
{
    char buf[24];
    int rc = xenbus_read(t, path, buf, sizeof buf);
    if (rc < 0) return rc;
    if (rc == 0 || rc >= (int)sizeof buf) return -XEN_EINVAL;
    u64 v = 0;
    for (int i = 0; i < rc; i++) {
        if (buf[i] < '0' || buf[i] > '9') return -XEN_EINVAL;
        v = v * 10 + (u64)(buf[i] - '0');
    }
    *value = v;
    return 0;
}

int xenbus_write(xenbus_transaction_t t, const char *path, const char *value)
{
    char ok[4];
    int rc = call_strings(XS_WRITE, t, path, value, 0, ok, sizeof ok); /* the value carries no NUL */
    return rc < 0 ? rc : 0;
}

int xenbus_printf(xenbus_transaction_t t, const char *path, const char *fmt, ...)
{
    char value[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(value, sizeof value, fmt, ap);
    va_end(ap);
    if (n >= (int)sizeof value) return -XEN_E2BIG;
    return xenbus_write(t, path, value);
}

int xenbus_mkdir(xenbus_transaction_t t, const char *path)
{
    char ok[4];
    int rc = call_strings(XS_MKDIR, t, path, NULL, 0, ok, sizeof ok);
    return rc < 0 ? rc : 0;
}

int xenbus_rm(xenbus_transaction_t t, const char *path)
{
    char ok[4];
    int rc = call_strings(XS_RM, t, path, NULL, 0, ok, sizeof ok);
    return rc < 0 ? rc : 0;
}

int xenbus_directory(xenbus_transaction_t t, const char *path, char *buf, size_t size)
{
    int rc = call_strings(XS_DIRECTORY, t, path, NULL, 0, buf, size);
    if (rc < 0) return rc;
    if ((size_t)rc >= size) return -XEN_E2BIG;
    int count = 0;
    for (int i = 0; i < rc; i++)
        if (buf[i] == 0) count++;
    return count;
}

int xenbus_transaction_start(xenbus_transaction_t *t)
{
    char id[16];
    struct iov iov = { "", 1 };
    int rc = call(XS_TRANSACTION_START, XBT_NIL, &iov, 1, id, sizeof id);
    if (rc < 0) return rc;
    u32 v = 0;
    int digits = 0;
    for (const char *p = id; *p >= '0' && *p <= '9'; p++, digits++) v = v * 10 + (u32)(*p - '0');
    if (!digits || v == 0) return -XEN_EINVAL;
    *t = v;
    return 0;
}

int xenbus_transaction_end(xenbus_transaction_t t, int abort)
{
    char ok[4];
    int rc = call_strings(XS_TRANSACTION_END, t, abort ? "F" : "T", NULL, 0, ok, sizeof ok);
    return rc < 0 ? rc : 0;
}

int xenbus_transact(int (*body)(xenbus_transaction_t t, void *data), void *data)
{
    for (int attempt = 0; attempt < 16; attempt++) {
        xenbus_transaction_t t;
        int rc = xenbus_transaction_start(&t);
        if (rc < 0) return rc;
        rc = body(t, data);
        if (rc < 0) {
            xenbus_transaction_end(t, 1);
            return rc;
        }
        int end = xenbus_transaction_end(t, 0);
        if (end != -XEN_EAGAIN) return end < 0 ? end : rc;
    }
    return -XEN_EAGAIN;
}

int xenbus_read_async(const char *path, xenbus_done_t done, void *data)
{
    return request_async(XS_READ, path, NULL, done, data);
}

/* ---- watches ---- */
static void watch_link(struct xenbus_watch *w)
{
    xlen_t f = irq_save();
    snprintf(w->token, sizeof w->token, "pvos-%u", next_token++);
    w->events = 0;
    w->last_path[0] = 0;
    w->next = watches;
    watches = w;
    w->registered = 1;
    irq_restore(f);
}

static void watch_unlink(struct xenbus_watch *w)
{
    xlen_t f = irq_save();
    for (struct xenbus_watch **p = &watches; *p; p = &(*p)->next)
        if (*p == w) {
            *p = w->next;
            break;
        }
    w->registered = 0;
    irq_restore(f);
}

int xenbus_watch(struct xenbus_watch *w)
{
    if (w->registered) return -XEN_EEXIST;
    watch_link(w); /* before the request: the first event follows the reply at once */
    char ok[4];
    int rc = call_strings(XS_WATCH, XBT_NIL, w->path, w->token, 1, ok, sizeof ok);
    if (rc < 0) {
        watch_unlink(w);
        return rc;
    }
    return 0;
}

static void watch_async_done(int err, const char *body, u32 len, void *data)
{
    struct xenbus_watch *w = data;
    if (err) printf("pvos: xenbus: watch on %s refused: %d\n", w->path, err);
}

int xenbus_watch_async(struct xenbus_watch *w)
{
    if (w->registered) return -XEN_EEXIST;
    watch_link(w);
    int rc = request_async(XS_WATCH, w->path, w->token, watch_async_done, w);
    if (rc < 0) watch_unlink(w);
    return rc;
}

static void unwatch_done(int err, const char *body, u32 len, void *data) {}

int xenbus_unwatch(struct xenbus_watch *w)
{
    if (!w->registered) return -XEN_ENOENT;
    watch_unlink(w);
    if (in_interrupt()) return request_async(XS_UNWATCH, w->path, w->token, unwatch_done, NULL);
    char ok[4];
    int rc = call_strings(XS_UNWATCH, XBT_NIL, w->path, w->token, 1, ok, sizeof ok);
    return rc < 0 ? rc : 0;
}

int xenbus_watch_wait(struct xenbus_watch *w, u32 seen, u64 deadline_ns)
{
    if (in_interrupt()) return -XEN_EDEADLK;
    xlen_t f = irq_save();
    while (w->events == seen && !broken && monotonic_ns() < deadline_ns) block_until(deadline_ns);
    u32 now = w->events;
    irq_restore(f);
    if (now != seen) return (int)now;
    return broken ? -XEN_EIO : -XEN_ETIMEDOUT;
}

/* ---- set-up ---- */
int xenbus_available(void) { return ring && !broken && READ_ONCE(ring->server_features) != 0; }

domid_t xenbus_domid(void)
{
    if (my_domid != DOMID_SELF || !xenbus_available()) return my_domid;
    u64 id;
    int rc = xenbus_read_u64(XBT_NIL, "domid", &id);
    if (rc == 0 && id < DOMID_SELF) my_domid = (domid_t)id;
    else printf("pvos: xenbus: cannot learn our domid from xenstore: %d\n", rc);
    return my_domid;
}

void xenbus_init(void)
{
    xenbus_timeout_ms = (u32)cmdline_u64("xenbus-timeout", 10000);
    if (!start_info->store_mfn) {
        printf("pvos: xenbus: no xenstore ring in start_info\n");
        return;
    }
    ring = (struct xenstore_domain_interface *)(uintptr_t)(start_info->store_mfn << PAGE_SHIFT);
    port = start_info->store_evtchn;
    int rc = evtchn_bind(port, store_event, NULL);
    if (rc) {
        printf("pvos: xenbus: cannot bind store port %u: %d\n", port, rc);
        ring = NULL;
        return;
    }
    store_event(port, NULL); /* anything already there */
    int had_domid = my_domid != DOMID_SELF;
    domid_t id = xenbus_domid();
    printf("pvos: xenbus: ring at %p port %u, xenstored %s (features 0x%x), domid %d%s\n", (void *)ring, port,
           xenbus_available() ? "attached" : "not attached", READ_ONCE(ring->server_features), id == DOMID_SELF ? -1 : (int)id,
           had_domid ? " (command line)" : id == DOMID_SELF ? "" : " (from xenstore)");
}

/* ---- suspend and resume (suspend.c) ---- */
/* Something awaits xenstored's answer: a suspend now would strand it with the old domain's connection. */
int xenbus_busy(void)
{
    for (int i = 0; i < NR_SLOTS; i++)
        if (slots[i].in_use) return 1;
    return q_count != 0 || tx_busy;
}

/* In a new domain after a restore: another id (learned again from xenstore), maybe another store port, a
   xenstored that knows none of our watches. The ring page and its indices came back with our memory and
   nothing was in flight (suspend waits for xenbus_busy() to clear), so the stream goes on where it was. */
void xenbus_resume(void)
{
    if (!ring) return;
    /* The old xenstored went on writing our response ring while the kernel saved it (a watch event for our
       own acknowledgement, a late reply): what is there may stop halfway through a message. As Linux's
       xb_init_comms does on resume, it is dropped, with whatever we had reassembled of it; a request still
       awaiting its reply gets -EIO instead of waiting out its timeout. */
    xlen_t f = irq_save();
    u32 dropped = READ_ONCE(ring->rsp_prod) - READ_ONCE(ring->rsp_cons);
    WRITE_ONCE(ring->rsp_cons, READ_ONCE(ring->rsp_prod));
    rx_got = 0;
    in_process = process_again = 0;
    for (int i = 0; i < NR_SLOTS; i++)
        if (slots[i].in_use && !slots[i].done) complete(&slots[i], -XEN_EIO, NULL, 0);
    irq_restore(f);
    if (dropped) printf("pvos: xenbus: %u bytes the old xenstored wrote after we stopped dropped\n", dropped);
    evtchn_port_t now = start_info->store_evtchn;
    if (now != port) {
        evtchn_unbind(port);
        port = now;
        evtchn_bind(port, store_event, NULL);
    }
    evtchn_send(port);
    my_domid = DOMID_SELF;
    domid_t id = xenbus_domid();
    int n = 0, failed = 0;
    for (struct xenbus_watch *w = watches; w; w = w->next) {
        char ok[4];
        n++;
        if (call_strings(XS_WATCH, XBT_NIL, w->path, w->token, 1, ok, sizeof ok) < 0) failed++;
    }
    printf("pvos: xenbus: resumed as domain %d, port %u: %d watches registered again%s\n", id == DOMID_SELF ? -1 : (int)id, port, n,
           failed ? " (some refused)" : "");
}

