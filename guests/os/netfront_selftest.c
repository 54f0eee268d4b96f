/* app=netfront-selftest (needs domid=): netfront's data path against a backend played inside this
   guest, so the rings, grants and events are checked without netback. The fake backend is us as the
   grantee (netfront grants to backend_id = our own id): it reads requests from the shared pages and
   moves frames only by grant copy through the kernel, as netback would, so a wrong grant (wrong frame,
   writable where it must be read-only, ended too early) fails a copy. Its event channel is an
   interdomain binding to our own unbound port. Then it lies: unknown and duplicate ids, impossible
   lengths, flags we never offered, a response producer far ahead of our requests; netfront must count
   each, stay alive, stop trusting the rings, and come back on fresh rings after a reconnect. */
#include "netfront.h"

static struct netfront nf;
static int checks, failures;
static evtchn_port_t be_port;
static u32 be_tx_cons, be_rx_cons;
static u8 be_buf[ETH_FRAME_MAX];

static void check(const char *name, int ok, const char *detail)
{
    checks++;
    if (!ok) failures++;
    printf("netfront-selftest: %s %s%s%s\n", name, ok ? "ok" : "FAILED", ok || !detail ? "" : ": ", ok || !detail ? "" : detail);
}

static s16 copy_gref(grant_ref_t ref, int into_gref, u16 offset, void *mine, u16 len)
{
    struct gnttab_copy op = { .len = len };
    struct gnttab_copy_ptr g = { .ref_or_gmfn = ref, .domid = DOMID_SELF, .offset = offset };
    struct gnttab_copy_ptr m = { .ref_or_gmfn = (uintptr_t)mine >> PAGE_SHIFT, .domid = DOMID_SELF, .offset = (u16)((uintptr_t)mine & (PAGE_SIZE - 1)) };
    op.source = into_gref ? m : g;
    op.dest = into_gref ? g : m;
    op.flags = into_gref ? GNTCOPY_dest_gref : GNTCOPY_source_gref;
    long rc = HYPERVISOR_grant_table_op(GNTTABOP_copy, &op, 1);
    return rc ? (s16)rc : op.status;
}

/* ring.h's RING_PUSH_RESPONSES_AND_CHECK_NOTIFY, the backend's half. */
static void be_push(struct sring_header *s, u32 new_prod)
{
    u32 old = s->rsp_prod;
    wmb();
    WRITE_ONCE(s->rsp_prod, new_prod);
    mb();
    if ((u32)(new_prod - READ_ONCE(s->rsp_event)) < (u32)(new_prod - old)) evtchn_send(be_port);
}

static struct netif_rx_sring *rx_sring(void) { return (struct netif_rx_sring *)nf.rx.sring; }
static struct netif_tx_sring *tx_sring(void) { return (struct netif_tx_sring *)nf.tx.sring; }

/* Delivers one frame into the next posted rx buffer; the response is written only after the copy. */
static int be_deliver(const u8 *frame, size_t len)
{
    struct netif_rx_sring *s = rx_sring();
    if (be_rx_cons == READ_ONCE(s->h.req_prod)) return -1;
    struct netif_rx_request req = s->ring[be_rx_cons & (NET_RX_RING_SIZE - 1)].req;
    memcpy(be_buf, frame, len);
    s16 st = copy_gref(req.gref, 1, 0, be_buf, (u16)len);
    struct netif_rx_response *rsp = &s->ring[be_rx_cons & (NET_RX_RING_SIZE - 1)].rsp;
    rsp->id = req.id;
    rsp->offset = 0;
    rsp->flags = NETRXF_data_validated;
    rsp->status = st == GNTST_okay ? (s16)len : NETIF_RSP_ERROR;
    be_rx_cons++;
    be_push(&s->h, be_rx_cons);
    return st;
}

