/* virtio-blk (virtio 1.x §5.2) behind blkfront.h, so blk-bench and blk-verify run unchanged in the HVM
   flavour. Each request is a fixed three-descriptor chain (header, data, status) in slot s's descriptors
   3s..3s+2; the queue is polled (VIRTQ_AVAIL_F_NO_INTERRUPT). Requests are published at submit and the
   device is notified when someone waits (or all slots are busy), so requests submitted together cost one
   I/O request to qemu-dm, which serves them before it answers the notify. */
#include "virtio.h"

#define VIRTIO_BLK_F_FLUSH (1ULL << 9)
#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_UNSUPP 2
#define VB_SLOTS 32
#define VB_MAX_SECTORS 128 /* 64 KiB: one contiguous data descriptor */
#define WHO "virtio-blk"

struct vb_hdr { u32 type; u32 reserved; u64 sector; };

static struct {
    struct virtio_dev dev;
    struct virtq q;
    struct blkfront_info info;
    struct blk_io *io[VB_SLOTS];
    struct vb_hdr *hdr;     /* one per slot, in one page */
    u8 *status;             /* one byte per slot, after the headers */
    unsigned slots, busy;
    int open;
} vb;

int blkfront_open(const char *vbd, u64 timeout_ms)
{
    if (vb.open) return 0;
    unsigned nth = vbd && *vbd ? (unsigned)cmdline_u64("vbd", 0) : 0; /* vbd=N: the Nth virtio disk */
    if (virtio_find(VIRTIO_ID_BLK, nth, &vb.dev)) {
        printf(WHO ": no virtio-blk device%s\n", nth ? " with that index" : "");
        return -XEN_ENODEV;
    }
    int rc = virtio_start(&vb.dev, VIRTIO_BLK_F_FLUSH, WHO);
    if (!rc) rc = virtq_setup(&vb.dev, &vb.q, 0, 128, 0);
    vb.hdr = page_alloc();
    if (!rc && !vb.hdr) rc = -XEN_ENOMEM;
    if (rc) {
        printf(WHO ": slot %u: set-up failed: %d\n", vb.dev.slot, rc);
        return rc;
    }
    vb.status = (u8 *)(vb.hdr + VB_SLOTS);
    vb.slots = MIN((unsigned)vb.q.size / 3, (unsigned)VB_SLOTS);
    u32 lo = virtio_config_read32(&vb.dev, 0), hi = virtio_config_read32(&vb.dev, 4);
    virtio_driver_ok(&vb.dev);
    vb.info = (struct blkfront_info){ .sectors = (u64)hi << 32 | lo, .sector_size = BLK_SECTOR,
                                      .flush = (vb.dev.features & VIRTIO_BLK_F_FLUSH) != 0 };
    printf(WHO ": slot %u at 0x%lx: %llu sectors (%llu MiB)%s, queue of %u, %u requests in flight\n", vb.dev.slot, vb.dev.base,
           vb.info.sectors, vb.info.sectors / 2048, vb.info.flush ? ", flush" : "", vb.q.size, vb.slots);
    vb.open = 1;
    (void)timeout_ms; /* the device is there at boot or not at all */
    return 0;
}

const struct blkfront_info *blkfront_info(void) { return &vb.info; }

u32 blkfront_max_sectors(void) { return VB_MAX_SECTORS; }

static void finish(unsigned slot, int status)
{
    struct blk_io *io = vb.io[slot];
    vb.io[slot] = NULL;
    vb.busy &= ~(1u << slot);
    io->status = status;
    vb.info.completed++;
    WRITE_ONCE(io->done, 1);
    if (io->cb) io->cb(io);
}

/* The device stopped being believable: every request in flight ends in an error, none will complete. */
static void fail_all(void)
{
    for (unsigned s = 0; s < vb.slots; s++)
        if (vb.io[s]) finish(s, BLKIF_RSP_ERROR);
}

static void reap(void)
{
    u32 id, len;
    int got;
    while ((got = virtq_next_used(&vb.q, &id, &len, WHO)) > 0) {
        unsigned slot = id / 3;
        if (id % 3 || slot >= vb.slots || !vb.io[slot]) {
            vb.info.bad_responses++;
            printf(WHO ": device error: used id %u is not a request in flight; queue stopped\n", id);
            vb.q.broken = 1;
            got = -1;
            break;
        }
        u8 s = READ_ONCE(vb.status[slot]);
        finish(slot, s == VIRTIO_BLK_S_OK ? BLKIF_RSP_OKAY : s == VIRTIO_BLK_S_UNSUPP ? BLKIF_RSP_EOPNOTSUPP : BLKIF_RSP_ERROR);
    }
    if (got < 0) {
        vb.info.ring_faults++;
        fail_all();
    }
}

