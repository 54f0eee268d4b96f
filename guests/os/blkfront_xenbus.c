/* blkfront's xenbus side: finding the disk, the handshake (spec §7; io/blkif.h "Frontend/Backend Device
   Properties") and recovery (ARCHITECTURE §6).
     backend InitWait -> we grant a fresh ring page, offer an event channel, write ring-ref,
     event-channel, protocol, then Initialised -> backend Connected -> we read sectors, sector-size,
     info, feature-flush-cache, feature-barrier, feature-max-indirect-segments, then Connected.
   A watch on the backend's state only raises a flag (watch handlers run in interrupt context); the
   thread acts on it in blkfront_poll, which submit and wait call. A backend whose state goes back to
   InitWait (or through Closing/Closed) has lost our ring: we go to Initialising so it does not touch
   the old ring, take any response still on it, end the old grants, connect again and issue every
   request that had no response, oldest first. A backend that resumes our ring itself and stays
   Connected needs nothing from us. */
#include "blkfront_priv.h"

#define PROTOCOL "x86_64-abi" /* XEN_IO_PROTO_ABI_X86_64: the 64-bit layout, which both widths use */

static void be_state_changed(struct xenbus_watch *w, const char *path) { blk.be_changed = 1; }

static char *be_key(char *buf, size_t size, const char *key)
{
    snprintf(buf, size, "%s/%s", blk.info.backend, key);
    return buf;
}

static u64 read_be_u64(const char *key, u64 fallback)
{
    char p[160];
    u64 v;
    return xenbus_read_u64(XBT_NIL, be_key(p, sizeof p, key), &v) == 0 ? v : fallback;
}

static int read_backend_info(void)
{
    char p[160];
    u64 sectors;
    int rc = xenbus_read_u64(XBT_NIL, be_key(p, sizeof p, "sectors"), &sectors);
    if (rc < 0) {
        printf("blkfront: %s: no usable 'sectors' (%d)\n", blk.info.backend, rc);
        return rc;
    }
    u64 ssize = read_be_u64("sector-size", 512);
    if (ssize < 512 || ssize > PAGE_SIZE || (ssize & (ssize - 1))) {
        printf("blkfront: %s: sector-size %llu is not a power of two in 512..4096\n", blk.info.backend, ssize);
        return -XEN_EINVAL;
    }
    u64 indirect = read_be_u64("feature-max-indirect-segments", 0);
    blk.info.sectors = sectors;
    blk.info.sector_size = (u32)ssize;
    blk.info.info = (u32)read_be_u64("info", 0);
    blk.info.flush = read_be_u64("feature-flush-cache", 0) == 1;
    blk.info.barrier = read_be_u64("feature-barrier", 0) == 1;
    blk.info.max_indirect = indirect > BLKIF_MAX_SEGMENTS_PER_REQUEST ? (u32)MIN(indirect, (u64)BLKFRONT_MAX_INDIRECT) : 0;
    return 0;
}

static int write_ring_keys(xenbus_transaction_t t, void *data)
{
    char p[96];
    int rc;
    snprintf(p, sizeof p, "%s/ring-ref", blk.info.frontend);
    if ((rc = xenbus_printf(t, p, "%u", blk.ring_ref)) < 0) return rc;
    snprintf(p, sizeof p, "%s/event-channel", blk.info.frontend);
    if ((rc = xenbus_printf(t, p, "%u", blk.port)) < 0) return rc;
    snprintf(p, sizeof p, "%s/protocol", blk.info.frontend);
    if ((rc = xenbus_write(t, p, PROTOCOL)) < 0) return rc;
    snprintf(p, sizeof p, "%s/feature-persistent", blk.info.frontend);
    return xenbus_write(t, p, "0");
}

static void ring_teardown(void)
{
    if (blk.port) {
        evtchn_close(blk.port);
        blk.port = 0;
    }
    if (blk.ring_ref) {
        if (!gnttab_end_access(blk.ring_ref)) {
            blk.info.leaked_grants++;
            blk.sring = NULL; /* the old backend may still write it: a fresh page next time */
        }
        blk.ring_ref = 0;
    }
}