/* Takes every tx request: the frame by grant copy (and a write into the read-only grant must fail). */
static int write_refused;
static size_t be_take_tx(u8 *out, size_t *len)
{
    struct netif_tx_sring *s = tx_sring();
    size_t n = 0;
    while (be_tx_cons != READ_ONCE(s->h.req_prod)) {
        rmb();
        struct netif_tx_request req = s->ring[be_tx_cons & (NET_TX_RING_SIZE - 1)].req;
        s16 st = copy_gref(req.gref, 0, req.offset, out, req.size);
        *len = st == GNTST_okay ? req.size : 0;
        write_refused = copy_gref(req.gref, 1, req.offset, be_buf, 1) != GNTST_okay;
        struct netif_tx_response *rsp = &s->ring[be_tx_cons & (NET_TX_RING_SIZE - 1)].rsp;
        rsp->id = req.id;
        rsp->status = st == GNTST_okay ? NETIF_RSP_OKAY : NETIF_RSP_ERROR;
        be_tx_cons++;
        n++;
    }
    if (n) be_push(&s->h, be_tx_cons);
    return n;
}

static u8 frame[ETH_FRAME_MAX], out[ETH_FRAME_MAX];
static const u8 peer_mac[6] = { 0x02, 0, 0, 0, 0, 0x99 };

static size_t arp_request_frame(void)
{
    memset(frame, 0xFF, 6);
    memcpy(frame + 6, peer_mac, 6);
    put16(frame + 12, ETHERTYPE_ARP);
    u8 *p = frame + ETH_HLEN;
    put16(p, 1); put16(p + 2, ETHERTYPE_IPV4); p[4] = 6; p[5] = 4; put16(p + 6, 1);
    memcpy(p + 8, peer_mac, 6); put32(p + 14, 0x0A000001);
    memset(p + 18, 0, 6); put32(p + 24, nf.nif.ip);
    memset(p + 28, 0, 18);
    return ETH_FRAME_MIN;
}

/* A round trip: an ARP request in, the reply out through tx; 1 if the reply came back right. */
static int arp_round_trip(char *why)
{
    size_t len = 0;
    if (be_deliver(frame, arp_request_frame()) != GNTST_okay) { snprintf(why, 96, "rx grant copy refused"); return 0; }
    net_poll();
    if (be_take_tx(out, &len) != 1) { snprintf(why, 96, "no tx request"); return 0; }
    net_poll(); /* the tx response: its grant must end */
    if (len < ETH_HLEN + 28 || memcmp(out, peer_mac, 6) || get16(out + 12) != ETHERTYPE_ARP || get16(out + ETH_HLEN + 6) != 2) {
        snprintf(why, 96, "tx frame of %u bytes is not our ARP reply", (unsigned)len);
        return 0;
    }
    return 1;
}

static int poll_rings(struct netif *nif) { return netfront_poll_rings((struct netfront *)nif); }

static void setup(const char *name)
{
    be_tx_cons = be_rx_cons = 0;
    int rc = netfront_rings_setup(&nf);
    evtchn_port_t local = nf.port;
    long brc = rc ? -1 : evtchn_bind_interdomain(my_domid, local, &be_port);
    char why[64];
    snprintf(why, sizeof why, "setup %d, bind_interdomain %ld", rc, brc);
    check(name, rc == 0 && brc == 0, why);
}

