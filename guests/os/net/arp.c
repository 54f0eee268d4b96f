/* ARP (RFC 826) for IPv4 over Ethernet: a small cache, answers to requests for our address, and
   resolution with one queued packet per destination. Learning follows the RFC's merge rule: an entry
   we already hold is refreshed by any ARP packet from that address; a new one is created only when
   the packet is aimed at us, so a flood of broadcast requests for other hosts cannot evict the
   entries we use. The cache is fixed size; when full, the oldest entry goes. */
#include "net.h"

#define ARP_ENTRIES 16
#define ARP_PKT_LEN 28
#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY 2
#define ARP_RETRY_NS 1000000000ULL   /* one request a second while unresolved ... */
#define ARP_TRIES 3                  /* ... three in all, then the queued packet is dropped */
#define ARP_LIFETIME_NS (60ULL * 1000000000ULL)

enum arp_state { ARP_FREE, ARP_INCOMPLETE, ARP_RESOLVED };
struct arp_entry {
    enum arp_state state;
    u32 ip;
    u8 mac[ETH_ALEN];
    u8 tries;
    u64 stamp_ns;           /* resolved: when learned; incomplete: when the last request went */
    u16 pending_len;        /* an IPv4 packet waiting for the address, 0 if none */
    u8 pending[ETH_MTU];
};
static struct arp_entry cache[ARP_ENTRIES];

void arp_reset(void) { memset(cache, 0, sizeof cache); }

static struct arp_entry *find(u32 ip)
{
    for (int i = 0; i < ARP_ENTRIES; i++)
        if (cache[i].state != ARP_FREE && cache[i].ip == ip) return &cache[i];
    return NULL;
}

static struct arp_entry *allocate(u32 ip)
{
    struct arp_entry *victim = &cache[0];
    for (int i = 0; i < ARP_ENTRIES; i++) {
        if (cache[i].state == ARP_FREE) { victim = &cache[i]; break; }
        if (cache[i].stamp_ns < victim->stamp_ns) victim = &cache[i];
    }
    memset(victim, 0, sizeof *victim - sizeof victim->pending);
    victim->ip = ip;
    return victim;
}

int arp_lookup(u32 ip, u8 *mac_out)
{
    struct arp_entry *e = find(ip);
    if (!e || e->state != ARP_RESOLVED) return 0;
    if (mac_out) memcpy(mac_out, e->mac, ETH_ALEN);
    return 1;
}

static int send_arp(struct netif *nif, u16 op, const u8 *target_mac, u32 target_ip, const u8 *eth_dst)
{
    u8 *p = net_tx_buffer() + ETH_HLEN;
    put16(p, 1);                 /* hardware: Ethernet */
    put16(p + 2, ETHERTYPE_IPV4);
    p[4] = ETH_ALEN;
    p[5] = 4;
    put16(p + 6, op);
    memcpy(p + 8, nif->mac, ETH_ALEN);
    put32(p + 14, nif->ip);
    if (target_mac) memcpy(p + 18, target_mac, ETH_ALEN);
    else memset(p + 18, 0, ETH_ALEN);
    put32(p + 24, target_ip);
    return eth_send(nif, eth_dst, ETHERTYPE_ARP, ARP_PKT_LEN);
}

int arp_request(struct netif *nif, u32 ip)
{
    nif->stats.arp_requests_sent++;
    return send_arp(nif, ARP_OP_REQUEST, NULL, ip, NULL);
}

/* The tx buffer is free again once eth_send returns, so the queued packet is copied back into it. */
static void flush_pending(struct netif *nif, struct arp_entry *e)
{
    if (!e->pending_len) return;
    size_t len = e->pending_len;
    e->pending_len = 0;
    memcpy(net_tx_buffer() + ETH_HLEN, e->pending, len);
    eth_send(nif, e->mac, ETHERTYPE_IPV4, len);
}

void arp_input(struct netif *nif, const u8 *p, size_t len)
{
    if (len < ARP_PKT_LEN || get16(p) != 1 || get16(p + 2) != ETHERTYPE_IPV4 || p[4] != ETH_ALEN || p[5] != 4) {
        nif->stats.arp_bad++;
        return;
    }
    u16 op = get16(p + 6);
    const u8 *sender_mac = p + 8;
    u32 sender_ip = get32(p + 14), target_ip = get32(p + 24);
    if (op != ARP_OP_REQUEST && op != ARP_OP_REPLY) {
        nif->stats.arp_bad++;
        return;
    }
    /* A sender claiming 0.0.0.0 (a probe), broadcast, or a multicast/broadcast MAC teaches nothing. */
    int learnable = sender_ip != 0 && sender_ip != IP_BROADCAST && !(sender_mac[0] & 1) && sender_ip != nif->ip;
    int for_us = nif->ip != 0 && target_ip == nif->ip;
    struct arp_entry *e = learnable ? find(sender_ip) : NULL;
    if (!e && learnable && for_us) e = allocate(sender_ip);
    if (e) {
        memcpy(e->mac, sender_mac, ETH_ALEN);
        e->state = ARP_RESOLVED;
        e->stamp_ns = monotonic_ns();
        e->tries = 0;
    }
    if (op == ARP_OP_REPLY) nif->stats.arp_replies_seen++;
    if (op == ARP_OP_REQUEST && for_us) {
        nif->stats.arp_requests_answered++;
        send_arp(nif, ARP_OP_REPLY, sender_mac, sender_ip, sender_mac);
    }
    if (e) flush_pending(nif, e);
}

int arp_output(struct netif *nif, u32 next_hop, size_t payload_len)
{
    if (next_hop == IP_BROADCAST || (nif->netmask != ~0u && (next_hop | nif->netmask) == IP_BROADCAST))
        return eth_send(nif, NULL, ETHERTYPE_IPV4, payload_len);
    struct arp_entry *e = find(next_hop);
    if (e && e->state == ARP_RESOLVED) return eth_send(nif, e->mac, ETHERTYPE_IPV4, payload_len);
    if (!e) {
        e = allocate(next_hop);
        e->state = ARP_INCOMPLETE;
    }
    if (e->pending_len) nif->stats.arp_unresolved_drops++; /* the newer packet replaces it */
    memcpy(e->pending, net_tx_buffer() + ETH_HLEN, payload_len);
    e->pending_len = (u16)payload_len;
    if (e->tries == 0) {
        e->tries = 1;
        e->stamp_ns = monotonic_ns();
        return arp_request(nif, next_hop);
    }
    return 0;
}

void arp_timer(struct netif *nif, u64 now)
{
    for (int i = 0; i < ARP_ENTRIES; i++) {
        struct arp_entry *e = &cache[i];
        if (e->state == ARP_RESOLVED && now - e->stamp_ns > ARP_LIFETIME_NS) {
            e->state = ARP_FREE;
        } else if (e->state == ARP_INCOMPLETE && now - e->stamp_ns >= ARP_RETRY_NS) {
            if (e->tries >= ARP_TRIES) {
                if (e->pending_len) nif->stats.arp_unresolved_drops++;
                e->state = ARP_FREE;
                continue;
            }
            e->tries++;
            e->stamp_ns = now;
            arp_request(nif, e->ip);
        }
    }
}

u64 arp_next_deadline(void)
{
    u64 next = ~0ULL;
    for (int i = 0; i < ARP_ENTRIES; i++)
        if (cache[i].state == ARP_INCOMPLETE && cache[i].stamp_ns + ARP_RETRY_NS < next) next = cache[i].stamp_ns + ARP_RETRY_NS;
    return next;
}
