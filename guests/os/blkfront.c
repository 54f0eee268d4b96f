/* blkfront's data path: requests onto the blkif ring, responses off it (spec §1, §8). The request id
   is the shadow slot's index, so a response names its shadow directly; data pages are granted to the
   backend per issue (read-write for a read, read-only for a write) and the grants end when the
   response comes. Responses are taken in the event handler. The backend is not trusted: a response
   index beyond the requests we made stops the ring until the backend reconnects, and a response whose
   id is not in flight, whose operation is not the request's or whose status is unknown is counted and
   reported, never followed. */
#include "blkfront_priv.h"

struct blkfront blk;

static int segments_of(const struct blk_io *io)
{
    if (!io->buf || !io->nr_sectors) return 0;
    uintptr_t a = (uintptr_t)io->buf, end = a + (uintptr_t)io->nr_sectors * BLK_SECTOR;
    return (int)(((end + PAGE_SIZE - 1) >> PAGE_SHIFT) - (a >> PAGE_SHIFT));
}

u32 blkfront_max_sectors(void)
{
    u32 segs = blk.info.max_indirect ? blk.info.max_indirect : BLKIF_MAX_SEGMENTS_PER_REQUEST;
    return segs * (PAGE_SIZE / BLK_SECTOR);
}

void blk_release_grants(struct blk_shadow *s)
{
    for (unsigned i = 0; i < s->nr_grefs; i++)
        if (!gnttab_end_access(s->grefs[i])) blk.info.leaked_grants++;
    s->nr_grefs = 0;
    if (s->ind_gref && !gnttab_end_access(s->ind_gref)) blk.info.leaked_grants++;
    s->ind_gref = 0;
}

static int grant_segments(struct blk_shadow *s, const struct blk_io *io, struct blkif_request_segment *segs)
{
    int readonly = io->op != BLKIF_OP_READ; /* the backend only reads what we write */
    uintptr_t a = (uintptr_t)io->buf;
    u32 left = io->nr_sectors * BLK_SECTOR;
    int n = 0;
    while (left) {
        u32 off = (u32)(a & (PAGE_SIZE - 1)), len = MIN(left, (u32)PAGE_SIZE - off);
        grant_ref_t g = gnttab_grant_access(blk.info.backend_id, a >> PAGE_SHIFT, readonly);
        if (!g) {
            blk_release_grants(s);
            return -XEN_ENOSPC;
        }
        s->grefs[s->nr_grefs++] = g;
        segs[n].gref = g;
        segs[n].first_sect = (u8)(off / BLK_SECTOR);
        segs[n].last_sect = (u8)((off + len) / BLK_SECTOR - 1);
        segs[n]._pad = 0;
        n++;
        a += len;
        left -= len;
    }
    return n;
}

int blk_issue(unsigned id)
{
    struct blk_shadow *s = &blk.shadow[id];
    const struct blk_io *io = s->io;
    union blkif_sring_entry *e = &blk.sring->ring[blk.req_prod_pvt & (BLK_RING_SIZE - 1)];
    int nseg = segments_of(io);
    s->nr_grefs = 0;
    s->ind_gref = 0;
    s->indirect = nseg > BLKIF_MAX_SEGMENTS_PER_REQUEST;
    if (!s->indirect) {
        struct blkif_request r = { .operation = io->op, .nr_segments = (u8)nseg, .handle = blk.handle, .id = id, .sector_number = io->sector };
        int n = grant_segments(s, io, r.seg);
        if (n < 0) return n;
        memcpy(&e->req, &r, sizeof r);
        return 0;
    }
    if (!s->ind_page && !(s->ind_page = page_alloc())) return -XEN_ENOMEM;
    int n = grant_segments(s, io, s->ind_page);
    if (n < 0) return n;
    s->ind_gref = gnttab_grant_access(blk.info.backend_id, (uintptr_t)s->ind_page >> PAGE_SHIFT, 1);
    if (!s->ind_gref) {
        blk_release_grants(s);
        return -XEN_ENOSPC;
    }
    struct blkif_request_indirect r = { .operation = BLKIF_OP_INDIRECT, .indirect_op = io->op, .nr_segments = (u16)n,
                                        .id = id, .sector_number = io->sector, .handle = blk.handle };
    r.indirect_grefs[0] = s->ind_gref;
    memcpy(&e->ind, &r, sizeof r);
    return 0;
}