static int ring_setup(void)
{
    if (!blk.sring && !(blk.sring = page_alloc())) return -XEN_ENOMEM;
    memset(blk.sring, 0, PAGE_SIZE);
    blk.sring->req_event = blk.sring->rsp_event = 1; /* SHARED_RING_INIT */
    blk.req_prod_pvt = blk.rsp_cons = 0;
    blk.ring_bad = 0;
    blk.ring_ref = gnttab_grant_access(blk.info.backend_id, (uintptr_t)blk.sring >> PAGE_SHIFT, 0);
    if (!blk.ring_ref) return -XEN_ENOSPC;
    int rc = (int)evtchn_alloc_unbound(blk.info.backend_id, &blk.port);
    if (rc == 0) rc = evtchn_bind(blk.port, blk_event, NULL);
    return rc;
}

/* Where the backend is; re-read on every connect, since a restarted backend may be another domain. */
static int read_frontend_keys(void)
{
    char p[96];
    u64 id;
    snprintf(p, sizeof p, "%s/backend", blk.info.frontend);
    int rc = xenbus_read(XBT_NIL, p, blk.info.backend, sizeof blk.info.backend);
    if (rc < 0 || rc >= (int)sizeof blk.info.backend) return rc < 0 ? rc : -XEN_E2BIG;
    snprintf(p, sizeof p, "%s/backend-id", blk.info.frontend);
    if ((rc = xenbus_read_u64(XBT_NIL, p, &id)) < 0) return rc;
    if (id >= DOMID_SELF) return -XEN_EINVAL;
    blk.info.backend_id = (domid_t)id;
    return 0;
}

int blk_connect(u64 timeout_ms)
{
    char state[112];
    snprintf(state, sizeof state, "%s/state", blk.info.backend);
    int last = -1;
    int s = xenbus_wait_state(state, 1U << XenbusStateInitWait, timeout_ms, &last);
    if (s < 0) {
        printf("blkfront: %s stayed %s, not InitWait (%d)\n", blk.info.backend, xenbus_state_name(last), s);
        return s;
    }
    int rc = ring_setup();
    if (rc == 0) rc = xenbus_transact(write_ring_keys, NULL);
    if (rc == 0) rc = xenbus_switch_state(blk.info.frontend, XenbusStateInitialised);
    if (rc < 0) {
        printf("blkfront: cannot offer our ring: %d\n", rc);
        return rc;
    }
    s = xenbus_wait_state(state, 1U << XenbusStateConnected | 1U << XenbusStateClosing | 1U << XenbusStateClosed, timeout_ms, &last);
    if (s != XenbusStateConnected) {
        printf("blkfront: %s went %s instead of Connected (%d)\n", blk.info.backend, xenbus_state_name(last), s);
        return s < 0 ? s : -XEN_EIO;
    }
    if ((rc = read_backend_info()) < 0) return rc;
    if ((rc = xenbus_switch_state(blk.info.frontend, XenbusStateConnected)) < 0) return rc;
    blk.connected = 1;
    return 0;
}

static void reissue(void)
{
    u32 n = 0, failed = 0;
    xlen_t f = irq_save();
    for (;;) { /* oldest first, so the backend sees them in submission order */
        int next = -1;
        for (unsigned id = 0; id < BLK_RING_SIZE; id++)
            if (blk.shadow[id].io && blk.shadow[id].reissue && (next < 0 || blk.shadow[id].io->seq < blk.shadow[next].io->seq))
                next = (int)id;
        if (next < 0) break;
        struct blk_shadow *sh = &blk.shadow[next];
        sh->reissue = 0;
        if (blk_issue((unsigned)next) < 0) {
            /* Out of grant references or memory: that request fails rather than waits forever. */
            struct blk_io *io = sh->io;
            sh->io = NULL;
            blk.in_flight--;
            failed++;
            io->status = BLKIF_RSP_ERROR;
            wmb();
            io->done = 1;
            if (io->cb) io->cb(io);
            continue;
        }
        blk.req_prod_pvt++;
        n++;
    }
    if (n) blk_push();
    blk.info.reissued += n;
    irq_restore(f);
    printf("blkfront: reconnected to %s (domain %u): %u requests issued again%s\n", blk.info.backend, blk.info.backend_id, n,
           failed ? ", some failed for want of grants" : "");
}

