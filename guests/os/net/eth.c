/* Ethernet II framing and the stack's entry points. A frame is ours if it is addressed to our MAC or
   is broadcast (multicast is not joined, so it is dropped); the type picks ARP or IPv4. Frames are
   built in one static buffer: each layer writes its header in front of the payload the layer above
   has already placed at its fixed offset, so nothing is copied on the way down. */
#include "net.h"

static struct netif *the_netif;
static void rarp_seen(const u8 *frame, size_t len);
static u8 tx_frame[ETH_FRAME_MAX] __attribute__((aligned(8)));
static const u8 broadcast_mac[ETH_ALEN] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };

void net_attach(struct netif *nif)
{
    memset(&nif->stats, 0, sizeof nif->stats);
    arp_reset();
    udp_reset();
    icmp_set_echo_handler(NULL, NULL);
    the_netif = nif;
}

struct netif *net_netif(void) { return the_netif; }

u8 *net_tx_buffer(void) { return tx_frame; }

void net_input(struct netif *nif, const u8 *frame, size_t len)
{
    nif->stats.rx_frames++;
    nif->stats.rx_bytes += len;
    if (len < ETH_HLEN) {
        nif->stats.rx_runt++;
        return;
    }
    if (memcmp(frame, nif->mac, ETH_ALEN) != 0 && memcmp(frame, broadcast_mac, ETH_ALEN) != 0) {
        nif->stats.rx_not_for_us++;
        return;
    }
    u16 type = get16(frame + 12);
    if (type == ETHERTYPE_ARP) arp_input(nif, frame + ETH_HLEN, len - ETH_HLEN);
    else if (type == ETHERTYPE_IPV4) ipv4_input(nif, frame + ETH_HLEN, len - ETH_HLEN);
    else if (type == ETHERTYPE_RARP) rarp_seen(frame, len);
    else nif->stats.rx_unknown_type++;
}

/* A RARP request is how a host announces a MAC that has just moved (qemu and netback send one from a guest
   that arrived after a migration or a restore; the switch learns its port from it). Nothing answers it here;
   it is logged, as the one sign a peer has of the move. */
static void rarp_seen(const u8 *frame, size_t len)
{
    const u8 *s = frame + 6;
    if (len >= ETH_HLEN + 8 && get16(frame + ETH_HLEN + 6) == 3)
        printf("net: rarp announce from %02x:%02x:%02x:%02x:%02x:%02x\n", s[0], s[1], s[2], s[3], s[4], s[5]);
}

int eth_send(struct netif *nif, const u8 *dst_mac, u16 type, size_t payload_len)
{
    if (payload_len > ETH_MTU) return -XEN_E2BIG;
    memcpy(tx_frame, dst_mac ? dst_mac : broadcast_mac, ETH_ALEN);
    memcpy(tx_frame + 6, nif->mac, ETH_ALEN);
    put16(tx_frame + 12, type);
    size_t len = ETH_HLEN + payload_len;
    /* Pad runts to the minimum frame, zeroed, so no stale bytes of an earlier frame leave the guest. */
    if (len < ETH_FRAME_MIN) {
        memset(tx_frame + len, 0, ETH_FRAME_MIN - len);
        len = ETH_FRAME_MIN;
    }
    int rc = nif->transmit(nif, tx_frame, len);
    if (rc) {
        nif->stats.tx_errors++;
        return rc;
    }
    nif->stats.tx_frames++;
    nif->stats.tx_bytes += len;
    return 0;
}

int net_poll(void)
{
    struct netif *nif = the_netif;
    if (!nif) return 0;
    nif->kicked = 0; /* before looking, so a kick during the poll is not lost */
    int n = nif->poll ? nif->poll(nif) : 0;
    arp_timer(nif, monotonic_ns());
    return n;
}

void net_wait(u64 deadline_ns)
{
    struct netif *nif = the_netif;
    u64 arp = arp_next_deadline();
    if (arp < deadline_ns) deadline_ns = arp;
    /* Interrupts off while checking the kick, so an event between the check and the block wakes it. */
    xlen_t was = irq_save();
    if (!nif || !nif->kicked) block_until(deadline_ns);
    irq_restore(was);
}