/* RING_PUSH_REQUESTS_AND_CHECK_NOTIFY (io/ring.h). */
void blk_push(void)
{
    u32 old = READ_ONCE(blk.sring->req_prod), new = blk.req_prod_pvt;
    wmb(); /* the requests before the index that publishes them */
    WRITE_ONCE(blk.sring->req_prod, new);
    mb();
    if ((u32)(new - READ_ONCE(blk.sring->req_event)) < (u32)(new - old)) evtchn_send(blk.port);
}

static void bad_response(const struct blkif_response *r, const char *why)
{
    if (++blk.info.bad_responses <= 5)
        printf("blkfront: bad response from the backend: id %llu op %u status %d: %s; ignored\n", r->id, r->operation, r->status, why);
}

static void complete(const struct blkif_response *r)
{
    if (r->id >= BLK_RING_SIZE || !blk.shadow[r->id].io) {
        bad_response(r, "no request with that id is in flight");
        return;
    }
    struct blk_shadow *s = &blk.shadow[r->id];
    struct blk_io *io = s->io;
    int status = r->status;
    if (r->operation != io->op && !(s->indirect && r->operation == BLKIF_OP_INDIRECT)) {
        bad_response(r, "not the request's operation");
        status = BLKIF_RSP_ERROR;
    } else if (status != BLKIF_RSP_OKAY && status != BLKIF_RSP_ERROR && status != BLKIF_RSP_EOPNOTSUPP) {
        bad_response(r, "unknown status");
        status = BLKIF_RSP_ERROR;
    }
    blk_release_grants(s);
    s->io = NULL;
    blk.in_flight--;
    blk.info.completed++;
    if (status == BLKIF_RSP_EOPNOTSUPP && io->op == BLKIF_OP_FLUSH_DISKCACHE) blk.info.flush = 0;
    if (status == BLKIF_RSP_EOPNOTSUPP && io->op == BLKIF_OP_WRITE_BARRIER) blk.info.barrier = 0;
    io->status = status;
    wmb();
    io->done = 1;
    if (io->cb) io->cb(io);
}

/* Interrupt context, or the thread with interrupts off. */
void blk_take_responses(void)
{
    if (!blk.sring || blk.ring_bad) return;
    for (;;) {
        u32 rp = READ_ONCE(blk.sring->rsp_prod);
        rmb(); /* the index before the responses it covers */
        if (rp - blk.rsp_cons > blk.req_prod_pvt - blk.rsp_cons) {
            blk.ring_bad = 1;
            blk.info.ring_faults++;
            printf("blkfront: backend's rsp_prod %u is beyond our %u requests (rsp_cons %u): ring ignored until it reconnects\n",
                   rp, blk.req_prod_pvt, blk.rsp_cons);
            return;
        }
        while (blk.rsp_cons != rp) {
            struct blkif_response r;
            memcpy(&r, (const void *)&blk.sring->ring[blk.rsp_cons & (BLK_RING_SIZE - 1)].rsp, sizeof r);
            blk.rsp_cons++;
            complete(&r);
        }
        /* RING_FINAL_CHECK_FOR_RESPONSES: ask to be woken at the next one, then look once more. */
        WRITE_ONCE(blk.sring->rsp_event, blk.rsp_cons + 1);
        mb();
        if (READ_ONCE(blk.sring->rsp_prod) == blk.rsp_cons) break;
    }
}

void blk_event(evtchn_port_t port, void *data) { blk_take_responses(); }

