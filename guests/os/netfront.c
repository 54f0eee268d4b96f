/* netfront's data path: one granted page per ring, one event channel for both (key "event-channel"),
   receive by copy (request-rx-copy=1): every posted rx buffer is a page granted writable to the
   backend, which grant-copies a frame into it; every frame sent is copied into a tx page granted
   read-only for as long as the request is outstanding. A grant ends only when the kernel shows no
   copy in progress (gnttab_end_access); a page whose grant cannot end yet is parked as stuck and
   retried, never reused. The backend is untrusted: response ids must name a buffer we posted, lengths
   must fit the page, and the response producer may run ahead of our requests by no more than we
   posted; a backend that lies about its indices is ignored until it reconnects. */
#include "netfront.h"

static void nf_event(evtchn_port_t port, void *data)
{
    struct netfront *nf = data;
    nf->stats.events++;
    nf->nif.kicked = 1;
}

static void notify(struct netfront *nf)
{
    nf->stats.notifies++;
    evtchn_send(nf->port);
}

/* Ends a buffer's grant; 1 if the page is ours again. */
static int release(struct netfront *nf, struct nf_buf *b)
{
    if (b->gref && !gnttab_end_access(b->gref)) {
        if (b->state != NF_BUF_STUCK) nf->stats.stuck_grants++;
        b->state = NF_BUF_STUCK;
        return 0;
    }
    b->gref = 0;
    b->state = NF_BUF_FREE;
    return 1;
}

static void retire_flush(struct netfront *nf);

static void retry_stuck(struct netfront *nf)
{
    for (int i = 0; i < NF_TX_BUFS; i++) if (nf->tx_buf[i].state == NF_BUF_STUCK) release(nf, &nf->tx_buf[i]);
    for (int i = 0; i < NF_RX_BUFS; i++) if (nf->rx_buf[i].state == NF_BUF_STUCK) release(nf, &nf->rx_buf[i]);
}

/* Posts every free rx buffer; notifies if the backend asked (feature-rx-notify: it does not poll). */
static void rx_refill(struct netfront *nf)
{
    int posted = 0;
    for (u16 id = 0; id < NF_RX_BUFS; id++) {
        struct nf_buf *b = &nf->rx_buf[id];
        if (b->state != NF_BUF_FREE || !b->page) continue;
        if (nf->rx.req_prod_pvt - nf->rx.rsp_cons >= NET_RX_RING_SIZE) break;
        b->gref = gnttab_grant_access(nf->backend_id, (uintptr_t)b->page >> PAGE_SHIFT, 0);
        if (!b->gref) {
            nf->stats.rx_no_grant++;
            break;
        }
        b->state = NF_BUF_BUSY;
        struct netif_rx_request *req = &((struct netif_rx_sring *)nf->rx.sring)->ring[nf->rx.req_prod_pvt & (NET_RX_RING_SIZE - 1)].req;
        req->id = id;
        req->gref = b->gref;
        nf->rx.req_prod_pvt++;
        posted++;
    }
    if (posted && front_ring_push_requests(&nf->rx)) notify(nf);
}

/* How many responses may be consumed: what the backend published, if that is believable. */
static u32 responses_available(struct netfront *nf, struct front_ring *r, u32 *prod)
{
    *prod = READ_ONCE(r->sring->rsp_prod);
    rmb(); /* the responses after the index that publishes them */
    u32 n = *prod - r->rsp_cons, outstanding = r->req_prod_pvt - r->rsp_cons;
    if (n > outstanding) {
        /* More answers than questions: the index lies (Linux's netfront calls this a bad backend too). */
        nf->stats.bad_indices++;
        if (!nf->broken) printf("netfront: backend d%u published rsp_prod %u with only %u requests outstanding; ignoring it until it reconnects\n",
                                nf->backend_id, *prod, outstanding);
        nf->broken = 1;
        return 0;
    }
    return n;
}

static void tx_collect(struct netfront *nf)
{
    u32 prod;
    do {
        u32 n = responses_available(nf, &nf->tx, &prod);
        for (; n; n--, nf->tx.rsp_cons++) {
            struct netif_tx_response rsp = ((struct netif_tx_sring *)nf->tx.sring)->ring[nf->tx.rsp_cons & (NET_TX_RING_SIZE - 1)].rsp;
            if (rsp.status == NETIF_RSP_NULL) continue; /* the slot of an extra-info request: we send none */
            if (rsp.id >= NF_TX_BUFS || nf->tx_buf[rsp.id].state != NF_BUF_BUSY) {
                nf->stats.bad_ids++;
                continue;
            }
            if (rsp.status != NETIF_RSP_OKAY) nf->stats.tx_error_status++;
            release(nf, &nf->tx_buf[rsp.id]);
        }
    } while (!nf->broken && front_ring_final_check(&nf->tx));
}

