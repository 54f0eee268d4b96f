/* app=blkback-test fe=D dev=N [sectors=S] [mode=normal|restart|lie|bad-id] [after=K]: a small blkif
   backend inside pvos serving a RAM disk, so blkfront can be tested end to end, and against a backend
   that misbehaves, without the blkback service. The test makes this domain the device's backend
   (frontend's backend-id, permissions on both directories); we publish sectors and features in
   /local/domain/0/backend/vbd/D/N, go InitWait, wait for the frontend's Initialised, read its ring-ref
   and event-channel, and serve by grant copy (we cannot map): the ring page is copied in, each response
   is copied into its slot, then rsp_prod. Responses to a batch go back in reverse order (out-of-order
   completion). After K responses (after=, default 200) the mode acts once:
     restart  the next batch is consumed and never answered, and we "restart": state InitWait, wait for
              the frontend's new ring, serve it (the frontend must issue the lost requests again);
     lie      rsp_prod jumps 1000 past what we answered, then we restart as above;
     bad-id   the batch's answers carry ids the frontend never used; then we restart as above. */
#include "os.h"

#define RAM_SECTORS_MAX (8192ULL)
static domid_t fe;
static char be[96], fepath[96];
static u8 *ring;      /* our copy of the frontend's ring page */
static u8 *scratch;   /* a page for the indirect descriptors and the small copies: a copy may not cross a page */
static u8 *disk;
static u64 sectors;
static grant_ref_t ring_ref;
static evtchn_port_t port;
static volatile int kicked;
static u32 req_cons, rsp_prod_pvt, published;
static u64 answered, dropped;

static s16 gcopy(int to_fe, grant_ref_t ref, u16 off, void *mine, u16 len)
{
    struct gnttab_copy op = { .len = len };
    struct gnttab_copy_ptr remote = { .ref_or_gmfn = ref, .domid = fe, .offset = off };
    struct gnttab_copy_ptr self = { .ref_or_gmfn = (uintptr_t)mine >> PAGE_SHIFT, .domid = DOMID_SELF, .offset = (u16)((uintptr_t)mine & (PAGE_SIZE - 1)) };
    op.source = to_fe ? self : remote;
    op.dest = to_fe ? remote : self;
    op.flags = to_fe ? GNTCOPY_dest_gref : GNTCOPY_source_gref;
    long rc = HYPERVISOR_grant_table_op(GNTTABOP_copy, &op, 1);
    return rc ? (s16)rc : op.status;
}

static void kick(evtchn_port_t p, void *data) { kicked = 1; }

static int write_key(const char *key, u64 value)
{
    char p[128];
    snprintf(p, sizeof p, "%s/%s", be, key);
    return xenbus_printf(XBT_NIL, p, "%llu", value);
}

/* InitWait, the frontend's Initialised, its ring, Connected. */
static int connect(void)
{
    char p[128];
    u64 ref, evt;
    write_key("state", XenbusStateInitWait);
    snprintf(p, sizeof p, "%s/state", fepath);
    int last = -1, s = xenbus_wait_state(p, 1U << XenbusStateInitialised, 60000, &last);
    if (s < 0) {
        printf("blkback-test: frontend stayed %s\n", xenbus_state_name(last));
        return s;
    }
    snprintf(p, sizeof p, "%s/ring-ref", fepath);
    int rc = xenbus_read_u64(XBT_NIL, p, &ref);
    snprintf(p, sizeof p, "%s/event-channel", fepath);
    if (rc == 0) rc = xenbus_read_u64(XBT_NIL, p, &evt);
    char proto[32] = "";
    snprintf(p, sizeof p, "%s/protocol", fepath);
    xenbus_read(XBT_NIL, p, proto, sizeof proto);
    if (rc == 0) rc = (int)evtchn_bind_interdomain(fe, (evtchn_port_t)evt, &port);
    if (rc) {
        printf("blkback-test: cannot attach the frontend's ring: %d\n", rc);
        return rc;
    }
    evtchn_bind(port, kick, NULL);
    ring_ref = (grant_ref_t)ref;
    req_cons = rsp_prod_pvt = published = 0;
    write_key("state", XenbusStateConnected);
    printf("blkback-test: serving d%u ring-ref %u event-channel %llu (our port %u), protocol %s\n", fe, ring_ref, evt, port, proto);
    return 0;
}

static void restart(const char *why)
{
    printf("blkback-test: restarting (%s) after %llu answered, %llu dropped\n", why, answered, dropped);
    evtchn_close(port);
    if (connect()) os_crash("blkback-test: reconnect failed");
}

static s16 do_segments(const struct blkif_request_segment *seg, unsigned n, u8 op, u64 sector)
{
    for (unsigned i = 0; i < n; i++) {
        if (seg[i].first_sect > seg[i].last_sect || seg[i].last_sect > 7) return BLKIF_RSP_ERROR;
        u32 len = (u32)(seg[i].last_sect - seg[i].first_sect + 1) * BLK_SECTOR;
        if (sector + len / BLK_SECTOR > sectors) return BLKIF_RSP_ERROR;
        u8 *at = disk + sector * BLK_SECTOR;
        s16 st = gcopy(op == BLKIF_OP_READ, seg[i].gref, (u16)(seg[i].first_sect * BLK_SECTOR), at, (u16)len);
        if (st) return BLKIF_RSP_ERROR;
        sector += len / BLK_SECTOR;
    }
    return BLKIF_RSP_OKAY;
}

