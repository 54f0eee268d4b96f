/* Xen's io/netif.h and the io/ring.h shared-ring protocol for its two rings (spec §1, §9), laid out
   as shared/Abi/Io/Netif*.cs pins them: a 64-byte header (req_prod, req_event, rsp_prod, rsp_event,
   48 bytes of padding), then a power-of-two array of slots, each the union of a request and a
   response. tx slot 12 bytes and rx slot 8 bytes: 256 slots each in one page. */
#pragma once
#include "types.h"

struct netif_tx_request { u32 gref; u16 offset; u16 flags; u16 id; u16 size; };
struct netif_tx_response { u16 id; s16 status; };
struct netif_rx_request { u16 id; u16 _pad; u32 gref; };
struct netif_rx_response { u16 id; u16 offset; u16 flags; s16 status; };
_Static_assert(sizeof(struct netif_tx_request) == 12 && __builtin_offsetof(struct netif_tx_request, id) == 8, "NetifTxRequest");
_Static_assert(sizeof(struct netif_tx_response) == 4 && __builtin_offsetof(struct netif_tx_response, status) == 2, "NetifTxResponse");
_Static_assert(sizeof(struct netif_rx_request) == 8 && __builtin_offsetof(struct netif_rx_request, gref) == 4, "NetifRxRequest");
_Static_assert(sizeof(struct netif_rx_response) == 8 && __builtin_offsetof(struct netif_rx_response, status) == 6, "NetifRxResponse");

#define NETTXF_csum_blank 1
#define NETTXF_data_validated 2
#define NETTXF_more_data 4
#define NETTXF_extra_info 8
#define NETRXF_data_validated 1
#define NETRXF_csum_blank 2
#define NETRXF_more_data 4
#define NETRXF_extra_info 8
#define NETRXF_gso_prefix 16
#define NETIF_RSP_DROPPED -2
#define NETIF_RSP_ERROR -1
#define NETIF_RSP_OKAY 0
#define NETIF_RSP_NULL 1

struct sring_header { u32 req_prod, req_event, rsp_prod, rsp_event; u8 _pad[48]; };
#define NET_TX_RING_SIZE 256
#define NET_RX_RING_SIZE 256
union netif_tx_slot { struct netif_tx_request req; struct netif_tx_response rsp; };
union netif_rx_slot { struct netif_rx_request req; struct netif_rx_response rsp; };
struct netif_tx_sring { struct sring_header h; union netif_tx_slot ring[NET_TX_RING_SIZE]; };
struct netif_rx_sring { struct sring_header h; union netif_rx_slot ring[NET_RX_RING_SIZE]; };
_Static_assert(sizeof(struct sring_header) == 64, "sring header");
_Static_assert(sizeof(struct netif_tx_sring) <= 4096 && 64 + 2 * NET_TX_RING_SIZE * 12 > 4096, "tx ring: 256 is the largest power of two that fits");
_Static_assert(sizeof(struct netif_rx_sring) <= 4096 && 64 + 2 * NET_RX_RING_SIZE * 8 > 4096, "rx ring: 256 is the largest power of two that fits");

/* The frontend's private view of one ring: never written to the shared page. */
struct front_ring { struct sring_header *sring; u32 req_prod_pvt, rsp_cons; };

static inline void front_ring_init(struct front_ring *r, struct sring_header *sring)
{
    /* SHARED_RING_INIT + FRONT_RING_INIT: a consumer asks to be woken at the first index. */
    sring->req_prod = sring->rsp_prod = 0;
    sring->req_event = sring->rsp_event = 1;
    for (unsigned i = 0; i < sizeof sring->_pad; i++) sring->_pad[i] = 0;
    r->sring = sring;
    r->req_prod_pvt = r->rsp_cons = 0;
}

/* RING_PUSH_REQUESTS_AND_CHECK_NOTIFY: publish, then notify only if the backend asked to be woken at
   an index in the range just published (u32 arithmetic throughout). */
static inline int front_ring_push_requests(struct front_ring *r)
{
    u32 old = r->sring->req_prod, new = r->req_prod_pvt;
    asm volatile("fence w, w" ::: "memory");
    *(volatile u32 *)&r->sring->req_prod = new;
    asm volatile("fence rw, rw" ::: "memory");
    return (u32)(new - *(volatile u32 *)&r->sring->req_event) < (u32)(new - old);
}

/* RING_FINAL_CHECK_FOR_RESPONSES: with nothing visible, ask to be woken at the next response and look
   once more, so a response published between the two looks is not slept through. */
static inline int front_ring_final_check(struct front_ring *r)
{
    if (*(volatile u32 *)&r->sring->rsp_prod != r->rsp_cons) return 1;
    *(volatile u32 *)&r->sring->rsp_event = r->rsp_cons + 1;
    asm volatile("fence rw, rw" ::: "memory");
    return *(volatile u32 *)&r->sring->rsp_prod != r->rsp_cons;
}