/* Nothing came back after a notify: a device that needs a reset will never answer. */
static void check_device(void)
{
    if (vb.q.broken || !(virtio_status(&vb.dev) & VIRTIO_STATUS_NEEDS_RESET)) return;
    printf(WHO ": device error: slot %u needs a reset; %u requests fail\n", vb.dev.slot, __builtin_popcount(vb.busy));
    vb.q.broken = 1;
    vb.info.ring_faults++;
    fail_all();
}

int blkfront_submit(struct blk_io *io)
{
    if (!vb.open) return -XEN_ENODEV;
    u32 type = io->op == BLKIF_OP_READ ? VIRTIO_BLK_T_IN : io->op == BLKIF_OP_WRITE ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_FLUSH;
    int data = io->op == BLKIF_OP_READ || io->op == BLKIF_OP_WRITE;
    if ((io->op != BLKIF_OP_FLUSH_DISKCACHE && !data) || (data && (!io->buf || ((uintptr_t)io->buf & (BLK_SECTOR - 1)) ||
        !io->nr_sectors || io->nr_sectors > VB_MAX_SECTORS || io->sector + io->nr_sectors > vb.info.sectors)))
        return -XEN_EINVAL;
    if (vb.q.broken) return -XEN_EIO;
    while (vb.busy == (vb.slots == 32 ? ~0u : (1u << vb.slots) - 1)) {
        virtq_notify(&vb.q);
        reap();
        if (vb.q.broken) return -XEN_EIO;
        if (vb.busy == (vb.slots == 32 ? ~0u : (1u << vb.slots) - 1)) block_until(monotonic_ns() + 1000000ULL);
    }
    unsigned slot = (unsigned)__builtin_ctz(~vb.busy);
    u16 d = (u16)(slot * 3);
    vb.hdr[slot] = (struct vb_hdr){ .type = type, .sector = data ? io->sector : 0 };
    vb.status[slot] = 0xFF;
    struct virtq_desc *desc = vb.q.desc;
    desc[d] = (struct virtq_desc){ (uintptr_t)&vb.hdr[slot], sizeof(struct vb_hdr), VIRTQ_DESC_F_NEXT, (u16)(d + 1) };
    if (data) {
        desc[d + 1] = (struct virtq_desc){ (uintptr_t)io->buf, io->nr_sectors * BLK_SECTOR,
                                           (u16)(VIRTQ_DESC_F_NEXT | (io->op == BLKIF_OP_READ ? VIRTQ_DESC_F_WRITE : 0)), (u16)(d + 2) };
        desc[d + 2] = (struct virtq_desc){ (uintptr_t)&vb.status[slot], 1, VIRTQ_DESC_F_WRITE, 0 };
    } else {
        desc[d].next = (u16)(d + 2); /* a flush: header and status only */
        desc[d + 2] = (struct virtq_desc){ (uintptr_t)&vb.status[slot], 1, VIRTQ_DESC_F_WRITE, 0 };
    }
    io->done = 0;
    io->status = BLKIF_RSP_ERROR;
    vb.io[slot] = io;
    vb.busy |= 1u << slot;
    vb.info.submitted++;
    virtq_publish(&vb.q, d);
    return 0;
}

int blkfront_wait(struct blk_io *io, u64 deadline_ns)
{
    for (;;) {
        if (READ_ONCE(io->done)) return io->status;
        virtq_notify(&vb.q);
        reap();
        if (READ_ONCE(io->done)) return io->status;
        /* Served at the notify unless qemu-dm restarts meanwhile; its successor completes it later. */
        check_device();
        u64 now = monotonic_ns();
        if (now >= deadline_ns) return -XEN_ETIMEDOUT;
        block_until(MIN(deadline_ns, now + 1000000ULL));
    }
}

int blkfront_rw(int write, u64 sector, void *buf, u32 nr_sectors)
{
    struct blk_io io = { .op = write ? BLKIF_OP_WRITE : BLKIF_OP_READ, .sector = sector, .buf = buf, .nr_sectors = nr_sectors };
    int rc = blkfront_submit(&io);
    return rc < 0 ? rc : blkfront_wait(&io, monotonic_ns() + cmdline_u64("blk-timeout", 60000) * 1000000ULL);
}

int blkfront_flush(void)
{
    if (!vb.info.flush) return -XEN_ENOSYS;
    struct blk_io io = { .op = BLKIF_OP_FLUSH_DISKCACHE };
    int rc = blkfront_submit(&io);
    return rc < 0 ? rc : blkfront_wait(&io, monotonic_ns() + cmdline_u64("blk-timeout", 60000) * 1000000ULL);
}
