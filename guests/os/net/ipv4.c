/* IPv4 (RFC 791) without options on output and without fragments: every header field a peer sends is
   checked before use (version, header length, total length within the frame, checksum), Ethernet
   padding is cut off by the total length, and fragments are dropped and counted since there is no
   reassembly (our own packets never exceed the MTU and carry DF). */
#include "net.h"

#define IP_DF 0x4000
#define IP_MF 0x2000
#define IP_OFFSET_MASK 0x1FFF
#define IP_TTL 64

static u16 next_id;

static int is_ours(struct netif *nif, u32 dst)
{
    if (dst == IP_BROADCAST) return 1;
    if (nif->ip == 0) return 0;
    return dst == nif->ip || (nif->netmask != ~0u && dst == (nif->ip | ~nif->netmask));
}

void ipv4_input(struct netif *nif, const u8 *p, size_t len)
{
    if (len < IP_HLEN || (p[0] >> 4) != 4) {
        nif->stats.ip_bad_header++;
        return;
    }
    size_t hlen = (size_t)(p[0] & 15) * 4, total = get16(p + 2);
    if (hlen < IP_HLEN || total < hlen || total > len) {
        nif->stats.ip_bad_header++;
        return;
    }
    if (inet_checksum(p, hlen, 0) != 0) {
        nif->stats.ip_bad_checksum++;
        return;
    }
    if (get16(p + 6) & (IP_MF | IP_OFFSET_MASK)) {
        nif->stats.ip_fragments++;
        return;
    }
    u32 src = get32(p + 12), dst = get32(p + 16);
    if (!is_ours(nif, dst)) {
        nif->stats.ip_not_for_us++;
        return;
    }
    const u8 *payload = p + hlen;
    size_t plen = total - hlen;
    if (p[9] == IPPROTO_ICMP) icmp_input(nif, src, dst, p, payload, plen);
    else if (p[9] == IPPROTO_UDP) udp_input(nif, src, dst, p, payload, plen);
    else nif->stats.ip_unknown_proto++;
}

int ipv4_output(struct netif *nif, u32 dst, u8 proto, size_t payload_len)
{
    if (payload_len > ETH_MTU - IP_HLEN) return -XEN_E2BIG;
    if (nif->ip == 0) return -XEN_EINVAL; /* no address yet: nothing sensible to put in the header */
    u8 *h = net_tx_buffer() + ETH_HLEN;
    h[0] = 0x45;
    h[1] = 0;
    put16(h + 2, (u16)(IP_HLEN + payload_len));
    put16(h + 4, next_id++);
    put16(h + 6, IP_DF);
    h[8] = IP_TTL;
    h[9] = proto;
    put16(h + 10, 0);
    put32(h + 12, nif->ip);
    put32(h + 16, dst);
    put16(h + 10, inet_checksum(h, IP_HLEN, 0));
    /* Off-link destinations go through the gateway; without one, everything is treated as on-link. */
    u32 next_hop = dst;
    if (dst != IP_BROADCAST && nif->gateway && ((dst ^ nif->ip) & nif->netmask)) next_hop = nif->gateway;
    return arp_output(nif, next_hop, IP_HLEN + payload_len);
}