static int check_io(const struct blk_io *io)
{
    switch (io->op) {
    case BLKIF_OP_WRITE:
    case BLKIF_OP_WRITE_BARRIER:
        if (blk.info.info & VDISK_READONLY) return -XEN_EROFS;
        if (io->op == BLKIF_OP_WRITE_BARRIER && !blk.info.barrier) return -XEN_ENOSYS;
        if (io->op == BLKIF_OP_WRITE_BARRIER && !io->nr_sectors) return 0;
        /* fall through */
    case BLKIF_OP_READ:
        if (!io->buf || !io->nr_sectors || ((uintptr_t)io->buf & (BLK_SECTOR - 1))) return -XEN_EINVAL;
        if (io->sector >= blk.info.sectors || io->nr_sectors > blk.info.sectors - io->sector) return -XEN_EINVAL;
        if (io->nr_sectors % (blk.info.sector_size / BLK_SECTOR) || io->sector % (blk.info.sector_size / BLK_SECTOR)) return -XEN_EINVAL;
        if (segments_of(io) > (int)(blk.info.max_indirect ? blk.info.max_indirect : BLKIF_MAX_SEGMENTS_PER_REQUEST)) return -XEN_E2BIG;
        return 0;
    case BLKIF_OP_FLUSH_DISKCACHE:
        if (!blk.info.flush) return -XEN_ENOSYS;
        return io->nr_sectors ? -XEN_EINVAL : 0;
    default:
        return -XEN_EINVAL;
    }
}

static u64 io_timeout_ns(void) { return cmdline_u64("blk-timeout", 60000) * 1000000ULL; }

int blkfront_submit(struct blk_io *io)
{
    if (!blk.open) return -XEN_ENODEV;
    int rc = check_io(io);
    if (rc) return rc;
    io->done = 0;
    io->status = 0;
    u64 deadline = monotonic_ns() + io_timeout_ns();
    for (;;) {
        blkfront_poll();
        xlen_t f = irq_save();
        if (blk.connected && !blk.ring_bad && blk.in_flight < BLK_RING_SIZE && blk.req_prod_pvt - blk.rsp_cons < BLK_RING_SIZE) {
            unsigned id = 0;
            while (blk.shadow[id].io) id++; /* in_flight < BLK_RING_SIZE: one is free */
            blk.shadow[id].io = io;
            io->seq = blk.next_seq++;
            rc = blk_issue(id);
            if (rc < 0) {
                blk.shadow[id].io = NULL;
            } else {
                blk.req_prod_pvt++;
                blk.in_flight++;
                blk.info.submitted++;
                blk_push();
            }
            irq_restore(f);
            return rc;
        }
        u64 now = monotonic_ns();
        if (now >= deadline) {
            irq_restore(f);
            return -XEN_ETIMEDOUT;
        }
        if (!blk.be_changed) block_until(MIN(deadline, now + 1000000000ULL));
        irq_restore(f);
    }
}

int blkfront_wait(struct blk_io *io, u64 deadline_ns)
{
    for (;;) {
        blkfront_poll();
        xlen_t f = irq_save();
        if (io->done) {
            irq_restore(f);
            return io->status;
        }
        u64 now = monotonic_ns();
        if (now >= deadline_ns) {
            irq_restore(f);
            return -XEN_ETIMEDOUT;
        }
        if (!blk.be_changed) block_until(MIN(deadline_ns, now + 1000000000ULL));
        irq_restore(f);
    }
}

/* A request whose waiter gave up stays in flight (its pages are still granted); its descriptor moves
   here so that the completion does not write into a stack frame that is gone. */
static struct blk_io orphans[BLK_RING_SIZE];

static int wait_or_orphan(struct blk_io *io)
{
    int rc = blkfront_wait(io, monotonic_ns() + io_timeout_ns());
    if (rc != -XEN_ETIMEDOUT) return rc;
    xlen_t f = irq_save();
    for (unsigned id = 0; id < BLK_RING_SIZE; id++)
        if (blk.shadow[id].io == io) {
            orphans[id] = *io;
            orphans[id].cb = NULL;
            blk.shadow[id].io = &orphans[id];
        }
    irq_restore(f);
    return rc;
}

int blkfront_rw(int write, u64 sector, void *buf, u32 nr_sectors)
{
    struct blk_io io = { .op = write ? BLKIF_OP_WRITE : BLKIF_OP_READ, .sector = sector, .buf = buf, .nr_sectors = nr_sectors };
    int rc = blkfront_submit(&io);
    return rc ? rc : wait_or_orphan(&io);
}

int blkfront_flush(void)
{
    struct blk_io io = { .op = blk.info.flush ? BLKIF_OP_FLUSH_DISKCACHE : BLKIF_OP_WRITE_BARRIER };
    if (!blk.info.flush && !blk.info.barrier) return -XEN_ENOSYS;
    int rc = blkfront_submit(&io);
    return rc ? rc : wait_or_orphan(&io);
}

const struct blkfront_info *blkfront_info(void) { return &blk.info; }