static void reconnect(const char *why)
{
    printf("blkfront: backend %s is %s: reconnecting, %u requests in flight\n", blk.info.backend, why, blk.in_flight);
    xenbus_switch_state(blk.info.frontend, XenbusStateInitialising);
    xlen_t f = irq_save();
    blk.connected = 0;
    blk_take_responses(); /* what the old backend answered is done and not issued again */
    for (unsigned id = 0; id < BLK_RING_SIZE; id++)
        if (blk.shadow[id].io) {
            blk_release_grants(&blk.shadow[id]);
            blk.shadow[id].reissue = 1;
        }
    irq_restore(f);
    ring_teardown();
    blk.info.reconnects++;
    u64 timeout = cmdline_u64("blk-timeout", 60000);
    int rc = read_frontend_keys();
    if (rc == 0) rc = blk_connect(timeout);
    if (rc < 0) {
        /* The next state change of the backend brings us back here. */
        printf("blkfront: reconnect failed (%d); waiting for the backend again\n", rc);
        ring_teardown();
        return;
    }
    reissue();
}

static char be_watch_path[112];

/* Restored into a new domain: the backend directory names our old domain id (and may be another backend
   domain's), and the watch on it died with the old xenstored connection. The frontend directory, written
   afresh by the toolstack, says where the backend is now; then the reconnect below, as after a backend
   restart: every request without a response is issued again on a fresh ring. */
static void rehome(void)
{
    xenbus_unwatch(&blk.be_watch);
    int rc = read_frontend_keys();
    if (rc < 0) printf("blkfront: %s: no backend after resume (%d)\n", blk.info.frontend, rc);
    snprintf(be_watch_path, sizeof be_watch_path, "%s/state", blk.info.backend);
    blk.be_watch.path = be_watch_path;
    if ((rc = xenbus_watch(&blk.be_watch)) < 0) printf("blkfront: cannot watch %s: %d\n", be_watch_path, rc);
}

void blkfront_resume(void)
{
    if (!blk.open) return;
    blk.resumed = 1;
    blk.be_changed = 1;
}

void blkfront_poll(void)
{
    if (!blk.open || !blk.be_changed || in_interrupt()) return;
    blk.be_changed = 0;
    if (blk.resumed) {
        blk.resumed = 0;
        blk.connected = 0;
        rehome();
        reconnect("new after a restore");
        return;
    }
    char state[112];
    snprintf(state, sizeof state, "%s/state", blk.info.backend);
    int s = xenbus_read_state(state);
    if (s < 0) return;
    if (s == XenbusStateConnected && blk.connected) return; /* our own handshake's echo, or a resumed ring */
    if (s == XenbusStateInitWait) reconnect(xenbus_state_name(s));
    else if (s == XenbusStateClosing || s == XenbusStateClosed || s == XenbusStateUnknown) {
        if (blk.connected) printf("blkfront: backend %s is %s: waiting for it to come back\n", blk.info.backend, xenbus_state_name(s));
        blk.connected = 0;
    }
}

int blkfront_open(const char *vbd, u64 timeout_ms)
{
    char names[128];
    if (!xenbus_available()) return -XEN_ENODEV;
    if (!vbd) {
        int n = xenbus_directory(XBT_NIL, "device/vbd", names, sizeof names);
        if (n <= 0) return n < 0 ? n : -XEN_ENODEV;
        vbd = names;
    }
    u64 handle = 0;
    for (const char *c = vbd; *c; c++) {
        if (*c < '0' || *c > '9') return -XEN_EINVAL;
        handle = handle * 10 + (u64)(*c - '0');
    }
    snprintf(blk.info.frontend, sizeof blk.info.frontend, "device/vbd/%s", vbd);
    blk.handle = (u16)handle;
    int rc = read_frontend_keys();
    if (rc < 0) {
        printf("blkfront: %s: no backend (%d)\n", blk.info.frontend, rc);
        return rc;
    }
    snprintf(be_watch_path, sizeof be_watch_path, "%s/state", blk.info.backend);
    blk.be_watch.path = be_watch_path;
    blk.be_watch.handler = be_state_changed;
    if ((rc = xenbus_watch(&blk.be_watch)) < 0) return rc;
    if ((rc = blk_connect(timeout_ms)) < 0) {
        xenbus_unwatch(&blk.be_watch);
        ring_teardown();
        return rc;
    }
    blk.be_changed = 0;
    blk.open = 1;
    printf("blkfront: %s -> %s (domain %u): %llu sectors of %u bytes (%llu MiB), info 0x%x, flush %d, barrier %d, "
           "indirect %u segments, protocol " PROTOCOL "\n",
           blk.info.frontend, blk.info.backend, blk.info.backend_id, blk.info.sectors, blk.info.sector_size,
           blk.info.sectors / 2048, blk.info.info, blk.info.flush, blk.info.barrier, blk.info.max_indirect);
    return 0;
}
