/* blkfront's private state, shared by its data path (blkfront.c) and its xenbus side (blkfront_xenbus.c). */
#pragma once
#include "os.h"
#include "blkfront.h"

/* Our cap on segments per request with indirect descriptors: one descriptor page, 256 KiB. */
#define BLKFRONT_MAX_INDIRECT 64

struct blk_shadow {
    struct blk_io *io;                      /* NULL: the slot is free; else in flight, no response yet */
    int indirect;
    int reissue;                            /* lost with a ring: to be issued again on the next one */
    u16 nr_grefs;
    grant_ref_t grefs[BLKFRONT_MAX_INDIRECT]; /* data pages granted for this issue */
    grant_ref_t ind_gref;
    struct blkif_request_segment *ind_page; /* allocated on first indirect use, kept */
};

struct blkfront {
    struct blkfront_info info;
    int open, connected;
    u16 handle;                             /* virtual-device */
    struct blkif_sring *sring;
    grant_ref_t ring_ref;
    evtchn_port_t port;
    u32 req_prod_pvt, rsp_cons;
    int ring_bad;                           /* the backend's indices lied: ignored until it reconnects */
    u32 in_flight;
    struct blk_shadow shadow[BLK_RING_SIZE]; /* the request id is the index */
    struct xenbus_watch be_watch;
    volatile int be_changed;
    int resumed;                            /* in a new domain (suspend.c): backend path and watch are stale */
    u64 next_seq;
};
extern struct blkfront blk;

/* blkfront.c */
int blk_issue(unsigned id);               /* puts shadow[id]'s request on the ring at req_prod_pvt */
void blk_push(void);
void blk_event(evtchn_port_t port, void *data);
void blk_take_responses(void);
void blk_release_grants(struct blk_shadow *s);
/* blkfront_xenbus.c */
int blk_connect(u64 timeout_ms);