int netfront_poll_rings(struct netfront *nf)
{
    if (!nf->up || nf->broken) return 0;
    int frames = 0;
    retry_stuck(nf);
    retire_flush(nf);
    tx_collect(nf);
    u32 prod;
    do {
        u32 n = responses_available(nf, &nf->rx, &prod);
        for (; n; n--, nf->rx.rsp_cons++) {
            struct netif_rx_response rsp = ((struct netif_rx_sring *)nf->rx.sring)->ring[nf->rx.rsp_cons & (NET_RX_RING_SIZE - 1)].rsp;
            if (rsp.id >= NF_RX_BUFS || nf->rx_buf[rsp.id].state != NF_BUF_BUSY) {
                nf->stats.bad_ids++;
                continue;
            }
            struct nf_buf *b = &nf->rx_buf[rsp.id];
            /* The page is ours once its grant ends: only then may the frame be read as stable. */
            int mine = release(nf, b);
            if (rsp.status <= 0) {
                nf->stats.rx_error_status++;
            } else if (rsp.flags & (NETRXF_more_data | NETRXF_extra_info | NETRXF_gso_prefix)) {
                nf->stats.bad_flags++; /* we offered neither feature-sg nor GSO: a backend must not send them */
            } else if ((u32)rsp.offset + (u32)rsp.status > PAGE_SIZE || rsp.status > ETH_FRAME_MAX) {
                nf->stats.bad_lengths++;
            } else if (mine) {
                nf->stats.rx_frames++;
                frames++;
                net_input(&nf->nif, b->page + rsp.offset, (size_t)rsp.status);
            }
        }
        rx_refill(nf);
    } while (!nf->broken && front_ring_final_check(&nf->rx));
    return frames;
}

static int nf_transmit(struct netif *nif, const u8 *frame, size_t len)
{
    struct netfront *nf = (struct netfront *)nif;
    if (!nf->up || nf->broken) return -XEN_EAGAIN;
    if (len > ETH_FRAME_MAX || len < ETH_HLEN) return -XEN_EINVAL;
    int id = -1;
    for (int pass = 0; pass < 2 && id < 0; pass++) {
        for (int i = 0; i < NF_TX_BUFS; i++) if (nf->tx_buf[i].state == NF_BUF_FREE && nf->tx_buf[i].page) { id = i; break; }
        if (id < 0 && pass == 0) tx_collect(nf); /* completions may be waiting that nobody polled yet */
    }
    if (id < 0 || nf->tx.req_prod_pvt - nf->tx.rsp_cons >= NET_TX_RING_SIZE) {
        nf->stats.tx_full++;
        return -XEN_EAGAIN;
    }
    struct nf_buf *b = &nf->tx_buf[id];
    memcpy(b->page, frame, len);
    b->gref = gnttab_grant_access(nf->backend_id, (uintptr_t)b->page >> PAGE_SHIFT, 1);
    if (!b->gref) {
        nf->stats.tx_no_grant++;
        return -XEN_EAGAIN;
    }
    b->state = NF_BUF_BUSY;
    struct netif_tx_request *req = &((struct netif_tx_sring *)nf->tx.sring)->ring[nf->tx.req_prod_pvt & (NET_TX_RING_SIZE - 1)].req;
    req->gref = b->gref;
    req->offset = 0;
    req->flags = 0; /* checksums are complete; one slot per frame */
    req->id = (u16)id;
    req->size = (u16)len;
    nf->tx.req_prod_pvt++;
    nf->stats.tx_frames++;
    if (front_ring_push_requests(&nf->tx)) notify(nf);
    return 0;
}

static int alloc_pages(struct nf_buf *bufs, int n)
{
    for (int i = 0; i < n; i++)
        if (!bufs[i].page && !(bufs[i].page = page_alloc())) return -XEN_ENOMEM;
    return 0;
}

void netfront_netif_init(struct netfront *nf)
{
    nf->nif.transmit = nf_transmit; /* refuses with -XEN_EAGAIN until the rings are up */
}