static struct blkif_response handle(const union blkif_sring_entry *e)
{
    struct blkif_request_segment *ind = (void *)scratch;
    struct blkif_response r = { .id = e->req.id, .operation = e->req.operation, .status = BLKIF_RSP_OKAY };
    switch (e->req.operation) {
    case BLKIF_OP_READ:
    case BLKIF_OP_WRITE:
        r.status = e->req.nr_segments > BLKIF_MAX_SEGMENTS_PER_REQUEST ? BLKIF_RSP_ERROR
                   : do_segments(e->req.seg, e->req.nr_segments, e->req.operation, e->req.sector_number);
        break;
    case BLKIF_OP_INDIRECT:
        r.id = e->ind.id;
        if (e->ind.nr_segments > 32 || gcopy(0, e->ind.indirect_grefs[0], 0, ind, PAGE_SIZE)) r.status = BLKIF_RSP_ERROR;
        else r.status = do_segments(ind, e->ind.nr_segments, e->ind.indirect_op, e->ind.sector_number);
        break;
    case BLKIF_OP_FLUSH_DISKCACHE:
        break;
    default:
        r.status = BLKIF_RSP_EOPNOTSUPP;
    }
    return r;
}

static void respond(const struct blkif_response *r)
{
    struct blkif_response *slot = (void *)(scratch + 2048);
    *slot = *r;
    gcopy(1, ring_ref, (u16)(64 + (rsp_prod_pvt & (BLK_RING_SIZE - 1)) * sizeof(union blkif_sring_entry)), slot, sizeof *slot);
    rsp_prod_pvt++;
    answered++;
}

static void publish(void)
{
    u32 *prod = (u32 *)(scratch + 2048 + 64);
    *prod = published = rsp_prod_pvt;
    gcopy(1, ring_ref, 8, prod, 4);
    evtchn_send(port);
}

void blkback_test(void)
{
    fe = (domid_t)cmdline_u64("fe", DOMID_SELF);
    u64 dev = cmdline_u64("dev", 51712), after = cmdline_u64("after", 200);
    const char *mode = cmdline_get("mode");
    if (!mode) mode = "normal";
    sectors = MIN(cmdline_u64("sectors", 4096), RAM_SECTORS_MAX);
    snprintf(be, sizeof be, "/local/domain/0/backend/vbd/%u/%llu", fe, dev);
    snprintf(fepath, sizeof fepath, "/local/domain/%u/device/vbd/%llu", fe, dev);
    ring = page_alloc();
    scratch = page_alloc();
    disk = pages_alloc_contig(sectors * BLK_SECTOR / PAGE_SIZE);
    if (!ring || !scratch || !disk || !xenbus_available()) os_crash("blkback-test: no memory or no xenstore");
    memset(disk, 0, sectors * BLK_SECTOR);
    write_key("sectors", sectors);
    write_key("sector-size", 512);
    write_key("info", 0);
    write_key("feature-flush-cache", 1);
    write_key("feature-barrier", 0);
    write_key("feature-max-indirect-segments", 32);
    printf("blkback-test: d%u device %llu, %llu sectors, mode %s after %llu\n", fe, dev, sectors, mode, after);
    if (connect()) os_crash("blkback-test: no frontend");
    int acted = strcmp(mode, "normal") == 0;
    static struct blkif_response batch[BLK_RING_SIZE];
    for (;;) {
        kicked = 0;
        if (gcopy(0, ring_ref, 0, ring, PAGE_SIZE)) {
            block_until(monotonic_ns() + 100000000ULL);
            continue;
        }
        const struct blkif_sring *s = (const void *)ring;
        u32 rp = s->req_prod, n = 0;
        if (rp - req_cons > BLK_RING_SIZE) {
            printf("blkback-test: frontend's req_prod %u lies (req_cons %u)\n", rp, req_cons);
            rp = req_cons;
        }
        for (; req_cons != rp; req_cons++) batch[n++] = handle(&s->ring[req_cons & (BLK_RING_SIZE - 1)]);
        if (n && !acted && answered >= after) {
            acted = 1;
            if (strcmp(mode, "restart") == 0) {
                dropped += n;
                restart("mode restart: a batch consumed and never answered");
                continue;
            }
            if (strcmp(mode, "lie") == 0) {
                dropped += n;
                rsp_prod_pvt += 1000;
                publish();
                restart("mode lie: rsp_prod moved 1000 past our answers");
                continue;
            }
            if (strcmp(mode, "bad-id") == 0) {
                /* The batch's answers go back under ids the frontend never used: its requests stay
                   unanswered until we restart and it issues them again. */
                batch[0].id = 77;
                if (n > 1) batch[1].id = 0xFFFFFFFF00000001ULL;
                dropped += n;
                while (n) respond(&batch[--n]);
                publish();
                restart("mode bad-id: answers under ids never used");
                continue;
            }
        }
        while (n) respond(&batch[--n]); /* last first: completion out of order */
        if (rsp_prod_pvt != published) {
            publish();
            continue;
        }
        /* Nothing to do: ask for a kick at the next request, look once more, then sleep. */
        u32 *ev = (u32 *)(scratch + 2048 + 128), *again = ev + 1;
        *ev = req_cons + 1;
        gcopy(1, ring_ref, 4, ev, 4);
        mb();
        if (gcopy(0, ring_ref, 0, again, 4) == 0 && *again != req_cons) continue;
        xlen_t was = irq_save();
        if (!kicked) block_until(monotonic_ns() + 200000000ULL);
        irq_restore(was);
    }
}
