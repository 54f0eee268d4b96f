/* netfront: pvos's Xen network frontend (spec §9, ARCHITECTURE §6). netfront.c is the data path (the
   tx and rx rings, their grants and the event channel), netfront_xenbus.c the handshake with the
   backend through xenstore and the reconnect when the backend restarts. The stack (net/net.h) sees
   it as a struct netif. */
#pragma once
#include "os.h"
#include "netif.h"
#include "net/net.h"

#define NF_TX_BUFS 64  /* frames in flight toward the backend: one page each, granted per frame */
#define NF_RX_BUFS 128 /* pages posted for the backend to copy frames into */

#define NF_RETIRED_GENERATIONS 2
/* The grants and pages of a torn-down connection, ended once nothing stale can use them (netfront.c). */
struct nf_retired {
    int used, n;
    grant_ref_t tx_ref, rx_ref;
    u8 *tx_page, *rx_page;
    grant_ref_t grefs[NF_TX_BUFS + NF_RX_BUFS];
    u8 *pages[NF_TX_BUFS + NF_RX_BUFS];
};

enum nf_buf_state { NF_BUF_FREE, NF_BUF_BUSY, NF_BUF_STUCK };
struct nf_buf { u8 *page; grant_ref_t gref; u8 state; };

/* Everything a misbehaving backend can cause is counted here; none of it stops the guest. */
struct netfront_stats {
    u64 tx_frames, tx_full, tx_no_grant, tx_error_status, rx_frames, rx_error_status, rx_no_grant;
    u64 bad_ids, bad_lengths, bad_flags, bad_indices, stuck_grants, events, notifies, connects, resumes;
};

struct netfront {
    struct netif nif;
    domid_t backend_id;
    /* data path (netfront.c) */
    struct front_ring tx, rx;
    u8 *tx_page, *rx_page;
    grant_ref_t tx_ref, rx_ref;
    evtchn_port_t port;
    int up;          /* rings set up and the backend told about them */
    int broken;      /* the backend's indices lied: stop consuming until it reconnects */
    struct nf_buf tx_buf[NF_TX_BUFS], rx_buf[NF_RX_BUFS];
    struct nf_retired retired[NF_RETIRED_GENERATIONS];
    struct netfront_stats stats;
    /* handshake (netfront_xenbus.c) */
    char dir[32], backend[96];
    volatile int backend_changed;
    int resumed;     /* in a new domain (suspend.c): backend path and watch are stale */
    int phase;
};

void netfront_netif_init(struct netfront *nf);    /* transmit hook for the stack */
int netfront_rings_setup(struct netfront *nf);    /* 0 or a negative Xen errno */
void netfront_rings_teardown(struct netfront *nf);
int netfront_poll_rings(struct netfront *nf);     /* frames handed to the stack */
void netfront_print_stats(struct netfront *nf, const char *who);

/* netfront_xenbus.c: finds device/vif/<n>, reads mac, backend, backend-id and the ip to use (ip= on the
   command line, else the backend's "ip" key), attaches to the stack and starts the handshake. */
struct netfront *netfront_start(unsigned index);
/* Waits (polling the stack) until the data path is connected; 1 if it is by deadline. */
int netfront_wait_connected(struct netfront *nf, u64 deadline_ns);
int netfront_connected(struct netfront *nf);
/* Restored in a new domain (suspend.c): the next poll finds the backend again and reconnects. */
void netfront_resume(void);