int netfront_rings_setup(struct netfront *nf)
{
    if (alloc_pages(nf->tx_buf, NF_TX_BUFS) || alloc_pages(nf->rx_buf, NF_RX_BUFS)) return -XEN_ENOMEM;
    /* New ring pages and grant refs every time (the old ones are retired, see retire_flush): a
       restarted backend finds none of the old incarnation's indices. */
    nf->tx_page = page_alloc();
    nf->rx_page = page_alloc();
    if (!nf->tx_page || !nf->rx_page) return -XEN_ENOMEM;
    memset(nf->tx_page, 0, PAGE_SIZE);
    memset(nf->rx_page, 0, PAGE_SIZE);
    front_ring_init(&nf->tx, (struct sring_header *)nf->tx_page);
    front_ring_init(&nf->rx, (struct sring_header *)nf->rx_page);
    nf->tx_ref = gnttab_grant_access(nf->backend_id, (uintptr_t)nf->tx_page >> PAGE_SHIFT, 0);
    nf->rx_ref = gnttab_grant_access(nf->backend_id, (uintptr_t)nf->rx_page >> PAGE_SHIFT, 0);
    if (!nf->tx_ref || !nf->rx_ref) return -XEN_ENOSPC;
    long rc = evtchn_alloc_unbound(nf->backend_id, &nf->port);
    if (rc) return (int)rc;
    evtchn_bind(nf->port, nf_event, nf);
    nf->broken = 0;
    nf->up = 1;
    rx_refill(nf); /* before the backend connects: it finds buffers waiting */
    retire_flush(nf); /* only now: every grant of this connection is taken, none can be an old one */
    return 0;
}

/* A torn-down connection's grants are not ended at once but retired, and ended only after the next
   connection holds its own: so new rings and buffers never get the old grant refs or pages back while
   a stale backend (one that read our old keys just before we changed them, as a restarted netback
   resuming does) may still map or copy through them. Ring grants end first; a generation's buffer
   grants end once its rings are gone (no stale ring left to name them); each page is freed as its
   grant ends. A mapping holds a grant (GTF_reading/writing), so ending simply retries on later polls. */
static void retire_flush(struct netfront *nf)
{
    for (int g = 0; g < NF_RETIRED_GENERATIONS; g++) {
        struct nf_retired *r = &nf->retired[g];
        if (!r->used) continue;
        if (r->tx_ref && gnttab_end_access(r->tx_ref)) { page_free(r->tx_page); r->tx_ref = 0; }
        if (r->rx_ref && gnttab_end_access(r->rx_ref)) { page_free(r->rx_page); r->rx_ref = 0; }
        if (r->tx_ref || r->rx_ref) continue;
        int left = 0;
        for (int i = 0; i < r->n; i++) {
            if (r->grefs[i] && gnttab_end_access(r->grefs[i])) {
                page_free(r->pages[i]);
                r->grefs[i] = 0;
            }
            left += r->grefs[i] != 0;
        }
        if (!left) r->used = 0;
    }
}

void netfront_rings_teardown(struct netfront *nf)
{
    if (nf->port) evtchn_close(nf->port);
    nf->port = 0;
    nf->up = 0;
    struct nf_retired *r = NULL;
    for (int g = 0; g < NF_RETIRED_GENERATIONS && !r; g++) if (!nf->retired[g].used) r = &nf->retired[g];
    if (!r) {
        /* Reconnects faster than stale grants drain: end what we can now rather than hold more pages. */
        nf->stats.stuck_grants++;
        retire_flush(nf);
        for (int g = 0; g < NF_RETIRED_GENERATIONS && !r; g++) if (!nf->retired[g].used) r = &nf->retired[g];
        if (!r) return; /* the rings stay granted; the next setup takes new ones regardless */
    }
    r->used = 1;
    r->tx_ref = nf->tx_ref;
    r->rx_ref = nf->rx_ref;
    r->tx_page = nf->tx_page;
    r->rx_page = nf->rx_page;
    nf->tx_ref = nf->rx_ref = 0;
    nf->tx_page = nf->rx_page = NULL;
    /* Frames in flight are lost (Ethernet is lossy); their buffers get new pages, the old ones retire. */
    r->n = 0;
    struct nf_buf *bufs[2] = { nf->tx_buf, nf->rx_buf };
    int counts[2] = { NF_TX_BUFS, NF_RX_BUFS };
    for (int k = 0; k < 2; k++) {
        for (int i = 0; i < counts[k]; i++) {
            struct nf_buf *b = &bufs[k][i];
            if (b->gref) {
                r->grefs[r->n] = b->gref;
                r->pages[r->n++] = b->page;
                b->page = NULL;
            }
            b->gref = 0;
            b->state = NF_BUF_FREE;
        }
    }
}

void netfront_print_stats(struct netfront *nf, const char *who)
{
    struct netfront_stats *s = &nf->stats;
    printf("%s: netfront: tx %llu frames (%llu ring full, %llu error status), rx %llu frames (%llu error status); "
           "backend faults: %llu bad ids, %llu bad lengths, %llu bad flags, %llu bad indices; %llu stuck grants; "
           "%llu events, %llu notifies, %llu connects, %llu resumes\n",
           who, s->tx_frames, s->tx_full, s->tx_error_status, s->rx_frames, s->rx_error_status, s->bad_ids, s->bad_lengths,
           s->bad_flags, s->bad_indices, s->stuck_grants, s->events, s->notifies, s->connects, s->resumes);
}