void netfront_selftest(void)
{
    char why[96];
    if (my_domid == DOMID_SELF) {
        printf("netfront-selftest: needs domid= on the command line\n");
        return;
    }
    nf.backend_id = my_domid;
    memcpy(nf.nif.mac, (const u8[6]){ 0x02, 0, 0, 0, 0, 0x01 }, 6);
    nf.nif.ip = 0x0A000002;
    nf.nif.netmask = prefix_to_mask(24);
    netfront_netif_init(&nf);
    net_attach(&nf.nif);
    nf.nif.poll = poll_rings;
    setup("setup-rings-and-loopback-event-channel");

    /* Every rx buffer posted, each grant writable, naming the backend and the buffer's frame. */
    struct netif_rx_sring *rs = rx_sring();
    int ok = rs->h.req_prod == NF_RX_BUFS;
    for (int i = 0; ok && i < NF_RX_BUFS; i++) {
        struct netif_rx_request q = rs->ring[i].req;
        ok = q.id < NF_RX_BUFS && nf.rx_buf[q.id].gref == q.gref && nf.rx_buf[q.id].state == NF_BUF_BUSY;
    }
    snprintf(why, sizeof why, "req_prod %u", rs->h.req_prod);
    check("rx-buffers-posted", ok, why);
    check("rings-ask-for-events", rs->h.rsp_event == 1 && tx_sring()->h.rsp_event == 1, NULL);

    /* An ARP request in by grant copy, the reply out through the tx ring, read-only, grant ended after. */
    u64 events = nf.stats.events;
    ok = arp_round_trip(why);
    check("arp-round-trip-through-both-rings", ok, why);
    check("tx-grant-read-only", write_refused, NULL);
    int all_free = 1;
    for (int i = 0; i < NF_TX_BUFS; i++) all_free &= nf.tx_buf[i].state == NF_BUF_FREE && nf.tx_buf[i].gref == 0;
    check("tx-grant-ended-after-response", all_free, NULL);
    snprintf(why, sizeof why, "%llu events", nf.stats.events - events);
    check("backend-responses-raise-events", nf.stats.events > events, why);
    check("rx-buffer-reposted", rx_sring()->h.req_prod == NF_RX_BUFS + 1 && rx_sring()->h.rsp_event == be_rx_cons + 1, NULL);

    /* A burst: 200 frames, more than the 128 rx buffers, in batches of 50 (the tx side has 64 buffers
       for the replies), each reply taken by the backend through its read-only grant. */
    int delivered = 0, taken = 0;
    size_t len;
    for (int round = 0; round < 10 && delivered < 200; round++) {
        for (int i = 0; i < 50 && delivered < 200 && be_deliver(frame, arp_request_frame()) == GNTST_okay; i++) delivered++;
        net_poll();
        for (size_t n; (n = be_take_tx(out, &len)) != 0;) {
            taken += (int)n;
            net_poll();
        }
    }
    snprintf(why, sizeof why, "%d delivered, %d replies taken, %llu ring full", delivered, taken, nf.stats.tx_full);
    check("burst-larger-than-the-rx-ring", delivered == 200 && taken == 200 && nf.stats.tx_full == 0, why);

    /* Garbage: each response below is wrong in one way; none may crash us or be taken as a frame. */
    struct netfront_stats s0 = nf.stats;
    u64 rx0 = nf.stats.rx_frames;
    struct { u16 id; u16 offset; u16 flags; s16 status; } bad[] = {
        { 500, 0, 0, 60 },                 /* an id we never used */
        { 0xFFFF, 0, 0, 60 },
        { 0, 4000, 0, 200 },               /* past the end of the page */
        { 0, 0, 0, 5000 },                 /* longer than a page and a frame */
        { 0, 0, NETRXF_more_data, 60 },    /* scatter-gather we never offered */
        { 0, 0, NETRXF_extra_info, 60 },
    };
    for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
        struct netif_rx_request req = rs->ring[be_rx_cons & (NET_RX_RING_SIZE - 1)].req;
        struct netif_rx_response *rsp = &rs->ring[be_rx_cons & (NET_RX_RING_SIZE - 1)].rsp;
        rsp->id = bad[i].id == 0 ? req.id : bad[i].id;
        rsp->offset = bad[i].offset;
        rsp->flags = bad[i].flags;
        rsp->status = bad[i].status;
        be_rx_cons++;
        be_push(&rs->h, be_rx_cons);
        net_poll();
    }
    /* A duplicate: two responses for one buffer in one batch (an error, then the same id again). */
    struct netif_rx_request req = rs->ring[be_rx_cons & (NET_RX_RING_SIZE - 1)].req;
    for (int i = 0; i < 2; i++) {
        struct netif_rx_response *rsp = &rs->ring[(be_rx_cons + i) & (NET_RX_RING_SIZE - 1)].rsp;
        *rsp = (struct netif_rx_response){ .id = req.id, .status = i == 0 ? NETIF_RSP_ERROR : 60 };
    }
    be_rx_cons += 2;
    be_push(&rs->h, be_rx_cons);
    net_poll();
    snprintf(why, sizeof why, "%llu bad ids, %llu bad lengths, %llu bad flags, %llu frames", nf.stats.bad_ids - s0.bad_ids,
             nf.stats.bad_lengths - s0.bad_lengths, nf.stats.bad_flags - s0.bad_flags, nf.stats.rx_frames - rx0);
    check("garbage-responses-counted-not-delivered", nf.stats.bad_ids - s0.bad_ids == 3 && nf.stats.bad_lengths - s0.bad_lengths == 2 &&
          nf.stats.bad_flags - s0.bad_flags == 2 && nf.stats.rx_frames == rx0, why);
    /* The tx ring too: a response for an id with nothing in flight. */
    struct netif_tx_sring *ts = tx_sring();
    ts->ring[be_tx_cons & (NET_TX_RING_SIZE - 1)].rsp = (struct netif_tx_response){ .id = 3, .status = 0 };
    u64 bad_ids = nf.stats.bad_ids;
    /* Only answers to questions asked may be consumed: one unasked tx response is a lying index. */
    be_push(&ts->h, be_tx_cons + 1);
    net_poll();
    check("tx-response-without-request-is-a-lie", nf.stats.bad_indices == s0.bad_indices + 1 && nf.broken && nf.stats.bad_ids == bad_ids, NULL);
    int rc = udp_send(&nf.nif, 1, 0x0A000001, 9, (const u8 *)"x", 1);
    check("no-traffic-on-a-broken-ring", rc == -XEN_EAGAIN, NULL);

    /* The backend "restarts": netfront sets up fresh rings and pages before it ends the old grants, so
       a stale backend still holding old refs can never reach the new rings; traffic flows again. */
    grant_ref_t old_tx_ref = nf.tx_ref, old_rx_ref = nf.rx_ref;
    u8 *old_tx = nf.tx_page, *old_rx = nf.rx_page;
    evtchn_close(be_port);
    netfront_rings_teardown(&nf);
    check("old-grants-live-until-new-ones-exist", copy_gref(old_tx_ref, 0, 0, be_buf, 4) == GNTST_okay, NULL);
    setup("reconnect-on-fresh-rings");
    ok = nf.tx_ref != old_tx_ref && nf.tx_ref != old_rx_ref && nf.rx_ref != old_tx_ref && nf.rx_ref != old_rx_ref &&
         nf.tx_page != old_tx && nf.tx_page != old_rx && nf.rx_page != old_tx && nf.rx_page != old_rx;
    for (int i = 0; ok && i < NF_RX_BUFS; i++) ok = nf.rx_buf[i].gref != old_tx_ref && nf.rx_buf[i].gref != old_rx_ref;
    check("new-rings-share-no-ref-or-page-with-old", ok, NULL);
    check("old-ring-grants-ended", copy_gref(old_tx_ref, 0, 0, be_buf, 4) != GNTST_okay && copy_gref(old_rx_ref, 0, 0, be_buf, 4) != GNTST_okay &&
          !nf.retired[0].used && !nf.retired[1].used, NULL);
    ok = arp_round_trip(why);
    check("traffic-after-reconnect", ok && !nf.broken, why);
    /* The lying index on rx this time: far more responses than buffers posted. */
    be_push(&rx_sring()->h, be_rx_cons + 1000);
    net_poll();
    check("rx-index-lie-stops-the-ring", nf.broken && nf.stats.bad_indices == s0.bad_indices + 2, NULL);
    netfront_print_stats(&nf, "netfront-selftest");
    evtchn_close(be_port);
    netfront_rings_teardown(&nf);
    printf("netfront-selftest: %d checks, %d failed\n", checks, failures);
}
