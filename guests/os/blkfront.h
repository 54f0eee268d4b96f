/* blkfront: pvos's block frontend (Xen's blkif protocol over xenbus, spec §7 and §8), one virtual disk.
   Requests are asynchronous: blkfront_submit puts one on the ring (several may be in flight, answered in
   any order); completion sets io->done and io->status and calls io->cb in interrupt context. Every
   request in flight keeps a shadow entry; when the backend goes away and comes back (its state node
   back to InitWait, ARCHITECTURE §6), blkfront reconnects with a new ring and new grants and issues
   every request that had no response again, in the order they were first submitted. */
#pragma once
#include "types.h"
#include "blkif.h"

#define BLK_SECTOR 512

struct blk_io {
    u8 op;              /* BLKIF_OP_READ, _WRITE, _FLUSH_DISKCACHE, _WRITE_BARRIER */
    u64 sector;         /* 512-byte sectors */
    void *buf;          /* 512-byte aligned; NULL for a flush or a barrier without data */
    u32 nr_sectors;
    volatile int done;
    int status;         /* BLKIF_RSP_OKAY, _ERROR, _EOPNOTSUPP, once done */
    void (*cb)(struct blk_io *io); /* optional; interrupt context, must not block */
    void *data;
    /* private */
    u64 seq;
};

struct blkfront_info {
    char frontend[48];            /* device/vbd/<id> */
    char backend[96];             /* the backend's directory */
    domid_t backend_id;
    u64 sectors;                  /* 512-byte units */
    u32 sector_size, info;        /* info: VDISK_* */
    int flush, barrier;           /* feature-flush-cache, feature-barrier */
    u32 max_indirect;             /* feature-max-indirect-segments, capped to ours; 0 = direct only */
    u64 submitted, completed, reconnects, reissued;
    u64 bad_responses;            /* ids not in flight, wrong operations, unknown status values */
    u64 ring_faults;              /* response indices beyond what we produced */
    u64 leaked_grants;            /* grants the backend still held when the request ended */
};

/* Connects to device/vbd/<vbd> (NULL: the first one), waiting at most timeout_ms for the backend. */
int blkfront_open(const char *vbd, u64 timeout_ms);
const struct blkfront_info *blkfront_info(void);
u32 blkfront_max_sectors(void);   /* the largest request: 11 pages, or more with indirect segments */
/* Waits for room (and through a reconnect) until the request is on the ring; 0 or -errno (bad
   arguments, no grant references left, -XEN_ENODEV when not open). */
int blkfront_submit(struct blk_io *io);
/* Waits until io is done (handling backend reconnects meanwhile): its status, or -XEN_ETIMEDOUT. A
   timed-out request stays in flight: its buffer still belongs to the backend. */
int blkfront_wait(struct blk_io *io, u64 deadline_ns);
int blkfront_rw(int write, u64 sector, void *buf, u32 nr_sectors); /* submit + wait (blk-timeout=) */
int blkfront_flush(void);         /* flush-cache, else a barrier; -XEN_ENOSYS if the backend offers neither */
void blkfront_poll(void);         /* thread context: runs a pending reconnect */
void blkfront_resume(void);       /* restored in a new domain (suspend.c): reconnect at the next poll */
